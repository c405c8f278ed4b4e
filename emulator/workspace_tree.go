package emulator

// The workspace tree of one store: directories, notebooks and files by
// path, and the notebook formats the workspace API converts between.
// workspace.go serves it over HTTP.

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"path"
	"slices"
	"strings"
)

// Object types of the workspace API ([SDK] service/workspace/model.go
// ObjectType @1ff3c785). LIBRARY, REPO and DASHBOARD are not emulated.
const (
	objDirectory = "DIRECTORY"
	objNotebook  = "NOTEBOOK"
	objFile      = "FILE"
)

// Notebook formats an object remembers: how it was imported, which is how
// an AUTO export and repos_export_format give it back.
const (
	fmtSource  = "SOURCE"
	fmtJupyter = "JUPYTER"
)

// object is one node of the tree. Stored objects are never modified: a
// write stores a new one.
type object struct {
	Path     string `json:"path"` // canonical (see parsePath)
	Type     string `json:"object_type"`
	ID       int64  `json:"object_id"`
	Language string `json:"language,omitempty"` // notebooks
	Format   string `json:"format,omitempty"`   // notebooks: fmtSource or fmtJupyter
	Content  []byte `json:"content,omitempty"`
	Created  int64  `json:"created_at,omitempty"` // epoch ms
	Modified int64  `json:"modified_at,omitempty"`
}

// Object ids: 16 digits, odd and above 2^53 like job ids, so that a client
// decoding them through float64 fails loudly.
const (
	defaultFirstObjectID = 9_123_400_000_000_001
	objectIDStep         = 2_002
)

func (st *store) newObjectID() int64 {
	if st.nextObjectID == 0 {
		st.nextObjectID = defaultFirstObjectID
	}
	id := st.nextObjectID
	st.nextObjectID += objectIDStep
	return id
}

// seed gives a store without a tree the folders every workspace has: the
// root, /Users with a home folder per user and service principal of the
// directory, and /Shared (https://docs.databricks.com/workspace/workspace-objects
// "Special folders"). It runs once, before the store serves requests.
func (s *Server) seed(st *store) {
	if len(st.objects) > 0 {
		return
	}
	now := s.now()
	dirs := []string{"/", "/Shared", "/Users"}
	s.dir.mu.RLock()
	var homes []string
	for _, p := range s.dir.users {
		homes = append(homes, "/Users/"+p.name)
	}
	for _, p := range s.dir.sps {
		homes = append(homes, "/Users/"+p.name)
	}
	s.dir.mu.RUnlock()
	slices.Sort(homes)
	for _, d := range append(dirs, homes...) {
		st.put(&object{Path: d, Type: objDirectory, ID: st.newObjectID(), Created: now, Modified: now})
	}
}

func (st *store) get(p string) *object { return st.objects[p] }

// put stores o, replacing the object at its path.
func (st *store) put(o *object) {
	st.objects[o.Path] = o
	if o.Path == "/" {
		return
	}
	dir, name := path.Split(o.Path)
	dir = cleanDir(dir)
	kids := st.children[dir]
	if kids == nil {
		kids = map[string]bool{}
		st.children[dir] = kids
	}
	kids[name] = true
}

func cleanDir(d string) string {
	if d != "/" {
		d = strings.TrimSuffix(d, "/")
	}
	return d
}

// list returns the objects of directory p, by path.
func (st *store) list(p string) []*object {
	names := make([]string, 0, len(st.children[p]))
	for n := range st.children[p] {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]*object, 0, len(names))
	for _, n := range names {
		out = append(out, st.objects[path.Join(p, n)])
	}
	return out
}

// remove deletes p and everything under it.
func (st *store) remove(p string) {
	for n := range st.children[p] {
		st.remove(path.Join(p, n))
	}
	delete(st.children, p)
	if o := st.objects[p]; o != nil {
		delete(st.objectPerms, o.ID)
	}
	delete(st.objects, p)
	if p != "/" {
		dir, name := path.Split(p)
		delete(st.children[cleanDir(dir)], name)
	}
}

// walk calls fn for every object under directory p, depth first, by path.
func (st *store) walk(p string, fn func(*object)) {
	for _, o := range st.list(p) {
		fn(o)
		if o.Type == objDirectory {
			st.walk(o.Path, fn)
		}
	}
}

// wsPath is a workspace path as a request gave it.
type wsPath struct {
	canon  string // cleaned, absolute, without the /Workspace prefix: the key of the tree
	prefix string // "/Workspace" when the request used it
}

