package jobsapi_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jobsync/jobsync/jobsapi"
)

const cfgFile = `; a comment
# another comment
[DEFAULT]
host  = dbc-default.cloud.databricks.com
token = dapi-default-secret

[ci]
host          = https://adb-1234567890123456.7.azuredatabricks.net/?o=1234567890123456
client_id     = sp-app-id
client_secret = "sp-secret-value" ; inline comment

[Both]
HOST = https://both.example.com
token = dapi-both-secret
client_id = both-id
client_secret = both-secret

[pinned]
host = https://pinned.example.com
token = dapi-pinned-secret
auth_type = pat

[empty]

[__settings__]
default_profile = ci
`

const cfgNoSettings = `[DEFAULT]
host = dbc-default.cloud.databricks.com
token = dapi-default-secret

[other]
host = https://other.example.com
token = dapi-other-secret
`

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolveConfig(t *testing.T) {
	home := t.TempDir()
	writeFile(t, home, ".databrickscfg", cfgFile)
	other := t.TempDir()
	writeFile(t, other, "plain.cfg", cfgNoSettings)
	empty := t.TempDir() // a HOME without ~/.databrickscfg

	type want struct {
		host, authType, token, clientID, secret, profile string
	}
	cases := []struct {
		name    string
		env     map[string]string
		flags   jobsapi.ConfigFlags
		want    want
		wantErr []string // substrings of the error
	}{
		{
			name: "env host and token",
			env:  map[string]string{"HOME": empty, "DATABRICKS_HOST": "https://dbc-a1b2.cloud.databricks.com", "DATABRICKS_TOKEN": "dapi123"},
			want: want{host: "https://dbc-a1b2.cloud.databricks.com", authType: "pat", token: "dapi123"},
		},
		{
			name:  "flag host wins over env",
			env:   map[string]string{"HOME": empty, "DATABRICKS_HOST": "https://env.example.com", "DATABRICKS_TOKEN": "dapi123"},
			flags: jobsapi.ConfigFlags{Host: "flag.example.com"},
			want:  want{host: "https://flag.example.com", authType: "pat", token: "dapi123"},
		},
		{
			name: "host normalised: scheme added, path and query dropped, lower case",
			env:  map[string]string{"HOME": empty, "DATABRICKS_HOST": "  ADB-1.7.AzureDatabricks.net/browse?o=123#x ", "DATABRICKS_TOKEN": "t"},
			want: want{host: "https://adb-1.7.azuredatabricks.net", authType: "pat", token: "t"},
		},
		{
			name: "http loopback allowed",
			env:  map[string]string{"HOME": empty, "DATABRICKS_HOST": "http://127.0.0.1:8089/", "DATABRICKS_TOKEN": "t"},
			want: want{host: "http://127.0.0.1:8089", authType: "pat", token: "t"},
		},
		{
			name: "http localhost allowed",
			env:  map[string]string{"HOME": empty, "DATABRICKS_HOST": "http://LocalHost:1", "DATABRICKS_TOKEN": "t"},
			want: want{host: "http://localhost:1", authType: "pat", token: "t"},
		},
		{
			name: "http ::1 allowed",
			env:  map[string]string{"HOME": empty, "DATABRICKS_HOST": "http://[::1]:8089", "DATABRICKS_TOKEN": "t"},
			want: want{host: "http://[::1]:8089", authType: "pat", token: "t"},
		},
		{
			name: "http 127.255.0.9 allowed",
			env:  map[string]string{"HOME": empty, "DATABRICKS_HOST": "http://127.255.0.9", "DATABRICKS_TOKEN": "t"},
			want: want{host: "http://127.255.0.9", authType: "pat", token: "t"},
		},
		{
			name:    "http to a real host refused",
			env:     map[string]string{"HOME": empty, "DATABRICKS_HOST": "http://dbc.cloud.databricks.com", "DATABRICKS_TOKEN": "dapi-leak"},
			wantErr: []string{"refusing plain http://", "dbc.cloud.databricks.com", "DATABRICKS_HOST", "use https://"},
		},
		{
			name:    "http to a private address refused",
			env:     map[string]string{"HOME": empty, "DATABRICKS_HOST": "http://10.0.0.1:80", "DATABRICKS_TOKEN": "t"},
			wantErr: []string{"refusing plain http://"},
		},
		{
			name:    "http to a name that only starts like localhost refused",
			env:     map[string]string{"HOME": empty, "DATABRICKS_HOST": "http://localhost.evil.com", "DATABRICKS_TOKEN": "t"},
			wantErr: []string{"refusing plain http://"},
		},
		{
			name:    "other scheme refused",
			env:     map[string]string{"HOME": empty, "DATABRICKS_HOST": "ftp://x.example.com", "DATABRICKS_TOKEN": "t"},
			wantErr: []string{`unsupported scheme "ftp"`},
		},
		{
			name:    "no host anywhere",
			env:     map[string]string{"HOME": empty},
			wantErr: []string{"no workspace host: set DATABRICKS_HOST or --host, or host in a profile of ~/.databrickscfg"},
		},
		{
			name:    "no host and no HOME",
			env:     map[string]string{},
			wantErr: []string{"no workspace host: set DATABRICKS_HOST or --host"},
		},
		{
			name:    "host without credentials",
			env:     map[string]string{"HOME": empty, "DATABRICKS_HOST": "https://x.example.com"},
			wantErr: []string{"no credentials for https://x.example.com", "DATABRICKS_TOKEN", "DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET"},
		},
		{
			name:    "token and client id",
			env:     map[string]string{"HOME": empty, "DATABRICKS_HOST": "x.example.com", "DATABRICKS_TOKEN": "dapi-tok", "DATABRICKS_CLIENT_ID": "id", "DATABRICKS_CLIENT_SECRET": "m2m-s3cr3t"},
			wantErr: []string{"more than one auth method configured (token from DATABRICKS_TOKEN and client_id from DATABRICKS_CLIENT_ID): remove one or set DATABRICKS_AUTH_TYPE"},
		},
		{
			name:    "token and client secret only",
			env:     map[string]string{"HOME": empty, "DATABRICKS_HOST": "x.example.com", "DATABRICKS_TOKEN": "dapi-tok", "DATABRICKS_CLIENT_SECRET": "m2m-s3cr3t"},
			wantErr: []string{"more than one auth method configured (token from DATABRICKS_TOKEN and client_secret from DATABRICKS_CLIENT_SECRET)"},
		},
		{
			name: "auth type picks pat and drops the M2M credentials",
			env:  map[string]string{"HOME": empty, "DATABRICKS_HOST": "x.example.com", "DATABRICKS_TOKEN": "dapi-tok", "DATABRICKS_CLIENT_ID": "id", "DATABRICKS_CLIENT_SECRET": "m2m-s3cr3t", "DATABRICKS_AUTH_TYPE": "pat"},
			want: want{host: "https://x.example.com", authType: "pat", token: "dapi-tok"},
		},
		{
			name: "auth type picks oauth-m2m and drops the token",
			env:  map[string]string{"HOME": empty, "DATABRICKS_HOST": "x.example.com", "DATABRICKS_TOKEN": "dapi-tok", "DATABRICKS_CLIENT_ID": "id", "DATABRICKS_CLIENT_SECRET": "m2m-s3cr3t", "DATABRICKS_AUTH_TYPE": "OAuth-M2M"},
			want: want{host: "https://x.example.com", authType: "oauth-m2m", clientID: "id", secret: "m2m-s3cr3t"},
		},
		{
			name: "M2M from env",
			env:  map[string]string{"HOME": empty, "DATABRICKS_HOST": "x.example.com", "DATABRICKS_CLIENT_ID": "id", "DATABRICKS_CLIENT_SECRET": "m2m-s3cr3t"},
			want: want{host: "https://x.example.com", authType: "oauth-m2m", clientID: "id", secret: "m2m-s3cr3t"},
		},
		{
			name:    "M2M without secret",
			env:     map[string]string{"HOME": empty, "DATABRICKS_HOST": "x.example.com", "DATABRICKS_CLIENT_ID": "id"},
			wantErr: []string{"OAuth M2M needs a client id and a client secret; missing client secret: set DATABRICKS_CLIENT_SECRET"},
		},
		{
			name:    "M2M without id",
			env:     map[string]string{"HOME": empty, "DATABRICKS_HOST": "x.example.com", "DATABRICKS_CLIENT_SECRET": "m2m-s3cr3t"},
			wantErr: []string{"missing client id: set DATABRICKS_CLIENT_ID"},
		},
		{
			name:    "pat forced without token",
			env:     map[string]string{"HOME": empty, "DATABRICKS_HOST": "x.example.com", "DATABRICKS_CLIENT_ID": "id", "DATABRICKS_CLIENT_SECRET": "m2m-s3cr3t", "DATABRICKS_AUTH_TYPE": "pat"},
			wantErr: []string{"auth type pat needs a token: set DATABRICKS_TOKEN"},
		},
		{
			name:    "unsupported auth type",
			env:     map[string]string{"HOME": empty, "DATABRICKS_HOST": "x.example.com", "DATABRICKS_TOKEN": "t", "DATABRICKS_AUTH_TYPE": "basic"},
			wantErr: []string{`auth type "basic" (from DATABRICKS_AUTH_TYPE) is not supported by jobsync`, "pat", "oauth-m2m"},
		},
		{
			name: "__settings__ default_profile",
			env:  map[string]string{"HOME": home},
			want: want{host: "https://adb-1234567890123456.7.azuredatabricks.net", authType: "oauth-m2m", clientID: "sp-app-id", secret: "sp-secret-value", profile: "ci"},
		},
		{
			name: "DEFAULT profile when no default_profile",
			env:  map[string]string{"HOME": home, "DATABRICKS_CONFIG_FILE": filepath.Join(other, "plain.cfg")},
			want: want{host: "https://dbc-default.cloud.databricks.com", authType: "pat", token: "dapi-default-secret", profile: "DEFAULT"},
		},
		{
			name: "DATABRICKS_CONFIG_PROFILE",
			env:  map[string]string{"HOME": home, "DATABRICKS_CONFIG_PROFILE": "DEFAULT"},
			want: want{host: "https://dbc-default.cloud.databricks.com", authType: "pat", token: "dapi-default-secret", profile: "DEFAULT"},
		},
		{
			name:  "--profile wins over DATABRICKS_CONFIG_PROFILE",
			env:   map[string]string{"HOME": home, "DATABRICKS_CONFIG_PROFILE": "DEFAULT"},
			flags: jobsapi.ConfigFlags{Profile: "pinned"},
			want:  want{host: "https://pinned.example.com", authType: "pat", token: "dapi-pinned-secret", profile: "pinned"},
		},
		{
			name:  "env token wins over profile values, host from the profile",
			env:   map[string]string{"HOME": home, "DATABRICKS_TOKEN": "dapi-env"},
			flags: jobsapi.ConfigFlags{Profile: "pinned"},
			want:  want{host: "https://pinned.example.com", authType: "pat", token: "dapi-env", profile: "pinned"},
		},
		{
			name:  "--host wins over profile host",
			env:   map[string]string{"HOME": home},
			flags: jobsapi.ConfigFlags{Profile: "pinned", Host: "https://flag.example.com"},
			want:  want{host: "https://flag.example.com", authType: "pat", token: "dapi-pinned-secret", profile: "pinned"},
		},
		{
			name: "env host without profile skips the file",
			env:  map[string]string{"HOME": home, "DATABRICKS_HOST": "https://env.example.com"},
			wantErr: []string{"no credentials for https://env.example.com",
				"a profile of ~/.databrickscfg (selected with --profile or DATABRICKS_CONFIG_PROFILE)"},
		},
		{
			name:    "profile with both methods",
			env:     map[string]string{"HOME": home},
			flags:   jobsapi.ConfigFlags{Profile: "Both"},
			wantErr: []string{"more than one auth method configured (token from profile Both of ~/.databrickscfg and client_id from profile Both of ~/.databrickscfg)", "DATABRICKS_AUTH_TYPE"},
		},
		{
			name:  "profile with both methods and env auth type",
			env:   map[string]string{"HOME": home, "DATABRICKS_AUTH_TYPE": "oauth-m2m"},
			flags: jobsapi.ConfigFlags{Profile: "Both"},
			want:  want{host: "https://both.example.com", authType: "oauth-m2m", clientID: "both-id", secret: "both-secret", profile: "Both"},
		},
		{
			name:    "unknown profile lists the known ones",
			env:     map[string]string{"HOME": home},
			flags:   jobsapi.ConfigFlags{Profile: "prod"},
			wantErr: []string{`profile "prod" (from --profile) is not in ~/.databrickscfg (its profiles are Both, DEFAULT, ci, pinned)`},
		},
		{
			name:    "empty profile",
			env:     map[string]string{"HOME": home, "DATABRICKS_CONFIG_PROFILE": "empty"},
			wantErr: []string{`profile "empty" (from DATABRICKS_CONFIG_PROFILE) is empty in ~/.databrickscfg`},
		},
		{
			name:    "profile asked for but no file",
			env:     map[string]string{"HOME": empty, "DATABRICKS_CONFIG_PROFILE": "ci"},
			wantErr: []string{`profile "ci" was requested (DATABRICKS_CONFIG_PROFILE) but ~/.databrickscfg does not exist`},
		},
		{
			name:    "profile asked for without HOME",
			env:     map[string]string{},
			flags:   jobsapi.ConfigFlags{Profile: "ci"},
			wantErr: []string{`profile "ci" was requested (--profile)`, "HOME is not set", "DATABRICKS_CONFIG_FILE"},
		},
		{
			name: "DATABRICKS_CONFIG_FILE with ~",
			env:  map[string]string{"HOME": other, "DATABRICKS_CONFIG_FILE": "~/plain.cfg", "DATABRICKS_CONFIG_PROFILE": "other"},
			want: want{host: "https://other.example.com", authType: "pat", token: "dapi-other-secret", profile: "other"},
		},
		{
			name:    "missing profile key names the profile",
			env:     map[string]string{"HOME": home, "DATABRICKS_AUTH_TYPE": "pat"},
			flags:   jobsapi.ConfigFlags{Profile: "ci"},
			wantErr: []string{"auth type pat needs a token: set DATABRICKS_TOKEN, or token in profile ci of ~/.databrickscfg"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := jobsapi.ResolveConfig(env(tc.env), tc.flags)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("want error containing %q, got config %v", tc.wantErr, cfg)
				}
				for _, s := range tc.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q\n  does not contain %q", err, s)
					}
				}
				for _, secret := range []string{"dapi", "s3cr3t", "secret"} {
					for k, v := range tc.env {
						if strings.Contains(v, secret) && strings.Contains(err.Error(), v) {
							t.Errorf("error leaks %s: %q", k, err)
						}
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			got := want{cfg.Host, cfg.AuthType, cfg.Token, cfg.ClientID, cfg.ClientSecret, cfg.Profile}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestConfigStringRedactsSecrets(t *testing.T) {
	cfg := jobsapi.Config{Host: "https://x.example.com", Token: "dapi-very-secret", ClientID: "id", ClientSecret: "m2m-very-secret", AuthType: "pat"}
	for _, s := range []string{
		cfg.String(),
		fmt.Sprint(cfg),
		fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg),
		fmt.Sprintf("%v %+v %#v", &cfg, &cfg, &cfg),
	} {
		if strings.Contains(s, "very-secret") {
			t.Errorf("secret in %q", s)
		}
		if !strings.Contains(s, "https://x.example.com") {
			t.Errorf("host missing from %q", s)
		}
	}
}

func TestNormalizeHost(t *testing.T) {
	for in, want := range map[string]string{
		"x.cloud.databricks.com":             "https://x.cloud.databricks.com",
		"https://x.cloud.databricks.com/":    "https://x.cloud.databricks.com",
		"HTTPS://X.cloud.databricks.com:443": "https://x.cloud.databricks.com:443",
		"https://x.com/?o=1":                 "https://x.com",
		"http://127.0.0.1:8089/api/2.2":      "http://127.0.0.1:8089",
	} {
		got, err := jobsapi.NormalizeHost(in)
		if err != nil || got != want {
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "https://", "http://example.com", "https://user:pw@x.com", "gopher://x"} {
		if got, err := jobsapi.NormalizeHost(in); err == nil {
			t.Errorf("NormalizeHost(%q) = %q, want an error", in, got)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("NormalizeHost(%q) error leaks the password: %v", in, err)
		}
	}
}
