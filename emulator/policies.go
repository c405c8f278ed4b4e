package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// DefaultPolicyID is the cluster policy an emulator has when Options.Policies
// is nil: it fixes a custom tag and a Spark setting, and defaults the
// runtime engine and an init script, so that a job cluster naming it reads
// back with fields its request did not hold, as on a workspace with policies.
const DefaultPolicyID = "E0A0000000000001"

func defaultPolicies() map[string]map[string]any {
	return map[string]map[string]any{
		DefaultPolicyID: {
			"custom_tags.cost_center":                      map[string]any{"type": "fixed", "value": "emulator"},
			"spark_conf.spark.databricks.io.cache.enabled": map[string]any{"type": "fixed", "value": "true"},
			"runtime_engine":                               map[string]any{"type": "unlimited", "defaultValue": "PHOTON"},
			"init_scripts.0.volumes.destination":           map[string]any{"type": "unlimited", "defaultValue": "/Volumes/main/default/init/setup.sh"},
		},
	}
}

// policyMaps are the cluster fields whose policy paths continue with a map
// key that may hold dots ("spark_conf.spark.databricks.io.cache.enabled").
var policyMaps = []string{"spark_conf", "spark_env_vars", "custom_tags"}

// applyPolicies writes the values of each cluster spec's policy into it
// (PolicyValues): a policy's fixed values always, and its default values
// for omitted fields when apply_policy_default_values is true — "When set
// to true, fixed and default values from the policy will be used for fields
// that are omitted. When set to false, only fixed values from the policy
// will be applied." (jobs-api-schema.md compute.ClusterSpec) — and fixed
// values are set "regardless of apply_policy_default_values" (cli #6512). A
// field set to another value than a fixed one is refused (the message is
// assumed). It runs before normalizeSettings, which drops
// apply_policy_default_values.
func (s *Server) applyPolicies(settings map[string]any) *apiError {
	if !s.on(PolicyValues) {
		return nil
	}
	var err *apiError
	forEachCluster(settings, func(c map[string]any) {
		if err == nil {
			err = s.applyPolicy(c)
		}
	})
	return err
}

// forEachCluster calls f with every cluster spec of settings (in place).
func forEachCluster(settings map[string]any, f func(map[string]any)) {
	var task func(t map[string]any)
	task = func(t map[string]any) {
		if nc := getMap(t, "new_cluster"); nc != nil {
			f(nc)
		}
		if fe := getMap(t, "for_each_task"); fe != nil {
			if inner := getMap(fe, "task"); inner != nil {
				task(inner)
			}
		}
	}
	for _, t := range objects(settings, "tasks") {
		task(t)
	}
	for _, jc := range objects(settings, "job_clusters") {
		if nc := getMap(jc, "new_cluster"); nc != nil {
			f(nc)
		}
	}
}

func (s *Server) applyPolicy(c map[string]any) *apiError {
	id := getString(c, "policy_id")
	def := s.opts.Policies[id]
	if def == nil {
		return nil // an unknown policy: nothing to apply (its check is the service's business)
	}
	defaults := getBool(c, "apply_policy_default_values")
	paths := slices.Sorted(maps.Keys(def))
	for _, p := range paths {
		el := asMap(def[p])
		switch {
		case getString(el, "type") == "fixed":
			want := policyValue(el["value"])
			if got, ok := getPath(c, p); ok {
				if fmt.Sprint(got) != fmt.Sprint(want) {
					return invalidParam("Cluster validation error: Validation failed for %s, the value must be %v (is %v)", p, want, got)
				}
				continue
			}
			setPath(c, p, want)
		case defaults && el["defaultValue"] != nil:
			// An omitted field only: a set array or object is the request's,
			// whatever its elements say (map fields are judged by key).
			steps := splitPolicyPath(p)
			if _, ok := getPath(c, p); ok {
				continue
			}
			if _, set := c[steps[0]]; set && !slices.Contains(policyMaps, steps[0]) {
				continue
			}
			setPath(c, p, policyValue(el["defaultValue"]))
		}
	}
	return nil
}

// policyValue turns a definition's value into the form stored settings use
// (json.Number for numbers).
func policyValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if dec.Decode(&out) != nil {
		return v
	}
	return out
}

// splitPolicyPath splits a policy path into the steps of the cluster spec:
// field names, array indexes (init_scripts.0.volumes.destination) and, after
// a map field, the rest as one key.
func splitPolicyPath(p string) []string {
	for _, m := range policyMaps {
		if rest, ok := strings.CutPrefix(p, m+"."); ok {
			return []string{m, rest}
		}
	}
	return strings.Split(p, ".")
}

func getPath(c map[string]any, p string) (any, bool) {
	var cur any = c
	for _, step := range splitPolicyPath(p) {
		switch x := cur.(type) {
		case map[string]any:
			v, ok := x[step]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(step)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			cur = x[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// setPath sets p in c, creating objects (and, for an index, growing arrays)
// on the way. The settings being saved are the request's own (decoded
// freshly), so they are modified in place.
func setPath(c map[string]any, p string, v any) {
	steps := splitPolicyPath(p)
	var set func(cur any, i int) any
	set = func(cur any, i int) any {
		step := steps[i]
		if idx, err := strconv.Atoi(step); err == nil {
			arr, _ := cur.([]any)
			for len(arr) <= idx {
				arr = append(arr, map[string]any{})
			}
			if i == len(steps)-1 {
				arr[idx] = v
			} else {
				arr[idx] = set(arr[idx], i+1)
			}
			return arr
		}
		m, _ := cur.(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		if i == len(steps)-1 {
			m[step] = v
		} else {
			m[step] = set(m[step], i+1)
		}
		return m
	}
	set(c, 0)
}
