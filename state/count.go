package state

import (
	"errors"
	"io/fs"
	"os"
)

// CountJobs tells, without decoding the lockfile at path, how many jobs
// Open would find in it, up to limit (n is limit+1 when there are more), so
// that a caller can start work that depends on the number (a plan lists a
// big workspace, and reads a few jobs one by one) while Open reads the
// file. exists is false when there is no lockfile and no journal (Open's
// File is then nil). ok is false when it cannot tell cheaply (a journal to
// replay, a file that is not a regular file, or JSON it does not follow):
// the caller then waits for Open. A count is that of the lockfile's "jobs"
// object as written; a file Open refuses (a repeated key, a field it does
// not know) is not looked into here, and Open's error is what the caller
// reports.
//
// It reads no further than the count needs: jobsync writes "jobs" near the
// top, and the lockfile of 10,000 jobs is 41 MB, which took 147 ms to read
// and walk whole, on the critical path of a plan (nothing is listed before
// the count is known).
func CountJobs(path string, limit int) (n int, exists, ok bool) {
	if _, err := os.Lstat(path + ".journal"); !errors.Is(err, fs.ErrNotExist) {
		return 0, false, false
	}
	data, whole, err := readRegularPrefix(path, "lockfile", maxStateFile, countPrefix)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, true
	}
	if err != nil {
		return 0, false, false
	}
	n, more, ok := countIn(data, limit)
	if !whole && !more {
		// The prefix did not settle it (few jobs in a large file, or the
		// jobs after a large object): the whole file does.
		if data, err = readRegular(path, "lockfile", maxStateFile); err != nil {
			return 0, true, false
		}
		n, _, ok = countIn(data, limit)
	}
	return n, true, ok
}

// countPrefix is how much of a lockfile CountJobs reads first: about 250
// jobs of 3 tasks.
const countPrefix = 1 << 20

// countIn counts the jobs of the lockfile data, up to limit; more says it
// stopped at limit+1.
func countIn(data []byte, limit int) (n int, more, ok bool) {
	s := counter{data: data, limit: limit}
	s.space()
	if !s.byte('{') {
		return 0, false, false
	}
	found := false
	for first := true; ; first = false {
		s.space()
		if s.byte('}') {
			break
		}
		if !first && !(s.byte(',') && s.spaced()) {
			return 0, false, false
		}
		key, plain, ok := s.str()
		if !ok || !plain || !s.spaced() || !s.byte(':') || !s.spaced() {
			return 0, false, false
		}
		if key != "jobs" {
			if !s.skip(0) {
				return 0, false, false
			}
			continue
		}
		if found {
			return 0, false, false
		}
		found = true
		if n, ok = s.members(); !ok {
			return 0, false, false
		}
		if n > limit {
			return n, true, true
		}
	}
	s.space()
	return n, false, s.i == len(s.data)
}

// counter walks JSON text, checking just enough of it to count.
type counter struct {
	data []byte
	i    int
	// limit is the count members stops after.
	limit int
}

func (s *counter) space() {
	for s.i < len(s.data) && (s.data[s.i] == ' ' || s.data[s.i] == '\n' || s.data[s.i] == '\t' || s.data[s.i] == '\r') {
		s.i++
	}
}

func (s *counter) spaced() bool { s.space(); return true }

func (s *counter) byte(c byte) bool {
	if s.i < len(s.data) && s.data[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str passes over a string; plain says it has no escape (its bytes are
// then its text).
func (s *counter) str() (text string, plain, ok bool) {
	if !s.byte('"') {
		return "", false, false
	}
	start, plain := s.i, true
	for s.i < len(s.data) {
		switch c := s.data[s.i]; {
		case c == '"':
			s.i++
			return string(s.data[start : s.i-1]), plain, true
		case c == '\\':
			plain = false
			s.i += 2
		case c < 0x20:
			return "", false, false
		default:
			s.i++
		}
	}
	return "", false, false
}

// members counts the members of the object at s.i, passing over it.
func (s *counter) members() (int, bool) {
	if !s.byte('{') {
		return 0, s.skip(0) // null, or a wrong type Open will refuse
	}
	n := 0
	for first := true; ; first = false {
		s.space()
		if s.byte('}') {
			return n, true
		}
		if !first && !(s.byte(',') && s.spaced()) {
			return 0, false
		}
		if _, plain, ok := s.str(); !ok || !plain || !s.spaced() || !s.byte(':') || !s.spaced() || !s.skip(0) {
			return 0, false
		}
		if n++; n > s.limit {
			return n, true
		}
	}
}

// skip passes over one value.
func (s *counter) skip(depth int) bool {
	if s.i >= len(s.data) || depth > 10000 {
		return false
	}
	switch c := s.data[s.i]; c {
	case '{', '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		s.i++
		for first := true; ; first = false {
			s.space()
			if s.byte(closer) {
				return true
			}
			if !first && !(s.byte(',') && s.spaced()) {
				return false
			}
			if c == '{' {
				if _, _, ok := s.str(); !ok || !s.spaced() || !s.byte(':') || !s.spaced() {
					return false
				}
			}
			if !s.skip(depth + 1) {
				return false
			}
		}
	case '"':
		_, _, ok := s.str()
		return ok
	default:
		start := s.i
		for s.i < len(s.data) && (s.data[s.i] >= '0' && s.data[s.i] <= '9' || s.data[s.i] >= 'a' && s.data[s.i] <= 'z' ||
			s.data[s.i] == '-' || s.data[s.i] == '+' || s.data[s.i] == '.' || s.data[s.i] == 'E') {
			s.i++
		}
		return s.i > start
	}
}
