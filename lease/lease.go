// Package lease is the workspace lease: a small file in the workspace,
// <root_path>/state/jobsync.lock, that keeps jobsync commands which write to
// one workspace from two places at once (two CI runners applying two merges,
// two checkouts) one at a time. The local lock of package state cannot: each
// runner has its own disk.
//
// The lease is created with a create-if-absent import (overwrite false), so
// of two takers exactly one gets it; it names its holder and an expiry, is
// renewed while the command runs and deleted at the end. A holder that
// crashed leaves it behind until it expires (or at once, when the taker runs
// on the same machine and sees the holder's process gone); it is then taken
// over with a notice. A holder that finds its lease gone or taken over, or
// cannot renew it before it expires, is told through the context Acquire
// returns, and must stop writing.
//
// It talks to the workspace through jobsapi only. It must not print (it
// reports through Options.Notice and its errors), touch the lockfile, or
// decide anything about exit codes.
package lease

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/jobsync/jobsync/jobsapi"
)

// FileName is the lease's name in <root_path>/state, beside the deploy.lock
// of an Asset Bundle that shares the root_path.
const FileName = "jobsync.lock"

// Path is the lease file of a root_path.
func Path(root string) string { return path.Join(root, "state", FileName) }

// DefaultTTL is how long a lease lives without renewal. A crashed holder on
// another machine blocks the workspace for at most this long; a live holder
// renews every TTL/4 (30 s) and so survives two failed renewals (a network
// outage of a minute) before it must stop. Two minutes is also well above
// the clock skew of machines that keep time by NTP, which matters because
// holder and taker each judge the expiry by their own clock.
const DefaultTTL = 2 * time.Minute

// Holder is the content of the lease file.
type Holder struct {
	// Lease is the format version (1).
	Lease int `json:"lease"`
	// ID is random, one per acquisition: it tells this holder from the
	// next, so that nobody renews or removes a lease that is no longer
	// theirs.
	ID   string `json:"id"`
	Host string `json:"host"`
	// Machine tells processes of one host and one pid namespace (Linux:
	// the boot id and the pid namespace), so that a pid is only judged
	// dead where it means the same process; "" when unknown.
	Machine string `json:"machine,omitempty"`
	PID     int    `json:"pid"`
	// User is the local account, Principal the workspace identity (SCIM
	// userName or a service principal's application id) when known.
	User      string `json:"user"`
	Principal string `json:"principal,omitempty"`
	// Command is what runs ("jobsync apply"); Scope the project scope
	// (project or project/target); Lineage the lockfile's lineage, "" for a
	// first apply.
	Command  string    `json:"command"`
	Scope    string    `json:"scope,omitempty"`
	Lineage  string    `json:"lineage,omitempty"`
	Acquired time.Time `json:"acquired"`
	Expires  time.Time `json:"expires"`
}

// Options configure Acquire.
type Options struct {
	// Path of the lease file (see Path).
	Path string
	// TTL of the lease (DefaultTTL when 0). It is renewed every TTL/4.
	TTL time.Duration
	// Wait is how long to wait for a live holder before giving up (0: do
	// not wait).
	Wait time.Duration
	// Holder describes this process: User, Principal, Command, Scope and
	// Lineage are taken from it (User defaults to the local account); the
	// rest is filled in.
	Holder Holder
	// Notice, when set, is told of what the user should know although
	// nothing failed: a lease taken over, a wait.
	Notice func(string)
}

func (o *Options) fill() {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
}

// Timing, as fractions of the TTL: renew every quarter; look again for a
// live holder's release every tenth (at most 2 s, so that a waiter starts
// soon after the release); stop writing once less than an eighth is left
// without a renewal.
func renewEvery(ttl time.Duration) time.Duration { return ttl / 4 }
func pollEvery(ttl time.Duration) time.Duration  { return min(ttl/10, 2*time.Second) }
func margin(ttl time.Duration) time.Duration     { return ttl / 8 }

// settle is how long a taker waits before it reads the lease back after a
// takeover. A second taker that read the stale lease before this one
// removed it sends its delete and its create within a few round trips of
// that read; took is how long this taker's own read, delete and create
// took, so five times it covers them, within 200 ms to 2 s (and a tenth of
// the TTL).
func settle(ttl, took time.Duration) time.Duration {
	return min(max(5*took, 200*time.Millisecond), 2*time.Second, ttl/10)
}

// HeldError says a live holder has the lease.
type HeldError struct {
	Path string
	// Holder is nil when the lease file is not a lease jobsync can read.
	Holder *Holder
	Waited time.Duration
}

