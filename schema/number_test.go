package schema

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// The hand-written matchers against the regular expressions they replace,
// on every short string of the bytes that matter and on random longer ones.
func TestMatchersAgreeWithRegexps(t *testing.T) {
	for name, c := range map[string]struct {
		re *regexp.Regexp
		fn func(string) bool
	}{
		"isJobKey":       {regexp.MustCompile(`^[a-z0-9_-]+$`), isJobKey},
		"isIdent":        {regexp.MustCompile(`^[A-Za-z0-9_-]+$`), isIdent},
		"isIntLiteral":   {regexp.MustCompile(`^[-+]?[0-9][0-9_]*$`), isIntLiteral},
		"hasLeadingZero": {regexp.MustCompile(`^[-+]?0[0-9]+$`), hasLeadingZero},
		"isJSONNumber":   {regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$`), isJSONNumber},
		"isFloatLiteral": {regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`), isFloatLiteral},
	} {
		const alphabet = "09-+._eEaZz \n/"
		check := func(s string) {
			if got, want := c.fn(s), c.re.MatchString(s); got != want {
				t.Fatalf("%s(%q) = %v, the regexp says %v", name, s, got, want)
			}
		}
		// Every string of up to 4 of the bytes (15^4 ≈ 50,000).
		var gen func(prefix string, n int)
		gen = func(prefix string, n int) {
			check(prefix)
			if n == 0 {
				return
			}
			for i := 0; i < len(alphabet); i++ {
				gen(prefix+alphabet[i:i+1], n-1)
			}
		}
		gen("", 4)
		rng := rand.New(rand.NewPCG(1, 2))
		for range 20000 {
			b := make([]byte, 5+rng.IntN(8))
			for i := range b {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
			check(string(b))
		}
	}
}
