package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// Directory of the in-process emulator's state, in the project directory.
// It never holds a real workspace's lockfile, so trying jobsync out cannot
// damage real state.
const emulatorDir = ".jobsync"

// emulatorWorkspace is the workspace name recorded in lockfiles made against
// the built-in emulator (its port changes from run to run).
const emulatorWorkspace = "https://emulator"

// workspaceFlags are the flags of every command that talks to a workspace.
func workspaceFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "host", Usage: "workspace `URL` (default $DATABRICKS_HOST or the profile's host)"},
		&cli.StringFlag{Name: "profile", Usage: "`NAME` of a profile in ~/.databrickscfg (default $DATABRICKS_CONFIG_PROFILE, then DEFAULT)"},
		&cli.BoolFlag{Name: "emulator", Usage: "use the built-in Jobs API emulator (state under " + emulatorDir + "/ in the project directory) instead of a workspace"},
		&cli.StringFlag{Name: "lockfile", Usage: "`FILE`: the lockfile (default: the target's; else jobsync.lock.json in the project directory, in " + emulatorDir + "/ with --emulator)"},
		&cli.StringFlag{Name: "project", Usage: "ownership scope `NAME` written into every managed job's jobsync tag (default $JOBSYNC_PROJECT, then project: of jobsync.yaml, then \"default\"; a target adds /TARGET)"},
		&cli.IntFlag{Name: "parallelism", Value: 16, Usage: "maximum concurrent API requests"},
		&cli.BoolFlag{Name: "debug", Usage: "log every API request to stderr (secrets redacted)"},
		&cli.DurationFlag{Name: "timeout", Usage: "stop the command when it has not finished within this time, e.g. 10m (default: no limit; a failing API call is retried for at most 5m, or this if shorter)"},
	}, projectFlags()...)
}

// defaultRetryBudget is the client's retry budget per call (jobsapi's
// default), which --timeout shortens.
const defaultRetryBudget = 5 * time.Minute

// timeoutError is the cause of a command's context ending at --timeout.
type timeoutError struct{ d time.Duration }

func (e timeoutError) Error() string { return fmt.Sprintf("--timeout %s ran out", e.d) }
func (e timeoutError) Unwrap() error { return context.DeadlineExceeded }

// withTimeouts makes --timeout the deadline of every command that has the
// flag: its context ends when the time is up (with timeoutError as the
// cause that errors name), so retries, waits and requests stop.
func withTimeouts(cmds []*cli.Command) []*cli.Command {
	for _, cmd := range cmds {
		withTimeouts(cmd.Subcommands)
		if !slices.ContainsFunc(cmd.Flags, func(f cli.Flag) bool { return slices.Contains(f.Names(), "timeout") }) {
			continue
		}
		before, after := cmd.Before, cmd.After
		var cancel context.CancelFunc
		cmd.Before = func(c *cli.Context) error {
			if d := c.Duration("timeout"); d > 0 {
				c.Context, cancel = context.WithTimeoutCause(c.Context, d, timeoutError{d})
			} else if d < 0 {
				return usageError("--timeout must not be negative")
			}
			if before != nil {
				return before(c)
			}
			return nil
		}
		cmd.After = func(c *cli.Context) error {
			var err error
			if after != nil {
				err = after(c)
			}
			if cancel != nil {
				cancel()
			}
			return err
		}
	}
	return cmds
}

// workspace is an open connection to a workspace (or the emulator) plus
// where its lockfile lives.
type workspace struct {
	client   *jobsapi.Client
	name     string // normalised host, or "emulator"
	lockPath string
	project  string
	// rootPath is the target's workspace.root_path as written, "" for the
	// default (see leaseRoot).
	rootPath string
	closeFn  func() error
}

func (w *workspace) Close() error {
	if w.closeFn == nil {
		return nil
	}
	return w.closeFn()
}

