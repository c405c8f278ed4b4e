package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
)

// journalVersion is the format of the journal's header and records.
const journalVersion = 1

// Store is a lockfile on disk together with its journal, <path>.journal.
//
// During an apply every completed action is appended to the journal as one
// JSON line and fsynced before Record returns, so the cost per action is
// O(1) whatever the size of the lockfile. Commit folds the journal into the
// lockfile (one atomic rewrite) and removes it. Open replays a journal left
// behind by a process that died before its Commit, so no completed action
// is ever forgotten.
//
// The journal's first line is a header naming the workspace, project,
// lineage and serial it continues; the lines after it are records:
//
//	{"journal":1,"workspace":"https://h","project":"p","lineage":"…","serial":4}
//	{"key":"etl","job":{"job_id":123,"applied":{…}}}
//	{"key":"old","forget":true}
//	{"file":"/Workspace/…/files/src/etl.py","upload":{"digest":"sha256:…","size":812}}
//	{"file":"/Workspace/…/files/src/old.py","forget":true}
//
// Records are absolute (they say what a key is now, not how it changed), so
// replaying one twice is harmless: a crash after Commit renamed the new
// lockfile but before it removed the journal costs nothing.
//
// Record and Forget are safe for concurrent use; concurrent calls share
// fsyncs (group commit). A Store expects its caller to hold the lock (Lock)
// while it writes.
type Store struct {
	path, jpath string

	// syncMu serialises fsyncs of the journal and Commit; it is always
	// taken before mu, never after.
	syncMu sync.Mutex
	synced uint64 // records known durable (journal fsynced or lockfile committed)

	mu   sync.Mutex
	file *File
	// disk is the lockfile as it is on disk (its own copy of the jobs
	// map), nil when there is none; diskSerial is its serial (or the
	// journal header's, when only a journal exists).
	disk       *File
	diskSerial uint64
	// touched holds the keys recorded or forgotten since the lockfile was
	// read or written: only they can differ from disk, so an unchanged
	// Commit costs O(touched), not a re-encoding of every job.
	touched map[string]struct{}
	// mode for a new journal: the lockfile's when it exists.
	mode fs.FileMode
	// journal is open for appending once a record was written since Open
	// or the last Commit.
	journal *os.File
	// journalLen is how many bytes of an existing journal hold whole
	// records; a torn tail after it is cut off before the next append.
	// -1 means there is no journal file.
	journalLen int64
	written    uint64 // records appended, ever (never reset, so sequence numbers stay unique)
	broken     error  // a failed journal write or fsync; later records fail with it
}

// Open reads the lockfile at path and replays its journal, if any. A missing
// lockfile is not an error: the Store then has File() == nil until Init
// (or until a journal left by an interrupted first apply supplies one).
//
// Open does not modify anything on disk, so read-only commands may use it
// without the lock.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := &Store{path: path, jpath: path + ".journal", mode: defaultMode, journalLen: -1, touched: map[string]struct{}{}}
	data, err := readRegular(path, "lockfile", maxStateFile)
	var nr *notRegularError
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case errors.As(err, &nr):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("reading the lockfile %s: %w%s", path, err, diskHint(err))
	default:
		f, err := parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		s.file = f
		s.diskSerial = f.Serial
		s.disk = snapshot(f)
		if fi, err := os.Stat(path); err == nil {
			s.mode = fi.Mode().Perm()
		}
	}
	if err := s.replay(); err != nil {
		return nil, err
	}
	return s, nil
}

// Path is the lockfile's path.
func (s *Store) Path() string { return s.path }

// File is the lockfile with the journal applied: what jobsync knows now. It
// is the Store's own copy; do not use it while Record or Forget may run.
func (s *Store) File() *File {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.file
}

// Job returns what is recorded for key. It is safe to call during an apply.
func (s *Store) Job(key string) (Job, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return Job{}, false
	}
	j, ok := s.file.Jobs[key]
	return j, ok
}

// Init starts a new lockfile for workspace and project when there is none
// yet; it does nothing when File() is already set. Nothing is written until
// the first Record or Commit.
func (s *Store) Init(workspace, project string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		s.file = New(workspace, project)
	}
}

