package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startEmulatorCommand runs `governor platform-emulator args...` until the
// test ends and returns the URL it serves.
func startEmulatorCommand(t *testing.T, args ...string) (string, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	cmd := newPlatformEmulatorCommand()
	cmd.SetArgs(args)
	cmd.SetOut(pw)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := cmd.ExecuteContext(ctx); err != nil {
			t.Errorf("platform-emulator: %v", err)
		}
		pw.Close()
	}()
	t.Cleanup(func() { cancel(); <-done })
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("platform-emulator printed nothing: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	m := regexp.MustCompile(`on (http://\S+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q names no address", line)
	}
	return m[1], func() { cancel(); <-done }
}

func apiCall(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer tk")
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPlatformEmulatorKeepsItsState(t *testing.T) {
	dir := t.TempDir()
	url, stop := startEmulatorCommand(t, "--listen", "127.0.0.1:0", "--token", "tk", "--state-dir", dir)
	if code, body := apiCall(t, "POST", url+"/api/v2/groups", `{"name":"finance"}`); code != 200 {
		t.Fatalf("create a group: %d %s", code, body)
	}
	stop()
	url, _ = startEmulatorCommand(t, "--listen", "127.0.0.1:0", "--token", "tk", "--state-dir", dir)
	if code, body := apiCall(t, "GET", url+"/api/v2/groups", ""); code != 200 || !strings.Contains(body, `"name":"finance"`) {
		t.Errorf("after a restart: %d %s, want the finance group", code, body)
	}
}

func TestPlatformEmulatorFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--folder-grants", "deep"},
		{"--requests-per-minute", "0"},
	} {
		cmd := newPlatformEmulatorCommand()
		cmd.SetArgs(append([]string{"--listen", "127.0.0.1:0"}, args...))
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		if err := cmd.ExecuteContext(context.Background()); err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%v: err = %v, want one naming %s", args, err, args[0])
		}
	}
}
