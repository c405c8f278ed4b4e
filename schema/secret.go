package schema

import "bytes"

// secretWords are the parts of a name that mark its value as a secret:
// a variable's name, a key of spark_env_vars, spark_conf, base_parameters
// or any other string map, a job parameter's name, a command-line flag.
// Compared in lower case with "_" and "-" removed, so api_key, API-KEY and
// apiKey all match "apikey".
var secretWords = [][]byte{[]byte("token"), []byte("password"), []byte("passwd"), []byte("secret"), []byte("apikey"), []byte("credential"), []byte("privatekey")}

// LooksSecret says whether name looks like the name of a secret. It is the
// one rule for sensitive variables (schema) and for redacting plans and
// the lockfile (planner). It allocates nothing for names of up to 64
// bytes: it runs on every key of every job of a plan.
func LooksSecret(name string) bool {
	var buf [64]byte
	folded := buf[:0]
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_' || c == '-':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		folded = append(folded, c)
	}
	for _, w := range secretWords {
		if bytes.Contains(folded, w) {
			return true
		}
	}
	return false
}

// SensitiveText is what a sensitive value is shown as.
const SensitiveText = "(sensitive)"
