package emulator

// Permissions of workspace objects: GET, PUT and PATCH
// /api/2.0/permissions/{directories|notebooks|files}/{object_id} and GET
// .../permissionLevels ([SDK] service/workspace GetPermissions,
// SetPermissions, UpdatePermissions, GetPermissionLevels and model.go
// WorkspaceObjectPermissions @1ff3c785). `databricks bundle validate` reads
// them and `bundle deploy` sets them on the bundle's folders when a bundle
// declares top-level permissions, as the production target of the public
// templates does ([CLI] bundle/permissions/workspace_root.go setPermissions
// and folder_acl.go @7bbe2852: GetStatusByPath, then SetPermissions with
// WorkspaceObjectType "directories" and the object id). Before this file
// both answered 404 ENDPOINT_NOT_FOUND and the deploy failed.

import (
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
)

// workspaceObjectKinds maps the request object type of the path to the
// workspace object type it names and the object_type of the answer
// ([CLI] libs/testserver/permissions.go requestObjectTypeToObjectType).
var workspaceObjectKinds = map[string]struct{ objType, answerType string }{
	"directories": {objDirectory, "directory"},
	"notebooks":   {objNotebook, "notebook"},
	"files":       {objFile, "file"},
}

// Workspace object permission levels ([SDK] model.go
// WorkspaceObjectPermissionLevel), weakest first.
var workspaceObjectLevels = []string{"CAN_READ", "CAN_RUN", "CAN_EDIT", "CAN_MANAGE"}

// objectForPermissions finds the object of a permissions path. A missing
// object, or one of another type than the path names, is 404
// RESOURCE_DOES_NOT_EXIST (code as for a missing job's permissions; message
// assumed).
func (s *Server) objectForPermissions(rq *request) (*object, string, *apiError) {
	kind := strings.TrimPrefix(rq.endpoint, "permissions/")
	kind, _, _ = strings.Cut(kind, "/")
	want := workspaceObjectKinds[kind]
	id, err := strconv.ParseInt(rq.pathID, 10, 64)
	if err != nil {
		return nil, "", invalidParam("Invalid object id %q.", rq.pathID)
	}
	o := rq.st.objectByID(id)
	if o == nil || o.Type != want.objType {
		return nil, "", &apiError{status: http.StatusNotFound, code: codeNotFound, msg: kind + " " + rq.pathID + " does not exist."}
	}
	return o, kind, nil
}

// objectByID finds a workspace object by id (a scan: permission calls are
// rare next to the tree's path look-ups).
func (st *store) objectByID(id int64) *object {
	for _, o := range st.objects {
		if o.ID == id {
			return o
		}
	}
	return nil
}

// getObjectPermissions: GET /api/2.0/permissions/{type}/{id}.
func (s *Server) getObjectPermissions(rq *request) (any, *apiError) {
	st := rq.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	o, kind, aerr := s.objectForPermissions(rq)
	if aerr != nil {
		return nil, aerr
	}
	return s.objectPermissionsBody(st, o, kind), nil
}

// setObjectPermissions: PUT replaces the direct entries of the object
// ([SDK] SetPermissions "Sets permissions on an object, replacing existing
// permissions if they exist. Deletes all direct permissions if none are
// specified. Objects can inherit permissions from their parent objects or
// root object."). The answer is the object's whole ACL, inherited entries
// included: the CLI compares it with the bundle's permissions without
// another call ([CLI] workspace_root.go "Reusing the SetPermissions
// response").
func (s *Server) setObjectPermissions(rq *request) (any, *apiError) {
	return s.writeObjectPermissions(rq, true)
}

// updateObjectPermissions: PATCH adds or changes the listed principals
// ([SDK] UpdatePermissions; upsert as for jobs, assumed).
func (s *Server) updateObjectPermissions(rq *request) (any, *apiError) {
	return s.writeObjectPermissions(rq, false)
}

func (s *Server) writeObjectPermissions(rq *request, replace bool) (any, *apiError) {
	m, aerr := rq.jsonBody()
	if aerr != nil {
		return nil, aerr
	}
	st := rq.st
	st.mu.Lock()
	defer st.mu.Unlock()
	o, kind, aerr := s.objectForPermissions(rq)
	if aerr != nil {
		return nil, aerr
	}
	var base []ace
	if !replace {
		base = st.objectPerms[o.ID]
	}
	acl, aerr := parseACL(base, objects(m, "access_control_list"))
	if aerr != nil {
		return nil, aerr
	}
	// The permissions API refuses unknown principals for every object
	// type alike (see checkPrincipals).
	if aerr := s.checkPrincipals(acl); aerr != nil {
		return nil, aerr
	}
	for _, a := range acl {
		if !slices.Contains(workspaceObjectLevels, a.Level) {
			// The levels are the SDK's; the message is assumed.
			return nil, invalidParam("Permission level %s is not supported on %s; use one of %s.", a.Level, kind, strings.Join(workspaceObjectLevels, ", "))
		}
	}
	if len(acl) == 0 {
		delete(st.objectPerms, o.ID)
	} else {
		st.objectPerms[o.ID] = acl
	}
	return s.objectPermissionsBody(st, o, kind), nil
}

