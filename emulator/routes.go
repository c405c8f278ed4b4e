package emulator

import (
	"net/http"
	"slices"
	"strings"
)

// route is one endpoint.
type route struct {
	method   string
	reqType  string // API type of the body (POST/PUT/PATCH) or query (GET)
	write    bool   // changes state (persisted)
	versions string // API versions serving it
	// raw handlers decode the request themselves (bodies that are not
	// JobSettings-typed JSON: workspace files, SCIM).
	raw     bool
	maxBody int // request body limit; 0 = maxBodyBytes
	handler func(*Server, *request) (any, *apiError)
}

func (rt route) bodyLimit() int {
	if rt.maxBody > 0 {
		return rt.maxBody
	}
	return maxBodyBytes
}

const (
	jobsVersions = "2.1 2.2"
	v20          = "2.0"
	read, write  = false, true
)

// jobsRoute is an endpoint of the Jobs API (jobs.go, runs.go, runview.go,
// list.go), typed against the SDK model.
func jobsRoute(method, reqType string, w bool, h func(*Server, *request) (any, *apiError)) route {
	return route{method: method, reqType: reqType, write: w, versions: jobsVersions, handler: h}
}

// rawRoute is a /api/2.0 endpoint whose handler reads the request itself.
func rawRoute(method string, w bool, h func(*Server, *request) (any, *apiError)) route {
	return route{method: method, write: w, versions: v20, raw: true, handler: h}
}

// routes lists every endpoint, keyed by method and the path after the
// version prefix, grouped by the file that answers it. Jobs endpoints
// exist under /api/2.2/ and /api/2.1/ (§11.1); everything else only under
// /api/2.0/.
var routes = map[string]route{
	// jobs.go and list.go: jobs (jobs-api.md §3.1).
	"POST jobs/create": jobsRoute(http.MethodPost, "CreateJob", write, (*Server).createJob),
	"GET jobs/get":     jobsRoute(http.MethodGet, "GetJobRequest", read, (*Server).getJob),
	"GET jobs/list":    jobsRoute(http.MethodGet, "ListJobsRequest", read, (*Server).listJobs),
	"POST jobs/reset":  jobsRoute(http.MethodPost, "ResetJob", write, (*Server).resetJob),
	"POST jobs/update": jobsRoute(http.MethodPost, "UpdateJob", write, (*Server).updateJob),
	"POST jobs/delete": jobsRoute(http.MethodPost, "DeleteJob", write, (*Server).deleteJob),

	// runs.go and runview.go: runs.
	"POST jobs/run-now":         jobsRoute(http.MethodPost, "RunNow", write, (*Server).runNow),
	"POST jobs/runs/submit":     jobsRoute(http.MethodPost, "SubmitRun", write, (*Server).submitRun),
	"GET jobs/runs/list":        jobsRoute(http.MethodGet, "ListRunsRequest", read, (*Server).listRuns),
	"GET jobs/runs/get":         jobsRoute(http.MethodGet, "GetRunRequest", read, (*Server).getRun),
	"GET jobs/runs/get-output":  jobsRoute(http.MethodGet, "GetRunOutputRequest", read, (*Server).getRunOutput),
	"GET jobs/runs/export":      jobsRoute(http.MethodGet, "ExportRunRequest", read, (*Server).exportRun),
	"POST jobs/runs/cancel":     jobsRoute(http.MethodPost, "CancelRun", write, (*Server).cancelRun),
	"POST jobs/runs/cancel-all": jobsRoute(http.MethodPost, "CancelAllRuns", write, (*Server).cancelAllRuns),
	"POST jobs/runs/delete":     jobsRoute(http.MethodPost, "DeleteRun", write, (*Server).deleteRun),
	"POST jobs/runs/repair":     jobsRoute(http.MethodPost, "RepairRun", write, (*Server).repairRun),

	// permissions.go: job permissions (§3.4).
	"GET permissions/jobs":                  {method: http.MethodGet, versions: v20, handler: (*Server).getPermissions},
	"PUT permissions/jobs":                  {method: http.MethodPut, reqType: "JobPermissionsRequest", write: write, versions: v20, handler: (*Server).setPermissions},
	"PATCH permissions/jobs":                {method: http.MethodPatch, reqType: "JobPermissionsRequest", write: write, versions: v20, handler: (*Server).updatePermissions},
	"GET permissions/jobs/permissionLevels": {method: http.MethodGet, versions: v20, handler: (*Server).permissionLevels},

	// workspace_permissions.go: permissions of workspace objects.
	"GET permissions/directories":                  rawRoute(http.MethodGet, read, (*Server).getObjectPermissions),
	"PUT permissions/directories":                  rawRoute(http.MethodPut, write, (*Server).setObjectPermissions),
	"PATCH permissions/directories":                rawRoute(http.MethodPatch, write, (*Server).updateObjectPermissions),
	"GET permissions/directories/permissionLevels": rawRoute(http.MethodGet, read, (*Server).objectPermissionLevels),
	"GET permissions/notebooks":                    rawRoute(http.MethodGet, read, (*Server).getObjectPermissions),
	"PUT permissions/notebooks":                    rawRoute(http.MethodPut, write, (*Server).setObjectPermissions),
	"PATCH permissions/notebooks":                  rawRoute(http.MethodPatch, write, (*Server).updateObjectPermissions),
	"GET permissions/notebooks/permissionLevels":   rawRoute(http.MethodGet, read, (*Server).objectPermissionLevels),
	"GET permissions/files":                        rawRoute(http.MethodGet, read, (*Server).getObjectPermissions),
	"PUT permissions/files":                        rawRoute(http.MethodPut, write, (*Server).setObjectPermissions),
	"PATCH permissions/files":                      rawRoute(http.MethodPatch, write, (*Server).updateObjectPermissions),
	"GET permissions/files/permissionLevels":       rawRoute(http.MethodGet, read, (*Server).objectPermissionLevels),

	// workspace.go: workspace files.
	"POST workspace/mkdirs":            rawRoute(http.MethodPost, write, (*Server).mkdirs),
	"GET workspace/get-status":         rawRoute(http.MethodGet, read, (*Server).getStatus),
	"GET workspace/list":               rawRoute(http.MethodGet, read, (*Server).listObjects),
	"POST workspace/import":            withBody(rawRoute(http.MethodPost, write, (*Server).importObject), maxImportBody),
	"GET workspace/export":             rawRoute(http.MethodGet, read, (*Server).exportObject),
	"POST workspace/delete":            rawRoute(http.MethodPost, write, (*Server).deleteObject),
	"POST workspace-files/import-file": withBody(rawRoute(http.MethodPost, write, (*Server).importFile), maxImportFileBytes),

	// identity.go: the current user (host metadata and OAuth are served
	// before routing, without a token).
	"GET preview/scim/v2/Me": rawRoute(http.MethodGet, read, (*Server).me),
	// identity.go: SCIM lists, to find a principal by name.
	"GET preview/scim/v2/Users":             rawRoute(http.MethodGet, read, (*Server).scimUsers),
	"GET preview/scim/v2/Groups":            rawRoute(http.MethodGet, read, (*Server).scimGroups),
	"GET preview/scim/v2/ServicePrincipals": rawRoute(http.MethodGet, read, (*Server).scimServicePrincipals),
}

