package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// apiError is an error answer in the Jobs API's shape:
// {"error_code": "...", "message": "..."} (§6.1; jobs errors carry only these
// two fields, [OAS21] components/schemas/Error).
type apiError struct {
	status     int
	code       string
	msg        string
	retryAfter int // seconds; 0 = no Retry-After header
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

// Error codes used by the Jobs API (§6.2).
const (
	codeInvalidParameter = "INVALID_PARAMETER_VALUE"
	codeMalformed        = "MALFORMED_REQUEST"
	codeInvalidState     = "INVALID_STATE"
	codeNotFound         = "RESOURCE_DOES_NOT_EXIST"
	codeEndpointNotFound = "ENDPOINT_NOT_FOUND"
	codeQuotaExceeded    = "QUOTA_EXCEEDED"
	codeRequestLimit     = "REQUEST_LIMIT_EXCEEDED"
	codeInternal         = "INTERNAL_ERROR"
	codeUnavailable      = "TEMPORARILY_UNAVAILABLE"
	codeUnauthenticated  = "UNAUTHENTICATED"
	codePermissionDenied = "PERMISSION_DENIED"
)

func invalidParam(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeInvalidParameter, msg: fmt.Sprintf(format, args...)}
}

func malformed(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeMalformed, msg: fmt.Sprintf(format, args...)}
}

func invalidState(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeInvalidState, msg: fmt.Sprintf(format, args...)}
}

// jobNotFound is how the service says a job is missing on get, update, reset,
// delete and run-now: HTTP 400, not 404 (§6.2, §12.1; [obs] TF PR #2225,
// cli #1122 "Job 0 does not exist." for a body without job_id).
func jobNotFound(id int64) *apiError {
	return invalidParam("Job %d does not exist.", id)
}

// runNotFound mirrors jobNotFound for runs (§3.2.10; [SDK] apierr/error_overrides.go).
func runNotFound(id int64) *apiError {
	return invalidParam("Run %d does not exist.", id)
}

// endpointNotFound answers unknown paths and known paths with the wrong
// method. Databricks routes by method and path: a POST to a GET-only path
// answers 404 ENDPOINT_NOT_FOUND "No API found for 'POST /<path>'" (observed
// on a live workspace and recorded in a public repository, 2026-08-26; the
// same message shape in databricks-cli issue #383 for an unknown path), not
// 405. The path in the message omits the /api/<version> prefix.
func endpointNotFound(method, path string) *apiError {
	return &apiError{status: http.StatusNotFound, code: codeEndpointNotFound, msg: fmt.Sprintf("No API found for '%s %s'", method, path)}
}

// writeError writes e as the JSON error body.
func writeError(w http.ResponseWriter, e *apiError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	// An empty code is left out: some workspace-files errors carry none
	// (see importFile).
	body, _ := json.Marshal(struct {
		ErrorCode string `json:"error_code,omitempty"`
		Message   string `json:"message"`
	}{e.code, e.msg})
	writeBody(w, e.status, body)
}

// writeBody writes a JSON answer.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
