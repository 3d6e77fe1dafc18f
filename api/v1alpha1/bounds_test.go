package v1alpha1_test

import (
	"fmt"
	"strings"
)

// invalidCase is a manifest the API server must refuse, and what its error
// must mention (the field at fault first).
type invalidCase struct {
	manifest string
	want     []string
}

func space(name, spec string) string {
	return fmt.Sprintf("apiVersion: governor.dev/v1alpha1\nkind: Space\nmetadata: {name: %q}\nspec: %s", name, spec)
}

func group(name, spec string) string {
	return fmt.Sprintf("apiVersion: governor.dev/v1alpha1\nkind: PermissionGroup\nmetadata: {name: %s}\nspec: %s", name, spec)
}

func rule(name, spec string) string {
	return fmt.Sprintf("apiVersion: governor.dev/v1alpha1\nkind: AccessRule\nmetadata: {name: %s}\nspec: %s", name, spec)
}

func release(name, spec string) string {
	return fmt.Sprintf("apiVersion: governor.dev/v1alpha1\nkind: Release\nmetadata: {name: %s}\nspec: %s", name, spec)
}

// long is a string of n letters.
func long(n int) string { return strings.Repeat("a", n) }

// list is a JSON array of n items made by item(i).
func list(n int, item func(i int) string) string {
	items := make([]string, n)
	for i := range items {
		items[i] = item(i)
	}
	return "[" + strings.Join(items, ", ") + "]"
}

// instance is a Space spec with one environment whose instance is inst.
func instance(inst string) string {
	return fmt.Sprintf("{environments: [{name: production, instance: %s}]}", inst)
}

