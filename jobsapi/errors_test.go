package jobsapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
)

func TestParseError(t *testing.T) {
	long := strings.Repeat("x", 5000)
	cases := []struct {
		name        string
		status      int
		contentType string
		body        string
		code        string
		msg         string // exact message, or a prefix when it ends in "…"
	}{
		{"databricks json", 400, "application/json",
			`{"error_code":"INVALID_PARAMETER_VALUE","message":"Job 998654886170278 does not exist."}`,
			"INVALID_PARAMETER_VALUE", "Job 998654886170278 does not exist."},
		{"json with details", 429, "application/json",
			`{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"RPC token bucket limit has been exceeded.","details":[{"@type":"type.googleapis.com/google.rpc.RequestInfo","request_id":"r"}]}`,
			"REQUEST_LIMIT_EXCEEDED", "RPC token bucket limit has been exceeded."},
		{"numeric error code", 400, "", `{"error_code": 42, "message": "odd"}`, "42", "odd"},
		{"legacy error field", 500, "application/json", `{"error": "Internal error happened"}`, "", "Internal error happened"},
		{"oauth error", 401, "application/json", `{"error":"invalid_client","error_description":"Client authentication failed"}`,
			"invalid_client", "Client authentication failed"},
		{"scim detail", 404, "application/scim+json", `{"detail":"User not found","status":"404"}`, "", "User not found"},
		{"code without message", 503, "", `{"error_code":"TEMPORARILY_UNAVAILABLE"}`, "TEMPORARILY_UNAVAILABLE", "Service Unavailable"},
		{"unrecognised json", 500, "", `{"foo":"bar"}`, "", `unrecognised JSON error body (Internal Server Error): {"foo":"bar"}`},
		{"truncated json", 500, "application/json", `{"error_code":"INTERNAL_ERROR","message":"some`, "",
			`malformed or truncated JSON error body (Internal Server Error): {"error_code":"INTERNAL_ERROR","message":"some`},
		{"empty body", 503, "", "", "", "empty response body (Service Unavailable)"},
		{"whitespace body", 502, "text/plain", " \n ", "", "empty response body (Bad Gateway)"},
		{"unknown status empty", 599, "", "", "", "empty response body (unknown status)"},
		{"html title", 502, "text/html", "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
			"", "non-JSON answer, probably from a gateway or proxy: 502 Bad Gateway"},
		{"html pre wins", 500, "text/html; charset=utf-8", "<html><head><title>Error 500</title></head><body><h2>HTTP ERROR 500</h2><pre>java.lang.IllegalStateException: boom &amp; bust</pre></body></html>",
			"", "non-JSON answer, probably from a gateway or proxy: java.lang.IllegalStateException: boom & bust"},
		{"html without content type", 504, "", "<!DOCTYPE html><html><body><h1>Gateway  Timeout</h1></body></html>",
			"", "non-JSON answer, probably from a gateway or proxy: Gateway Timeout"},
		{"html no title", 502, "text/html", "<html><body><p>upstream\n\n connect error</p></body></html>",
			"", "non-JSON answer, probably from a gateway or proxy: upstream connect error"},
		{"html long", 502, "text/html", "<p>" + long + "</p>", "", "non-JSON answer, probably from a gateway or proxy: " + strings.Repeat("x", 200) + "…"},
		{"plain code: message", 400, "text/plain", "INVALID_STATE: Run is still active", "INVALID_STATE", "Run is still active"},
		{"plain text", 503, "text/plain", "upstream connect error or disconnect/reset before headers", "",
			"non-JSON answer: upstream connect error or disconnect/reset before headers"},
		{"plain text long", 500, "", long, "", "non-JSON answer: " + strings.Repeat("x", 200) + "…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := parseError("GET", "/api/2.2/jobs/get", tc.status, tc.contentType, []byte(tc.body))
			if e.StatusCode != tc.status || e.Method != "GET" || e.Path != "/api/2.2/jobs/get" {
				t.Errorf("wrong identity: %+v", e)
			}
			if e.ErrorCode != tc.code {
				t.Errorf("code = %q, want %q", e.ErrorCode, tc.code)
			}
			if e.Message != tc.msg {
				t.Errorf("message = %q\n want     %q", e.Message, tc.msg)
			}
			if strings.Contains(e.Error(), "\n") {
				t.Errorf("multi-line error: %q", e.Error())
			}
		})
	}
}

