package schema

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// WriteJobsYAML writes a job file: a comment header (each line prefixed
// with "# "), then `jobs:` holding jobs[key] for each key in order. Values
// are JSON trees (json.Number kept as written). It writes what a person
// would: two-space indents, in each mapping the identifying keys first
// (name, task_key, ..., a grant's principal) and tasks last, the rest in
// alphabetical order; and text that would read as a variable escaped
// ($${var.), so the file reads back as exactly these jobs.
func WriteJobsYAML(w io.Writer, header []string, keys []string, jobs map[string]any) error {
	var b strings.Builder
	for _, h := range header {
		b.WriteString(strings.TrimRight("# "+h, " ") + "\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range keys {
		m.Content = append(m.Content, yamlString(k), yamlValue(jobs[k]))
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{yamlString("jobs"), m}}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}

// keyRank orders the keys of a mapping as people write them.
var keyRank = map[string]int{
	"mode": -7, "user_name": -6, "group_name": -6, "service_principal_name": -6,
	"name": -6, "task_key": -5, "job_cluster_key": -4, "environment_key": -3, "description": -2, "tasks": 1,
}

func yamlValue(v any) *yaml.Node {
	switch x := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keyRank[keys[i]] != keyRank[keys[j]] {
				return keyRank[keys[i]] < keyRank[keys[j]]
			}
			return keys[i] < keys[j]
		})
		for _, k := range keys {
			n.Content = append(n.Content, yamlString(k), yamlValue(x[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range x {
			n.Content = append(n.Content, yamlValue(e))
		}
		return n
	case string:
		return yamlString(strings.ReplaceAll(x, "${var.", "$${var."))
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(x), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(x)}
	case int, int64, float64:
		return yamlValue(json.Number(fmt.Sprint(x)))
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(x)}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
}

func yamlString(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}