// boundCases refuses one value past every bound, pattern and rule of the
// API's fields.
func boundCases() map[string]invalidCase {
	tok := "tokenSecretRef: {name: retool-token}"
	return map[string]invalidCase{
		// Space: its name becomes a namespace and a label value.
		"space name too long":             {space(long(64), "{}"), []string{"metadata.name", "DNS label"}},
		"space name with a dot":           {space("team.a", "{}"), []string{"metadata.name", "DNS label"}},
		"space named kube-* unqualified":  {space("kube-public", "{}"), []string{"metadata.name", "never governed"}},
		"space namespace kube-system":     {space("sys", "{namespace: kube-system}"), []string{"spec.namespace", "never governed"}},
		"space namespace default":         {space("dflt", "{namespace: default}"), []string{"spec.namespace", "never governed"}},
		"space namespace too long":        {space("ns-long", fmt.Sprintf("{namespace: %s}", long(64))), []string{"spec.namespace", "63"}},
		"space displayName too long":      {space("dn-long", fmt.Sprintf("{displayName: %s}", long(129))), []string{"spec.displayName", "128"}},
		"space inheritFrom invalid":       {space("inherit-bad", "{inheritFrom: Hub_1}"), []string{"spec.inheritFrom"}},
		"space inheritFrom too long":      {space("inherit-long", fmt.Sprintf("{inheritFrom: %s}", long(254))), []string{"spec.inheritFrom", "253"}},
		"space too many admins":           {space("admins-many", fmt.Sprintf("{admins: %s}", list(65, func(i int) string { return fmt.Sprintf("{kind: User, name: u%d}", i) }))), []string{"spec.admins", "at most 64"}},
		"space admin name too long":       {space("admin-long", fmt.Sprintf("{admins: [{kind: User, name: %s}]}", long(254))), []string{"spec.admins[0].name", "253"}},
		"space admin name empty":          {space("admin-empty", `{admins: [{kind: User, name: ""}]}`), []string{"spec.admins[0].name"}},
		"space too many environments":     {space("envs-many", fmt.Sprintf("{environments: %s}", list(33, func(i int) string { return fmt.Sprintf("{name: e%d}", i) }))), []string{"spec.environments", "at most 32"}},
		"space environment name too long": {space("env-long", fmt.Sprintf("{environments: [{name: %s}]}", long(64))), []string{"spec.environments[0].name", "63"}},
		"space branch too long":           {space("branch-long", fmt.Sprintf("{environments: [{name: production, readOnly: true, branch: %s}]}", long(256))), []string{"spec.environments[0].branch", "255"}},
		// The platform instance of an environment.
		"instance url not http":           {space("url-ftp", instance("{url: ftp://retool.example.com, "+tok+"}")), []string{"spec.environments[0].instance.url", "http:// or https://"}},
		"instance url not a URL":          {space("url-bad", instance("{url: 'https://exa mple.com', "+tok+"}")), []string{"spec.environments[0].instance.url"}},
		"instance url missing":            {space("url-missing", instance("{"+tok+"}")), []string{"spec.environments[0].instance.url", "Required"}},
		"instance url too long":           {space("url-long", instance("{url: https://"+long(2048)+".example.com, "+tok+"}")), []string{"spec.environments[0].instance.url", "2048"}},
		"instance domain invalid":         {space("domain-bad", instance("{url: https://retool.example.com, domain: Bad_Domain, "+tok+"}")), []string{"spec.environments[0].instance.domain"}},
		"instance domain too long":        {space("domain-long", instance("{url: https://retool.example.com, domain: "+long(254)+", "+tok+"}")), []string{"spec.environments[0].instance.domain", "253"}},
		"instance token missing":          {space("token-missing", instance("{url: https://retool.example.com}")), []string{"spec.environments[0].instance.tokenSecretRef", "Required"}},
		"instance token name invalid":     {space("token-bad", instance("{url: https://retool.example.com, tokenSecretRef: {name: Bad_Name}}")), []string{"spec.environments[0].instance.tokenSecretRef.name"}},
		"instance token name missing":     {space("token-noname", instance("{url: https://retool.example.com, tokenSecretRef: {key: token}}")), []string{"spec.environments[0].instance.tokenSecretRef.name", "Required"}},
		"instance token name too long":    {space("token-long", instance("{url: https://retool.example.com, tokenSecretRef: {name: "+long(254)+"}}")), []string{"spec.environments[0].instance.tokenSecretRef.name", "253"}},
		"instance token key invalid":      {space("key-bad", instance("{url: https://retool.example.com, tokenSecretRef: {name: t, key: 'a key'}}")), []string{"spec.environments[0].instance.tokenSecretRef.key"}},
		"platform mode unknown":           {space("mode-bad", "{platform: {mode: Delete}}"), []string{"spec.platform.mode", "Unsupported value"}},
		"platform deletionPolicy unknown": {space("policy-bad", "{platform: {deletionPolicy: Purge}}"), []string{"spec.platform.deletionPolicy", "Unsupported value"}},
		// Source control.
		"space repository missing":            {space("repo-missing", "{sourceControl: {provider: GitHub}}"), []string{"spec.sourceControl.repository", "Required"}},
		"space repository too long":           {space("repo-long", "{sourceControl: {provider: GitHub, repository: https://"+long(2048)+"}}"), []string{"spec.sourceControl.repository", "2048"}},
		"space default branch too long":       {space("default-branch-long", "{sourceControl: {provider: GitHub, repository: https://example.com/r.git, defaultBranch: "+long(256)+"}}"), []string{"spec.sourceControl.defaultBranch", "255"}},
		"space credentials secret name empty": {space("creds-empty", `{sourceControl: {provider: GitHub, repository: https://example.com/r.git, credentialsSecretRef: {name: ""}}}`), []string{"spec.sourceControl.credentialsSecretRef.name"}},
		// SSO.
		"space too many role mappings":   {space("mappings-many", "{sso: {roleMappings: "+list(1025, func(i int) string { return fmt.Sprintf("{idpGroup: g%d, group: admin}", i) })+"}}"), []string{"spec.sso.roleMappings", "at most 1024"}},
		"space idpGroup too long":        {space("idp-long", "{sso: {roleMappings: [{idpGroup: "+long(257)+", group: admin}]}}"), []string{"spec.sso.roleMappings[0].idpGroup", "256"}},
		"space idpGroup empty":           {space("idp-empty", `{sso: {roleMappings: [{idpGroup: "", group: admin}]}}`), []string{"spec.sso.roleMappings[0].idpGroup"}},
		"space mapped group too long":    {space("mapped-long", "{sso: {roleMappings: [{idpGroup: x, group: "+long(254)+"}]}}"), []string{"spec.sso.roleMappings[0].group", "253"}},
		"space too many JIT domains":     {space("jit-many", "{sso: {jit: {allowedDomains: "+list(65, func(i int) string { return fmt.Sprintf("d%d.example", i) })+"}}}"), []string{"spec.sso.jit.allowedDomains", "at most 64"}},
		"space JIT domain too long":      {space("jit-long", "{sso: {jit: {allowedDomains: ["+long(254)+"]}}}"), []string{"spec.sso.jit.allowedDomains[0]", "253"}},
		"space JIT domain twice":         {space("jit-dup", "{sso: {jit: {allowedDomains: [example.com, example.com]}}}"), []string{"spec.sso.jit.allowedDomains[1]", "Duplicate value"}},
		"space JIT domain not ASCII":     {space("jit-idn", "{sso: {jit: {allowedDomains: [bücher.example]}}}"), []string{"spec.sso.jit.allowedDomains[0]"}},
		"space admin subject kind empty": {space("admin-nokind", "{admins: [{name: alice}]}"), []string{"spec.admins[0].kind", "Required"}},
		// PermissionGroup.
		"group displayName too long":        {group("dn-long", fmt.Sprintf("{displayName: %s}", long(129))), []string{"spec.displayName", "128"}},
		"group member email Kelvin sign":    {group("kelvin", "{members: [{email: \"\u212Aarl@example.com\"}]}"), []string{"spec.members[0].email"}},
		"group member email Unicode domain": {group("idn-member", "{members: [{email: ana@bücher.example}]}"), []string{"spec.members[0].email"}},
		"group member email with a space":   {group("space-member", "{members: [{email: 'a b@example.com'}]}"), []string{"spec.members[0].email"}},
		"group member email too long":       {group("long-member", "{members: [{email: a@"+long(253)+"}]}"), []string{"spec.members[0].email", "254"}},
		"group member without email":        {group("no-email", "{members: [{groupAdmin: true}]}"), []string{"spec.members[0].email", "Required"}},
		"group too many members":            {group("crowd", "{members: "+list(5001, func(i int) string { return fmt.Sprintf("{email: u%d@example.com}", i) })+"}"), []string{"spec.members", "at most 5000"}},
		"group too many idpGroups":          {group("idps-many", "{idpGroups: "+list(257, func(i int) string { return fmt.Sprintf("g%d", i) })+"}"), []string{"spec.idpGroups", "at most 256"}},
		"group idpGroup empty":              {group("idp-empty", `{idpGroups: [""]}`), []string{"spec.idpGroups[0]"}},
		"group idpGroup too long":           {group("idp-long", "{idpGroups: ["+long(257)+"]}"), []string{"spec.idpGroups[0]", "256"}},
		"group idpGroup twice":              {group("idp-dup", "{idpGroups: [eng, eng]}"), []string{"spec.idpGroups[1]", "Duplicate value"}},
		"group idpGroups on AllUsers":       {group("all-users-idp", "{builtin: AllUsers, idpGroups: [eng]}"), []string{"idpGroups: the AllUsers group"}},
		"group universal workflows unknown": {group("wf-level", "{universal: {workflows: Admin}}"), []string{"spec.universal.workflows", "Unsupported value"}},
		"group universal resources unknown": {group("res-level", "{universal: {resources: Read}}"), []string{"spec.universal.resources", "Unsupported value"}},
		// AccessRule.
		"rule folder path with ..":        {rule("dotdot", "{group: g, level: Use, targets: [{kind: Folder, folderType: App, name: finance/../hr}]}"), []string{"spec.targets[0].name", "'.' or '..'"}},
		"rule folder path with .":         {rule("dot", "{group: g, level: Use, targets: [{kind: Folder, folderType: App, name: ./finance}]}"), []string{"spec.targets[0].name", "'.' or '..'"}},
		"rule folder path empty segment":  {rule("empty-seg", "{group: g, level: Use, targets: [{kind: Folder, folderType: App, name: finance//hr}]}"), []string{"spec.targets[0].name"}},
		"rule folder path trailing slash": {rule("trailing", "{group: g, level: Use, targets: [{kind: Folder, folderType: App, name: finance/}]}"), []string{"spec.targets[0].name"}},
		"rule target name too long":       {rule("name-long", "{group: g, level: Use, targets: [{kind: App, name: "+long(513)+"}]}"), []string{"spec.targets[0].name", "512"}},
		"rule target name empty":          {rule("name-empty", `{group: g, level: Use, targets: [{kind: App, name: ""}]}`), []string{"spec.targets[0].name"}},
		"rule too many targets":           {rule("targets-many", "{group: g, level: Use, targets: "+list(257, func(i int) string { return fmt.Sprintf("{kind: App, name: a%d}", i) })+"}"), []string{"spec.targets", "at most 256"}},
		"rule group too long":             {rule("group-long", "{group: "+long(254)+", level: Use, targets: [{kind: App, name: a}]}"), []string{"spec.group", "253"}},
		"rule group empty":                {rule("group-empty", `{group: "", level: Use, targets: [{kind: App, name: a}]}`), []string{"spec.group"}},
		"rule level unknown":              {rule("level-bad", "{group: g, level: Admin, targets: [{kind: App, name: a}]}"), []string{"spec.level", "Unsupported value"}},
		"rule folderType unknown":         {rule("ftype-bad", "{group: g, level: Use, targets: [{kind: Folder, folderType: Query, name: f}]}"), []string{"spec.targets[0].folderType", "Unsupported value"}},
		"rule too many environments":      {rule("envs-many", "{group: g, level: Use, targets: [{kind: Resource, name: db, environments: "+list(33, func(i int) string { return fmt.Sprintf("{name: e%d, level: Use}", i) })+"}]}"), []string{"spec.targets[0].environments", "at most 32"}},
		"rule environment name too long":  {rule("env-long", "{group: g, level: Use, targets: [{kind: Resource, name: db, environments: [{name: "+long(64)+", level: Use}]}]}"), []string{"spec.targets[0].environments[0].name", "63"}},
		"rule environment twice":          {rule("env-dup", "{group: g, level: Use, targets: [{kind: Resource, name: db, environments: [{name: p, level: Use}, {name: p, level: Own}]}]}"), []string{"spec.targets[0].environments[1]", "Duplicate value"}},
		"rule environment without level":  {rule("env-nolevel", "{group: g, level: Use, targets: [{kind: Resource, name: db, environments: [{name: p}]}]}"), []string{"spec.targets[0].environments[0].level", "Required"}},
		// Release.
		"release app with a slash":     {release("app-slash", "{app: a/b, version: 1.0.0, ref: v1}"), []string{"spec.app"}},
		"release app too long":         {release("app-long", "{app: "+long(254)+", version: 1.0.0, ref: v1}"), []string{"spec.app", "253"}},
		"release version too long":     {release("version-long", "{app: a, version: 1.0.0-"+long(128)+", ref: v1}"), []string{"spec.version", "128"}},
		"release ref too long":         {release("ref-long", "{app: a, version: 1.0.0, ref: "+long(256)+"}"), []string{"spec.ref", "255"}},
		"release description too long": {release("desc-long", "{app: a, version: 1.0.0, ref: v1, description: "+long(4097)+"}"), []string{"spec.description", "4096"}},
	}
}