// parsePath reads the path of a request. "/Workspace/Users/x" and
// "/Users/x" name the same object: /Workspace is where the tree is mounted
// on clusters, and clients use both spellings for the same object ([CLI]
// bundles default to /Workspace/Users/...; jobs refer to /Users/...
// notebooks). Answers spell paths the way the request did (assumed).
// Duplicate slashes collapse ([CLI] libs/testserver/fake_workspace.go
// WorkspaceGetStatus "The real API collapses duplicate slashes").
func parsePath(p string) (wsPath, *apiError) {
	if p == "" {
		// Message assumed.
		return wsPath{}, invalidParam("Path is required.")
	}
	if !strings.HasPrefix(p, "/") {
		// Message assumed.
		return wsPath{}, invalidParam("Path (%s) is not absolute: workspace paths start with /.", p)
	}
	c := path.Clean(p)
	var w wsPath
	if c == "/Workspace" || strings.HasPrefix(c, "/Workspace/") {
		w.prefix = "/Workspace"
		c = strings.TrimPrefix(c, "/Workspace")
		if c == "" {
			c = "/"
		}
	}
	w.canon = c
	return w, nil
}

// show spells the canonical path c the way the request spelt its path.
func (w wsPath) show(c string) string {
	if w.prefix == "" {
		return c
	}
	if c == "/" {
		return w.prefix
	}
	return w.prefix + c
}

// Notebook languages and their source headers: a file whose first line is
// the header of its extension's language is a notebook ([CLI]
// libs/notebook/detect.go DetectWithFS @7bbe2852; the service analyses "the
// item's extension and the header content", docs
// https://docs.databricks.com/api/workspace-files/v1/import).
var notebookExtensions = map[string]string{".py": "PYTHON", ".r": "R", ".scala": "SCALA", ".sql": "SQL"}

var commentPrefix = map[string]string{"PYTHON": "#", "R": "#", "SCALA": "//", "SQL": "--"}

var languageExtension = map[string]string{"PYTHON": "py", "R": "r", "SCALA": "scala", "SQL": "sql"}

func sourceHeader(lang string) string { return commentPrefix[lang] + " Databricks notebook source" }

func commandSeparator(lang string) string { return commentPrefix[lang] + " COMMAND ----------" }

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return strings.TrimRight(string(line), "\r \t")
}

// detectNotebook decides what an AUTO import (and workspace-files/import-file)
// makes of content at p: a notebook (language, format) or a file. A
// .ipynb is a Jupyter notebook, always PYTHON ([SDK] ObjectInfo.language:
// "For Jupyter (.ipynb) notebooks, this is always PYTHON").
func detectNotebook(p string, content []byte) (lang, format string, ok bool) {
	ext := strings.ToLower(path.Ext(p))
	if ext == ".ipynb" {
		return "PYTHON", fmtJupyter, true
	}
	if l := notebookExtensions[ext]; l != "" && firstLine(content) == sourceHeader(l) {
		return l, fmtSource, true
	}
	return "", "", false
}

// jupyter is the part of the nbformat 4 document the emulator converts.
type jupyter struct {
	Cells         []jupyterCell  `json:"cells"`
	Metadata      map[string]any `json:"metadata"`
	NBFormat      int            `json:"nbformat"`
	NBFormatMinor int            `json:"nbformat_minor"`
}

type jupyterCell struct {
	CellType       string         `json:"cell_type"`
	Source         any            `json:"source"` // a string or a list of lines
	Metadata       map[string]any `json:"metadata"`
	Outputs        []any          `json:"outputs,omitempty"`
	ExecutionCount any            `json:"execution_count,omitempty"`
}

func (c jupyterCell) text() string {
	switch s := c.Source.(type) {
	case string:
		return s
	case []any:
		var b strings.Builder
		for _, l := range s {
			if ls, ok := l.(string); ok {
				b.WriteString(ls)
			}
		}
		return b.String()
	}
	return ""
}

// checkJupyter refuses content that is not a Jupyter notebook (message
// assumed).
func checkJupyter(content []byte) *apiError {
	var nb map[string]json.RawMessage
	if err := json.Unmarshal(content, &nb); err != nil || nb == nil {
		return invalidParam("The content is not a valid Jupyter notebook (JSON object expected).")
	}
	return nil
}

// asSource renders a notebook as source: the language's header, then the
// cells separated by "COMMAND ----------" lines, markdown cells as
// "MAGIC %md" comments (the export format of SOURCE; header per [CLI]
// libs/notebook/detect.go, separators as Databricks source files write
// them). A notebook imported as source comes back as sent, with the header
// added when it lacked one.
func asSource(o *object) []byte {
	h := sourceHeader(o.Language)
	if o.Format != fmtJupyter {
		if firstLine(o.Content) == h {
			return o.Content
		}
		return append([]byte(h+"\n"), o.Content...)
	}
	var nb jupyter
	_ = json.Unmarshal(o.Content, &nb) // checked on import
	cp := commentPrefix[o.Language]
	var cells []string
	for _, c := range nb.Cells {
		text := strings.TrimRight(c.text(), "\n")
		switch c.CellType {
		case "code":
			cells = append(cells, text)
		case "markdown":
			lines := []string{cp + " MAGIC %md"}
			for l := range strings.SplitSeq(text, "\n") {
				lines = append(lines, strings.TrimRight(cp+" MAGIC "+l, " "))
			}
			cells = append(cells, strings.Join(lines, "\n"))
		}
	}
	return []byte(h + "\n" + strings.Join(cells, "\n\n"+commandSeparator(o.Language)+"\n\n") + "\n")
}

