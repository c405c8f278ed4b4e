package jobsapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	defaultParallelism  = 16
	defaultRateLimit    = 1000 // requests per second per endpoint, before any 429
	defaultRetryTimeout = 5 * time.Minute
	// maxUnreachable is how many connection attempts in a row may fail
	// before a call gives up on the host (about 4 s with the default
	// backoff); the full retry budget is for a host that answers.
	maxUnreachable        = 4
	defaultAttemptTimeout = 2 * time.Minute
	defaultMinBackoff     = 500 * time.Millisecond
	defaultMaxBackoff     = 10 * time.Second
	defaultNoticeAfter    = 5 * time.Second
	defaultNoticeEvery    = 30 * time.Second
	defaultAPIVersion     = "2.2"
	// maxResponseBytes bounds one answer. A 2.2 page holds at most 100
	// jobs of at most 100 tasks each; even large ones stay far below.
	maxResponseBytes = 256 << 20
)

// Options tune the client. The zero value is ready to use.
type Options struct {
	// Parallelism bounds the requests in flight at once (default 16). The
	// default transport keeps as many idle connections per host.
	Parallelism int
	// RateLimit is the client-side ceiling in requests per second for each
	// endpoint; 0 means a generous default. Below it the rate adapts: it
	// halves when the workspace answers 429 and recovers slowly.
	RateLimit float64
	// HTTPClient replaces the default client (whose transport is sized to
	// Parallelism). Its Timeout, if any, applies to each attempt.
	HTTPClient *http.Client
	// Debug receives one line per request and response (method, path,
	// status, duration, attempt). Secrets are redacted; bodies are not logged.
	Debug io.Writer
	// UserAgent is the product part of the User-Agent, e.g.
	// "jobsync/1.2.3"; go, os and auth type are appended.
	UserAgent string
	// RetryTimeout bounds the time spent retrying one call (default 5 min).
	RetryTimeout time.Duration
	// APIVersion of the jobs endpoints: "2.2" (default) or "2.1".
	APIVersion string

	// MinBackoff and MaxBackoff bound the jittered exponential wait between
	// retries when the workspace gives no Retry-After (defaults 500 ms and
	// 10 s). Tests shorten them.
	MinBackoff, MaxBackoff time.Duration
	// AttemptTimeout bounds one attempt, response body included (default
	// 2 min); a timed-out read is retried like a dropped connection.
	AttemptTimeout time.Duration

	// Retrying, when set, hears of a call that is still being retried
	// and whose next wait ends past RetryNoticeAfter (default 5 s) after
	// it started, then at most once
	// every RetryNoticeEvery (default 30 s) for the whole client, so that
	// a plan behind a failing proxy says what it is waiting for instead of
	// going quiet for minutes. Calls are serialised; it must not block.
	Retrying                           func(RetryNotice)
	RetryNoticeAfter, RetryNoticeEvery time.Duration
}

// RetryNotice describes a call that keeps failing and is being retried.
type RetryNotice struct {
	Method, Path string
	// Attempts so far, and the time since the first one.
	Attempts int
	Elapsed  time.Duration
	// Reason is the last attempt's failure (secrets redacted).
	Reason string
	// Wait is the pause before the next attempt; Budget the call's whole
	// retry budget (Options.RetryTimeout).
	Wait, Budget time.Duration
}

// String is the notice as one line for people.
func (n RetryNotice) String() string {
	left := n.Budget - n.Elapsed
	if left < 0 {
		left = 0
	}
	return fmt.Sprintf("%s %s is still failing after %d attempts in %s (%s); retrying for up to %s more",
		n.Method, n.Path, n.Attempts, n.Elapsed.Round(time.Second), n.Reason, left.Round(time.Second))
}

// Stats counts what the client did. Requests counts attempts sent to the
// API (token requests apart), Retries the attempts that repeated an earlier
// one, Throttled the 429 answers.
type Stats struct {
	Requests      int64
	Retries       int64
	Throttled     int64
	TokenRequests int64
}

