package emulator

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// objectID is the object id of a workspace path, read with get-status as
// the CLI reads it before a permissions call.
func (e *testEnv) objectID(p string) string {
	e.t.Helper()
	st := e.ok("GET", "/api/2.0/workspace/get-status?path="+p, nil)
	return st["object_id"].(json.Number).String()
}

// aclOf renders an access_control_list as "principal=LEVEL[<from]" items,
// one per permission, in the answer's order.
func aclOf(t *testing.T, out map[string]any) string {
	t.Helper()
	var items []string
	for _, e := range out["access_control_list"].([]any) {
		m := e.(map[string]any)
		who := ""
		for _, k := range principalKinds {
			if v, _ := m[k].(string); v != "" {
				who = v
			}
		}
		for _, p := range m["all_permissions"].([]any) {
			p := p.(map[string]any)
			item := who + "=" + p["permission_level"].(string)
			if p["inherited"] == true {
				from, _ := p["inherited_from_object"].([]any)
				item += "<" + strings.Trim(jsonOf(t, from), "[]\"")
			} else if p["inherited"] != false {
				t.Errorf("permission %v: inherited must be sent, false or true", p)
			}
			items = append(items, item)
		}
	}
	return strings.Join(items, " ")
}

// TestDirectoryPermissionsAsBundleDeploy drives the calls `databricks bundle
// validate` and `bundle deploy` make for a bundle with top-level
// permissions (the production target of the public templates), with the
// bodies the CLI sent ([CLI] bundle/permissions/workspace_root.go
// setPermissions and folder_acl.go ResolveFolderACL @7bbe2852; recorded
// with `databricks bundle deploy -t prod --log-level=debug`). Both
// answered 404 ENDPOINT_NOT_FOUND before, and the deploy failed.
func TestDirectoryPermissionsAsBundleDeploy(t *testing.T) {
	e := newEnv(t, Options{})
	root := "/Workspace/Users/user@example.com/.bundle/my_project/prod"
	e.ok("POST", "/api/2.0/workspace/mkdirs", map[string]any{"path": root + "/files/src"})
	home, bundle := e.objectID("/Workspace/Users/user@example.com"), e.objectID(root)

	// validate: the folder's ACL before any is set. The home folder's
	// owner manages it; admins manage everything.
	out := e.ok("GET", "/api/2.0/permissions/directories/"+bundle, nil)
	if out["object_id"] != "/directories/"+bundle || out["object_type"] != "directory" {
		t.Errorf("object %v %v", out["object_id"], out["object_type"])
	}
	want := "user@example.com=CAN_MANAGE</directories/" + home + " admins=CAN_MANAGE</directories/"
	if got := aclOf(t, out); got != want {
		t.Errorf("before deploy:\n got %s\nwant %s", got, want)
	}

	// deploy: PUT the bundle's permissions; the answer is the whole ACL,
	// which the CLI compares with the bundle's permissions.
	put := `{"access_control_list":[{"permission_level":"CAN_MANAGE","user_name":"user@example.com"},{"group_name":"users","permission_level":"CAN_READ"}]}`
	status, _, raw := e.send("PUT", "/api/2.0/permissions/directories/"+bundle, nil, []byte(put))
	if status != 200 {
		t.Fatalf("PUT: %d %s", status, raw)
	}
	out = parse(t, string(raw))
	want = "user@example.com=CAN_MANAGE user@example.com=CAN_MANAGE</directories/" + home + " users=CAN_READ admins=CAN_MANAGE</directories/"
	if got := aclOf(t, out); got != want {
		t.Errorf("after PUT:\n got %s\nwant %s", got, want)
	}
	if got := aclOf(t, e.ok("GET", "/api/2.0/permissions/directories/"+bundle, nil)); got != want {
		t.Errorf("GET after PUT:\n got %s\nwant %s", got, want)
	}

	// What is under the folder inherits its entries, nearest folder first.
	files := e.objectID(root + "/files/src")
	want = "user@example.com=CAN_MANAGE</directories/" + bundle + " user@example.com=CAN_MANAGE</directories/" + home +
		" users=CAN_READ</directories/" + bundle + " admins=CAN_MANAGE</directories/"
	if got := aclOf(t, e.ok("GET", "/api/2.0/permissions/directories/"+files, nil)); got != want {
		t.Errorf("child folder:\n got %s\nwant %s", got, want)
	}

	// PATCH upserts; PUT with no entries removes every direct one.
	e.ok("PATCH", "/api/2.0/permissions/directories/"+bundle, map[string]any{"access_control_list": []any{
		map[string]any{"group_name": "users", "permission_level": "CAN_RUN"}}})
	if got := aclOf(t, e.ok("GET", "/api/2.0/permissions/directories/"+bundle, nil)); !strings.Contains(got, "users=CAN_RUN ") || strings.Contains(got, "CAN_READ") {
		t.Errorf("after PATCH: %s", got)
	}
	e.ok("PUT", "/api/2.0/permissions/directories/"+bundle, map[string]any{"access_control_list": []any{}})
	want = "user@example.com=CAN_MANAGE</directories/" + home + " admins=CAN_MANAGE</directories/"
	if got := aclOf(t, e.ok("GET", "/api/2.0/permissions/directories/"+bundle, nil)); got != want {
		t.Errorf("after an empty PUT:\n got %s\nwant %s", got, want)
	}

	// The home folder itself: its owner's entry is direct.
	if got := aclOf(t, e.ok("GET", "/api/2.0/permissions/directories/"+home, nil)); got != "user@example.com=CAN_MANAGE admins=CAN_MANAGE</directories/" {
		t.Errorf("home folder: %s", got)
	}
	// /Shared is writable by all users.
	e.ok("POST", "/api/2.0/workspace/mkdirs", map[string]any{"path": "/Workspace/Shared/team"})
	shared := e.objectID("/Workspace/Shared")
	if got := aclOf(t, e.ok("GET", "/api/2.0/permissions/directories/"+e.objectID("/Workspace/Shared/team"), nil)); got != "users=CAN_MANAGE</directories/"+shared+" admins=CAN_MANAGE</directories/" {
		t.Errorf("shared folder: %s", got)
	}

	levels := e.ok("GET", "/api/2.0/permissions/directories/"+bundle+"/permissionLevels", nil)
	if got := jsonOf(t, levels["permission_levels"]); !strings.Contains(got, `"CAN_READ"`) || !strings.Contains(got, `"CAN_MANAGE"`) || strings.Contains(got, "IS_OWNER") {
		t.Errorf("levels %s", got)
	}
}

