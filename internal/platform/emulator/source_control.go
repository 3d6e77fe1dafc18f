package emulator

import (
	"fmt"
	"net/http"
	"slices"
)

// Source control settings and configuration (/source_control).

func (s *Server) getSettings(sp *space, _ *http.Request, _ []byte) (int, any) {
	return ok(sp.settings)
}

func (s *Server) putSettings(sp *space, _ *http.Request, body []byte) (int, any) {
	var in struct {
		Settings *struct {
			AutoBranchNamingEnabled          *bool   `json:"auto_branch_naming_enabled"`
			CustomPullRequestTemplateEnabled *bool   `json:"custom_pull_request_template_enabled"`
			CustomPullRequestTemplate        *string `json:"custom_pull_request_template"`
			VersionControlLocked             *bool   `json:"version_control_locked"`
			ForceUUIDMapping                 *bool   `json:"force_uuid_mapping"`
			AutoCleanupBranchesEnabled       *bool   `json:"auto_cleanup_branches_enabled"`
		} `json:"settings"`
	}
	if err := decode(body, &in, true); err != nil {
		return badBody(err)
	}
	if in.Settings == nil {
		return fail(http.StatusBadRequest, "settings is required")
	}
	st := &sp.settings
	for _, f := range []struct {
		in  *bool
		out *bool
	}{
		{in.Settings.AutoBranchNamingEnabled, &st.AutoBranchNamingEnabled},
		{in.Settings.CustomPullRequestTemplateEnabled, &st.CustomPullRequestTemplateEnabled},
		{in.Settings.VersionControlLocked, &st.VersionControlLocked},
		{in.Settings.ForceUUIDMapping, &st.ForceUUIDMapping},
		{in.Settings.AutoCleanupBranchesEnabled, &st.AutoCleanupBranchesEnabled},
	} {
		if f.in != nil {
			*f.out = *f.in
		}
	}
	if in.Settings.CustomPullRequestTemplate != nil {
		st.CustomPullRequestTemplate = *in.Settings.CustomPullRequestTemplate
	}
	return ok(*st)
}

// secrets are the provider credentials Retool answers encrypted.
var secrets = []string{"private_key", "personal_access_token", "project_access_token", "access_key_id", "secret_access_key",
	"https_password", "app_password", "token"}

var providers = []string{"GitHub", "GitLab", "AWS CodeCommit", "Bitbucket", "Azure Repos"}

func configView(c *scConfig) scConfig {
	out := *c
	out.Config = map[string]any{}
	for k, v := range c.Config {
		if slices.Contains(secrets, k) {
			v = "---encrypted-on-server---"
		}
		out.Config[k] = v
	}
	return out
}

func (s *Server) getConfig(sp *space, _ *http.Request, _ []byte) (int, any) {
	if sp.config == nil {
		return fail(http.StatusNotFound, "Source control is not configured for this space")
	}
	return ok(configView(sp.config))
}

func decodeConfig(body []byte) (*scConfig, error) {
	var in struct {
		Config *struct {
			scConfig
			Config map[string]any `json:"config"`
		} `json:"config"`
	}
	if err := decode(body, &in, true); err != nil {
		return nil, err
	}
	c := in.Config
	if c == nil {
		return nil, fmt.Errorf("config is required")
	}
	if err := enumErr("config.provider", c.Provider, providers); err != nil {
		return nil, err
	}
	for field, v := range map[string]string{"config.org": c.Org, "config.repo": c.Repo, "config.default_branch": c.DefaultBranch} {
		if v == "" {
			return nil, fmt.Errorf("%s is required", field)
		}
	}
	if c.Config == nil {
		return nil, fmt.Errorf("config.config (the provider's credentials) is required")
	}
	out := c.scConfig
	out.Config = c.Config
	return &out, nil
}

func (s *Server) postConfig(sp *space, _ *http.Request, body []byte) (int, any) {
	c, err := decodeConfig(body)
	if err != nil {
		return badBody(err)
	}
	if sp.config != nil {
		return fail(http.StatusConflict, "Source control configuration already exists")
	}
	sp.config = c
	return ok(configView(c))
}

func (s *Server) putConfig(sp *space, _ *http.Request, body []byte) (int, any) {
	c, err := decodeConfig(body)
	if err != nil {
		return badBody(err)
	}
	created := sp.config == nil
	sp.config = c
	st, b := ok(configView(c))
	if created {
		st = http.StatusCreated
	}
	return st, b
}

func (s *Server) deleteConfig(sp *space, _ *http.Request, _ []byte) (int, any) {
	if sp.config == nil {
		return fail(http.StatusNotFound, "Source control is not configured for this space")
	}
	sp.config = nil
	return http.StatusNoContent, nil
}
