package emulator

// Identity: who the workspace is and who is asking. This file answers
//   - GET /.well-known/databricks-config (host metadata, no token),
//   - GET /oidc/.well-known/oauth-authorization-server and POST /oidc/v1/token
//     (OAuth M2M, no token),
//   - GET /api/2.0/preview/scim/v2/Me,
//
// and holds the principal directory (users, groups, service principals) with
// the mapping from a bearer token to the principal it authenticates as.

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Directory seeds the principal directory. The user of Options.User is
// always in it, a member of the groups "admins" and "users", which always
// exist; a Directory adds to that.
type Directory struct {
	Users             []User             `json:"users,omitempty"`
	Groups            []Group            `json:"groups,omitempty"`
	ServicePrincipals []ServicePrincipal `json:"service_principals,omitempty"`
	// Tokens maps a bearer token to the userName or applicationId it
	// authenticates as. Any other token authenticates as Options.User.
	Tokens map[string]string `json:"tokens,omitempty"`
}

// User is a workspace user. Groups are the display names of the groups it
// belongs to directly; groups named here need not be listed in Groups.
type User struct {
	UserName    string   `json:"userName"`
	DisplayName string   `json:"displayName,omitempty"`
	Groups      []string `json:"groups,omitempty"`
}

// Group is a workspace group.
type Group struct {
	DisplayName string `json:"displayName"`
}

// ServicePrincipal is a Databricks service principal. Its ApplicationID is
// the OAuth client id and the name ACLs and run_as use
// (service_principal_name). When Secret is set the token endpoint requires
// it; otherwise any secret is accepted.
type ServicePrincipal struct {
	ApplicationID string   `json:"applicationId"`
	DisplayName   string   `json:"displayName,omitempty"`
	Groups        []string `json:"groups,omitempty"`
	Secret        string   `json:"secret,omitempty"`
}

