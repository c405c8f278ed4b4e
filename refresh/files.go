package refresh

import (
	"context"
	"fmt"
	"path"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/jobsync/jobsync/jobsapi"
	"github.com/jobsync/jobsync/planner"
)

// readFiles looks, with one workspace/list per folder, whether the uploads
// the lockfile records with their current content are still in the
// workspace, so that a file removed outside jobsync is uploaded again.
// Uploads that are new or changed are uploaded anyway and need no read:
// a plan with nothing to upload makes no request but these listings (none
// at all when no upload is recorded). It fills in.LiveFiles and returns
// the number of folders listed.
func readFiles(ctx context.Context, c *jobsapi.Client, in *planner.Input, parallelism int) (int, error) {
	if len(in.Uploads) == 0 || in.Lock == nil || len(in.Lock.Files) == 0 || in.Destroy {
		return 0, nil
	}
	folders := map[string]bool{}
	for _, u := range in.Uploads {
		if rec, ok := in.Lock.Files[u.Remote]; ok && rec.Digest == u.Digest {
			folders[path.Dir(u.Remote)] = true
		}
	}
	if len(folders) == 0 {
		return 0, nil
	}
	list := make([]string, 0, len(folders))
	for f := range folders {
		list = append(list, f)
	}
	sort.Strings(list)
	live := map[string]string{}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelism)
	for _, dir := range list {
		g.Go(func() error {
			objs, err := c.ListObjects(gctx, dir)
			if jobsapi.IsNotFound(err) {
				return nil // the folder is gone, and its files with it
			}
			if err != nil {
				return fmt.Errorf("listing the workspace folder %s: %w", dir, err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, o := range objs {
				live[o.Path] = o.ObjectType
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	in.LiveFiles = live
	return len(list), nil
}
