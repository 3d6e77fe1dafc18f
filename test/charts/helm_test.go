package charts_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/yaml"
)

// chart is one of the repository's charts with the release it renders as.
type chart struct {
	name      string // directory under charts/
	release   string
	namespace string
}

var (
	operatorChart  = chart{name: "governor", release: "governor", namespace: "governor-system"}
	instancesChart = chart{name: "instances", release: "retool", namespace: "retool"}
)

func (c chart) dir() string { return filepath.Join(root, "charts", c.name) }

// valuesFile is a values file of the chart's ci/ directory.
func (c chart) valuesFile(name string) string { return filepath.Join(c.dir(), "ci", name) }

// helm runs Helm with a clean configuration and returns its stdout, or an
// error carrying its stderr.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBin, args...)
	home := t.TempDir()
	cmd.Env = append(cmd.Environ(),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// template renders the chart with the values files and extra arguments.
func template(t *testing.T, c chart, valuesFiles []string, extra ...string) (string, error) {
	t.Helper()
	args := []string{"template", c.release, c.dir(), "--namespace", c.namespace}
	for _, f := range valuesFiles {
		args = append(args, "--values", f)
	}
	return helm(t, append(args, extra...)...)
}

// mustTemplate is template that fails the test on an error.
func mustTemplate(t *testing.T, c chart, valuesFiles []string, extra ...string) string {
	t.Helper()
	out, err := template(t, c, valuesFiles, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// objects decodes a multi-document render into objects, skipping empty documents.
func objects(t *testing.T, rendered string) []*unstructured.Unstructured {
	t.Helper()
	dec := yaml.NewYAMLOrJSONDecoder(strings.NewReader(rendered), 4096)
	var objs []*unstructured.Unstructured
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("decoding the render: %v", err)
		}
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		// UnmarshalJSON keeps integers as int64, as the API machinery does.
		o := &unstructured.Unstructured{}
		if err := o.UnmarshalJSON(raw); err != nil {
			t.Fatalf("decoding the render: %v\n%s", err, raw)
		}
		objs = append(objs, o)
	}
	return objs
}

// byKind returns the objects of a kind.
func byKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// find returns the object of a kind and name, or fails the test.
func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %q in the render", kind, name)
	return nil
}

func nestedSlice(obj map[string]any, fields ...string) ([]any, bool, error) {
	return unstructured.NestedSlice(obj, fields...)
}

func toUnstructured(obj any) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: m}, nil
}
