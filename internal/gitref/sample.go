package gitref

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Sample repository refs, matching config/samples/30-releases.yaml.
const (
	SampleTagPrevious = "v1.3.0"
	SampleTagCurrent  = "v1.4.0"
	SampleBranchMain  = "main"
	// SampleBranchStaging is one commit ahead of main.
	SampleBranchStaging = "staging"
)

// sampleAppPath is the toy app's source in the sample repository.
const sampleAppPath = "apps/payouts.json"

type sampleStep struct {
	message string
	files   map[string]string
	tag     string // annotated tag on this commit
	tagMsg  string
}

func payoutsApp(version, extra string) string {
	return fmt.Sprintf(`{
  "name": "payouts",
  "version": %q,
  "pages": [
    {"name": "Batches", "components": ["batchesTable", "approveButton"%s]},
    {"name": "Partners", "components": ["partnersTable"]}
  ]
}
`, version, extra)
}

// sampleMain is the history of main; sampleStaging is the commit staging adds on top of it.
var (
	sampleMain = []sampleStep{
		{message: "Retool apps of the payments Space", files: map[string]string{
			"README.md": "# payments\n\nRetool apps of the payments Space, released with Governor.\n"}},
		{message: "payouts: batch payouts to the new banking partner", files: map[string]string{
			sampleAppPath: payoutsApp("1.3.0", "")},
			tag: SampleTagPrevious, tagMsg: "payouts 1.3.0: batch payouts to new banking partner"},
		{message: "payouts: quarterly close fixes", files: map[string]string{
			sampleAppPath: payoutsApp("1.4.0", `, "closeQuarterButton"`)},
			tag: SampleTagCurrent, tagMsg: "payouts 1.4.0: quarterly close fixes"},
		{message: "payouts: start the partner export", files: map[string]string{
			sampleAppPath: payoutsApp("1.5.0-dev", `, "closeQuarterButton"`)}},
	}
	sampleStaging = sampleStep{message: "payouts: partner export behind a flag (staging)", files: map[string]string{
		sampleAppPath: payoutsApp("1.5.0-rc.1", `, "closeQuarterButton", "exportButton"`)}}
)

// sampleTime makes the commits reproducible: the same repository (same shas) on every machine.
var sampleTime = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func sampleSignature(i int) *object.Signature {
	return &object.Signature{Name: "Governor Dev", Email: "dev@governor.invalid", When: sampleTime.Add(time.Duration(i) * 24 * time.Hour)}
}

// CreateSampleRepository makes, unless it is already there, a small git repository in dir for
// `governor dev`: a toy Retool app (apps/payouts.json) on main with annotated tags v1.3.0 and v1.4.0,
// and a staging branch one commit ahead. Its commits are the same on every machine. It returns the
// repository's file:// URL. A dir that exists but is not that repository is an error, never overwritten.
func CreateSampleRepository(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	url := "file://" + filepath.ToSlash(abs)
	if entries, err := os.ReadDir(abs); err == nil && len(entries) == 0 {
		if err := os.Remove(abs); err != nil { // an empty directory: made by the caller, fill it
			return "", err
		}
	}
	if _, err := os.Stat(abs); err == nil {
		if err := checkSample(abs); err != nil {
			return "", err
		}
		return url, nil
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".tmp-")
	if err != nil {
		return "", err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	if err := buildSample(tmp); err != nil {
		return "", fmt.Errorf("creating the sample repository in %s: %w", abs, err)
	}
	if err := os.Rename(tmp, abs); err != nil {
		if checkSample(abs) == nil { // made meanwhile by another process
			return url, nil
		}
		return "", err
	}
	return url, nil
}

func checkSample(dir string) error {
	repo, err := git.PlainOpen(dir)
	if err != nil {
		return fmt.Errorf("%s exists and is not the sample git repository (%v): remove it or choose another directory", dir, err)
	}
	for _, name := range []plumbing.ReferenceName{
		plumbing.NewTagReferenceName(SampleTagPrevious), plumbing.NewTagReferenceName(SampleTagCurrent),
		plumbing.NewBranchReferenceName(SampleBranchMain), plumbing.NewBranchReferenceName(SampleBranchStaging),
	} {
		if _, err := repo.Reference(name, false); err != nil {
			return fmt.Errorf("%s is a git repository without %s: remove it to have it made again", dir, name)
		}
	}
	return nil
}

func buildSample(dir string) error {
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(SampleBranchMain)}})
	if err != nil {
		return err
	}
	wt, err := repo.Worktree()
	if err != nil {
		return err
	}
	commit := func(i int, s sampleStep) (plumbing.Hash, error) {
		for name, content := range s.files {
			path := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return plumbing.ZeroHash, err
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				return plumbing.ZeroHash, err
			}
			if _, err := wt.Add(name); err != nil {
				return plumbing.ZeroHash, err
			}
		}
		return wt.Commit(s.message, &git.CommitOptions{Author: sampleSignature(i)})
	}
	var head plumbing.Hash
	for i, s := range sampleMain {
		if head, err = commit(i, s); err != nil {
			return err
		}
		if s.tag != "" {
			if _, err := repo.CreateTag(s.tag, head, &git.CreateTagOptions{Tagger: sampleSignature(i), Message: s.tagMsg}); err != nil {
				return err
			}
		}
	}
	staging := plumbing.NewBranchReferenceName(SampleBranchStaging)
	if err := wt.Checkout(&git.CheckoutOptions{Branch: staging, Create: true, Hash: head}); err != nil {
		return err
	}
	if _, err := commit(len(sampleMain), sampleStaging); err != nil {
		return err
	}
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(SampleBranchMain)}); err != nil {
		return err
	}
	return nil
}
