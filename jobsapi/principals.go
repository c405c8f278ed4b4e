package jobsapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Principal kinds: the field of an access control entry (or of run_as)
// that names a principal.
const (
	PrincipalUser             = "user_name"
	PrincipalGroup            = "group_name"
	PrincipalServicePrincipal = "service_principal_name"
)

// scimLookup is, per principal kind, the SCIM resource list and the
// attribute that holds the name ACL entries use: a user's userName, a
// group's displayName, a service principal's applicationId ([SDK]
// service/iam ListUsersRequest, ListGroupsRequest,
// ListServicePrincipalsRequest; the applicationId is what
// service_principal_name holds, TF #1415).
var scimLookup = map[string]struct{ resource, attr string }{
	PrincipalUser:             {"Users", "userName"},
	PrincipalGroup:            {"Groups", "displayName"},
	PrincipalServicePrincipal: {"ServicePrincipals", "applicationId"},
}

// PrincipalExists reports whether the workspace knows the principal that an
// access control entry of kind (PrincipalUser, PrincipalGroup or
// PrincipalServicePrincipal) names: GET
// /api/2.0/preview/scim/v2/{Users|Groups|ServicePrincipals} with the filter
// `ATTR eq "NAME"` (RFC 7644 §3.4.2.2), asking only for ids.
func (c *Client) PrincipalExists(ctx context.Context, kind, name string) (bool, error) {
	l, ok := scimLookup[kind]
	if !ok {
		return false, fmt.Errorf("jobsapi: unknown principal kind %q", kind)
	}
	quoted := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
	var out struct {
		TotalResults int `json:"totalResults"`
	}
	cl := &call{method: http.MethodGet, path: "/api/2.0/preview/scim/v2/" + l.resource, endpoint: "preview/scim/v2/" + l.resource,
		query:      url.Values{"filter": {l.attr + " eq " + quoted}, "attributes": {"id"}, "count": {"1"}},
		idempotent: true}
	if _, err := c.do(ctx, cl, &out); err != nil {
		return false, err
	}
	return out.TotalResults > 0, nil
}
