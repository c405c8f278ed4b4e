// Package emutest starts the Jobs API emulator on a loopback port, with a
// real jobsapi client of it (Start) or its URL for the CLI (Serve): how
// tests outside the client and the emulator get a workspace to talk to,
// unless they must stand between the two (the applier's and the
// reliability suite's fault gates).
//
// It is for tests only (it takes a testing.TB) and must not grow behaviour
// of its own: knobs belong to the emulator, options to the client.
package emutest

import (
	"net/http/httptest"
	"testing"

	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/jobsapi"
)

// Token is the credential the client sends. It is long and unusual so that
// the client's redaction of it from messages never eats real words.
const Token = "dapi-emutest-0123456789abcdef"

// Serve serves a new emulator with o on loopback and returns it with its
// URL, for tests that run the CLI against it. Both are closed when the test
// ends.
func Serve(t testing.TB, o emulator.Options) (*emulator.Server, string) {
	t.Helper()
	emu, err := emulator.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() { srv.Close(); _ = emu.Close() })
	return emu, srv.URL
}

// Start serves a new emulator with o and returns it with a client of it.
// Both are closed when the test ends.
func Start(t testing.TB, o emulator.Options, co jobsapi.Options) (*emulator.Server, *jobsapi.Client) {
	t.Helper()
	emu, url := Serve(t, o)
	c, err := jobsapi.New(jobsapi.Config{Host: url, Token: Token, AuthType: "pat"}, co)
	if err != nil {
		t.Fatal(err)
	}
	return emu, c
}
