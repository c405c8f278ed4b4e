package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// Options configure a Server. The zero value is a usable emulator.
type Options struct {
	// Now is the emulated clock: created_time, run start/end times and run
	// progress follow it. Default time.Now. Rate limits and latency always
	// use the real clock.
	Now func() time.Time
	// FirstJobID is the first job id handed out; later ids follow with a
	// fixed step, so that goldens are stable. Default 9_081_234_567_890_123:
	// 16 digits, odd and above 2^53, so that a client decoding ids through
	// float64 loses precision and fails loudly (§2, §12.15).
	FirstJobID int64
	// User is the default principal: every token that Directory does not
	// map to another principal authenticates as this user, who creates and
	// owns what it writes. Default "user@example.com"; it is a member of
	// the groups "admins" and "users".
	User string
	// Directory adds users, groups, service principals and token mappings
	// to the principal directory (identity.go).
	Directory Directory
	// WorkspaceID is the workspace id of host metadata and of the
	// X-Databricks-Org-Id header of /Me. Default 7_474_650_000_000_001
	// (16 digits, like real ones).
	WorkspaceID int64
	// Workspaces is WorkspacesShared (the default: every token sees the
	// same workspace) or WorkspacesPerToken (each token its own; tenancy.go).
	Workspaces string
	// Latency is added to every request (see SetLatency).
	Latency time.Duration
	// DataFile, when set, is loaded by New if it exists and written
	// atomically by Save, and in the background shortly after writes.
	DataFile string
	// ReorderReads starts the server with SetReorder(true).
	ReorderReads bool
	// Seed seeds the random failures of SetFailRate.
	Seed int64

	// FirstRunID is the first run id (runs, task runs and repairs share one
	// sequence). Default 9_341_592_653_589_793.
	FirstRunID int64
	// RunPending and RunRunning are how long a run stays PENDING and then
	// RUNNING on the emulated clock (defaults 1 s and 3 s). Tasks run level
	// by level of their dependency graph within RunRunning.
	RunPending, RunRunning time.Duration
	// JobQuota is the number of saved jobs allowed (default 10,000, §6.4
	// QUOTA_EXCEEDED); negative means unlimited.
	JobQuota int
	// CreatesPerHour limits jobs/create per hour of the emulated clock
	// (default 10,000, §6.4); negative means unlimited.
	CreatesPerHour int
	// AllowAnonymous accepts requests without an Authorization header (the
	// real service answers 401).
	AllowAnonymous bool
	// SaveDelay is how long after a write the state is saved in the
	// background when DataFile is set (default 500 ms).
	SaveDelay time.Duration
	// RequestLogLimit is how many of the latest requests Requests keeps
	// (default 100,000; RequestCount counts them all).
	RequestLogLimit int
	// BodyBudget bounds the bytes of request bodies held at once by the
	// requests being read and served (default 64 MiB): a request waits for
	// its share before its body is read, so a crowd of large bodies costs
	// this much memory, not their sum (300 bodies of 8 MB peaked at 3.5 GB
	// without it).
	BodyBudget int64
	// HeaderTimeout is how long HTTPServer waits for a request's headers
	// (default 10 s); the whole request must arrive within 2 minutes.
	HeaderTimeout time.Duration
	// Without turns off some of the real service's behaviours (all are on
	// by default; see Behaviour).
	Without Behaviour
	// OnRequest, when set, is called with every request as it is logged
	// (before its answer is written; see Requests). It must be quick and
	// safe for concurrent use. `jobsync emulator --log-requests` prints
	// each one, to see what another tool (the databricks CLI, Terraform)
	// sends.
	OnRequest func(Request)
	// Policies are the workspace's cluster policies, by policy id: each a
	// policy definition ({"spark_conf.spark.x": {"type": "fixed", "value":
	// "1"}, ...}). Nil means the one DefaultPolicyID policy.
	Policies map[string]map[string]any
}

// Default ids and their step. Steps are even so that ids keep the parity of
// the first one (odd ids above 2^53 cannot be represented in float64).
const (
	defaultFirstJobID = 9_081_234_567_890_123
	defaultFirstRunID = 9_341_592_653_589_793
	jobIDStep         = 1_000_002
	runIDStep         = 2_002
	defaultUser       = "user@example.com"
	defaultWorkspace  = 7_474_650_000_000_001
	maxBodyBytes      = 10 << 20 // §6.4: max request size 10 MB
	defaultBodyBudget = 64 << 20
	// maxLoggedBody is the largest body the request log keeps; larger
	// ones are logged by size only, so that the log (100,000 entries by
	// default) cannot hold gigabytes of bodies.
	maxLoggedBody = 1 << 20
)

