package jobsapi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Auth types understood by jobsync. The names are the Databricks SDKs' own
// auth_type values, so that DATABRICKS_AUTH_TYPE means the same thing here.
const (
	AuthTypePAT      = "pat"
	AuthTypeOAuthM2M = "oauth-m2m"
	// AuthTypeDatabricksCLI is a developer's login: the token cache that
	// `databricks auth login` writes, read through `databricks auth token`.
	AuthTypeDatabricksCLI = "databricks-cli"
	// AuthTypeAzureCLI is an `az login`: `az account get-access-token`.
	AuthTypeAzureCLI = "azure-cli"
	// AuthTypeAzureClientSecret is an Azure (Entra ID) service principal's
	// client secret.
	AuthTypeAzureClientSecret = "azure-client-secret"
)

// authTypes are the auth types jobsync knows, for messages.
var authTypes = []string{AuthTypePAT, AuthTypeOAuthM2M, AuthTypeDatabricksCLI, AuthTypeAzureCLI, AuthTypeAzureClientSecret}

// Config says which workspace to talk to and how to authenticate.
//
// Token and ClientSecret are secrets: String and GoString redact them, and no
// error or debug line of this package ever contains them.
type Config struct {
	Host         string // workspace URL, normalised to scheme://host[:port]
	Token        string // personal access token (AuthType "pat")
	ClientID     string // OAuth M2M service principal application id
	ClientSecret string // OAuth M2M secret
	AuthType     string // one of the AuthType constants; resolved when empty
	Profile      string // the ~/.databrickscfg profile the settings came from, if any

	// Azure service principal (azure-client-secret): ARM_CLIENT_ID,
	// ARM_CLIENT_SECRET (a secret), ARM_TENANT_ID. AzureTenantID also
	// goes to az (azure-cli) when set.
	AzureClientID, AzureClientSecret, AzureTenantID string
	// AzureResourceID is the workspace's Azure resource id
	// (DATABRICKS_AZURE_RESOURCE_ID), sent in a header by the Azure auth
	// types; with it any host counts as Azure.
	AzureResourceID string
	// AzureLoginURL is Entra ID's authority for azure-client-secret
	// (default DefaultAzureLoginURL; JOBSYNC_AZURE_LOGIN_URL for another
	// cloud, or a token server in tests).
	AzureLoginURL string
	// CLIPath is the Databricks CLI (databricks-cli), AzPath the Azure CLI
	// (azure-cli): executables found when the auth type was resolved.
	CLIPath, AzPath string

	// ConfigFile is the configuration file that was read, if any.
	ConfigFile string

	// Warnings are problems that do not stop jobsync but that the user
	// should fix (a configuration file holding secrets that other users
	// can read); the caller shows them.
	Warnings []string
}

// String describes the configuration without its secrets.
func (c Config) String() string {
	red := func(s string) string {
		if s == "" {
			return `""`
		}
		return "<redacted>"
	}
	return fmt.Sprintf("Config{Host: %q, AuthType: %q, Token: %s, ClientID: %q, ClientSecret: %s, AzureClientID: %q, AzureClientSecret: %s, AzureTenantID: %q, Profile: %q, ConfigFile: %q}",
		c.Host, c.AuthType, red(c.Token), c.ClientID, red(c.ClientSecret), c.AzureClientID, red(c.AzureClientSecret), c.AzureTenantID, c.Profile, c.ConfigFile)
}

// GoString keeps %#v from printing the secrets.
func (c Config) GoString() string { return "jobsapi." + c.String() }

// ConfigFlags are the command-line flags that take part in resolution; they
// win over the environment.
type ConfigFlags struct {
	Host    string
	Profile string
}

// attr is one resolved configuration attribute and where it came from, so
// that error messages can name the exact thing to change.
type attr struct {
	value, source string
}

