package emulator

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// Page tokens are opaque to clients (§5.1: docs show tokens like "Z29...E=",
// base64): here the standard base64 of a tagged cursor, so that clients must
// URL-encode them and cannot use them as offsets.
const (
	tokJobGet  = "jg"
	tokJobList = "jl"
	tokRunGet  = "rg"
	tokRunList = "rl"
)

// cursor is a position in an ordering: for list endpoints the sort key of an
// item (K1, K2; lists are ordered by descending (K1, K2)) and whether the
// page lies after it (next) or before it (prev); for get endpoints an id (K1)
// and a page number (K2).
type cursor struct {
	K1, K2 int64
	Prev   bool
}

func encodeToken(tag string, c cursor) string {
	dir := "n"
	if c.Prev {
		dir = "p"
	}
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%s1:%s:%d:%d", tag, dir, c.K1, c.K2))
}

var errBadToken = errors.New("invalid page token")

func decodeToken(tok, tag string) (cursor, error) {
	raw, err := base64.StdEncoding.DecodeString(tok)
	if err != nil {
		return cursor{}, errBadToken
	}
	var c cursor
	var gotTag, dir string
	if _, err := fmt.Sscanf(string(raw), "%2s1:%1s:%d:%d", &gotTag, &dir, &c.K1, &c.K2); err != nil || gotTag != tag || (dir != "n" && dir != "p") {
		return cursor{}, errBadToken
	}
	// Reject trailing garbage: the token must re-encode identically.
	c.Prev = dir == "p"
	if encodeToken(tag, c) != tok {
		return cursor{}, errBadToken
	}
	return c, nil
}

// pageOf selects one page of n items ordered by descending key (keyAt(i)
// gives the key of item i). Without a token it starts at offset. It returns
// the item range and the next/prev tokens ("" when there is no such page),
// so that has_more == (next != "") always holds (§5.2).
func pageOf(n int, keyAt func(int) cursor, tag, token string, offset, limit int) (lo, hi int, next, prev string, err *apiError) {
	less := func(a, b cursor) bool { // a sorts after b
		return a.K1 < b.K1 || (a.K1 == b.K1 && a.K2 < b.K2)
	}
	switch {
	case token == "":
		lo = min(max(offset, 0), n)
		hi = min(lo+limit, n)
	default:
		c, derr := decodeToken(token, tag)
		if derr != nil {
			return 0, 0, "", "", invalidParam("Invalid page token: %s", token)
		}
		// First index whose key sorts after the cursor.
		after := sort.Search(n, func(i int) bool { return less(keyAt(i), c) })
		if c.Prev {
			// Items strictly before the cursor are [0, firstNotBefore).
			firstNotBefore := sort.Search(n, func(i int) bool { k := keyAt(i); return !less(c, k) })
			hi = firstNotBefore
			lo = max(hi-limit, 0)
		} else {
			lo = after
			hi = min(lo+limit, n)
		}
	}
	if hi < n && hi > lo {
		k := keyAt(hi - 1)
		next = encodeToken(tag, cursor{K1: k.K1, K2: k.K2})
	}
	if lo > 0 && lo < n {
		k := keyAt(lo)
		prev = encodeToken(tag, cursor{K1: k.K1, K2: k.K2, Prev: true})
	}
	return lo, hi, next, prev, nil
}

// sortDesc orders items by descending key.
func sortDesc[T any](items []T, key func(T) cursor) {
	slices.SortFunc(items, func(a, b T) int {
		ka, kb := key(a), key(b)
		switch {
		case ka.K1 != kb.K1:
			return cmp.Compare(kb.K1, ka.K1)
		default:
			return cmp.Compare(kb.K2, ka.K2)
		}
	})
}
