package yamledit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"

	"github.com/jobsync/jobsync/internal/atomicfile"
)

// maxFileSize bounds a job file yamledit reads (the loader read it
// already; this only guards against it having grown since).
const maxFileSize = 64 << 20

// ApplyFiles reads each file that edits names (by OS path) and applies its
// edits; results come back sorted by file name. Nothing is written.
func ApplyFiles(ctx context.Context, edits map[string][]Edit) ([]*Result, error) {
	names := make([]string, 0, len(edits))
	for f := range edits {
		names = append(names, f)
	}
	sort.Strings(names)
	out := make([]*Result, 0, len(names))
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		src, err := readFile(name)
		if err != nil {
			return nil, err
		}
		res, err := Apply(filepath.ToSlash(name), src, edits[name])
		if err != nil {
			return nil, err
		}
		res.path = name
		out = append(out, res)
	}
	return out, nil
}

func readFile(name string) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	if fi.Size() > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d MB", name, maxFileSize>>20)
	}
	return os.ReadFile(name)
}

// Write replaces every changed file with its new text, atomically one by
// one (a temporary file in the same directory, synced, renamed over the
// old one). When one fails, those already replaced get their old text
// back, so that a pull is all or nothing. A file that changed on disk since
// it was read is not overwritten.
func Write(ctx context.Context, results []*Result) error {
	var done []*Result
	for _, r := range results {
		if !r.Changed() {
			continue
		}
		if err := ctx.Err(); err != nil {
			return errors.Join(err, restore(done))
		}
		cur, err := readFile(r.osPath())
		if err != nil {
			return errors.Join(err, restore(done))
		}
		if string(cur) != string(r.Old) {
			return errors.Join(fmt.Errorf("%s changed on disk while jobsync was editing it; nothing was written: run the command again", r.File), restore(done))
		}
		if err := writeAtomic(r.osPath(), r.New); err != nil {
			return errors.Join(err, restore(done))
		}
		done = append(done, r)
	}
	return nil
}

// Restore puts the old text of every changed file back (after Write, when
// a later step finds the result wrong).
func Restore(results []*Result) error {
	var changed []*Result
	for _, r := range results {
		if r.Changed() {
			changed = append(changed, r)
		}
	}
	return restore(changed)
}

func restore(done []*Result) error {
	var errs []error
	for _, r := range done {
		if err := writeAtomic(r.osPath(), r.Old); err != nil {
			errs = append(errs, fmt.Errorf("restoring %s: %w", r.File, err))
		}
	}
	return errors.Join(errs...)
}

func (r *Result) osPath() string {
	if r.path != "" {
		return r.path
	}
	return filepath.FromSlash(r.File)
}

// writeAtomic replaces path whole, keeping its mode (and, for a link, the
// link: the file it names is written).
func writeAtomic(path string, data []byte) error {
	perm := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		perm = fi.Mode().Perm()
	}
	return atomicfile.Write(path, data, perm)
}

// Diff is the unified diff of the file's change (3 lines of context, the
// file named a/FILE and b/FILE as git does), "" when it did not change.
func (r *Result) Diff() string {
	if !r.Changed() {
		return ""
	}
	dmp := diffmatchpatch.New()
	a, b, lines := dmp.DiffLinesToChars(string(r.Old), string(r.New))
	diffs := dmp.DiffCharsToLines(dmp.DiffMain(a, b, false), lines)
	type line struct {
		op   diffmatchpatch.Operation
		text string
	}
	var all []line
	for _, d := range diffs {
		for _, l := range strings.SplitAfter(d.Text, "\n") {
			if l != "" {
				all = append(all, line{d.Type, l})
			}
		}
	}
	const context = 3
	var b2 strings.Builder
	fmt.Fprintf(&b2, "--- a/%s\n+++ b/%s\n", r.File, r.File)
	oldNo, newNo := make([]int, len(all)), make([]int, len(all))
	o, n := 1, 1
	for i, l := range all {
		oldNo[i], newNo[i] = o, n
		if l.op != diffmatchpatch.DiffInsert {
			o++
		}
		if l.op != diffmatchpatch.DiffDelete {
			n++
		}
	}
	for i := 0; i < len(all); {
		if all[i].op == diffmatchpatch.DiffEqual {
			i++
			continue
		}
		start := max(0, i-context)
		end := i
		// Extend over changes closer than two contexts apart.
		for j := i; j < len(all); j++ {
			if all[j].op != diffmatchpatch.DiffEqual {
				end = j + 1
				continue
			}
			if j-end >= 2*context {
				break
			}
		}
		stop := min(len(all), end+context)
		oldLen, newLen := 0, 0
		for _, l := range all[start:stop] {
			if l.op != diffmatchpatch.DiffInsert {
				oldLen++
			}
			if l.op != diffmatchpatch.DiffDelete {
				newLen++
			}
		}
		oldStart, newStart := oldNo[start], newNo[start]
		if oldLen == 0 {
			oldStart--
		}
		if newLen == 0 {
			newStart--
		}
		fmt.Fprintf(&b2, "@@ -%s +%s @@\n", hunkRange(oldStart, oldLen), hunkRange(newStart, newLen))
		for _, l := range all[start:stop] {
			sign := " "
			switch l.op {
			case diffmatchpatch.DiffInsert:
				sign = "+"
			case diffmatchpatch.DiffDelete:
				sign = "-"
			}
			b2.WriteString(sign)
			b2.WriteString(l.text)
			if !strings.HasSuffix(l.text, "\n") {
				b2.WriteString("\n\\ No newline at end of file\n")
			}
		}
		i = stop
	}
	return b2.String()
}

func hunkRange(start, n int) string {
	if n == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}