func openWorkspace(ctx context.Context, c *cli.Context, e *env) (*workspace, error) {
	// The project file's target names the workspace and the lockfile,
	// unless flags say otherwise.
	proj, err := resolveProject(c, e, "text")
	if err != nil {
		return nil, err
	}
	sel := proj.sel
	project := projectName(c, e, sel)
	host, profile := c.String("host"), c.String("profile")
	if sel != nil && sel.Target != nil && host == "" && profile == "" && !c.Bool("emulator") {
		host, profile = sel.Target.Host, sel.Target.Profile
		// The bundle CLI's rule too, and a surprise for whoever exported
		// DATABRICKS_HOST (the emulator's address, say): say which won.
		if env := e.getenv("DATABRICKS_HOST"); host != "" && env != "" && strings.TrimRight(env, "/") != strings.TrimRight(host, "/") {
			fmt.Fprintf(e.err, "Note: target %s of %s names the workspace %s, which is used instead of DATABRICKS_HOST=%s; pass --host to choose another.\n", sel.Target.Name, sel.Project.File, host, env)
		}
	}
	lockPath := lockfileOf(c, proj)
	rootPath := ""
	if sel != nil && sel.Target != nil {
		rootPath = sel.Target.RootPath
	}
	opts := jobsapi.Options{
		Parallelism: c.Int("parallelism"),
		UserAgent:   "jobsync/" + version,
		// A workspace (or a proxy in front of it) that keeps failing is
		// retried for minutes; say so instead of going quiet.
		Retrying: func(n jobsapi.RetryNotice) {
			hint := " (--timeout limits the wait)"
			if c.Duration("timeout") > 0 {
				hint = ""
			}
			fmt.Fprintf(e.err, "Still trying: %s%s\n", n, hint)
		},
	}
	if d := c.Duration("timeout"); d > 0 && d < defaultRetryBudget {
		opts.RetryTimeout = d
	}
	if c.Bool("debug") {
		opts.Debug = e.err
	}
	if c.Bool("emulator") {
		if c.String("host") != "" || c.String("profile") != "" {
			return nil, usageError("--emulator cannot be combined with --host or --profile")
		}
		w, err := openEmulator(ctx, e.getenv, proj.emulatorDir(), project, lockPath, opts)
		if err != nil {
			return nil, err
		}
		w.client.AddSecrets(sel.SecretValues()...)
		w.rootPath = rootPath
		return w, nil
	}
	cfg, err := jobsapi.ResolveConfig(e.getenv, jobsapi.ConfigFlags{Host: host, Profile: profile})
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(e.err, "Warning: "+w)
	}
	client, err := jobsapi.New(cfg, opts)
	if err != nil {
		return nil, err
	}
	// Requests carry the values of sensitive variables; a server that
	// echoes them in an error must not make them appear.
	client.AddSecrets(sel.SecretValues()...)
	return &workspace{client: client, name: client.Host(), lockPath: lockPath, project: project, rootPath: rootPath}, nil
}