// ReadDirectory reads a Directory from a JSON file (`jobsync emulator
// --principals FILE`). Unknown fields are an error, so that a misspelt key
// does not silently leave a principal out.
func ReadDirectory(path string) (Directory, error) {
	var d Directory
	data, err := os.ReadFile(path)
	if err != nil {
		return d, fmt.Errorf("emulator: reading the principal directory: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, fmt.Errorf("emulator: principal directory %s: %v (expected {\"users\": [{\"userName\": ..., \"groups\": [...]}], \"groups\": [{\"displayName\": ...}], \"service_principals\": [{\"applicationId\": ..., \"displayName\": ...}], \"tokens\": {\"TOKEN\": \"userName or applicationId\"}})", path, err)
	}
	return d, nil
}

// AddPrincipal adds one principal given as "user:NAME[:GROUP,...]",
// "group:NAME" or "sp:APPLICATION_ID[:GROUP,...]" (`jobsync emulator
// --principal`).
func (d *Directory) AddPrincipal(spec string) error {
	kind, rest, ok := strings.Cut(spec, ":")
	name, groups, _ := strings.Cut(rest, ":")
	var gs []string
	for g := range strings.SplitSeq(groups, ",") {
		if g = strings.TrimSpace(g); g != "" {
			gs = append(gs, g)
		}
	}
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return fmt.Errorf("principal %q: want user:NAME[:GROUP,...], group:NAME or sp:APPLICATION_ID[:GROUP,...]", spec)
	}
	switch kind {
	case "user":
		d.Users = append(d.Users, User{UserName: name, Groups: gs})
	case "group":
		if len(gs) > 0 {
			return fmt.Errorf("principal %q: groups cannot be members of groups in the emulator", spec)
		}
		d.Groups = append(d.Groups, Group{DisplayName: name})
	case "sp", "service-principal":
		d.ServicePrincipals = append(d.ServicePrincipals, ServicePrincipal{ApplicationID: name, Groups: gs})
	default:
		return fmt.Errorf("principal %q: unknown kind %q (use user, group or sp)", spec, kind)
	}
	return nil
}

// AddToken maps a token to a principal, given as "TOKEN=NAME" (`jobsync
// emulator --token`).
func (d *Directory) AddToken(spec string) error {
	tok, name, ok := strings.Cut(spec, "=")
	if !ok || tok == "" || name == "" {
		return fmt.Errorf("token %q: want TOKEN=USERNAME or TOKEN=APPLICATION_ID", spec)
	}
	if d.Tokens == nil {
		d.Tokens = map[string]string{}
	}
	d.Tokens[tok] = name
	return nil
}

// ACL principal kinds: the field of an access control entry (or of run_as)
// that names a principal.
const (
	aclUser             = "user_name"
	aclGroup            = "group_name"
	aclServicePrincipal = "service_principal_name"
)

// principal is a user or a service principal of the directory. Its fields
// never change once it is in the directory.
type principal struct {
	kind    string // aclUser or aclServicePrincipal
	name    string // userName, or the applicationId of a service principal
	id      string // SCIM id
	display string
	groups  []string // display names of its groups (direct membership)
	secret  string   // OAuth secret required at the token endpoint ("" = any)
}

type groupEntry struct {
	name string
	id   string
}

// directory is the principal directory of the emulator, shared by all its
// workspaces (a Databricks account's identities are shared by its
// workspaces too). OAuth clients that are not listed are added as service
// principals when they first ask for a token, hence the lock.
type directory struct {
	mu     sync.RWMutex
	users  map[string]*principal  // by lower-case userName
	sps    map[string]*principal  // by applicationId
	groups map[string]*groupEntry // by displayName
	tokens map[string]*principal
	def    *principal // whom every other token authenticates as
	nextID int64
}

// SCIM ids: 16 digits, as the service's are (assumed; the format of ids
// is not documented, the CLI test server uses similar numbers).
const firstSCIMID = 7_321_000_000_000_001

// Groups every workspace has: "admins" holds the workspace administrators
// and "users" every user ([TF] docs/data-sources/group.md "admins" and
// "users" are the built-in groups; jobs-api.md §3.4).
var builtinGroups = []string{"admins", "users"}

func newDirectory(defaultUser string, d Directory) (*directory, error) {
	dir := &directory{
		users:  map[string]*principal{},
		sps:    map[string]*principal{},
		groups: map[string]*groupEntry{},
		tokens: map[string]*principal{},
		nextID: firstSCIMID,
	}
	for _, g := range builtinGroups {
		dir.addGroup(g)
	}
	for _, g := range d.Groups {
		if strings.TrimSpace(g.DisplayName) == "" {
			return nil, errors.New("emulator: a group of the principal directory has no displayName")
		}
		dir.addGroup(g.DisplayName)
	}
	// The default user is a workspace admin: it creates and owns
	// everything a single-user emulator holds. A listed user of the same
	// name sets its display name and groups instead.
	def := User{UserName: defaultUser, Groups: builtinGroups}
	users := []User{def}
	for _, u := range d.Users {
		if strings.EqualFold(u.UserName, defaultUser) {
			users[0] = User{UserName: defaultUser, DisplayName: u.DisplayName, Groups: u.Groups}
			continue
		}
		users = append(users, u)
	}
	for _, u := range users {
		if strings.TrimSpace(u.UserName) == "" {
			return nil, errors.New("emulator: a user of the principal directory has no userName")
		}
		if dir.users[strings.ToLower(u.UserName)] != nil {
			return nil, fmt.Errorf("emulator: user %s is listed twice in the principal directory", u.UserName)
		}
		display := u.DisplayName
		if display == "" {
			display = displayNameOf(u.UserName)
		}
		dir.users[strings.ToLower(u.UserName)] = &principal{kind: aclUser, name: u.UserName, id: dir.newID(),
			display: display, groups: dir.memberships(u.Groups)}
	}
	dir.def = dir.users[strings.ToLower(defaultUser)]
	for _, sp := range d.ServicePrincipals {
		if strings.TrimSpace(sp.ApplicationID) == "" {
			return nil, errors.New("emulator: a service principal of the principal directory has no applicationId")
		}
		if dir.sps[sp.ApplicationID] != nil {
			return nil, fmt.Errorf("emulator: service principal %s is listed twice in the principal directory", sp.ApplicationID)
		}
		dir.addServicePrincipal(sp)
	}
	for tok, name := range d.Tokens {
		p := dir.users[strings.ToLower(name)]
		if p == nil {
			p = dir.sps[name]
		}
		if p == nil {
			return nil, fmt.Errorf("emulator: token %s... maps to %q, which is neither a user nor a service principal of the directory", tok[:min(4, len(tok))], name)
		}
		dir.tokens[tok] = p
	}
	return dir, nil
}

func (d *directory) newID() string {
	id := d.nextID
	d.nextID += 2
	return strconv.FormatInt(id, 10)
}

func (d *directory) addGroup(name string) {
	if d.groups[name] == nil {
		d.groups[name] = &groupEntry{name: name, id: d.newID()}
	}
}

// memberships adds the groups named and "users", which every principal
// belongs to.
func (d *directory) memberships(names []string) []string {
	out := []string{}
	for _, g := range append(slices.Clone(names), "users") {
		g = strings.TrimSpace(g)
		if g == "" || slices.Contains(out, g) {
			continue
		}
		d.addGroup(g)
		out = append(out, g)
	}
	return out
}

func (d *directory) addServicePrincipal(sp ServicePrincipal) *principal {
	display := sp.DisplayName
	if display == "" {
		display = sp.ApplicationID
	}
	p := &principal{kind: aclServicePrincipal, name: sp.ApplicationID, id: d.newID(), display: display,
		groups: d.memberships(sp.Groups), secret: sp.Secret}
	d.sps[sp.ApplicationID] = p
	return p
}

// displayNameOf makes a display name from a user name: "jane.doe@x" ->
// "jane.doe" (assumed: the service takes the display name from the
// identity provider).
func displayNameOf(userName string) string {
	name, _, _ := strings.Cut(userName, "@")
	return name
}

// exists reports whether the directory knows the principal an access
// control entry or run_as names; kind is the entry's field (user_name,
// group_name or service_principal_name). User names compare
// case-insensitively, as e-mail addresses do.
func (d *directory) exists(kind, name string) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	switch kind {
	case aclUser:
		return d.users[strings.ToLower(name)] != nil
	case aclGroup:
		return d.groups[name] != nil
	case aclServicePrincipal:
		return d.sps[name] != nil
	}
	return false
}