func (e *HeldError) Error() string {
	var b strings.Builder
	if e.Holder == nil {
		fmt.Fprintf(&b, "the workspace lease %s is not one jobsync can read", e.Path)
	} else {
		fmt.Fprintf(&b, "the workspace lease %s is held by %s, since %s, until %s unless renewed",
			e.Path, e.Holder.describe(), e.Holder.Acquired.UTC().Format(time.RFC3339), e.Holder.Expires.UTC().Format(time.RFC3339))
	}
	if e.Waited > 0 {
		fmt.Fprintf(&b, "; waited %s", e.Waited.Round(time.Second))
	}
	if e.Holder == nil {
		b.WriteString(": if no jobsync is running against this workspace, remove it with `jobsync state unlock`")
		return b.String()
	}
	b.WriteString(": another jobsync is writing to this workspace; wait for it (--lock-timeout 10m waits up to ten minutes); " +
		"if it crashed, its lease expires by itself (`jobsync state unlock` breaks it sooner)")
	return b.String()
}

// LostError says the lease was lost while its holder ran: taken over,
// removed, or not renewed in time. The holder must stop writing.
type LostError struct {
	Path   string
	Reason string
}

func (e *LostError) Error() string {
	return fmt.Sprintf("the workspace lease %s was lost (%s): stopped, so as not to write at the same time as another jobsync", e.Path, e.Reason)
}

// errReleased ends the lease's context after a Release.
var errReleased = errors.New("the workspace lease was released")

// describe names a holder for messages.
func (h *Holder) describe() string {
	var b strings.Builder
	if h.Principal != "" {
		b.WriteString(h.Principal + " (")
	}
	fmt.Fprintf(&b, "pid %d on %s", h.PID, h.Host)
	if h.User != "" {
		fmt.Fprintf(&b, ", user %s", h.User)
	}
	if h.Principal != "" {
		b.WriteString(")")
	}
	if h.Command != "" {
		fmt.Fprintf(&b, ", running %q", h.Command)
	}
	if h.Scope != "" {
		fmt.Fprintf(&b, " for %s", h.Scope)
	}
	return b.String()
}

// String is a one-line description of the holder.
func (h *Holder) String() string { return h.describe() }

// Lease is a held lease.
type Lease struct {
	c    *jobsapi.Client
	path string
	ttl  time.Duration

	mu      sync.Mutex
	me      Holder // as last written
	cancel  context.CancelCauseFunc
	stop    chan struct{}
	done    chan struct{}
	release sync.Once
	relErr  error
}

// Holder is this lease's content as last written.
func (l *Lease) Holder() Holder {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.me
}

// Acquire takes the lease at o.Path, waiting up to o.Wait for a live holder.
// It returns a context derived from ctx that is cancelled, with a *LostError
// as its cause, if the lease is lost while held; the command must do its
// writes under it. Release the lease when done.
func Acquire(ctx context.Context, c *jobsapi.Client, o Options) (context.Context, *Lease, error) {
	o.fill()
	me := o.Holder
	me.Lease = 1
	me.ID = newID()
	me.Host = hostname()
	me.Machine = machineID()
	me.PID = os.Getpid()
	if me.User == "" {
		me.User = userName()
	}
	start := time.Now()
	deadline := start.Add(o.Wait)
	madeDir, tookOver, waiting := false, false, false
	var takeStart time.Time
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		now := time.Now()
		me.Acquired, me.Expires = now.UTC(), now.Add(o.TTL).UTC()
		err := create(ctx, c, o.Path, &me)
		if errors.Is(err, jobsapi.ErrMaybeCommitted) {
			// The create may have landed: it is ours if it names us.
			if h, rerr := read(ctx, c, o.Path); rerr == nil && h.ID == me.ID {
				err = nil
			} else {
				err = jobsapi.ErrAlreadyExists
			}
		}
		switch {
		case err == nil:
			if tookOver {
				// Two takers may have seen the same expired lease; the
				// later one's delete can remove the earlier one's fresh
				// lease. Whoever reads back someone else's lost the race.
				if err := sleep(ctx, settle(o.TTL, time.Since(takeStart))); err != nil {
					return nil, nil, err
				}
				h, rerr := read(ctx, c, o.Path)
				if rerr != nil || h.ID != me.ID {
					tookOver = false
					continue
				}
			}
			lctx, l := hold(ctx, c, o, me)
			return lctx, l, nil
		case errors.Is(err, jobsapi.ErrNotFound) && !madeDir:
			// The state directory does not exist yet.
			madeDir = true
			if err := c.Mkdirs(ctx, path.Dir(o.Path)); err != nil {
				return nil, nil, accessError(o.Path, err)
			}
			continue
		case !errors.Is(err, jobsapi.ErrAlreadyExists):
			return nil, nil, accessError(o.Path, err)
		}

		// Someone holds it (or held it).
		h, err := read(ctx, c, o.Path)
		var bad *badLeaseError
		switch {
		case errors.Is(err, jobsapi.ErrNotFound):
			continue // released meanwhile
		case errors.As(err, &bad):
			h = nil
		case err != nil:
			return nil, nil, accessError(o.Path, err)
		}
		if h != nil {
			if why := stale(h, time.Now()); why != "" {
				takeStart = time.Now()
				if err := takeOver(ctx, c, o.Path, h); err != nil {
					return nil, nil, accessError(o.Path, err)
				}
				if o.Notice != nil {
					o.Notice(fmt.Sprintf("Took over the workspace lease %s of %s: %s.", o.Path, h.describe(), why))
				}
				tookOver = true
				continue
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			he := &HeldError{Path: o.Path, Holder: h}
			if o.Wait > 0 {
				he.Waited = time.Since(start)
			}
			return nil, nil, he
		}
		if !waiting && h != nil && o.Notice != nil {
			o.Notice(fmt.Sprintf("Waiting up to %s for the workspace lease %s, held by %s.", left.Round(time.Second), o.Path, h.describe()))
		}
		waiting = true
		if err := sleep(ctx, min(left, pollEvery(o.TTL))); err != nil {
			return nil, nil, err
		}
	}
}

