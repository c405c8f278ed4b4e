package emulator

import (
	"net/http"
	"slices"
	"strings"
)

// route is one endpoint of §3.1.
type route struct {
	method   string
	reqType  string // API type of the body (POST/PUT/PATCH) or query (GET)
	write    bool   // changes state (persisted)
	versions string // API versions serving it
	handler  func(*Server, *request) (any, *apiError)
}

// routes lists every endpoint of jobs-api.md §3.1, keyed by method and the
// path after the version prefix. Jobs endpoints exist under /api/2.2/ and
// /api/2.1/ (§11.1); permissions only under /api/2.0/ (§3.4).
var routes = map[string]route{
	"POST jobs/create":                      {http.MethodPost, "CreateJob", true, jobsVersions, (*Server).createJob},
	"GET jobs/get":                          {http.MethodGet, "GetJobRequest", false, jobsVersions, (*Server).getJob},
	"GET jobs/list":                         {http.MethodGet, "ListJobsRequest", false, jobsVersions, (*Server).listJobs},
	"POST jobs/reset":                       {http.MethodPost, "ResetJob", true, jobsVersions, (*Server).resetJob},
	"POST jobs/update":                      {http.MethodPost, "UpdateJob", true, jobsVersions, (*Server).updateJob},
	"POST jobs/delete":                      {http.MethodPost, "DeleteJob", true, jobsVersions, (*Server).deleteJob},
	"POST jobs/run-now":                     {http.MethodPost, "RunNow", true, jobsVersions, (*Server).runNow},
	"POST jobs/runs/submit":                 {http.MethodPost, "SubmitRun", true, jobsVersions, (*Server).submitRun},
	"GET jobs/runs/list":                    {http.MethodGet, "ListRunsRequest", false, jobsVersions, (*Server).listRuns},
	"GET jobs/runs/get":                     {http.MethodGet, "GetRunRequest", false, jobsVersions, (*Server).getRun},
	"GET jobs/runs/get-output":              {http.MethodGet, "GetRunOutputRequest", false, jobsVersions, (*Server).getRunOutput},
	"GET jobs/runs/export":                  {http.MethodGet, "ExportRunRequest", false, jobsVersions, (*Server).exportRun},
	"POST jobs/runs/cancel":                 {http.MethodPost, "CancelRun", true, jobsVersions, (*Server).cancelRun},
	"POST jobs/runs/cancel-all":             {http.MethodPost, "CancelAllRuns", true, jobsVersions, (*Server).cancelAllRuns},
	"POST jobs/runs/delete":                 {http.MethodPost, "DeleteRun", true, jobsVersions, (*Server).deleteRun},
	"POST jobs/runs/repair":                 {http.MethodPost, "RepairRun", true, jobsVersions, (*Server).repairRun},
	"GET permissions/jobs":                  {http.MethodGet, "", false, permVersions, (*Server).getPermissions},
	"PUT permissions/jobs":                  {http.MethodPut, "JobPermissionsRequest", true, permVersions, (*Server).setPermissions},
	"PATCH permissions/jobs":                {http.MethodPatch, "JobPermissionsRequest", true, permVersions, (*Server).updatePermissions},
	"GET permissions/jobs/permissionLevels": {http.MethodGet, "", false, permVersions, (*Server).permissionLevels},
}

const (
	jobsVersions = "2.1 2.2"
	permVersions = "2.0"
)

// route finds the endpoint of r. Unknown paths and known paths with another
// method are 404 ENDPOINT_NOT_FOUND (see endpointNotFound).
func (s *Server) route(r *http.Request) (route, *request, *apiError) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/")
	version, rest, _ := strings.Cut(rest, "/")
	if !ok || version == "" {
		return route{}, nil, endpointNotFound(r.Method, r.URL.Path)
	}
	rq := &request{r: r, version: version, endpoint: rest}
	// /api/2.0/permissions/jobs/{job_id}[/permissionLevels]
	if strings.HasPrefix(rest, "permissions/") {
		rq.endpoint = "" // only the two shapes below exist
		if p, ok := strings.CutPrefix(rest, "permissions/jobs/"); ok {
			id, tail, _ := strings.Cut(p, "/")
			switch {
			case id == "":
			case tail == "" && !strings.HasSuffix(p, "/"):
				rq.pathID, rq.endpoint = id, "permissions/jobs"
			case tail == "permissionLevels":
				rq.pathID, rq.endpoint = id, "permissions/jobs/permissionLevels"
			}
		}
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
