package state

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// maxStateFile bounds the lockfile and the journal. 10,000 realistic jobs
// take 41.6 MB (BENCHMARKS.md, BenchmarkCommit10k); six times that still
// fits in memory, while a runaway input (a huge file planted in a pull
// request) is refused before it is read.
const maxStateFile = 256 << 20

// notRegularError says a state file is a link, a device, a FIFO or a
// directory. jobsync reads and writes only regular files: a FIFO would hang
// the read, a device would never end, and a link would be replaced by the
// atomic rename of the next write while the file it points to kept the old
// content.
type notRegularError struct {
	What, Path string
	Mode       fs.FileMode
	Target     string // a link's target, when it could be read
}

func (e *notRegularError) Error() string {
	what := describeMode(e.Mode)
	if e.Target != "" {
		what += " (to " + e.Target + ")"
	}
	switch {
	case e.What != "lockfile":
		return fmt.Sprintf("the %s %s is %s, not a regular file: jobsync never makes one like it; move it aside "+
			"(jobs an interrupted apply recorded in a journal are found again by their ownership tags)", e.What, e.Path, what)
	case e.Mode&fs.ModeSymlink != 0:
		return fmt.Sprintf("the lockfile %s is %s: jobsync saves the lockfile by renaming a new file over it, "+
			"which would replace the link and leave the file it points to as it was, so it refuses links; "+
			"point --lockfile (or the target's lockfile:) at the file itself, or replace the link with that file", e.Path, what)
	}
	return fmt.Sprintf("the lockfile %s is %s, not a regular file: point --lockfile (or the target's lockfile:) at a regular file, "+
		"or move it aside", e.Path, what)
}

// describeMode names a file type for messages.
func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file (" + m.Type().String() + ")"
}

// readRegular reads the state file at path (what names it in messages),
// refusing anything but a regular file of at most limit bytes. A missing
// file gives an error wrapping fs.ErrNotExist.
func readRegular(path, what string, limit int64) ([]byte, error) {
	data, _, err := readRegularPrefix(path, what, limit, limit)
	return data, err
}

// readRegularPrefix is readRegular that stops after the first prefix bytes;
// whole says the data is the whole file.
func readRegularPrefix(path, what string, limit, prefix int64) (data []byte, whole bool, err error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, false, err
	}
	if !fi.Mode().IsRegular() {
		return nil, false, notRegular(what, path, fi.Mode())
	}
	// O_NOFOLLOW and O_NONBLOCK close the gap between the Lstat and the
	// open: a link or FIFO swapped in meanwhile fails, or opens without
	// waiting for a writer, and the Stat below refuses it.
	f, err := os.OpenFile(path, os.O_RDONLY|openNoFollow, 0)
	if err != nil {
		if isLinkLoop(err) {
			return nil, false, notRegular(what, path, fs.ModeSymlink)
		}
		return nil, false, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, false, err
	}
	if !fi.Mode().IsRegular() {
		return nil, false, notRegular(what, path, fi.Mode())
	}
	if fi.Size() > limit {
		return nil, false, tooLarge(what, path, fi.Size(), limit)
	}
	data = make([]byte, 0, min(fi.Size(), prefix)+1)
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if int64(len(data)) > limit {
			return nil, false, tooLarge(what, path, int64(len(data)), limit)
		}
		if errors.Is(err, io.EOF) {
			return data, true, nil
		}
		if err != nil {
			return nil, false, err
		}
		if int64(len(data)) > prefix {
			return data, false, nil
		}
		if len(data) == cap(data) {
			// It grew while being read.
			data = append(data, 0)[:len(data)]
		}
	}
}

func notRegular(what, path string, mode fs.FileMode) error {
	e := &notRegularError{What: what, Path: path, Mode: mode}
	if mode&fs.ModeSymlink != 0 {
		e.Target, _ = os.Readlink(path)
	}
	return e
}

func tooLarge(what, path string, size, limit int64) error {
	return fmt.Errorf("the %s %s is larger than %d MiB (%d bytes): that is no jobsync %s (10,000 realistic jobs take about 42 MB); "+
		"move it aside, or point --lockfile at the right file", what, path, limit>>20, size, what)
}
