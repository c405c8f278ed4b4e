package schema

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// Limits on what Load reads. A pull request can add any file to a
// repository, and `jobsync plan` runs on pull requests, so a job file that
// is a link to /dev/zero, a named pipe or a 50 MB generated file must get a
// message, not take the runner's memory or hang it. Parsing YAML takes
// about 20 to 40 times the file's size in memory, so the caps below keep a
// worst-case load under a few hundred MB.
const (
	// MaxFileBytes is the largest job or project file read: 8 MiB. A job
	// of the API's 1,000 tasks is about 1 MB of YAML; the benchmarks'
	// 10,000-job projects are 50 jobs per file.
	MaxFileBytes = 8 << 20
	// MaxTotalBytes bounds all job files of one load together: 64 MiB,
	// several times a 10,000-job project.
	MaxTotalBytes = 64 << 20
	// MaxJobs is the most jobs one configuration may define: 20,000,
	// twice a workspace's default quota of 10,000 saved jobs (jobs-api.md
	// §6.4), so a project that hits it could never be applied anyway.
	MaxJobs = 20_000
	// MaxUploadBytes is the largest local file a bundle job may name for
	// upload (a notebook, a Python file, a wheel): 64 MiB. Uploads are read
	// whole to be digested and sent, so a link to /dev/zero or a huge
	// file must be refused before it is read; the workspace's own limit
	// for notebooks is lower still (10 MB, checked after).
	MaxUploadBytes = 64 << 20
)

// readFile reads a job or project file: a regular file (a symbolic link to
// one is followed), at most MaxFileBytes. Anything else gets an error that
// says what the file is.
func readFile(path string) ([]byte, error) {
	return readRegular(path, MaxFileBytes, tooLarge)
}

// readUpload reads a local file a bundle job names for upload, at most
// MaxUploadBytes.
func readUpload(path string) ([]byte, error) {
	return readRegular(path, MaxUploadBytes, func(size int64) error {
		return &fileError{fmt.Sprintf("the file is %s; jobsync uploads files of at most %s", sizeText(size), sizeText(MaxUploadBytes))}
	})
}

// readRegular reads a regular file of at most max bytes; tooBig words the
// refusal of a larger one. The file is opened without blocking, so that a
// named pipe swapped in after the check cannot hang the read either.
func readRegular(path string, max int64, tooBig func(size int64) error) ([]byte, error) {
	var b bytes.Buffer
	if err := readRegularTo(&b, path, max, tooBig); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// readText is readFile as a string (its scalars are pieces of it: one
// copy of the file, not one per value).
func readText(path string) (string, error) {
	var b strings.Builder
	if err := readRegularTo(&b, path, MaxFileBytes, tooLarge); err != nil {
		return "", err
	}
	return b.String(), nil
}

func readRegularTo(w interface {
	io.Writer
	Grow(int)
}, path string, max int64, tooBig func(size int64) error) error {
	st, err := os.Stat(path)
	if err != nil {
		return unwrapPathError(err)
	}
	if err := regular(st); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return unwrapPathError(err)
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return unwrapPathError(err)
	}
	if err := regular(st); err != nil {
		return err
	}
	if st.Size() > max {
		return tooBig(st.Size())
	}
	// The size can change between the check and the read: read one byte
	// past the limit to know.
	// (A bytes.Buffer reads in steps of bytes.MinRead.)
	w.Grow(int(st.Size()) + bytes.MinRead + 1)
	n, err := io.Copy(w, io.LimitReader(f, max+1))
	if err != nil {
		return unwrapPathError(err)
	}
	if n > max {
		return tooBig(n)
	}
	return nil
}

// fileError is a file that readFile refuses to read; its text is the whole
// message.
type fileError struct{ msg string }

func (e *fileError) Error() string { return e.msg }

func tooLarge(size int64) error {
	return &fileError{fmt.Sprintf("the file is %s; jobsync reads YAML files of at most %s: split it into several files", sizeText(size), sizeText(MaxFileBytes))}
}

// regular refuses anything but a regular file, naming what it is.
func regular(st fs.FileInfo) error {
	m := st.Mode()
	var what string
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		what = "a device"
	default:
		what = "not a regular file"
	}
	return &fileError{fmt.Sprintf("this is %s, not a regular file: jobsync reads only regular files; remove it or give it a name that does not end in .yml or .yaml", what)}
}

// sizeText writes a byte count for people: 8 MiB, 30.2 MiB, 512 KiB.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		if n%(1<<20) == 0 {
			return fmt.Sprintf("%d MiB", n>>20)
		}
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
