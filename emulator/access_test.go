package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// as sends a request with another bearer token (so as another principal of
// the directory) and returns the status, error code and message.
func (e *testEnv) as(token, method, path string, body any) (int, string, string) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	code, _ := out["error_code"].(string)
	msg, _ := out["message"].(string)
	return resp.StatusCode, code, msg
}

func TestUnknownPrincipalsRefused(t *testing.T) {
	e := newEnv(t, Options{Directory: directoryOf(t, "user:known@acme.com", "group:eng", "sp:11111111-2222-3333-4444-555555555555")})
	id := e.create(parse(t, `{"name": "j"}`))
	for _, c := range []struct{ entry, msg string }{
		{`{"user_name": "ghost@acme.com", "permission_level": "CAN_VIEW"}`, "Principal: UserName(ghost@acme.com) does not exist"},
		{`{"group_name": "ghosts", "permission_level": "CAN_VIEW"}`, "Principal: GroupName(ghosts) does not exist"},
		{`{"service_principal_name": "99999999-0000-0000-0000-000000000000", "permission_level": "CAN_VIEW"}`, "Principal: ServicePrincipalName(99999999-0000-0000-0000-000000000000) does not exist"},
	} {
		body := parse(t, `{"access_control_list": [{"user_name": "user@example.com", "permission_level": "IS_OWNER"}, `+c.entry+`]}`)
		for _, m := range []string{"PUT", "PATCH"} {
			if msg := e.fail(m, permPath(id), body, 404, "RESOURCE_DOES_NOT_EXIST"); msg != c.msg {
				t.Errorf("%s: message %q, want %q", m, msg, c.msg)
			}
		}
		create := parse(t, `{"name": "k", "access_control_list": [`+c.entry+`]}`)
		if msg := e.fail("POST", "/api/2.2/jobs/create", create, 404, "RESOURCE_DOES_NOT_EXIST"); msg != c.msg {
			t.Errorf("create: message %q, want %q", msg, c.msg)
		}
	}
	// Nothing was stored: the ACL is the creator's alone.
	if acl := e.ok("GET", permPath(id), nil)["access_control_list"].([]any); len(acl) != 2 {
		t.Errorf("a refused PUT changed the ACL: %v", acl)
	}
	// Known principals (user names case-insensitively) are accepted.
	e.ok("PUT", permPath(id), parse(t, `{"access_control_list": [{"user_name": "user@example.com", "permission_level": "IS_OWNER"},
		{"user_name": "Known@Acme.com", "permission_level": "CAN_VIEW"}, {"group_name": "eng", "permission_level": "CAN_MANAGE"},
		{"service_principal_name": "11111111-2222-3333-4444-555555555555", "permission_level": "CAN_MANAGE_RUN"}]}`))

	off := newEnv(t, Options{Without: PrincipalsMustExist})
	id = off.create(parse(t, `{"name": "j"}`))
	off.ok("PUT", permPath(id), parse(t, `{"access_control_list": [{"user_name": "user@example.com", "permission_level": "IS_OWNER"}, {"user_name": "ghost@acme.com", "permission_level": "CAN_VIEW"}]}`))
}

