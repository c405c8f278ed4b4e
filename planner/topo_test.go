package planner

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// topoReference is Kahn's algorithm with the ready creates sorted at every
// step: the order topoCreates must give, written the obvious way.
func topoReference(cs []Action) []string {
	done := map[string]bool{}
	pending := map[string]bool{}
	for _, a := range cs {
		pending[a.Key] = true
	}
	var out []string
	for len(out) < len(cs) {
		var ready []string
		for _, a := range cs {
			if done[a.Key] {
				continue
			}
			ok := true
			for _, n := range a.Needs {
				if pending[n] && !done[n] {
					ok = false
				}
			}
			if ok {
				ready = append(ready, a.Key)
			}
		}
		if len(ready) == 0 {
			return nil // a cycle
		}
		sort.Strings(ready)
		done[ready[0]] = true
		out = append(out, ready[0])
	}
	return out
}

// Random sets of creates referring to each other (and to jobs that are not
// being created): topoCreates gives the reference order, and refuses
// exactly the sets with a cycle.
func TestTopoCreatesMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	cycles := 0
	for round := range 500 {
		n := 1 + rng.IntN(30)
		cs := make([]Action, n)
		for i := range cs {
			cs[i].Key = fmt.Sprintf("job_%02d", rng.IntN(1000)*100+i)
		}
		for i := range cs {
			for range rng.IntN(3) {
				if rng.IntN(4) == 0 {
					cs[i].Needs = append(cs[i].Needs, "existing_job")
					continue
				}
				j := rng.IntN(n)
				// Mostly backwards edges, so that most sets are acyclic.
				if j > i && rng.IntN(10) > 0 {
					continue
				}
				if j != i {
					cs[i].Needs = append(cs[i].Needs, cs[j].Key)
				}
			}
		}
		rng.Shuffle(len(cs), func(a, b int) { cs[a], cs[b] = cs[b], cs[a] })
		want := topoReference(cs)
		got, err := topoCreates(cs)
		if want == nil {
			cycles++
			if err == nil {
				t.Fatalf("round %d: a cycle was not refused: %v", round, cs)
			}
			continue
		}
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		var keys []string
		for _, a := range got {
			keys = append(keys, a.Key)
		}
		if !slices.Equal(keys, want) {
			t.Fatalf("round %d: order %v, want %v", round, keys, want)
		}
	}
	if cycles == 0 || cycles == 500 {
		t.Fatalf("%d of 500 rounds had a cycle: the rounds do not cover both cases", cycles)
	}
}