// Fault is a one-off (or Count-times) misbehaviour injected with InjectFault.
type Fault struct {
	// Method and Endpoint select the requests it applies to; empty matches
	// any. Endpoint is the path after the version prefix, e.g. "jobs/create"
	// or "permissions/jobs".
	Method, Endpoint string
	// Status, ErrorCode, Message build a JSON error answer; Body, when set,
	// is sent verbatim instead (text/html when it starts with '<').
	Status             int
	ErrorCode, Message string
	Body               string
	// RetryAfter, when positive, is sent as the Retry-After header (seconds).
	RetryAfter int
	// Count is how many matching requests the fault applies to (default 1).
	Count int
	// DropBeforeCommit closes the connection without answering and without
	// performing the request. DropAfterCommit performs it (the write is
	// committed) and then closes the connection without answering.
	DropBeforeCommit, DropAfterCommit bool
}

// Request is one entry of the request log.
type Request struct {
	Method, Path, Query string
	// Body is nil for a body larger than 1 MiB; Size is its length.
	Body []byte
	Size int
	// Status is the HTTP status answered, 0 when the connection was dropped.
	Status int
	// Principal is who sent it (a userName, or a service principal's
	// application id); "" without an Authorization header.
	Principal string
	// Start is when the request arrived, End when it was answered:
	// wall-clock times, so that tests can tell whether the requests of
	// two clients overlapped.
	Start, End time.Time
}

// About says whether the request names job id: as its body's job_id (the
// jobs/* writes) or as a segment of its path (permissions/jobs/{id}). Tests
// use it to prove that nothing was written to a job.
func (r Request) About(id int64) bool {
	want := strconv.FormatInt(id, 10)
	for _, seg := range strings.Split(r.Path, "/") {
		if seg == want {
			return true
		}
	}
	var b struct {
		JobID json.Number `json:"job_id"`
	}
	dec := json.NewDecoder(strings.NewReader(string(r.Body)))
	dec.UseNumber()
	return dec.Decode(&b) == nil && b.JobID.String() == want
}

// String is the request's line of `jobsync emulator --log-requests`:
// method, path and query, the status answered (0: the connection was
// dropped) and the size of the body.
func (r Request) String() string {
	target := r.Path
	if r.Query != "" {
		target += "?" + r.Query
	}
	return fmt.Sprintf("emulator: %s %s -> %d (%d bytes in)", r.Method, target, r.Status, r.Size)
}

// Server is the emulated workspace. It is an http.Handler and safe for
// concurrent use.
type Server struct {
	opts Options
	dir  *directory

	st *store // the shared workspace (tenancy.go)

	tenMu   sync.Mutex
	tenants map[string]*store // per-token workspaces by tenantKey

	latency  atomic.Int64 // time.Duration
	reorder  atomic.Bool
	failRate atomic.Uint64 // math.Float64bits

	knobMu   sync.Mutex
	limiters map[string]*bucket
	faults   []*Fault
	rng      *rand.Rand

	logMu    sync.Mutex
	log      []Request
	logCount atomic.Int64

	bodies bodyBudget

	persist persister
}

