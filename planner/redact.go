package planner

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/jobsync/jobsync/schema"
)

// Sensitive is what a redacted value is replaced with in plans.
const Sensitive = "(sensitive)"

// secretName is whether a name marks its value as a secret: keys of
// spark_env_vars, spark_conf, base_parameters, named_parameters, tags and
// any other string map, job parameter names, and command-line flags. The
// rule is schema's, which marks variables sensitive by it too.
func secretName(name string) bool { return schema.LooksSecret(name) }

// secretNames remembers secretName of the names one plan meets: the keys
// of 10,000 jobs are a few hundred distinct strings, and the rule folds
// and scans each (4% of planning them). Not safe for concurrent use, as
// the Builder that holds it. A nil *secretNames remembers nothing.
type secretNames struct{ m map[string]bool }

func (c *secretNames) is(name string) bool {
	if c == nil {
		return secretName(name)
	}
	if v, ok := c.m[name]; ok {
		return v
	}
	v := secretName(name)
	if c.m == nil {
		c.m = make(map[string]bool, 256)
	}
	if len(c.m) < maxCachedTexts {
		c.m[name] = v
	}
	return v
}

// urlUserinfo matches the credentials part of a URL: https://user:pass@host.
var urlUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)[^/@\s"']+@`)

// redact returns v with every secret-looking value replaced by Sensitive.
// It never modifies v: the settings it comes from are also the request
// bodies, which must stay exact.
//
// A value is secret when a map key on its path (or in it) passes
// secretName, when it is the default of a job parameter whose name does, when
// it follows a flag such as "--password" in an argument list (or is the
// value part of "--password=..."), or when it is the userinfo of a URL.
func redact(p []seg, v any) any {
	if v == nil {
		return nil
	}
	for i, s := range p {
		switch {
		case s.key == "" && secretName(s.name):
			return Sensitive
		case s.key == "name" && secretName(s.val):
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
		if isSeal(x) || looksLikeCredential(x) {
			return Sensitive, true
		}
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
		if n, ok := x["name"].(string); ok && secretName(n) {
			if _, ok := x["default"]; ok {
				set("default", Sensitive)
			}
		}
		for k, e := range x {
			if secretName(k) {
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
					if eq := strings.IndexByte(s, '='); secretName(s[:eq]) {
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
	return ok && strings.HasPrefix(s, "-") && !strings.Contains(s, "=") && secretName(s)
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

// Sealing. The lockfile is meant to be committed, so it must never hold a
// secret in clear; yet the planner compares what it recorded with the YAML
// and the workspace to label each change config or drift. Where the
// applied settings hold a secret, the lockfile keeps its seal instead, a
// digest: "(sensitive sha256:<32 hex digits>)". A seal equals any value
// whose digest it is (sealedEqual), so labelling still works, and every
// rendering shows a seal, and whatever stands where a seal stood, as
// (sensitive).
//
// The digest is of the value's canonical JSON behind a fixed prefix, not
// salted: a guessable secret (a dictionary word) can be found from it by
// trying candidates, as from any unsalted hash. The lockfile hides secrets
// from readers; it cannot make a weak secret strong.
//
// A value is sealed when it is one of the job's Secrets (strings made with
// a sensitive variable), when redact would hide it (a secret-looking key,
// parameter name or flag, a URL's userinfo), or when it has a credential's
// form (looksLikeCredential).

const (
	sealPrefix = "(sensitive sha256:"
	sealLen    = len(sealPrefix) + 32 + 1
)

// sealOf is the seal of v.
func sealOf(v any) string {
	sum := sha256.Sum256([]byte("jobsync sensitive v1\x00" + canonicalJSON(v)))
	return sealPrefix + hex.EncodeToString(sum[:16]) + ")"
}

func isSeal(s string) bool {
	return len(s) == sealLen && strings.HasPrefix(s, sealPrefix) && s[sealLen-1] == ')'
}

func isSealValue(v any) bool {
	s, ok := v.(string)
	return ok && isSeal(s)
}

// Seal returns settings with every secret replaced by its seal, for the
// lockfile; secrets are the job's strings made with sensitive variables
// (schema.Job.Secrets). Like redact, it never modifies settings, and it
// returns settings itself when there is nothing to seal.
func Seal(settings map[string]any, secrets []string) map[string]any {
	m, _ := sealed(settings, secrets, nil)
	return m
}

// sealed is Seal, saying whether it sealed anything (when not, the
// settings are returned as they are).
func sealed(settings map[string]any, secrets []string, names *secretNames) (map[string]any, bool) {
	var set map[string]bool
	if len(secrets) > 0 {
		set = make(map[string]bool, len(secrets))
		for _, s := range secrets {
			set[s] = true
		}
	}
	out, changed := sealValue(settings, set, names)
	if !changed {
		return settings, false
	}
	m, _ := out.(map[string]any)
	return m, true
}

func sealValue(v any, secrets map[string]bool, names *secretNames) (any, bool) {
	switch x := v.(type) {
	case string:
		if isSeal(x) {
			return v, false
		}
		if secrets[x] || looksLikeCredential(x) || strings.Contains(x, "@") && strings.Contains(x, "://") && urlUserinfo.MatchString(x) {
			return sealOf(x), true
		}
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
		secretParam := false
		if n, ok := x["name"].(string); ok && names.is(n) {
			secretParam = true
		}
		for k, e := range x {
			switch {
			case e == nil || isSealValue(e):
			case names.is(k) || secretParam && (k == "default" || k == "value"):
				set(k, sealOf(e))
			default:
				if ne, changed := sealValue(e, secrets, names); changed {
					set(k, ne)
				}
			}
		}
		if out != nil {
			return out, true
		}
	case []any:
		var out []any
		for i, e := range x {
			ne, changed := sealValue(e, secrets, names)
			if s, ok := e.(string); ok && !changed && !isSeal(s) {
				switch {
				case i > 0 && isSecretFlag(x[i-1]):
					ne, changed = sealOf(s), true
				case strings.HasPrefix(s, "-") && strings.Contains(s, "="):
					if eq := strings.IndexByte(s, '='); names.is(s[:eq]) {
						ne, changed = sealOf(s), true
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
		if out != nil {
			return out, true
		}
	}
	return v, false
}

// equalSealed is deepEqual where a seal on either side equals the value it
// is the seal of. The differ compares with it: the lockfile's applied
// settings (and drift's desired settings, made from them) hold seals.
func equalSealed(a, b any) bool {
	// sealedEqual is deepEqual with seals matched on the way: one walk
	// (deepEqual, then sealedEqual on a mismatch, walked twice).
	return sealedEqual(a, b)
}

func sealedEqual(a, b any) bool {
	if s, ok := a.(string); ok && isSeal(s) {
		return matchesSeal(s, b)
	}
	if s, ok := b.(string); ok && isSeal(s) {
		return matchesSeal(s, a)
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sealedEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sealedEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return deepEqual(a, b)
}

func matchesSeal(seal string, v any) bool {
	if v == nil {
		return false
	}
	if s, ok := v.(string); ok && isSeal(s) {
		return s == seal
	}
	return sealOf(v) == seal
}

// hasSeal reports whether v holds a seal anywhere.
func hasSeal(v any) bool {
	switch x := v.(type) {
	case string:
		return isSeal(x)
	case map[string]any:
		for _, e := range x {
			if hasSeal(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasSeal(e) {
				return true
			}
		}
	}
	return false
}

// redactLike hides the parts of v that stand where ref (the lockfile's
// applied value at the same place) holds a seal: there the workspace's or
// the YAML's value is the secret in clear, whatever its path looks like.
// Mappings are matched by key, lists of objects by their key field (the
// task_key of a task, ...), other lists by position.
func redactLike(v, ref any) any {
	if v == nil || ref == nil {
		return v
	}
	if isSealValue(ref) {
		return Sensitive
	}
	switch r := ref.(type) {
	case map[string]any:
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		var out map[string]any
		for k, e := range m {
			re, ok := r[k]
			if !ok || !hasSeal(re) {
				continue
			}
			if out == nil {
				out = make(map[string]any, len(m))
				for k2, e2 := range m {
					out[k2] = e2
				}
			}
			out[k] = redactLike(e, re)
		}
		if out != nil {
			return out
		}
	case []any:
		a, ok := v.([]any)
		if !ok {
			return v
		}
		var out []any
		for i, e := range a {
			re := elementLike(r, e, i)
			if re == nil || !hasSeal(re) {
				continue
			}
			if out == nil {
				out = append([]any(nil), a...)
			}
			out[i] = redactLike(e, re)
		}
		if out != nil {
			return out
		}
	}
	return v
}

// elementKeys are the fields that name an element of a keyed list.
var elementKeys = []string{"task_key", "job_cluster_key", "environment_key", "name", "id"}

// elementLike finds the element of ref that corresponds to e (element i of
// its list): the one with the same key, else the one at the same position.
func elementLike(ref []any, e any, i int) any {
	if m, ok := e.(map[string]any); ok {
		for _, k := range elementKeys {
			want, ok := m[k]
			if !ok {
				continue
			}
			for _, r := range ref {
				if rm, ok := r.(map[string]any); ok && deepEqual(rm[k], want) {
					return r
				}
			}
			return nil
		}
	}
	if i < len(ref) {
		return ref[i]
	}
	return nil
}

// redactSecrets hides, in a change about to be shown, every string that is
// one of the job's secrets (schema.Job.Secrets), wherever it stands.
func redactSecrets(c Change, secrets []string) Change {
	if len(secrets) == 0 {
		return c
	}
	set := secretSet(secrets)
	c.Before, c.After = hideStrings(c.Before, set), hideStrings(c.After, set)
	return c
}

// secretSet is secrets as a set (nil for none).
func secretSet(secrets []string) map[string]bool {
	if len(secrets) == 0 {
		return nil
	}
	set := make(map[string]bool, len(secrets))
	for _, s := range secrets {
		set[s] = true
	}
	return set
}

func hideStrings(v any, set map[string]bool) any {
	if len(set) == 0 {
		return v
	}
	r, _ := hide(v, set)
	return r
}

// hide is hideStrings reporting whether it replaced anything; when it did
// not, v itself is returned (no copy).
func hide(v any, set map[string]bool) (any, bool) {
	if len(set) == 0 {
		return v, false
	}
	switch x := v.(type) {
	case string:
		if set[x] {
			return Sensitive, true
		}
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			if ne, changed := hide(e, set); changed {
				if out == nil {
					out = make(map[string]any, len(x))
					for k2, e2 := range x {
						out[k2] = e2
					}
				}
				out[k] = ne
			}
		}
		if out != nil {
			return out, true
		}
	case []any:
		var out []any
		for i, e := range x {
			if ne, changed := hide(e, set); changed {
				if out == nil {
					out = append([]any(nil), x...)
				}
				out[i] = ne
			}
		}
		if out != nil {
			return out, true
		}
	}
	return v, false
}

// RedactJob is a job's resolved settings (schema.Job.Resolved) as they may
// be shown (validate --resolved): its secrets (schema.Job.Secrets), seals
// and secret-looking values replaced by Sensitive. settings is not changed.
func RedactJob(settings map[string]any, secrets []string) map[string]any {
	r, _ := RedactSettings(settings)
	if h, ok := hideStrings(r, secretSet(secrets)).(map[string]any); ok {
		return h
	}
	return r
}

// credentialPrefixes are the starts of credentials with a recognisable
// form: Databricks personal access tokens and OAuth secrets, GitHub tokens,
// AWS access key ids, Slack tokens, PEM private keys. A string that
// contains one (followed by enough key material) is a secret wherever it
// stands.
var credentialPrefixes = []struct {
	prefix string
	min    int // characters of key material after the prefix
}{
	{"dapi", 32}, {"dose", 32}, {"ghp_", 30}, {"gho_", 30}, {"ghs_", 30}, {"github_pat_", 30},
	{"AKIA", 16}, {"xoxb-", 20}, {"xoxp-", 20}, {"-----BEGIN", 0},
}

// looksLikeCredential reports whether s contains a credential by its form.
func looksLikeCredential(s string) bool {
	if len(s) < 20 {
		return false
	}
	for _, c := range credentialPrefixes {
		i := strings.Index(s, c.prefix)
		if i < 0 {
			continue
		}
		if c.prefix == "-----BEGIN" {
			if strings.Contains(s[i:], "PRIVATE KEY-----") {
				return true
			}
			continue
		}
		n := 0
		for _, r := range s[i+len(c.prefix):] {
			if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == '-' {
				n++
				continue
			}
			break
		}
		if n >= c.min {
			return true
		}
	}
	return false
}

// RedactPlan returns a copy of p for printing: every secret-looking value,
// seal and sensitive variable's value of its request bodies and recorded
// settings replaced by Sensitive (the changes are redacted already), and Redacted set, so that apply refuses
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
		set := secretSet(a.secrets)
		a.Request = redactJSON(a.Request, set)
		a.Permissions = redactJSON(a.Permissions, set)
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
// secrets (the job's strings made with sensitive variables) are hidden
// too.
func redactJSON(raw json.RawMessage, secrets map[string]bool) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return json.RawMessage(strconv.Quote(Sensitive))
	}
	h, hid := hide(v, secrets)
	r, changed := redactValue(h)
	if !changed && !hid {
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
