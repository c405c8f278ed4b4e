package applier

import (
	"fmt"
	"sort"
	"strings"

	"github.com/jobsync/jobsync/planner"
)

// graph is the order of a plan's actions: edges from each create to the
// actions whose requests need its id, from each upload to the job writes
// that name its file, from an earlier action of a key to a later one of
// the same key, and from every other action to every delete of a job or
// a file (held back as a group rather than as n×m edges).
type graph struct {
	actions []planner.Action
	// after[i] are the actions that wait for i.
	after [][]int
	// waiting[i] counts the actions i still waits for.
	waiting []int
	// deletes are released once nonDeletes reaches zero.
	deletes    []int
	nonDeletes int
}

func newGraph(actions []planner.Action) (*graph, error) {
	g := &graph{actions: actions, after: make([][]int, len(actions)), waiting: make([]int, len(actions))}
	creates := map[string]int{}
	uploads := map[string]int{}
	last := map[string]int{}
	for i, a := range actions {
		if a.Key == "" {
			return nil, fmt.Errorf("applier: action %d of the plan has no key", i)
		}
		switch a.Op {
		case planner.OpCreate:
			creates[a.Key] = i
		case planner.OpUpload:
			uploads[a.Key] = i
		}
	}
	for i, a := range actions {
		if isDelete(a.Op) {
			g.deletes = append(g.deletes, i)
		} else {
			g.nonDeletes++
		}
		deps := map[int]bool{}
		if j, ok := last[a.Key]; ok {
			deps[j] = true
		}
		last[a.Key] = i
		for _, k := range a.Needs {
			if j, ok := creates[k]; ok && j != i {
				deps[j] = true
			}
		}
		for _, f := range a.Files {
			if j, ok := uploads[f]; ok && j != i {
				deps[j] = true
			}
		}
		for j := range deps {
			if isDelete(actions[j].Op) && !isDelete(a.Op) {
				return nil, fmt.Errorf("applier: %s %s needs %s, which the plan deletes", a.Op, a.Key, actions[j].Key)
			}
			g.after[j] = append(g.after[j], i)
			g.waiting[i]++
		}
	}
	for _, next := range g.after {
		sort.Ints(next) // plan order among those released together
	}
	if cyc := g.cycle(); cyc != nil {
		return nil, fmt.Errorf("applier: the plan's references form a cycle (%s): no order can create these jobs; "+
			"break the cycle in the configuration", strings.Join(cyc, " → "))
	}
	return g, nil
}

// cycle returns the keys of a dependency cycle, each referring to the next,
// nil when there is none.
func (g *graph) cycle() []string {
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(g.actions))
	var stack []int
	var found []int
	var visit func(i int) bool
	visit = func(i int) bool {
		color[i] = grey
		stack = append(stack, i)
		for _, j := range g.after[i] {
			switch color[j] {
			case grey:
				for k := len(stack) - 1; k >= 0; k-- {
					if stack[k] == j {
						found = append(append([]int(nil), stack[k:]...), j)
						break
					}
				}
				return true
			case white:
				if visit(j) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[i] = black
		return false
	}
	for i := range g.actions {
		if color[i] == white && visit(i) {
			// found follows "is needed by"; report it as "refers to".
			keys := make([]string, len(found))
			for n, j := range found {
				keys[len(found)-1-n] = g.actions[j].Key
			}
			return keys
		}
	}
	return nil
}

// initial returns the actions that can start at once, in plan order.
func (g *graph) initial() []int {
	var out []int
	for i, a := range g.actions {
		if g.waiting[i] == 0 && !isDelete(a.Op) {
			out = append(out, i)
		}
	}
	if g.nonDeletes == 0 {
		out = append(out, g.readyDeletes()...)
	}
	return out
}

// complete marks action i done and returns the actions it releases.
func (g *graph) complete(i int) []int {
	var out []int
	for _, j := range g.after[i] {
		g.waiting[j]--
		if g.waiting[j] == 0 && !isDelete(g.actions[j].Op) {
			out = append(out, j)
		}
	}
	if !isDelete(g.actions[i].Op) {
		g.nonDeletes--
		if g.nonDeletes == 0 {
			out = append(out, g.readyDeletes()...)
		}
	} else {
		for _, j := range g.after[i] {
			if g.waiting[j] == 0 && isDelete(g.actions[j].Op) {
				out = append(out, j)
			}
		}
	}
	return out
}

func (g *graph) readyDeletes() []int {
	var out []int
	for _, i := range g.deletes {
		if g.waiting[i] == 0 {
			out = append(out, i)
		}
	}
	return out
}

// isDelete says an action waits for every other: a job's delete (a job may
// still refer to it until its own update lands) or a file's (a job may
// still name it).
func isDelete(op planner.Op) bool { return op == planner.OpDelete || op == planner.OpDeleteFile }
