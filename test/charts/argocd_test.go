package charts_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

// The layout of Argo CD's resource_customizations: <group>/<Kind>/health.lua,
// health_test.yaml and testdata/.
var customizations = filepath.Join("config", "argocd", "resource_customizations")

var governorKinds = []string{"Space", "PermissionGroup", "AccessRule", "Release"}

type healthTests struct {
	Tests []struct {
		InputPath    string `json:"inputPath"`
		HealthStatus struct {
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"healthStatus"`
	} `json:"tests"`
}

// runHealth runs a health script on an object the way Argo CD does for a
// script from argocd-cm: only the package, base and table libraries (no
// string, os or io, unless resource.customizations.useOpenLibs is set, which
// Governor's scripts do not need), the object as the global `obj`, a time
// limit, and the returned table read as {status, message}.
func runHealth(script string, obj map[string]any) (status, message string, err error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return "", "", err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return "", "", err
	}
	ret, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return "", "", fmt.Errorf("the script returned %s, not a table", l.Get(-1).Type())
	}
	status = lua.LVAsString(ret.RawGetString("status"))
	message = lua.LVAsString(ret.RawGetString("message"))
	switch status {
	case "Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown":
	default:
		return status, message, fmt.Errorf("invalid health status %q", status)
	}
	return status, message, nil
}

// toLua converts a decoded object as Argo CD's decodeValue does.
func toLua(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for k, item := range v {
			t.RawSetH(lua.LString(k), toLua(l, item))
		}
		return t
	}
	return lua.LNil
}

func TestArgoCDHealthChecks(t *testing.T) {
	dir := filepath.Join(root, customizations, "governor.dev")
	for _, kind := range governorKinds {
		t.Run(kind, func(t *testing.T) {
			kindDir := filepath.Join(dir, kind)
			script, err := os.ReadFile(filepath.Join(kindDir, "health.lua"))
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(kindDir, "health_test.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var tests healthTests
			if err := yaml.UnmarshalStrict(data, &tests); err != nil {
				t.Fatalf("health_test.yaml: %v", err)
			}
			seen := map[string]bool{}
			statuses := map[string]bool{}
			for _, tc := range tests.Tests {
				seen[filepath.Clean(tc.InputPath)] = true
				statuses[tc.HealthStatus.Status] = true
				t.Run(strings.TrimSuffix(filepath.Base(tc.InputPath), ".yaml"), func(t *testing.T) {
					input, err := os.ReadFile(filepath.Join(kindDir, tc.InputPath))
					if err != nil {
						t.Fatal(err)
					}
					var obj map[string]any
					if err := yaml.Unmarshal(input, &obj); err != nil {
						t.Fatal(err)
					}
					if obj["kind"] != kind || obj["apiVersion"] != "governor.dev/v1alpha1" {
						t.Fatalf("%s is a %v %v, not a governor.dev/v1alpha1 %s", tc.InputPath, obj["apiVersion"], obj["kind"], kind)
					}
					status, message, err := runHealth(string(script), obj)
					if err != nil {
						t.Fatal(err)
					}
					if status != tc.HealthStatus.Status || message != tc.HealthStatus.Message {
						t.Errorf("got %s %q, want %s %q", status, message, tc.HealthStatus.Status, tc.HealthStatus.Message)
					}
				})
			}
			for _, s := range []string{"Healthy", "Progressing", "Degraded"} {
				if !statuses[s] {
					t.Errorf("health_test.yaml has no %s case", s)
				}
			}
			files, _ := filepath.Glob(filepath.Join(kindDir, "testdata", "*.yaml"))
			for _, f := range files {
				if rel, _ := filepath.Rel(kindDir, f); !seen[rel] {
					t.Errorf("%s is not used by health_test.yaml", rel)
				}
			}
		})
	}
}

// TestArgoCDHealthScriptsAgree: the four kinds share one health contract, so
// their scripts are the same file, and docs/argocd/argocd-cm.yaml ships them
// verbatim.
func TestArgoCDHealthScriptsAgree(t *testing.T) {
	dir := filepath.Join(root, customizations, "governor.dev")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range entries {
		kinds = append(kinds, e.Name())
	}
	slices.Sort(kinds)
	want := slices.Clone(governorKinds)
	slices.Sort(want)
	if !slices.Equal(kinds, want) {
		t.Errorf("health checks for %v, want %v", kinds, want)
	}
	first, err := os.ReadFile(filepath.Join(dir, governorKinds[0], "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range governorKinds[1:] {
		other, _ := os.ReadFile(filepath.Join(dir, kind, "health.lua"))
		if !bytes.Equal(first, other) {
			t.Errorf("%s/health.lua differs from %s/health.lua", kind, governorKinds[0])
		}
	}

	data, err := os.ReadFile(filepath.Join(root, "docs", "argocd", "argocd-cm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Kind string            `json:"kind"`
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(data, &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Kind != "ConfigMap" {
		t.Errorf("docs/argocd/argocd-cm.yaml is a %q, not a ConfigMap", cm.Kind)
	}
	for _, kind := range governorKinds {
		key := "resource.customizations.health.governor.dev_" + kind
		script, _ := os.ReadFile(filepath.Join(dir, kind, "health.lua"))
		if got, ok := cm.Data[key]; !ok {
			t.Errorf("docs/argocd/argocd-cm.yaml has no %s", key)
		} else if got != string(script) {
			t.Errorf("docs/argocd/argocd-cm.yaml: %s differs from %s/%s/health.lua", key, customizations, kind)
		}
	}
}

// TestArgoCDExamples: docs/argocd/applications.yaml parses and holds the hub
// Application and the per-Space ApplicationSet.
func TestArgoCDExamples(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "docs", "argocd", "applications.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var o struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("%v in:\n%s", err, doc)
		}
		if o.Kind == "" {
			continue
		}
		if o.APIVersion != "argoproj.io/v1alpha1" {
			t.Errorf("%s has apiVersion %q", o.Kind, o.APIVersion)
		}
		kinds[o.Kind]++
	}
	if kinds["Application"] < 2 || kinds["ApplicationSet"] != 1 {
		t.Errorf("want the operator and hub Applications and one ApplicationSet, got %v", kinds)
	}
}
