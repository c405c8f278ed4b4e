package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/jobsync/jobsync/planner/render"
	"github.com/jobsync/jobsync/schema"
)

// An Asset Bundle folder is a project (package schema reads it). What the
// commands add for bundles is here: where the current user comes from,
// and how warnings (what jobsync skips of a bundle) are shown.

// validateUser is the user validate substitutes for a bundle's
// ${workspace.current_user.*}, mode: development and default workspace
// paths when --user is not given: validate reads no workspace, so it
// cannot ask SCIM /Me, and it says so when the value was used.
const validateUser = "validate-user@example.invalid"

func userFlag() cli.Flag {
	return &cli.StringFlag{Name: "user", Usage: "for a bundle: the current user (as SCIM /Me would return it) to substitute for ${workspace.current_user.userName} and mode: development (default: a placeholder, " + validateUser + ")"}
}

// validateIdentity is the current user for validate.
func validateIdentity(c *cli.Context) *schema.Identity {
	if u := c.String("user"); u != "" {
		return &schema.Identity{UserName: u}
	}
	return &schema.Identity{UserName: validateUser}
}

// userLine says which user validate substituted, when it did.
func userLine(c *cli.Context, cfg *schema.Config) string {
	if !cfg.UserSubstituted {
		return ""
	}
	if u := c.String("user"); u != "" {
		return fmt.Sprintf("Current user: %s (--user).", u)
	}
	return fmt.Sprintf("Current user: the placeholder %s, since %s reads no workspace: pass --user NAME for the real one (plan and apply ask the workspace).", validateUser, c.Command.Name)
}

// uploadsLine summarises a bundle's local files.
func uploadsLine(cfg *schema.Config) string {
	if len(cfg.Uploads) == 0 {
		return ""
	}
	var size int64
	for _, u := range cfg.Uploads {
		size += u.Size
	}
	return fmt.Sprintf("%s to upload (%s) to %s.", render.Plural(len(cfg.Uploads), "local file", "local files"), render.Size(size), cfg.Paths.Files)
}

// printWarnings shows what loading skipped or converted: as text on
// stderr, as GitHub annotations on stdout. (validate --format json puts
// them in its document.)
func printWarnings(e *env, format string, ws schema.Diagnostics) {
	for _, w := range ws {
		switch format {
		case "json":
		case "github":
			fmt.Fprintln(e.out, strings.Replace(w.GitHubAnnotation(), "::error ", "::warning ", 1))
		default:
			fmt.Fprintln(e.err, "Warning: "+w.Error())
		}
	}
}

// loadAndOpen loads the command's configuration and opens its workspace
// (open), in the order the project needs: any project is validated before
// anything is opened, except a bundle, whose jobs may name the current
// user (${workspace.current_user.*}, mode: development, the default
// workspace.root_path): its workspace is opened first and asked for the
// user (SCIM /Me, one request), which is passed to the loader. open's
// workspace is closed when loading fails.
func loadAndOpen(c *cli.Context, e *env, open func() (*workspace, error)) (*schema.Config, *workspace, error) {
	proj, err := resolveProject(c, e, "text")
	if err != nil {
		return nil, nil, err
	}
	if proj.sel == nil || !proj.sel.Project.IsBundle() {
		cfg, err := loadConfig(c, e)
		if err != nil {
			return nil, nil, err
		}
		w, err := open()
		return cfg, w, err
	}
	w, err := open()
	if err != nil {
		return nil, nil, err
	}
	me, err := w.client.Me(c.Context)
	if err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("asking %s who the current user is (SCIM /Me), for the bundle's user-dependent values: %w", w.name, err)
	}
	cfg, err := loadConfigOpts(c, e, "text", &schema.Identity{UserName: me.UserName, DisplayName: me.DisplayName, ID: me.ID}, w.name)
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	return cfg, w, nil
}

// reloadConfig loads the configuration again, after its files changed:
// for a bundle, whose project holds the files it includes as they were
// read, the project is read again too, and the open workspace's current
// user is asked for again (as loadAndOpen did).
func reloadConfig(c *cli.Context, e *env, w *workspace) (*schema.Config, error) {
	proj, err := resolveProject(c, e, "text")
	if err != nil {
		return nil, err
	}
	if proj.sel == nil || !proj.sel.Project.IsBundle() {
		return loadConfig(c, e)
	}
	delete(c.App.Metadata, projectKey)
	if _, err := resolveProject(c, e, "text"); err != nil {
		return nil, err
	}
	me, err := w.client.Me(c.Context)
	if err != nil {
		return nil, fmt.Errorf("asking %s who the current user is (SCIM /Me), for the bundle's user-dependent values: %w", w.name, err)
	}
	return loadConfigOpts(c, e, "text", &schema.Identity{UserName: me.UserName, DisplayName: me.DisplayName, ID: me.ID}, w.name)
}

// filesOf are a configuration's local files and the folder they go to.
type filesOf struct {
	uploads []schema.Upload
	root    string
}

func uploadsOf(cfg *schema.Config) filesOf {
	if cfg == nil {
		return filesOf{}
	}
	f := filesOf{uploads: cfg.Uploads}
	if cfg.Paths != nil {
		f.root = cfg.Paths.Files
	}
	return f
}
