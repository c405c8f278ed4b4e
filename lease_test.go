package main

import (
	"context"
	"strings"
	"testing"

	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/internal/emutest"
	"github.com/jobsync/jobsync/jobsapi"
)

// The workspace lease's folder: the target's root_path, or the current
// user's .jobsync/<scope>; a bundle's templated root_path falls back to the
// default, so that every command finds the lease in one place.
func TestLeaseRoot(t *testing.T) {
	_, c := emutest.Start(t, emulator.Options{User: "ci@example.com"}, jobsapi.Options{})
	for _, tt := range []struct{ root, want, err string }{
		{"", "/Workspace/Users/ci@example.com/.jobsync/shop/prod", ""},
		{"~/.state/shop", "/Workspace/Users/ci@example.com/.state/shop", ""},
		{"/Workspace/Shared/jobsync/shop/", "/Workspace/Shared/jobsync/shop", ""},
		{"/Workspace/Users/${workspace.current_user.userName}/jobsync", "/Workspace/Users/ci@example.com/jobsync", ""},
		{"/Workspace/Users/${workspace.current_user.userName}/.bundle/${bundle.name}/${bundle.target}", "/Workspace/Users/ci@example.com/.jobsync/shop/prod", ""},
		{"state/shop", "", "not an absolute workspace folder"},
	} {
		w := &workspace{client: c, project: "shop/prod", rootPath: tt.root}
		got, principal, err := leaseRoot(context.Background(), w)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: got %q, %v; want an error with %q", tt.root, got, err, tt.err)
			}
		case err != nil || got != tt.want || principal != "ci@example.com":
			t.Errorf("%q: got %q (%q), %v; want %q", tt.root, got, principal, err, tt.want)
		}
	}
}