func TestWorkspaceObjectPermissionErrors(t *testing.T) {
	e := newEnv(t, Options{})
	dir := "/Users/user@example.com/p"
	e.ok("POST", "/api/2.0/workspace/mkdirs", map[string]any{"path": dir})
	e.ok("POST", "/api/2.0/workspace/import", map[string]any{"path": dir + "/nb", "language": "PYTHON", "content": b64("1")})
	e.ok("POST", "/api/2.0/workspace/import", map[string]any{"path": dir + "/f.txt", "format": "RAW", "content": b64("x")})
	d, nb, f := e.objectID(dir), e.objectID(dir+"/nb"), e.objectID(dir+"/f.txt")

	// Each type under its own path; another type's path does not find it.
	if out := e.ok("GET", "/api/2.0/permissions/notebooks/"+nb, nil); out["object_type"] != "notebook" || out["object_id"] != "/notebooks/"+nb {
		t.Errorf("notebook %v", out)
	}
	if out := e.ok("GET", "/api/2.0/permissions/files/"+f, nil); out["object_type"] != "file" {
		t.Errorf("file %v", out)
	}
	e.fail("GET", "/api/2.0/permissions/notebooks/"+d, nil, 404, "RESOURCE_DOES_NOT_EXIST")
	e.fail("GET", "/api/2.0/permissions/directories/123", nil, 404, "RESOURCE_DOES_NOT_EXIST")
	e.fail("GET", "/api/2.0/permissions/directories/abc", nil, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", "/api/2.0/permissions/directories/"+d, map[string]any{}, 404, "ENDPOINT_NOT_FOUND")
	e.fail("GET", "/api/2.0/permissions/clusters/"+d, nil, 404, "ENDPOINT_NOT_FOUND")
	// Levels of jobs are not levels of workspace objects.
	e.fail("PUT", "/api/2.0/permissions/directories/"+d, map[string]any{"access_control_list": []any{
		map[string]any{"user_name": "user@example.com", "permission_level": "IS_OWNER"}}}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("PUT", "/api/2.0/permissions/directories/"+d, map[string]any{"access_control_list": []any{
		map[string]any{"permission_level": "CAN_READ"}}}, 400, "INVALID_PARAMETER_VALUE")
	// A principal the workspace does not know, as for jobs.
	msg := e.fail("PUT", "/api/2.0/permissions/directories/"+d, map[string]any{"access_control_list": []any{
		map[string]any{"group_name": "no-such-team", "permission_level": "CAN_READ"}}}, 404, "RESOURCE_DOES_NOT_EXIST")
	if msg != "Principal: GroupName(no-such-team) does not exist" {
		t.Errorf("unknown principal: %q", msg)
	}

	// Deleting an object deletes its permissions with it.
	e.ok("PUT", "/api/2.0/permissions/files/"+f, map[string]any{"access_control_list": []any{
		map[string]any{"group_name": "users", "permission_level": "CAN_EDIT"}}})
	e.ok("POST", "/api/2.0/workspace/delete", map[string]any{"path": dir + "/f.txt"})
	e.fail("GET", "/api/2.0/permissions/files/"+f, nil, 404, "RESOURCE_DOES_NOT_EXIST")
}

// TestWorkspaceObjectPermissionsPersist: direct ACLs are saved with the
// tree and loaded back.
func TestWorkspaceObjectPermissionsPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	s1, err := New(Options{DataFile: path})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, s: s1, srv: newTestServer(t, s1)}
	dir := "/Users/user@example.com/kept"
	e.ok("POST", "/api/2.0/workspace/mkdirs", map[string]any{"path": dir})
	id := e.objectID(dir)
	e.ok("PUT", "/api/2.0/permissions/directories/"+id, map[string]any{"access_control_list": []any{
		map[string]any{"group_name": "users", "permission_level": "CAN_READ"}}})
	want := aclOf(t, e.ok("GET", "/api/2.0/permissions/directories/"+id, nil))
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := New(Options{DataFile: path})
	if err != nil {
		t.Fatal(err)
	}
	e2 := &testEnv{t: t, s: s2, srv: newTestServer(t, s2)}
	if got := aclOf(t, e2.ok("GET", "/api/2.0/permissions/directories/"+id, nil)); got != want || !strings.Contains(got, "users=CAN_READ") {
		t.Errorf("after reload %s, want %s", got, want)
	}
}
