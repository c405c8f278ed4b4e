package jobsapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// authenticator sets the Authorization header of one attempt.
type authenticator interface {
	authorize(ctx context.Context, req *http.Request) error
	// invalidate drops a cached credential after the workspace refused it,
	// so that the next attempt gets a fresh one. It reports whether there
	// was anything to refresh.
	invalidate() bool
}

type patAuth struct{ token string }

func (a patAuth) authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+a.token)
	return nil
}

func (patAuth) invalidate() bool { return false }

// tokenPath is the workspace's OAuth token endpoint (jobs-api.md §10.2).
// Endpoint discovery through /oidc/.well-known/oauth-authorization-server
// is skipped: workspace hosts always serve this path.
const tokenPath = "/oidc/v1/token"

// m2mAuth is the OAuth machine-to-machine client-credentials flow of a
// Databricks service principal. One access token is shared by all requests
// and refreshed shortly before it expires; concurrent requests wait for a
// single refresh instead of each fetching their own (tokenCache).
type m2mAuth struct {
	*tokenCache
	c            *Client
	clientID     string
	clientSecret string
}

func newM2MAuth(c *Client, id, secret string) *m2mAuth {
	// The Basic header of the token request carries base64("id:secret")
	// (escaped first, see fetch): a server that echoes the header must
	// not show the secret in that form either.
	for _, pair := range []string{id + ":" + secret, url.QueryEscape(id) + ":" + url.QueryEscape(secret)} {
		c.addSecretForms(base64.StdEncoding.EncodeToString([]byte(pair)), base64.RawStdEncoding.EncodeToString([]byte(pair)))
	}
	a := &m2mAuth{c: c, clientID: id, clientSecret: secret}
	a.tokenCache = newTokenCache(c, func(ctx context.Context) (string, time.Time, error) {
		tok, life, err := a.fetch(ctx)
		if err != nil {
			return "", time.Time{}, err
		}
		return tok, c.now().Add(life), nil
	})
	return a
}

// refreshMargin is how long before expiry a token stops being used. Azure
// rejects tokens with 30 s or less left, so the SDKs refresh 40 s early.
const refreshMargin = 40 * time.Second

func (a *m2mAuth) authorize(ctx context.Context, req *http.Request) error {
	tok, err := a.get(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// tokenError is a failed token request. Transient says whether a retry may
// succeed (transport error, 429, 5xx); otherwise the credentials are wrong.
type tokenError struct {
	url       string
	err       error
	transient bool
	// notCredentials: permanent, but not because of the credentials.
	notCredentials bool
	azure          bool // from Entra ID, for an Azure service principal
}

func (e *tokenError) Error() string {
	msg := fmt.Sprintf("getting an OAuth token from %s: %v", e.url, e.err)
	switch {
	case e.transient, e.notCredentials:
	case e.azure:
		msg += " (check ARM_CLIENT_ID, ARM_CLIENT_SECRET and ARM_TENANT_ID, or azure_client_id, azure_client_secret and azure_tenant_id in the profile)"
	default:
		msg += " (check DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET, or client_id and client_secret in the profile, and that the service principal has an OAuth secret for this workspace)"
	}
	return msg
}

func (e *tokenError) Unwrap() error { return e.err }

// fetch asks the token endpoint for a new access token: a form POST with
// grant_type=client_credentials and scope=all-apis, the client id and secret
// in an HTTP Basic header (oauth2.AuthStyleInHeader, which escapes both
// before encoding, as RFC 6749 §2.3.1 asks).
func (a *m2mAuth) fetch(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.c.host+tokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, &tokenError{url: a.c.host + tokenPath, err: err}
	}
	req.SetBasicAuth(url.QueryEscape(a.clientID), url.QueryEscape(a.clientSecret))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", a.c.userAgent)
	start := a.c.now()
	a.c.tokenRequests.Add(1)
	resp, err := a.c.hc.Do(req)
	if err != nil {
		a.c.logf("POST %s error %s attempt=1 (%s)", tokenPath, a.c.now().Sub(start).Round(time.Microsecond), a.c.redact(err.Error()))
		if ctx.Err() != nil {
			return "", 0, context.Cause(ctx)
		}
		return "", 0, &tokenError{url: a.c.host + tokenPath, err: errors.New(a.c.redact(err.Error())), transient: true}
	}
	defer resp.Body.Close()
	if isRedirect(resp.StatusCode) {
		return "", 0, &tokenError{url: a.c.host + tokenPath, err: a.c.redirectError(http.MethodPost, tokenPath, resp), notCredentials: true}
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	a.c.logf("POST %s %d %s attempt=1", tokenPath, resp.StatusCode, a.c.now().Sub(start).Round(time.Microsecond))
	if rerr != nil {
		return "", 0, &tokenError{url: a.c.host + tokenPath, err: errors.New(a.c.redact(rerr.Error())), transient: true}
	}
	if resp.StatusCode/100 != 2 {
		apiErr := parseError(http.MethodPost, tokenPath, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		apiErr.Message = a.c.redact(apiErr.Message)
		transient := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		return "", 0, &tokenError{url: a.c.host + tokenPath, err: apiErr, transient: transient}
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   any    `json:"expires_in"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&tr); err != nil || tr.AccessToken == "" {
		return "", 0, &tokenError{url: a.c.host + tokenPath, err: fmt.Errorf("the token endpoint answered HTTP %d without an access_token", resp.StatusCode), transient: true}
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return "", 0, &tokenError{url: a.c.host + tokenPath, err: fmt.Errorf("unsupported token type %q (expected Bearer)", tr.TokenType)}
	}
	return tr.AccessToken, expiresIn(tr.ExpiresIn), nil
}

// expiresIn reads expires_in, which some servers send as a string (the
// Databricks CLI's test server does, jobs-api.md §9). Without it the
// documented lifetime of one hour is assumed; a 401 drops the token anyway.
func expiresIn(v any) time.Duration {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = x
	}
	if n, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && n > 0 && n < 1e9 {
		return time.Duration(n * float64(time.Second))
	}
	return time.Hour
}