// memberOf reports whether p belongs to group (directly; the emulator has
// no nested groups).
func (p *principal) memberOf(group string) bool { return slices.Contains(p.groups, group) }

// m2mTokenPrefix marks the tokens the emulator's token endpoint issues: the
// client id follows, so that a token keeps its principal across restarts
// of the emulator.
const m2mTokenPrefix = "emu-m2m."

// authenticate maps an Authorization header to the principal it
// authenticates as and to the key of its per-token workspace (tenancy.go):
// a token of Directory.Tokens is its principal; a token the token endpoint
// issued is its service principal (keyed by client id, so that refreshed
// tokens keep their workspace); any other token, or none (with
// Options.AllowAnonymous), is the default user.
func (d *directory) authenticate(authz string) (*principal, string) {
	tok, ok := strings.CutPrefix(authz, "Bearer ")
	if !ok {
		return d.def, authz
	}
	tok = strings.TrimSpace(tok)
	d.mu.RLock()
	p := d.tokens[tok]
	d.mu.RUnlock()
	if p != nil {
		return p, tok
	}
	if rest, ok := strings.CutPrefix(tok, m2mTokenPrefix); ok {
		enc, _, _ := strings.Cut(rest, ".")
		if id, err := base64.RawURLEncoding.DecodeString(enc); err == nil && len(id) > 0 {
			return d.servicePrincipal(string(id)), "m2m:" + string(id)
		}
	}
	return d.def, tok
}

// servicePrincipal returns the service principal of a client id, adding it
// when it is not listed: the emulator accepts any OAuth client (a real
// workspace only those it knows; listed ones with a secret must send it).
func (d *directory) servicePrincipal(applicationID string) *principal {
	d.mu.RLock()
	p := d.sps[applicationID]
	d.mu.RUnlock()
	if p != nil {
		return p
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if p := d.sps[applicationID]; p != nil {
		return p
	}
	return d.addServicePrincipal(ServicePrincipal{ApplicationID: applicationID})
}

func (d *directory) groupID(name string) string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if g := d.groups[name]; g != nil {
		return g.id
	}
	return ""
}

