package jobsapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/jobsapi"
)

func TestWorkspaceFiles(t *testing.T) {
	e := newEnv(t, emulator.Options{}, jobsapi.Options{})
	ctx := context.Background()
	root := "/Workspace/Users/user@example.com/.jobsync"
	if err := e.c.Mkdirs(ctx, root+"/a/b"); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Mkdirs(ctx, root+"/a/b"); err != nil {
		t.Fatalf("mkdirs of an existing directory: %v", err)
	}
	src := []byte("# Databricks notebook source\nprint(1)\n")
	if err := e.c.Import(ctx, root+"/a/nb", src, jobsapi.ImportOptions{Format: jobsapi.FormatSource, Language: jobsapi.LanguagePython}); err != nil {
		t.Fatal(err)
	}
	err := e.c.Import(ctx, root+"/a/nb", src, jobsapi.ImportOptions{Language: jobsapi.LanguagePython})
	if !errors.Is(err, jobsapi.ErrAlreadyExists) || !jobsapi.IsAlreadyExists(err) || jobsapi.IsNotFound(err) {
		t.Errorf("import without overwrite over a notebook: %v", err)
	}
	if err := e.c.Import(ctx, root+"/a/nb", src, jobsapi.ImportOptions{Language: jobsapi.LanguagePython, Overwrite: true}); err != nil {
		t.Errorf("overwrite: %v", err)
	}
	st, err := e.c.GetStatus(ctx, root+"/a/nb")
	if err != nil || st.ObjectType != jobsapi.ObjectNotebook || st.Language != "PYTHON" || st.ReposExportFormat != "SOURCE" || st.ObjectID == 0 || st.Path != root+"/a/nb" {
		t.Errorf("get-status %+v %v", st, err)
	}
	if _, err := e.c.GetStatus(ctx, root+"/missing"); !errors.Is(err, jobsapi.ErrNotFound) || !jobsapi.IsNotFound(err) {
		t.Errorf("missing: %v", err)
	}
	got, err := e.c.Export(ctx, root+"/a/nb", "")
	if err != nil || !bytes.Equal(got, src) {
		t.Errorf("export %q %v", got, err)
	}

	// import-file: a missing parent, then the file, then a conflict.
	file := root + "/c/state.json"
	if err := e.c.ImportFile(ctx, file, []byte(`{"v":1}`), false); !errors.Is(err, jobsapi.ErrNotFound) {
		t.Errorf("missing parent: %v", err)
	}
	if err := e.c.Mkdirs(ctx, root+"/c"); err != nil {
		t.Fatal(err)
	}
	if err := e.c.ImportFile(ctx, file, []byte(`{"v":1}`), false); err != nil {
		t.Fatal(err)
	}
	if err := e.c.ImportFile(ctx, file, []byte(`{"v":2}`), false); !jobsapi.IsAlreadyExists(err) {
		t.Errorf("import-file over a file (409): %v", err)
	}
	if err := e.c.ImportFile(ctx, file, []byte(`{"v":2}`), true); err != nil {
		t.Fatal(err)
	}
	if got, err := e.c.Export(ctx, file, jobsapi.FormatAuto); err != nil || string(got) != `{"v":2}` {
		t.Errorf("read back %s %v", got, err)
	}
	if err := e.c.ImportFile(ctx, root+"/c/job.py", src, false); err != nil {
		t.Fatal(err)
	}
	if err := e.c.ImportFile(ctx, root+"/c/job.py", src, false); !jobsapi.IsAlreadyExists(err) {
		t.Errorf("import-file over a notebook (400, no error_code): %v", err)
	}
	objs, err := e.c.ListObjects(ctx, root+"/c")
	if err != nil || len(objs) != 2 || objs[0].Path != root+"/c/job" || objs[0].ObjectType != jobsapi.ObjectNotebook ||
		objs[1].Path != file || objs[1].Size != 7 || objs[1].ModifiedAt == 0 || objs[1].IsDir() {
		t.Errorf("list %+v %v", objs, err)
	}
	if objs, err := e.c.ListObjects(ctx, file); err != nil || len(objs) != 1 || objs[0].Path != file {
		t.Errorf("list of a file %+v %v", objs, err)
	}
	if err := e.c.Mkdirs(ctx, file+"/sub"); !jobsapi.IsAlreadyExists(err) {
		t.Errorf("mkdirs through a file: %v", err)
	}
	if err := e.c.DeleteObject(ctx, root, false); !errors.Is(err, jobsapi.ErrDirectoryNotEmpty) {
		t.Errorf("delete of a non-empty directory: %v", err)
	}
	if err := e.c.DeleteObject(ctx, root, true); err != nil {
		t.Fatal(err)
	}
	if err := e.c.DeleteObject(ctx, root, true); !jobsapi.IsNotFound(err) {
		t.Errorf("second delete: %v", err)
	}
	if err := e.c.Mkdirs(ctx, "relative/path"); err == nil || !strings.Contains(err.Error(), "not absolute") {
		t.Errorf("relative path: %v", err)
	}
	if err := e.c.Import(ctx, "/Shared/big", make([]byte, jobsapi.MaxImportBytes+1), jobsapi.ImportOptions{Format: jobsapi.FormatRaw}); err == nil {
		t.Error("an import beyond the limit was sent")
	}

	// Request shapes: import-file carries the bytes, path-escaped in the URL.
	r := e.seen.to("POST", "/c/job.py")
	if len(r) != 2 || string(r[0].Body) != string(src) || r[0].Query != "overwrite=false" {
		t.Errorf("import-file requests %+v", r)
	}
	if ct := e.seen.ctypes["POST /api/2.0/workspace-files/import-file"+strings.TrimPrefix(root, "")+"/c/job.py"]; ct != "application/octet-stream" {
		t.Errorf("import-file content type %q", ct)
	}
}