// Client is a client of one workspace's Jobs, permissions, workspace files
// and SCIM /Me APIs. It is safe for concurrent use; every method takes a
// context and stops when it ends.
type Client struct {
	host           string
	jobsBase       string // "/api/2.2/jobs"
	hc             *http.Client
	auth           authenticator
	authType       string
	userAgent      string
	sem            chan struct{}
	rateCeiling    float64
	parallelism    int
	retryTimeout   time.Duration
	attemptTimeout time.Duration
	minBackoff     time.Duration
	maxBackoff     time.Duration

	limMu    sync.Mutex
	limiters map[string]*limiter

	debug   io.Writer
	debugMu sync.Mutex

	secMu   sync.RWMutex
	secrets []string

	retrying                 func(RetryNotice)
	noticeAfter, noticeEvery time.Duration
	noticeMu                 sync.Mutex
	lastNotice               time.Time

	requests, retries, throttled, tokenRequests atomic.Int64

	// Seams for internal tests: the clock, sleeping and jitter.
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func() float64
}

// New returns a client of the workspace described by cfg. cfg usually comes
// from ResolveConfig; a hand-made Config is validated the same way (host
// normalised, plain http only for loopback, exactly one credential).
func New(cfg Config, o Options) (*Client, error) {
	host, err := NormalizeHost(cfg.Host)
	if err != nil {
		return nil, fmt.Errorf("workspace host: %w", err)
	}
	authType := strings.ToLower(cfg.AuthType)
	if authType == "" {
		switch {
		case cfg.Token != "" && (cfg.ClientID != "" || cfg.ClientSecret != ""):
			return nil, errors.New("more than one auth method configured (token and client_id): remove one or set DATABRICKS_AUTH_TYPE to pat or oauth-m2m")
		case cfg.Token != "":
			authType = AuthTypePAT
		case cfg.ClientID != "" || cfg.ClientSecret != "":
			authType = AuthTypeOAuthM2M
		default:
			return nil, fmt.Errorf("no credentials for %s: set DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET", host)
		}
	}
	version := o.APIVersion
	if version == "" {
		version = defaultAPIVersion
	}
	if version != "2.1" && version != "2.2" {
		return nil, fmt.Errorf("unsupported Jobs API version %q: use 2.2 (or 2.1)", version)
	}
	p := o.Parallelism
	if p <= 0 {
		p = defaultParallelism
	}
	c := &Client{
		host:           host,
		jobsBase:       "/api/" + version + "/jobs",
		authType:       authType,
		sem:            make(chan struct{}, p),
		parallelism:    p,
		rateCeiling:    o.RateLimit,
		retryTimeout:   orDefault(o.RetryTimeout, defaultRetryTimeout),
		attemptTimeout: orDefault(o.AttemptTimeout, defaultAttemptTimeout),
		minBackoff:     orDefault(o.MinBackoff, defaultMinBackoff),
		maxBackoff:     orDefault(o.MaxBackoff, defaultMaxBackoff),
		limiters:       map[string]*limiter{},
		debug:          o.Debug,
		retrying:       o.Retrying,
		noticeAfter:    orDefault(o.RetryNoticeAfter, defaultNoticeAfter),
		noticeEvery:    orDefault(o.RetryNoticeEvery, defaultNoticeEvery),
		now:            time.Now,
		sleep:          sleepCtx,
		jitter:         rand.Float64,
	}
	if c.rateCeiling <= 0 {
		c.rateCeiling = defaultRateLimit
	}
	if c.maxBackoff < c.minBackoff {
		c.maxBackoff = c.minBackoff
	}
	switch authType {
	case AuthTypePAT:
		if cfg.Token == "" {
			return nil, errors.New("auth type pat needs a token: set DATABRICKS_TOKEN or token in the profile")
		}
		c.auth = patAuth{token: cfg.Token}
		c.addSecret(cfg.Token)
	case AuthTypeOAuthM2M:
		if cfg.ClientID == "" || cfg.ClientSecret == "" {
			return nil, errors.New("OAuth M2M needs both a client id and a client secret: set DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET")
		}
		c.auth = newM2MAuth(c, cfg.ClientID, cfg.ClientSecret)
		c.addSecret(cfg.ClientSecret)
	case AuthTypeDatabricksCLI:
		if cfg.CLIPath == "" {
			return nil, errors.New("auth type databricks-cli needs the path of the Databricks CLI (ResolveConfig finds it)")
		}
		c.auth = newDatabricksCLIAuth(c, cfg.CLIPath, cfg.Profile)
	case AuthTypeAzureCLI:
		if cfg.AzPath == "" {
			return nil, errors.New("auth type azure-cli needs the path of the Azure CLI (ResolveConfig finds it)")
		}
		c.auth = newAzureCLIAuth(c, cfg.AzPath, cfg.AzureTenantID, cfg.AzureResourceID)
	case AuthTypeAzureClientSecret:
		if cfg.AzureClientID == "" || cfg.AzureClientSecret == "" || cfg.AzureTenantID == "" {
			return nil, errors.New("auth type azure-client-secret needs a client id, a client secret and a tenant id: set ARM_CLIENT_ID, ARM_CLIENT_SECRET and ARM_TENANT_ID")
		}
		login := cfg.AzureLoginURL
		if login == "" {
			login = DefaultAzureLoginURL
		}
		c.auth = newAzureSPAuth(c, login, cfg.AzureTenantID, cfg.AzureClientID, cfg.AzureClientSecret, cfg.AzureResourceID)
		c.addSecret(cfg.AzureClientSecret)
	default:
		return nil, fmt.Errorf("auth type %q is not supported by jobsync: use one of %s", cfg.AuthType, strings.Join(authTypes, ", "))
	}
	if o.HTTPClient != nil {
		hc := *o.HTTPClient
		c.hc = &hc
	} else {
		c.hc = &http.Client{Transport: newTransport(p)}
	}
	// The Jobs API never redirects. Go's default policy follows up to ten
	// redirects, re-sending the body, and keeps Authorization whenever the
	// host name is the same: a 307 from 127.0.0.1:A to 127.0.0.1:B handed
	// B the token, and https://host to http://host would send it in clear.
	// No redirect is followed: the 3xx answer comes back and is refused
	// (see redirectError).
	c.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.userAgent = buildUserAgent(o.UserAgent, authType)
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// newTransport sizes the connection pool to the parallelism, so that every
// in-flight request can reuse a kept-alive connection instead of opening
// (and TLS-handshaking) a new one.
func newTransport(parallelism int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = parallelism
	t.MaxConnsPerHost = parallelism
	if t.MaxIdleConns < parallelism {
		t.MaxIdleConns = parallelism
	}
	t.ResponseHeaderTimeout = defaultAttemptTimeout
	return t
}

// Host is the normalised workspace URL (scheme://host[:port]).
func (c *Client) Host() string { return c.host }

// AuthType is the authentication in use (one of the AuthType constants).
func (c *Client) AuthType() string { return c.authType }

// Stats returns the counters so far.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:      c.requests.Load(),
		Retries:       c.retries.Load(),
		Throttled:     c.throttled.Load(),
		TokenRequests: c.tokenRequests.Load(),
	}
}