// journalHeader is the first line of a journal.
type journalHeader struct {
	Journal   int    `json:"journal"`
	Workspace string `json:"workspace"`
	Project   string `json:"project"`
	Lineage   string `json:"lineage"`
	Serial    uint64 `json:"serial"`
}

// journalRecord is every later line: about a job (Key), or about an
// uploaded file (File, a workspace path).
type journalRecord struct {
	Key    string        `json:"key,omitempty"`
	Job    *Job          `json:"job,omitempty"`
	File   string        `json:"file,omitempty"`
	Upload *UploadedFile `json:"upload,omitempty"`
	Forget bool          `json:"forget,omitempty"`
}

// apply puts the record into f.
func (r journalRecord) apply(f *File) {
	switch {
	case r.File != "" && r.Forget:
		delete(f.Files, r.File)
	case r.File != "":
		if f.Files == nil {
			f.Files = map[string]UploadedFile{}
		}
		f.Files[r.File] = *r.Upload
	case r.Forget:
		delete(f.Jobs, r.Key)
	default:
		f.Jobs[r.Key] = *r.Job
	}
}

// touchKey is what a record changes, for touched.
func (r journalRecord) touchKey() string {
	if r.File != "" {
		return "\x00file:" + r.File
	}
	return r.Key
}

// JournalError says the journal cannot be replayed.
type JournalError struct {
	Path    string
	Line    int
	Problem string
}

func (e *JournalError) Error() string {
	where := e.Path
	if e.Line > 0 {
		where = fmt.Sprintf("%s line %d", e.Path, e.Line)
	}
	return fmt.Sprintf("the apply journal %s is unusable: %s; it holds the actions of an apply that was "+
		"interrupted. Move it aside and run `jobsync plan`: jobs it recorded are found again by their "+
		"ownership tags", where, e.Problem)
}

// replay applies a journal left behind by an apply that did not reach
// Commit. Only the last line may be damaged (a crash in the middle of an
// append); it is ignored, and cut off before the next append. Damage
// anywhere else means the file was tampered with or the disk is failing,
// and is an error.
func (s *Store) replay() error {
	// Only a regular file is a journal: a link to a device (/dev/zero)
	// would be read forever, a FIFO would wait for a writer.
	data, err := readRegular(s.jpath, "apply journal", maxStateFile)
	var nr *notRegularError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case errors.As(err, &nr):
		return err
	case err != nil:
		return fmt.Errorf("reading the apply journal %s: %w%s", s.jpath, err, diskHint(err))
	}
	s.journalLen = 0
	var f *File
	for off, n := 0, 1; off < len(data); n++ {
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			// No newline: the append that wrote it never finished.
			break
		}
		line := data[off : off+end]
		next := off + end + 1
		last := next == len(data)
		if n == 1 {
			h, err := decodeHeader(line)
			if err != nil {
				if last {
					break
				}
				return &JournalError{Path: s.jpath, Line: n, Problem: err.Error()}
			}
			if f, err = s.base(h); err != nil {
				return err
			}
		} else {
			r, err := decodeRecord(line)
			if err != nil {
				if last {
					break
				}
				return &JournalError{Path: s.jpath, Line: n, Problem: err.Error()}
			}
			r.apply(f)
			s.touched[r.touchKey()] = struct{}{}
		}
		off = next
		s.journalLen = int64(off)
	}
	if f != nil {
		s.file = f
	}
	return nil
}

// base returns the File a journal with header h continues.
func (s *Store) base(h journalHeader) (*File, error) {
	if s.file == nil {
		// The first apply died before its first Commit: the header
		// carries everything needed to start the lockfile.
		s.diskSerial = h.Serial
		return &File{Version: Version, Workspace: h.Workspace, Project: h.Project, Lineage: h.Lineage,
			Serial: h.Serial, Jobs: map[string]Job{}}, nil
	}
	if h.Lineage != s.file.Lineage {
		return nil, &JournalError{Path: s.jpath, Problem: fmt.Sprintf(
			"it continues lockfile lineage %s, but %s has lineage %s (was the lockfile replaced?)",
			h.Lineage, s.path, s.file.Lineage)}
	}
	return s.file, nil
}

