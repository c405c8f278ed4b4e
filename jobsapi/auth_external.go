package jobsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The credentials that come from another program or from Microsoft Entra
// ID rather than from jobsync's own configuration: a developer's
// `databricks auth login` (databricks-cli), an `az login` (azure-cli), and
// an Azure service principal's client secret (azure-client-secret). Each is
// what databricks-sdk-go does under the same auth_type name (v0.175.0,
// commit 1ff3c785: config/auth_u2m.go and cli_token_source.go,
// config/auth_azure_cli.go, config/auth_azure_client_secret.go,
// config/oauth_visitors.go), with the differences said at each.

// AzureDatabricksAppID is the application id of Azure Databricks in Entra
// ID: the resource a token for a workspace is asked for
// (databricks-sdk-go common/environment/environments.go; jobs-api.md §10.3).
const AzureDatabricksAppID = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"

// azureManagementResource is the Azure Resource Manager resource, whose
// token a service principal sends in X-Databricks-Azure-SP-Management-Token
// (common/environment/azure.go).
const azureManagementResource = "https://management.core.windows.net/"

// DefaultAzureLoginURL is Entra ID's public-cloud authority.
const DefaultAzureLoginURL = "https://login.microsoftonline.com/"

const (
	headerAzureManagementToken = "X-Databricks-Azure-SP-Management-Token"
	headerAzureResourceID      = "X-Databricks-Azure-Workspace-Resource-Id"
)

// tokenCache holds one token from fetch and hands it to every request until
// shortly before it expires; concurrent requests wait for one fetch. Every
// authentication that gets tokens (OAuth M2M, the CLIs, Entra ID) keeps
// them in one.
type tokenCache struct {
	c     *Client
	fetch func(ctx context.Context) (token string, expires time.Time, err error)

	lock chan struct{} // a mutex that a waiting request can abandon when its context ends

	mu    sync.Mutex
	token string
	until time.Time
}

func newTokenCache(c *Client, fetch func(context.Context) (string, time.Time, error)) *tokenCache {
	return &tokenCache{c: c, fetch: fetch, lock: make(chan struct{}, 1)}
}

func (t *tokenCache) cached(now time.Time) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" && now.Before(t.until) {
		return t.token
	}
	return ""
}

func (t *tokenCache) invalidate() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	had := t.token != ""
	t.token = ""
	return had
}

func (t *tokenCache) get(ctx context.Context) (string, error) {
	if tok := t.cached(t.c.now()); tok != "" {
		return tok, nil
	}
	select {
	case t.lock <- struct{}{}:
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
	defer func() { <-t.lock }()
	// Another request may have refreshed the token while this one waited.
	if tok := t.cached(t.c.now()); tok != "" {
		return tok, nil
	}
	tok, expires, err := t.fetch(ctx)
	if err != nil {
		return "", err
	}
	t.c.addSecret(tok)
	now := t.c.now()
	// As the SDK's azureReuseTokenSource: 40 s early (a token with 30 s
	// or less left is refused); half the life of a shorter-lived one.
	life := expires.Sub(now)
	margin := refreshMargin
	if life < 2*margin {
		margin = life / 2
	}
	t.mu.Lock()
	t.token, t.until = tok, expires.Add(-margin)
	t.mu.Unlock()
	return tok, nil
}

// bearerAuth sets Authorization from one token cache, and fixed headers.
type bearerAuth struct {
	tokens  *tokenCache
	headers map[string]string
}

func (a *bearerAuth) authorize(ctx context.Context, req *http.Request) error {
	tok, err := a.tokens.get(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	for k, v := range a.headers {
		req.Header.Set(k, v)
	}
	return nil
}

func (a *bearerAuth) invalidate() bool { return a.tokens.invalidate() }

// cliVersion* are the Databricks CLI releases that brought the flags of
// `auth token` the SDK uses (cli_token_source.go: --profile from v0.207.1,
// --force-refresh from v0.296.0).
var (
	cliVersionForProfile      = [3]int{0, 207, 1}
	cliVersionForForceRefresh = [3]int{0, 296, 0}
)

// newDatabricksCLIAuth runs `databricks auth token` for the workspace, as
// the SDK's databricks-cli auth does, and reads the JSON it prints
// ({"access_token", "token_type", "expiry"}): the token comes from the cache
// that `databricks auth login` filled, refreshed by the CLI itself. With a
// profile and a CLI that knows --profile, the token is asked for by
// profile, else by --host. Unlike the SDK, a CLI binary under 1 MiB is not
// refused as the legacy Python CLI: that CLI has no `auth token`, and its
// error says so.
func newDatabricksCLIAuth(c *Client, cliPath, profile string) *bearerAuth {
	var (
		once sync.Once
		args []string
	)
	fetch := func(ctx context.Context) (string, time.Time, error) {
		once.Do(func() { args = databricksCLIArgs(ctx, cliPath, c.host, profile) })
		out, err := runTool(ctx, cliPath, args)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("getting a token from the Databricks CLI (%s %s): %v; log in with `databricks auth login --host %s` (or pick another auth type with DATABRICKS_AUTH_TYPE)",
				filepath.Base(cliPath), strings.Join(args, " "), c.redact(err.Error()), c.host)
		}
		var resp struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
			Expiry      string `json:"expiry"`
		}
		if err := json.Unmarshal(out, &resp); err != nil || resp.AccessToken == "" {
			return "", time.Time{}, fmt.Errorf("the Databricks CLI (%s %s) printed no access_token in JSON; upgrade the CLI (0.207 or later)", filepath.Base(cliPath), strings.Join(args, " "))
		}
		expiry, err := parseCLIExpiry(resp.Expiry)
		if err != nil {
			expiry = c.now().Add(time.Hour) // a 401 drops it anyway
		}
		return resp.AccessToken, expiry, nil
	}
	return &bearerAuth{tokens: newTokenCache(c, fetch)}
}

