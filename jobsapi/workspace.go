package jobsapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The workspace files API (/api/2.0/workspace/... and
// /api/2.0/workspace-files/import-file/...), with the same retries, rate
// limits and redaction as the Jobs calls. Request and answer shapes follow
// databricks-sdk-go service/workspace/model.go (@1ff3c785) and the CLI's
// filer (databricks/cli libs/filer/workspace_files_client.go @7bbe2852).
//
// Retry semantics, which callers building on these calls rely on:
//   - GetStatus, ListObjects, Export and Mkdirs are retried like reads;
//   - an import with Overwrite leaves the same state however often it is
//     sent, so it is retried like jobs/reset;
//   - DeleteObject is retried, and a retry that finds the object gone after
//     an earlier attempt may have reached the workspace counts as done;
//   - an import without Overwrite is a create-if-absent, and is never
//     repeated once it may have reached the workspace: see Import.

// Object types of ObjectInfo.
const (
	ObjectDirectory = "DIRECTORY"
	ObjectNotebook  = "NOTEBOOK"
	ObjectFile      = "FILE"
	ObjectRepo      = "REPO"
	ObjectLibrary   = "LIBRARY"
)

// Import formats (ImportOptions.Format; case sensitive).
const (
	FormatSource  = "SOURCE"
	FormatAuto    = "AUTO"
	FormatJupyter = "JUPYTER"
	FormatRaw     = "RAW"
)

// Notebook languages (ImportOptions.Language, ObjectInfo.Language).
const (
	LanguagePython = "PYTHON"
	LanguageSQL    = "SQL"
	LanguageScala  = "SCALA"
	LanguageR      = "R"
)

// MaxImportBytes is the largest content workspace/import takes (10 MB;
// beyond it the workspace answers MAX_NOTEBOOK_SIZE_EXCEEDED). Export answers
// have the same limit.
const MaxImportBytes = 10 << 20

// ObjectInfo is one object of the workspace tree, as get-status and list
// answer it.
type ObjectInfo struct {
	ObjectType string `json:"object_type"`
	Path       string `json:"path"`
	ObjectID   int64  `json:"object_id,omitempty"`
	ResourceID string `json:"resource_id,omitempty"`
	// Language is set on notebooks (PYTHON for Jupyter notebooks).
	Language string `json:"language,omitempty"`
	// CreatedAt, ModifiedAt (epoch ms) and Size are set on files.
	CreatedAt  int64 `json:"created_at,omitempty"`
	ModifiedAt int64 `json:"modified_at,omitempty"`
	Size       int64 `json:"size,omitempty"`
	// ReposExportFormat says how a notebook exports by default (SOURCE or
	// JUPYTER); GetStatus asks for it.
	ReposExportFormat string `json:"repos_export_format,omitempty"`
}

// IsDir reports whether the object is a directory (a Git folder counts).
func (o ObjectInfo) IsDir() bool {
	return o.ObjectType == ObjectDirectory || o.ObjectType == ObjectRepo
}

func checkWorkspacePath(op, p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%s: workspace path %q is not absolute (it must start with /)", op, p)
	}
	return nil
}

// workspaceCall prepares a call of /api/2.0/<endpoint>.
func workspaceCall(method, endpoint string, q url.Values, body []byte, idempotent bool) *call {
	return &call{method: method, path: "/api/2.0/" + endpoint, endpoint: endpoint, query: q, body: body, idempotent: idempotent}
}

func jsonBody(v any) []byte {
	b, _ := json.Marshal(v) // maps of strings and bools always encode
	return b
}

// Mkdirs creates a directory and its missing parents; an existing
// directory is not an error. An object that is not a directory at the path
// or above it is an error matching ErrAlreadyExists.
func (c *Client) Mkdirs(ctx context.Context, path string) error {
	if err := checkWorkspacePath("workspace/mkdirs", path); err != nil {
		return err
	}
	_, err := c.do(ctx, workspaceCall(http.MethodPost, "workspace/mkdirs", nil, jsonBody(map[string]string{"path": path}), true), nil)
	return err
}