// TestWorkspaceRetries pins what a lost answer does to each write: writes
// that leave the same state when repeated are retried; a create without
// overwrite is not, and says that it may have happened.
func TestWorkspaceRetries(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, emulator.Options{}, jobsapi.Options{})
	// 503 and 429: not taken, retried for every write.
	e.emu.InjectFault(emulator.Fault{Endpoint: "workspace/import", Status: 503})
	e.emu.InjectFault(emulator.Fault{Endpoint: "workspace-files/import-file", Status: 429, RetryAfter: 1, Count: 1})
	if err := e.c.Import(ctx, "/Shared/a.txt", []byte("a"), jobsapi.ImportOptions{Format: jobsapi.FormatRaw}); err != nil {
		t.Errorf("after a 503: %v", err)
	}
	e.emu.InjectFault(emulator.Fault{Endpoint: "workspace-files/import-file", Status: 503})
	if err := e.c.ImportFile(ctx, "/Shared/b.txt", []byte("b"), false); err != nil {
		t.Errorf("after a 503: %v", err)
	}

	// Without overwrite and the answer lost after the write: not repeated.
	for _, f := range []emulator.Fault{
		{Endpoint: "workspace/import", DropAfterCommit: true},
		{Endpoint: "workspace/import", Status: 504},
		{Endpoint: "workspace/import", Status: 500},
	} {
		e.seen.reset()
		e.emu.InjectFault(f)
		err := e.c.Import(ctx, "/Shared/lease", []byte("holder-1"), jobsapi.ImportOptions{Format: jobsapi.FormatRaw})
		if !errors.Is(err, jobsapi.ErrMaybeCommitted) {
			t.Errorf("%+v: %v", f, err)
		}
		if n := len(e.seen.to("POST", "/workspace/import")); n != 1 {
			t.Errorf("%+v: sent %d times", f, n)
		}
		// The caller reads back to learn whether its create landed.
		got, gerr := e.c.Export(ctx, "/Shared/lease", jobsapi.FormatAuto)
		if f.DropAfterCommit && (gerr != nil || string(got) != "holder-1") {
			t.Errorf("the committed create is readable: %q %v", got, gerr)
		}
		if !f.DropAfterCommit && !jobsapi.IsNotFound(gerr) {
			t.Errorf("%+v: nothing was written, got %q %v", f, got, gerr)
		}
		_ = e.c.DeleteObject(ctx, "/Shared/lease", false)
	}
	e.seen.reset()
	e.emu.InjectFault(emulator.Fault{Endpoint: "workspace-files/import-file", DropBeforeCommit: true})
	if err := e.c.ImportFile(ctx, "/Shared/lease2", []byte("x"), false); !errors.Is(err, jobsapi.ErrMaybeCommitted) {
		t.Errorf("import-file, connection dropped: %v", err)
	}
	if _, err := e.c.GetStatus(ctx, "/Shared/lease2"); !jobsapi.IsNotFound(err) {
		t.Errorf("a dropped request before commit left %v", err)
	}

	// With overwrite: retried, and done once.
	e.seen.reset()
	e.emu.InjectFault(emulator.Fault{Endpoint: "workspace-files/import-file", DropAfterCommit: true})
	if err := e.c.ImportFile(ctx, "/Shared/c.txt", []byte("c"), true); err != nil {
		t.Errorf("import-file with overwrite after a dropped answer: %v", err)
	}
	if n := len(e.seen.to("POST", "/Shared/c.txt")); n != 2 {
		t.Errorf("sent %d times, want 2", n)
	}
	e.emu.InjectFault(emulator.Fault{Endpoint: "workspace/mkdirs", DropAfterCommit: true})
	if err := e.c.Mkdirs(ctx, "/Shared/d/e"); err != nil {
		t.Errorf("mkdirs after a dropped answer: %v", err)
	}
	// A delete whose answer was lost and whose retry finds nothing is done.
	e.emu.InjectFault(emulator.Fault{Endpoint: "workspace/delete", DropAfterCommit: true})
	if err := e.c.DeleteObject(ctx, "/Shared/d", true); err != nil {
		t.Errorf("delete after a dropped answer: %v", err)
	}
	if _, err := e.c.GetStatus(ctx, "/Shared/d"); !jobsapi.IsNotFound(err) {
		t.Errorf("deleted: %v", err)
	}
	// 500 on a read is retried.
	e.emu.InjectFault(emulator.Fault{Endpoint: "workspace/get-status", Status: 500})
	if _, err := e.c.GetStatus(ctx, "/Shared/c.txt"); err != nil {
		t.Errorf("get-status after a 500: %v", err)
	}
}

