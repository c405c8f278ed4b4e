package applier

import (
	"reflect"
	"testing"

	"github.com/jobsync/jobsync/planner"
)

// drain runs the graph to the end one action at a time, always taking the
// first ready action, and returns the keys in the order they ran.
func drain(t *testing.T, actions []planner.Action) []string {
	t.Helper()
	g, err := newGraph(actions)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	ready := g.initial()
	for len(ready) > 0 {
		i := ready[0]
		ready = append(ready[1:], g.complete(i)...)
		order = append(order, string(actions[i].Op)+" "+actions[i].Key)
	}
	if len(order) != len(actions) {
		t.Fatalf("only %d of %d actions ran: %v", len(order), len(actions), order)
	}
	return order
}

func TestGraphOrder(t *testing.T) {
	c, u, d, p := planner.OpCreate, planner.OpUpdate, planner.OpDelete, planner.OpPermissions
	got := drain(t, []planner.Action{
		{Op: d, Key: "old1", JobID: 1},
		{Op: u, Key: "runner", JobID: 2, Needs: []string{"new"}},
		{Op: c, Key: "child", Needs: []string{"new"}},
		{Op: d, Key: "old2", JobID: 3},
		{Op: c, Key: "new"},
		{Op: u, Key: "plain", JobID: 4, Needs: []string{"existing"}}, // not created by this plan: no wait
		{Op: p, Key: "new"},                                          // a second action of one key follows the first
	})
	want := []string{"create new", "update plain", "update runner", "create child", "permissions new", "delete old1", "delete old2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order\n got %v\nwant %v", got, want)
	}
}

func TestGraphOnlyDeletes(t *testing.T) {
	got := drain(t, []planner.Action{{Op: planner.OpDelete, Key: "a", JobID: 1}, {Op: planner.OpDelete, Key: "b", JobID: 2}})
	if !reflect.DeepEqual(got, []string{"delete a", "delete b"}) {
		t.Errorf("order %v", got)
	}
}

func TestGraphEmpty(t *testing.T) {
	g, err := newGraph(nil)
	if err != nil || len(g.initial()) != 0 {
		t.Errorf("empty graph: %v %v", g, err)
	}
}
