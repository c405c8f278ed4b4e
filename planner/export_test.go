package planner

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestForExport(t *testing.T) {
	var live map[string]any
	in := `{
	  "name": "report", "format": "MULTI_TASK", "max_concurrent_runs": 1, "timeout_seconds": 0,
	  "email_notifications": {}, "run_as": {"user_name": "a@example.com"},
	  "tags": {"jobsync": "p/report", "team": "bi"},
	  "tasks": [{"task_key": "main", "run_if": "ALL_SUCCESS", "timeout_seconds": 0,
	    "notebook_task": {"notebook_path": "/nb", "source": "WORKSPACE"},
	    "new_cluster": {"spark_version": "15.4.x-scala2.12", "num_workers": 2, "node_type_id": "i3.xlarge",
	      "aws_attributes": {"availability": "SPOT_WITH_FALLBACK"}, "data_security_mode": "SINGLE_USER"}}]
	}`
	dec := json.NewDecoder(strings.NewReader(in))
	dec.UseNumber()
	if err := dec.Decode(&live); err != nil {
		t.Fatal(err)
	}
	got := ForExport(live)
	want := map[string]any{
		"name":   "report",
		"run_as": map[string]any{"user_name": "a@example.com"},
		"tags":   map[string]any{"team": "bi"},
		"tasks": []any{map[string]any{
			"task_key":      "main",
			"notebook_task": map[string]any{"notebook_path": "/nb"},
			"new_cluster":   map[string]any{"spark_version": "15.4.x-scala2.12", "num_workers": json.Number("2"), "node_type_id": "i3.xlarge"},
		}},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("ForExport:\n got %s\nwant %s", g, w)
	}
	// The input is not modified.
	if _, ok := live["tags"].(map[string]any)["jobsync"]; !ok {
		t.Fatal("ForExport modified its argument")
	}
}

// TestAsConfiguration: an applied record without queue (normalised away as
// disabled) replays as an explicit disabled queue, and an explicit queue is
// kept.
func TestAsConfiguration(t *testing.T) {
	got := AsConfiguration(map[string]any{"name": "a"})
	if q, _ := got["queue"].(map[string]any); q == nil || q["enabled"] != false {
		t.Fatalf("queue = %v, want {enabled: false}", got["queue"])
	}
	on := map[string]any{"enabled": true}
	if got := AsConfiguration(map[string]any{"queue": on}); !reflect.DeepEqual(got["queue"], on) {
		t.Fatalf("queue = %v, want %v", got["queue"], on)
	}
	if got := AsConfiguration(nil); len(got) != 1 {
		t.Fatalf("AsConfiguration(nil) = %v", got)
	}
}

func TestExportKeys(t *testing.T) {
	job := func(id int64, name, tag string) Live {
		s := map[string]any{"name": name}
		if tag != "" {
			s["tags"] = map[string]any{OwnerTagKey: tag}
		}
		return Live{JobID: id, Settings: s}
	}
	ex := Export("p", []Live{
		job(1, "Daily ETL", ""),
		job(2, "daily etl", "p/daily_etl"), // ours: keeps its key, the other gets a suffix
		job(3, "!!!", ""),
		job(4, "report", "other/report"),
	})
	if want := []string{"daily_etl", "daily_etl_2", "job_3", "report"}; !reflect.DeepEqual(ex.Keys, want) {
		t.Errorf("keys %v, want %v", ex.Keys, want)
	}
	if want := []Adoption{{Key: "daily_etl_2", JobID: 1}, {Key: "job_3", JobID: 3}}; !reflect.DeepEqual(ex.Adopt, want) {
		t.Errorf("adopt %v, want %v", ex.Adopt, want)
	}
	if want := []Adoption{{Key: "report", JobID: 4, Owner: "other/report"}}; !reflect.DeepEqual(ex.Foreign, want) {
		t.Errorf("foreign %v, want %v", ex.Foreign, want)
	}
	if _, tagged := ex.Jobs["daily_etl"].(map[string]any)["tags"]; tagged {
		t.Error("the ownership tag was exported")
	}
}