// String names the client without its credentials.
func (c *Client) String() string {
	return fmt.Sprintf("jobsapi.Client{Host: %s, AuthType: %s}", c.host, c.authType)
}

var uaToken = regexp.MustCompile(`[^A-Za-z0-9._+-]`)

// buildUserAgent follows the SDKs' key/value format (jobs-api.md §10.5):
// "jobsync/1.2.3 go/1.26.0 os/linux auth/pat".
func buildUserAgent(product, authType string) string {
	product = strings.TrimSpace(product)
	if product == "" {
		v := "dev"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		product = "jobsync/" + uaToken.ReplaceAllString(v, "-")
	}
	goVer := strings.TrimPrefix(runtime.Version(), "go")
	if f := strings.Fields(goVer); len(f) > 0 {
		goVer = f[0]
	}
	return fmt.Sprintf("%s go/%s os/%s auth/%s", product,
		uaToken.ReplaceAllString(goVer, "-"), runtime.GOOS, uaToken.ReplaceAllString(authType, "-"))
}

// AddSecrets makes values (such as the values of sensitive variables,
// which requests carry) redacted from every message of the client, like
// its credentials, in the same encoded forms.
func (c *Client) AddSecrets(values ...string) {
	for _, v := range values {
		c.addSecret(v)
	}
}