func withBody(rt route, limit int) route { rt.maxBody = limit; return rt }

// bodyLimitFor is how much of a request body ServeHTTP reads before
// routing: the limit of the endpoint the path names, maxBodyBytes for
// unknown paths.
func bodyLimitFor(path string) int {
	rest, _ := strings.CutPrefix(path, "/api/2.0/")
	switch {
	case rest == "workspace/import":
		return maxImportBody
	case strings.HasPrefix(rest, "workspace-files/import-file/"):
		return maxImportFileBytes
	}
	return maxBodyBytes
}

// route finds the endpoint of r. Unknown paths and known paths with another
// method are 404 ENDPOINT_NOT_FOUND (see endpointNotFound).
func (s *Server) route(r *http.Request) (route, *request, *apiError) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/")
	version, rest, _ := strings.Cut(rest, "/")
	if !ok || version == "" {
		return route{}, nil, endpointNotFound(r.Method, r.URL.Path)
	}
	rq := &request{r: r, version: version, endpoint: rest}
	switch {
	case strings.HasPrefix(rest, "permissions/"):
		// /api/2.0/permissions/{jobs|directories|notebooks|files}/{id}[/permissionLevels]
		rq.endpoint = "" // only the two shapes below exist
		kind, p, _ := strings.Cut(strings.TrimPrefix(rest, "permissions/"), "/")
		if _, ok := workspaceObjectKinds[kind]; ok || kind == "jobs" {
			id, tail, _ := strings.Cut(p, "/")
			switch {
			case id == "":
			case tail == "" && !strings.HasSuffix(p, "/"):
				rq.pathID, rq.endpoint = id, "permissions/"+kind
			case tail == "permissionLevels":
				rq.pathID, rq.endpoint = id, "permissions/"+kind+"/permissionLevels"
			}
		}
	case strings.HasPrefix(rest, "workspace-files/import-file/"):
		// The object path follows, without its leading slash and
		// path-escaped by the CLI ([CLI] libs/filer/workspace_files_client.go
		// Write: url.PathEscape(strings.TrimLeft(absPath, "/"))); r.URL.Path
		// is already unescaped.
		rq.pathID = "/" + strings.TrimPrefix(rest, "workspace-files/import-file/")
		rq.endpoint = "workspace-files/import-file"
	}
	rt, ok := routes[r.Method+" "+rq.endpoint]
	if !ok || !slices.Contains(strings.Fields(rt.versions), version) {
		return route{}, nil, endpointNotFound(r.Method, "/"+rest)
	}
	return rt, rq, nil
}

// v21 reports whether the request uses the 2.1 API (no array paging, no
// queue default; §3.3).
func (rq *request) v21() bool { return rq.version == "2.1" }
