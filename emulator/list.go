package emulator

import (
	"bytes"
	"strconv"
	"strings"
)

// listJobs: GET jobs/list (§3.2.3, §5.2). Jobs come newest first ("offset ...
// relative to the most recently created job", [SDK] ListJobsRequest), paged
// with opaque tokens.
func (s *Server) listJobs(rq *request) (any, *apiError) {
	st := rq.st
	// limit: "greater than 0 and less or equal to 100. The default value
	// is 20" ([SDK] ListJobsRequest.limit), on 2.1 as on 2.2: the 2.1 spec's
	// cap of 25 ([OAS21], 2023) was raised since (issue 14 gap 13). 0 is the
	// unset value of the service's request type, hence the default. Out of
	// range is undocumented; 400 assumed.
	const maxLimit = 100
	limit := int(getInt(rq.params, "limit"))
	if limit == 0 {
		limit = 20
	}
	if limit < 0 || limit > maxLimit {
		return nil, invalidParam("Invalid limit %d: must be greater than 0 and less than or equal to %d.", limit, maxLimit)
	}
	offset := int(getInt(rq.params, "offset"))
	if offset < 0 {
		return nil, invalidParam("Invalid offset %d: must not be negative.", offset)
	}
	name := getString(rq.params, "name")
	expand := getBool(rq.params, "expand_tasks")
	r := s.reader()

	st.mu.RLock()
	defer st.mu.RUnlock()
	// Newest first; name is an exact, case-insensitive filter ([SDK]).
	// ids[i] is the i-th job of the listing.
	order := st.order
	n := len(order)
	idAt := func(i int) int64 { return order[n-1-i] }
	// A caller who is not an admin sees only the jobs it may view
	// (permissions.go canView).
	if all := s.canViewAll(rq); name != "" || !all {
		var ids []int64
		for i := len(st.order) - 1; i >= 0; i-- {
			id := st.order[i]
			if (name == "" || strings.EqualFold(jobName(st.jobs[id]), name)) && (all || s.canView(rq, id)) {
				ids = append(ids, id)
			}
		}
		n, idAt = len(ids), func(i int) int64 { return ids[i] }
	}
	lo, hi, next, prev, err := pageOf(n, func(i int) cursor { return cursor{K1: idAt(i)} }, tokJobList, getString(rq.params, "page_token"), offset, limit)
	if err != nil {
		return nil, err
	}
	// The body is assembled from cached items, keys in encoding/json order.
	items := make([][]byte, 0, hi-lo)
	size := 200
	for i := lo; i < hi; i++ {
		item := r.listView(st.jobs[idAt(i)], expand, rq.v21())
		items = append(items, item)
		size += len(item) + 1
	}
	b := bytes.NewBuffer(make([]byte, 0, size))
	b.WriteString(`{"has_more":`)
	b.WriteString(strconv.FormatBool(next != ""))
	if hi > lo {
		// "jobs" is omitted when there are none ([SDK] ListJobsResponse.jobs).
		b.WriteString(`,"jobs":[`)
		for i, item := range items {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(item)
		}
		b.WriteByte(']')
	}
	if next != "" {
		b.WriteString(`,"next_page_token":`)
		b.WriteString(strconv.Quote(next))
	}
	if prev != "" {
		b.WriteString(`,"prev_page_token":`)
		b.WriteString(strconv.Quote(prev))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// jobName is the name a job shows on read ("Untitled" when unset, §7.1).
func jobName(j *job) string {
	if n := getString(j.settings, "name"); n != "" {
		return n
	}
	return "Untitled"
}
