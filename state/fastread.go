package state

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// readFast parses a version 1 lockfile in one pass, for the files jobsync
// writes itself: the known fields with their exact names, each once, keys
// and top-level strings without escapes. ok is false for anything else
// (including every file parseV1 refuses), and parseV1's decoder then reads
// the file, with its precise messages; so readFast may say no to valid
// input, never yes to input the decoder would read differently or refuse.
//
// Why: encoding/json decoding a 10,000-job lockfile took ~0.5 s of CPU and
// held three copies of its 21 MB (the decoder's buffer, the raw records,
// their compacted copies) while a plan was listing the workspace; the
// duplicate-key scan walked it once more. Here the applied records are
// checked, compacted and checked for repeated keys in the same walk, into
// one buffer the size of their compact form.
func readFast(data []byte) (*File, bool) {
	r := fastReader{data: data}
	// One allocation holds all the records (they are kept together for the
	// life of the File), sized by the bytes outside whitespace: every byte
	// appended is one of those, so it never grows (a grown arena would
	// keep its first array alive under the records already in it).
	size, ok := strip(data, nil)
	if !ok {
		return nil, false // an unterminated string
	}
	r.arena = make([]byte, 0, size)
	f, ok := r.file()
	if !ok {
		return nil, false
	}
	r.space()
	if r.pos != len(r.data) {
		return nil, false
	}
	return f, true
}

type fastReader struct {
	data  []byte
	pos   int
	arena []byte
	// keys holds the keys seen in each open object of an applied record,
	// reused across records: keys[d] for depth d.
	keys [][][]byte
}

// maxFastDepth bounds the nesting of an applied record read here; deeper
// ones (none jobsync writes) go to the decoder.
const maxFastDepth = 64

func (r *fastReader) space() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// next skips whitespace and reports whether the next byte is c, consuming it.
func (r *fastReader) next(c byte) bool {
	r.space()
	if r.pos < len(r.data) && r.data[r.pos] == c {
		r.pos++
		return true
	}
	return false
}

// peek skips whitespace and returns the next byte (0 at the end).
func (r *fastReader) peek() byte {
	r.space()
	if r.pos < len(r.data) {
		return r.data[r.pos]
	}
	return 0
}

