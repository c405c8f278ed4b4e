package jobsapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// CurrentUser is the principal the client authenticates as, from SCIM /Me.
type CurrentUser struct {
	// ID is the SCIM id.
	ID string
	// UserName is the user's name, or a service principal's application
	// id: the name ACLs (user_name, service_principal_name) and run_as use.
	UserName    string
	DisplayName string
	// Groups are the display names of the groups it belongs to directly.
	Groups []string
	// WorkspaceID is the workspace's id from the X-Databricks-Org-Id
	// header (0 when the workspace did not send it).
	WorkspaceID int64
}

// Me returns the authenticated principal: GET
// /api/2.0/preview/scim/v2/Me, without entitlements, as databricks-sdk-go's
// CurrentWorkspaceID asks (workspace_functions.go @1ff3c785), which also
// reads the workspace id from the X-Databricks-Org-Id header.
func (c *Client) Me(ctx context.Context) (*CurrentUser, error) {
	var out struct {
		ID          string `json:"id"`
		UserName    string `json:"userName"`
		DisplayName string `json:"displayName"`
		Groups      []struct {
			Display string `json:"display"`
		} `json:"groups"`
	}
	cl := &call{method: http.MethodGet, path: "/api/2.0/preview/scim/v2/Me", endpoint: "preview/scim/v2/Me",
		query: url.Values{"excludedAttributes": {"entitlements"}}, idempotent: true}
	oc, err := c.do(ctx, cl, &out)
	if err != nil {
		return nil, err
	}
	me := &CurrentUser{ID: out.ID, UserName: out.UserName, DisplayName: out.DisplayName}
	for _, g := range out.Groups {
		me.Groups = append(me.Groups, g.Display)
	}
	if v := strings.TrimSpace(oc.header.Get("X-Databricks-Org-Id")); v != "" {
		me.WorkspaceID, _ = strconv.ParseInt(v, 10, 64)
	}
	return me, nil
}
