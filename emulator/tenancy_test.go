package emulator

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPerTokenWorkspaces(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "state.json")
	e := newEnv(t, Options{Workspaces: WorkspacesPerToken, DataFile: data, SaveDelay: time.Hour})
	as := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	create := func(tok, name string) string {
		t.Helper()
		status, _, body := e.send("POST", "/api/2.2/jobs/create", as(tok), []byte(`{"name":"`+name+`","tasks":[{"task_key":"a","notebook_task":{"notebook_path":"/x"}}]}`))
		if status != 200 {
			t.Fatalf("create %d %s", status, body)
		}
		var out struct {
			JobID json.Number `json:"job_id"`
		}
		_ = json.Unmarshal(body, &out)
		return out.JobID.String()
	}
	names := func(tok string) string {
		t.Helper()
		_, _, body := e.send("GET", "/api/2.2/jobs/list", as(tok), nil)
		var out struct {
			Jobs []struct {
				Settings struct {
					Name string `json:"name"`
				} `json:"settings"`
			} `json:"jobs"`
		}
		_ = json.Unmarshal(body, &out)
		var ns []string
		for _, j := range out.Jobs {
			ns = append(ns, j.Settings.Name)
		}
		return strings.Join(ns, ",")
	}
	idA := create("token-a", "a1")
	create("token-a", "a2")
	idB := create("token-b", "b1")
	if got := names("token-a"); got != "a2,a1" {
		t.Errorf("token-a sees %q", got)
	}
	if got := names("token-b"); got != "b1" {
		t.Errorf("token-b sees %q", got)
	}
	// Separate workspaces number their jobs alike.
	if idA != idB {
		t.Errorf("first ids %s and %s", idA, idB)
	}
	// Runs, permissions and files are per token too.
	status, _, _ := e.send("POST", "/api/2.2/jobs/run-now", as("token-a"), []byte(`{"job_id":`+idA+`}`))
	if status != 200 {
		t.Fatal(status)
	}
	_, _, body := e.send("GET", "/api/2.2/jobs/runs/list", as("token-b"), nil)
	if strings.Contains(string(body), `"run_id"`) {
		t.Errorf("token-b sees token-a's run: %s", body)
	}
	e.send("POST", "/api/2.0/workspace/mkdirs", as("token-a"), []byte(`{"path":"/Shared/a-only"}`))
	if status, _, _ := e.send("GET", "/api/2.0/workspace/get-status?path=/Shared/a-only", as("token-b"), nil); status != 404 {
		t.Errorf("token-b sees token-a's folder: %d", status)
	}
	if status, _, _ := e.send("GET", "/api/2.0/workspace/get-status?path=/Shared/a-only", as("token-a"), nil); status != 200 {
		t.Errorf("token-a lost its folder: %d", status)
	}
	e.send("PATCH", "/api/2.0/permissions/jobs/"+idA, as("token-a"), []byte(`{"access_control_list":[{"group_name":"users","permission_level":"CAN_VIEW"}]}`))
	_, _, body = e.send("GET", "/api/2.0/permissions/jobs/"+idB, as("token-b"), nil)
	if strings.Contains(string(body), "CAN_VIEW") {
		t.Errorf("token-b's job got token-a's grant: %s", body)
	}
	// OAuth tokens of one client share a workspace across refreshes.
	t1, t2 := m2mToken(t, e, "ci-app", "s"), m2mToken(t, e, "ci-app", "s")
	if t1 == t2 {
		t.Fatal("the token endpoint issued the same token twice")
	}
	create(t1, "m2m")
	if got := names(t2); got != "m2m" {
		t.Errorf("refreshed token sees %q", got)
	}
	if n := e.s.Workspaces(); n != 3 {
		t.Errorf("%d workspaces, want 3", n)
	}

	// Persisted, keyed by hash: a restart serves each token its own jobs,
	// and the file holds no token.
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(data)
	for _, tok := range []string{"token-a", "token-b", t1, t2} {
		if strings.Contains(string(raw), tok) {
			t.Errorf("the state file holds %q", tok)
		}
	}
	s2, err := New(Options{Workspaces: WorkspacesPerToken, DataFile: data})
	if err != nil {
		t.Fatal(err)
	}
	e = &testEnv{t: t, s: s2, srv: newTestServer(t, s2)}
	if got := names("token-a"); got != "a2,a1" {
		t.Errorf("after restart token-a sees %q", got)
	}
	if got := names(m2mToken(t, e, "ci-app", "s")); got != "m2m" {
		t.Errorf("after restart the client sees %q", got)
	}
	if status, _, _ := e.send("GET", "/api/2.0/workspace/get-status?path=/Shared/a-only", as("token-a"), nil); status != 200 {
		t.Errorf("after restart token-a lost its folder: %d", status)
	}
	// The same file served shared would hide those workspaces: refused.
	if _, err := New(Options{DataFile: data}); err == nil || !strings.Contains(err.Error(), "per-token") {
		t.Errorf("per-token file served shared: %v", err)
	}
	if _, err := New(Options{Workspaces: "each"}); err == nil {
		t.Error("unknown mode accepted")
	}
}