// stale says why a lease may be taken over ("" when it may not): it expired,
// or its holder ran on this machine and its process is gone.
func stale(h *Holder, now time.Time) string {
	if now.After(h.Expires) {
		return fmt.Sprintf("it expired at %s (its holder stopped renewing it: it crashed or was killed)", h.Expires.UTC().Format(time.RFC3339))
	}
	if h.Host == hostname() && h.PID > 0 && h.Machine != "" && h.Machine == machineID() && processGone(h.PID) {
		return "its process is no longer running on this machine (it crashed or was killed)"
	}
	return ""
}

// takeOver removes the stale lease h, if it is still the one at p: a second
// taker that replaced it meanwhile keeps its own.
func takeOver(ctx context.Context, c *jobsapi.Client, p string, h *Holder) error {
	now, err := read(ctx, c, p)
	switch {
	case errors.Is(err, jobsapi.ErrNotFound):
		return nil
	case err != nil:
		var bad *badLeaseError
		if errors.As(err, &bad) {
			return nil // replaced by something else; the next create says what
		}
		return err
	case now.ID != h.ID:
		return nil
	}
	err = c.DeleteObject(ctx, p, false)
	if errors.Is(err, jobsapi.ErrNotFound) {
		return nil
	}
	return err
}

// hold starts renewing the lease.
func hold(ctx context.Context, c *jobsapi.Client, o Options, me Holder) (context.Context, *Lease) {
	lctx, cancel := context.WithCancelCause(ctx)
	l := &Lease{c: c, path: o.Path, ttl: o.TTL, me: me, cancel: cancel, stop: make(chan struct{}), done: make(chan struct{})}
	go l.renewLoop(context.WithoutCancel(ctx))
	return lctx, l
}

// renewLoop renews the lease every TTL/4 until Release. ctx is not
// cancelled by the command's interruption: an interrupted apply still
// finishes its in-flight actions under the lease.
func (l *Lease) renewLoop(ctx context.Context) {
	defer close(l.done)
	every := renewEvery(l.ttl)
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		err := l.renew(ctx)
		var lost *LostError
		if errors.As(err, &lost) {
			l.cancel(lost)
			return
		}
		next := every
		if err != nil {
			l.mu.Lock()
			expires := l.me.Expires
			l.mu.Unlock()
			if time.Until(expires) < margin(l.ttl) {
				l.cancel(&LostError{Path: l.path, Reason: fmt.Sprintf("it could not be renewed before it expires at %s: %v",
					expires.UTC().Format(time.RFC3339), err)})
				return
			}
			next = every / 4 // try again soon
		}
		t.Reset(next)
	}
}

