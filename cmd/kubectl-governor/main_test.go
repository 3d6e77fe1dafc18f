package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The plugin holds the access CLI and nothing else.
func TestOnlyTheAccessCommands(t *testing.T) {
	var names []string
	for _, c := range newRootCommand().Commands() {
		names = append(names, c.Name())
	}
	slices.Sort(names)
	if want := []string{"can-i", "diff", "explain", "permissions", "review", "who-can"}; !slices.Equal(names, want) {
		t.Fatalf("commands %v, want %v", names, want)
	}
}

// The slim binary links neither the operator, nor the local control plane.
func TestNoOperatorLinked(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range []string{"/internal/controller", "/internal/operator", "/internal/controlplane"} {
		if strings.Contains(string(out), "github.com/governor-dev/governor"+pkg+"\n") {
			t.Errorf("kubectl-governor links %s", pkg)
		}
	}
}
