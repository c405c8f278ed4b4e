package planner

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// Sensitive is what a redacted value is replaced with in plans.
const Sensitive = "(sensitive)"

// secretName matches the names of values that must never be shown: keys of
// spark_env_vars, spark_conf, base_parameters, named_parameters, tags and
// any other string map, job parameter names, and command-line flags.
var secretName = regexp.MustCompile(`(?i)token|password|secret|passwd|api[_-]?key|credential|private[_-]?key`)

// urlUserinfo matches the credentials part of a URL: https://user:pass@host.
var urlUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)[^/@\s"']+@`)

// redact returns v with every secret-looking value replaced by Sensitive.
// It never modifies v: the settings it comes from are also the request
// bodies, which must stay exact.
//
// A value is secret when a map key on its path (or in it) matches
// secretName, when it is the default of a job parameter whose name does, when
// it follows a flag such as "--password" in an argument list (or is the
// value part of "--password=..."), or when it is the userinfo of a URL.
func redact(p []seg, v any) any {
	if v == nil {
		return nil
	}
	for i, s := range p {
		switch {
		case s.key == "" && secretName.MatchString(s.name):
			return Sensitive
		case s.key == "name" && secretName.MatchString(s.val):
			// parameters[name="api_token"] or anything below it.
			if i == len(p)-1 {
				return redactParam(v)
			}
			return Sensitive
		}
	}
	r, _ := redactValue(v)
	return r
}

func redactParam(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return Sensitive
	}
	out := make(map[string]any, len(m))
	for k, e := range m {
		out[k] = e
	}
	if _, ok := out["default"]; ok {
		out["default"] = Sensitive
	}
	if _, ok := out["value"]; ok {
		out["value"] = Sensitive
	}
	return out
}

// redactValue returns v with secrets replaced, and whether it replaced
// anything; when it did not, v itself is returned (no copy).
func redactValue(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		if strings.Contains(x, "@") && strings.Contains(x, "://") {
			r := urlUserinfo.ReplaceAllString(x, "${1}"+Sensitive+"@")
			if r != x {
				return r, true
			}
		}
		return v, false
	case map[string]any:
		var out map[string]any
		set := func(k string, nv any) {
			if out == nil {
				out = make(map[string]any, len(x))
				for k2, e := range x {
					out[k2] = e
				}
			}
			out[k] = nv
		}
		if n, ok := x["name"].(string); ok && secretName.MatchString(n) {
			if _, ok := x["default"]; ok {
				set("default", Sensitive)
			}
		}
		for k, e := range x {
			if secretName.MatchString(k) {
				set(k, Sensitive)
				continue
			}
			if ne, changed := redactValue(e); changed {
				set(k, ne)
			}
		}
		if out == nil {
			return v, false
		}
		return out, true
	case []any:
		var out []any
		for i, e := range x {
			ne, changed := redactValue(e)
			if s, ok := e.(string); ok {
				switch {
				case i > 0 && isSecretFlag(x[i-1]):
					ne, changed = Sensitive, true
				case strings.HasPrefix(s, "-") && strings.Contains(s, "="):
					if eq := strings.IndexByte(s, '='); secretName.MatchString(s[:eq]) {
						ne, changed = s[:eq+1]+Sensitive, true
					}
				}
			}
			if changed {
				if out == nil {
					out = append([]any(nil), x...)
				}
				out[i] = ne
			}
		}
		if out == nil {
			return x, false
		}
		return out, true
	}
	return v, false
}

func isSecretFlag(v any) bool {
	s, ok := v.(string)
	return ok && strings.HasPrefix(s, "-") && !strings.Contains(s, "=") && secretName.MatchString(s)
}

// Redacted returns c with secret-looking values in Before and After
// replaced by Sensitive. Renderers call it on every change they print, so a
// plan written by an older jobsync is safe to show too.
func Redacted(c Change) Change {
	p, err := parsePath(c.Path)
	if err != nil {
		p = nil
	}
	c.Before = redact(p, c.Before)
	c.After = redact(p, c.After)
	return c
}

// RedactPlan returns a copy of p for printing: every secret-looking value
// of its request bodies and recorded settings replaced by Sensitive (the
// changes are redacted already), and Redacted set, so that apply refuses
// it. p itself, whose bodies apply sends, is not changed.
func RedactPlan(p *Plan) *Plan {
	q := *p
	q.Redacted = true
	q.Actions = redactActions(p.Actions)
	q.Skipped = redactActions(p.Skipped)
	if p.Records != nil {
		q.Records = make([]Record, len(p.Records))
		for i, r := range p.Records {
			r.Applied = redactSettings(r.Applied)
			q.Records[i] = r
		}
	}
	return &q
}

func redactActions(as []Action) []Action {
	if as == nil {
		return nil
	}
	out := make([]Action, len(as))
	for i, a := range as {
		a.Request = redactJSON(a.Request)
		a.Applied = redactSettings(a.Applied)
		cs := make([]Change, len(a.Changes))
		for j, c := range a.Changes {
			cs[j] = Redacted(c)
		}
		if a.Changes != nil {
			a.Changes = cs
		}
		out[i] = a
	}
	return out
}

func redactSettings(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	r, _ := redactValue(m)
	return r.(map[string]any)
}

// redactJSON redacts a JSON body; one that does not decode is dropped
// whole rather than shown.
func redactJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return json.RawMessage(strconv.Quote(Sensitive))
	}
	r, changed := redactValue(v)
	if !changed {
		return raw
	}
	b, err := json.Marshal(r)
	if err != nil {
		return json.RawMessage(strconv.Quote(Sensitive))
	}
	return b
}

// RedactSettings returns settings with every secret-looking value
// replaced by Sensitive, and whether any was; settings is not changed.
func RedactSettings(settings map[string]any) (map[string]any, bool) {
	if settings == nil {
		return nil, false
	}
	r, changed := redactValue(settings)
	return r.(map[string]any), changed
}
