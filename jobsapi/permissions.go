package jobsapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// PermissionLevel is one entry of permissionLevels: a level the caller may
// grant on the job.
type PermissionLevel struct {
	PermissionLevel string `json:"permission_level"`
	Description     string `json:"description,omitempty"`
}

// permissionsEndpoint is the rate-limit key of every permissions call.
const permissionsEndpoint = "permissions/jobs"

func permissionsPath(jobID int64) string {
	return "/api/2.0/permissions/jobs/" + strconv.FormatInt(jobID, 10)
}

// GetPermissions returns a job's access control list, inherited entries
// (the workspace admins) included.
func (c *Client) GetPermissions(ctx context.Context, jobID int64) (*JobPermissions, error) {
	var out JobPermissions
	cl := &call{method: http.MethodGet, path: permissionsPath(jobID), endpoint: permissionsEndpoint, idempotent: true}
	if _, err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetPermissions replaces every direct permission of a job (PUT); body is
// {"access_control_list":[…]} and must leave exactly one IS_OWNER. It
// returns the job's permissions afterwards.
func (c *Client) SetPermissions(ctx context.Context, jobID int64, body json.RawMessage) (*JobPermissions, error) {
	return c.writePermissions(ctx, http.MethodPut, jobID, body)
}

// UpdatePermissions adds or changes the listed principals' permissions
// (PATCH) and leaves the others alone.
func (c *Client) UpdatePermissions(ctx context.Context, jobID int64, body json.RawMessage) (*JobPermissions, error) {
	return c.writePermissions(ctx, http.MethodPatch, jobID, body)
}

func (c *Client) writePermissions(ctx context.Context, method string, jobID int64, body json.RawMessage) (*JobPermissions, error) {
	path := permissionsPath(jobID)
	if err := checkObject(body); err != nil {
		return nil, fmt.Errorf("%s %s: request body %v", method, path, err)
	}
	// Both PUT (a replacement) and PATCH (an upsert) leave the same state
	// when repeated, so they are retried like reads.
	cl := &call{method: method, path: path, endpoint: permissionsEndpoint, body: body, idempotent: true}
	var out JobPermissions
	if _, err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetPermissionLevels lists the permission levels that can be granted on a
// job.
func (c *Client) GetPermissionLevels(ctx context.Context, jobID int64) ([]PermissionLevel, error) {
	var out struct {
		PermissionLevels []PermissionLevel `json:"permission_levels"`
	}
	cl := &call{method: http.MethodGet, path: permissionsPath(jobID) + "/permissionLevels", endpoint: permissionsEndpoint, idempotent: true}
	if _, err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return out.PermissionLevels, nil
}
