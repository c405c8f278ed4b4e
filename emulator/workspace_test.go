package emulator

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// send sends a request with the given headers and body and returns the
// answer unparsed, as the SDK's and the CLI's raw calls see it.
func (e *testEnv) send(method, path string, hdr map[string]string, body []byte) (int, http.Header, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer test-token")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// importFilePath is the URL the CLI's filer posts a file to: the path
// without its leading slash, url.PathEscape'd, overwrite as %t ([CLI]
// libs/filer/workspace_files_client.go Write).
func importFilePath(p string, overwrite bool) string {
	return "/api/2.0/workspace-files/import-file/" + url.PathEscape(strings.TrimLeft(p, "/")) + "?overwrite=" + map[bool]string{true: "true", false: "false"}[overwrite]
}

func TestWorkspaceRoundTrip(t *testing.T) {
	e := newEnv(t, Options{})
	dir := "/Users/user@example.com/project"
	e.ok("POST", "/api/2.0/workspace/mkdirs", map[string]any{"path": dir + "/sub"})
	// SDK Import body: path, format, language, content (base64), overwrite.
	nbSrc := "print('hello')\n"
	e.ok("POST", "/api/2.0/workspace/import", map[string]any{"path": dir + "/nb", "format": "SOURCE", "language": "PYTHON", "content": b64(nbSrc)})

	st := e.ok("GET", "/api/2.0/workspace/get-status?path="+url.QueryEscape(dir+"/nb"), nil)
	if st["object_type"] != "NOTEBOOK" || st["language"] != "PYTHON" || st["path"] != dir+"/nb" {
		t.Errorf("get-status %v", st)
	}
	id := asInt(t, st["object_id"])
	if id <= 1<<53 || id%2 == 0 || st["resource_id"] != itoa(id) {
		t.Errorf("object id %v, resource_id %v", st["object_id"], st["resource_id"])
	}
	if _, ok := st["modified_at"]; ok {
		t.Errorf("a notebook has no modified_at (only files do): %v", st)
	}
	st = e.ok("GET", "/api/2.0/workspace/get-status?path="+url.QueryEscape(dir+"/sub"), nil)
	if st["object_type"] != "DIRECTORY" {
		t.Errorf("get-status of a directory %v", st)
	}

	lst := e.ok("GET", "/api/2.0/workspace/list?path="+url.QueryEscape(dir), nil)
	objs := lst["objects"].([]any)
	if len(objs) != 2 || objs[0].(map[string]any)["path"] != dir+"/nb" || objs[1].(map[string]any)["path"] != dir+"/sub" {
		t.Errorf("list %v", lst)
	}

	ex := e.ok("GET", "/api/2.0/workspace/export?format=SOURCE&path="+url.QueryEscape(dir+"/nb"), nil)
	got, _ := base64.StdEncoding.DecodeString(ex["content"].(string))
	if string(got) != "# Databricks notebook source\n"+nbSrc || ex["file_type"] != "py" {
		t.Errorf("export %v: %q", ex, got)
	}
	// The SDK's Download: direct_download=true answers the bytes.
	status, hdr, body := e.send("GET", "/api/2.0/workspace/export?direct_download=true&path="+url.QueryEscape(dir+"/nb"), nil, nil)
	if status != 200 || string(body) != string(got) || hdr.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("direct download %d %q %v", status, body, hdr)
	}

	// 400 RESOURCE_ALREADY_EXISTS for an import over it without overwrite.
	msg := e.fail("POST", "/api/2.0/workspace/import", map[string]any{"path": dir + "/nb", "format": "SOURCE", "language": "PYTHON", "content": b64("x")}, 400, "RESOURCE_ALREADY_EXISTS")
	if msg != "Path ("+dir+"/nb) already exists." {
		t.Errorf("message %q", msg)
	}
	e.ok("POST", "/api/2.0/workspace/import", map[string]any{"path": dir + "/nb", "format": "SOURCE", "language": "PYTHON", "content": b64("x = 2\n"), "overwrite": true})
	if st := e.ok("GET", "/api/2.0/workspace/get-status?path="+url.QueryEscape(dir+"/nb"), nil); asInt(t, st["object_id"]) != id {
		t.Errorf("an overwrite keeps the object id: %v", st)
	}

	// delete: non-empty directory needs recursive.
	e.fail("POST", "/api/2.0/workspace/delete", map[string]any{"path": dir}, 400, "DIRECTORY_NOT_EMPTY")
	e.ok("POST", "/api/2.0/workspace/delete", map[string]any{"path": dir + "/nb"})
	e.ok("POST", "/api/2.0/workspace/delete", map[string]any{"path": dir, "recursive": true})
	msg = e.fail("GET", "/api/2.0/workspace/get-status?path="+url.QueryEscape(dir+"/sub"), nil, 404, "RESOURCE_DOES_NOT_EXIST")
	if msg != "Path ("+dir+"/sub) doesn't exist." {
		t.Errorf("message %q", msg)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/2.0/workspace/list?path=/nope"},
		{"GET", "/api/2.0/workspace/export?path=/nope"},
		{"POST", "/api/2.0/workspace/delete"},
	} {
		var body any
		if c.method == "POST" {
			body = map[string]any{"path": "/nope"}
		}
		e.fail(c.method, c.path, body, 404, "RESOURCE_DOES_NOT_EXIST")
	}
}

