package planner

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// The merge of sorted keyed arrays (keyedSorted) finds the changes that
// indexing them by key (keyedByMap) finds, in the same order, on random
// tasks arrays: elements added, removed and changed on each of the three
// sides, as Normalize leaves them (sorted by task_key).
func TestKeyedSortedMatchesByMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 4))
	tasks := rules.job.child("tasks")
	randomSide := func() []any {
		var out []any
		for k := range 6 {
			if rng.IntN(3) == 0 {
				continue
			}
			task := map[string]any{"task_key": fmt.Sprintf("t%d", k)}
			if rng.IntN(2) == 0 {
				task["timeout_seconds"] = json.Number(fmt.Sprint(rng.IntN(3)))
			}
			if rng.IntN(3) == 0 {
				task["notebook_task"] = map[string]any{"notebook_path": fmt.Sprintf("/n%d", rng.IntN(2))}
			}
			out = append(out, task)
		}
		return out
	}
	nonEmpty := 0
	for round := range 2000 {
		live, want, applied := randomSide(), randomSide(), randomSide()
		noLock := rng.IntN(4) == 0
		a := differ{noLock: noLock}
		if !a.keyedSorted(nil, tasks, live, want, applied, false) {
			t.Fatalf("round %d: sorted arrays were not merged", round)
		}
		b := differ{noLock: noLock}
		b.keyedByMap(nil, tasks, live, want, applied, false)
		if !reflect.DeepEqual(a.out, b.out) {
			t.Fatalf("round %d: merged %v, by map %v", round, a.out, b.out)
		}
		if len(a.out) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < 500 {
		t.Fatalf("only %d of 2000 rounds had changes", nonEmpty)
	}
	// Unsorted, or a repeated key: left to the map.
	d := differ{}
	if d.keyedSorted(nil, tasks, []any{map[string]any{"task_key": "b"}, map[string]any{"task_key": "a"}}, nil, nil, false) ||
		d.keyedSorted(nil, tasks, nil, []any{map[string]any{"task_key": "a"}, map[string]any{"task_key": "a"}}, nil, false) {
		t.Fatal("keyedSorted took arrays that are not strictly sorted")
	}
}
