package emulator

import (
	"testing"
)

func permPath(id int64) string { return "/api/2.0/permissions/jobs/" + itoa(id) }

func TestPermissionsCreator(t *testing.T) {
	e := newEnv(t, Options{User: "me@example.com"})
	id := e.create(map[string]any{"name": "x"})
	got := e.ok("GET", permPath(id), nil)
	want := `{"access_control_list":[` +
		`{"all_permissions":[{"inherited":false,"permission_level":"IS_OWNER"}],"user_name":"me@example.com"},` +
		`{"all_permissions":[{"inherited":true,"inherited_from_object":["/jobs/"],"permission_level":"CAN_MANAGE"}],"group_name":"admins"}],` +
		`"object_id":"/jobs/` + itoa(id) + `","object_type":"job"}`
	if jsonOf(t, got) != want {
		t.Errorf("GET permissions:\n got %s\nwant %s", jsonOf(t, got), want)
	}
	levels := e.ok("GET", permPath(id)+"/permissionLevels", nil)["permission_levels"].([]any)
	if len(levels) != 4 || levels[3].(map[string]any)["permission_level"] != "IS_OWNER" {
		t.Errorf("levels %v", levels)
	}
	e.fail("GET", permPath(id+1), nil, 404, "RESOURCE_DOES_NOT_EXIST")
	e.fail("GET", "/api/2.0/permissions/jobs/abc", nil, 400, "INVALID_PARAMETER_VALUE")
}

func TestPermissionsOnCreate(t *testing.T) {
	e := newEnv(t, Options{Directory: directoryOf(t, "group:data-eng", "user:viewer@x", "sp:sp", "group:g", "user:a")})
	id := e.create(parse(t, `{"name": "x", "access_control_list": [
		{"group_name": "data-eng", "permission_level": "CAN_MANAGE"},
		{"user_name": "viewer@x", "permission_level": "CAN_VIEW"}]}`))
	acl := e.ok("GET", permPath(id), nil)["access_control_list"].([]any)
	if len(acl) != 4 {
		t.Fatalf("acl %v", acl)
	}
	// An owner named on create replaces the creator as owner.
	id = e.create(parse(t, `{"access_control_list": [{"service_principal_name": "sp", "permission_level": "IS_OWNER"}]}`))
	if got := e.get(id)["run_as_user_name"]; got != "sp" {
		t.Errorf("run_as_user_name %v, want the owner", got)
	}
	e.fail("POST", "/api/2.2/jobs/create", parse(t, `{"access_control_list": [{"group_name": "g", "permission_level": "IS_OWNER"}]}`), 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", "/api/2.2/jobs/create", parse(t, `{"access_control_list": [{"permission_level": "CAN_VIEW"}]}`), 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", "/api/2.2/jobs/create", parse(t, `{"access_control_list": [{"user_name": "a", "permission_level": "CAN_FLY"}]}`), 400, "MALFORMED_REQUEST")
}