// openEmulator serves the emulator in-process on a loopback port, so that
// the real client, with its retries and paging, is what talks to it.
func openEmulator(ctx context.Context, getenv func(string) string, dir, project, lockPath string, opts jobsapi.Options) (*workspace, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	// The real service reorders depends_on and tasks on read (jobs-api.md §12.8);
	// so does the emulator here, so that order-sensitivity cannot hide.
	eo := emulator.Options{DataFile: filepath.Join(dir, "emulator.json"), ReorderReads: true}
	// The emulated workspace knows the principals the project lists in
	// jobsync.principals.json (emulator.Directory JSON, as `jobsync emulator
	// --principals`), and refuses grants to any other, as a workspace does.
	d, err := emulatorPrincipals(filepath.Dir(dir))
	if err != nil {
		return nil, err
	}
	eo.Directory = d
	// JOBSYNC_EMULATOR_RUN_TIME shortens (or lengthens) how long emulated
	// runs take, for tests and demos: a quarter pending, the rest running.
	if s := getenv("JOBSYNC_EMULATOR_RUN_TIME"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("JOBSYNC_EMULATOR_RUN_TIME=%q is not a positive duration such as 2s", s)
		}
		eo.RunPending, eo.RunRunning = d/4, d-d/4
	}
	srv, err := emulator.New(eo)
	if err != nil {
		return nil, fmt.Errorf("starting the emulator: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the emulator: %w", err)
	}
	hs := srv.HTTPServer()
	go func() { _ = hs.Serve(ln) }()
	client, err := jobsapi.New(jobsapi.Config{Host: "http://" + ln.Addr().String(), Token: "dapi-jobsync-emulator-local", AuthType: "pat"}, opts)
	if err != nil {
		hs.Close()
		return nil, err
	}
	return &workspace{
		client:   client,
		name:     emulatorWorkspace,
		lockPath: lockPath,
		project:  project,
		closeFn: func() error {
			// Every request of the command has been answered by now.
			// Shutdown would wait up to 5 s for a connection the client
			// dialled but never used (net/http counts a new connection
			// as active for its first 5 s), which parallel reads leave
			// behind now and then: close them all at once.
			_ = hs.Close()
			return srv.Close()
		},
	}, nil
}

// openLocked opens the workspace and its lockfile under the exclusive lock
// that keeps two writers apart. Closing the workspace releases the lock,
// after the emulator (if any) has saved its state.
func openLocked(ctx context.Context, c *cli.Context, e *env) (*workspace, *state.Store, error) {
	w, err := openWorkspace(ctx, c, e)
	if err != nil {
		return nil, nil, err
	}
	unlock, err := state.Lock(ctx, w.lockPath, c.Duration("lock-timeout"))
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	closeWorkspace := w.closeFn
	w.closeFn = func() error {
		var err error
		if closeWorkspace != nil {
			err = closeWorkspace()
		}
		return errors.Join(err, unlock())
	}
	st, err := openState(ctx, w)
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	// The commands that write to the workspace define --lock: they also
	// take the workspace lease, and do the rest of their work under its
	// context (c.Context, which they all use from here on), which ends if
	// the lease is lost.
	if c.Bool("lock") {
		lctx, err := takeLease(ctx, c, e, w, st)
		if err != nil {
			w.Close()
			return nil, nil, err
		}
		c.Context = lctx
	}
	return w, st, nil
}

// openState opens the lockfile and refuses one made against another
// workspace or project.
func openState(ctx context.Context, w *workspace) (*state.Store, error) {
	st, err := state.Open(ctx, w.lockPath)
	if err != nil {
		return nil, err
	}
	if f := st.File(); f != nil {
		if err := f.CheckWorkspace(w.name); err != nil {
			return nil, fmt.Errorf("%s: %w", w.lockPath, err)
		}
		if err := f.CheckProject(w.project); err != nil {
			return nil, fmt.Errorf("%s: %w", w.lockPath, err)
		}
	}
	return st, nil
}

// savedPlanArg is apply's argument read as a saved plan, when it is one: a
// single regular file whose content is a plan document (planner.IsPlan),
// whatever it is called. Anything else is nil: the arguments are YAML
// paths.
func savedPlanArg(args []string) (*planner.Plan, error) {
	if len(args) != 1 {
		return nil, nil
	}
	if fi, err := os.Stat(args[0]); err != nil || !fi.Mode().IsRegular() {
		return nil, nil
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		return nil, err
	}
	if !planner.IsPlan(data) {
		return nil, nil
	}
	p, err := planner.ReadPlan(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", args[0], err)
	}
	return p, nil
}

// workspaceFlagNames are the flags that choose the workspace, the lockfile
// and the ownership scope: what `apply PLANFILE` needs again to reach the
// same ones.
var workspaceFlagNames = []string{"project-dir", "emulator", "host", "profile", "lockfile", "project"}