// objectPermissionsBody renders WorkspaceObjectPermissions: per principal
// its direct level (inherited false), then what it inherits from the
// folders above, each with the folder it comes from (inherited_from_object
// "/directories/<id>"), nearest first. Two grants no ACL shows are added
// (both assumed; their shapes are the CLI test server's, [CLI]
// libs/testserver/permissions.go SetPermissions): the owner of a home
// folder /Users/<name> has CAN_MANAGE on everything in it ("a user manages
// everything in their home folder", as inherited from the home folder, and
// as a direct entry on the home folder itself), and the workspace admins
// have CAN_MANAGE on every object, inherited from "/directories/" (the
// root, as for alerts there). Everyone in "users" may write under /Shared
// ([CLI] bundle/permissions/workspace_root.go "Shared folders are writable
// by all workspace users"): CAN_MANAGE, granted like a home folder's.
func (s *Server) objectPermissionsBody(st *store, o *object, kind string) permissionsResponse {
	out := permissionsResponse{
		ObjectID:   "/" + kind + "/" + strconv.FormatInt(o.ID, 10),
		ObjectType: workspaceObjectKinds[kind].answerType,
	}
	type key struct{ kind, name string }
	var order []key
	perms := map[key][]permission{}
	add := func(k key, p permission) {
		if _, ok := perms[k]; !ok {
			order = append(order, k)
		}
		perms[k] = append(perms[k], p)
	}
	for _, a := range st.objectPerms[o.ID] {
		add(key{a.Kind, a.Name}, permission{PermissionLevel: a.Level})
	}
	// Implicit grants of the special folder the object is in or is.
	var special *object
	var grantee key
	if owner, home := s.homeOwner(o.Path); owner.name != "" {
		special, grantee = st.get(home), key{owner.kind, owner.name}
	} else if o.Path == "/Shared" || strings.HasPrefix(o.Path, "/Shared/") {
		special, grantee = st.get("/Shared"), key{aclGroup, "users"}
	}
	if special == o {
		add(grantee, permission{PermissionLevel: "CAN_MANAGE"})
	}
	for dir := o.Path; dir != "/"; {
		dir = path.Dir(dir)
		d := st.get(dir)
		if d == nil {
			break
		}
		from := []string{"/directories/" + strconv.FormatInt(d.ID, 10)}
		if d == special {
			add(grantee, permission{PermissionLevel: "CAN_MANAGE", Inherited: true, InheritedFromObject: from})
		}
		for _, a := range st.objectPerms[d.ID] {
			add(key{a.Kind, a.Name}, permission{PermissionLevel: a.Level, Inherited: true, InheritedFromObject: from})
		}
	}
	add(key{aclGroup, "admins"}, permission{PermissionLevel: "CAN_MANAGE", Inherited: true, InheritedFromObject: []string{"/directories/"}})
	for _, k := range order {
		r := aceResponse{AllPermissions: perms[k]}
		switch k.kind {
		case aclUser:
			r.UserName = k.name
		case aclGroup:
			r.GroupName = k.name
		default:
			r.ServicePrincipalName = k.name
		}
		out.AccessControlList = append(out.AccessControlList, r)
	}
	return out
}

// homeOwner returns the principal whose home folder holds p (or is p), and
// that folder's path.
func (s *Server) homeOwner(p string) (owner struct{ kind, name string }, home string) {
	rest, ok := strings.CutPrefix(p, "/Users/")
	if !ok {
		return owner, ""
	}
	name, _, _ := strings.Cut(rest, "/")
	for _, kind := range []string{aclUser, aclServicePrincipal} {
		if s.dir.exists(kind, name) {
			owner.kind, owner.name = kind, name
			return owner, "/Users/" + name
		}
	}
	return owner, ""
}

// objectPermissionLevels: GET .../permissionLevels. The descriptions are
// ours: public sources do not quote the service's.
func (s *Server) objectPermissionLevels(rq *request) (any, *apiError) {
	st := rq.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	if _, _, aerr := s.objectForPermissions(rq); aerr != nil {
		return nil, aerr
	}
	type level struct {
		PermissionLevel string `json:"permission_level"`
		Description     string `json:"description"`
	}
	return map[string][]level{"permission_levels": {
		{"CAN_READ", "Can read the object (and the objects in a folder)"},
		{"CAN_RUN", "Can read and run the object"},
		{"CAN_EDIT", "Can read, run and change the object"},
		{"CAN_MANAGE", "Can read, run, change and delete the object and change its permissions"},
	}}, nil
}
