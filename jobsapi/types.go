package jobsapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Job is a job as read through jobs/get or jobs/list. Settings holds the
// JobSettings object with numbers as json.Number, so that int64 job ids never
// pass through float64.
type Job struct {
	JobID           int64          `json:"job_id"`
	CreatorUserName string         `json:"creator_user_name,omitempty"`
	RunAsUserName   string         `json:"run_as_user_name,omitempty"`
	CreatedTime     int64          `json:"created_time,omitempty"`
	Settings        map[string]any `json:"settings,omitempty"`
	// HasMore is set on list items whose arrays were cut at 100 entries; the
	// complete job must then be read with GetJob.
	HasMore bool `json:"has_more,omitempty"`
}

// AccessControlRequest is one entry of a permissions PUT or PATCH.
type AccessControlRequest struct {
	UserName             string `json:"user_name,omitempty"`
	GroupName            string `json:"group_name,omitempty"`
	ServicePrincipalName string `json:"service_principal_name,omitempty"`
	PermissionLevel      string `json:"permission_level"`
}

// Permission is one level held by a principal, direct or inherited.
type Permission struct {
	PermissionLevel     string   `json:"permission_level"`
	Inherited           bool     `json:"inherited,omitempty"`
	InheritedFromObject []string `json:"inherited_from_object,omitempty"`
}

// AccessControlResponse is one principal's entry in a permissions answer.
type AccessControlResponse struct {
	UserName             string       `json:"user_name,omitempty"`
	GroupName            string       `json:"group_name,omitempty"`
	ServicePrincipalName string       `json:"service_principal_name,omitempty"`
	DisplayName          string       `json:"display_name,omitempty"`
	AllPermissions       []Permission `json:"all_permissions"`
}

// JobPermissions is the answer of GET/PUT/PATCH /api/2.0/permissions/jobs/{id}.
type JobPermissions struct {
	ObjectID          string                  `json:"object_id"`
	ObjectType        string                  `json:"object_type"`
	AccessControlList []AccessControlResponse `json:"access_control_list"`
}

// APIError is a non-2xx answer from the workspace.
type APIError struct {
	Method     string
	Path       string
	StatusCode int
	ErrorCode  string
	Message    string
}

func (e *APIError) Error() string {
	code := e.ErrorCode
	if code == "" {
		code = fmt.Sprintf("HTTP %d", e.StatusCode)
	} else {
		code = fmt.Sprintf("%s (HTTP %d)", code, e.StatusCode)
	}
	return fmt.Sprintf("%s %s: %s: %s", e.Method, e.Path, code, e.Message)
}

// notFoundMessage is how the Jobs API says a job or run is missing: HTTP 400
// INVALID_PARAMETER_VALUE, not 404 (jobs-api.md §6.2, §12.1). The second
// form is the runs/get message the Go SDK also maps to "does not exist"
// ([SDK] apierr/error_overrides.go).
var notFoundMessage = regexp.MustCompile(`^(Job|Run) -?\d+ does not exist\.?$|^Run: -?\d+ in job: -?\d+ doesn't exist\.?$`)

// IsNotFound reports whether err says the job, run or workspace object does
// not exist. It is errors.Is(err, ErrNotFound).
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsAlreadyExists reports whether err says the workspace object already
// exists. It is errors.Is(err, ErrAlreadyExists).
func IsAlreadyExists(err error) bool { return errors.Is(err, ErrAlreadyExists) }

// Errors an *APIError matches with errors.Is, whatever shape the workspace
// gave the answer.
var (
	// ErrNotFound: the job, run or workspace object does not exist
	// (RESOURCE_DOES_NOT_EXIST, any 404 but ENDPOINT_NOT_FOUND, and the
	// Jobs API's 400 "Job <id> does not exist.").
	ErrNotFound = errors.New("does not exist")
	// ErrAlreadyExists: the workspace object exists (an import without
	// overwrite, a mkdirs through a file).
	ErrAlreadyExists = errors.New("already exists")
	// ErrDirectoryNotEmpty: a delete of a non-empty directory without
	// recursive.
	ErrDirectoryNotEmpty = errors.New("directory not empty")
)

// Is lets errors.Is match the sentinel errors above.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.notFound()
	case ErrAlreadyExists:
		return e.alreadyExists()
	case ErrDirectoryNotEmpty:
		return e.code() == "DIRECTORY_NOT_EMPTY"
	}
	return false
}

func (e *APIError) notFound() bool {
	if e.StatusCode == 404 && e.code() != "ENDPOINT_NOT_FOUND" {
		return true
	}
	if e.code() == "RESOURCE_DOES_NOT_EXIST" {
		return true
	}
	return e.ErrorCode == "INVALID_PARAMETER_VALUE" && notFoundMessage.MatchString(e.Message)
}

// alreadyExists covers every way the workspace says so: error_code
// RESOURCE_ALREADY_EXISTS (workspace/import, mkdirs), 409 (import-file over
// a file), and 400 with an empty error_code whose message says "already
// exists." (import-file over a notebook, in the old "Path (<path>) already
// exists." and the new "RESOURCE_ALREADY_EXISTS: <path> already exists."
// forms; databricks/cli libs/filer/workspace_files_client.go @7bbe2852).
func (e *APIError) alreadyExists() bool {
	switch {
	case e.code() == "RESOURCE_ALREADY_EXISTS" || e.code() == "ALREADY_EXISTS":
		return true
	case e.StatusCode == 409:
		return true
	}
	return e.StatusCode == 400 && e.ErrorCode == "" && strings.Contains(e.Message, "already exists.")
}

// code is the error code, also when the workspace put it only at the start
// of the message ("RESOURCE_ALREADY_EXISTS: ...") and left error_code empty.
func (e *APIError) code() string {
	if e.ErrorCode != "" {
		return e.ErrorCode
	}
	if m := codeMsgR.FindStringSubmatch(e.Message); m != nil {
		return m[1]
	}
	return ""
}

// RawBody is a request body that is sent exactly as given.
type RawBody = json.RawMessage