// renew checks that the lease is still this holder's and extends it. A
// *LostError means it is not; any other error may pass.
func (l *Lease) renew(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, renewEvery(l.ttl))
	defer cancel()
	h, err := read(ctx, l.c, l.path)
	var bad *badLeaseError
	switch {
	case errors.Is(err, jobsapi.ErrNotFound):
		return &LostError{Path: l.path, Reason: "it was removed, by `jobsync state unlock` or by hand"}
	case errors.As(err, &bad):
		return &LostError{Path: l.path, Reason: "it was replaced by a file that is not a jobsync lease"}
	case err != nil:
		return err
	case h.ID != l.Holder().ID:
		return &LostError{Path: l.path, Reason: "it was taken over by " + h.describe()}
	}
	l.mu.Lock()
	me := l.me
	l.mu.Unlock()
	me.Expires = time.Now().Add(l.ttl).UTC()
	if err := write(ctx, l.c, l.path, &me); err != nil {
		return err
	}
	l.mu.Lock()
	l.me = me
	l.mu.Unlock()
	return nil
}

// Release stops renewing and removes the lease, unless someone else holds it
// by now (then it is left alone and the error says who). It is safe to call
// more than once, and works on after ctx is cancelled: an interrupted
// command must still let go.
func (l *Lease) Release(ctx context.Context) error {
	l.release.Do(func() {
		close(l.stop)
		<-l.done
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		defer l.cancel(errReleased)
		h, err := read(ctx, l.c, l.path)
		var bad *badLeaseError
		switch {
		case errors.Is(err, jobsapi.ErrNotFound), errors.As(err, &bad):
			return
		case err != nil:
			l.relErr = fmt.Errorf("releasing the workspace lease %s: %w (it expires by itself)", l.path, err)
			return
		case h.ID != l.Holder().ID:
			l.relErr = fmt.Errorf("the workspace lease %s was taken over by %s while this command held it; it was left in place", l.path, h.describe())
			return
		}
		if err := l.c.DeleteObject(ctx, l.path, false); err != nil && !errors.Is(err, jobsapi.ErrNotFound) {
			l.relErr = fmt.Errorf("releasing the workspace lease %s: %w (it expires by itself)", l.path, err)
		}
	})
	return l.relErr
}

// Read returns the holder of the lease at p; the error matches
// jobsapi.ErrNotFound when there is none.
func Read(ctx context.Context, c *jobsapi.Client, p string) (*Holder, error) {
	return read(ctx, c, p)
}

// Break removes the lease at p, whoever holds it, and returns who did (nil
// when the file was not a lease jobsync can read). A live holder notices at
// its next renewal and stops. The error matches jobsapi.ErrNotFound when
// there is no lease.
func Break(ctx context.Context, c *jobsapi.Client, p string) (*Holder, error) {
	h, err := read(ctx, c, p)
	var bad *badLeaseError
	if err != nil && !errors.As(err, &bad) {
		return nil, err
	}
	if err := c.DeleteObject(ctx, p, false); err != nil {
		return h, err
	}
	return h, nil
}

// maxLease bounds what is read of a lease file: it is about 400 bytes.
const maxLease = 64 << 10

// badLeaseError says the file at the lease's path is not a lease.
type badLeaseError struct{ problem string }

func (e *badLeaseError) Error() string { return "not a jobsync lease: " + e.problem }

func read(ctx context.Context, c *jobsapi.Client, p string) (*Holder, error) {
	data, err := c.Export(ctx, p, jobsapi.FormatAuto)
	if err != nil {
		return nil, err
	}
	if len(data) > maxLease {
		return nil, &badLeaseError{fmt.Sprintf("%d bytes", len(data))}
	}
	var h Holder
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, &badLeaseError{err.Error()}
	}
	if h.Lease < 1 || h.ID == "" || h.Expires.IsZero() {
		return nil, &badLeaseError{"no lease version, id or expiry"}
	}
	return &h, nil
}

func encode(h *Holder) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	_ = enc.Encode(h) // strings, ints and times always encode
	return buf.Bytes()
}

// create makes the lease file if there is none: the one step two takers
// cannot both win.
func create(ctx context.Context, c *jobsapi.Client, p string, h *Holder) error {
	return c.ImportFile(ctx, p, encode(h), false)
}

// write replaces the lease file (a renewal, after checking it is ours).
func write(ctx context.Context, c *jobsapi.Client, p string, h *Holder) error {
	return c.ImportFile(ctx, p, encode(h), true)
}

// accessError explains a failure to use the lease file at all.
func accessError(p string, err error) error {
	return fmt.Errorf("cannot take the workspace lease %s: %w; it keeps two jobsync runs from writing to this workspace at once. "+
		"Give this identity write access to that folder, set workspace.root_path in the target to a folder it may write, "+
		"or pass --lock=false to go without (then make sure yourself that only one runs at a time)", p, err)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

func userName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}
