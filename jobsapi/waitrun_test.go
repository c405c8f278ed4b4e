package jobsapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jobsync/jobsync/emulator"
	"github.com/jobsync/jobsync/jobsapi"
)

func TestWaitRunFollowsTheRun(t *testing.T) {
	emu, err := emulator.New(emulator.Options{RunPending: 30 * time.Millisecond, RunRunning: 60 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	c, err := jobsapi.New(jobsapi.Config{Host: srv.URL, Token: "t", AuthType: "pat"}, jobsapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id, err := c.CreateJob(ctx, json.RawMessage(`{"name": "w", "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/x"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"job_id": id})
	r, err := c.RunNow(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	run, err := c.WaitRun(ctx, r.RunID, 10*time.Millisecond, func(run *jobsapi.Run) { seen = append(seen, run.State.LifeCycleState) })
	if err != nil {
		t.Fatal(err)
	}
	if run.State.LifeCycleState != "TERMINATED" || run.State.ResultState != "SUCCESS" {
		t.Errorf("ended %+v", run.State)
	}
	if got := strings.Join(seen, " "); got != "PENDING RUNNING TERMINATED" {
		t.Errorf("states seen: %s", got)
	}
	// A context that ends first stops the wait, not the run.
	r2, err := c.RunNow(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := c.WaitRun(cctx, r2.RunID, time.Hour, nil); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "the run goes on") {
		t.Errorf("ended wait: %v", err)
	}
}
