package state

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
)

// New returns an empty lockfile for one workspace and project, with a fresh
// lineage and serial 0. Serial 0 means "never written": the first Commit
// makes it 1.
func New(workspace, project string) *File {
	return &File{
		Version:   Version,
		Workspace: NormalizeHost(workspace),
		Project:   project,
		Lineage:   newLineage(),
		Jobs:      map[string]Job{},
	}
}

// newLineage returns a random UUID (version 4). crypto/rand never fails on
// the platforms Go supports (it panics inside the runtime instead), so there
// is no error to return.
func newLineage() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// NormalizeHost returns the canonical form of a workspace URL: scheme and
// host in lower case, https:// when no scheme is given, no path, no
// trailing slash. Two spellings of one workspace compare equal after it.
func NormalizeHost(host string) string {
	h := strings.TrimSpace(host)
	if h == "" {
		return ""
	}
	if !strings.Contains(h, "://") {
		h = "https://" + h
	}
	u, err := url.Parse(h)
	if err != nil || u.Host == "" {
		// Not a URL we understand: compare it as written, minus the slash.
		return strings.TrimRight(strings.ToLower(h), "/")
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
}

// CheckWorkspace refuses to use the lockfile against another workspace: its
// job ids mean nothing there, and acting on them could touch someone else's
// jobs.
func (f *File) CheckWorkspace(host string) error {
	want, got := NormalizeHost(f.Workspace), NormalizeHost(host)
	if want == got {
		return nil
	}
	return &WorkspaceError{Lockfile: want, Host: got}
}

// CheckProject refuses a lockfile written for another project (or target):
// its keys name that project's jobs.
func (f *File) CheckProject(project string) error {
	if f.Project == project {
		return nil
	}
	return fmt.Errorf("the lockfile belongs to project %q, not %q: use that project's lockfile (--lockfile), or remove this one to rebuild it from the workspace", f.Project, project)
}

// WorkspaceError says a lockfile belongs to another workspace.
type WorkspaceError struct {
	Lockfile string // the workspace recorded in the lockfile
	Host     string // the workspace jobsync was pointed at
}

func (e *WorkspaceError) Error() string {
	return fmt.Sprintf("the lockfile belongs to workspace %s, but jobsync is pointed at %s: "+
		"point --host (or DATABRICKS_HOST) at %s, or use a separate lockfile for %s (--lockfile)",
		e.Lockfile, e.Host, e.Lockfile, e.Host)
}

// VersionError says a lockfile was written by a newer jobsync.
type VersionError struct {
	Found, Supported int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("lockfile version %d is newer than this jobsync understands (%d): upgrade jobsync", e.Found, e.Supported)
}

// CorruptError says the lockfile cannot be read as a lockfile at all. It is
// never answered by starting over silently: that would forget which jobs
// jobsync manages.
type CorruptError struct {
	Problem string
	// Hint says what to do; empty means the general advice.
	Hint string
}

func (e *CorruptError) Error() string {
	hint := e.Hint
	if hint == "" {
		hint = "restore the last good copy from version control (git checkout -- <lockfile>), or move it " +
			"aside and run `jobsync plan` to rebuild it from the ownership tags of the jobs in the workspace"
	}
	return "the lockfile is corrupt: " + e.Problem + ": " + hint
}

func corrupt(format string, args ...any) error {
	return &CorruptError{Problem: fmt.Sprintf(format, args...)}
}

// Read parses a lockfile. It sniffs "version" first, so that a file from a
// newer jobsync is refused with a message saying so rather than with a
// confusing field error. Numbers inside job settings stay json.Number.
func Read(r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxStateFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading the lockfile: %w", err)
	}
	if len(data) > maxStateFile {
		return nil, corrupt("it is larger than %d MiB", maxStateFile>>20)
	}
	return parse(data)
}

func parse(data []byte) (*File, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, corrupt("it is empty")
	}
	if bytes.Contains(data, []byte("\n<<<<<<< ")) || bytes.HasPrefix(data, []byte("<<<<<<< ")) {
		return nil, &CorruptError{
			Problem: "it contains git merge-conflict markers (<<<<<<<)",
			Hint: "take one side whole (git checkout --ours or --theirs -- <lockfile>) and run `jobsync plan`: " +
				"jobs the other side created are adopted again by their ownership tags",
		}
	}
	raw, err := sniffVersion(trimmed)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, corrupt(`it has no "version" field, so it is not a jobsync lockfile`)
	}
	var v int
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, corrupt(`"version" is %s, not a whole number`, raw)
	}
	switch {
	case v > Version:
		return nil, &VersionError{Found: v, Supported: Version}
	case v < 1:
		return nil, corrupt("version %d does not exist (the first lockfile version is 1)", v)
	}
	return parseV1(trimmed)
}