// ResolveConfig finds the workspace and credentials the way the Databricks
// CLI and SDKs do (jobs-api.md §10.1): flags, then environment variables,
// then a profile of ~/.databrickscfg. The file is read only when a profile is
// asked for or when neither a host nor credentials came from the flags and
// the environment. getenv is passed in so that tests and the CLI control the
// environment completely (HOME included).
//
// Errors say exactly which variable, flag or profile key to set.
func ResolveConfig(getenv func(string) string, f ConfigFlags) (Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	env := func(name string) attr {
		return attr{strings.TrimSpace(getenv(name)), name}
	}
	a := map[string]attr{
		"host":          env("DATABRICKS_HOST"),
		"token":         env("DATABRICKS_TOKEN"),
		"client_id":     env("DATABRICKS_CLIENT_ID"),
		"client_secret": env("DATABRICKS_CLIENT_SECRET"),
		"auth_type":     env("DATABRICKS_AUTH_TYPE"),
		// The SDK's names (config/config.go).
		"azure_client_id":             env("ARM_CLIENT_ID"),
		"azure_client_secret":         env("ARM_CLIENT_SECRET"),
		"azure_tenant_id":             env("ARM_TENANT_ID"),
		"azure_workspace_resource_id": env("DATABRICKS_AZURE_RESOURCE_ID"),
		"databricks_cli_path":         env("DATABRICKS_CLI_PATH"),
	}
	if h := strings.TrimSpace(f.Host); h != "" {
		a["host"] = attr{h, "--host"}
	}
	profile := attr{strings.TrimSpace(f.Profile), "--profile"}
	if profile.value == "" {
		profile = env("DATABRICKS_CONFIG_PROFILE")
	}

	// The file is skipped when the environment already configures a
	// workspace and no profile was asked for, exactly as the SDK does: a
	// stray DEFAULT profile must not mix into an environment-based setup.
	anySet := false
	for _, k := range []string{"host", "token", "client_id", "client_secret", "azure_client_id", "azure_client_secret"} {
		if a[k].value != "" {
			anySet = true
		}
	}
	var cfg Config
	if profile.value != "" || !anySet {
		path, display, err := configFilePath(getenv)
		if err != nil {
			if profile.value != "" {
				return Config{}, fmt.Errorf("profile %q was requested (%s) but %v", profile.value, profile.source, err)
			}
		} else if err := loadProfile(path, display, profile, a, &cfg); err != nil {
			return Config{}, err
		}
	}

	cfg.Host = a["host"].value
	cfg.AuthType = strings.ToLower(a["auth_type"].value)
	where := func(key, envName, flag string) string {
		s := "set " + envName
		if flag != "" {
			s += " or " + flag
		}
		if cfg.Profile != "" {
			s += fmt.Sprintf(", or %s in profile %s of %s", key, cfg.Profile, displayPath(cfg.ConfigFile, getenv))
		} else {
			s += fmt.Sprintf(", or %s in a profile of ~/.databrickscfg (selected with --profile or DATABRICKS_CONFIG_PROFILE)", key)
		}
		return s
	}
	if cfg.Host == "" {
		return Config{}, fmt.Errorf("no workspace host: %s", where("host", "DATABRICKS_HOST", "--host"))
	}
	host, err := NormalizeHost(cfg.Host)
	if err != nil {
		return Config{}, fmt.Errorf("%s (from %s): %w", "workspace host", a["host"].source, err)
	}
	cfg.Host = host

	cfg.AzureClientID, cfg.AzureTenantID = a["azure_client_id"].value, a["azure_tenant_id"].value
	cfg.AzureResourceID = a["azure_workspace_resource_id"].value
	cfg.AzureLoginURL = DefaultAzureLoginURL
	if u := strings.TrimSpace(getenv("JOBSYNC_AZURE_LOGIN_URL")); u != "" {
		login, err := NormalizeHost(u)
		if err != nil {
			return Config{}, fmt.Errorf("JOBSYNC_AZURE_LOGIN_URL: %w", err)
		}
		cfg.AzureLoginURL = login + "/"
	}
	azure := cfg.AzureResourceID != "" || IsAzureHost(cfg.Host)
	cliName := a["databricks_cli_path"].value
	if cliName == "" {
		cliName = "databricks"
	}
	cliPath, haveCLI := LookPath(getenv, cliName)
	azPath, haveAz := LookPath(getenv, "az")
	azureSP := a["azure_client_id"].value != "" && a["azure_client_secret"].value != "" && a["azure_tenant_id"].value != ""

	token, id, secret := a["token"], a["client_id"], a["client_secret"]
	switch cfg.AuthType {
	case "":
		switch {
		case token.value != "" && (id.value != "" || secret.value != ""):
			otherName, other := "client_id", id
			if other.value == "" {
				otherName, other = "client_secret", secret
			}
			return Config{}, fmt.Errorf("more than one auth method configured (token from %s and %s from %s): remove one or set DATABRICKS_AUTH_TYPE to %s or %s",
				token.source, otherName, other.source, AuthTypePAT, AuthTypeOAuthM2M)
		case token.value != "":
			cfg.AuthType = AuthTypePAT
		case id.value != "" || secret.value != "":
			cfg.AuthType = AuthTypeOAuthM2M
		// The SDK tries each remaining type in turn and keeps the first
		// that yields a token (config/auth_default.go: databricks-cli,
		// then azure-client-secret, then azure-cli). jobsync chooses by
		// what is configured instead, without running anything, and
		// lets an Azure service principal's explicit variables win over
		// a CLI that happens to be installed; DATABRICKS_AUTH_TYPE
		// chooses otherwise.
		case azureSP && azure:
			cfg.AuthType = AuthTypeAzureClientSecret
		case haveCLI:
			cfg.AuthType = AuthTypeDatabricksCLI
		case azure && haveAz:
			cfg.AuthType = AuthTypeAzureCLI
		default:
			return Config{}, fmt.Errorf("no credentials for %s: set DATABRICKS_TOKEN (personal access token), or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (OAuth M2M service principal), or token / client_id and client_secret in %s; or log in with `databricks auth login --host %s` (DATABRICKS_AUTH_TYPE=databricks-cli)%s",
				cfg.Host, profileHint(cfg, getenv), cfg.Host, azureHint(azure))
		}
	case AuthTypePAT, AuthTypeOAuthM2M, AuthTypeDatabricksCLI, AuthTypeAzureCLI, AuthTypeAzureClientSecret:
	default:
		return Config{}, fmt.Errorf("auth type %q (from %s) is not supported by jobsync: set DATABRICKS_AUTH_TYPE to one of %s",
			cfg.AuthType, a["auth_type"].source, strings.Join(authTypes, ", "))
	}

	// Keep only the credentials of the chosen method, so that the other
	// one can never be sent or logged by accident.
	switch cfg.AuthType {
	case AuthTypePAT:
		if token.value == "" {
			return Config{}, fmt.Errorf("auth type %s needs a token: %s", AuthTypePAT, where("token", "DATABRICKS_TOKEN", ""))
		}
		cfg.Token = token.value
	case AuthTypeOAuthM2M:
		var missing []string
		if id.value == "" {
			missing = append(missing, "client id: "+where("client_id", "DATABRICKS_CLIENT_ID", ""))
		}
		if secret.value == "" {
			missing = append(missing, "client secret: "+where("client_secret", "DATABRICKS_CLIENT_SECRET", ""))
		}
		if len(missing) > 0 {
			return Config{}, fmt.Errorf("OAuth M2M needs a client id and a client secret; missing %s", strings.Join(missing, "; and "))
		}
		cfg.ClientID, cfg.ClientSecret = id.value, secret.value
	case AuthTypeDatabricksCLI:
		if !haveCLI {
			return Config{}, fmt.Errorf("auth type %s needs the Databricks CLI, and %q is not an executable on PATH: install it (https://docs.databricks.com/dev-tools/cli/install.html), or set DATABRICKS_CLI_PATH", AuthTypeDatabricksCLI, cliName)
		}
		cfg.CLIPath = cliPath
	case AuthTypeAzureCLI:
		if !haveAz {
			return Config{}, fmt.Errorf("auth type %s needs the Azure CLI, and az is not an executable on PATH: install it (https://learn.microsoft.com/cli/azure/install-azure-cli)", AuthTypeAzureCLI)
		}
		cfg.AzPath = azPath
	case AuthTypeAzureClientSecret:
		var missing []string
		for _, k := range []struct{ key, env string }{{"azure_client_id", "ARM_CLIENT_ID"}, {"azure_client_secret", "ARM_CLIENT_SECRET"}, {"azure_tenant_id", "ARM_TENANT_ID"}} {
			if a[k.key].value == "" {
				missing = append(missing, where(k.key, k.env, ""))
			}
		}
		if len(missing) > 0 {
			return Config{}, fmt.Errorf("auth type %s needs a client id, a client secret and a tenant id; missing: %s", AuthTypeAzureClientSecret, strings.Join(missing, "; "))
		}
		cfg.AzureClientSecret = a["azure_client_secret"].value
	}
	if cfg.AuthType != AuthTypeAzureClientSecret {
		cfg.AzureClientSecret = ""
	}
	return cfg, nil
}