func decodeHeader(line []byte) (journalHeader, error) {
	var h journalHeader
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return h, fmt.Errorf("the header is not valid: %v", err)
	}
	if key, _, dup := duplicateKey(line); dup {
		return h, fmt.Errorf("the header is not valid: key %q appears twice", key)
	}
	switch {
	case h.Journal > journalVersion:
		return h, fmt.Errorf("journal version %d is newer than this jobsync understands (%d): upgrade jobsync", h.Journal, journalVersion)
	case h.Journal < 1:
		return h, errors.New(`the header has no valid "journal" version`)
	case h.Workspace == "" || h.Lineage == "":
		return h, errors.New("the header lacks the workspace or lineage")
	}
	return h, nil
}

func decodeRecord(line []byte) (journalRecord, error) {
	var r journalRecord
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("not a journal record: %v", err)
	}
	if dec.More() {
		return r, errors.New("not a journal record: extra data after the record")
	}
	if key, _, dup := duplicateKey(line); dup {
		return r, fmt.Errorf("not a journal record: key %q appears twice in one object", key)
	}
	switch {
	case r.File != "":
		switch {
		case r.Key != "" || r.Job != nil:
			return r, fmt.Errorf("record for file %q also names a job", r.File)
		case r.Forget && r.Upload != nil, !r.Forget && r.Upload == nil:
			return r, fmt.Errorf("record for file %q must hold either an upload or forget", r.File)
		case r.Upload != nil:
			if err := checkFile(r.File, *r.Upload); err != nil {
				return r, err
			}
		}
		return r, nil
	case r.Upload != nil:
		return r, errors.New("an upload record has no file")
	case r.Key == "":
		return r, errors.New("a record has no key")
	case r.Forget && r.Job != nil, !r.Forget && r.Job == nil:
		return r, fmt.Errorf("record for %q must hold either a job or forget", r.Key)
	case r.Job != nil:
		if err := checkEntry(r.Key, *r.Job); err != nil {
			return r, err
		}
		applied, err := compactApplied(r.Job.Applied)
		if err != nil {
			return r, fmt.Errorf("record for %q: %v", r.Key, err)
		}
		r.Job.Applied = applied
	}
	return r, nil
}

// Record makes "key is job j" durable: the journal line is on disk when
// Record returns nil. It works on after ctx is cancelled, because recording
// an action that already happened is exactly what an interrupted apply must
// still do.
func (s *Store) Record(ctx context.Context, key string, j Job) error {
	if key == "" {
		return errors.New("state: Record needs a key")
	}
	if err := checkEntry(key, j); err != nil {
		return fmt.Errorf("state: cannot record: %w", err)
	}
	return s.append(journalRecord{Key: key, Job: &j})
}

// RecordFile makes "the workspace file at path holds this upload" durable,
// like Record.
func (s *Store) RecordFile(ctx context.Context, path string, u UploadedFile) error {
	if err := checkFile(path, u); err != nil {
		return fmt.Errorf("state: cannot record: %w", err)
	}
	return s.append(journalRecord{File: path, Upload: &u})
}

// ForgetFile makes "jobsync no longer keeps a file at path" durable.
func (s *Store) ForgetFile(ctx context.Context, path string) error {
	if err := checkFile(path, UploadedFile{Digest: "-"}); err != nil {
		return fmt.Errorf("state: cannot forget: %w", err)
	}
	return s.append(journalRecord{File: path, Forget: true})
}

// UploadedFile returns what is recorded for the workspace file at path.
// It is safe to call during an apply.
func (s *Store) UploadedFile(path string) (UploadedFile, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return UploadedFile{}, false
	}
	u, ok := s.file.Files[path]
	return u, ok
}

// Forget makes "key is no longer managed" durable, like Record.
func (s *Store) Forget(ctx context.Context, key string) error {
	if key == "" {
		return errors.New("state: Forget needs a key")
	}
	return s.append(journalRecord{Key: key, Forget: true})
}

