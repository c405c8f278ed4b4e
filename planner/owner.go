package planner

import (
	"fmt"
	"strings"
)

// OwnerTagKey is the tag every managed job carries in settings.tags; its
// value is OwnerTagValue(project, key). It lets a lost or stale lockfile be
// rebuilt from the workspace and an interrupted create be adopted instead of
// duplicated, and it is what makes a job jobsync's to write: every update,
// reset, delete, permissions change and run-now goes only to a job whose
// live settings carry the tag of that very key (see CheckOwner). A lockfile
// entry alone never suffices; `jobsync import` adopts a job on purpose by
// writing the tag.
const OwnerTagKey = "jobsync"

// OwnerTagValue is the ownership tag value of key in project. project may
// itself contain slashes ("proj/target"); keys never do.
func OwnerTagValue(project, key string) string { return project + "/" + key }

// OwnedKey returns the key whose ownership tag settings carries, when it
// belongs to project.
func OwnedKey(project string, settings map[string]any) (key string, ok bool) {
	return ownedKey(project, ownerTag(settings))
}

// OwnerTag is the value of the ownership tag in settings, "" when there is
// none.
func OwnerTag(settings map[string]any) string { return ownerTag(settings) }

// ownedKey is the key in the ownership tag value v of project.
func ownedKey(project, v string) (key string, ok bool) {
	if project == "" || !strings.HasPrefix(v, project+"/") {
		return "", false
	}
	key = v[len(project)+1:]
	if key == "" || strings.Contains(key, "/") {
		return "", false
	}
	return key, true
}

func ownerTag(settings map[string]any) string {
	tags, _ := settings["tags"].(map[string]any)
	v, _ := tags[OwnerTagKey].(string)
	return v
}

// WithOwnerTag returns tags (a job's settings.tags, possibly nil) with the
// ownership tag of key in project added, as a new map.
func WithOwnerTag(tags map[string]any, project, key string) map[string]any {
	out := make(map[string]any, len(tags)+1)
	for k, v := range tags {
		out[k] = v
	}
	out[OwnerTagKey] = OwnerTagValue(project, key)
	return out
}

// CheckOwner returns an *OwnershipError unless settings, the live
// settings of job jobID, carry the ownership tag of key in project. It is
// the one test every write to an existing job passes first.
func CheckOwner(project, key string, jobID int64, settings map[string]any) error {
	return checkOwnerTag(project, key, jobID, ownerTag(settings))
}

func checkOwnerTag(project, key string, jobID int64, tag string) error {
	// Scopes nest ("shop" and its target "shop/dev"), so a key holding a
	// "/" (a lockfile edited by hand) would spell another scope's tag:
	// project "shop", key "dev/etl" is scope "shop/dev"'s etl. Keys never
	// hold one (see ownedKey).
	if tag == OwnerTagValue(project, key) && key != "" && !strings.Contains(key, "/") {
		return nil
	}
	return &OwnershipError{Key: key, JobID: jobID, Project: project, Tag: tag}
}

// OwnershipError says jobsync was asked to write to a job that does not
// carry the ownership tag of the key it was named for: a lockfile entry
// (or a journal record) pointing at someone else's job, a job whose tag
// was removed or changed in the workspace, or a doctored plan file.
type OwnershipError struct {
	Key     string
	JobID   int64
	Project string
	// Tag is the job's ownership tag value, "" when it has none.
	Tag string
	// Op is the saved plan's action that would have written the job; ""
	// when the job was named by the lockfile.
	Op Op
	// Tagged is a job that does carry the key's tag, when one was seen.
	Tagged int64
}

func (e *OwnershipError) Error() string {
	var b strings.Builder
	if e.Op != "" {
		fmt.Fprintf(&b, "the saved plan's %s of %q writes to job %d", e.Op, e.Key, e.JobID)
	} else {
		fmt.Fprintf(&b, "the lockfile maps %q to job %d", e.Key, e.JobID)
	}
	want := OwnerTagKey + "=" + OwnerTagValue(e.Project, e.Key)
	if e.Tag == "" {
		fmt.Fprintf(&b, ", which carries no jobsync tag: jobsync writes only to jobs tagged %s. ", want)
	} else {
		fmt.Fprintf(&b, ", which carries the tag %s=%s: jobsync writes only to jobs tagged %s, and that one belongs to another jobsync project or key. ", OwnerTagKey, e.Tag, want)
	}
	switch {
	case e.Tag == "":
		fmt.Fprintf(&b, "To adopt job %d on purpose, run `jobsync import %s %d`; to forget the entry, run `jobsync state rm %s`", e.JobID, e.Key, e.JobID, e.Key)
	default:
		fmt.Fprintf(&b, "Forget the entry with `jobsync state rm %s` (`jobsync import %s %d` adopts that job only once its tag is removed)", e.Key, e.Key, e.JobID)
	}
	if e.Op != "" {
		b.WriteString(", then make the plan again with `jobsync plan`")
	}
	if e.Tagged != 0 {
		fmt.Fprintf(&b, "; job %d carries %s, and the next plan adopts it once the entry is forgotten", e.Tagged, want)
	}
	return b.String()
}
