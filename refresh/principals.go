package refresh

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
)

// checkPrincipals looks up, once each and in parallel, the principals the
// plan's writes name (planner.Principals), and refuses the plan, before
// anything is written, when the workspace does not know one: the service
// refuses such an access control entry after the job itself was written,
// which would leave the job and its permissions half-applied (FIDELITY.md
// gap 9). A plan without writes looks nothing up. A workspace that does not
// let the caller read its principals (403, or no SCIM endpoint) cannot be
// checked; the plan then goes on, as it did before the check existed.
func checkPrincipals(ctx context.Context, c *jobsapi.Client, p *planner.Plan, parallelism int) error {
	uses := planner.Principals(p)
	if len(uses) == 0 {
		return nil
	}
	type key struct{ kind, name string }
	var keys []key
	seen := map[key]bool{}
	for _, u := range uses {
		k := key{u.Kind, u.Name}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	var mu sync.Mutex
	known := make(map[key]bool, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, parallelism))
	for _, k := range keys {
		g.Go(func() error {
			ok, err := c.PrincipalExists(gctx, k.kind, k.name)
			if err != nil {
				if uncheckable(err) {
					ok = true
				} else {
					return err
				}
			}
			mu.Lock()
			known[k] = ok
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return planner.UnknownPrincipalsError(uses, func(kind, name string) bool { return known[key{kind, name}] })
}

// checkCreator refuses, before anything is written, a plan that creates
// a job granting the identity applying it less than IS_OWNER
// (planner.CreatorGrantsError); it asks SCIM /Me only when a create grants
// a user or service principal something.
func checkCreator(ctx context.Context, c *jobsapi.Client, p *planner.Plan) error {
	var meErr error
	err := planner.CreatorGrantsError(p, func() (string, bool) {
		me, err := c.Me(ctx)
		if err != nil {
			if !uncheckable(err) {
				meErr = err
			}
			return "", false
		}
		return me.UserName, true
	})
	if meErr != nil {
		return meErr
	}
	return err
}

// uncheckable: the answer says the caller may not read principals, or the
// workspace has no such endpoint.
func uncheckable(err error) bool {
	var e *jobsapi.APIError
	return jobsapi.IsAuth(err) || errors.As(err, &e) && e.StatusCode == http.StatusNotFound
}