func TestAPIErrorString(t *testing.T) {
	e := parseError("POST", "/api/2.2/jobs/update", 400, "application/json", []byte(`{"error_code":"INVALID_PARAMETER_VALUE","message":"Job 1 does not exist."}`))
	want := "POST /api/2.2/jobs/update: INVALID_PARAMETER_VALUE (HTTP 400): Job 1 does not exist."
	if e.Error() != want {
		t.Errorf("got %q, want %q", e.Error(), want)
	}
	if !IsNotFound(e) {
		t.Error("IsNotFound = false for the documented not-found answer")
	}
	g := parseError("GET", "/api/2.2/jobs/list", 502, "text/html", []byte("<title>502 Bad Gateway</title>"))
	if got := g.Error(); got != "GET /api/2.2/jobs/list: HTTP 502: non-JSON answer, probably from a gateway or proxy: 502 Bad Gateway" {
		t.Errorf("gateway error reads %q", got)
	}
}

func TestErrorClassifiers(t *testing.T) {
	notFound := &APIError{StatusCode: 400, ErrorCode: "INVALID_PARAMETER_VALUE", Message: "Run 12 does not exist."}
	wrapped := fmt.Errorf("deleting: %w", notFound)
	if !IsNotFound(wrapped) {
		t.Error("wrapped not-found not recognised")
	}
	for _, e := range []*APIError{
		{StatusCode: 400, ErrorCode: "INVALID_PARAMETER_VALUE", Message: "Job 998654886170278 does not exist."},
		{StatusCode: 400, ErrorCode: "INVALID_PARAMETER_VALUE", Message: "Run: 1 in job: 2 doesn't exist"},
		{StatusCode: 400, ErrorCode: "RESOURCE_DOES_NOT_EXIST", Message: "gone"},
		{StatusCode: 404, ErrorCode: "NOT_FOUND", Message: "gone"},
	} {
		if !IsNotFound(e) {
			t.Errorf("IsNotFound(%v) = false", e)
		}
	}
	if IsNotFound(&APIError{StatusCode: 400, ErrorCode: "INVALID_PARAMETER_VALUE", Message: "Job 12 does not exist. Also something else"}) {
		t.Error("a longer message taken for not-found")
	}
	if IsNotFound(&APIError{StatusCode: 400, ErrorCode: "INVALID_PARAMETER_VALUE", Message: "Invalid quartz_cron_expression"}) {
		t.Error("a validation error taken for not-found")
	}
	if IsNotFound(&APIError{StatusCode: 404, ErrorCode: "ENDPOINT_NOT_FOUND"}) {
		t.Error("an unknown endpoint taken for a missing job")
	}
	amb := &AmbiguousError{Method: "POST", Path: "/api/2.2/jobs/create", Err: &APIError{StatusCode: 504}}
	if !errors.Is(amb, ErrMaybeCommitted) {
		t.Error("AmbiguousError does not match ErrMaybeCommitted")
	}
	var ae *APIError
	if !errors.As(fmt.Errorf("x: %w", amb), &ae) || ae.StatusCode != 504 {
		t.Error("AmbiguousError hides its cause")
	}
	if !strings.Contains(amb.Error(), "check the workspace before repeating it") {
		t.Errorf("AmbiguousError does not say what to do: %q", amb)
	}
	re := &RetryError{Attempts: 3, Err: &APIError{StatusCode: 429}, Reason: "budget"}
	if !IsThrottled(re) || IsAuth(re) {
		t.Error("RetryError hides its cause")
	}
	if !IsAuth(&APIError{StatusCode: 403}) || !IsAuth(&APIError{StatusCode: 401}) {
		t.Error("IsAuth misses 401/403")
	}
}

func TestTransportClassification(t *testing.T) {
	dial := &url.Error{Op: "Post", URL: "http://127.0.0.1:1", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}}
	if !neverSent(dial) {
		t.Error("a refused connection may have sent the request?")
	}
	for _, err := range []error{
		&url.Error{Op: "Post", URL: "http://127.0.0.1:1", Err: io.EOF},
		&url.Error{Op: "Post", URL: "http://127.0.0.1:1", Err: &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}},
		&url.Error{Op: "Post", URL: "http://127.0.0.1:1", Err: context.DeadlineExceeded},
	} {
		if neverSent(err) {
			t.Errorf("%v: treated as never sent; a create could be duplicated", err)
		}
		if isPermanentTransport(err) {
			t.Errorf("%v: treated as permanent", err)
		}
	}
}
