package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostMetadataToToken follows the SDK's configuration and OAuth M2M
// path: host metadata without a token, the discovery document under its
// oidc_endpoint, the client-credentials token request, then an API call
// with the token.
func TestHostMetadataToToken(t *testing.T) {
	e := newEnv(t, Options{})
	status, hdr, body := e.send("GET", "/.well-known/databricks-config", map[string]string{"Authorization": ""}, nil)
	var meta map[string]any
	if err := json.Unmarshal(body, &meta); status != 200 || err != nil || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("host metadata %d %s", status, body)
	}
	if meta["oidc_endpoint"] != e.srv.URL+"/oidc" || meta["workspace_id"] != "7474650000000001" ||
		meta["host_type"] != "WORKSPACE_HOST" || meta["cloud"] != "AWS" {
		t.Errorf("host metadata %v", meta)
	}
	// resolveHostMetadata: DiscoveryURL = oidc_endpoint + "/.well-known/oauth-authorization-server".
	disc := strings.TrimPrefix(meta["oidc_endpoint"].(string), e.srv.URL) + "/.well-known/oauth-authorization-server"
	status, _, body = e.send("GET", disc, map[string]string{"Authorization": ""}, nil)
	var oas map[string]string
	if err := json.Unmarshal(body, &oas); status != 200 || err != nil || oas["token_endpoint"] != e.srv.URL+"/oidc/v1/token" {
		t.Fatalf("discovery %d %s", status, body)
	}
	// clientcredentials with AuthStyleInHeader: id and secret form-escaped
	// in Basic auth, grant_type and scope in the form.
	tok := m2mToken(t, e, "3fa2c7e1-0000-4000-8000-00000000abcd", "s3cret/+=")
	status, hdr, body = e.send("GET", "/api/2.0/preview/scim/v2/Me", map[string]string{"Authorization": "Bearer " + tok}, nil)
	var me map[string]any
	_ = json.Unmarshal(body, &me)
	if status != 200 || me["userName"] != "3fa2c7e1-0000-4000-8000-00000000abcd" || hdr.Get("X-Databricks-Org-Id") != "7474650000000001" {
		t.Errorf("/Me as the service principal: %d %v %v", status, me, hdr)
	}
	if _, ok := me["emails"]; ok {
		t.Errorf("a service principal has no e-mail: %v", me)
	}
	// What it creates, it owns as a service principal.
	status, _, body = e.send("POST", "/api/2.2/jobs/create", map[string]string{"Authorization": "Bearer " + tok}, []byte(`{"name":"by-sp"}`))
	var created map[string]any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	_ = dec.Decode(&created)
	if status != 200 {
		t.Fatalf("create %d %s", status, body)
	}
	perms := e.ok("GET", "/api/2.0/permissions/jobs/"+created["job_id"].(json.Number).String(), nil)
	if got := jsonOf(t, perms["access_control_list"].([]any)[0]); got != `{"all_permissions":[{"inherited":false,"permission_level":"IS_OWNER"}],"service_principal_name":"3fa2c7e1-0000-4000-8000-00000000abcd"}` {
		t.Errorf("owner %s", got)
	}
	if j := e.get(asInt(t, created["job_id"])); j["creator_user_name"] != "3fa2c7e1-0000-4000-8000-00000000abcd" {
		t.Errorf("creator %v", j["creator_user_name"])
	}
}