func TestMe(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, emulator.Options{User: "jane@example.com", WorkspaceID: 1234567890123456}, jobsapi.Options{})
	me, err := e.c.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if me.UserName != "jane@example.com" || me.WorkspaceID != 1234567890123456 || strings.Join(me.Groups, ",") != "admins,users" || me.ID == "" {
		t.Errorf("me %+v", me)
	}
	if r := e.seen.to("GET", "/scim/v2/Me"); len(r) != 1 || r[0].Query != "excludedAttributes=entitlements" {
		t.Errorf("request %+v", r)
	}
	// A token mapped to another user.
	var d emulator.Directory
	if err := d.AddPrincipal("user:bob@example.com:data-eng"); err != nil {
		t.Fatal(err)
	}
	if err := d.AddToken(testToken + "=bob@example.com"); err != nil {
		t.Fatal(err)
	}
	e2 := newEnv(t, emulator.Options{Directory: d}, jobsapi.Options{})
	if me, err := e2.c.Me(ctx); err != nil || me.UserName != "bob@example.com" || strings.Join(me.Groups, ",") != "data-eng,users" {
		t.Errorf("mapped token: %+v %v", me, err)
	}
}

// TestOAuthM2MIsTheServicePrincipal: with OAuth M2M against the emulator,
// the client is the service principal of its client id: /Me says so and
// the jobs it creates are owned by it.
func TestOAuthM2MIsTheServicePrincipal(t *testing.T) {
	ctx := context.Background()
	emu, err := emulator.New(emulator.Options{Directory: emulator.Directory{
		ServicePrincipals: []emulator.ServicePrincipal{{ApplicationID: "6f1c2a3b-0000-4000-8000-0000000000aa", DisplayName: "deployer", Secret: "dose-0123456789"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(emu)
	defer hs.Close()
	c, err := jobsapi.New(jobsapi.Config{Host: hs.URL, ClientID: "6f1c2a3b-0000-4000-8000-0000000000aa", ClientSecret: "dose-0123456789"}, jobsapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	me, err := c.Me(ctx)
	if err != nil || me.UserName != "6f1c2a3b-0000-4000-8000-0000000000aa" || me.DisplayName != "deployer" {
		t.Fatalf("me %+v %v", me, err)
	}
	id, err := c.CreateJob(ctx, json.RawMessage(`{"name":"m2m"}`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.GetPermissions(ctx, id)
	if err != nil || p.AccessControlList[0].ServicePrincipalName != me.UserName || p.AccessControlList[0].AllPermissions[0].PermissionLevel != "IS_OWNER" {
		t.Errorf("owner %+v %v", p, err)
	}
	// A wrong secret is refused at the token endpoint.
	bad, err := jobsapi.New(jobsapi.Config{Host: hs.URL, ClientID: "6f1c2a3b-0000-4000-8000-0000000000aa", ClientSecret: "wrong"}, jobsapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Me(ctx); err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("wrong secret: %v", err)
	}
}
