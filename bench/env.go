package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/jobsync/jobsync/applier"
	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/refresh"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// Project is the ownership scope of every benchmark job.
const Project = "bench"

// Token is the personal access token the benchmark clients send. It is
// not a secret; the reliability suite greps outputs for its own token.
const Token = "dapi-bench-token"

// Env is one emulated workspace served over loopback HTTP, a client of it
// and a lockfile path: everything a plan or an apply needs.
type Env struct {
	Emu      *emulator.Server
	Client   *jobsapi.Client
	Host     string // http://127.0.0.1:PORT
	LockPath string
	srv      *http.Server
	ln       net.Listener
}

// EnvOptions tune NewEnv.
type EnvOptions struct {
	// Dir holds the lockfile (required).
	Dir string
	// Client options; Parallelism defaults to 16.
	Client jobsapi.Options
	// Emulator options; JobQuota and CreatesPerHour default to unlimited
	// (the real service's 10,000 would cap the 10,000-job workload).
	Emulator emulator.Options
}

// NewEnv starts an emulator on a loopback port and a client of it. Close it.
func NewEnv(o EnvOptions) (*Env, error) {
	eo := o.Emulator
	if eo.JobQuota == 0 {
		eo.JobQuota = -1
	}
	if eo.CreatesPerHour == 0 {
		eo.CreatesPerHour = -1
	}
	emu, err := emulator.New(eo)
	if err != nil {
		return nil, fmt.Errorf("starting the emulator: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	host := "http://" + ln.Addr().String()
	co := o.Client
	if co.Parallelism == 0 {
		co.Parallelism = 16
	}
	c, err := jobsapi.New(jobsapi.Config{Host: host, Token: Token, AuthType: jobsapi.AuthTypePAT}, co)
	if err != nil {
		srv.Close()
		return nil, err
	}
	return &Env{Emu: emu, Client: c, Host: host, LockPath: filepath.Join(o.Dir, "jobsync.lock.json"), srv: srv, ln: ln}, nil
}

// Close stops the server.
func (e *Env) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := e.srv.Shutdown(ctx)
	return errors.Join(err, e.Emu.Close())
}

// Input is the planner input for desired against the lockfile lock.
func (e *Env) Input(desired []*schema.Job, lock *state.File, prune bool) planner.Input {
	return planner.Input{
		Desired:   desired,
		Lock:      lock,
		Project:   Project,
		Workspace: e.Client.Host(),
		Prune:     prune,
		Now:       time.Unix(1_700_000_000, 0).UTC(),
	}
}

// Plan reads the lockfile and plans desired against the workspace, as
// `jobsync plan` does (minus YAML loading and rendering).
func (e *Env) Plan(ctx context.Context, desired []*schema.Job, prune bool) (*planner.Plan, []planner.Live, error) {
	st, err := state.Open(ctx, e.LockPath)
	if err != nil {
		return nil, nil, err
	}
	return refresh.Plan(ctx, e.Client, e.Input(desired, st.File(), prune), refresh.Options{Strategy: refresh.Auto, Parallelism: 16})
}

// Apply applies p with the lockfile at LockPath, as `jobsync apply` does.
func (e *Env) Apply(ctx context.Context, p *planner.Plan, o applier.Options) (*applier.Result, error) {
	unlock, err := state.Lock(ctx, e.LockPath, 0)
	if err != nil {
		return nil, err
	}
	defer unlock()
	st, err := state.Open(ctx, e.LockPath)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if st.File() == nil {
		st.Init(e.Client.Host(), Project)
	}
	if o.Parallelism == 0 {
		o.Parallelism = applier.DefaultParallelism
	}
	return applier.Apply(ctx, p, e.Client, st, o)
}

// Converge plans and applies until the plan is empty, at most rounds times,
// and returns the number of applies that were needed.
func (e *Env) Converge(ctx context.Context, desired []*schema.Job, prune bool, rounds int) (int, error) {
	for i := 0; i < rounds; i++ {
		p, _, err := e.Plan(ctx, desired, prune)
		if err != nil {
			return i, err
		}
		if p.Empty() && len(p.Records) == 0 {
			return i, nil
		}
		res, err := e.Apply(ctx, p, applier.Options{})
		if err != nil && res == nil {
			return i, err
		}
	}
	p, _, err := e.Plan(ctx, desired, prune)
	if err != nil {
		return rounds, err
	}
	if !p.Empty() {
		return rounds, fmt.Errorf("not converged after %d applies: %v", rounds, p.Counts())
	}
	return rounds, nil
}