// New returns a Server. With o.DataFile set and present, its state is loaded.
func New(o Options) (*Server, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.FirstJobID <= 0 {
		o.FirstJobID = defaultFirstJobID
	}
	if o.FirstRunID <= 0 {
		o.FirstRunID = defaultFirstRunID
	}
	if o.User == "" {
		o.User = defaultUser
	}
	if o.WorkspaceID <= 0 {
		o.WorkspaceID = defaultWorkspace
	}
	if err := checkWorkspacesMode(o.Workspaces); err != nil {
		return nil, err
	}
	dir, err := newDirectory(o.User, o.Directory)
	if err != nil {
		return nil, err
	}
	if o.RunPending <= 0 {
		o.RunPending = time.Second
	}
	if o.RunRunning <= 0 {
		o.RunRunning = 3 * time.Second
	}
	if o.JobQuota == 0 {
		o.JobQuota = 10_000
	}
	if o.CreatesPerHour == 0 {
		o.CreatesPerHour = 10_000
	}
	if o.SaveDelay <= 0 {
		o.SaveDelay = 500 * time.Millisecond
	}
	if o.RequestLogLimit <= 0 {
		o.RequestLogLimit = 100_000
	}
	if o.BodyBudget <= 0 {
		o.BodyBudget = defaultBodyBudget
	}
	if o.Policies == nil {
		o.Policies = defaultPolicies()
	}
	s := &Server{
		opts:     o,
		dir:      dir,
		st:       newStore(o.FirstJobID, o.FirstRunID),
		tenants:  map[string]*store{},
		limiters: map[string]*bucket{},
		rng:      rand.New(rand.NewPCG(uint64(o.Seed), 0x6a6f6273796e63)), // "jobsync"
	}
	s.bodies.sem = semaphore.NewWeighted(o.BodyBudget)
	s.bodies.limit = o.BodyBudget
	s.latency.Store(int64(o.Latency))
	s.reorder.Store(o.ReorderReads)
	s.persist.path = o.DataFile
	if o.DataFile != "" {
		st, tenants, err := loadState(o.DataFile)
		if err != nil {
			return nil, err
		}
		if st != nil {
			s.st, s.tenants = st, tenants
			s.persist.loaded = true
		}
		if len(tenants) > 0 && o.Workspaces != WorkspacesPerToken {
			return nil, fmt.Errorf("emulator: state file %s holds per-token workspaces: serve it with per-token workspaces (--workspaces per-token), or move it away", o.DataFile)
		}
	}
	s.seed(s.st)
	for _, t := range s.tenants {
		s.seed(t)
	}
	return s, nil
}

// SetLatency sets the delay added to every request.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// SetReorder turns on the deterministic reordering of tasks, depends_on and
// webhook lists on read, as the real service may reorder them (§7.2, §12.8).
func (s *Server) SetReorder(on bool) { s.reorder.Store(on) }

// now is the emulated time in epoch milliseconds.
func (s *Server) now() int64 { return s.opts.Now().UnixMilli() }

// Requests returns a copy of the request log (the latest RequestLogLimit).
func (s *Server) Requests() []Request {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	log := s.log[max(0, len(s.log)-s.opts.RequestLogLimit):]
	out := make([]Request, len(log))
	copy(out, log)
	return out
}

// RequestCount is the number of requests served since the last ResetRequests.
func (s *Server) RequestCount() int64 { return s.logCount.Load() }

// ResetRequests empties the request log and its count.
func (s *Server) ResetRequests() {
	s.logMu.Lock()
	s.log = nil
	s.logCount.Store(0)
	s.logMu.Unlock()
}

func (s *Server) record(rq Request) {
	rq.End = time.Now()
	if s.opts.OnRequest != nil {
		s.opts.OnRequest(rq)
	}
	s.logCount.Add(1)
	s.logMu.Lock()
	s.log = append(s.log, rq)
	if limit := s.opts.RequestLogLimit; len(s.log) >= 2*limit {
		// Trim in halves: amortised O(1) per request.
		s.log = append([]Request(nil), s.log[len(s.log)-limit:]...)
	}
	s.logMu.Unlock()
}

// JobIDs returns the ids of all jobs of the shared workspace, ascending.
func (s *Server) JobIDs() []int64 {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	out := make([]int64, len(s.st.order))
	copy(out, s.st.order)
	return out
}

// request is one API call being served.
type request struct {
	r        *http.Request
	version  string     // "2.1", "2.2" or "2.0"
	endpoint string     // e.g. "jobs/create"
	pathID   string     // job id of the permissions paths; object path of workspace-files/import-file
	st       *store     // the workspace the request is served from (tenancy.go)
	who      *principal // the authenticated principal (identity.go)
	body     []byte
	params   map[string]any // conformed body, or typed query parameters
	now      int64          // emulated time, epoch ms
}

// ServeHTTP serves the emulated workspace (routes.go lists the endpoints).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Start: time.Now()}
	if authz := r.Header.Get("Authorization"); authz != "" {
		who, _ := s.dir.authenticate(authz)
		rec.Principal = who.name
	}
	body, held, aerr, err := s.readBody(r)
	defer s.bodies.release(held)
	if err != nil {
		// The client went away mid-body (or while waiting for its share
		// of the body budget); nobody reads an answer.
		rec.Status = 0
		s.record(rec)
		return
	}
	rec.Size = len(body)
	if len(body) <= maxLoggedBody {
		rec.Body = body
	}
	if aerr != nil {
		// Past the limit the rest of the body is never read: the
		// connection cannot be reused.
		w.Header().Set("Connection", "close")
		respondError(&loggedWriter{ResponseWriter: w, s: s, rec: rec}, aerr)
		return
	}
	lw := &loggedWriter{ResponseWriter: w, s: s, rec: rec}
	status := s.serve(lw, r, body)
	if !lw.logged {
		// Nothing was written: the connection is dropped (status 0), or
		// the handler wrote no body.
		lw.rec.Status = status
		s.record(lw.rec)
	}
	if status == 0 {
		dropConnection(w)
	}
}