func (s *Store) append(r journalRecord) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// As Write does: the journal's Applied bytes become the lockfile's.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("state: encoding the record of %q: %w", r.Key, err)
	}
	line := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	// Decode what will be on disk, so that memory holds exactly what a
	// replay would (numbers as json.Number, no aliasing of the caller's
	// maps).
	dr, err := decodeRecord(line)
	if err != nil {
		return fmt.Errorf("state: the record of %q does not read back: %w", r.Key+r.File, err)
	}
	line = append(line, '\n')

	s.mu.Lock()
	if s.file == nil {
		s.mu.Unlock()
		return errors.New("state: no lockfile to record into (call Init first)")
	}
	// Memory follows the workspace even when the disk fails: the action
	// did happen, and Commit may still manage to save it.
	dr.apply(s.file)
	s.touched[dr.touchKey()] = struct{}{}
	if s.broken != nil {
		s.mu.Unlock()
		return s.broken
	}
	if err := s.openJournal(); err != nil {
		s.broken = err
		s.mu.Unlock()
		return err
	}
	if _, err := s.journal.Write(line); err != nil {
		s.broken = fmt.Errorf("appending to the apply journal %s: %w%s", s.jpath, err, diskHint(err))
		s.mu.Unlock()
		return s.broken
	}
	s.written++
	seq := s.written
	s.mu.Unlock()
	return s.syncTo(seq)
}

// syncTo returns once record seq is durable. Whoever gets syncMu first
// fsyncs everything written so far, so records appended concurrently share
// one fsync.
func (s *Store) syncTo(seq uint64) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if s.synced >= seq {
		return nil
	}
	s.mu.Lock()
	j, target, broken := s.journal, s.written, s.broken
	s.mu.Unlock()
	if broken != nil {
		return broken
	}
	if err := j.Sync(); err != nil {
		err = fmt.Errorf("flushing the apply journal %s to disk: %w%s", s.jpath, err, diskHint(err))
		s.mu.Lock()
		s.broken = err
		s.mu.Unlock()
		return err
	}
	s.synced = target
	return nil
}

// openJournal opens the journal for appending, creating it with its header,
// or cutting off a torn tail left by a crash. Called with mu held.
func (s *Store) openJournal() error {
	if s.journal != nil {
		return nil
	}
	if s.journalLen > 0 {
		j, err := os.OpenFile(s.jpath, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return fmt.Errorf("opening the apply journal %s: %w%s", s.jpath, err, diskHint(err))
		}
		if err := j.Truncate(s.journalLen); err != nil {
			_ = j.Close()
			return fmt.Errorf("cutting the torn end off the apply journal %s: %w%s", s.jpath, err, diskHint(err))
		}
		s.journal = j
		return nil
	}
	// No journal, or one whose header never made it to disk whole.
	j, err := os.OpenFile(s.jpath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, s.mode)
	if err != nil {
		return fmt.Errorf("creating the apply journal %s: %w%s", s.jpath, err, diskHint(err))
	}
	h, err := json.Marshal(journalHeader{Journal: journalVersion, Workspace: s.file.Workspace,
		Project: s.file.Project, Lineage: s.file.Lineage, Serial: s.diskSerial})
	if err == nil {
		_, err = j.Write(append(h, '\n'))
	}
	if err == nil {
		err = j.Sync()
	}
	if err == nil {
		// The journal's directory entry must be durable too, or a crash
		// could lose the whole file along with every record in it.
		err = syncDir(filepath.Dir(s.jpath))
	}
	if err != nil {
		_ = j.Close()
		return fmt.Errorf("starting the apply journal %s: %w%s", s.jpath, err, diskHint(err))
	}
	s.journal = j
	s.journalLen = int64(len(h) + 1)
	return nil
}

// Commit folds the journal into the lockfile: one atomic, durable rewrite
// (serial+1 when the content changed; no rewrite at all when it did not),
// then the journal is removed. Like Record it ignores cancellation of ctx:
// it is what saves the work of an interrupted apply.
func (s *Store) Commit(ctx context.Context) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return nil
	}
	if s.changed() {
		f := *s.file
		f.Serial = s.diskSerial + 1
		data, err := marshal(&f)
		if err != nil {
			return err
		}
		removeStaleTemps(s.path)
		if err := writeFileAtomic(s.path, data, s.mode); err != nil {
			return fmt.Errorf("saving the lockfile: %w", err)
		}
		s.diskSerial = f.Serial
		s.disk = snapshot(&f)
	}
	s.touched = map[string]struct{}{}
	s.file.Serial = s.diskSerial
	s.synced = s.written
	return s.dropJournal()
}

