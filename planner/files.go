package planner

import (
	"fmt"
	"slices"
	"sort"

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
func planFiles(in *Input, p *Plan, desired map[string]*schema.Job, only map[string]bool) {
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
