package applier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
	"github.com/jobsync/jobsync/state"
)

// The file actions of a bundle's local files. An upload writes the file
// with overwrite (the same state however often it is sent, so a retry or
// a re-run after a crash is harmless), then records its digest; a crash
// before the record makes the next plan upload it again, never records a
// file half-sent. Job writes that name the file wait for its upload
// (Action.Files).

// upload makes the folder and writes one file.
func (a *applier) upload(ctx context.Context, act *planner.Action) (string, error) {
	f := act.File
	if f == nil || f.Path == "" || f.Local == "" {
		return "", fmt.Errorf("the plan's upload %s names no file: the plan file is damaged or was edited; make the plan again with `jobsync plan`", act.Key)
	}
	if !planner.InFilesRoot(f.Root, f.Path) {
		// Uploads overwrite: one aimed outside the files folder (an edited
		// plan file) could replace anybody's file.
		return "", fmt.Errorf("the plan's upload of %s goes to %s, outside its files folder %q: the plan file is damaged or was edited; make the plan again with `jobsync plan`", f.Name, f.Path, f.Root)
	}
	data, err := readPlanned(f.Local, f.Size)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", f.Name, unwrapPath(err))
	}
	if f.DigestOf(data) != f.Digest {
		return "", fmt.Errorf("%s changed since the plan was made: make the plan again with `jobsync plan`", f.Name)
	}
	dir := path.Dir(f.Path)
	if err := a.mkdirs(ctx, dir); err != nil {
		return "", err
	}
	write := func() error {
		switch f.Format {
		case "":
			return a.client.ImportFile(ctx, f.Path, data, true)
		case jobsapi.FormatSource, jobsapi.FormatJupyter:
			return a.client.Import(ctx, f.Path, data, jobsapi.ImportOptions{Format: f.Format, Language: f.Language, Overwrite: true})
		}
		return fmt.Errorf("unknown import format %q", f.Format)
	}
	err = write()
	if errors.Is(err, jobsapi.ErrNotFound) {
		// The folder went away between mkdirs and import (another apply
		// pruned it): make it again, once.
		a.dirs.Delete(dir)
		if err = a.mkdirs(ctx, dir); err == nil {
			err = write()
		}
	}
	if err != nil {
		return "", fmt.Errorf("uploading %s to %s: %w", f.Name, f.Path, err)
	}
	if err := a.store.RecordFile(ctx, f.Path, state.UploadedFile{Digest: f.Digest, Size: int64(len(data)), Source: f.Name}); err != nil {
		return "", fmt.Errorf("%s was uploaded, but recording it in the lockfile failed: %w", f.Name, err)
	}
	return "", nil
}

// mkdirs makes a folder once per apply (mkdirs of an existing folder is a
// no-op in the workspace; this only saves the requests).
func (a *applier) mkdirs(ctx context.Context, dir string) error {
	if _, done := a.dirs.Load(dir); done {
		return nil
	}
	if err := a.client.Mkdirs(ctx, dir); err != nil {
		return fmt.Errorf("making the workspace folder %s: %w", dir, err)
	}
	a.dirs.Store(dir, true)
	return nil
}

// deleteFile removes a file jobsync uploaded, then the folders it leaves
// empty up to the plan's root.
func (a *applier) deleteFile(ctx context.Context, act *planner.Action) (string, error) {
	p := act.Key
	if act.File != nil && act.File.Path != "" {
		p = act.File.Path
	}
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("the plan's delete-file %q is not a workspace path: the plan file is damaged or was edited; make the plan again", p)
	}
	// Only a file this project uploaded, inside its files folder: the
	// planner refuses others, and an edited plan file must not get round
	// that.
	if _, ok := a.store.UploadedFile(p); !ok {
		return "", fmt.Errorf("the plan deletes the workspace file %s, which the lockfile does not record as uploaded by jobsync: the plan file is damaged or was edited; make the plan again", p)
	}
	if act.File == nil || !planner.InFilesRoot(act.File.Root, p) {
		return "", fmt.Errorf("the plan deletes the workspace file %s, outside its files folder: the plan file is damaged or was edited; make the plan again", p)
	}
	note := ""
	err := a.client.DeleteObject(ctx, p, false)
	switch {
	case jobsapi.IsNotFound(err):
		note = "already gone"
	case err != nil:
		return "", fmt.Errorf("deleting the workspace file %s: %w", p, err)
	}
	if err := a.store.ForgetFile(ctx, p); err != nil {
		return note, fmt.Errorf("%s was deleted, but recording that in the lockfile failed: %w", p, err)
	}
	root := act.File.Root
	for dir := path.Dir(p); dir == root || strings.HasPrefix(dir, root+"/"); dir = path.Dir(dir) {
		// Non-recursive: a folder that still holds anything (another of
		// our files, or someone else's) stays.
		if err := a.client.DeleteObject(ctx, dir, false); err != nil {
			break
		}
		a.dirs.Delete(dir)
	}
	return note, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readPlanned reads a file the plan digested: a regular file of the size
// the plan recorded (a file swapped since for a link to /dev/zero or a
// named pipe is refused, never read without end; a changed size fails the
// digest check that follows).
func readPlanned(local string, size int64) ([]byte, error) {
	f, err := os.OpenFile(local, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is no longer a regular file (%s)", local, st.Mode().Type())
	}
	return io.ReadAll(io.LimitReader(f, size+1))
}