// hostMetadataPath is the host discovery document newer SDKs fetch, without
// a token, while they resolve their configuration ([SDK] config/host_metadata.go
// getHostMetadata @1ff3c785; jobs-api.md §10.2).
const hostMetadataPath = "/.well-known/databricks-config"

// serveHostMetadata answers the host metadata with every field the SDK
// reads ([SDK] config/host_metadata.go HostMetadata, config/config.go
// resolveHostMetadata): oidc_endpoint (the SDK appends
// "/.well-known/oauth-authorization-server" to find the token endpoint),
// workspace_id (sent back as X-Databricks-Workspace-Id on every request),
// cloud, host_type and the token-federation audience, which for a workspace
// host is its token endpoint (HostMetadata doc comment). account_id is left
// out: the emulator is a workspace without an account. The CLI's test server
// answers only oidc_endpoint and workspace_id ([CLI] libs/testserver/server.go
// @7bbe2852).
func (s *Server) serveHostMetadata(w http.ResponseWriter, r *http.Request) int {
	if r.Method != http.MethodGet {
		return respondError(w, endpointNotFound(r.Method, r.URL.Path))
	}
	base := "http://" + r.Host
	b, _ := json.Marshal(map[string]any{
		"oidc_endpoint": base + "/oidc",
		"workspace_id":  s.workspaceID(),
		"cloud":         "AWS", // the cloud of the read defaults (aws_attributes, §7.3)
		"host_type":     "WORKSPACE_HOST",
		"token_federation_default_oidc_audiences": []string{base + "/oidc/v1/token"},
	})
	writeBody(w, http.StatusOK, b)
	return http.StatusOK
}

// workspaceID is the emulated workspace's id, a decimal string.
func (s *Server) workspaceID() string { return strconv.FormatInt(s.opts.WorkspaceID, 10) }

// serveOIDC emulates the workspace OAuth endpoints of machine-to-machine
// auth (§10.2): discovery ([SDK] credentials/u2m/endpoint_supplier.go
// OAuthAuthorizationServer: authorization_endpoint, token_endpoint
// @1ff3c785) and a client-credentials token endpoint. The client id and
// secret come in HTTP Basic auth ([SDK] config/auth_m2m.go uses
// oauth2.AuthStyleInHeader), the form carries grant_type and scope
// (default all-apis). Any client id is accepted and becomes a service
// principal of the directory; a listed one with a secret must send it.
func (s *Server) serveOIDC(w http.ResponseWriter, r *http.Request, body []byte) int {
	base := "http://" + r.Host
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/oidc/.well-known/oauth-authorization-server":
		b, _ := json.Marshal(map[string]string{
			"issuer":                 base + "/oidc",
			"authorization_endpoint": base + "/oidc/v1/authorize",
			"token_endpoint":         base + "/oidc/v1/token",
		})
		writeBody(w, http.StatusOK, b)
		return http.StatusOK
	case r.Method == http.MethodPost && r.URL.Path == "/oidc/v1/token":
		// RFC 6749 §2.3.1: the id and secret are form-encoded before they
		// go into the Basic header.
		id, secret, ok := r.BasicAuth()
		if ok {
			id, _ = url.QueryUnescape(id)
			secret, _ = url.QueryUnescape(secret)
		}
		form, _ := url.ParseQuery(string(body))
		if form.Get("grant_type") != "client_credentials" {
			// RFC 6749 §5.2.
			b := []byte(`{"error":"unsupported_grant_type","error_description":"Only the client_credentials grant is supported by the emulator"}`)
			writeBody(w, http.StatusBadRequest, b)
			return http.StatusBadRequest
		}
		var p *principal
		if ok && id != "" && secret != "" {
			p = s.dir.servicePrincipal(id)
		}
		if p == nil || (p.secret != "" && p.secret != secret) {
			b := []byte(`{"error":"invalid_client","error_description":"Client authentication failed"}`)
			writeBody(w, http.StatusUnauthorized, b)
			return http.StatusUnauthorized
		}
		scope := form.Get("scope")
		if scope == "" {
			scope = "all-apis"
		}
		nonce := make([]byte, 12)
		_, _ = rand.Read(nonce)
		b, _ := json.Marshal(map[string]any{
			"access_token": m2mTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(id)) + "." + hex.EncodeToString(nonce),
			"token_type":   "Bearer",
			"expires_in":   3600, // tokens live one hour (§10.2)
			"scope":        scope,
		})
		writeBody(w, http.StatusOK, b)
		return http.StatusOK
	}
	return respondError(w, endpointNotFound(r.Method, r.URL.Path))
}