// addSecret makes s, and the forms a server may echo it in, redacted from
// every message: URL-escaped (query and path), base64 (standard and URL,
// padded or not) and JSON-escaped.
func (c *Client) addSecret(s string) {
	if s == "" {
		return
	}
	forms := []string{s, url.QueryEscape(s), url.PathEscape(s), strings.ReplaceAll(s, "/", `\/`)}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		forms = append(forms, enc.EncodeToString([]byte(s)))
	}
	if q, err := json.Marshal(s); err == nil {
		forms = append(forms, string(q[1:len(q)-1]))
	}
	c.addSecretForms(forms...)
}

// addSecretForms adds exact strings to redact. Forms shorter than 8
// characters are left out (their encodings of a short secret could be any
// word).
func (c *Client) addSecretForms(forms ...string) {
	c.secMu.Lock()
	defer c.secMu.Unlock()
	for _, f := range forms {
		if len(f) < 8 || slices.Contains(c.secrets, f) {
			continue
		}
		c.secrets = append(c.secrets, f)
	}
	// Longest first: a secret's encoding may contain a shorter secret.
	slices.SortStableFunc(c.secrets, func(a, b string) int { return len(b) - len(a) })
}

// redact removes every credential the client knows from s. Messages from the
// server and transport errors pass through it before they reach an error or
// the debug log.
func (c *Client) redact(s string) string {
	c.secMu.RLock()
	defer c.secMu.RUnlock()
	for _, x := range c.secrets {
		if strings.Contains(s, x) {
			s = strings.ReplaceAll(s, x, "<redacted>")
		}
	}
	return s
}

func (c *Client) logf(format string, args ...any) {
	if c.debug == nil {
		return
	}
	line := c.redact(fmt.Sprintf(format, args...))
	c.debugMu.Lock()
	defer c.debugMu.Unlock()
	fmt.Fprintf(c.debug, "jobsapi: %s\n", line)
}

