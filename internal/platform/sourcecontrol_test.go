package platform

import (
	"reflect"
	"strings"
	"testing"
)

func TestProjectSpellsProvidersAsRetool(t *testing.T) {
	snap := space(t)
	for provider, want := range map[string]string{"GitHub": "GitHub", "GitLab": "GitLab", "Bitbucket": "Bitbucket", "AzureRepos": "Azure Repos", "AWSCodeCommit": "AWS CodeCommit"} {
		d, err := Project(snap, Environment{Name: "development"}, &SpaceSource{Provider: provider, Repository: "https://git.example.com/acme/apps.git"})
		if err != nil {
			t.Fatal(err)
		}
		if d.SourceControl == nil || d.SourceControl.Provider != want {
			t.Errorf("%s: source control %+v, want provider %q", provider, d.SourceControl, want)
		}
	}
	d, err := Project(snap, Environment{Name: "development"}, &SpaceSource{Provider: "Git", Repository: "https://git.example.com/acme/apps.git"})
	if err != nil {
		t.Fatal(err)
	}
	if d.SourceControl != nil || len(d.NotExpressible) != 1 || !strings.Contains(d.NotExpressible[0], `provider "Git"`) {
		t.Errorf("a plain Git repository has no Retool provider: %+v %q", d.SourceControl, d.NotExpressible)
	}
	// The instance answers Retool's spelling: at rest, nothing is written.
	d, _ = Project(snap, Environment{Name: "development"}, &SpaceSource{Provider: "AzureRepos", Repository: "https://dev.azure.com/acme/apps"})
	o := converged()
	o.SourceControl = &SourceControl{Provider: "Azure Repos", Org: "acme", Repo: "apps", Branch: "main"}
	if p := NewPlan(d, o, Options{}); len(p.Ops) != 0 {
		t.Errorf("at rest: %v", p.Ops)
	}
}

func TestSourceControlCredentials(t *testing.T) {
	secret := func(kv ...string) map[string][]byte {
		m := map[string][]byte{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = []byte(kv[i+1])
		}
		return m
	}
	// Every Secret may also hold the git credentials releases use.
	git := []string{"username", "git", "password", "p", "identity", "k", "known_hosts", "h"}
	cases := map[string]struct {
		provider string
		data     map[string][]byte
		want     map[string]any
		err      string
	}{
		"GitHub personal token, type inferred": {
			provider: "GitHub", data: secret(append([]string{"personal_access_token", "ghp_x"}, git...)...),
			want: map[string]any{"type": "Personal", "personal_access_token": "ghp_x"},
		},
		"GitHub App on GitHub Enterprise": {
			provider: "GitHub", data: secret("type", "App", "app_id", "1", "installation_id", "2", "private_key", "LS0t", "url", "https://ghe.example.com", "token", "t"),
			want: map[string]any{"type": "App", "app_id": "1", "installation_id": "2", "private_key": "LS0t", "url": "https://ghe.example.com"},
		},
		"GitHub App missing its key": {
			provider: "GitHub", data: secret("app_id", "1", "installation_id", "2"),
			err: "GitHub (type App) needs key(s) private_key, missing from the Secret",
		},
		"GitHub with an unknown type": {
			provider: "GitHub", data: secret("type", "OAuth", "personal_access_token", "x"),
			err: `key type: GitHub takes type App or Personal (got "OAuth")`,
		},
		"GitLab project_id is a number": {
			provider: "GitLab", data: secret("project_id", " 4242\n", "url", "https://gitlab.com", "project_access_token", "glpat", "username", "git"),
			want: map[string]any{"project_id": int64(4242), "url": "https://gitlab.com", "project_access_token": "glpat"},
		},
		"GitLab project_id that is not a number": {
			provider: "GitLab", data: secret("project_id", "acme/apps", "url", "https://gitlab.com", "project_access_token", "glpat"),
			err: `key project_id: GitLab wants a number, got "acme/apps"`,
		},
		"Bitbucket app password": {
			provider: "Bitbucket", data: secret("username", "bb", "app_password", "pw", "password", "git"),
			want: map[string]any{"username": "bb", "app_password": "pw"},
		},
		"Bitbucket API token": {
			provider: "Bitbucket", data: secret("token", "bbt", "url", "https://bitbucket.example.com"),
			want: map[string]any{"type": "Token", "token": "bbt", "url": "https://bitbucket.example.com"},
		},
		"Azure Repos use_basic_auth is a boolean": {
			provider: "Azure Repos", data: secret("url", "https://dev.azure.com", "project", "apps", "user", "me", "personal_access_token", "pat", "use_basic_auth", "true"),
			want: map[string]any{"url": "https://dev.azure.com", "project": "apps", "user": "me", "personal_access_token": "pat", "use_basic_auth": true},
		},
		"Azure Repos without use_basic_auth: false": {
			provider: "Azure Repos", data: secret("url", "https://dev.azure.com", "project", "apps", "user", "me", "personal_access_token", "pat"),
			want: map[string]any{"url": "https://dev.azure.com", "project": "apps", "user": "me", "personal_access_token": "pat", "use_basic_auth": false},
		},
		"Azure Repos use_basic_auth that is not a boolean": {
			provider: "Azure Repos", data: secret("url", "u", "project", "p", "user", "me", "personal_access_token", "pat", "use_basic_auth", "sometimes"),
			err: `key use_basic_auth: Azure Repos wants true or false, got "sometimes"`,
		},
		"AWS CodeCommit": {
			provider: "AWS CodeCommit", data: secret("url", "https://git-codecommit.eu-west-1.amazonaws.com", "region", "eu-west-1", "access_key_id", "AK", "secret_access_key", "SK", "https_username", "u", "https_password", "p"),
			want: map[string]any{"url": "https://git-codecommit.eu-west-1.amazonaws.com", "region": "eu-west-1", "access_key_id": "AK", "secret_access_key": "SK", "https_username": "u", "https_password": "p"},
		},
		"AWS CodeCommit partly configured": {
			provider: "AWS CodeCommit", data: secret("region", "eu-west-1"),
			err: "AWS CodeCommit needs key(s) url, access_key_id, secret_access_key, https_username, https_password, missing from the Secret",
		},
		"no provider keys at all: nothing to write": {provider: "GitLab", data: secret(git...)},
		"a provider Retool does not know":           {provider: "AzureRepos", data: secret("url", "u"), err: `provider "AzureRepos": the platform's source control has no such provider`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := SourceControlCredentials(tc.provider, tc.data)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("config = %#v\nwant %#v", got, tc.want)
			}
		})
	}
}
