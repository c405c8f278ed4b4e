package emulator

// The workspace files API: this file answers /api/2.0/workspace/mkdirs,
// get-status, list, import, export and delete, and
// /api/2.0/workspace-files/import-file/{path}. Shapes follow the SDK's
// service/workspace (model.go ObjectInfo, Import, ExportRequest,
// ExportResponse, ListResponse, Mkdirs, Delete @1ff3c785) and the way the
// CLI's filer calls and reads them ([CLI] libs/filer/workspace_files_client.go
// @7bbe2852). The tree itself is in workspace_tree.go.

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Error codes of the workspace API ([SDK] service/workspace/api.go
// WorkspaceInterface docs).
const (
	codeAlreadyExists = "RESOURCE_ALREADY_EXISTS"
	codeDirNotEmpty   = "DIRECTORY_NOT_EMPTY"
	codeTooLarge      = "MAX_NOTEBOOK_SIZE_EXCEEDED"
)

// Size limits. Import content and export answers are limited to 10 MB
// ([SDK] Import.content and ExportResponse.content "If the limit (10MB) is
// exceeded, exception with error code MAX_NOTEBOOK_SIZE_EXCEEDED is
// thrown"; [CLI] filer Read "the /workspace/export API has a limit of 10MBs").
// workspace-files/import-file takes the file as the body; its limit is not
// documented, and the CLI uploads bundle artifacts through it, so the
// emulator allows 64 MB (an emulator limit: the tree is held in memory).
const (
	maxObjectBytes     = 10 << 20
	maxImportBody      = 16 << 20 // base64 of 10 MB plus the JSON around it
	maxImportFileBytes = 64 << 20
)

func tooLarge(n int) *apiError {
	// Message as a workspace answers it for workspace/import
	// (terraform-provider-databricks#4077: "File size imported is
	// (11396743 bytes), exceeded max size (10485760 bytes)").
	return &apiError{status: http.StatusBadRequest, code: codeTooLarge,
		msg: fmt.Sprintf("File size imported is (%d bytes), exceeded max size (%d bytes)", n, maxObjectBytes)}
}

func pathNotFound(shown string) *apiError {
	// 404 RESOURCE_DOES_NOT_EXIST ([SDK] GetStatus/List/Export/Delete docs);
	// the message echoes the requested path ([CLI]
	// libs/testserver/fake_workspace.go "Match the real Workspace API
	// wording": "Path (<path>) doesn't exist.").
	return &apiError{status: http.StatusNotFound, code: codeNotFound, msg: fmt.Sprintf("Path (%s) doesn't exist.", shown)}
}

func alreadyExists(shown string) *apiError {
	// 400 RESOURCE_ALREADY_EXISTS on workspace/import without overwrite
	// ([SDK] Import doc; body observed in databrickslabs/migrate#15:
	// {"error_code":"RESOURCE_ALREADY_EXISTS","message":"Path (/Test) already exists."}).
	return &apiError{status: http.StatusBadRequest, code: codeAlreadyExists, msg: fmt.Sprintf("Path (%s) already exists.", shown)}
}

// param reads a GET parameter: from the query, else from a JSON body
// (clients may send GET parameters either way, as for the Jobs API).
func (rq *request) param(name string) string {
	if v := rq.r.URL.Query(); v.Has(name) {
		return v.Get(name)
	}
	if rq.params == nil && len(bytes.TrimSpace(rq.body)) > 0 {
		rq.params, _ = parseJSON(rq.body)
	}
	switch v := rq.params[name].(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// jsonBody decodes the JSON object of a POST.
func (rq *request) jsonBody() (map[string]any, *apiError) {
	if rq.params != nil {
		return rq.params, nil
	}
	m, err := parseJSON(rq.body)
	if err != nil {
		return nil, err
	}
	rq.params = m
	return m, nil
}

// boolField reads a boolean of a JSON body; "true"/"false" strings are
// accepted as well (multipart forms carry strings).
func boolField(m map[string]any, name string) (bool, *apiError) {
	switch v := m[name].(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	case string:
		if b, err := strconv.ParseBool(v); err == nil {
			return b, nil
		}
	}
	return false, malformed("Could not parse request object: Expected boolean for field %s", name)
}

// objectInfo renders ObjectInfo ([SDK] model.go). created_at, modified_at
// and size are "Only applicable to files"; language only to notebooks.
// resource_id is the object id as a string (assumed). With exportInfo
// (get-status?return_export_info=true, which the CLI's filer sends to learn
// whether a notebook is source or Jupyter, [CLI] filer Stat and
// wsfsFileInfo.ReposExportFormat) a notebook carries repos_export_format.
func objectInfo(o *object, shown string, exportInfo bool) map[string]any {
	m := map[string]any{
		"object_type": o.Type,
		"path":        shown,
		"object_id":   num(o.ID),
		"resource_id": strconv.FormatInt(o.ID, 10),
	}
	switch o.Type {
	case objNotebook:
		m["language"] = o.Language
		if exportInfo {
			m["repos_export_format"] = o.Format
		}
	case objFile:
		m["created_at"] = num(o.Created)
		m["modified_at"] = num(o.Modified)
		m["size"] = num(int64(len(o.Content)))
	}
	return m
}

// mkdirs: POST workspace/mkdirs {path}. Creates the directory and its
// missing parents; an existing directory is a success; an object that is
// not a directory at the path or any prefix is 400 RESOURCE_ALREADY_EXISTS
// ([SDK] Mkdirs doc; message observed in databrickslabs/dbx#613: "...
// already exists and it is not a folder").
func (s *Server) mkdirs(rq *request) (any, *apiError) {
	m, aerr := rq.jsonBody()
	if aerr != nil {
		return nil, aerr
	}
	wp, aerr := parsePath(getString(m, "path"))
	if aerr != nil {
		return nil, aerr
	}
	st := rq.st
	st.mu.Lock()
	defer st.mu.Unlock()
	var missing []string
	for p := wp.canon; ; p = path.Dir(p) {
		o := st.get(p)
		if o != nil && o.Type != objDirectory {
			return nil, &apiError{status: http.StatusBadRequest, code: codeAlreadyExists,
				msg: fmt.Sprintf("%s already exists and it is not a folder", wp.show(p))}
		}
		if o != nil {
			break
		}
		missing = append(missing, p)
	}
	for _, p := range slices.Backward(missing) {
		st.put(&object{Path: p, Type: objDirectory, ID: st.newObjectID(), Created: rq.now, Modified: rq.now})
	}
	return nil, nil
}

// getStatus: GET workspace/get-status?path=[&return_export_info=true].
func (s *Server) getStatus(rq *request) (any, *apiError) {
	wp, aerr := parsePath(rq.param("path"))
	if aerr != nil {
		return nil, aerr
	}
	st := rq.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	o := st.get(wp.canon)
	if o == nil {
		return nil, pathNotFound(wp.show(wp.canon))
	}
	return objectInfo(o, wp.show(o.Path), rq.param("return_export_info") == "true"), nil
}

// listObjects: GET workspace/list?path=[&notebooks_modified_after=ms]. A
// directory lists its children; any other object lists itself ([SDK] List:
// "Lists the contents of a directory, or the object if it is not a
// directory"; [CLI] filer ReadDir relies on it). Children come sorted by
// path (the service's order is not documented; the CLI sorts them itself).
// An empty directory answers {} ([SDK] ListResponse.objects omitempty).
func (s *Server) listObjects(rq *request) (any, *apiError) {
	wp, aerr := parsePath(rq.param("path"))
	if aerr != nil {
		return nil, aerr
	}
	var after int64
	if v := rq.param("notebooks_modified_after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, malformed("Could not parse request object: Expected integer for field notebooks_modified_after, found %q", v)
		}
		after = n
	}
	st := rq.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	o := st.get(wp.canon)
	if o == nil {
		return nil, pathNotFound(wp.show(wp.canon))
	}
	objs := []*object{o}
	if o.Type == objDirectory {
		objs = st.list(o.Path)
	}
	var out []any
	for _, c := range objs {
		if after > 0 && c.Type == objNotebook && c.Modified <= after {
			continue
		}
		out = append(out, objectInfo(c, wp.show(c.Path), false))
	}
	if len(out) == 0 {
		return nil, nil
	}
	return map[string]any{"objects": out}, nil
}

// importRequest is a workspace/import body: JSON with base64 content ([SDK]
// Import), or a multipart form with the content as a file part ([SDK]
// service/workspace/ext_utilities.go Upload: fields path, format,
// language, overwrite and the file "content").
func importRequest(rq *request) (map[string]any, []byte, *apiError) {
	mt, mp, _ := mime.ParseMediaType(rq.r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		form, err := multipart.NewReader(bytes.NewReader(rq.body), mp["boundary"]).ReadForm(maxImportBody)
		if err != nil {
			return nil, nil, malformed("Could not parse the multipart request: %v", err)
		}
		defer form.RemoveAll()
		m := map[string]any{}
		for k, vs := range form.Value {
			if len(vs) > 0 {
				m[k] = vs[len(vs)-1]
			}
		}
		var content []byte
		if fs := form.File["content"]; len(fs) > 0 {
			f, err := fs[0].Open()
			if err != nil {
				return nil, nil, malformed("Could not read the content part: %v", err)
			}
			var buf bytes.Buffer
			_, err = buf.ReadFrom(f)
			f.Close()
			if err != nil {
				return nil, nil, malformed("Could not read the content part: %v", err)
			}
			content = buf.Bytes()
		} else if c, ok := m["content"].(string); ok {
			content = []byte(c)
		}
		return m, content, nil
	}
	m, aerr := rq.jsonBody()
	if aerr != nil {
		return nil, nil, aerr
	}
	var content []byte
	if c, ok := m["content"]; ok {
		cs, isString := c.(string)
		dec, err := base64.StdEncoding.DecodeString(cs)
		if !isString || err != nil {
			// Message assumed.
			return nil, nil, invalidParam("The content must be base64-encoded.")
		}
		content = dec
	}
	return m, content, nil
}

var (
	importFormats = []string{"AUTO", "DBC", "HTML", "JUPYTER", "RAW", "R_MARKDOWN", "SOURCE"}
	languages     = []string{"PYTHON", "R", "SCALA", "SQL"}
)

// importObject: POST workspace/import. Formats ([SDK] ImportFormat, case
// sensitive; docs https://docs.databricks.com/api/workspace-files/v1/import):
//   - SOURCE (also when format is omitted, which is how the CLI sends
//     `workspace import --language`, [CLI] libs/testserver/handlers.go):
//     a notebook of the given language at the path as given;
//   - AUTO: a notebook when the extension and header say so, with the
//     extension removed ("If the item is imported as a notebook, then the
//     item's extension is automatically removed"), else a file;
//   - JUPYTER: a Python notebook from nbformat JSON, path as given;
//   - RAW: a file, whatever its content.
//
// DBC, HTML, R_MARKDOWN and directory imports (SOURCE without a language)
// are refused: the emulator does not render those formats. An existing
// object without overwrite is 400 RESOURCE_ALREADY_EXISTS; a missing
// parent directory is 404 (import does not create parents, see create).
func (s *Server) importObject(rq *request) (any, *apiError) {
	m, content, aerr := importRequest(rq)
	if aerr != nil {
		return nil, aerr
	}
	wp, aerr := parsePath(getString(m, "path"))
	if aerr != nil {
		return nil, aerr
	}
	format, lang := getString(m, "format"), getString(m, "language")
	if format == "" {
		format = "SOURCE"
	}
	if !slices.Contains(importFormats, format) {
		return nil, malformed("Could not parse request object: Invalid value %q for field format (one of %s)", format, strings.Join(importFormats, ", "))
	}
	if lang != "" && !slices.Contains(languages, lang) {
		return nil, malformed("Could not parse request object: Invalid value %q for field language (one of %s)", lang, strings.Join(languages, ", "))
	}
	overwrite, aerr := boolField(m, "overwrite")
	if aerr != nil {
		return nil, aerr
	}
	if len(content) > maxObjectBytes {
		return nil, tooLarge(len(content))
	}
	o := &object{Path: wp.canon, Content: content}
	switch format {
	case "SOURCE":
		if lang == "" {
			// "To import a single file as SOURCE, you must set the
			// language field" ([SDK] Import doc); without it the content is
			// a directory archive, which the emulator does not unpack.
			return nil, invalidParam("The language field is required to import a notebook in the SOURCE format (the emulator does not import directories).")
		}
		o.Type, o.Language, o.Format = objNotebook, lang, fmtSource
	case "JUPYTER":
		if aerr := checkJupyter(content); aerr != nil {
			return nil, aerr
		}
		o.Type, o.Language, o.Format = objNotebook, "PYTHON", fmtJupyter
	case "AUTO":
		s.classify(o)
		if o.Format == fmtJupyter {
			if aerr := checkJupyter(content); aerr != nil {
				return nil, aerr
			}
		}
	case "RAW":
		o.Type = objFile
	default:
		return nil, invalidParam("The emulator does not import the %s format; use SOURCE, AUTO, JUPYTER or RAW.", format)
	}
	return nil, rq.create(o, wp, overwrite, alreadyExists)
}

// classify makes o a notebook (path without its extension) or a file, as
// AUTO and import-file do.
func (s *Server) classify(o *object) {
	lang, format, ok := detectNotebook(o.Path, o.Content)
	if !ok {
		o.Type = objFile
		return
	}
	o.Type, o.Language, o.Format = objNotebook, lang, format
	o.Path = strings.TrimSuffix(o.Path, path.Ext(o.Path))
}

// create stores o (a new notebook or file at o.Path) for an import. The
// parent must be a directory: import does not create parents, it answers
// 404 ([CLI] libs/filer/workspace_files_client.go Write: "This API returns a
// 404 if the parent directory does not exist", after which the CLI calls
// mkdirs and retries; message from [CLI] libs/testserver fake_workspace.go
// requireParentDirectory, code assumed). A directory at the path is never
// replaced (assumed); another object only with overwrite, keeping its id
// when the type stays (assumed). conflict builds the error for an existing
// object without overwrite.
func (rq *request) create(o *object, wp wsPath, overwrite bool, conflict func(shown string) *apiError) *apiError {
	st := rq.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if parent := st.get(path.Dir(o.Path)); parent == nil || parent.Type != objDirectory {
		return &apiError{status: http.StatusNotFound, code: codeNotFound,
			msg: fmt.Sprintf("The parent folder (%s) does not exist.", wp.show(path.Dir(o.Path)))}
	}
	old := st.get(o.Path)
	o.Created, o.Modified = rq.now, rq.now
	switch {
	case old == nil:
		o.ID = st.newObjectID()
	case old.Type == objDirectory:
		return alreadyExists(wp.show(o.Path))
	case !overwrite:
		return conflict(wp.show(o.Path))
	case old.Type == o.Type:
		o.ID, o.Created = old.ID, old.Created
	default:
		o.ID = st.newObjectID()
	}
	st.put(o)
	return nil
}

// importFile: POST workspace-files/import-file/{path}?overwrite=true|false,
// the body being the file ([CLI] filer Write @7bbe2852: the path without
// its leading slash, url.PathEscape'd; overwrite as %t). Like AUTO, a
// source file with a notebook header (or a .ipynb) becomes a notebook
// without its extension ([CLI] libs/testserver fake_workspace.go
// WorkspaceFilesImportFile: "Notebooks are stripped of their extension by
// the workspace import API"). Conflicts without overwrite answer as the
// filer expects them: an existing file is 409 ("This API returns 409 if
// the file already exists, when the object type is file"; code
// RESOURCE_ALREADY_EXISTS and message assumed), an existing notebook 400
// with an empty error_code and the message "RESOURCE_ALREADY_EXISTS: <path>
// already exists." (the newer of the two formats, [CLI] commit 5fa9c5fb
// "the JSON error_code is empty in both").
func (s *Server) importFile(rq *request) (any, *apiError) {
	wp, aerr := parsePath(rq.pathID)
	if aerr != nil {
		return nil, aerr
	}
	overwrite := rq.r.URL.Query().Get("overwrite") == "true"
	o := &object{Path: wp.canon, Content: rq.body}
	s.classify(o)
	if o.Type == objNotebook {
		if len(o.Content) > maxObjectBytes {
			return nil, tooLarge(len(o.Content))
		}
		if o.Format == fmtJupyter {
			if aerr := checkJupyter(o.Content); aerr != nil {
				return nil, aerr
			}
		}
	}
	conflict := func(shown string) *apiError {
		if o.Type == objNotebook {
			return &apiError{status: http.StatusBadRequest, msg: "RESOURCE_ALREADY_EXISTS: " + shown + " already exists."}
		}
		return &apiError{status: http.StatusConflict, code: codeAlreadyExists, msg: fmt.Sprintf("File already exists at (%s).", shown)}
	}
	return nil, rq.create(o, wp, overwrite, conflict)
}

// exportObject: GET workspace/export?path=&format=[&direct_download=true].
// format defaults to SOURCE ([SDK] ExportRequest). With direct_download
// the answer is the content itself ([SDK] ext_utilities.go Download, which
// the CLI's filer reads through), else {"content": base64, "file_type"}
// ([SDK] ExportResponse). Over 10 MB is MAX_NOTEBOOK_SIZE_EXCEEDED ([SDK];
// message as observed in databrickslabs/migrate#247 "Size exceeds 10485760
// bytes").
func (s *Server) exportObject(rq *request) (any, *apiError) {
	wp, aerr := parsePath(rq.param("path"))
	if aerr != nil {
		return nil, aerr
	}
	format := rq.param("format")
	if format == "" {
		format = "SOURCE"
	}
	if !slices.Contains(importFormats, format) {
		return nil, malformed("Could not parse request object: Invalid value %q for field format (one of %s)", format, strings.Join(importFormats, ", "))
	}
	st := rq.st
	st.mu.RLock()
	o := st.get(wp.canon)
	if o == nil {
		st.mu.RUnlock()
		return nil, pathNotFound(wp.show(wp.canon))
	}
	content, fileType, aerr := st.exportContent(o, format)
	st.mu.RUnlock()
	if aerr != nil {
		return nil, aerr
	}
	if len(content) > maxObjectBytes {
		return nil, &apiError{status: http.StatusBadRequest, code: codeTooLarge, msg: fmt.Sprintf("Size exceeds %d bytes", maxObjectBytes)}
	}
	if rq.param("direct_download") == "true" {
		// Content type assumed.
		return answer{body: content, contentType: "application/octet-stream"}, nil
	}
	out := map[string]any{"content": base64.StdEncoding.EncodeToString(content)}
	if fileType != "" {
		out["file_type"] = fileType
	}
	return out, nil
}

// deleteObject: POST workspace/delete {path, recursive}. A missing path is
// 404 RESOURCE_DOES_NOT_EXIST, a non-empty directory without recursive 400
// DIRECTORY_NOT_EMPTY ([SDK] Delete doc; [CLI] filer Delete maps both;
// message assumed). The emulator deletes a tree at once (the service does
// not promise atomicity). The root cannot be deleted (assumed).
func (s *Server) deleteObject(rq *request) (any, *apiError) {
	m, aerr := rq.jsonBody()
	if aerr != nil {
		return nil, aerr
	}
	wp, aerr := parsePath(getString(m, "path"))
	if aerr != nil {
		return nil, aerr
	}
	recursive, aerr := boolField(m, "recursive")
	if aerr != nil {
		return nil, aerr
	}
	st := rq.st
	st.mu.Lock()
	defer st.mu.Unlock()
	o := st.get(wp.canon)
	switch {
	case o == nil:
		return nil, pathNotFound(wp.show(wp.canon))
	case o.Path == "/":
		return nil, invalidParam("The root folder cannot be deleted.")
	case o.Type == objDirectory && !recursive && len(st.children[o.Path]) > 0:
		return nil, &apiError{status: http.StatusBadRequest, code: codeDirNotEmpty,
			msg: fmt.Sprintf("Folder (%s) is not empty.", wp.show(o.Path))}
	}
	st.remove(o.Path)
	return nil, nil
}