func (c *Client) limiterFor(endpoint string) *limiter {
	c.limMu.Lock()
	defer c.limMu.Unlock()
	l := c.limiters[endpoint]
	if l == nil {
		l = newLimiter(c.rateCeiling, c.parallelism)
		c.limiters[endpoint] = l
	}
	return l
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// call is one logical API call, possibly sent several times.
type call struct {
	method   string
	path     string     // absolute path, e.g. /api/2.2/jobs/get
	endpoint string     // rate-limit and fault key, e.g. jobs/get
	query    url.Values // GET parameters
	body     []byte     // JSON body of writes
	// idempotent calls may be repeated after a transport error or a
	// gateway timeout: repeating them cannot duplicate an effect.
	idempotent bool
	// contentType of body; default application/json.
	contentType string
	// emptyOK accepts a 2xx answer without a body (writes whose answer
	// carries nothing, such as workspace-files/import-file).
	emptyOK bool
}

// outcome says how a call ended beyond its error.
type outcome struct {
	// maybeSentBefore is true when an attempt before the last one may have
	// reached the server (so a delete that now says "does not exist" may
	// have been done by that attempt).
	maybeSentBefore bool
	// header of the successful answer.
	header http.Header
}

// transportError is a request that got no HTTP answer.
type transportError struct {
	Method, Path string
	msg          string
	err          error
}

func (e *transportError) Error() string { return fmt.Sprintf("%s %s: %s", e.Method, e.Path, e.msg) }
func (e *transportError) Unwrap() error { return e.err }

type attemptResult struct {
	status int
	header http.Header
	body   []byte
	err    error // transport or auth error; nil when an HTTP answer came
	// sent is false when the request certainly never reached the server.
	sent bool
	// permanent marks errors no retry can fix (bad certificate, refused
	// credentials at the token endpoint).
	permanent bool
	// decodeErr is set when a 2xx body could not be decoded (cut off,
	// malformed or empty).
	decodeErr error
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// do runs c with retries and decodes a 2xx answer into out (unless nil).
func (c *Client) do(ctx context.Context, cl *call, out any) (outcome, error) {
	var oc outcome
	start := c.now()
	refreshedAuth := false
	unreachable := 0
	var lastErr error
	for attempt := 1; ; attempt++ {
		res := c.attempt(ctx, cl, attempt, out)
		if ctx.Err() != nil {
			return oc, fmt.Errorf("%s %s: %w", cl.method, cl.path, context.Cause(ctx))
		}
		lim := c.limiterFor(cl.endpoint)
		var retryAfter time.Duration
		var err error
		retry := false
		switch {
		case res.err != nil:
			err = res.err
			switch {
			case res.permanent:
			case !res.sent && unreachable+1 >= maxUnreachable:
				// A host that refuses every connection (or does not
				// resolve) is misconfigured or down; retrying for the
				// whole budget would only keep CI waiting for minutes.
				return oc, fmt.Errorf("cannot reach %s after %d attempts: %w; check the workspace host (--host, DATABRICKS_HOST or the profile) and the network", c.host, attempt, res.err)
			case cl.idempotent || !res.sent:
				if !res.sent {
					unreachable++
				}
				retry = true
			default:
				return oc, &AmbiguousError{Method: cl.method, Path: cl.path, Err: res.err}
			}
		case res.status/100 == 2:
			lim.succeeded(c.now())
			if res.decodeErr == nil {
				oc.header = res.header
				return oc, nil
			}
			derr := res.decodeErr
			err = &transportError{Method: cl.method, Path: cl.path, msg: fmt.Sprintf("HTTP %d with an unreadable body: %s", res.status, c.redact(derr.Error())), err: derr}
			if !cl.idempotent {
				// The write was done; only its answer is lost.
				return oc, &AmbiguousError{Method: cl.method, Path: cl.path, Err: err, Settled: true}
			}
			retry = true
		default:
			apiErr := parseError(cl.method, cl.path, res.status, res.header.Get("Content-Type"), res.body)
			apiErr.Message = c.redact(apiErr.Message)
			err = apiErr
			if res.status != http.StatusTooManyRequests {
				lim.succeeded(c.now())
			}
			switch res.status {
			case http.StatusTooManyRequests:
				c.throttled.Add(1)
				lim.throttled(c.now())
				retry = true
				retryAfter = parseRetryAfter(res.header)
			case http.StatusServiceUnavailable:
				// 503 means the workspace did not take the request (no
				// webapp to handle it); the SDKs retry it for every method.
				retry = true
				retryAfter = parseRetryAfter(res.header)
			case http.StatusBadGateway, http.StatusGatewayTimeout:
				// A gateway gave up waiting: the backend may still have
				// done the work.
				if !cl.idempotent {
					return oc, &AmbiguousError{Method: cl.method, Path: cl.path, Err: apiErr}
				}
				retry = true
			case http.StatusInternalServerError:
				// Repeating an idempotent call (a GET, update, reset,
				// delete) cannot duplicate anything, so a passing 500
				// does not have to fail a whole apply.
				if cl.idempotent || cl.method == http.MethodGet {
					retry = true
				} else {
					return oc, &AmbiguousError{Method: cl.method, Path: cl.path, Err: apiErr, Settled: true}
				}
			case http.StatusUnauthorized:
				// An OAuth token can be revoked or expire early: fetch a
				// new one once.
				if !refreshedAuth && c.auth.invalidate() {
					refreshedAuth = true
					retry = true
					retryAfter = time.Nanosecond
				}
			}
		}
		lastErr = err
		if !retry {
			return oc, err
		}
		// 429, 503 and 401 say the request was not taken; anything else may
		// have been applied before the answer was lost.
		if res.sent && res.status != http.StatusTooManyRequests && res.status != http.StatusServiceUnavailable && res.status != http.StatusUnauthorized {
			oc.maybeSentBefore = true
		}
		delay := retryAfter
		if delay <= 0 {
			delay = c.backoff(attempt)
		}
		elapsed := c.now().Sub(start)
		if elapsed+delay > c.retryTimeout {
			reason := fmt.Sprintf("retry budget of %s used up", c.retryTimeout)
			if retryAfter > 0 {
				reason = fmt.Sprintf("the workspace asked to wait %s, beyond the retry budget of %s", retryAfter, c.retryTimeout)
			}
			return oc, &RetryError{Attempts: attempt, Err: lastErr, Reason: reason}
		}
		c.retries.Add(1)
		c.notice(cl, attempt, elapsed, delay, lastErr)
		if err := c.sleep(ctx, delay); err != nil {
			return oc, fmt.Errorf("%s %s: %w (while waiting to retry after: %v)", cl.method, cl.path, context.Cause(ctx), lastErr)
		}
	}
}

// notice tells Options.Retrying about a call that will still be failing
// noticeAfter after it started (the wait ahead takes it past that), at
// most once per noticeEvery across the client.
func (c *Client) notice(cl *call, attempts int, elapsed, wait time.Duration, last error) {
	if c.retrying == nil || elapsed+wait < c.noticeAfter {
		return
	}
	c.noticeMu.Lock()
	defer c.noticeMu.Unlock()
	now := c.now()
	if !c.lastNotice.IsZero() && now.Sub(c.lastNotice) < c.noticeEvery {
		return
	}
	c.lastNotice = now
	reason := ""
	if last != nil {
		reason = c.redact(last.Error())
		// The method and path are said once, in front.
		reason = strings.TrimPrefix(reason, cl.method+" "+cl.path+": ")
	}
	c.retrying(RetryNotice{Method: cl.method, Path: cl.path, Attempts: attempts, Elapsed: elapsed, Reason: reason, Wait: wait, Budget: c.retryTimeout})
}

// decodeInto decodes one JSON value from r into out (a non-nil pointer),
// numbers as json.Number. It decodes into a fresh value and stores it only
// on success, so that a body cut off half-way leaves nothing of itself
// behind for the retry to merge with.
func decodeInto(r io.Reader, out any, size int64) error {
	if rd, ok := out.(rawDecoder); ok {
		data, err := readBody(r, size)
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return errors.New("empty body")
		}
		if rd.decodeRaw(data) {
			return nil
		}
		r = bytes.NewReader(data)
	}
	fresh := reflect.New(reflect.TypeOf(out).Elem())
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := dec.Decode(fresh.Interface()); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty body")
		}
		return err
	}
	reflect.ValueOf(out).Elem().Set(fresh.Elem())
	return nil
}