// applyCommandLine is the command that applies the plan saved at path with
// the workspace, lockfile and project this command used: its workspace
// flags as given, and the target it selected (from --target,
// JOBSYNC_TARGET or the project file's default alike).
func applyCommandLine(c *cli.Context, sel *schema.Selection, path string) string {
	words := []string{"jobsync", "apply"}
	for _, name := range workspaceFlagNames {
		if !c.IsSet(name) {
			continue
		}
		if _, isBool := flagOf(c, name).(*cli.BoolFlag); isBool {
			words = append(words, "--"+name)
			continue
		}
		words = append(words, "--"+name, shellQuote(c.String(name)))
	}
	if sel != nil && sel.Target != nil {
		words = append(words, "--target", shellQuote(sel.Target.Name))
	}
	return strings.Join(append(words, shellQuote(path)), " ")
}

func flagOf(c *cli.Context, name string) cli.Flag {
	for _, f := range c.Command.Flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// lockfileFlags locate a lockfile without connecting to a workspace.
func lockfileFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "lockfile", Usage: "`FILE`: the lockfile (default: the target's; else jobsync.lock.json in the project directory, in " + emulatorDir + "/ with --emulator)"},
		&cli.BoolFlag{Name: "emulator", Usage: "use the built-in emulator's lockfile"},
	}, projectFlags()...)
}

// lockfilePath is the lockfile the other commands would use (lockfileOf).
func lockfilePath(c *cli.Context, e *env) (string, error) {
	if p := c.String("lockfile"); p != "" {
		return p, nil
	}
	proj, err := resolveProject(c, e, "text")
	if err != nil {
		return "", err
	}
	return lockfileOf(c, proj), nil
}

func readLockfile(c *cli.Context, e *env) (*state.File, error) {
	path, err := lockfilePath(c, e)
	if err != nil {
		return nil, err
	}
	st, err := state.Open(c.Context, path)
	if err != nil {
		return nil, err
	}
	if st.File() == nil {
		return nil, fmt.Errorf("no lockfile at %s: run jobsync apply first, or pass --lockfile", path)
	}
	return st.File(), nil
}

// principalsFile is the project file of principals the in-process emulator
// knows.
const principalsFile = "jobsync.principals.json"

// emulatorPrincipals reads projectDir/jobsync.principals.json, or returns an
// empty directory (the emulator's own user only) when there is none.
func emulatorPrincipals(projectDir string) (emulator.Directory, error) {
	path := filepath.Join(projectDir, principalsFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return emulator.Directory{}, nil
	}
	return emulator.ReadDirectory(path)
}

// emulatorPrincipalsHint adds to the built-in emulator's refusal of unknown
// principals where it learns them, and the entries that would add them;
// any other error it returns as it is.
func emulatorPrincipalsHint(c *cli.Context, e *env, err error) error {
	var up *planner.UnknownPrincipals
	if !c.Bool("emulator") || !errors.As(err, &up) {
		return err
	}
	dir := "."
	if proj, err := resolveProject(c, e, "text"); err == nil {
		dir = filepath.Dir(proj.emulatorDir())
	}
	var d emulator.Directory
	seen := map[string]bool{}
	for _, u := range up.Uses {
		if seen[u.Kind+"="+u.Name] {
			continue
		}
		seen[u.Kind+"="+u.Name] = true
		switch u.Kind {
		case "user_name":
			d.Users = append(d.Users, emulator.User{UserName: u.Name})
		case "group_name":
			d.Groups = append(d.Groups, emulator.Group{DisplayName: u.Name})
		case "service_principal_name":
			d.ServicePrincipals = append(d.ServicePrincipals, emulator.ServicePrincipal{ApplicationID: u.Name})
		}
	}
	js, _ := json.Marshal(d)
	return fmt.Errorf("%w\n(--emulator: the emulated workspace knows the principals listed in %s; to add these, merge into it: %s)", up, filepath.Join(dir, principalsFile), js)
}