// asJupyter renders a notebook as nbformat 4 JSON: a Jupyter notebook as
// imported, a source notebook cell by cell.
func asJupyter(o *object) []byte {
	if o.Format == fmtJupyter {
		return o.Content
	}
	src := string(o.Content)
	if firstLine(o.Content) == sourceHeader(o.Language) {
		_, src, _ = strings.Cut(src, "\n")
	}
	cp := commentPrefix[o.Language]
	nb := jupyter{Metadata: map[string]any{"language_info": map[string]any{"name": strings.ToLower(o.Language)}}, NBFormat: 4, NBFormatMinor: 5}
	for cell := range strings.SplitSeq(src, "\n"+commandSeparator(o.Language)+"\n") {
		cell = strings.Trim(cell, "\n")
		c := jupyterCell{CellType: "code", Metadata: map[string]any{}, Outputs: []any{}}
		if md, ok := strings.CutPrefix(cell, cp+" MAGIC %md"); ok {
			var lines []string
			for l := range strings.SplitSeq(strings.TrimPrefix(md, "\n"), "\n") {
				l = strings.TrimPrefix(l, cp+" MAGIC")
				lines = append(lines, strings.TrimPrefix(l, " "))
			}
			cell, c = strings.Join(lines, "\n"), jupyterCell{CellType: "markdown", Metadata: map[string]any{}}
		}
		var lines []any
		for i, l := range strings.SplitAfter(cell, "\n") {
			if l != "" || i == 0 {
				lines = append(lines, l)
			}
		}
		c.Source = lines
		nb.Cells = append(nb.Cells, c)
	}
	b, _ := json.MarshalIndent(nb, "", " ")
	return b
}

// exportContent renders o in format (an ExportFormat, [SDK] model.go) and
// names the file type the answer reports. The second result is the error.
// Formats the emulator does not render (HTML, DBC, R_MARKDOWN) are refused.
func (st *store) exportContent(o *object, format string) ([]byte, string, *apiError) {
	unsupported := func() *apiError {
		return invalidParam("The emulator does not export %s objects in the %s format; use SOURCE, AUTO, JUPYTER or RAW.", strings.ToLower(o.Type), format)
	}
	switch o.Type {
	case objFile:
		switch format {
		case "SOURCE", "AUTO", "RAW":
			return o.Content, strings.TrimPrefix(path.Ext(o.Path), "."), nil
		}
		// Exporting a file as a notebook format: refused (assumed).
		return nil, "", invalidParam("%s is a file, not a notebook: export it with format SOURCE, AUTO or RAW.", o.Path)
	case objNotebook:
		switch {
		case format == "JUPYTER" || (format == "AUTO" && o.Format == fmtJupyter):
			return asJupyter(o), "ipynb", nil
		case format == "SOURCE" || format == "AUTO" || format == "RAW":
			// RAW of a notebook gives its source (assumed).
			return asSource(o), languageExtension[o.Language], nil
		}
		return nil, "", unsupported()
	case objDirectory:
		// SOURCE leaves files out of a directory export, AUTO includes
		// them ([SDK] ExportRequest.format @1ff3c785). The archive is a
		// zip of the objects' paths below the directory (layout assumed).
		if format != "SOURCE" && format != "AUTO" {
			return nil, "", unsupported()
		}
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		var werr error
		st.walk(o.Path, func(c *object) {
			name := strings.TrimPrefix(strings.TrimPrefix(c.Path, o.Path), "/")
			var data []byte
			switch {
			case c.Type == objDirectory:
				return
			case c.Type == objFile && format == "SOURCE":
				return
			case c.Type == objFile:
				data = c.Content
			case format == "AUTO" && c.Format == fmtJupyter:
				name, data = name+".ipynb", asJupyter(c)
			default:
				name, data = name+"."+languageExtension[c.Language], asSource(c)
			}
			f, err := zw.Create(name)
			if err == nil {
				_, err = f.Write(data)
			}
			if err != nil && werr == nil {
				werr = err
			}
		})
		if err := zw.Close(); err != nil && werr == nil {
			werr = err
		}
		if werr != nil {
			return nil, "", &apiError{status: 500, code: codeInternal, msg: "emulator: " + werr.Error()}
		}
		return buf.Bytes(), "zip", nil
	}
	return nil, "", unsupported()
}
