package planner

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/jobsync/jobsync/schema"
	"github.com/jobsync/jobsync/state"
)

// planFiles adds the file actions of a bundle's local files to a plan whose
// job actions are in order: an upload for every file whose content the
// lockfile does not record at its workspace path (or that is missing from
// the workspace), first; a delete-file for every recorded file no job
// names any more (with Prune or Destroy, else listed in Skipped), last.
// Uploads are content-addressed: an unchanged file is never sent again.
// With Only, just the files of the selected jobs are uploaded, and none
// deleted.
//
// A delete goes only to a file the lockfile records inside FilesRoot
// (InFilesRoot): the lockfile is a file in the repository that anyone can
// edit, and an entry naming /Workspace/Users/someone/else.py must not make
// --prune or destroy delete someone else's file. A recorded file outside
// the root, or any recorded file when the root is not known, makes a plan
// that would delete it fail, with what to do.
func planFiles(in *Input, p *Plan, desired map[string]*schema.Job, only map[string]bool) error {
	var recorded map[string]state.UploadedFile
	if in.Lock != nil {
		recorded = in.Lock.Files
	}
	wanted := map[string]bool{}
	var uploads []Action
	if !in.Destroy {
		used := map[string]bool{}
		for k, j := range desired {
			if only != nil && !only[k] {
				continue
			}
			for _, f := range j.Files {
				used[f] = true
			}
		}
		for _, u := range in.Uploads {
			wanted[u.Remote] = true
			if !used[u.Remote] && only != nil {
				continue
			}
			reason := ""
			rec, ok := recorded[u.Remote]
			switch {
			case !ok:
				reason = "new file"
			case rec.Digest != u.Digest:
				reason = "changed since the last upload"
			case in.LiveFiles != nil && in.LiveFiles[u.Remote] != liveType(u):
				reason = "missing from the workspace (removed outside jobsync?)"
				if t := in.LiveFiles[u.Remote]; t != "" {
					reason = fmt.Sprintf("the workspace holds a %s there, not this %s", t, liveType(u))
				}
			default:
				continue
			}
			fa := &FileAction{Path: u.Remote, Name: u.Name, Local: u.Local, Size: u.Size, Digest: u.Digest, Root: in.FilesRoot}
			switch {
			case u.Jupyter:
				fa.Format = "JUPYTER"
			case u.Notebook:
				fa.Format, fa.Language = "SOURCE", u.Language
			}
			uploads = append(uploads, Action{Op: OpUpload, Key: u.Remote, Reason: reason, Source: posString(u.Pos), File: fa})
		}
	}
	sort.Slice(uploads, func(i, j int) bool { return uploads[i].Key < uploads[j].Key })
	uploading := map[string]bool{}
	for _, u := range uploads {
		uploading[u.Key] = true
	}
	for i := range p.Actions {
		a := &p.Actions[i]
		if a.Op != OpCreate && a.Op != OpUpdate && a.Op != OpReset {
			continue
		}
		if j := desired[a.Key]; j != nil {
			for _, f := range j.Files {
				if uploading[f] {
					a.Files = append(a.Files, f)
				}
			}
		}
	}
	var deletes []Action
	if only == nil {
		paths := make([]string, 0, len(recorded))
		for path := range recorded {
			if !wanted[path] {
				paths = append(paths, path)
			}
		}
		slices.Sort(paths)
		if in.Prune || in.Destroy {
			if err := checkDeletable(in.FilesRoot, paths); err != nil {
				return err
			}
		}
		for _, path := range paths {
			reason := "no job names it any more"
			if in.Destroy {
				reason = "destroy"
			}
			a := Action{Op: OpDeleteFile, Key: path, Reason: reason, File: &FileAction{Path: path, Name: recorded[path].Source, Root: in.FilesRoot}}
			if in.Prune || in.Destroy {
				deletes = append(deletes, a)
			} else {
				p.Skipped = append(p.Skipped, a)
			}
		}
	}
	p.Actions = append(append(uploads, p.Actions...), deletes...)
	return nil
}

// InFilesRoot says whether the workspace path p lies inside root, the
// folder a target's files are uploaded to: p is clean (no "..", no "//")
// and strictly below root, and root is a clean absolute folder at least two
// levels deep (a root of "/", "/Workspace" or "/Volumes" would make every
// file of the workspace its own).
func InFilesRoot(root, p string) bool {
	return narrowRoot(root) && p == path.Clean(p) && strings.HasPrefix(p, root+"/")
}

func narrowRoot(root string) bool {
	return root == path.Clean(root) && strings.HasPrefix(root, "/") && strings.Count(root, "/") >= 2
}

// checkDeletable refuses recorded files that a plan may not delete.
func checkDeletable(root string, paths []string) error {
	var outside []string
	for _, p := range paths {
		if !InFilesRoot(root, p) {
			outside = append(outside, p)
		}
	}
	if len(outside) == 0 {
		return nil
	}
	list := strings.Join(outside, ", ")
	if len(outside) > 5 {
		list = strings.Join(outside[:5], ", ") + fmt.Sprintf(" and %d more", len(outside)-5)
	}
	if !narrowRoot(root) && root != "" {
		return fmt.Errorf("the lockfile records uploaded files (%s), but this target's files folder %q (workspace.file_path) is "+
			"too wide for jobsync to delete in: it deletes only inside a folder at least two levels deep, such as "+
			"/Workspace/Shared/<project>/files; set workspace.file_path to one, or leave out --prune", list, root)
	}
	if root == "" {
		return fmt.Errorf("the lockfile records uploaded files (%s), but this plan does not know the target's files folder "+
			"(workspace.file_path), so it cannot tell they are jobsync's to delete: run the command in the bundle's folder, "+
			"where the configuration says the folder, or remove the entries from \"files\" in the lockfile", list)
	}
	return fmt.Errorf("the lockfile records uploaded files outside this target's files folder %s (workspace.file_path): %s; "+
		"jobsync deletes only files it uploaded inside that folder, so it deletes none of these. If workspace.file_path changed, "+
		"delete the old files in the workspace yourself; then (or if the lockfile was edited) remove these entries from \"files\" "+
		"in the lockfile and plan again", root, list)
}

// liveType is the object type the workspace shows for an upload.
func liveType(u schema.Upload) string {
	if u.Notebook {
		return "NOTEBOOK"
	}
	return "FILE"
}

// DigestOf is the digest data has as this action's upload: apply compares
// it with Digest, to refuse a file that changed since the plan.
func (f *FileAction) DigestOf(data []byte) string {
	return schema.FileDigest(f.Format != "", f.Language, f.Format == "JUPYTER", data)
}
