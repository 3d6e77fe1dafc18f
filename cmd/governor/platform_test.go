package main

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanSaysWhichClusterItTried: without a kubeconfig the plan says where
// it looked; with one whose server refuses, it names the server, instead of
// asking whatever listens on localhost:8080 for a Space.
func TestPlanSaysWhichClusterItTried(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("KUBECONFIG", "")
	_, err := planFor(context.Background(), planFlags{space: "payments", env: "development"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no kubeconfig") || !strings.Contains(err.Error(), filepath.Join(".kube", "config")) {
		t.Errorf("without a kubeconfig: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	path := filepath.Join(dir, "refused")
	cfg := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://" + addr + "\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user: {}\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = planFor(context.Background(), planFlags{space: "payments", env: "development", kubeconfig: path}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "the cluster at http://"+addr) || !strings.Contains(err.Error(), "from "+path) {
		t.Errorf("a refused server: %v", err)
	}
}
