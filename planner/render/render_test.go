package render

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/jobsync/jobsync/planner"
)

func plan(actions ...planner.Action) *planner.Plan {
	return &planner.Plan{FormatVersion: planner.FormatVersion, Project: "acme", Actions: actions}
}

func TestLineDiffKeepsContext(t *testing.T) {
	var before, after []string
	for i := 0; i < 40; i++ {
		before = append(before, fmt.Sprintf("SELECT col_%02d", i))
		after = append(after, fmt.Sprintf("SELECT col_%02d", i))
	}
	after[20] = "SELECT col_20 AS renamed"
	var got []string
	for _, l := range lineDiff(strings.Join(before, "\n"), strings.Join(after, "\n")) {
		got = append(got, string(l.op)+" "+l.text)
	}
	want := []string{
		"… 18 unchanged lines",
		"  SELECT col_18",
		"  SELECT col_19",
		"- SELECT col_20",
		"+ SELECT col_20 AS renamed",
		"  SELECT col_21",
		"  SELECT col_22",
		"… 17 unchanged lines",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lineDiff:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestTextColourOnlyWhenAsked(t *testing.T) {
	p := plan(planner.Action{Op: planner.OpUpdate, Key: "j", JobID: 1, Reason: "configuration changed",
		Changes: []planner.Change{{Path: "name", Kind: "modify", Before: "a", After: "b", Origin: "config"}}})
	var plain, colour bytes.Buffer
	if err := Text(&plain, p, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Text(&colour, p, Options{Color: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Errorf("plain text has ANSI codes:\n%q", plain.String())
	}
	if !strings.Contains(colour.String(), "\x1b[33m~") {
		t.Errorf("coloured text lacks colour:\n%q", colour.String())
	}
	want := "Project acme.\nPlan: 0 to create, 1 to update, 0 to reset, 0 to delete.\n\n~ j [job 1]  update: configuration changed\n    ~ name: \"a\" → \"b\"\n"
	if plain.String() != want {
		t.Errorf("text:\n%s\nwant\n%s", plain.String(), want)
	}
}

// A plan whose changes were not redacted (written by hand, or by an older
// jobsync) is still shown redacted.
func TestRenderRedacts(t *testing.T) {
	p := plan(planner.Action{Op: planner.OpUpdate, Key: "j", JobID: 1, Changes: []planner.Change{
		{Path: `tasks[task_key="a"].new_cluster.spark_env_vars.DB_PASSWORD`, Kind: "modify", Before: "hunter1", After: "hunter2", Origin: "config"},
		{Path: `tasks[task_key="b"]`, Kind: "add", After: map[string]any{"task_key": "b", "notebook_task": map[string]any{"base_parameters": map[string]any{"api_key": "hunter3"}}}, Origin: "config"},
		{Path: `git_source.git_url`, Kind: "add", After: "https://bot:hunter4@github.com/x", Origin: "drift"},
	}})
	var txt, md bytes.Buffer
	Text(&txt, p, Options{})
	Markdown(&md, p)
	for _, out := range []string{txt.String(), md.String()} {
		if strings.Contains(out, "hunter") {
			t.Errorf("a secret reached the rendering:\n%s", out)
		}
		if !strings.Contains(out, planner.Sensitive) {
			t.Errorf("no redaction marker:\n%s", out)
		}
	}
}

func TestMarkdownFenceAndBanner(t *testing.T) {
	p := plan(
		planner.Action{Op: planner.OpReset, Key: "r", JobID: 2, Reason: "parameters change", Changes: []planner.Change{
			{Path: "description", Kind: "modify", Before: "old", After: "uses ``` fences\nsecond line", Origin: "config"}}},
		planner.Action{Op: planner.OpDelete, Key: "d", JobID: 3, Reason: "removed from the configuration"},
	)
	var md bytes.Buffer
	if err := Markdown(&md, p); err != nil {
		t.Fatal(err)
	}
	out := md.String()
	for _, want := range []string{"> [!WARNING]", "**deletes** 1 job: `d [job 3]`", "**resets** 1 job", "````diff", "<details><summary><code>± r [job 2]</code> reset: parameters change</summary>"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
}

func TestMarkdownBudget(t *testing.T) {
	var actions []planner.Action
	for i := 0; i < 2000; i++ {
		actions = append(actions, planner.Action{Op: planner.OpCreate, Key: fmt.Sprintf("job%04d", i), Changes: []planner.Change{
			{Path: "description", Kind: "add", After: strings.Repeat("a long line of text\n", 20), Origin: "config"}}})
	}
	var md bytes.Buffer
	if err := Markdown(&md, plan(actions...)); err != nil {
		t.Fatal(err)
	}
	if md.Len() > 65536 {
		t.Errorf("markdown is %d bytes, over GitHub's comment limit", md.Len())
	}
	if !strings.Contains(md.String(), "too long for a comment") || !strings.Contains(md.String(), "more\n") {
		t.Errorf("a cut plan must say so and count what it leaves out")
	}
}

func TestEmptyPlan(t *testing.T) {
	var txt, md bytes.Buffer
	Text(&txt, plan(), Options{})
	Markdown(&md, plan())
	if txt.String() != "Project acme.\nNo changes. The workspace matches the configuration.\n" {
		t.Errorf("empty text plan: %q", txt.String())
	}
	if !strings.Contains(md.String(), "No changes. The workspace matches the configuration.") {
		t.Errorf("empty markdown plan: %q", md.String())
	}
}

func TestJSONIsThePlanDocument(t *testing.T) {
	p := plan(planner.Action{Op: planner.OpDelete, Key: "d", JobID: 3, Request: []byte(`{"job_id":3}`)})
	var a, b bytes.Buffer
	JSON(&a, p)
	planner.WritePlan(&b, p)
	if a.String() != b.String() || !strings.Contains(a.String(), `"format_version": 2`) {
		t.Errorf("JSON rendering is not the plan document:\n%s", a.String())
	}
}

func TestHeadingAndMarker(t *testing.T) {
	p := plan()
	p.Project, p.Target, p.Workspace = "shop floor/prod", "prod", "https://dbc-1.cloud.databricks.com"
	var txt, md bytes.Buffer
	if err := Text(&txt, p, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&md, p); err != nil {
		t.Fatal(err)
	}
	if first := strings.SplitN(txt.String(), "\n", 2)[0]; first != "Project shop floor, target prod, workspace https://dbc-1.cloud.databricks.com." {
		t.Errorf("text heading: %q", first)
	}
	lines := strings.SplitN(md.String(), "\n", 3)
	if lines[0] != "<!-- jobsync:plan project=shop%20floor target=prod -->" || Marker(p) != lines[0] {
		t.Errorf("marker: %q", lines[0])
	}
	if lines[1] != "### jobsync plan: `shop floor` (target `prod`) on `https://dbc-1.cloud.databricks.com`" {
		t.Errorf("markdown heading: %q", lines[1])
	}
	p.Project, p.Target = "a-->b", ""
	if m := Marker(p); m != "<!-- jobsync:plan project=a--%3Eb -->" {
		t.Errorf("a project name cannot end the comment: %q", m)
	}
}

func TestSkippedDeletesAreNamed(t *testing.T) {
	p := plan()
	p.Skipped = []planner.Action{{Op: planner.OpDelete, Key: "old", JobID: 7, Reason: "no longer in the configuration"}}
	var txt bytes.Buffer
	if err := Text(&txt, p, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(txt.String(), "No changes to apply; 1 managed job is no longer in the configuration and left in place (pass --prune to delete it).") ||
		!strings.Contains(txt.String(), "- old [job 7]") {
		t.Errorf("skipped deletes:\n%s", txt.String())
	}
}

// Strings and values are shown as JSON without json.Marshal's escaping of
// <, > and &, and a string that holds the text \u003c keeps it (undoing the
// escaping by replacing text turned it into \<).
func TestQuoteAndOneLine(t *testing.T) {
	for in, want := range map[string]string{
		`a & <b>`:     `"a & <b>"`,
		`x\u003cy`:    `"x\\u003cy"`,
		"tab\there":   `"tab\there"`,
		`say "hello"`: `"say \"hello\""`,
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
	if got, want := OneLine(map[string]any{"cmd": "a && b > c"}), `{"cmd":"a && b > c"}`; got != want {
		t.Errorf("OneLine = %s, want %s", got, want)
	}
	if got := OneLine(strings.Repeat("x", 200)); len(got) != 120 || !strings.HasSuffix(got, "...") {
		t.Errorf("OneLine of a long string: %d bytes, %q", len(got), got[len(got)-5:])
	}
}
