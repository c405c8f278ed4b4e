package emulator

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCurlChecks is the checklist of issue 11 ("Done when"), made with
// plain net/http requests exactly as the curl commands of the README send
// them.
func TestCurlChecks(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	call := func(method, path, token, body string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	check := func(what string, ok bool, got ...any) {
		t.Helper()
		if !ok {
			t.Errorf("%s: %v", what, got)
		}
	}

	status, _, body := call("GET", "/.well-known/databricks-config", "", "")
	check("host metadata without a token", status == 200 && strings.Contains(body, `"workspace_id":"7474650000000001"`) && strings.Contains(body, `"oidc_endpoint":"`+srv.URL+`/oidc"`), status, body)

	status, hdr, body := call("GET", "/api/2.0/preview/scim/v2/Me", "dapi-any", "")
	check("/Me with the org id", status == 200 && hdr.Get("X-Databricks-Org-Id") == "7474650000000001" && strings.Contains(body, `"userName":"user@example.com"`), status, hdr, body)

	status, _, body = call("POST", "/api/2.0/workspace/mkdirs", "dapi-any", `{"path": "/Users/user@example.com/demo"}`)
	check("mkdirs", status == 200 && body == "{}", status, body)
	// "# Databricks notebook source\nprint(1)\n" in base64
	status, _, body = call("POST", "/api/2.0/workspace/import", "dapi-any", `{"path": "/Users/user@example.com/demo/hello.py", "format": "AUTO", "content": "IyBEYXRhYnJpY2tzIG5vdGVib29rIHNvdXJjZQpwcmludCgxKQo="}`)
	check("import", status == 200, status, body)
	status, _, body = call("GET", "/api/2.0/workspace/get-status?path=/Users/user@example.com/demo/hello", "dapi-any", "")
	check("get-status", status == 200 && strings.Contains(body, `"object_type":"NOTEBOOK"`) && strings.Contains(body, `"language":"PYTHON"`), status, body)
	status, _, body = call("GET", "/api/2.0/workspace/list?path=/Users/user@example.com/demo", "dapi-any", "")
	check("list", status == 200 && strings.Contains(body, `"path":"/Users/user@example.com/demo/hello"`), status, body)
	status, _, body = call("GET", "/api/2.0/workspace/export?path=/Users/user@example.com/demo/hello&format=SOURCE", "dapi-any", "")
	check("export", status == 200 && strings.Contains(body, `"content":"IyBEYXRhYnJpY2tzIG5vdGVib29rIHNvdXJjZQpwcmludCgxKQo="`), status, body)
	status, _, body = call("POST", "/api/2.0/workspace/import", "dapi-any", `{"path": "/Users/user@example.com/demo/hello.py", "format": "AUTO", "content": "IyBEYXRhYnJpY2tzIG5vdGVib29rIHNvdXJjZQpwcmludCgxKQo="}`)
	check("400 over an existing object without overwrite", status == 400 && strings.Contains(body, `"error_code":"RESOURCE_ALREADY_EXISTS"`), status, body)
	status, _, body = call("POST", "/api/2.0/workspace/delete", "dapi-any", `{"path": "/Users/user@example.com/demo", "recursive": true}`)
	check("delete", status == 200, status, body)
	status, _, body = call("GET", "/api/2.0/workspace/get-status?path=/Users/user@example.com/demo", "dapi-any", "")
	check("404 for a missing path", status == 404 && strings.Contains(body, `"error_code":"RESOURCE_DOES_NOT_EXIST"`), status, body)
}
