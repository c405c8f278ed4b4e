package emulator

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// listAll pages through jobs/list with query q and returns the job ids in
// order, checking the token invariants on the way.
func listAll(t *testing.T, e *testEnv, version, q string) (ids []int64, pages int) {
	t.Helper()
	tok := ""
	for {
		path := "/api/" + version + "/jobs/list?" + q
		if tok != "" {
			path += "&page_token=" + url.QueryEscape(tok)
		}
		out := e.ok("GET", path, nil)
		pages++
		next, _ := out["next_page_token"].(string)
		if out["has_more"] != (next != "") {
			t.Fatalf("has_more %v with next_page_token %q", out["has_more"], next)
		}
		if pages > 1 && out["prev_page_token"] == nil {
			t.Errorf("page %d has no prev_page_token", pages)
		}
		jobs, _ := out["jobs"].([]any)
		for _, j := range jobs {
			ids = append(ids, asInt(t, j.(map[string]any)["job_id"]))
		}
		if next == "" {
			return ids, pages
		}
		tok = next
		if pages > 1000 {
			t.Fatal("no end to the pages")
		}
	}
}

func TestListPaging(t *testing.T) {
	e := newEnv(t, Options{})
	var created []int64
	for i := range 45 {
		created = append(created, e.create(map[string]any{"name": fmt.Sprintf("job %d", i%3), "tasks": []any{nb("a")}}))
	}
	ids, pages := listAll(t, e, "2.2", "limit=20")
	if pages != 3 || len(ids) != 45 {
		t.Fatalf("%d pages, %d ids", pages, len(ids))
	}
	for i, id := range ids {
		if id != created[len(created)-1-i] {
			t.Fatalf("order: position %d is %d, want newest first", i, id)
		}
	}
	// Default limit 20; the tokens are opaque, not offsets.
	out := e.ok("GET", "/api/2.2/jobs/list", nil)
	if n := len(out["jobs"].([]any)); n != 20 {
		t.Errorf("default page has %d jobs", n)
	}
	tok := out["next_page_token"].(string)
	if raw, err := base64.StdEncoding.DecodeString(tok); err != nil || strings.Contains(tok, "20") && len(tok) < 4 {
		t.Errorf("token %q (%s) does not look opaque", tok, raw)
	}
	// prev_page_token goes back to the first page.
	second := e.ok("GET", "/api/2.2/jobs/list?page_token="+url.QueryEscape(tok), nil)
	back := e.ok("GET", "/api/2.2/jobs/list?page_token="+url.QueryEscape(second["prev_page_token"].(string)), nil)
	if jsonOf(t, back["jobs"]) != jsonOf(t, out["jobs"]) {
		t.Error("prev_page_token does not return the previous page")
	}
	if _, ok := out["prev_page_token"]; ok {
		t.Error("first page has a prev_page_token")
	}
	// A job created between pages does not shift the next page (cursor, not offset).
	e.create(map[string]any{"name": "late"})
	again := e.ok("GET", "/api/2.2/jobs/list?page_token="+url.QueryEscape(tok), nil)
	if jsonOf(t, again["jobs"]) != jsonOf(t, second["jobs"]) {
		t.Error("a new job shifted the next page")
	}
	// Name filter: exact and case-insensitive.
	ids, _ = listAll(t, e, "2.2", "limit=7&name="+url.QueryEscape("JOB 1"))
	if len(ids) != 15 {
		t.Errorf("name filter found %d jobs", len(ids))
	}
	if out := e.ok("GET", "/api/2.2/jobs/list?name=job", nil); out["jobs"] != nil || out["has_more"] != false {
		t.Errorf("prefix matched: %v", out)
	}
	// Deprecated offset.
	out = e.ok("GET", "/api/2.2/jobs/list?limit=5&offset=44", nil)
	if n := len(out["jobs"].([]any)); n != 2 {
		t.Errorf("offset page has %d jobs", n)
	}
	for _, bad := range []string{"limit=101", "limit=-1", "offset=-1", "page_token=garbage", "page_token=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte("jg1:n:1:1")))} {
		e.fail("GET", "/api/2.2/jobs/list?"+bad, nil, 400, "INVALID_PARAMETER_VALUE")
	}
	// 2.1: at most 100 as well (the 2023 spec's 25 was raised; issue 14 gap 13).
	e.fail("GET", "/api/2.1/jobs/list?limit=101", nil, 400, "INVALID_PARAMETER_VALUE")
	if ids, _ := listAll(t, e, "2.1", "limit=100"); len(ids) != 46 {
		t.Errorf("2.1 with limit=100 listed %d jobs, want 46", len(ids))
	}
	if ids, _ := listAll(t, e, "2.1", "limit=25"); len(ids) != 46 {
		t.Errorf("2.1 listed %d", len(ids))
	}
}

