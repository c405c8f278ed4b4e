package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Persistence. With Options.DataFile the whole state (jobs, permissions, runs,
// id counters, idempotency tokens) is one JSON file, written atomically
// (temporary file, fsync, rename, fsync of the directory).
//
// Cost: writes do not save synchronously. A write schedules a save
// Options.SaveDelay later (one pending save at a time), so a burst of 10,000
// creates costs a handful of saves, not 10,000; Save (and Close) flush at
// once. Each job's settings are encoded once per version and cached, so a
// save of 10,000 unchanged jobs is mostly a copy. A process killed between a
// write and its save loses at most that window of writes.

const stateVersion = 1

// stateFile is the --data file: the shared workspace's state at the top
// level and, with per-token workspaces, each token's under "workspaces",
// keyed by the SHA-256 of its tenancy key so that no token is written down.
type stateFile struct {
	Version int `json:"version"`
	storeFile
	Workspaces map[string]*storeFile `json:"workspaces,omitempty"`
}

// storeFile is the state of one workspace.
type storeFile struct {
	NextJobID int64             `json:"next_job_id"`
	NextRunID int64             `json:"next_run_id"`
	Jobs      []json.RawMessage `json:"jobs"`
	Runs      []*run            `json:"runs"`
	Tokens    map[string]int64  `json:"idempotency_tokens,omitempty"`
	Creates   []int64           `json:"recent_creates,omitempty"`
	// The workspace tree, by path; content is base64 (encoding/json's
	// []byte). Files written before the tree existed have neither field.
	NextObjectID int64     `json:"next_object_id,omitempty"`
	Objects      []*object `json:"workspace_objects,omitempty"`
	// Direct ACLs of workspace objects, by object id.
	ObjectPerms map[int64][]ace `json:"workspace_object_acls,omitempty"`
}

type persister struct {
	path string

	saveMu sync.Mutex // serialises saves
	saved  int64      // generation last written (under saveMu)
	loaded bool       // the file holds generation 0 (it was loaded at start)

	gen atomic.Int64 // bumped by every write

	timerMu sync.Mutex
	timer   *time.Timer
	closed  bool
	lastErr error // of the last background save (under timerMu)
}

// changed notes a committed write and schedules a background save.
func (p *persister) changed(s *Server) {
	if p.path == "" {
		return
	}
	p.gen.Add(1)
	p.timerMu.Lock()
	defer p.timerMu.Unlock()
	if p.timer != nil || p.closed {
		return
	}
	p.timer = time.AfterFunc(s.opts.SaveDelay, func() {
		p.timerMu.Lock()
		p.timer = nil
		p.timerMu.Unlock()
		err := s.save()
		p.timerMu.Lock()
		p.lastErr = err
		p.timerMu.Unlock()
	})
}

// Save writes the state to Options.DataFile now (atomically). It reports the
// error of an earlier background save too. Without DataFile it does nothing.
func (s *Server) Save() error {
	p := &s.persist
	if p.path == "" {
		return nil
	}
	p.timerMu.Lock()
	if p.timer != nil && p.timer.Stop() {
		p.timer = nil
	}
	bgErr := p.lastErr
	p.lastErr = nil
	p.timerMu.Unlock()
	return errors.Join(s.save(), bgErr)
}

// Close saves the state and stops background saves. The Server still serves
// requests afterwards, without saving them.
func (s *Server) Close() error {
	err := s.Save()
	s.persist.timerMu.Lock()
	s.persist.closed = true
	s.persist.timerMu.Unlock()
	return err
}

func (s *Server) save() error {
	p := &s.persist
	p.saveMu.Lock()
	defer p.saveMu.Unlock()
	gen := p.gen.Load()
	if gen == p.saved && (gen > 0 || p.loaded) {
		return nil // the file is up to date: read-only sessions never rewrite it
	}
	data, err := s.snapshot()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(p.path, data); err != nil {
		return fmt.Errorf("emulator: saving state to %s: %w", p.path, err)
	}
	p.saved = gen
	return nil
}

// snapshot encodes the state. Jobs are written from their cached settings
// encoding, so a save of many unchanged jobs is mostly a copy.
func (s *Server) snapshot() ([]byte, error) {
	b := fmt.Appendf(nil, `{"version":%d,`, stateVersion)
	b, err := appendStore(b, s.st)
	if err != nil {
		return nil, err
	}
	keys, stores := s.tenantList()
	if len(keys) > 0 {
		b = append(b, `,"workspaces":{`...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ":{"...)
			if b, err = appendStore(b, stores[i]); err != nil {
				return nil, err
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// appendStore appends the fields of st's storeFile (without braces).
func appendStore(b []byte, st *store) ([]byte, error) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	runs := make([]*run, 0, len(st.runs))
	for _, r := range st.runs {
		runs = append(runs, r)
	}
	sortDesc(runs, func(r *run) cursor { return cursor{K1: -r.ID} })
	objects := make([]*object, 0, len(st.objects))
	for _, o := range st.objects {
		objects = append(objects, o)
	}
	slices.SortFunc(objects, func(a, b *object) int { return strings.Compare(a.Path, b.Path) })
	rest, err := json.Marshal(struct {
		Runs         []*run           `json:"runs"`
		Tokens       map[string]int64 `json:"idempotency_tokens,omitempty"`
		Creates      []int64          `json:"recent_creates,omitempty"`
		NextObjectID int64            `json:"next_object_id,omitempty"`
		Objects      []*object        `json:"workspace_objects,omitempty"`
		ObjectPerms  map[int64][]ace  `json:"workspace_object_acls,omitempty"`
	}{runs, st.tokens, st.creates, st.nextObjectID, objects, st.objectPerms})
	if err != nil {
		return nil, err
	}
	size := len(rest) + 100
	for _, j := range st.jobs {
		size += len(j.settingsJSON()) + 200
	}
	b = slices.Grow(b, size)
	b = fmt.Appendf(b, `"next_job_id":%d,"next_run_id":%d,"jobs":[`, st.nextJobID, st.nextRunID)
	for i, id := range st.order {
		j := st.jobs[id]
		if i > 0 {
			b = append(b, ',')
		}
		acl, err := json.Marshal(st.perms[id])
		if err != nil {
			return nil, err
		}
		b = fmt.Appendf(b, `{"job_id":%d,"created_time":%d,"creator_user_name":`, j.id, j.created)
		b = appendString(b, j.creator)
		b = append(b, `,"settings":`...)
		b = append(b, j.settingsJSON()...)
		b = append(b, `,"acl":`...)
		b = append(b, acl...)
		b = append(b, '}')
	}
	b = append(b, "],"...)
	return append(b, rest[1:len(rest)-1]...), nil
}

// settingsJSON is the cached encoding of the stored settings.
func (j *job) settingsJSON() []byte {
	if b := j.raw.Load(); b != nil {
		return *b
	}
	b := appendJSON(nil, j.settings)
	j.raw.Store(&b)
	return b
}

// loadState reads a state file: the shared workspace and the per-token
// ones by key hash. A missing file is a nil state.
func loadState(path string) (*store, map[string]*store, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("emulator: reading state: %w", err)
	}
	bad := func(err error) error {
		return fmt.Errorf("emulator: state file %s is not valid (%v); move it away to start with an empty workspace", path, err)
	}
	var f stateFile
	if err := decodeNumbers(data, &f); err != nil {
		return nil, nil, bad(err)
	}
	if f.Version != stateVersion {
		return nil, nil, bad(fmt.Errorf("version %d, this jobsync reads version %d", f.Version, stateVersion))
	}
	st, err := loadStore(&f.storeFile)
	if err != nil {
		return nil, nil, bad(err)
	}
	tenants := map[string]*store{}
	for k, sf := range f.Workspaces {
		if sf == nil {
			return nil, nil, bad(fmt.Errorf("workspace %s is empty", k))
		}
		t, err := loadStore(sf)
		if err != nil {
			return nil, nil, bad(fmt.Errorf("workspace %s: %w", k, err))
		}
		tenants[k] = t
	}
	return st, tenants, nil
}

// loadStore builds one workspace from its part of the file, with the same
// checks as requests get (a hand-edited file must not crash the emulator).
func loadStore(f *storeFile) (*store, error) {
	if f.NextJobID <= 0 || f.NextRunID <= 0 {
		return nil, errors.New("missing id counters")
	}
	st := newStore(f.NextJobID, f.NextRunID)
	for _, raw := range f.Jobs {
		var pj struct {
			JobID    int64          `json:"job_id"`
			Created  int64          `json:"created_time"`
			Creator  string         `json:"creator_user_name"`
			Settings map[string]any `json:"settings"`
			ACL      []ace          `json:"acl"`
		}
		if err := decodeNumbers(raw, &pj); err != nil {
			return nil, err
		}
		if pj.Settings == nil || pj.JobID <= 0 {
			return nil, fmt.Errorf("job %d has no settings", pj.JobID)
		}
		// A hand-edited file gets the same checks as a request.
		settings, aerr := conform(pj.Settings, "JobSettings")
		if aerr != nil {
			return nil, fmt.Errorf("job %d: %s", pj.JobID, aerr.msg)
		}
		st.putJob(newJob(pj.JobID, pj.Created, pj.Creator, settings))
		st.perms[pj.JobID] = pj.ACL
	}
	for _, r := range f.Runs {
		if r == nil || len(r.Epochs) == 0 || len(r.Tasks) == 0 ||
			slices.ContainsFunc(r.Tasks, func(t *taskRun) bool { return t == nil || len(t.Attempts) == 0 }) {
			return nil, errors.New("a run without tasks")
		}
		for i, ep := range r.Epochs {
			if ep == nil {
				return nil, fmt.Errorf("run %d: execution %d is empty", r.ID, i)
			}
		}
		ran := map[string]bool{}
		for _, t := range r.Tasks {
			for _, a := range t.Attempts {
				if a == nil || a.Def == nil || a.Epoch < 0 || a.Epoch >= len(r.Epochs) {
					return nil, fmt.Errorf("run %d: task %s has a bad attempt", r.ID, t.Key)
				}
				// The run's state is computed from its executions' task
				// lists: an attempt no execution lists has no state.
				if !slices.Contains(r.Epochs[a.Epoch].Keys, t.Key) {
					return nil, fmt.Errorf("run %d: task %s has an attempt that execution %d does not list", r.ID, t.Key, a.Epoch)
				}
				ran[fmt.Sprint(a.Epoch, t.Key)] = true
			}
		}
		for i, ep := range r.Epochs {
			for _, k := range ep.Keys {
				if !ran[fmt.Sprint(i, k)] {
					return nil, fmt.Errorf("run %d: execution %d lists task %s without an attempt", r.ID, i, k)
				}
			}
		}
		st.runs[r.ID] = r
		for _, t := range r.Tasks {
			for _, a := range t.Attempts {
				st.taskRuns[a.RunID] = r.ID
			}
		}
	}
	if f.Tokens != nil {
		st.tokens = f.Tokens
	}
	st.creates = f.Creates
	st.nextObjectID = f.NextObjectID
	if err := loadObjects(st, f.Objects); err != nil {
		return nil, err
	}
	for id, acl := range f.ObjectPerms {
		if st.objectByID(id) == nil {
			return nil, fmt.Errorf("permissions of workspace object %d, which does not exist", id)
		}
		st.objectPerms[id] = acl
	}
	return st, nil
}

func decodeNumbers(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// writeFileAtomic replaces path with data so that a crash leaves either the
// old or the new file: temporary file in the same directory, fsync, rename,
// fsync of the directory.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: not every filesystem supports it
		d.Close()
	}
	return nil
}

// loadObjects rebuilds the tree, checking what a hand edit could break:
// canonical absolute paths, known types, each object's parent a directory.
func loadObjects(st *store, objs []*object) error {
	slices.SortFunc(objs, func(a, b *object) int { return strings.Compare(a.Path, b.Path) })
	for _, o := range objs {
		if o == nil {
			return errors.New("an empty workspace object")
		}
		if w, err := parsePath(o.Path); err != nil || w.canon != o.Path || w.prefix != "" {
			return fmt.Errorf("workspace object path %q is not canonical (absolute, clean, without /Workspace)", o.Path)
		}
		switch o.Type {
		case objDirectory, objFile:
		case objNotebook:
			if commentPrefix[o.Language] == "" || (o.Format != fmtSource && o.Format != fmtJupyter) {
				return fmt.Errorf("notebook %s has language %q and format %q", o.Path, o.Language, o.Format)
			}
		default:
			return fmt.Errorf("workspace object %s has type %q", o.Path, o.Type)
		}
		if o.Path != "/" {
			if p := st.get(path.Dir(o.Path)); p == nil || p.Type != objDirectory {
				return fmt.Errorf("workspace object %s has no parent directory", o.Path)
			}
		} else if o.Type != objDirectory {
			return errors.New("the workspace root is not a directory")
		}
		if st.get(o.Path) != nil {
			return fmt.Errorf("workspace object %s is listed twice", o.Path)
		}
		st.put(o)
	}
	return nil
}