// loggedWriter records the request in the log as its status is written,
// before any byte of the answer can reach the client. Logging after the
// answer (as the emulator did) let a client hold a large answer, already
// flushed in pieces, before its request was in the log, so a test that
// read the log right after a call could miss it (about 2.5% of runs of
// refresh's TestTruncatedJobNotReadTwice).
type loggedWriter struct {
	http.ResponseWriter
	s      *Server
	rec    Request
	logged bool
}

func (w *loggedWriter) WriteHeader(status int) {
	if !w.logged {
		w.logged = true
		w.rec.Status = status
		w.s.record(w.rec)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *loggedWriter) Write(b []byte) (int, error) {
	if !w.logged {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *loggedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// readBody reads the request body within the body budget. held is what it
// took of the budget (release it when the request is done). A body over
// its endpoint's limit (the API's 10 MB for most) is refused after reading
// at most the limit and a byte, or before reading anything when its length
// is announced.
func (s *Server) readBody(r *http.Request) (body []byte, held int64, aerr *apiError, err error) {
	limit := int64(bodyLimitFor(r.URL.Path))
	tooLarge := invalidParam("The request body exceeds the maximum size of %d bytes.", limit)
	switch n := r.ContentLength; {
	case n == 0 || r.Body == nil || r.Body == http.NoBody:
		return nil, 0, nil, nil
	case n > limit:
		// §6.4: 10 MB per request (status and code assumed).
		return nil, 0, tooLarge, nil
	case n > 0:
		held = n + 1
	default: // chunked: the length is known only at the end
		held = limit + 1
	}
	if err := s.bodies.acquire(r.Context(), held); err != nil {
		return nil, 0, nil, err
	}
	// One buffer of exactly the reserved size: no growth, no copies.
	buf := make([]byte, held)
	n := 0
	for n < len(buf) {
		k, err := r.Body.Read(buf[n:])
		n += k
		if err == io.EOF {
			return buf[:n], held, nil, nil
		}
		if err != nil {
			return nil, held, nil, err
		}
	}
	return nil, held, tooLarge, nil // more than the limit came (only chunked can)
}

// bodyBudget is a weighted semaphore over body bytes that remembers the
// most it ever lent at once (for tests).
type bodyBudget struct {
	sem   *semaphore.Weighted
	limit int64
	held  atomic.Int64
	peak  atomic.Int64
}

func (b *bodyBudget) acquire(ctx context.Context, n int64) error {
	if n > b.limit {
		n = b.limit // a budget smaller than one body still lets it through, alone
	}
	if err := b.sem.Acquire(ctx, n); err != nil {
		return err
	}
	h := b.held.Add(n)
	for p := b.peak.Load(); h > p && !b.peak.CompareAndSwap(p, h); p = b.peak.Load() {
	}
	return nil
}

func (b *bodyBudget) release(n int64) {
	if n <= 0 {
		return
	}
	if n > b.limit {
		n = b.limit
	}
	b.held.Add(-n)
	b.sem.Release(n)
}

// HTTPServer is an http.Server for s with the timeouts a server reachable
// by other programs needs: a client that sends its headers or its body
// slowly (or never) is cut off instead of holding a connection and its
// share of the body budget for ever.
func (s *Server) HTTPServer() *http.Server {
	header := s.opts.HeaderTimeout
	if header <= 0 {
		header = 10 * time.Second
	}
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: header,
		ReadTimeout:       2 * time.Minute, // 10 MB at under 100 KB/s
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
	}
}

// serve answers one request and returns the status written, or 0 when the
// connection must be dropped without an answer.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, body []byte) int {
	if d := time.Duration(s.latency.Load()); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return 0
		}
	}
	// Host metadata and the OAuth endpoints are asked for before the client
	// has a token (identity.go).
	if r.URL.Path == hostMetadataPath {
		return s.serveHostMetadata(w, r)
	}
	if strings.HasPrefix(r.URL.Path, "/oidc/") {
		return s.serveOIDC(w, r, body)
	}
	authz := r.Header.Get("Authorization")
	if !s.opts.AllowAnonymous && authz == "" {
		// [OAS21] 401 Unauthorized; the message is the one workspaces send
		// for a request without credentials.
		return respondError(w, &apiError{status: http.StatusUnauthorized, code: codeUnauthenticated,
			msg: "Credential was not sent or was of an unsupported type for this API."})
	}
	if r.URL.Path == telemetryPath {
		return serveTelemetry(w, r, body)
	}
	rt, rq, aerr := s.route(r)
	if aerr != nil {
		return respondError(w, aerr)
	}
	rq.body = body
	var key string
	rq.who, key = s.dir.authenticate(authz)
	rq.st = s.storeFor(key)
	if limit := rt.bodyLimit(); len(body) > limit {
		// §6.4: 10 MB per request (status and code assumed).
		return respondError(w, invalidParam("The request body exceeds the maximum size of %d bytes.", limit))
	}
	if f := s.takeFault(r.Method, rq.endpoint); f != nil {
		switch {
		case f.DropBeforeCommit:
			return 0
		case f.DropAfterCommit:
			s.call(rt, rq)
			return 0
		}
		return respondFault(w, f)
	}
	if aerr := s.checkRateLimit(rq.endpoint); aerr != nil {
		return respondError(w, aerr)
	}
	if aerr := s.randomFailure(); aerr != nil {
		return respondError(w, aerr)
	}
	out, aerr := s.call(rt, rq)
	if aerr != nil {
		return respondError(w, aerr)
	}
	writeAnswer(w, out)
	return http.StatusOK
}