func TestWorkspaceSeededFolders(t *testing.T) {
	e := newEnv(t, Options{User: "jane@example.com", Directory: Directory{ServicePrincipals: []ServicePrincipal{{ApplicationID: "sp-1"}}}})
	lst := e.ok("GET", "/api/2.0/workspace/list?path=/", nil)
	if got := jsonOf(t, paths(lst)); got != `["/Shared","/Users"]` {
		t.Errorf("root %s", got)
	}
	if got := jsonOf(t, paths(e.ok("GET", "/api/2.0/workspace/list?path=/Users", nil))); got != `["/Users/jane@example.com","/Users/sp-1"]` {
		t.Errorf("homes %s", got)
	}
	// An empty directory lists as {} (ListResponse.objects is omitempty).
	status, _, body := e.send("GET", "/api/2.0/workspace/list?path=/Shared", nil, nil)
	if status != 200 || string(body) != "{}" {
		t.Errorf("empty list %d %s", status, body)
	}
}

func paths(lst map[string]any) []string {
	var out []string
	objs, _ := lst["objects"].([]any)
	for _, o := range objs {
		out = append(out, o.(map[string]any)["path"].(string))
	}
	return out
}

// TestImportFileAsTheCLIFiler drives workspace-files/import-file the way
// the CLI's filer does (and bundle deploy with it): 404 for a missing
// parent, then mkdirs and the same request again; 409 for an existing file
// and 400 "already exists." for an existing notebook without overwrite.
func TestImportFileAsTheCLIFiler(t *testing.T) {
	e := newEnv(t, Options{})
	root := "/Workspace/Users/user@example.com/.bundle/demo/dev/files"
	file := root + "/src/config.json"
	status, _, body := e.send("POST", importFilePath(file, false), nil, []byte(`{"a":1}`))
	if status != 404 || !strings.Contains(string(body), `"RESOURCE_DOES_NOT_EXIST"`) {
		t.Fatalf("missing parent: %d %s", status, body)
	}
	e.ok("POST", "/api/2.0/workspace/mkdirs", map[string]any{"path": root + "/src"})
	if status, _, body = e.send("POST", importFilePath(file, false), nil, []byte(`{"a":1}`)); status != 200 {
		t.Fatalf("import-file %d %s", status, body)
	}
	st := e.ok("GET", "/api/2.0/workspace/get-status?return_export_info=true&path="+url.QueryEscape(file), nil)
	if st["object_type"] != "FILE" || st["path"] != file || asInt(t, st["size"]) != 7 || st["modified_at"] == nil || st["created_at"] == nil {
		t.Errorf("get-status %v", st)
	}
	// The same object without the /Workspace prefix.
	if st2 := e.ok("GET", "/api/2.0/workspace/get-status?path="+url.QueryEscape(strings.TrimPrefix(file, "/Workspace")), nil); st2["object_id"] != st["object_id"] || st2["path"] != strings.TrimPrefix(file, "/Workspace") {
		t.Errorf("prefix-less get-status %v", st2)
	}
	status, _, body = e.send("POST", importFilePath(file, false), nil, []byte(`{"a":2}`))
	if status != 409 {
		t.Errorf("existing file without overwrite: %d %s", status, body)
	}
	e.clock.Advance(time.Second)
	if status, _, body = e.send("POST", importFilePath(file, true), nil, []byte(`{"a":22}`)); status != 200 {
		t.Fatalf("overwrite %d %s", status, body)
	}
	st2 := e.ok("GET", "/api/2.0/workspace/get-status?path="+url.QueryEscape(file), nil)
	if asInt(t, st2["size"]) != 8 || asInt(t, st2["modified_at"]) <= asInt(t, st["modified_at"]) || st2["created_at"] != st["created_at"] {
		t.Errorf("after overwrite %v (before %v)", st2, st)
	}

	// A source file with the notebook header becomes a notebook without
	// its extension.
	nb := root + "/src/etl.py"
	src := "# Databricks notebook source\nprint(1)\n"
	if status, _, body = e.send("POST", importFilePath(nb, false), nil, []byte(src)); status != 200 {
		t.Fatalf("notebook import-file %d %s", status, body)
	}
	st = e.ok("GET", "/api/2.0/workspace/get-status?return_export_info=true&path="+url.QueryEscape(root+"/src/etl"), nil)
	if st["object_type"] != "NOTEBOOK" || st["language"] != "PYTHON" || st["repos_export_format"] != "SOURCE" {
		t.Errorf("notebook %v", st)
	}
	e.fail("GET", "/api/2.0/workspace/get-status?path="+url.QueryEscape(nb), nil, 404, "RESOURCE_DOES_NOT_EXIST")
	status, _, body = e.send("POST", importFilePath(nb, false), nil, []byte(src))
	var eb map[string]any
	_ = json.Unmarshal(body, &eb)
	if _, hasCode := eb["error_code"]; status != 400 || hasCode || !strings.Contains(eb["message"].(string), "already exists.") {
		t.Errorf("existing notebook without overwrite: %d %s", status, body)
	}
	// Plain Python without the header stays a file, extension and all.
	if status, _, _ = e.send("POST", importFilePath(root+"/src/lib.py", false), nil, []byte("x = 1\n")); status != 200 {
		t.Fatal(status)
	}
	if st := e.ok("GET", "/api/2.0/workspace/get-status?path="+url.QueryEscape(root+"/src/lib.py"), nil); st["object_type"] != "FILE" {
		t.Errorf("lib.py %v", st)
	}
	// The filer reads files back with export?direct_download=true.
	status, _, body = e.send("GET", "/api/2.0/workspace/export?direct_download=true&path="+url.QueryEscape(file), nil, nil)
	if status != 200 || string(body) != `{"a":22}` {
		t.Errorf("read back %d %s", status, body)
	}
	// The filer lists a file and gets itself.
	if got := paths(e.ok("GET", "/api/2.0/workspace/list?path="+url.QueryEscape(file), nil)); len(got) != 1 || got[0] != file {
		t.Errorf("list of a file %v", got)
	}
	// Over a directory, with or without overwrite: refused.
	status, _, _ = e.send("POST", importFilePath(root+"/src", true), nil, []byte("x"))
	if status != 400 {
		t.Errorf("import-file over a directory %d", status)
	}
	// The filer's recursive delete of the bundle root.
	e.ok("POST", "/api/2.0/workspace/delete", map[string]any{"path": "/Workspace/Users/user@example.com/.bundle", "recursive": true})
	e.fail("GET", "/api/2.0/workspace/get-status?path="+url.QueryEscape(file), nil, 404, "RESOURCE_DOES_NOT_EXIST")
}

