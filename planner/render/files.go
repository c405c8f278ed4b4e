package render

import (
	"fmt"

	"github.com/jobsync/jobsync/planner"
)

// The file actions of a bundle's local files render as one line each,
// "+ file src/etl.py (1.2 kB)", grouped without blank lines between them.

func isFileOp(op planner.Op) bool { return op == planner.OpUpload || op == planner.OpDeleteFile }

// fileLabel is "file <name in the bundle>", else the workspace path.
func fileLabel(a planner.Action) string {
	if a.File != nil && a.File.Name != "" {
		return "file " + a.File.Name
	}
	return "file " + a.Key
}

// fileLine is the text of one file action, without its glyph.
func fileLine(a planner.Action) string {
	s := fileLabel(a)
	if a.Op == planner.OpUpload && a.File != nil {
		s += " (" + Size(a.File.Size) + ")"
	}
	s += "  " + string(a.Op)
	if a.Reason != "" {
		s += ": " + a.Reason
	}
	if a.Op == planner.OpUpload && a.File != nil {
		s += " → " + a.File.Path
	}
	return s
}

// Size renders a size in bytes for people: 812 B, 1.2 kB, 3.4 MB (decimal
// units, as the plan counts uploads).
func Size(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// filesSummary is the part of the summary about files, "" when there are
// no file actions.
func filesSummary(c map[planner.Op]int, p *planner.Plan) string {
	s := ""
	if n := c[planner.OpUpload]; n > 0 {
		var size int64
		for _, a := range p.Actions {
			if a.Op == planner.OpUpload && a.File != nil {
				size += a.File.Size
			}
		}
		s += fmt.Sprintf(", %s to upload (%s)", Plural(n, "file", "files"), Size(size))
	}
	if n := c[planner.OpDeleteFile]; n > 0 {
		s += fmt.Sprintf(", %s to delete", Plural(n, "file", "files"))
	}
	return s
}

// splitSkipped separates skipped job deletes from skipped file deletes.
func splitSkipped(skipped []planner.Action) (jobs, files []planner.Action) {
	for _, a := range skipped {
		if isFileOp(a.Op) {
			files = append(files, a)
		} else {
			jobs = append(jobs, a)
		}
	}
	return jobs, files
}