func TestListEmptyAndExpand(t *testing.T) {
	e := newEnv(t, Options{})
	out := e.ok("GET", "/api/2.2/jobs/list", nil)
	if _, ok := out["jobs"]; ok || out["has_more"] != false {
		t.Errorf("empty list: %v", out)
	}
	tasks := make([]any, 150)
	for i := range tasks {
		tasks[i] = nb(fmt.Sprintf("t%03d", i))
	}
	big := e.create(map[string]any{"name": "big", "tasks": tasks, "job_clusters": []any{map[string]any{"job_cluster_key": "c", "new_cluster": map[string]any{}}}})
	small := e.create(map[string]any{"name": "small", "tasks": []any{nb("a")}})

	items := func(version, q string) map[int64]map[string]any {
		out := e.ok("GET", "/api/"+version+"/jobs/list?"+q, nil)
		m := map[int64]map[string]any{}
		for _, j := range out["jobs"].([]any) {
			jm := j.(map[string]any)
			m[asInt(t, jm["job_id"])] = jm
		}
		return m
	}
	plain := items("2.2", "")
	if _, ok := plain[big]["settings"].(map[string]any)["tasks"]; ok {
		t.Error("tasks listed without expand_tasks")
	}
	if _, ok := plain[big]["settings"].(map[string]any)["job_clusters"]; ok {
		t.Error("job_clusters listed without expand_tasks")
	}
	if plain[big]["settings"].(map[string]any)["name"] != "big" || plain[big]["run_as_user_name"] != nil {
		t.Errorf("list item: %v", plain[big])
	}
	exp := items("2.2", "expand_tasks=true")
	if n := len(exp[big]["settings"].(map[string]any)["tasks"].([]any)); n != 100 || exp[big]["has_more"] != true {
		t.Errorf("2.2 expand: %d tasks, has_more %v", n, exp[big]["has_more"])
	}
	if _, ok := exp[small]["has_more"]; ok {
		t.Error("has_more on a small job")
	}
	if n := len(exp[small]["settings"].(map[string]any)["tasks"].([]any)); n != 1 {
		t.Errorf("small job lists %d tasks", n)
	}
	if n := len(items("2.1", "expand_tasks=true")[big]["settings"].(map[string]any)["tasks"].([]any)); n != 150 {
		t.Errorf("2.1 expand lists %d tasks", n)
	}
}

