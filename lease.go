package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/lease"
	"github.com/jobsync/jobsync/state"
)

// lockFlags are the flags of the commands that write (apply, destroy,
// import, state rm): the wait for the local lock and the workspace lease,
// and the switch for the lease.
func lockFlags() []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{Name: "lock-timeout", Usage: "wait this long for another run to let go of the lockfile's lock and of the workspace lease (0: fail at once)"},
		&cli.BoolFlag{Name: "lock", Value: true, Usage: "take the workspace lease (<root_path>/state/jobsync.lock), so that two runs never write to the workspace at once; " +
			"--lock=false goes without, for workspaces where this identity cannot write workspace files"},
	}
}

// takeLease takes the workspace lease for a command that writes, unless
// --lock=false, and adds its release to w.Close (before the emulator, if
// any, stops serving). The command must do its work under the returned
// context: it ends if the lease is lost.
func takeLease(ctx context.Context, c *cli.Context, e *env, w *workspace, st *state.Store) (context.Context, error) {
	if !c.Bool("lock") {
		return ctx, nil
	}
	ttl := time.Duration(0)
	// JOBSYNC_LEASE_TTL shortens the lease, for tests of crashed holders.
	if s := e.getenv("JOBSYNC_LEASE_TTL"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Second {
			return nil, fmt.Errorf("JOBSYNC_LEASE_TTL=%q is not a duration of at least 1s", s)
		}
		ttl = d
	}
	root, principal, err := leaseRoot(ctx, w)
	if err != nil {
		return nil, err
	}
	lineage := ""
	if f := st.File(); f != nil {
		lineage = f.Lineage
	}
	lctx, l, err := lease.Acquire(ctx, w.client, lease.Options{
		Path: lease.Path(root), TTL: ttl, Wait: c.Duration("lock-timeout"),
		Holder: lease.Holder{Principal: principal, Command: "jobsync " + c.Command.FullName(), Scope: w.project, Lineage: lineage},
		Notice: func(s string) { fmt.Fprintln(e.err, s) },
	})
	if err != nil {
		return nil, err
	}
	closeRest := w.closeFn
	w.closeFn = func() error {
		if err := l.Release(ctx); err != nil {
			fmt.Fprintln(e.err, "Warning:", err)
		}
		if closeRest != nil {
			return closeRest()
		}
		return nil
	}
	return lctx, nil
}

// leaseRoot is the root_path of the workspace lease: the target's
// workspace.root_path, by default /Workspace/Users/<current user>/.jobsync/
// <project scope>. principal is the current user when SCIM /Me answered.
func leaseRoot(ctx context.Context, w *workspace) (root, principal string, err error) {
	me, meErr := w.client.Me(ctx)
	if meErr == nil {
		principal = me.UserName
	}
	root = w.rootPath
	needUser := root == "" || strings.HasPrefix(root, "~/") || strings.Contains(root, "${workspace.current_user.userName}")
	if needUser && principal == "" {
		why := "who this is could not be read (SCIM /Me)"
		if meErr != nil {
			why += ": " + meErr.Error()
		}
		return "", "", fmt.Errorf("the workspace lease lives in the current user's folder by default, but %s; "+
			"set workspace.root_path in the target (for example /Workspace/Shared/jobsync/%s), or pass --lock=false", why, w.project)
	}
	home := "/Workspace/Users/" + principal
	switch {
	case root == "":
		root = home + "/.jobsync/" + w.project
	case strings.HasPrefix(root, "~/"):
		root = home + root[1:]
	}
	root = strings.ReplaceAll(root, "${workspace.current_user.userName}", principal)
	if strings.Contains(root, "${") {
		// An Asset Bundle's root_path may use any of its substitutions;
		// the lease must be found in one place by every command, also
		// those that load no configuration (a saved plan), so it then
		// lives in jobsync's own folder for the scope.
		if principal == "" {
			return "", "", fmt.Errorf("workspace.root_path %q uses substitutions jobsync does not resolve for the lease, and the "+
				"current user could not be read (SCIM /Me) for the default folder: write a plain folder, or pass --lock=false", w.rootPath)
		}
		root = home + "/.jobsync/" + w.project
	}
	if !strings.HasPrefix(root, "/") {
		return "", "", fmt.Errorf("workspace.root_path %q is not an absolute workspace folder: it must start with / (or ~/ for the current user's folder)", w.rootPath)
	}
	return strings.TrimRight(root, "/"), principal, nil
}

// leaseStopped is the error of a command stopped because its workspace
// lease was lost, instead of a bare cancellation.
func leaseStopped(ctx context.Context, err error) error {
	var lost *lease.LostError
	if err != nil && errors.Is(err, context.Canceled) && errors.As(context.Cause(ctx), &lost) {
		return fmt.Errorf("%w; everything applied so far is in the lockfile", lost)
	}
	return err
}