func TestPermissionsPutPatch(t *testing.T) {
	e := newEnv(t, Options{Directory: directoryOf(t, "sp:sp", "user:a@x", "user:b@x", "group:g")})
	id := e.create(map[string]any{"name": "x"})
	put := func(acl string) map[string]any {
		return parse(t, `{"access_control_list": `+acl+`}`)
	}
	// PUT replaces all direct entries; the answer equals a following GET.
	out := e.ok("PUT", permPath(id), put(`[
		{"service_principal_name": "sp", "permission_level": "IS_OWNER"},
		{"user_name": "a@x", "permission_level": "CAN_MANAGE"},
		{"user_name": "a@x", "permission_level": "CAN_MANAGE_RUN"}]`))
	if jsonOf(t, out) != jsonOf(t, e.ok("GET", permPath(id), nil)) {
		t.Error("PUT answer differs from GET")
	}
	acl := out["access_control_list"].([]any)
	if len(acl) != 3 || jsonOf(t, acl[1]) != `{"all_permissions":[{"inherited":false,"permission_level":"CAN_MANAGE_RUN"}],"user_name":"a@x"}` {
		t.Errorf("last duplicate must win: %s", jsonOf(t, acl))
	}
	// Owner rules ([cloud] factcheck).
	for _, bad := range []string{
		`[]`,
		`[{"user_name": "a@x", "permission_level": "CAN_MANAGE"}]`,
		`[{"user_name": "a@x", "permission_level": "IS_OWNER"}, {"user_name": "b@x", "permission_level": "IS_OWNER"}]`,
		`[{"user_name": "a@x", "permission_level": "IS_OWNER"}, {"user_name": "a@x", "permission_level": "CAN_MANAGE"}]`,
	} {
		if msg := e.fail("PUT", permPath(id), put(bad), 400, "INVALID_PARAMETER_VALUE"); msg != "The job must have exactly one owner." {
			t.Errorf("%s: %q", bad, msg)
		}
	}
	if msg := e.fail("PUT", permPath(id), put(`[{"group_name": "g", "permission_level": "IS_OWNER"}]`), 400, "INVALID_PARAMETER_VALUE"); msg != "A job cannot have a group as an owner." {
		t.Errorf("group owner: %q", msg)
	}
	// PATCH upserts and keeps the others.
	out = e.ok("PATCH", permPath(id), put(`[{"group_name": "admins", "permission_level": "CAN_MANAGE"}, {"user_name": "a@x", "permission_level": "CAN_VIEW"}]`))
	acl = out["access_control_list"].([]any)
	if len(acl) != 3 {
		t.Fatalf("after PATCH: %s", jsonOf(t, acl))
	}
	if jsonOf(t, acl[2]) != `{"all_permissions":[{"inherited":false,"permission_level":"CAN_MANAGE"},{"inherited":true,"inherited_from_object":["/jobs/"],"permission_level":"CAN_MANAGE"}],"group_name":"admins"}` {
		t.Errorf("direct admins entry: %s", jsonOf(t, acl[2]))
	}
	// PATCH cannot add a second owner.
	e.fail("PATCH", permPath(id), put(`[{"user_name": "b@x", "permission_level": "IS_OWNER"}]`), 400, "INVALID_PARAMETER_VALUE")
	// Ownership decides run_as_user_name.
	if got := e.get(id)["run_as_user_name"]; got != "sp" {
		t.Errorf("run_as_user_name %v", got)
	}
	// Deleting the job deletes its permissions.
	e.ok("POST", "/api/2.2/jobs/delete", map[string]any{"job_id": id})
	e.fail("PUT", permPath(id), put(`[{"user_name": "a@x", "permission_level": "IS_OWNER"}]`), 404, "RESOURCE_DOES_NOT_EXIST")
}

// TestPermissionsDocExample round-trips the [cloud] GET example of §3.4.
func TestPermissionsDocExample(t *testing.T) {
	e := newEnv(t, Options{Directory: directoryOf(t, "group:test-dabs-group-1", "user:test-dabs-1@databricks.com", "sp:<sp-app-id>")})
	id := e.create(map[string]any{})
	e.ok("PUT", permPath(id), parse(t, `{"access_control_list": [
		{"group_name": "test-dabs-group-1", "permission_level": "CAN_MANAGE"},
		{"user_name": "test-dabs-1@databricks.com", "permission_level": "CAN_MANAGE_RUN"},
		{"service_principal_name": "<sp-app-id>", "permission_level": "IS_OWNER"}]}`))
	want := parse(t, `{"object_id": "/jobs/`+itoa(id)+`", "object_type": "job",
	 "access_control_list": [
	   {"group_name": "test-dabs-group-1", "all_permissions": [{"permission_level": "CAN_MANAGE", "inherited": false}]},
	   {"user_name": "test-dabs-1@databricks.com", "all_permissions": [{"permission_level": "CAN_MANAGE_RUN", "inherited": false}]},
	   {"service_principal_name": "<sp-app-id>", "all_permissions": [{"permission_level": "IS_OWNER", "inherited": false}]},
	   {"group_name": "admins", "all_permissions": [{"permission_level": "CAN_MANAGE", "inherited": true, "inherited_from_object": ["/jobs/"]}]}]}`)
	if got := e.ok("GET", permPath(id), nil); jsonOf(t, got) != jsonOf(t, want) {
		t.Errorf("got  %s\nwant %s", jsonOf(t, got), jsonOf(t, want))
	}
}

// directoryOf is a principal directory of the given --principal specs.
func directoryOf(t *testing.T, specs ...string) Directory {
	t.Helper()
	var d Directory
	for _, spec := range specs {
		if err := d.AddPrincipal(spec); err != nil {
			t.Fatal(err)
		}
	}
	return d
}
