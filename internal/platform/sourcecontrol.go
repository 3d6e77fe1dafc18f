package platform

import (
	"fmt"
	"strconv"
	"strings"
)

// Retool's source control providers, as its API spells them.
const (
	providerGitHub     = "GitHub"
	providerGitLab     = "GitLab"
	providerBitbucket  = "Bitbucket"
	providerAzureRepos = "Azure Repos"
	providerCodeCommit = "AWS CodeCommit"
)

// retoolProviders maps spec.sourceControl.provider to the provider name
// Retool's source control API takes (and answers).
var retoolProviders = map[string]string{
	"GitHub":        providerGitHub,
	"GitLab":        providerGitLab,
	"Bitbucket":     providerBitbucket,
	"AzureRepos":    providerAzureRepos,
	"AWSCodeCommit": providerCodeCommit,
}

// RetoolProvider is Retool's name for a spec.sourceControl.provider ("AzureRepos":
// "Azure Repos"); false when Retool has none ("Git").
func RetoolProvider(provider string) (string, bool) {
	p, ok := retoolProviders[provider]
	return p, ok
}

// credentialKey is one field of a provider's configuration.
type credentialKey struct {
	name     string
	required bool
	kind     valueKind
}

type valueKind uint8

const (
	text valueKind = iota
	number
	boolean
)

// credentialSchema is one shape of a provider's configuration, as Retool's
// OpenAPI document closes it (additionalProperties: false). typ, when set,
// is the value of the config's "type" field that selects this shape.
type credentialSchema struct {
	typ  string
	keys []credentialKey
}

func req(name string) credentialKey { return credentialKey{name: name, required: true} }
func opt(name string) credentialKey { return credentialKey{name: name} }

// credentialSchemas are each provider's configuration shapes (Retool's
// spelling), in the order they are tried when the Secret does not name its
// type.
var credentialSchemas = map[string][]credentialSchema{
	providerGitHub: {
		{typ: "App", keys: []credentialKey{req("app_id"), req("installation_id"), req("private_key"), opt("url"), opt("enterprise_api_url")}},
		{typ: "Personal", keys: []credentialKey{req("personal_access_token"), opt("url"), opt("enterprise_api_url")}},
	},
	providerGitLab: {
		{keys: []credentialKey{{name: "project_id", required: true, kind: number}, req("url"), req("project_access_token")}},
	},
	providerBitbucket: {
		{typ: "Token", keys: []credentialKey{req("token"), opt("url"), opt("enterprise_api_url")}},
		{keys: []credentialKey{req("username"), req("app_password"), opt("url"), opt("enterprise_api_url")}},
	},
	providerAzureRepos: {
		{keys: []credentialKey{req("url"), req("project"), req("user"), req("personal_access_token"), {name: "use_basic_auth", kind: boolean}}},
	},
	providerCodeCommit: {
		{keys: []credentialKey{req("url"), req("region"), req("access_key_id"), req("secret_access_key"), req("https_username"), req("https_password")}},
	},
}

// SourceControlCredentials is the provider configuration Retool's
// /source_control/config takes for provider (Retool's spelling, as
// Desired.SourceControl.Provider has it), read from the credentials
// Secret's data: only the keys of the provider's schema (the Secret may hold
// others, such as the git credentials releases are resolved with), each
// typed as Retool's document types it (GitLab project_id a number, Azure
// Repos use_basic_auth a boolean, false when absent). GitHub's and
// Bitbucket's "type" is taken from the Secret, or from the keys it holds.
//
// It answers nil when the Secret holds none of the provider's keys (the
// instance's source control is then left as it is), and an error naming
// the keys when the Secret holds some but not a whole configuration, or a
// value of the wrong type.
func SourceControlCredentials(provider string, data map[string][]byte) (map[string]any, error) {
	schemas, ok := credentialSchemas[provider]
	if !ok {
		return nil, fmt.Errorf("provider %q: the platform's source control has no such provider", provider)
	}
	typ := strings.TrimSpace(string(data["type"]))
	var best *credentialSchema
	var bestMissing []string
	for i := range schemas {
		s := &schemas[i]
		if typ != "" && s.typ != typ {
			continue
		}
		var missing []string
		held := 0
		for _, k := range s.keys {
			if _, ok := data[k.name]; ok {
				held++
			} else if k.required {
				missing = append(missing, k.name)
			}
		}
		if held == 0 && typ == "" {
			continue
		}
		if len(missing) == 0 {
			return typedConfig(provider, *s, data)
		}
		if best == nil || len(missing) < len(bestMissing) {
			best, bestMissing = s, missing
		}
	}
	if typ != "" && best == nil {
		var types []string
		for _, s := range schemas {
			if s.typ != "" {
				types = append(types, s.typ)
			}
		}
		if len(types) == 0 {
			return nil, fmt.Errorf("key type: %s takes no type (got %q)", provider, typ)
		}
		return nil, fmt.Errorf("key type: %s takes type %s (got %q)", provider, strings.Join(types, " or "), typ)
	}
	if best == nil {
		return nil, nil
	}
	shape := provider
	if best.typ != "" {
		shape += " (type " + best.typ + ")"
	}
	return nil, fmt.Errorf("%s needs key(s) %s, missing from the Secret", shape, strings.Join(bestMissing, ", "))
}

func typedConfig(provider string, s credentialSchema, data map[string][]byte) (map[string]any, error) {
	cfg := make(map[string]any, len(s.keys)+1)
	if s.typ != "" {
		cfg["type"] = s.typ
	}
	for _, k := range s.keys {
		raw, ok := data[k.name]
		switch {
		case !ok && k.kind == boolean:
			cfg[k.name] = false
		case !ok:
		case k.kind == number:
			v := strings.TrimSpace(string(raw))
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("key %s: %s wants a number, got %q", k.name, provider, v)
			}
			cfg[k.name] = n
		case k.kind == boolean:
			v := strings.TrimSpace(string(raw))
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("key %s: %s wants true or false, got %q", k.name, provider, v)
			}
			cfg[k.name] = b
		default:
			cfg[k.name] = string(raw)
		}
	}
	return cfg, nil
}
