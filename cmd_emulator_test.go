package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jobsync/jobsync/emulator"
)

// syncBuffer is a bytes.Buffer safe for the emulator goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestEmulatorCommandServesAndSaves(t *testing.T) {
	data := filepath.Join(t.TempDir(), "state.json")
	var out syncBuffer
	e := &env{stdio: stdio{in: strings.NewReader(""), out: &out, err: &out}, getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		s := emulator.Standalone{Options: emulator.Options{DataFile: data, User: "me@example.com", OnRequest: printRequests(&out)}, Addr: "127.0.0.1:0"}
		done <- runEmulator(ctx, e, s, func(u string) { urls <- u })
	}()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		t.Fatalf("emulator stopped: %v\n%s", err, out.String())
	}
	req, _ := http.NewRequest("POST", url+"/api/2.2/jobs/create", strings.NewReader(`{"name": "kept"}`))
	req.Header.Set("Authorization", "Bearer anything")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"job_id"`) {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"serving an emulated Databricks workspace on " + url, "DATABRICKS_HOST=" + url, "curl", "Stopped; state saved to " + data,
		"emulator: POST /api/2.2/jobs/create -> 200 (16 bytes in)"} { // --log-requests
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	saved, err := os.ReadFile(data)
	if err != nil || !strings.Contains(string(saved), `"kept"`) || !strings.Contains(string(saved), `me@example.com`) {
		t.Errorf("state file: %v %s", err, saved)
	}
}

func TestEmulatorCommandFlags(t *testing.T) {
	at := func(addr string) emulator.Standalone { return emulator.Standalone{Addr: addr} }
	for _, c := range []struct {
		s    emulator.Standalone
		want string
	}{
		{at("0.0.0.0:8089"), "not a loopback address"},
		{at(":8089"), "not a loopback address"},
		{at("10.1.2.3:80"), "--allow-remote"},
		{at("8089"), "not HOST:PORT"},
		{emulator.Standalone{Addr: "127.0.0.1:1", FailRate: 2}, "--fail-rate"},
		{emulator.Standalone{Addr: "127.0.0.1:1", RateLimit: -1}, "--rate-limit"},
		{emulator.Standalone{Addr: "127.0.0.1:1", Options: emulator.Options{Latency: -1}}, "--latency"},
	} {
		err := c.s.Check()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.s, err, c.want)
		}
	}
	for _, ok := range []emulator.Standalone{at("127.0.0.1:8089"), at("localhost:0"), at("[::1]:8089"), {Addr: "0.0.0.0:8089", AllowRemote: true}} {
		if err := ok.Check(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
	var out bytes.Buffer
	code := run(context.Background(), []string{"jobsync", "emulator", "--addr", "0.0.0.0:9"}, stdio{strings.NewReader(""), &out, &out}, func(string) string { return "" })
	if code != exitError || !strings.Contains(out.String(), "loopback") {
		t.Errorf("exit %d: %s", code, out.String())
	}
	out.Reset()
	code = run(context.Background(), []string{"jobsync", "emulator", "--without", "sorted-tasks,no-such"}, stdio{strings.NewReader(""), &out, &out}, func(string) string { return "" })
	if code != exitError || !strings.Contains(out.String(), `unknown emulator behaviour "no-such"`) || !strings.Contains(out.String(), "sorted-tasks") {
		t.Errorf("--without with an unknown name: exit %d: %s", code, out.String())
	}
}

func TestEmulatorDirectoryFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "principals.json")
	if err := os.WriteFile(file, []byte(`{"service_principals": [{"applicationId": "ci-app", "displayName": "CI"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := emulator.DirectoryOf(file, []string{"user:ann@example.com:data-eng", "group:ops"}, []string{"ann-token=ann@example.com", "ci-token=ci-app"})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Users) != 1 || len(d.Groups) != 1 || len(d.ServicePrincipals) != 1 || d.Tokens["ci-token"] != "ci-app" {
		t.Errorf("directory %+v", d)
	}
	for _, c := range []struct {
		principals, tokens []string
		want               string
	}{
		{[]string{"ann"}, nil, "--principal"},
		{nil, []string{"no-equals"}, "--token"},
	} {
		if _, err := emulator.DirectoryOf("", c.principals, c.tokens); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: %v", c.principals, c.tokens, err)
		}
	}
	if _, err := emulator.DirectoryOf(filepath.Join(t.TempDir(), "missing.json"), nil, nil); err == nil {
		t.Error("a missing --principals file is not an error")
	}
}