// databricksCLIArgs are the arguments of `databricks auth token`, gated on
// the CLI's version as the SDK gates them (`databricks version` prints
// "Databricks CLI v0.207.1"; an unknown version gets the oldest form).
func databricksCLIArgs(ctx context.Context, cliPath, host, profile string) []string {
	var ver [3]int
	known := false
	if out, err := runTool(ctx, cliPath, []string{"version"}); err == nil {
		ver, known = parseCLIVersion(string(out))
	}
	args := []string{"auth", "token", "--host", host}
	if profile != "" && known && !versionLess(ver, cliVersionForProfile) {
		args = []string{"auth", "token", "--profile", profile}
	}
	if known && !versionLess(ver, cliVersionForForceRefresh) {
		args = append(args, "--force-refresh")
	}
	return args
}

func parseCLIVersion(s string) ([3]int, bool) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "Databricks CLI"))
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexAny(s, "-+ \n"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	var v [3]int
	if len(parts) != 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return v, false
		}
		v[i] = n
	}
	// Development builds ("v0.0.0-dev") compare below every release.
	return v, v != [3]int{}
}

func versionLess(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// parseCLIExpiry reads the CLI's expiry: RFC 3339 (what it prints), or the
// space-separated forms other SDKs accept, in local time.
func parseCLIExpiry(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.ParseInLocation("2006-01-02 15:04:05.999999999", s, time.Local)
}

// newAzureCLIAuth runs `az account get-access-token --resource <Azure
// Databricks> --output json` (with --tenant when one is configured), as
// the SDK's azure-cli auth does, and sends the workspace resource id when
// one is configured. Unlike the SDK it does not also ask az for a
// management-endpoint token (sent only by service principals that are not
// users of the workspace) nor run `az account show` to detect a managed
// identity: log in as a user, or use azure-client-secret.
func newAzureCLIAuth(c *Client, azPath, tenant, resourceID string) *bearerAuth {
	args := []string{"account", "get-access-token", "--resource", AzureDatabricksAppID, "--output", "json"}
	if tenant != "" {
		args = append(args, "--tenant", tenant)
	}
	fetch := func(ctx context.Context) (string, time.Time, error) {
		out, err := runTool(ctx, azPath, args)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("getting a token from the Azure CLI (az %s): %v; log in with `az login` (or pick another auth type with DATABRICKS_AUTH_TYPE)",
				strings.Join(args, " "), c.redact(err.Error()))
		}
		var resp struct {
			AccessToken string `json:"accessToken"`
			ExpiresOn   string `json:"expiresOn"`
			ExpiresOnTS any    `json:"expires_on"`
		}
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber()
		if err := dec.Decode(&resp); err != nil || resp.AccessToken == "" {
			return "", time.Time{}, fmt.Errorf("the Azure CLI (az %s) printed no accessToken in JSON", strings.Join(args, " "))
		}
		// expiresOn is local time without a zone (what the SDK parses);
		// newer az versions add expires_on, a Unix time.
		expiry, err := time.ParseInLocation("2006-01-02 15:04:05.999999", resp.ExpiresOn, time.Local)
		if n, ok := resp.ExpiresOnTS.(json.Number); ok {
			if sec, perr := n.Int64(); perr == nil {
				expiry, err = time.Unix(sec, 0), nil
			}
		}
		if err != nil {
			expiry = c.now().Add(time.Hour)
		}
		return resp.AccessToken, expiry, nil
	}
	a := &bearerAuth{tokens: newTokenCache(c, fetch), headers: map[string]string{}}
	if resourceID != "" {
		a.headers[headerAzureResourceID] = resourceID
	}
	return a
}