// changed reports whether the lockfile in memory differs from the one on
// disk. Called with mu held. Keys recorded or forgotten since the last
// read or write are compared by their encoding; the others by identity
// (same id, same maps), which costs microseconds for 10,000 jobs and still
// notices an entry replaced through File() rather than Record.
func (s *Store) changed() bool {
	d, f := s.disk, s.file
	if d == nil || d.Workspace != f.Workspace || d.Project != f.Project || d.Lineage != f.Lineage ||
		len(d.Jobs) != len(f.Jobs) || len(d.Files) != len(f.Files) {
		return true
	}
	for p, u := range f.Files {
		if du, ok := d.Files[p]; !ok || du != u {
			return true
		}
	}
	for k, b := range f.Jobs {
		a, ok := d.Jobs[k]
		if !ok {
			return true
		}
		if _, t := s.touched[k]; !t && identical(a, b) {
			continue
		}
		if !sameJob(a, b) {
			return true
		}
	}
	return false
}

// identical reports whether two entries are the very same values.
func identical(a, b Job) bool {
	return a.JobID == b.JobID && sameRef(a.Applied, b.Applied) && sameRef(a.Permissions, b.Permissions)
}

func sameRef(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.IsNil() || vb.IsNil() {
		return va.IsNil() && vb.IsNil()
	}
	return va.Pointer() == vb.Pointer() && va.Len() == vb.Len()
}

// sameJob compares two jobs by their encoding, which is what would be
// written: json.Number("1") and float64(1) would otherwise differ.
func sameJob(a, b Job) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// snapshot copies f with its own jobs map, so that later records, which
// replace map entries (never mutate them), leave it alone.
func snapshot(f *File) *File {
	c := *f
	c.Jobs = make(map[string]Job, len(f.Jobs))
	for k, v := range f.Jobs {
		c.Jobs[k] = v
	}
	if f.Files != nil {
		c.Files = make(map[string]UploadedFile, len(f.Files))
		for k, v := range f.Files {
			c.Files[k] = v
		}
	}
	return &c
}

// removeStaleTemps deletes temp files that a process killed in the middle
// of a Commit left next to the lockfile. Only the lock holder commits, so
// none of them can belong to a write in progress.
func removeStaleTemps(path string) {
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+globEscape(filepath.Base(path))+".tmp-*"))
	for _, m := range matches {
		_ = os.Remove(m)
	}
}

func globEscape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '*' || c == '?' || c == '[' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(b)
}

// dropJournal removes the journal once the lockfile holds all of it.
// Called with mu held.
func (s *Store) dropJournal() error {
	if s.journal != nil {
		_ = s.journal.Close()
		s.journal = nil
	}
	s.broken = nil
	if s.journalLen < 0 {
		return nil
	}
	if err := os.Remove(s.jpath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the lockfile is saved, but removing the apply journal %s failed: %w "+
			"(it is harmless: replaying it changes nothing; remove it by hand)", s.jpath, err)
	}
	s.journalLen = -1
	// Best effort: if the removal is lost in a crash, the journal is
	// replayed onto a lockfile that already holds it, which changes nothing.
	_ = syncDir(filepath.Dir(s.jpath))
	return nil
}

// Close releases the journal without folding it in (it is replayed by the
// next Open). Use Commit to save.
func (s *Store) Close() error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.journal == nil {
		return nil
	}
	err := s.journal.Close()
	s.journal = nil
	// Whatever was appended is now whole lines on disk.
	if fi, statErr := os.Stat(s.jpath); statErr == nil {
		s.journalLen = fi.Size()
	}
	return err
}

// Keys returns the recorded keys, sorted.
func (f *File) Keys() []string {
	keys := make([]string, 0, len(f.Jobs))
	for k := range f.Jobs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