// GetStatus describes the object at path. A missing path is an error
// matching ErrNotFound (and IsNotFound). It asks for the export info, so
// notebooks carry ReposExportFormat.
func (c *Client) GetStatus(ctx context.Context, path string) (*ObjectInfo, error) {
	if err := checkWorkspacePath("workspace/get-status", path); err != nil {
		return nil, err
	}
	var out ObjectInfo
	q := url.Values{"path": {path}, "return_export_info": {"true"}}
	if _, err := c.do(ctx, workspaceCall(http.MethodGet, "workspace/get-status", q, nil, true), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListObjects lists the objects of a directory (not recursively); for any
// other object it returns that object alone, as the workspace does. A
// missing path is an error matching ErrNotFound.
func (c *Client) ListObjects(ctx context.Context, path string) ([]ObjectInfo, error) {
	if err := checkWorkspacePath("workspace/list", path); err != nil {
		return nil, err
	}
	var out struct {
		Objects []ObjectInfo `json:"objects"`
	}
	if _, err := c.do(ctx, workspaceCall(http.MethodGet, "workspace/list", url.Values{"path": {path}}, nil, true), &out); err != nil {
		return nil, err
	}
	return out.Objects, nil
}

// ImportOptions shape an Import.
type ImportOptions struct {
	// Format is FormatSource (the default), FormatAuto, FormatJupyter or
	// FormatRaw. AUTO makes a notebook of a source file with a notebook
	// header (or of a .ipynb), at the path without its extension, and a
	// file of anything else; RAW always makes a file.
	Format string
	// Language of a SOURCE notebook (required for SOURCE).
	Language string
	// Overwrite replaces an existing notebook or file.
	Overwrite bool
}

// Import writes a notebook or file through workspace/import. The parent
// directory must exist (a missing one is an error matching ErrNotFound).
//
// With Overwrite the import is repeatable and retried like any idempotent
// write. Without it the import is a create-if-absent: an existing object
// is an error matching ErrAlreadyExists, and the request is repeated only
// when the workspace certainly did not take it (429, 503, a refused
// connection). When it may have reached the workspace and no definite
// answer came back (the connection broke after the request was sent, a
// gateway's 502 or 504, a 500), the error matches ErrMaybeCommitted: the
// object may now exist and be this call's own. The caller must read it back
// (GetStatus, Export) to tell, and must not take a later ErrAlreadyExists
// as proof that someone else created it.
func (c *Client) Import(ctx context.Context, path string, content []byte, o ImportOptions) error {
	if err := checkWorkspacePath("workspace/import", path); err != nil {
		return err
	}
	if len(content) > MaxImportBytes {
		return fmt.Errorf("workspace/import %s: %d bytes is more than the workspace takes (%d bytes)", path, len(content), MaxImportBytes)
	}
	body := map[string]any{"path": path, "content": base64.StdEncoding.EncodeToString(content)}
	if o.Format != "" {
		body["format"] = o.Format
	}
	if o.Language != "" {
		body["language"] = o.Language
	}
	if o.Overwrite {
		body["overwrite"] = true
	}
	_, err := c.do(ctx, workspaceCall(http.MethodPost, "workspace/import", nil, jsonBody(body), o.Overwrite), nil)
	return err
}

// ImportFile writes a file through workspace-files/import-file, the way
// the Databricks CLI uploads bundle files: the content is the body, not
// base64. A source file with a notebook header (or a .ipynb) becomes a
// notebook at the path without its extension. The parent directory must
// exist (a missing one is an error matching ErrNotFound; the CLI then calls
// Mkdirs and tries again).
//
// Retries are as for Import: with overwrite it is retried like any
// idempotent write; without it, it is a create-if-absent that is never
// repeated once it may have reached the workspace (the error then matches
// ErrMaybeCommitted), and an existing object is an error matching
// ErrAlreadyExists (the workspace answers 409 for a file, 400 for a
// notebook).
func (c *Client) ImportFile(ctx context.Context, path string, content []byte, overwrite bool) error {
	if err := checkWorkspacePath("workspace-files/import-file", path); err != nil {
		return err
	}
	cl := &call{
		method:      http.MethodPost,
		path:        "/api/2.0/workspace-files/import-file/" + url.PathEscape(strings.TrimLeft(path, "/")),
		endpoint:    "workspace-files/import-file",
		query:       url.Values{"overwrite": {strconv.FormatBool(overwrite)}},
		body:        content,
		idempotent:  overwrite,
		contentType: "application/octet-stream",
		emptyOK:     true,
	}
	if cl.body == nil {
		cl.body = []byte{}
	}
	_, err := c.do(ctx, cl, nil)
	return err
}

// Export reads an object in format (FormatSource when empty; FormatAuto
// gives a notebook back in the format it was imported in; a directory
// exports as an archive). A missing path is an error matching ErrNotFound.
func (c *Client) Export(ctx context.Context, path, format string) ([]byte, error) {
	if err := checkWorkspacePath("workspace/export", path); err != nil {
		return nil, err
	}
	q := url.Values{"path": {path}}
	if format != "" {
		q.Set("format", format)
	}
	var out struct {
		Content string `json:"content"`
	}
	cl := workspaceCall(http.MethodGet, "workspace/export", q, nil, true)
	if _, err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	data, err := base64.StdEncoding.DecodeString(out.Content)
	if err != nil {
		return nil, &transportError{Method: cl.method, Path: cl.path, msg: "the answer's content is not base64", err: err}
	}
	return data, nil
}

// DeleteObject deletes an object; a directory that is not empty only with
// recursive (else the error matches ErrDirectoryNotEmpty). A missing path is
// an error matching ErrNotFound, unless an earlier attempt of this call may
// have deleted it.
func (c *Client) DeleteObject(ctx context.Context, path string, recursive bool) error {
	if err := checkWorkspacePath("workspace/delete", path); err != nil {
		return err
	}
	body := map[string]any{"path": path}
	if recursive {
		body["recursive"] = true
	}
	oc, err := c.do(ctx, workspaceCall(http.MethodPost, "workspace/delete", nil, jsonBody(body), true), nil)
	if err != nil && oc.maybeSentBefore && errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
