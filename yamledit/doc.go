// Package yamledit changes values inside YAML job files by splicing text:
// it parses a file with yaml.v3 for the structure and the positions, works
// out the byte range of the value to change, and replaces only that text.
// Every byte outside the edited ranges stays as it was written: comments, key
// order, quoting, anchors, blank lines and line endings. Re-encoding the
// document with yaml.v3 would lose much of that, so it is never done; only
// new values are rendered, in the indentation and style of their
// surroundings (a new list element takes its field order and flow or block
// style from its last sibling).
//
// An edit names a job key and a keyed path inside the job
// (tasks[task_key="ingest"].new_cluster.num_workers) and either a new value
// or a removal. Values that the YAML does not write literally are never
// overwritten silently: a value that uses ${var.NAME}, or one that is shared
// through an anchor, comes back as a Decision with its file:line:col, for a
// person to resolve (see Apply for the exact rules on anchors and merge
// keys).
//
// After the edits of a file, the new text is parsed again and compared, as
// JSON values, with the old one plus the edits; any difference is an error
// and nothing is returned for that file. So an edit either lands exactly or
// not at all.
//
// yamledit knows the layout of job files (jobs: or resources: jobs:) and
// nothing else of jobsync: it imports no other package of the project, and
// it does no I/O except in Files, which reads and atomically writes the
// files it is given.
package yamledit