func azureHint(azure bool) string {
	if !azure {
		return ""
	}
	return "; or, for Azure, ARM_CLIENT_ID, ARM_CLIENT_SECRET and ARM_TENANT_ID (service principal), or `az login` (DATABRICKS_AUTH_TYPE=azure-cli)"
}

// IsAzureHost tells whether host is an Azure Databricks workspace, by its
// DNS zone (databricks-sdk-go common/environment/environments.go).
func IsAzureHost(host string) bool {
	h := strings.ToLower(host)
	if u, err := url.Parse(h); err == nil && u.Hostname() != "" {
		h = u.Hostname()
	}
	for _, zone := range []string{".azuredatabricks.net", ".databricks.azure.us", ".databricks.azure.cn"} {
		if strings.HasSuffix(h, zone) {
			return true
		}
	}
	return false
}

func profileHint(cfg Config, getenv func(string) string) string {
	if cfg.Profile != "" {
		return fmt.Sprintf("profile %s of %s", cfg.Profile, displayPath(cfg.ConfigFile, getenv))
	}
	return "a profile of ~/.databrickscfg (selected with --profile or DATABRICKS_CONFIG_PROFILE)"
}

// configFilePath is DATABRICKS_CONFIG_FILE (with ~ expanded) or
// $HOME/.databrickscfg, plus the form to show in messages.
func configFilePath(getenv func(string) string) (path, display string, err error) {
	home := getenv("HOME")
	if p := strings.TrimSpace(getenv("DATABRICKS_CONFIG_FILE")); p != "" {
		if p == "~" || strings.HasPrefix(p, "~/") {
			if home == "" {
				return "", "", fmt.Errorf("DATABRICKS_CONFIG_FILE is %s but HOME is not set: use an absolute path", p)
			}
			return filepath.Join(home, p[1:]), p, nil
		}
		return p, p, nil
	}
	if home == "" {
		return "", "", errors.New("HOME is not set, so ~/.databrickscfg cannot be found: set DATABRICKS_CONFIG_FILE")
	}
	return filepath.Join(home, ".databrickscfg"), "~/.databrickscfg", nil
}