func m2mToken(t *testing.T, e *testEnv, id, secret string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}}
	req, _ := http.NewRequest("POST", e.srv.URL+"/oidc/v1/token", strings.NewReader(form.Encode()))
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		Scope       string `json:"scope"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || resp.StatusCode != 200 || tr.TokenType != "Bearer" || tr.ExpiresIn != 3600 || tr.Scope != "all-apis" {
		t.Fatalf("token %d %+v %v", resp.StatusCode, tr, err)
	}
	return tr.AccessToken
}

func TestMe(t *testing.T) {
	e := newEnv(t, Options{})
	// The SDK's CurrentWorkspaceID: GET /Me?excludedAttributes=entitlements,
	// reading only the X-Databricks-Org-Id header.
	status, hdr, body := e.send("GET", "/api/2.0/preview/scim/v2/Me?excludedAttributes=entitlements", nil, nil)
	if status != 200 || hdr.Get("X-Databricks-Org-Id") != "7474650000000001" {
		t.Fatalf("/Me %d %v %s", status, hdr, body)
	}
	var me map[string]any
	_ = json.Unmarshal(body, &me)
	if me["userName"] != "user@example.com" || me["displayName"] != "user" || me["active"] != true || me["id"] == "" {
		t.Errorf("/Me %v", me)
	}
	var groups []string
	for _, g := range me["groups"].([]any) {
		gm := g.(map[string]any)
		groups = append(groups, gm["display"].(string))
		if gm["$ref"] != "Groups/"+gm["value"].(string) {
			t.Errorf("group %v", gm)
		}
	}
	if strings.Join(groups, ",") != "admins,users" {
		t.Errorf("groups %v", groups)
	}
	if got := jsonOf(t, me["schemas"]); got != `["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:workspace:2.0:User"]` {
		t.Errorf("schemas %s", got)
	}
	out := e.ok("GET", "/api/2.0/preview/scim/v2/Me?attributes=userName", nil)
	if len(out) != 3 || out["userName"] != "user@example.com" {
		t.Errorf("attributes=userName: %v", out)
	}
	out = e.ok("GET", "/api/2.0/preview/scim/v2/Me?excludedAttributes=groups,emails", nil)
	if _, ok := out["groups"]; ok {
		t.Errorf("excluded groups: %v", out)
	}
	if _, ok := out["emails"]; ok {
		t.Errorf("excluded emails: %v", out)
	}
	// Without a token: 401, like every API path.
	if status, _, _ := e.send("GET", "/api/2.0/preview/scim/v2/Me", map[string]string{"Authorization": ""}, nil); status != 401 {
		t.Errorf("/Me without a token: %d", status)
	}
	// The SDK sends the workspace id of host metadata back on every call.
	if status, _, _ := e.send("GET", "/api/2.0/workspace/get-status?path=/", map[string]string{"X-Databricks-Workspace-Id": "7474650000000001"}, nil); status != 200 {
		t.Errorf("with X-Databricks-Workspace-Id: %d", status)
	}
}

func TestDirectory(t *testing.T) {
	var d Directory
	for _, spec := range []string{"user:alice@example.com:data-eng,admins", "group:ops", "sp:6f1c2a3b-0000-4000-8000-000000000001:ops"} {
		if err := d.AddPrincipal(spec); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.AddToken("alice-token=Alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := d.AddToken("sp-token=6f1c2a3b-0000-4000-8000-000000000001"); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, Options{Directory: d})
	as := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	_, _, body := e.send("GET", "/api/2.0/preview/scim/v2/Me", as("alice-token"), nil)
	var me map[string]any
	_ = json.Unmarshal(body, &me)
	if me["userName"] != "alice@example.com" || !strings.Contains(string(body), `"display":"data-eng"`) || !strings.Contains(string(body), `"display":"admins"`) {
		t.Errorf("alice %s", body)
	}
	_, _, body = e.send("GET", "/api/2.0/preview/scim/v2/Me", as("sp-token"), nil)
	if !strings.Contains(string(body), `"userName":"6f1c2a3b-0000-4000-8000-000000000001"`) || !strings.Contains(string(body), `"display":"ops"`) {
		t.Errorf("sp %s", body)
	}
	// Any other token is the default user.
	_, _, body = e.send("GET", "/api/2.0/preview/scim/v2/Me", as("whatever"), nil)
	if !strings.Contains(string(body), `"userName":"user@example.com"`) {
		t.Errorf("default %s", body)
	}
	for kind, names := range map[string][]string{
		aclUser:             {"alice@example.com", "ALICE@example.com", "user@example.com"},
		aclGroup:            {"admins", "users", "data-eng", "ops"},
		aclServicePrincipal: {"6f1c2a3b-0000-4000-8000-000000000001"},
	} {
		for _, n := range names {
			if !e.s.dir.exists(kind, n) {
				t.Errorf("%s %s not found", kind, n)
			}
		}
	}
	if e.s.dir.exists(aclUser, "bob@example.com") || e.s.dir.exists(aclGroup, "Admins") || e.s.dir.exists(aclServicePrincipal, "alice@example.com") {
		t.Error("unknown principals found")
	}
	// Alice's home folder exists; alice creates and owns her jobs.
	e.ok("GET", "/api/2.0/workspace/get-status?path=/Users/alice@example.com", nil)
	status, _, body := e.send("POST", "/api/2.2/jobs/create", as("alice-token"), []byte(`{"name":"a"}`))
	if status != 200 {
		t.Fatal(status, string(body))
	}
	var c struct {
		JobID json.Number `json:"job_id"`
	}
	_ = json.Unmarshal(body, &c)
	if got := e.ok("GET", "/api/2.2/jobs/get?job_id="+c.JobID.String(), nil)["creator_user_name"]; got != "alice@example.com" {
		t.Errorf("creator %v", got)
	}

	// A listed service principal with a secret must send it.
	e2 := newEnv(t, Options{Directory: Directory{ServicePrincipals: []ServicePrincipal{{ApplicationID: "app", Secret: "right"}}}})
	req, _ := http.NewRequest("POST", e2.srv.URL+"/oidc/v1/token", strings.NewReader("grant_type=client_credentials&scope=all-apis"))
	req.SetBasicAuth("app", "wrong")
	resp, err := e2.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("wrong secret: %d", resp.StatusCode)
	}
	m2mToken(t, e2, "app", "right")
}

func TestDirectoryErrors(t *testing.T) {
	for _, d := range []Directory{
		{Tokens: map[string]string{"t": "nobody@example.com"}},
		{Users: []User{{UserName: "a@x"}, {UserName: "A@x"}}},
		{Users: []User{{UserName: ""}}},
		{ServicePrincipals: []ServicePrincipal{{}}},
		{Groups: []Group{{}}},
	} {
		if _, err := New(Options{Directory: d}); err == nil {
			t.Errorf("%+v: no error", d)
		}
	}
	var d Directory
	for _, bad := range []string{"alice", "team:x", "user:", "group:g:h"} {
		if err := d.AddPrincipal(bad); err == nil {
			t.Errorf("AddPrincipal(%q): no error", bad)
		}
	}
	if err := d.AddToken("no-equals"); err == nil {
		t.Error("AddToken without =: no error")
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "p.json")
	_ = os.WriteFile(good, []byte(`{"users":[{"userName":"bob@example.com","groups":["data"]}],"groups":[{"displayName":"data"}],"service_principals":[{"applicationId":"ci","displayName":"CI"}],"tokens":{"bob":"bob@example.com"}}`), 0o644)
	d, err := ReadDirectory(good)
	if err != nil || len(d.Users) != 1 || d.ServicePrincipals[0].DisplayName != "CI" || d.Tokens["bob"] != "bob@example.com" {
		t.Errorf("ReadDirectory %+v %v", d, err)
	}
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"users":[{"user_name":"bob@example.com"}]}`), 0o644)
	if _, err := ReadDirectory(bad); err == nil || !strings.Contains(err.Error(), "user_name") {
		t.Errorf("misspelt key: %v", err)
	}
}

func TestTelemetry(t *testing.T) {
	e := newEnv(t, Options{})
	status, _, body := e.send("POST", "/telemetry-ext", nil, []byte(`{"uploadTime":1,"items":[],"protoLogs":["{}","{}"]}`))
	if status != 200 || string(body) != `{"errors":[],"numProtoSuccess":2}` {
		t.Errorf("telemetry %d %s", status, body)
	}
	if status, _, _ := e.send("POST", "/telemetry-ext", map[string]string{"Authorization": ""}, []byte(`{}`)); status != 401 {
		t.Errorf("telemetry without a token: %d", status)
	}
}