func TestImportFormats(t *testing.T) {
	e := newEnv(t, Options{})
	d := "/Shared/f"
	e.ok("POST", "/api/2.0/workspace/mkdirs", map[string]any{"path": d})
	ipynb := `{"cells":[{"cell_type":"markdown","metadata":{},"source":["# Title"]},{"cell_type":"code","metadata":{},"outputs":[],"execution_count":null,"source":["x = 1\n","print(x)"]}],"metadata":{},"nbformat":4,"nbformat_minor":5}`
	// AUTO: extension and header decide; notebooks lose the extension.
	for _, c := range []struct{ name, content, wantPath, wantType, wantLang string }{
		{"a.py", "# Databricks notebook source\nx = 1\n", "a", "NOTEBOOK", "PYTHON"},
		{"b.sql", "-- Databricks notebook source\nSELECT 1\n", "b", "NOTEBOOK", "SQL"},
		{"c.scala", "// Databricks notebook source\nval x = 1\n", "c", "NOTEBOOK", "SCALA"},
		{"d.r", "# Databricks notebook source\nx <- 1\n", "d", "NOTEBOOK", "R"},
		{"e.ipynb", ipynb, "e", "NOTEBOOK", "PYTHON"},
		{"f.py", "x = 1\n", "f.py", "FILE", ""},
		{"g.txt", "hello", "g.txt", "FILE", ""},
	} {
		e.ok("POST", "/api/2.0/workspace/import", map[string]any{"path": d + "/" + c.name, "format": "AUTO", "content": b64(c.content)})
		st := e.ok("GET", "/api/2.0/workspace/get-status?path="+url.QueryEscape(d+"/"+c.wantPath), nil)
		if st["object_type"] != c.wantType || (c.wantLang != "" && st["language"] != c.wantLang) {
			t.Errorf("%s: %v", c.name, st)
		}
	}
	// RAW keeps even a notebook-looking source as a file.
	e.ok("POST", "/api/2.0/workspace/import", map[string]any{"path": d + "/raw.py", "format": "RAW", "content": b64("# Databricks notebook source\n")})
	if st := e.ok("GET", "/api/2.0/workspace/get-status?path="+url.QueryEscape(d+"/raw.py"), nil); st["object_type"] != "FILE" {
		t.Errorf("RAW %v", st)
	}
	// JUPYTER: the path as given.
	e.ok("POST", "/api/2.0/workspace/import", map[string]any{"path": d + "/j", "format": "JUPYTER", "content": b64(ipynb)})
	st := e.ok("GET", "/api/2.0/workspace/get-status?return_export_info=true&path="+url.QueryEscape(d+"/j"), nil)
	if st["object_type"] != "NOTEBOOK" || st["language"] != "PYTHON" || st["repos_export_format"] != "JUPYTER" {
		t.Errorf("JUPYTER %v", st)
	}
	// Export: AUTO gives a Jupyter notebook back as imported, SOURCE
	// converts it.
	ex := e.ok("GET", "/api/2.0/workspace/export?format=AUTO&path="+url.QueryEscape(d+"/j"), nil)
	if got, _ := base64.StdEncoding.DecodeString(ex["content"].(string)); string(got) != ipynb || ex["file_type"] != "ipynb" {
		t.Errorf("AUTO export %v %s", ex, got)
	}
	ex = e.ok("GET", "/api/2.0/workspace/export?format=SOURCE&path="+url.QueryEscape(d+"/j"), nil)
	want := "# Databricks notebook source\n# MAGIC %md\n# MAGIC # Title\n\n# COMMAND ----------\n\nx = 1\nprint(x)\n"
	if got, _ := base64.StdEncoding.DecodeString(ex["content"].(string)); string(got) != want {
		t.Errorf("SOURCE export of a Jupyter notebook:\n%s\nwant\n%s", got, want)
	}
	// ... and a source notebook converts to Jupyter and back.
	ex = e.ok("GET", "/api/2.0/workspace/export?format=JUPYTER&path="+url.QueryEscape(d+"/a"), nil)
	raw, _ := base64.StdEncoding.DecodeString(ex["content"].(string))
	var nb jupyter
	if err := json.Unmarshal(raw, &nb); err != nil || len(nb.Cells) != 1 || nb.Cells[0].text() != "x = 1" || ex["file_type"] != "ipynb" {
		t.Errorf("JUPYTER export %v: %s", err, raw)
	}

	// A directory exports as a zip: SOURCE has only notebooks, AUTO files
	// too.
	for format, want := range map[string]string{
		"SOURCE": "a.py b.sql c.scala d.r e.py j.py",
		"AUTO":   "a.py b.sql c.scala d.r e.ipynb f.py g.txt j.ipynb raw.py",
	} {
		ex := e.ok("GET", "/api/2.0/workspace/export?format="+format+"&path="+url.QueryEscape(d), nil)
		data, _ := base64.StdEncoding.DecodeString(ex["content"].(string))
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		var names []string
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
		if strings.Join(names, " ") != want || ex["file_type"] != "zip" {
			t.Errorf("%s directory export: %v %v", format, names, ex["file_type"])
		}
	}

	// Refusals.
	e.fail("POST", "/api/2.0/workspace/import", map[string]any{"path": d + "/x", "format": "SOURCE", "content": b64("x")}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", "/api/2.0/workspace/import", map[string]any{"path": d + "/x", "format": "source", "language": "PYTHON", "content": b64("x")}, 400, "MALFORMED_REQUEST")
	e.fail("POST", "/api/2.0/workspace/import", map[string]any{"path": d + "/x", "format": "SOURCE", "language": "JAVA", "content": b64("x")}, 400, "MALFORMED_REQUEST")
	e.fail("POST", "/api/2.0/workspace/import", map[string]any{"path": d + "/x", "format": "DBC", "content": b64("x")}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", "/api/2.0/workspace/import", map[string]any{"path": d + "/x", "format": "JUPYTER", "content": b64("not json")}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", "/api/2.0/workspace/import", map[string]any{"path": d + "/x", "format": "AUTO", "content": "%%%"}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", "/api/2.0/workspace/import", map[string]any{"path": "relative/x", "format": "AUTO", "content": b64("x")}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", "/api/2.0/workspace/import", map[string]any{"path": "/Shared/missing/x", "format": "AUTO", "content": b64("x")}, 404, "RESOURCE_DOES_NOT_EXIST")
	e.fail("GET", "/api/2.0/workspace/export?format=HTML&path="+url.QueryEscape(d+"/a"), nil, 400, "INVALID_PARAMETER_VALUE")
	e.fail("GET", "/api/2.0/workspace/export?format=JUPYTER&path="+url.QueryEscape(d+"/g.txt"), nil, 400, "INVALID_PARAMETER_VALUE")
	big := strings.Repeat("x", 10<<20+1)
	msg := e.fail("POST", "/api/2.0/workspace/import", map[string]any{"path": d + "/big.txt", "format": "AUTO", "content": b64(big)}, 400, "MAX_NOTEBOOK_SIZE_EXCEEDED")
	if msg != "File size imported is (10485761 bytes), exceeded max size (10485760 bytes)" {
		t.Errorf("size message %q", msg)
	}
	// mkdirs through a file.
	e.fail("POST", "/api/2.0/workspace/mkdirs", map[string]any{"path": d + "/g.txt/sub"}, 400, "RESOURCE_ALREADY_EXISTS")
	e.fail("POST", "/api/2.0/workspace/delete", map[string]any{"path": "/", "recursive": true}, 400, "INVALID_PARAMETER_VALUE")
}

// TestUploadMultipart drives workspace/import the way the SDK's
// Workspace.Upload does: a multipart form with path, format, language,
// overwrite and the content as a file part.
func TestUploadMultipart(t *testing.T) {
	e := newEnv(t, Options{})
	upload := func(p string, content string, fields map[string]string) (int, []byte) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		_ = w.WriteField("path", p)
		part, _ := w.CreateFormFile("content", "content")
		_, _ = part.Write([]byte(content))
		for k, v := range fields {
			_ = w.WriteField(k, v)
		}
		_ = w.Close()
		status, _, body := e.send("POST", "/api/2.0/workspace/import", map[string]string{"Content-Type": w.FormDataContentType()}, buf.Bytes())
		return status, body
	}
	if status, body := upload("/Shared/nb.py", "print(1)\n", map[string]string{"language": "PYTHON"}); status != 200 {
		t.Fatalf("upload %d %s", status, body)
	}
	if st := e.ok("GET", "/api/2.0/workspace/get-status?path=/Shared/nb.py", nil); st["object_type"] != "NOTEBOOK" {
		t.Errorf("uploaded %v", st)
	}
	// WriteFile: AUTO with overwrite.
	if status, body := upload("/Shared/data.csv", "a,b\n", map[string]string{"format": "AUTO", "overwrite": "true"}); status != 200 {
		t.Fatalf("write file %d %s", status, body)
	}
	if status, body := upload("/Shared/data.csv", "a,b\n", map[string]string{"format": "AUTO"}); status != 400 || !strings.Contains(string(body), "RESOURCE_ALREADY_EXISTS") {
		t.Errorf("again without overwrite %d %s", status, body)
	}
}

func TestWorkspacePersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	s1, err := New(Options{DataFile: path, SaveDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, s: s1}
	e.srv = newTestServer(t, s1)
	e.ok("POST", "/api/2.0/workspace/mkdirs", map[string]any{"path": "/Shared/a/b"})
	e.ok("POST", "/api/2.0/workspace/import", map[string]any{"path": "/Shared/a/b/n.ipynb", "format": "AUTO", "content": b64(`{"cells":[]}`)})
	before := e.ok("GET", "/api/2.0/workspace/list?path=/Shared/a/b", nil)
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := New(Options{DataFile: path})
	if err != nil {
		t.Fatal(err)
	}
	e2 := &testEnv{t: t, s: s2, srv: newTestServer(t, s2)}
	if after := e2.ok("GET", "/api/2.0/workspace/list?path=/Shared/a/b", nil); jsonOf(t, after) != jsonOf(t, before) {
		t.Errorf("after reload %v, before %v", after, before)
	}
	// New objects do not reuse ids.
	e2.ok("POST", "/api/2.0/workspace/mkdirs", map[string]any{"path": "/Shared/c"})
	ids := map[any]bool{}
	for _, p := range []string{"/Shared/a", "/Shared/a/b", "/Shared/a/b/n", "/Shared/c"} {
		ids[e2.ok("GET", "/api/2.0/workspace/get-status?path="+p, nil)["object_id"]] = true
	}
	if len(ids) != 4 {
		t.Errorf("object ids collide: %v", ids)
	}
}