// answer is a successful reply that is not a plain JSON value: raw bytes
// with their content type, or a JSON body with extra headers.
type answer struct {
	body        []byte
	contentType string // default application/json
	header      http.Header
}

// call decodes the request, runs the handler and encodes its answer.
// Handlers of raw routes decode the request themselves.
func (s *Server) call(rt route, rq *request) (answer, *apiError) {
	var aerr *apiError
	switch {
	case rt.raw:
	case rt.method == http.MethodGet:
		rq.params, aerr = queryParams(rq.r.URL.Query(), rq.body, rt.reqType)
	default:
		if rq.params, aerr = parseJSON(rq.body); aerr == nil && rt.reqType != "" {
			rq.params, aerr = conform(rq.params, rt.reqType)
		}
	}
	if aerr != nil {
		return answer{}, aerr
	}
	rq.now = s.now()
	if aerr := s.authorize(rq); aerr != nil { // permissions.go
		return answer{}, aerr
	}
	out, aerr := rt.handler(s, rq)
	if aerr != nil {
		return answer{}, aerr
	}
	if rt.write {
		s.persist.changed(s)
	}
	switch v := out.(type) {
	case answer:
		return v, nil
	case []byte:
		return answer{body: v}, nil
	case nil:
		return answer{body: []byte("{}")}, nil
	case map[string]any:
		return answer{body: appendJSON(nil, v)}, nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return answer{}, &apiError{status: http.StatusInternalServerError, code: codeInternal, msg: "emulator: " + err.Error()}
	}
	return answer{body: b}, nil
}

// writeAnswer writes a successful reply.
func writeAnswer(w http.ResponseWriter, a answer) {
	for k, vs := range a.header {
		w.Header()[k] = vs
	}
	if a.contentType == "" {
		writeBody(w, http.StatusOK, a.body)
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.body)
}

func respondError(w http.ResponseWriter, e *apiError) int {
	writeError(w, e)
	return e.status
}

func respondFault(w http.ResponseWriter, f *Fault) int {
	status := f.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	if f.Body != "" {
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(f.RetryAfter))
		}
		ct := "application/json"
		if strings.HasPrefix(strings.TrimSpace(f.Body), "<") {
			ct = "text/html; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, f.Body)
		return status
	}
	code, msg := f.ErrorCode, f.Message
	if code == "" {
		code = defaultCode(status)
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return respondError(w, &apiError{status: status, code: code, msg: msg, retryAfter: f.RetryAfter})
}

// defaultCode maps a status to the error_code the service uses for it (§6.1).
func defaultCode(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return codeRequestLimit
	case http.StatusServiceUnavailable:
		return codeUnavailable
	case http.StatusBadRequest:
		return codeInvalidParameter
	case http.StatusNotFound:
		return codeNotFound
	case http.StatusUnauthorized:
		return codeUnauthenticated
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusGatewayTimeout:
		return "DEADLINE_EXCEEDED"
	}
	return codeInternal
}

// dropConnection closes the client connection without an answer: the client
// sees EOF / connection reset, as when a gateway or the network fails.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	// HTTP/2 or a recorder: net/http's documented way to abort a response.
	panic(http.ErrAbortHandler)
}