func displayPath(path string, getenv func(string) string) string {
	if path == "" {
		return "~/.databrickscfg"
	}
	if home := getenv("HOME"); home != "" {
		if rel, err := filepath.Rel(home, path); err == nil && !strings.HasPrefix(rel, "..") {
			return "~/" + filepath.ToSlash(rel)
		}
	}
	return path
}

// loadProfile fills the attributes still unset in a from the selected
// profile. A missing file or a missing DEFAULT profile is not an error; a
// profile that was asked for by name and is absent is.
func loadProfile(path, display string, profile attr, a map[string]attr, cfg *Config) error {
	data, mode, err := readConfigFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if profile.value != "" {
			return fmt.Errorf("profile %q was requested (%s) but %s does not exist: create it or set DATABRICKS_CONFIG_FILE", profile.value, profile.source, display)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", display, err)
	}
	sections, err := parseINI(data)
	if err != nil {
		return fmt.Errorf("%s: %w", display, err)
	}
	if w := permissionWarning(display, mode, sections); w != "" {
		cfg.Warnings = append(cfg.Warnings, w)
	}
	name := profile.value
	explicit := name != ""
	if !explicit {
		if s, ok := sections["__settings__"]; ok && s["default_profile"] != "" {
			name, explicit = s["default_profile"], true
			profile.source = "default_profile in [__settings__] of " + display
		} else {
			name = "DEFAULT"
		}
	}
	sec, ok := sections[name]
	if !ok || len(sec) == 0 {
		if !explicit {
			return nil
		}
		var names []string
		for n := range sections {
			if n != "__settings__" && len(sections[n]) > 0 {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		have := "it has no profiles"
		if len(names) > 0 {
			have = "its profiles are " + strings.Join(names, ", ")
		}
		what := "is not in"
		if ok {
			what = "is empty in"
		}
		return fmt.Errorf("profile %q (from %s) %s %s (%s): fix the name or add the profile", name, profile.source, what, display, have)
	}
	cfg.Profile, cfg.ConfigFile = name, path
	src := fmt.Sprintf("profile %s of %s", name, display)
	for _, k := range profileKeys {
		if a[k].value == "" && sec[k] != "" {
			a[k] = attr{sec[k], src}
		}
	}
	return nil
}

// maxConfigBytes bounds the configuration file; real ones are a few
// hundred bytes per profile.
const maxConfigBytes = 1 << 20

// readConfigFile reads the configuration file if it is a regular file of
// at most maxConfigBytes, and returns its permission bits.
func readConfigFile(path string) ([]byte, fs.FileMode, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s is not a regular file (%s)", path, st.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, 0, err
	}
	if len(data) > maxConfigBytes {
		return nil, 0, fmt.Errorf("%s is larger than %d bytes; a Databricks configuration file is a few profiles", path, maxConfigBytes)
	}
	return data, st.Mode().Perm(), nil
}

// permissionWarning warns about a configuration file that holds a token or
// client secret and that users other than its owner can read or write
// (the Databricks CLI writes it 0600). Windows has no such bits.
func permissionWarning(display string, mode fs.FileMode, sections map[string]map[string]string) string {
	if runtime.GOOS == "windows" || mode&0o066 == 0 {
		return ""
	}
	secret := false
	for _, sec := range sections {
		if sec["token"] != "" || sec["client_secret"] != "" || sec["password"] != "" || sec["azure_client_secret"] != "" {
			secret = true
		}
	}
	if !secret {
		return ""
	}
	var what string
	switch {
	case mode&0o044 != 0 && mode&0o022 != 0:
		what = "readable and writable by other users"
	case mode&0o044 != 0:
		what = "readable by other users"
	default:
		what = "writable by other users"
	}
	return fmt.Sprintf("%s holds credentials and is %s (mode %04o): run chmod 600 %s", display, what, mode, display)
}

// profileKeys are the keys of a profile that jobsync reads.
var profileKeys = []string{"host", "token", "client_id", "client_secret", "auth_type",
	"azure_client_id", "azure_client_secret", "azure_tenant_id", "azure_workspace_resource_id", "databricks_cli_path"}

// parseINI reads the subset of INI that ~/.databrickscfg uses: [sections],
// key = value lines, full-line comments (# or ;) and inline comments that
// follow whitespace (the SDK's SpaceBeforeInlineComment). Keys before the
// first section belong to DEFAULT. Keys are compared in lower case.
func parseINI(data []byte) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	cur := "DEFAULT"
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				return nil, fmt.Errorf("line %d: section header has no closing ]", n)
			}
			cur = strings.TrimSpace(line[1:end])
			if _, ok := out[cur]; !ok {
				out[cur] = map[string]string{}
			}
			continue
		}
		eq := strings.IndexAny(line, "=:")
		if eq < 0 {
			return nil, fmt.Errorf("line %d: expected key = value", n)
		}
		key := strings.ToLower(strings.TrimSpace(line[:eq]))
		raw := strings.TrimSpace(line[eq+1:])
		val := stripInlineComment(raw)
		if len(raw) >= 2 && (raw[0] == '"' || raw[0] == '\'') {
			// A quoted value may contain # and ; and ends at its quote.
			if end := strings.IndexByte(raw[1:], raw[0]); end >= 0 {
				val = raw[1 : 1+end]
			}
		}
		if out[cur] == nil {
			out[cur] = map[string]string{}
		}
		out[cur][key] = val
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func stripInlineComment(v string) string {
	for i := 1; i < len(v); i++ {
		if (v[i] == '#' || v[i] == ';') && (v[i-1] == ' ' || v[i-1] == '\t') {
			return strings.TrimSpace(v[:i])
		}
	}
	return v
}

// NormalizeHost turns a workspace URL as users write it into
// scheme://host[:port]: https:// is added when no scheme is given, and any
// path, query or fragment is dropped (jobs-api.md §10.1). Plain http:// is
// refused unless the host is a loopback address (127.0.0.0/8, ::1,
// localhost), because the token would otherwise cross the network in clear.
func NormalizeHost(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", errors.New("empty host")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %v", raw, errors.Unwrap(err))
	}
	scheme := strings.ToLower(u.Scheme)
	if u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("%q has no host name", raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("the host URL must not contain user information: put credentials in DATABRICKS_TOKEN or a profile instead")
	}
	switch scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", fmt.Errorf("refusing plain http:// for %s: the token would travel unencrypted; use https:// (http:// is allowed only for loopback hosts such as 127.0.0.1 or localhost)", u.Hostname())
		}
	default:
		return "", fmt.Errorf("unsupported scheme %q in %q: use https://", u.Scheme, raw)
	}
	return scheme + "://" + strings.ToLower(u.Host), nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
