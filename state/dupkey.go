package state

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// duplicateKey finds the first key that appears twice in one object of
// data, which must be valid JSON, and returns it with the offset of its
// second appearance. encoding/json keeps the last of two equal keys without
// a word, so a lockfile edited by hand (or merged badly) with two entries
// for one job, or two "job_id"s in one entry, would silently lose one.
//
// It is a byte scan, not a decode: it costs a small fraction of the decode
// it follows, and allocates only for objects with many keys (the jobs map).
func duplicateKey(data []byte) (key string, off int, found bool) {
	type frame struct {
		object bool
		expect bool     // the next string is a key
		keys   [][]byte // the keys so far, while there are few
		set    map[string]struct{}
	}
	const fewKeys = 16
	var stack []frame
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '{':
			if len(stack) < cap(stack) {
				stack = stack[:len(stack)+1]
				top := &stack[len(stack)-1]
				*top = frame{object: true, expect: true, keys: top.keys[:0]}
			} else {
				stack = append(stack, frame{object: true, expect: true})
			}
		case '[':
			if len(stack) < cap(stack) {
				stack = stack[:len(stack)+1]
				top := &stack[len(stack)-1]
				*top = frame{keys: top.keys[:0]}
			} else {
				stack = append(stack, frame{})
			}
		case '}', ']':
			stack = stack[:len(stack)-1]
		case ',':
			if top := &stack[len(stack)-1]; top.object {
				top.expect = true
			}
		case '"':
			start := i
			i = stringEnd(data, i)
			if len(stack) == 0 {
				continue
			}
			top := &stack[len(stack)-1]
			if !top.object || !top.expect {
				continue
			}
			top.expect = false
			k := data[start+1 : i]
			if bytes.IndexByte(k, '\\') >= 0 || !utf8.Valid(k) {
				// Compare keys as decoded: "\u0061" is "a", and invalid
				// UTF-8 becomes U+FFFD.
				var s string
				if json.Unmarshal(data[start:i+1], &s) == nil {
					k = []byte(s)
				}
			}
			if top.set == nil && len(top.keys) < fewKeys {
				for _, seen := range top.keys {
					if bytes.Equal(seen, k) {
						return string(k), start, true
					}
				}
				top.keys = append(top.keys, k)
				continue
			}
			if top.set == nil {
				top.set = make(map[string]struct{}, 2*fewKeys)
				for _, seen := range top.keys {
					top.set[string(seen)] = struct{}{}
				}
			}
			if _, dup := top.set[string(k)]; dup {
				return string(k), start, true
			}
			top.set[string(k)] = struct{}{}
		}
	}
	return "", 0, false
}

// stringEnd returns the index of the quote closing the string that opens at
// data[open].
func stringEnd(data []byte, open int) int {
	i := open + 1
	for {
		j := bytes.IndexByte(data[i:], '"')
		if j < 0 {
			return len(data)
		}
		end := i + j
		// The quote is escaped when an odd number of backslashes precede it.
		bs := 0
		for k := end - 1; k > open && data[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			return end
		}
		i = end + 1
	}
}
