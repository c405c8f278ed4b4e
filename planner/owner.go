package planner

import "strings"

// OwnerTagKey is the tag every managed job carries in settings.tags; its
// value is OwnerTagValue(project, key). It lets a lost or stale lockfile be
// rebuilt from the workspace and an interrupted create be adopted instead of
// duplicated. jobsync never touches a job without it, or with another
// project's value, unless the lockfile names that job.
const OwnerTagKey = "jobsync"

// OwnerTagValue is the ownership tag value of key in project. project may
// itself contain slashes ("proj/target"); keys never do.
func OwnerTagValue(project, key string) string { return project + "/" + key }

// OwnedKey returns the key whose ownership tag settings carries, when it
// belongs to project.
func OwnedKey(project string, settings map[string]any) (key string, ok bool) {
	return ownedKey(project, ownerTag(settings))
}

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