func TestJobAccessControl(t *testing.T) {
	var d Directory
	for _, p := range []string{"user:alice@acme.com", "user:bob@acme.com:eng", "sp:aaaaaaaa-bbbb-4ccc-dddd-eeeeeeeeeeee"} {
		if err := d.AddPrincipal(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, tok := range []string{"tok-alice=alice@acme.com", "tok-bob=bob@acme.com", "tok-sp=aaaaaaaa-bbbb-4ccc-dddd-eeeeeeeeeeee"} {
		if err := d.AddToken(tok); err != nil {
			t.Fatal(err)
		}
	}
	e := newEnv(t, Options{Directory: d})
	id := e.create(parse(t, `{"name": "guarded", "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/n"}}]}`))
	jid := itoa(id)
	get := "/api/2.2/jobs/get?job_id=" + jid
	viewMsg := "User alice@acme.com does not have View or Admin or Manage Run or Owner permissions on job " + jid

	// No permission: 403 with the service's words, and the job is not listed.
	if st, code, msg := e.as("tok-alice", "GET", get, nil); st != 403 || code != "PERMISSION_DENIED" || msg != viewMsg {
		t.Errorf("get without permission: %d %s %q", st, code, msg)
	}
	if st, _, _ := e.as("tok-alice", "GET", "/api/2.2/jobs/list", nil); st != 200 {
		t.Errorf("list: %d", st)
	}
	listed := func(tok string) int {
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/2.2/jobs/list", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Jobs []any }
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return len(out.Jobs)
	}
	if n := listed("tok-alice"); n != 0 {
		t.Errorf("alice lists %d jobs, want 0", n)
	}
	if n := listed("test-token"); n != 1 {
		t.Errorf("the admin lists %d jobs, want 1", n)
	}

	// CAN_VIEW reads, but cannot run or change; the group grant of bob
	// lets him change; the service principal owns nothing.
	e.ok("PATCH", permPath(id), parse(t, `{"access_control_list": [{"user_name": "alice@acme.com", "permission_level": "CAN_VIEW"}, {"group_name": "eng", "permission_level": "CAN_MANAGE"}]}`))
	if st, _, _ := e.as("tok-alice", "GET", get, nil); st != 200 {
		t.Errorf("get with CAN_VIEW: %d", st)
	}
	if n := listed("tok-alice"); n != 1 {
		t.Errorf("alice with CAN_VIEW lists %d jobs, want 1", n)
	}
	if st, _, msg := e.as("tok-alice", "POST", "/api/2.2/jobs/run-now", map[string]any{"job_id": id}); st != 403 || !strings.Contains(msg, "Manage Run") {
		t.Errorf("run-now with CAN_VIEW: %d %q", st, msg)
	}
	if st, _, msg := e.as("tok-alice", "POST", "/api/2.2/jobs/update", map[string]any{"job_id": id, "new_settings": map[string]any{"name": "x"}}); st != 403 ||
		msg != "User alice@acme.com does not have Admin or Owner permissions on job "+jid {
		t.Errorf("update with CAN_VIEW: %d %q", st, msg)
	}
	if st, _, msg := e.as("tok-alice", "PUT", permPath(id), map[string]any{"access_control_list": []any{}}); st != 403 || !strings.Contains(msg, "Admin or Owner") {
		t.Errorf("permissions PUT with CAN_VIEW: %d %q", st, msg)
	}
	if st, _, msg := e.as("tok-bob", "POST", "/api/2.2/jobs/update", map[string]any{"job_id": id, "new_settings": map[string]any{"name": "renamed"}}); st != 200 {
		t.Errorf("update through the group's CAN_MANAGE: %d %q", st, msg)
	}
	spMsg := "User aaaaaaaa-bbbb-4ccc-dddd-eeeeeeeeeeee does not have Admin or Owner permissions on job " + jid
	if st, _, msg := e.as("tok-sp", "POST", "/api/2.2/jobs/delete", map[string]any{"job_id": id}); st != 403 || msg != spMsg {
		t.Errorf("delete by a service principal without permissions: %d %q", st, msg)
	}

	// Before existence: once the job is gone, a caller without permissions
	// still gets 403; an admin learns it does not exist.
	e.ok("POST", "/api/2.2/jobs/delete", map[string]any{"job_id": id})
	if st, code, _ := e.as("tok-sp", "GET", get, nil); st != 403 || code != "PERMISSION_DENIED" {
		t.Errorf("get of a deleted job without permissions: %d %s", st, code)
	}
	if st, code, _ := e.as("test-token", "GET", get, nil); st != 400 || code != "INVALID_PARAMETER_VALUE" {
		t.Errorf("get of a deleted job by an admin: %d %s", st, code)
	}

	// A job a service principal creates is its own.
	st, _, _ := e.as("tok-sp", "POST", "/api/2.2/jobs/create", map[string]any{"name": "sp-job"})
	if st != 200 {
		t.Fatalf("create by a service principal: %d", st)
	}
	if n := listed("tok-sp"); n != 1 {
		t.Errorf("the service principal lists %d jobs, want its own", n)
	}

	off := newEnv(t, Options{Directory: d, Without: JobAccessControl})
	id = off.create(parse(t, `{"name": "open"}`))
	if st, _, _ := off.as("tok-alice", "POST", "/api/2.2/jobs/delete", map[string]any{"job_id": id}); st != 200 {
		t.Errorf("JobAccessControl off: delete by anyone: %d", st)
	}
}

func TestSCIMListsFindPrincipals(t *testing.T) {
	e := newEnv(t, Options{Directory: directoryOf(t, "user:Jane.Doe@acme.com:eng", "group:eng", "sp:11111111-2222-3333-4444-555555555555")})
	q := func(kind, filter string) map[string]any {
		return e.ok("GET", "/api/2.0/preview/scim/v2/"+kind+"?filter="+urlQuery(filter), nil)
	}
	total := func(m map[string]any) string { return jsonOf(t, m["totalResults"]) }
	if m := q("Users", `userName eq "jane.doe@acme.com"`); total(m) != "1" ||
		m["Resources"].([]any)[0].(map[string]any)["userName"] != "Jane.Doe@acme.com" {
		t.Errorf("user by name (any case): %v", m)
	}
	if m := q("Users", `userName eq "nobody@acme.com"`); total(m) != "0" || m["Resources"] != nil {
		t.Errorf("unknown user: %v", m)
	}
	if m := q("Groups", `displayName eq "eng"`); total(m) != "1" {
		t.Errorf("group: %v", m)
	}
	if m := q("Groups", `displayName eq "users"`); total(m) != "1" {
		t.Errorf("the built-in users group: %v", m)
	}
	if m := q("ServicePrincipals", `applicationId eq "11111111-2222-3333-4444-555555555555"`); total(m) != "1" {
		t.Errorf("service principal: %v", m)
	}
	if m := e.ok("GET", "/api/2.0/preview/scim/v2/Users", nil); total(m) != "2" {
		t.Errorf("all users (the default one and Jane): %v", m)
	}
	if m := e.ok("GET", "/api/2.0/preview/scim/v2/Groups?count=1&startIndex=2", nil); jsonOf(t, m["itemsPerPage"]) != "1" || jsonOf(t, m["startIndex"]) != "2" {
		t.Errorf("paging: %v", m)
	}
	e.fail("GET", "/api/2.0/preview/scim/v2/Users?filter="+urlQuery(`userName co "jane"`), nil, 400, "INVALID_PARAMETER_VALUE")
	e.fail("GET", "/api/2.0/preview/scim/v2/Groups?filter="+urlQuery(`colour eq "red"`), nil, 400, "INVALID_PARAMETER_VALUE")
	if m := q("Users", `userName eq "a\"b"`); total(m) != "0" {
		t.Errorf("escaped quote: %v", m)
	}
}

func urlQuery(s string) string {
	return strings.NewReplacer(" ", "%20", `"`, "%22", "\\", "%5C").Replace(s)
}

func TestSCIMWithoutPrincipalChecksKnowsEveryone(t *testing.T) {
	e := newEnv(t, Options{Without: PrincipalsMustExist})
	m := e.ok("GET", "/api/2.0/preview/scim/v2/Groups?filter="+urlQuery(`displayName eq "anyone"`), nil)
	if jsonOf(t, m["totalResults"]) != "1" || m["Resources"].([]any)[0].(map[string]any)["displayName"] != "anyone" {
		t.Errorf("an open directory does not find a group by name: %v", m)
	}
}
