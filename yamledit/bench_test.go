package yamledit

import (
	"encoding/json"
	"os"
	"testing"
)

// BenchmarkApplyLargeFile is one edit of a task's field in the 120-task
// example (922 lines): parse, splice, parse again and compare.
func BenchmarkApplyLargeFile(b *testing.B) {
	src, err := os.ReadFile("../examples/jobs/regional_fanin_120.yml")
	if err != nil {
		b.Fatal(err)
	}
	e := Edit{Job: "regional_fanin", Path: []Step{{Field: "tasks"}, {KeyField: "task_key", KeyValue: "extract_050"}, {Field: "timeout_seconds"}}, Value: json.Number("600")}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		res, err := Apply("f.yml", src, []Edit{e})
		if err != nil || len(res.Applied) != 1 {
			b.Fatalf("%v %+v", err, res.Decisions)
		}
	}
}