// azureSPAuth is an Azure service principal's client secret: two
// client-credentials tokens from Entra ID's v1 endpoint
// {login}{tenant}/oauth2/token, one for Azure Databricks (Authorization)
// and one for Azure Resource Manager (X-Databricks-Azure-SP-Management-Token,
// which lets a service principal that is not yet a user of the workspace in),
// plus the workspace resource id when configured: the SDK's
// azure-client-secret (jobs-api.md §10.3). The client id and secret go in
// the form, which Entra ID accepts (the SDK's oauth2 library tries a Basic
// header first).
type azureSPAuth struct {
	inner, management *tokenCache
	resourceID        string
}

func newAzureSPAuth(c *Client, loginURL, tenant, clientID, secret, resourceID string) *azureSPAuth {
	endpoint := strings.TrimRight(loginURL, "/") + "/" + url.PathEscape(tenant) + "/oauth2/token"
	token := func(resource string) func(context.Context) (string, time.Time, error) {
		return func(ctx context.Context) (string, time.Time, error) {
			return c.entraToken(ctx, endpoint, clientID, secret, resource)
		}
	}
	return &azureSPAuth{
		inner:      newTokenCache(c, token(AzureDatabricksAppID)),
		management: newTokenCache(c, token(azureManagementResource)),
		resourceID: resourceID,
	}
}

func (a *azureSPAuth) authorize(ctx context.Context, req *http.Request) error {
	tok, err := a.inner.get(ctx)
	if err != nil {
		return err
	}
	mgmt, err := a.management.get(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set(headerAzureManagementToken, mgmt)
	if a.resourceID != "" {
		req.Header.Set(headerAzureResourceID, a.resourceID)
	}
	return nil
}

func (a *azureSPAuth) invalidate() bool {
	i, m := a.inner.invalidate(), a.management.invalidate()
	return i || m
}

// entraToken is one client-credentials request to Entra ID's v1 token
// endpoint. Its answer carries expires_in as a string.
func (c *Client) entraToken(ctx context.Context, endpoint, clientID, secret, resource string) (string, time.Time, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "resource": {resource}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", time.Time{}, &tokenError{url: endpoint, err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	start := c.now()
	c.tokenRequests.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", time.Time{}, ctx.Err()
		}
		return "", time.Time{}, &tokenError{url: endpoint, err: errors.New(c.redact(err.Error())), transient: true, azure: true}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	c.logf("POST %s %d %s attempt=1", endpoint, resp.StatusCode, c.now().Sub(start).Round(time.Microsecond))
	if err != nil {
		return "", time.Time{}, &tokenError{url: endpoint, err: errors.New(c.redact(err.Error())), transient: true, azure: true}
	}
	if resp.StatusCode/100 != 2 {
		// Entra ID answers {"error": "invalid_client", "error_description": "AADSTS7000215: ..."}.
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		msg := fmt.Sprintf("HTTP %d", resp.StatusCode)
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			msg += ": " + e.Error
			if e.Description != "" {
				msg += ": " + strings.TrimSpace(strings.SplitN(e.Description, "\n", 2)[0])
			}
		}
		transient := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		return "", time.Time{}, &tokenError{url: endpoint, err: errors.New(c.redact(msg)), transient: transient, azure: true}
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   any    `json:"expires_in"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&tr); err != nil || tr.AccessToken == "" {
		return "", time.Time{}, &tokenError{url: endpoint, err: fmt.Errorf("Entra ID answered HTTP %d without an access_token", resp.StatusCode), transient: true, azure: true}
	}
	return tr.AccessToken, c.now().Add(expiresIn(tr.ExpiresIn)), nil
}

// runTool runs another program (the Databricks or Azure CLI) with the
// process's environment and returns what it printed on stdout; a failure
// carries its stderr.
func runTool(ctx context.Context, path string, args []string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("%v: %s", err, firstLines(msg, 3))
		}
		return nil, err
	}
	return out, nil
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, " ")
}

// LookPath finds an executable the way a shell would, in the PATH that
// getenv gives (not the process's, so that callers control it), or at
// path itself when it names a file.
func LookPath(getenv func(string) string, name string) (string, bool) {
	if strings.ContainsRune(name, '/') || strings.ContainsRune(name, filepath.Separator) {
		if isExecutable(name) {
			return name, true
		}
		return "", false
	}
	for _, dir := range filepath.SplitList(getenv("PATH")) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if isExecutable(p) {
			return p, true
		}
	}
	return "", false
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}