// sniffVersion returns the raw value of the top-level "version" field, nil
// when there is none. jobsync writes it first, so this reads a few tokens,
// not the whole file; it only walks further for files written by others.
func sniffVersion(data []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, invalid(data)
	}
	if tok != json.Delim('{') {
		if !json.Valid(data) {
			return nil, invalid(data)
		}
		return nil, corrupt("it is not a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, invalid(data)
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, invalid(data)
		}
		if tok == "version" {
			return value, nil
		}
	}
	return nil, nil
}

// invalid describes data that failed to parse.
func invalid(data []byte) error {
	return corrupt("%s", syntaxProblem(data))
}

// parseV1 reads format version 1. When version 2 comes, parseV1 stays and
// upgrades its result; only the latest version is ever written.
func parseV1(data []byte) (*File, error) {
	if f, ok := readFast(data); ok {
		if err := checkV1(f, false); err != nil {
			return nil, err
		}
		return f, nil
	}
	return decodeV1(data)
}

// decodeV1 is parseV1 with encoding/json, for any file readFast declines.
func decodeV1(data []byte) (*File, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	// Unknown fields are refused rather than dropped: the next Commit would
	// otherwise erase them without anyone noticing.
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		if !json.Valid(data) {
			return nil, invalid(data)
		}
		return nil, corrupt("%s", fieldProblem(err))
	}
	if len(bytes.TrimSpace(data[dec.InputOffset():])) > 0 {
		return nil, invalid(data)
	}
	if key, off, dup := duplicateKey(data); dup {
		line, col := position(data, int64(off))
		return nil, corrupt("key %q appears twice in one object (line %d, column %d), so one of the two would be lost; "+
			"keep the right one", key, line, col)
	}
	if err := checkV1(&f, true); err != nil {
		return nil, err
	}
	return &f, nil
}

// checkV1 checks what a syntactically valid lockfile holds, making its
// applied records compact when they are not yet (readFast's are).
func checkV1(f *File, compact bool) error {
	if f.Workspace == "" {
		return corrupt(`"workspace" is missing`)
	}
	if f.Lineage == "" {
		return corrupt(`"lineage" is missing`)
	}
	if f.Jobs == nil {
		f.Jobs = map[string]Job{}
	}
	for p, u := range f.Files {
		if err := checkFile(p, u); err != nil {
			return corrupt("%v", err)
		}
	}
	keys := make([]string, 0, len(f.Jobs))
	for k := range f.Jobs {
		keys = append(keys, k)
	}
	// Sorted, so that of several bad entries the same one is reported.
	sort.Strings(keys)
	for _, k := range keys {
		j := f.Jobs[k]
		if err := checkEntry(k, j); err != nil {
			return corrupt("%v", err)
		}
		if !compact {
			continue
		}
		applied, err := compactApplied(j.Applied)
		if err != nil {
			return corrupt("job %q: %v", k, err)
		}
		j.Applied = applied
		f.Jobs[k] = j
	}
	return nil
}

// checkFile checks a recorded upload: an absolute workspace path and a
// digest.
func checkFile(path string, u UploadedFile) error {
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("file %q is not a workspace path (it must start with /)", path)
	}
	if u.Digest == "" {
		return fmt.Errorf("file %q has no digest", path)
	}
	return nil
}

func checkEntry(key string, j Job) error {
	if key == "" {
		return errors.New("a job has an empty key")
	}
	if j.JobID <= 0 {
		return fmt.Errorf("job %q has job_id %d; job ids are positive", key, j.JobID)
	}
	return nil
}

// syntaxProblem describes invalid JSON, telling a truncated file (the usual
// result of an interrupted copy or a full disk) apart from garbage.
func syntaxProblem(data []byte) string {
	var v any
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	switch {
	case err == nil:
		return "it is not valid JSON"
	case errors.As(err, &se):
		if strings.Contains(se.Error(), "unexpected end of JSON input") {
			return fmt.Sprintf("it ends early (truncated after %d bytes)", len(data))
		}
		// Offset counts the offending byte too.
		line, col := position(data, max(se.Offset-1, 0))
		return fmt.Sprintf("invalid JSON at line %d, column %d: %v", line, col, se)
	case strings.Contains(err.Error(), "unexpected end of JSON input"):
		return fmt.Sprintf("it ends early (truncated after %d bytes)", len(data))
	}
	return "invalid JSON: " + err.Error()
}

func fieldProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q should be %v, not a JSON %s", te.Field, te.Type, te.Value)
	}
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown field " + rest + " (was it written by a newer jobsync, or edited by hand?)"
	}
	return msg
}

func position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col = 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// Write encodes f in the latest format: map keys sorted, two-space indent,
// trailing newline, no timestamps, HTML characters left as they are. The
// same content always gives the same bytes, so that git diffs of a committed
// lockfile show only real changes.
func Write(w io.Writer, f *File) error {
	b, err := marshal(f)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func marshal(f *File) ([]byte, error) {
	if f == nil {
		return nil, errors.New("state.Write: no lockfile to write")
	}
	out := *f
	out.Version = Version
	if out.Jobs == nil {
		out.Jobs = map[string]Job{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		return nil, fmt.Errorf("encoding the lockfile: %w", err)
	}
	return buf.Bytes(), nil
}
