package jobsapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/jobsapi"
)

// ListJobsPages sees the same jobs, page by page, as ListJobs, with the
// settings as the JSON of the very same values; an error from the callback
// stops the listing.
func TestListJobsPagesMatchesListJobs(t *testing.T) {
	e := newEnv(t, emulator.Options{}, jobsapi.Options{})
	ctx := context.Background()
	createMany(t, e.c, 250, 2, "job")
	opts := jobsapi.ListJobsOptions{ExpandTasks: true}
	want, err := e.c.ListJobs(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	var got []jobsapi.ListedJob
	var sizes []int
	e.seen.reset()
	err = e.c.ListJobsPages(ctx, opts, func(page []jobsapi.ListedJob) error {
		sizes = append(sizes, len(page))
		got = append(got, page...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sizes, []int{100, 100, 50}) || len(e.seen.to("GET", "/jobs/list")) != 3 {
		t.Fatalf("pages of %v in %d requests, want 100, 100, 50 in 3", sizes, len(e.seen.to("GET", "/jobs/list")))
	}
	if len(got) != len(want) {
		t.Fatalf("%d jobs, want %d", len(got), len(want))
	}
	for i, g := range got {
		w := want[i]
		if g.JobID != w.JobID || g.CreatorUserName != w.CreatorUserName || g.HasMore != w.HasMore || g.CreatedTime != w.CreatedTime {
			t.Fatalf("job %d: %+v, want %+v", i, g, w)
		}
		dec := json.NewDecoder(bytes.NewReader(g.Settings))
		dec.UseNumber()
		var settings map[string]any
		if err := dec.Decode(&settings); err != nil {
			t.Fatalf("job %d: settings %s: %v", g.JobID, g.Settings, err)
		}
		a, _ := json.Marshal(settings)
		b, _ := json.Marshal(w.Settings)
		if !bytes.Equal(a, b) {
			t.Fatalf("job %d: settings\n%s\nwant\n%s", g.JobID, a, b)
		}
	}

	stop := errors.New("enough")
	pages := 0
	err = e.c.ListJobsPages(ctx, opts, func([]jobsapi.ListedJob) error { pages++; return stop })
	if !errors.Is(err, stop) || pages != 1 {
		t.Fatalf("callback error: got %v after %d pages, want it after 1", err, pages)
	}
}
