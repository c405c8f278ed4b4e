package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
)

// Tenancy: which workspace a request sees. By default every token sees the
// one shared workspace. With Options.Workspaces = WorkspacesPerToken each
// bearer token sees a workspace of its own (jobs, runs, permissions and
// files), created empty (with the seeded folders) on its first request, so
// that independent runs against one emulator, such as parallel CI jobs or
// benchmarks, never see each other's jobs. Tokens the emulator's OAuth
// endpoint issues share the workspace of their client id, so that a token
// refresh does not lose it. Requests without a token (Options.AllowAnonymous)
// use the shared workspace. The principal directory and the workspace id are
// the same for all of them: they are one account's workspaces.
//
// Each workspace numbers its jobs, runs and objects from the same first ids,
// as separate workspaces do; ids are unique within a workspace only.

// Workspaces modes (Options.Workspaces).
const (
	WorkspacesShared   = "shared"
	WorkspacesPerToken = "per-token"
)

func checkWorkspacesMode(m string) error {
	switch m {
	case "", WorkspacesShared, WorkspacesPerToken:
		return nil
	}
	return fmt.Errorf("emulator: workspaces mode %q: use %q or %q", m, WorkspacesShared, WorkspacesPerToken)
}

// tenantKey is how a tenancy key is stored: its SHA-256, so that neither
// the tenants map nor the --data file holds a token.
func tenantKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// storeFor is the workspace a request with the given tenancy key (see
// directory.authenticate) is served from.
func (s *Server) storeFor(key string) *store {
	if s.opts.Workspaces != WorkspacesPerToken || key == "" {
		return s.st
	}
	k := tenantKey(key)
	s.tenMu.Lock()
	defer s.tenMu.Unlock()
	st := s.tenants[k]
	if st == nil {
		st = newStore(s.opts.FirstJobID, s.opts.FirstRunID)
		s.seed(st)
		s.tenants[k] = st
	}
	return st
}

// tenantList returns the per-token workspaces by key.
func (s *Server) tenantList() ([]string, []*store) {
	s.tenMu.Lock()
	defer s.tenMu.Unlock()
	keys := make([]string, 0, len(s.tenants))
	for k := range s.tenants {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	stores := make([]*store, len(keys))
	for i, k := range keys {
		stores[i] = s.tenants[k]
	}
	return keys, stores
}

// Workspaces is the number of per-token workspaces created so far.
func (s *Server) Workspaces() int {
	s.tenMu.Lock()
	defer s.tenMu.Unlock()
	return len(s.tenants)
}