// plain reads a string that needs no decoding: no escapes, no control
// characters, valid UTF-8. Its bytes are a slice of the input.
func (r *fastReader) plain() ([]byte, bool) {
	if !r.next('"') {
		return nil, false
	}
	start := r.pos
	ascii := true
	for r.pos < len(r.data) {
		c := r.data[r.pos]
		switch {
		case c == '"':
			s := r.data[start:r.pos]
			r.pos++
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
		r.pos++
	}
	return nil, false
}

// members calls member for each key of an object, stopping at the first
// false. Keys are plain strings; a repeated key is the caller's to catch.
func (r *fastReader) members(member func(key []byte) bool) bool {
	if !r.next('{') {
		return false
	}
	if r.next('}') {
		return true
	}
	for {
		key, ok := r.plain()
		if !ok || !r.next(':') || !member(key) {
			return false
		}
		if r.next('}') {
			return true
		}
		if !r.next(',') {
			return false
		}
	}
}

// uint reads a non-negative whole number of at most 18 digits (so that it
// cannot overflow), without sign, fraction or exponent.
func (r *fastReader) uint() (uint64, bool) {
	r.space()
	start := r.pos
	var n uint64
	for r.pos < len(r.data) && r.data[r.pos] >= '0' && r.data[r.pos] <= '9' {
		n = n*10 + uint64(r.data[r.pos]-'0')
		r.pos++
	}
	digits := r.pos - start
	if digits == 0 || digits > 18 || (digits > 1 && r.data[start] == '0') {
		return 0, false
	}
	if r.pos < len(r.data) {
		switch r.data[r.pos] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	return n, true
}

// fields are the known fields of an object read so far, by number.
type fields uint16

// first reports whether field i is met for the first time, marking it.
func (f *fields) first(i int) bool {
	if *f&(1<<i) != 0 {
		return false
	}
	*f |= 1 << i
	return true
}

func (r *fastReader) file() (*File, bool) {
	var f File
	var seen fields
	once := seen.first
	ok := r.members(func(key []byte) bool {
		switch string(key) {
		case "version":
			n, ok := r.uint()
			f.Version = int(n)
			return ok && once(0)
		case "workspace":
			s, ok := r.plain()
			f.Workspace = string(s)
			return ok && once(1)
		case "project":
			s, ok := r.plain()
			f.Project = string(s)
			return ok && once(2)
		case "lineage":
			s, ok := r.plain()
			f.Lineage = string(s)
			return ok && once(3)
		case "serial":
			n, ok := r.uint()
			f.Serial = n
			return ok && once(4)
		case "jobs":
			return once(5) && r.jobs(&f)
		case "files":
			return once(6) && r.files(&f)
		}
		return false
	})
	return &f, ok
}

func (r *fastReader) jobs(f *File) bool {
	if r.peek() == 'n' {
		return r.literal("null")
	}
	f.Jobs = map[string]Job{}
	return r.members(func(key []byte) bool {
		if _, dup := f.Jobs[string(key)]; dup {
			return false
		}
		j, ok := r.job()
		if ok {
			f.Jobs[string(key)] = j
		}
		return ok
	})
}

func (r *fastReader) job() (Job, bool) {
	var j Job
	var seen fields
	once := seen.first
	ok := r.members(func(key []byte) bool {
		switch string(key) {
		case "job_id":
			n, ok := r.uint()
			j.JobID = int64(n)
			return ok && once(0)
		case "applied":
			if !once(1) {
				return false
			}
			if r.peek() == 'n' {
				return r.literal("null")
			}
			start := len(r.arena)
			if !r.object(0) {
				return false
			}
			// Capacity clipped: an append to one record must not write
			// over the next.
			j.Applied = json.RawMessage(r.arena[start:len(r.arena):len(r.arena)])
			return true
		case "permissions":
			if !once(2) {
				return false
			}
			var p []any
			if !r.decoded(&p) {
				return false
			}
			j.Permissions = p
			return true
		case "permissions_mode":
			s, ok := r.plain()
			j.PermissionsMode = string(s)
			return ok && once(3)
		}
		return false
	})
	return j, ok
}

// files decodes the uploads with encoding/json: there are few, and their
// paths are anything a bundle holds.
func (r *fastReader) files(f *File) bool {
	var m map[string]UploadedFile
	if !r.decoded(&m) {
		return false
	}
	f.Files = m
	return true
}

// decoded decodes the next value into v as parseV1's decoder would (numbers
// as json.Number, unknown fields refused), after checking it has no repeated
// key.
func (r *fastReader) decoded(v any) bool {
	r.space()
	start := len(r.arena)
	if !r.value(0) {
		return false
	}
	raw := r.arena[start:]
	defer func() { r.arena = r.arena[:start] }()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	return dec.Decode(v) == nil
}

func (r *fastReader) literal(word string) bool {
	r.space()
	if !bytes.HasPrefix(r.data[r.pos:], []byte(word)) {
		return false
	}
	r.pos += len(word)
	r.arena = append(r.arena, word...)
	return true
}

// value checks the next JSON value and appends it to the arena without its
// whitespace; false for invalid JSON, a repeated key in an object, a key
// that needs decoding, or nesting deeper than maxFastDepth.
func (r *fastReader) value(depth int) bool {
	switch c := r.peek(); {
	case c == '{':
		return r.object(depth)
	case c == '[':
		return r.array(depth)
	case c == '"':
		return r.str()
	case c == 't':
		return r.literal("true")
	case c == 'f':
		return r.literal("false")
	case c == 'n':
		return r.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return r.number()
	}
	return false
}

func (r *fastReader) object(depth int) bool {
	if depth >= maxFastDepth || !r.next('{') {
		return false
	}
	for len(r.keys) <= depth {
		r.keys = append(r.keys, nil)
	}
	keys := r.keys[depth][:0]
	defer func() { r.keys[depth] = keys[:0] }()
	r.arena = append(r.arena, '{')
	if r.next('}') {
		r.arena = append(r.arena, '}')
		return true
	}
	for {
		r.space()
		start := r.pos
		key, ok := r.plain()
		if !ok {
			return false
		}
		// Objects of settings have a few keys; a linear scan beats a map.
		for _, k := range keys {
			if bytes.Equal(k, key) {
				return false
			}
		}
		keys = append(keys, key)
		r.arena = append(r.arena, r.data[start:r.pos]...)
		if !r.next(':') {
			return false
		}
		r.arena = append(r.arena, ':')
		if !r.value(depth + 1) {
			return false
		}
		if r.next('}') {
			r.arena = append(r.arena, '}')
			return true
		}
		if !r.next(',') {
			return false
		}
		r.arena = append(r.arena, ',')
	}
}

func (r *fastReader) array(depth int) bool {
	if depth >= maxFastDepth || !r.next('[') {
		return false
	}
	r.arena = append(r.arena, '[')
	if r.next(']') {
		r.arena = append(r.arena, ']')
		return true
	}
	for {
		if !r.value(depth + 1) {
			return false
		}
		if r.next(']') {
			r.arena = append(r.arena, ']')
			return true
		}
		if !r.next(',') {
			return false
		}
		r.arena = append(r.arena, ',')
	}
}

// str checks a string value as JSON defines it (escapes included; bytes
// that are not UTF-8 are kept, as the decoder keeps them in a RawMessage)
// and appends it as it is.
func (r *fastReader) str() bool {
	start := r.pos
	r.pos++ // the quote peek saw
	for r.pos < len(r.data) {
		c := r.data[r.pos]
		switch {
		case c == '"':
			r.pos++
			r.arena = append(r.arena, r.data[start:r.pos]...)
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if r.pos+1 >= len(r.data) {
				return false
			}
			switch r.data[r.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				r.pos += 2
			case 'u':
				if r.pos+6 > len(r.data) {
					return false
				}
				for _, h := range r.data[r.pos+2 : r.pos+6] {
					if !isHex(h) {
						return false
					}
				}
				r.pos += 6
			default:
				return false
			}
		default:
			r.pos++
		}
	}
	return false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// number checks a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *fastReader) number() bool {
	d := r.data
	start, i := r.pos, r.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	r.pos = i
	r.arena = append(r.arena, d[start:i]...)
	return true
}
