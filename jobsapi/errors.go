package jobsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"
)

// ErrMaybeCommitted marks a failed write that may nevertheless have been
// applied by the workspace: the request was sent, and the connection broke or
// a gateway timed out before a definite answer came back. Such a request is
// never retried automatically when a repeat could duplicate its effect
// (jobs/create, runs/repair, run-now and runs/submit without an
// idempotency_token). The caller must look at the workspace (for a create:
// list jobs by tag or name) before trying again.
var ErrMaybeCommitted = errors.New("the request may have been applied by the workspace")

// AmbiguousError is a non-idempotent request whose outcome is unknown. It
// matches errors.Is(err, ErrMaybeCommitted), and errors.As finds the cause
// (a transport error, or an *APIError such as a gateway's 504).
type AmbiguousError struct {
	Method string
	Path   string
	Err    error
	// Settled is true when the exchange is over: the server answered (a
	// 500, or a 2xx whose body cannot be read), so nothing still runs on
	// the request's behalf and a lookup now shows whether it took effect.
	// It is false for a timeout, a dropped connection and a gateway's
	// 502/504, after which the request may still be executing: repeating
	// a create then can make a second job.
	Settled bool
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%s %s: no definite answer after the request was sent (%v): it may or may not have been applied; check the workspace before repeating it",
		e.Method, e.Path, e.Err)
}

// Unwrap exposes both ErrMaybeCommitted and the cause.
func (e *AmbiguousError) Unwrap() []error { return []error{ErrMaybeCommitted, e.Err} }

// RetryError is returned when the retry budget (Options.RetryTimeout) ran
// out, or a Retry-After asked for a wait beyond it. It wraps the last
// attempt's error, so *APIError stays reachable with errors.As.
type RetryError struct {
	Attempts int
	Err      error
	// Reason says why retrying stopped.
	Reason string
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("%v (gave up after %d attempts: %s)", e.Err, e.Attempts, e.Reason)
}

func (e *RetryError) Unwrap() error { return e.Err }

// IsThrottled reports whether err is a rate-limit answer (HTTP 429).
func IsThrottled(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.StatusCode == http.StatusTooManyRequests
}

// IsAuth reports whether the workspace refused the credentials (HTTP 401 or
// 403): a bad or expired token, or a principal without access.
func IsAuth(err error) bool {
	var e *APIError
	return errors.As(err, &e) && (e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden)
}

// maxSnippet bounds how much of a non-JSON body goes into a message.
const maxSnippet = 200

var (
	titleRe  = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)
	preRe    = regexp.MustCompile(`(?is)<pre[^>]*>(.*?)</pre>`)
	h1Re     = regexp.MustCompile(`(?is)<h1[^>]*>(.*?)</h1>`)
	tagRe    = regexp.MustCompile(`(?s)<[^>]*>`)
	spaceRe  = regexp.MustCompile(`\s+`)
	codeMsgR = regexp.MustCompile(`^([A-Z][A-Z0-9_]{2,}): (.+)$`)
)

// parseError turns a non-2xx answer into an *APIError. It accepts every
// shape seen from the platform and what sits in front of it (jobs-api.md
// §6.1): {"error_code","message"}; the older {"error"} (and OAuth's
// {"error","error_description"}); SCIM {"detail"}; "ERROR_CODE: message" as
// text; HTML from gateways (title, pre or h1); empty and truncated bodies.
// It never fails: something readable always comes out.
func parseError(method, path string, status int, contentType string, body []byte) *APIError {
	e := &APIError{Method: method, Path: path, StatusCode: status}
	trimmed := bytes.TrimSpace(body)
	statusText := http.StatusText(status)
	if statusText == "" {
		statusText = "unknown status"
	}
	switch {
	case len(trimmed) == 0:
		e.Message = "empty response body (" + statusText + ")"
	case trimmed[0] == '{':
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			e.Message = fmt.Sprintf("malformed or truncated JSON error body (%s): %s", statusText, snippet(string(trimmed)))
			return e
		}
		e.ErrorCode = scalarString(m["error_code"])
		e.Message = scalarString(m["message"])
		if e.Message == "" {
			// OAuth token endpoints: {"error":"invalid_client","error_description":"..."}
			errStr, desc := scalarString(m["error"]), scalarString(m["error_description"])
			switch {
			case desc != "":
				e.Message = desc
				if e.ErrorCode == "" {
					e.ErrorCode = errStr
				}
			case errStr != "":
				e.Message = errStr
			case scalarString(m["detail"]) != "":
				e.Message = scalarString(m["detail"])
			}
		}
		if e.Message == "" && e.ErrorCode == "" {
			e.Message = fmt.Sprintf("unrecognised JSON error body (%s): %s", statusText, snippet(string(trimmed)))
		} else if e.Message == "" {
			e.Message = statusText
		}
	case trimmed[0] == '<' || strings.Contains(strings.ToLower(contentType), "html"):
		e.Message = "non-JSON answer, probably from a gateway or proxy: " + htmlSummary(string(trimmed), statusText)
	default:
		text := strings.TrimSpace(string(trimmed))
		if m := codeMsgR.FindStringSubmatch(firstLine(text)); m != nil {
			e.ErrorCode, e.Message = m[1], snippetN(text[len(m[1])+1:], 1000)
		} else {
			e.Message = "non-JSON answer: " + snippet(text)
		}
	}
	return e
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return fmt.Sprint(x)
	}
	return ""
}

// htmlSummary picks the most useful line of an HTML error page: the <pre>
// block (where Databricks' own pages put the message), else the title,
// else a heading, else the text with tags stripped.
func htmlSummary(page, statusText string) string {
	for _, re := range []*regexp.Regexp{preRe, titleRe, h1Re} {
		if m := re.FindStringSubmatch(page); m != nil {
			if t := cleanText(m[1]); t != "" {
				return snippet(t)
			}
		}
	}
	if t := cleanText(page); t != "" {
		return snippet(t)
	}
	return statusText
}

func cleanText(s string) string {
	s = tagRe.ReplaceAllString(s, " ")
	s = html.UnescapeString(s)
	return strings.TrimSpace(spaceRe.ReplaceAllString(s, " "))
}

func snippet(s string) string { return snippetN(s, maxSnippet) }

// snippetN shortens s to at most n bytes on a rune boundary, collapsing
// whitespace so that a message stays on one line.
func snippetN(s string, n int) string {
	s = strings.TrimSpace(spaceRe.ReplaceAllString(s, " "))
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