// readBody reads all of r into one buffer of size bytes when the server
// said how many (io.ReadAll alone doubles its way there).
func readBody(r io.Reader, size int64) ([]byte, error) {
	if size <= 0 || size > maxResponseBytes {
		return io.ReadAll(r)
	}
	buf := make([]byte, size)
	n, err := io.ReadFull(r, buf)
	if err != nil {
		return buf[:n], err
	}
	rest, err := io.ReadAll(r) // nothing, from net/http
	return append(buf, rest...), err
}

// backoff is the wait before retry number attempt when the server gave no
// Retry-After: exponential from MinBackoff, capped at MaxBackoff, with
// "equal jitter" (half fixed, half random) so that a crowd of clients
// throttled together does not come back together.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.minBackoff
	for i := 1; i < attempt && d < c.maxBackoff; i++ {
		d *= 2
	}
	if d > c.maxBackoff {
		d = c.maxBackoff
	}
	return d/2 + time.Duration(c.jitter()*float64(d/2))
}

// parseRetryAfter reads Retry-After as integer seconds, the only form the
// platform sends (jobs-api.md §6.2). Other forms and absurd values are
// ignored and the normal backoff applies.
func parseRetryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > 3600 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// attempt sends cl once. A 2xx answer is decoded into out straight from the
// connection (large list pages are never held twice in memory); other
// answers are read whole for parseError.
func (c *Client) attempt(ctx context.Context, cl *call, n int, out any) attemptResult {
	lim := c.limiterFor(cl.endpoint)
	if d := lim.reserve(c.now()); d > 0 {
		if err := c.sleep(ctx, d); err != nil {
			lim.release()
			return attemptResult{err: err}
		}
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return attemptResult{err: ctx.Err()}
	}
	defer func() { <-c.sem }()

	actx, cancel := context.WithTimeout(ctx, c.attemptTimeout)
	defer cancel()
	target := c.host + cl.path
	logPath := cl.path
	if len(cl.query) > 0 {
		q := cl.query.Encode()
		target += "?" + q
		logPath += "?" + q
	}
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(actx, cl.method, target, body)
	if err != nil {
		return attemptResult{err: fmt.Errorf("%s %s: %w", cl.method, cl.path, err), permanent: true}
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if cl.body != nil {
		ct := cl.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if err := c.auth.authorize(actx, req); err != nil {
		if ctx.Err() != nil {
			return attemptResult{err: ctx.Err()}
		}
		var te *tokenError
		if errors.As(err, &te) {
			return attemptResult{err: err, permanent: !te.transient}
		}
		return attemptResult{err: err}
	}
	c.requests.Add(1)
	t0 := c.now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.logf("%s %s error %s attempt=%d (%s)", cl.method, logPath, c.now().Sub(t0).Round(time.Microsecond), n, err)
		if ctx.Err() != nil {
			return attemptResult{err: ctx.Err()}
		}
		msg := c.redact(err.Error())
		if actx.Err() != nil {
			msg = fmt.Sprintf("no complete answer within %s", c.attemptTimeout)
		}
		return attemptResult{
			err:       &transportError{Method: cl.method, Path: cl.path, msg: msg, err: err},
			sent:      !neverSent(err),
			permanent: isPermanentTransport(err),
		}
	}
	if isRedirect(resp.StatusCode) {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		c.logf("%s %s %d %s attempt=%d (redirect refused)", cl.method, logPath, resp.StatusCode, c.now().Sub(t0).Round(time.Microsecond), n)
		return attemptResult{err: c.redirectError(cl.method, cl.path, resp), sent: true, permanent: true}
	}
	if resp.StatusCode/100 == 2 && out != nil {
		body := &countingReader{r: io.LimitReader(resp.Body, maxResponseBytes+1)}
		derr := decodeInto(body, out, resp.ContentLength)
		// Drain a little trailing data so that the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		c.logf("%s %s %d %s attempt=%d", cl.method, logPath, resp.StatusCode, c.now().Sub(t0).Round(time.Microsecond), n)
		if derr != nil && body.n > maxResponseBytes {
			return attemptResult{
				err:       &transportError{Method: cl.method, Path: cl.path, msg: fmt.Sprintf("HTTP %d with an answer larger than %d bytes; refusing to read it", resp.StatusCode, maxResponseBytes)},
				sent:      true,
				permanent: true,
			}
		}
		if derr != nil && ctx.Err() != nil {
			return attemptResult{err: ctx.Err()}
		}
		return attemptResult{status: resp.StatusCode, header: resp.Header, sent: true, decodeErr: derr}
	}
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	resp.Body.Close()
	if rerr == nil && len(data) > maxResponseBytes {
		c.logf("%s %s %d %s attempt=%d (answer larger than %d bytes)", cl.method, logPath, resp.StatusCode, c.now().Sub(t0).Round(time.Microsecond), n, maxResponseBytes)
		return attemptResult{
			err:       &transportError{Method: cl.method, Path: cl.path, msg: fmt.Sprintf("HTTP %d with an answer larger than %d bytes; refusing to read it", resp.StatusCode, maxResponseBytes)},
			sent:      true,
			permanent: true,
		}
	}
	c.logf("%s %s %d %s attempt=%d", cl.method, logPath, resp.StatusCode, c.now().Sub(t0).Round(time.Microsecond), n)
	if rerr != nil && resp.StatusCode/100 == 2 {
		if ctx.Err() != nil {
			return attemptResult{err: ctx.Err()}
		}
		return attemptResult{
			status: resp.StatusCode,
			err:    &transportError{Method: cl.method, Path: cl.path, msg: fmt.Sprintf("HTTP %d, then the body broke off: %s", resp.StatusCode, c.redact(rerr.Error())), err: rerr},
			sent:   true,
		}
	}
	if resp.StatusCode/100 == 2 && !isJSONObject(data) && !(cl.emptyOK && len(bytes.TrimSpace(data)) == 0) {
		// The Jobs API answers every write with a JSON object ({} at
		// least). Anything else (an SSO login page, a captive portal, a
		// misrouted gateway) means the request never reached it, whatever
		// the status says.
		return attemptResult{status: resp.StatusCode, header: resp.Header, body: data, sent: true,
			decodeErr: fmt.Errorf("the answer is not the Jobs API's JSON (%s)", bodySnippet(resp.Header.Get("Content-Type"), data))}
	}
	return attemptResult{status: resp.StatusCode, header: resp.Header, body: data, sent: true}
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// redirectError refuses a redirect answer, naming where it pointed (scheme,
// host and port only: the rest may carry anything).
func (c *Client) redirectError(method, path string, resp *http.Response) error {
	where := "another address"
	if loc, err := resp.Location(); err == nil {
		where = loc.Scheme + "://" + loc.Host
	}
	return &transportError{Method: method, Path: path, msg: c.redact(fmt.Sprintf(
		"the workspace answered HTTP %d, a redirect to %s; the Jobs API never redirects, so jobsync follows no redirect (the token and the request would go to another server): check the workspace host (--host, DATABRICKS_HOST or the profile); if %s is the workspace, use it as the host",
		resp.StatusCode, where, where))}
}

// isJSONObject reports whether data is one JSON object, allowing white space
// around it.
func isJSONObject(data []byte) bool {
	var probe map[string]json.RawMessage
	return json.Unmarshal(data, &probe) == nil && probe != nil
}

// bodySnippet describes an unexpected answer in a few words for an error.
func bodySnippet(contentType string, data []byte) string {
	s := strings.Join(strings.Fields(string(data)), " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	if s == "" {
		s = "empty body"
	}
	if contentType != "" {
		return contentType + ": " + s
	}
	return s
}

// neverSent reports whether a transport error proves that the request did
// not reach the server: it failed while connecting (refused, DNS, no route)
// or during the TLS handshake.
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var rh tls.RecordHeaderError
	return errors.As(err, &rh) || isPermanentTransport(err)
}

// isPermanentTransport: errors that retrying cannot fix.
func isPermanentTransport(err error) bool {
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return true
	}
	var ue *url.Error
	if errors.As(err, &ue) && strings.Contains(ue.Err.Error(), "unsupported protocol scheme") {
		return true
	}
	return false
}
