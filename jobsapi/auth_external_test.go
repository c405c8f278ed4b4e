package jobsapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/jobsapi"
)

// The tests below stand the Databricks and Azure CLIs in with small shell
// scripts on a PATH of the test's own, and Entra ID with a loopback token
// endpoint; the workspace is the emulator, behind a handler that records
// the headers each request carried.

// workspace serves the emulator and records every request's auth headers.
type workspace struct {
	url string
	mu  sync.Mutex
	got []http.Header
}

func serveWorkspace(t *testing.T) *workspace {
	t.Helper()
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := &workspace{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.got = append(w.got, r.Header.Clone())
		w.mu.Unlock()
		emu.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

func (w *workspace) last(t *testing.T) http.Header {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.got) == 0 {
		t.Fatal("the workspace got no request")
	}
	return w.got[len(w.got)-1]
}

// tool writes an executable shell script named name into dir.
func tool(t *testing.T, dir, name, script string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func listJobs(t *testing.T, env map[string]string) error {
	t.Helper()
	cfg, err := jobsapi.ResolveConfig(func(k string) string { return env[k] }, jobsapi.ConfigFlags{})
	if err != nil {
		return err
	}
	c, err := jobsapi.New(cfg, jobsapi.Options{})
	if err != nil {
		return err
	}
	_, err = c.ListJobs(context.Background(), jobsapi.ListJobsOptions{})
	return err
}

func TestDatabricksCLIAuth(t *testing.T) {
	ws := serveWorkspace(t)
	bin, home := t.TempDir(), t.TempDir()
	argsLog := filepath.Join(t.TempDir(), "args")
	// What `databricks auth token` prints (the CLI's own JSON).
	tool(t, bin, "databricks", `case "$1" in
version) echo "Databricks CLI v${FAKE_VERSION:-0.250.0}" ;;
auth) echo "$*" >> "`+argsLog+`"
      printf '{"access_token": "cli-token-abc", "token_type": "Bearer", "expiry": "2099-01-01T00:00:00.123456789Z"}\n' ;;
esac
`)
	env := map[string]string{"HOME": home, "PATH": bin, "DATABRICKS_HOST": ws.url}

	// Found on PATH with no other credentials: databricks-cli, by host.
	cfg, err := jobsapi.ResolveConfig(func(k string) string { return env[k] }, jobsapi.ConfigFlags{})
	if err != nil || cfg.AuthType != jobsapi.AuthTypeDatabricksCLI {
		t.Fatalf("auto-detected %q, %v; want databricks-cli", cfg.AuthType, err)
	}
	if err := listJobs(t, env); err != nil {
		t.Fatal(err)
	}
	if got := ws.last(t).Get("Authorization"); got != "Bearer cli-token-abc" {
		t.Errorf("Authorization %q", got)
	}
	// A profile, with a CLI that knows --profile, is asked by profile; a
	// CLI from v0.296.0 is asked to refresh.
	writeFile(t, home, ".databrickscfg", "[dev]\nhost = "+ws.url+"\nauth_type = databricks-cli\n")
	env2 := map[string]string{"HOME": home, "PATH": bin, "DATABRICKS_CONFIG_PROFILE": "dev"}
	if err := listJobs(t, env2); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAKE_VERSION", "0.296.0") // the script reads the process environment
	if err := listJobs(t, env2); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAKE_VERSION", "0.200.0")
	if err := listJobs(t, env2); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(argsLog)
	want := "auth token --host " + ws.url + "\nauth token --profile dev\nauth token --profile dev --force-refresh\nauth token --host " + ws.url + "\n"
	if string(b) != want {
		t.Errorf("the CLI was run as\n%s\nwant\n%s", b, want)
	}
}

func TestDatabricksCLIAuthErrors(t *testing.T) {
	ws := serveWorkspace(t)
	bin := t.TempDir()
	tool(t, bin, "databricks", `case "$1" in
version) echo "Databricks CLI v0.250.0" ;;
*) echo "Error: cache: databricks OAuth is not configured for this host. Try logging in again with 'databricks auth login --host X'" >&2; exit 1 ;;
esac
`)
	env := map[string]string{"HOME": t.TempDir(), "PATH": bin, "DATABRICKS_HOST": ws.url}
	err := listJobs(t, env)
	if err == nil || !strings.Contains(err.Error(), "not configured for this host") || !strings.Contains(err.Error(), "log in with `databricks auth login --host "+ws.url+"`") {
		t.Errorf("not logged in: %v", err)
	}
	// Asked for by name, the CLI must be there.
	env = map[string]string{"HOME": t.TempDir(), "PATH": t.TempDir(), "DATABRICKS_HOST": ws.url, "DATABRICKS_AUTH_TYPE": "databricks-cli"}
	if _, err := jobsapi.ResolveConfig(func(k string) string { return env[k] }, jobsapi.ConfigFlags{}); err == nil || !strings.Contains(err.Error(), "needs the Databricks CLI") {
		t.Errorf("no CLI: %v", err)
	}
	// DATABRICKS_CLI_PATH names it.
	env["DATABRICKS_CLI_PATH"] = filepath.Join(bin, "databricks")
	if cfg, err := jobsapi.ResolveConfig(func(k string) string { return env[k] }, jobsapi.ConfigFlags{}); err != nil || cfg.CLIPath != env["DATABRICKS_CLI_PATH"] {
		t.Errorf("DATABRICKS_CLI_PATH: %+v %v", cfg, err)
	}
}

func TestAzureCLIAuth(t *testing.T) {
	ws := serveWorkspace(t)
	bin := t.TempDir()
	argsLog := filepath.Join(t.TempDir(), "args")
	tool(t, bin, "az", `echo "$*" >> "`+argsLog+`"
printf '{"accessToken": "az-token-xyz", "expiresOn": "2099-01-01 00:00:00.000000", "subscription": "s", "tenant": "t", "tokenType": "Bearer"}\n'
`)
	resource := "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Databricks/workspaces/w"
	// A workspace resource id makes any host Azure; az on PATH then
	// authenticates.
	env := map[string]string{"HOME": t.TempDir(), "PATH": bin, "DATABRICKS_HOST": ws.url, "DATABRICKS_AZURE_RESOURCE_ID": resource, "ARM_TENANT_ID": "tenant-1"}
	if err := listJobs(t, env); err != nil {
		t.Fatal(err)
	}
	h := ws.last(t)
	if h.Get("Authorization") != "Bearer az-token-xyz" || h.Get("X-Databricks-Azure-Workspace-Resource-Id") != resource {
		t.Errorf("headers %v", h)
	}
	b, _ := os.ReadFile(argsLog)
	if want := "account get-access-token --resource 2ff814a6-3304-4ab8-85cb-cd0e6f879c1d --output json --tenant tenant-1\n"; string(b) != want {
		t.Errorf("az was run as %q, want %q", b, want)
	}
	// Not an Azure host: az is used only when asked for.
	env = map[string]string{"HOME": t.TempDir(), "PATH": bin, "DATABRICKS_HOST": ws.url}
	if _, err := jobsapi.ResolveConfig(func(k string) string { return env[k] }, jobsapi.ConfigFlags{}); err == nil || !strings.Contains(err.Error(), "no credentials") {
		t.Errorf("az on a non-Azure host: %v", err)
	}
	env["DATABRICKS_AUTH_TYPE"] = "azure-cli"
	if err := listJobs(t, env); err != nil {
		t.Errorf("azure-cli asked for: %v", err)
	}
}

func TestAzureClientSecretAuth(t *testing.T) {
	ws := serveWorkspace(t)
	var mu sync.Mutex
	var forms []url.Values
	entra := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/tenant-1/oauth2/token" {
			http.Error(w, `{"error": "invalid_request"}`, http.StatusNotFound)
			return
		}
		_ = r.ParseForm()
		mu.Lock()
		forms = append(forms, r.PostForm)
		mu.Unlock()
		if r.PostForm.Get("client_secret") != "sp-secret" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x"}`))
			return
		}
		tok := "entra-databricks"
		if r.PostForm.Get("resource") == "https://management.core.windows.net/" {
			tok = "entra-management"
		}
		// The v1 endpoint sends expires_in as a string.
		_, _ = w.Write([]byte(`{"token_type": "Bearer", "expires_in": "3599", "access_token": "` + tok + `"}`))
	}))
	t.Cleanup(entra.Close)
	env := map[string]string{"HOME": t.TempDir(), "DATABRICKS_HOST": ws.url, "JOBSYNC_AZURE_LOGIN_URL": entra.URL,
		"ARM_CLIENT_ID": "sp-app", "ARM_CLIENT_SECRET": "sp-secret", "ARM_TENANT_ID": "tenant-1", "DATABRICKS_AUTH_TYPE": "azure-client-secret"}
	if err := listJobs(t, env); err != nil {
		t.Fatal(err)
	}
	h := ws.last(t)
	if h.Get("Authorization") != "Bearer entra-databricks" || h.Get("X-Databricks-Azure-SP-Management-Token") != "entra-management" {
		t.Errorf("headers %v", h)
	}
	mu.Lock()
	if len(forms) != 2 || forms[0].Get("grant_type") != "client_credentials" || forms[0].Get("client_id") != "sp-app" ||
		forms[0].Get("resource") != jobsapi.AzureDatabricksAppID {
		t.Errorf("token requests %v", forms)
	}
	mu.Unlock()
	// An Azure host with the three variables chooses it by itself.
	env2 := map[string]string{"HOME": t.TempDir(), "DATABRICKS_HOST": "https://adb-1.2.azuredatabricks.net",
		"ARM_CLIENT_ID": "a", "ARM_CLIENT_SECRET": "b", "ARM_TENANT_ID": "c"}
	if cfg, err := jobsapi.ResolveConfig(func(k string) string { return env2[k] }, jobsapi.ConfigFlags{}); err != nil || cfg.AuthType != jobsapi.AuthTypeAzureClientSecret {
		t.Errorf("auto-detected %q, %v", cfg.AuthType, err)
	}
	// A wrong secret: Entra ID's reason, what to check, and no secret.
	env["ARM_CLIENT_SECRET"] = "wrong-secret-value"
	err := listJobs(t, env)
	if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") || !strings.Contains(err.Error(), "check ARM_CLIENT_ID, ARM_CLIENT_SECRET and ARM_TENANT_ID") ||
		strings.Contains(err.Error(), "wrong-secret-value") || strings.Contains(err.Error(), "Trace ID") {
		t.Errorf("bad secret: %v", err)
	}
	delete(env, "ARM_TENANT_ID")
	if _, err := jobsapi.ResolveConfig(func(k string) string { return env[k] }, jobsapi.ConfigFlags{}); err == nil || !strings.Contains(err.Error(), "ARM_TENANT_ID") {
		t.Errorf("no tenant: %v", err)
	}
}