func TestGetPaging(t *testing.T) {
	e := newEnv(t, Options{})
	var tasks, clusters, params []any
	for i := range 250 {
		tasks = append(tasks, nb(fmt.Sprintf("t%03d", i)))
	}
	for i := range 120 {
		clusters = append(clusters, map[string]any{"job_cluster_key": fmt.Sprintf("c%03d", i), "new_cluster": map[string]any{}})
	}
	for i := range 30 {
		params = append(params, map[string]any{"name": fmt.Sprintf("p%d", i), "default": ""})
	}
	id := e.create(map[string]any{"name": "big", "tasks": tasks, "job_clusters": clusters, "parameters": params})

	got := map[string]int{}
	path := "/api/2.2/jobs/get?job_id=" + itoa(id)
	var pages []map[string]any
	for tok := ""; ; {
		p := path
		if tok != "" {
			p += "&page_token=" + url.QueryEscape(tok)
		}
		out := e.ok("GET", p, nil)
		pages = append(pages, out)
		st := out["settings"].(map[string]any)
		for _, k := range jobArrays {
			if l, ok := st[k].([]any); ok {
				if len(l) > pageSize {
					t.Errorf("%s has %d elements on one page", k, len(l))
				}
				got[k] += len(l)
			}
		}
		if st["name"] != "big" || out["job_id"] == nil {
			t.Error("later pages lost the other fields")
		}
		var ok bool
		if tok, ok = out["next_page_token"].(string); !ok {
			break
		}
	}
	if len(pages) != 3 || got["tasks"] != 250 || got["job_clusters"] != 120 || got["parameters"] != 30 {
		t.Errorf("%d pages, counts %v", len(pages), got)
	}
	if _, ok := pages[2]["settings"].(map[string]any)["job_clusters"]; ok {
		t.Error("exhausted job_clusters on page 3")
	}
	e.fail("GET", path+"&page_token=x", nil, 400, "INVALID_PARAMETER_VALUE")
	other := e.create(map[string]any{})
	tok := pages[0]["next_page_token"].(string)
	e.fail("GET", "/api/2.2/jobs/get?job_id="+itoa(other)+"&page_token="+url.QueryEscape(tok), nil, 400, "INVALID_PARAMETER_VALUE")

	// 2.1: no paging, and more than 100 tasks are refused (§11.1).
	msg := e.fail("GET", "/api/2.1/jobs/get?job_id="+itoa(id), nil, 400, "INVALID_PARAMETER_VALUE")
	if msg != "Resources with more than 100 tasks can only be handled by API 2.2 and above. Your resource has 250 tasks" {
		t.Errorf("message %q", msg)
	}
	small := e.create(map[string]any{"tasks": tasks[:100], "job_clusters": clusters})
	st := e.ok("GET", "/api/2.1/jobs/get?job_id="+itoa(small), nil)["settings"].(map[string]any)
	if len(st["job_clusters"].([]any)) != 120 {
		t.Error("2.1 paged job_clusters")
	}
}

func TestGetParamsInBody(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(map[string]any{"name": "x"})
	// docs: "curl --request GET ... --data '{ "cluster_id": ... }'".
	out := e.ok("GET", "/api/2.2/jobs/get", map[string]any{"job_id": id})
	if asInt(t, out["job_id"]) != id {
		t.Errorf("job %v", out["job_id"])
	}
}

func TestReorder(t *testing.T) {
	e := newEnv(t, Options{ReorderReads: true})
	var tasks []any
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
		tasks = append(tasks, nb(k))
	}
	tasks = append(tasks, nb("z", "a", "b", "c"))
	id := e.create(map[string]any{"tasks": tasks, "webhook_notifications": map[string]any{"on_start": []any{map[string]any{"id": "1"}, map[string]any{"id": "2"}}}})
	st := e.settings(id)
	order := strings.Join(taskKeys(t, st), ",")
	if order == "a,b,c,d,e,f,z" {
		t.Error("tasks not reordered")
	}
	if again := strings.Join(taskKeys(t, e.settings(id)), ","); again != order {
		t.Errorf("reorder not deterministic: %s vs %s", order, again)
	}
	for _, tk := range st["tasks"].([]any) {
		if tm := tk.(map[string]any); tm["task_key"] == "z" {
			if got := jsonOf(t, tm["depends_on"]); got != `[{"task_key":"c"},{"task_key":"b"},{"task_key":"a"}]` {
				t.Errorf("depends_on %s", got)
			}
		}
	}
	if got := jsonOf(t, st["webhook_notifications"]); got != `{"on_start":[{"id":"2"},{"id":"1"}]}` {
		t.Errorf("webhooks %s", got)
	}
	e.s.SetReorder(false)
	if order := strings.Join(taskKeys(t, e.settings(id)), ","); order != "a,b,c,d,e,f,z" {
		t.Errorf("order without reorder: %s", order)
	}
	// Lists follow the knob too (cached per setting).
	e.s.SetReorder(true)
	out := e.ok("GET", "/api/2.2/jobs/list?expand_tasks=true", nil)
	if got := strings.Join(taskKeys(t, out["jobs"].([]any)[0].(map[string]any)["settings"].(map[string]any)), ","); got != order {
		t.Errorf("list order %s, get order %s", got, order)
	}
}