// SCIM schemas of a workspace user ([SDK] service/iam/model.go UserSchema).
var userSchemas = []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:workspace:2.0:User"}

// me: GET /api/2.0/preview/scim/v2/Me, the authenticated principal as a
// SCIM User ([SDK] service/iam/model.go User) with the workspace id in the
// X-Databricks-Org-Id header, which is all the SDK's CurrentWorkspaceID
// reads ([SDK] workspace_functions.go @1ff3c785; the Terraform provider
// calls it after jobs/create, issue 11). A service principal's userName is
// its applicationId ([CLI] libs/testserver/fake_workspace.go TestUserSP
// @7bbe2852). attributes and excludedAttributes (comma-separated top-level
// names, RFC 7644 §3.9) filter the answer; the SDK excludes entitlements,
// which the emulator does not model anyway.
func (s *Server) me(rq *request) (any, *apiError) {
	p := rq.who
	u := map[string]any{
		"schemas":     userSchemas,
		"id":          p.id,
		"userName":    p.name,
		"displayName": p.display,
		"active":      true,
	}
	if p.kind == aclUser {
		u["emails"] = []any{map[string]any{"value": p.name, "type": "work", "primary": true}}
	}
	var groups []any
	for _, g := range p.groups {
		id := s.dir.groupID(g)
		// type "direct" and the $ref form are assumed (RFC 7643 §4.1.2).
		groups = append(groups, map[string]any{"display": g, "value": id, "type": "direct", "$ref": "Groups/" + id})
	}
	if len(groups) > 0 {
		u["groups"] = groups
	}
	q := rq.r.URL.Query()
	if attrs := splitAttrs(q.Get("attributes")); len(attrs) > 0 {
		for k := range u {
			if k != "id" && k != "schemas" && !slices.Contains(attrs, strings.ToLower(k)) {
				delete(u, k)
			}
		}
	}
	for _, k := range splitAttrs(q.Get("excludedAttributes")) {
		for name := range u {
			if strings.ToLower(name) == k && name != "id" && name != "schemas" {
				delete(u, name)
			}
		}
	}
	return answer{body: appendJSON(nil, u), header: http.Header{"X-Databricks-Org-Id": {s.workspaceID()}}}, nil
}

