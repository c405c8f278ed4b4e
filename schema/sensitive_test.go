package schema

import (
	"slices"
	"strings"
	"testing"
)

// TestSensitiveVariables: which variables are sensitive, and that every
// string made with one is listed in its job's Secrets (whole strings, from
// job files and from a target's overrides alike), that the selection's
// secret values are known, and that no problem message quotes one.
func TestSensitiveVariables(t *testing.T) {
	files := map[string]string{
		"jobsync.yaml": `variables:
  conn: {sensitive: true}
  api_token: {}
  token_budget: {sensitive: false}
  catalog: {default: main}
targets:
  prod:
    overrides:
      all_jobs:
        tags: {auth: "Bearer ${var.api_token}"}
`,
		"a.yml": job("a", `name: a
tasks:
  - task_key: t
    notebook_task:
      notebook_path: /n
      base_parameters:
        conn: ${var.conn}
        catalog: ${var.catalog}
        flag: "--conn=${var.conn}"
        budget: ${var.token_budget}
`),
	}
	env := map[string]string{"JOBSYNC_VAR_conn": "jdbc://h/db?password=Zk8", "JOBSYNC_VAR_api_token": "tok-123", "JOBSYNC_VAR_token_budget": "5000"}
	cfg, diags, err := loadProject(t, files, "prod", nil, env)
	if err != nil || diags != nil {
		t.Fatalf("load: %v %v", err, diags)
	}
	sensitive := map[string]bool{}
	for _, v := range cfg.Selection.Project.Variables {
		sensitive[v.Name] = v.Sensitive
	}
	if want := map[string]bool{"conn": true, "api_token": true, "token_budget": false, "catalog": false}; !equalMaps(sensitive, want) {
		t.Errorf("sensitive variables %v, want %v", sensitive, want)
	}
	want := []string{"--conn=jdbc://h/db?password=Zk8", "Bearer tok-123", "jdbc://h/db?password=Zk8"}
	if got := cfg.Job("a").Secrets; !slices.Equal(got, want) {
		t.Errorf("Secrets %q, want %q", got, want)
	}
	if got := cfg.Selection.SecretValues(); !slices.Equal(got, []string{"tok-123", "jdbc://h/db?password=Zk8"}) {
		t.Errorf("SecretValues %q", got)
	}
	for _, l := range cfg.Selection.VariableLines() {
		if strings.Contains(l, "Zk8") || strings.Contains(l, "tok-123") {
			t.Errorf("variable line shows a secret: %s", l)
		}
	}

	// A schema check that quotes the value it refuses does not quote a
	// sensitive one.
	files["a.yml"] = job("a", "name: a\nedit_mode: ${var.conn}\n")
	_, diags, err = loadProject(t, files, "", nil, env)
	if err != nil {
		t.Fatal(err)
	}
	expectDiags(t, diags, []string{`a.yml:4:5: jobs.a.edit_mode: must be one of EDITABLE, UI_LOCKED, got "(sensitive)" (the value of ${var.conn}, set by JOBSYNC_VAR_conn)`})
}

func TestSensitiveOnlyForStrings(t *testing.T) {
	_, diags, err := loadProject(t, map[string]string{
		"jobsync.yaml": "variables:\n  n: {type: integer, sensitive: true}\n  max_tokens: {default: 3}\n",
		"a.yml":        job("a", "name: a\n"),
	}, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	expectDiags(t, diags, []string{`jobsync.yaml:2:22: variables.n.sensitive: only a string variable can be sensitive, and n is an integer: declare it type: string`})
}

func TestLooksSecret(t *testing.T) {
	for name, want := range map[string]bool{
		"db_password": true, "API-KEY": true, "apiKey": true, "slack_token": true, "CLIENT_SECRET": true,
		"private_key_pem": true, "aws_credentials": true, "passwd": true,
		"task_key": false, "notebook_path": false, "catalog": false, "num_workers": false, "tokenize": true,
		strings.Repeat("x", 100) + "secret": true,
	} {
		if got := LooksSecret(name); got != want {
			t.Errorf("LooksSecret(%q) = %v, want %v", name, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { LooksSecret("spark.hadoop.fs.s3a.access_key") }); n != 0 {
		t.Errorf("LooksSecret allocates %.0f times", n)
	}
}

func equalMaps(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