func splitAttrs(v string) []string {
	var out []string
	for a := range strings.SplitSeq(v, ",") {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// SCIM lists: GET /api/2.0/preview/scim/v2/Users, /Groups and
// /ServicePrincipals ([SDK] service/iam ListUsersRequest, ListGroupsRequest,
// ListServicePrincipalsRequest; RFC 7644 §3.4.2). The filter takes the one
// form clients use to find a principal by name, `ATTRIBUTE eq "VALUE"`
// (userName, displayName, applicationId or id; userName compares
// case-insensitively as e-mail addresses do); startIndex (1-based) and count
// page the answer (count default 100, assumed). Other filter forms are 400
// (assumed: the service supports more of RFC 7644).
func (s *Server) scimUsers(rq *request) (any, *apiError) {
	return s.scimList(rq, "Users")
}

func (s *Server) scimGroups(rq *request) (any, *apiError) {
	return s.scimList(rq, "Groups")
}

func (s *Server) scimServicePrincipals(rq *request) (any, *apiError) {
	return s.scimList(rq, "ServicePrincipals")
}

// scimNameAttr is the attribute that holds the name ACL entries use.
var (
	scimNameAttr  = map[string]string{"Users": "username", "Groups": "displayname", "ServicePrincipals": "applicationid"}
	scimNameField = map[string]string{"Users": "userName", "Groups": "displayName", "ServicePrincipals": "applicationId"}
)

// scimResource is one listed resource with the attributes a filter may name.
type scimResource struct {
	attrs map[string]string // lower-case attribute -> value
	body  map[string]any
}

func (s *Server) scimList(rq *request, kind string) (any, *apiError) {
	q := rq.r.URL.Query()
	attr, value, err := parseSCIMFilter(q.Get("filter"))
	if err != nil {
		return nil, err
	}
	name := value
	var all []scimResource
	d := s.dir
	d.mu.RLock()
	switch kind {
	case "Users":
		for _, p := range d.users {
			all = append(all, scimResource{
				attrs: map[string]string{"username": strings.ToLower(p.name), "displayname": p.display, "id": p.id},
				body: map[string]any{"schemas": []string{userSchemas[0]}, "id": p.id, "userName": p.name, "displayName": p.display, "active": true,
					"emails": []any{map[string]any{"value": p.name, "type": "work", "primary": true}}},
			})
		}
		if attr == "username" {
			value = strings.ToLower(value)
		}
	case "Groups":
		for _, g := range d.groups {
			all = append(all, scimResource{
				attrs: map[string]string{"displayname": g.name, "id": g.id},
				body:  map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "id": g.id, "displayName": g.name},
			})
		}
	case "ServicePrincipals":
		for _, p := range d.sps {
			all = append(all, scimResource{
				attrs: map[string]string{"applicationid": p.name, "displayname": p.display, "id": p.id},
				body: map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal"}, "id": p.id, "applicationId": p.name,
					"displayName": p.display, "active": true},
			})
		}
	}
	d.mu.RUnlock()
	var hits []scimResource
	for _, r := range all {
		if attr == "" {
			hits = append(hits, r)
			continue
		}
		got, known := r.attrs[attr]
		if !known {
			return nil, invalidParam("Invalid filter: unknown attribute %q for %s.", attr, kind)
		}
		if got == value {
			hits = append(hits, r)
		}
	}
	if len(hits) == 0 && value != "" && !s.on(PrincipalsMustExist) && attr == scimNameAttr[kind] {
		// Without PrincipalsMustExist every principal exists: a lookup by
		// name finds one, as ACL entries naming it are accepted.
		hits = append(hits, scimResource{attrs: map[string]string{"id": "0"}, body: map[string]any{
			"id": "0", scimNameField[kind]: name}})
	}
	slices.SortFunc(hits, func(a, b scimResource) int { return strings.Compare(a.attrs["id"], b.attrs["id"]) })
	start, count := 1, 100
	if v := q.Get("startIndex"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			start = n
		}
	}
	if v := q.Get("count"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			count = n
		}
	}
	lo := min(start-1, len(hits))
	hi := min(lo+count, len(hits))
	resources := make([]any, 0, hi-lo)
	for _, r := range hits[lo:hi] {
		resources = append(resources, r.body)
	}
	out := map[string]any{
		"schemas":      []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
		"totalResults": len(hits),
		"startIndex":   start,
		"itemsPerPage": len(resources),
	}
	if len(resources) > 0 {
		out["Resources"] = resources
	}
	return appendJSON(nil, out), nil
}

// parseSCIMFilter reads `ATTRIBUTE eq "VALUE"` (the attribute lower-cased;
// `\"` and `\\` unescaped in the value). An empty filter lists everything.
func parseSCIMFilter(f string) (attr, value string, err *apiError) {
	f = strings.TrimSpace(f)
	if f == "" {
		return "", "", nil
	}
	bad := invalidParam("Unsupported filter %q: the emulator takes ATTRIBUTE eq \"VALUE\".", f)
	name, rest, ok := strings.Cut(f, " ")
	if !ok {
		return "", "", bad
	}
	op, quoted, ok := strings.Cut(strings.TrimSpace(rest), " ")
	quoted = strings.TrimSpace(quoted)
	if !ok || !strings.EqualFold(op, "eq") || len(quoted) < 2 || quoted[0] != '"' || quoted[len(quoted)-1] != '"' {
		return "", "", bad
	}
	var b strings.Builder
	inner := quoted[1 : len(quoted)-1]
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		if c == '\\' && i+1 < len(inner) {
			i++
			c = inner[i]
		} else if c == '"' {
			return "", "", bad
		}
		b.WriteByte(c)
	}
	return strings.ToLower(name), b.String(), nil
}
