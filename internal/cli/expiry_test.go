package cli

import (
	"encoding/csv"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/governor-dev/governor/internal/access"
)

const expirySpace = "testdata/expiry"

func TestAtAnswersForAnotherInstant(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
		code int
	}{
		{"expired member, now", []string{"edit", "app/catalog", "--as", "dan@example.com"}, "no", 1},
		{"expired member, before the expiry", []string{"edit", "app/catalog", "--as", "dan@example.com", "--at", "2025-12-31T23:59:59Z"}, "yes", 0},
		{"at the expiry itself", []string{"edit", "app/catalog", "--as", "dan@example.com", "--at", "2026-01-01T00:00:00Z"}, "no", 1},
		{"an offset is an instant too", []string{"edit", "app/catalog", "--as", "dan@example.com", "--at", "2026-01-01T01:00:00+01:00"}, "no", 1},
		{"temporary member, now", []string{"edit", "app/catalog", "--as", "tia@example.com"}, "yes", 0},
		{"temporary member, after", []string{"edit", "app/catalog", "--as", "tia@example.com", "--at", "2099-01-01T00:00:00Z"}, "no", 1},
		{"expired rule, before", []string{"use", "app/payouts", "--as", "sam@example.com", "--at", "2025-05-31T00:00:00Z"}, "yes", 0},
		{"expired rule, now", []string{"use", "app/payouts", "--as", "sam@example.com"}, "no", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, append([]string{"can-i", "--space", "shop", "-f", expirySpace}, tc.args...)...)
			if r.code != tc.code || strings.TrimSpace(r.stdout) != tc.want {
				t.Fatalf("want %s (exit %d):\n%s", tc.want, tc.code, r)
			}
		})
	}
	r := run(t, "can-i", "edit", "app/catalog", "--space", "shop", "-f", expirySpace, "--as", "dan@example.com", "--at", "yesterday")
	if r.code != exitInvalid || !strings.Contains(r.stderr, "--at") || !strings.Contains(r.stderr, "RFC 3339") {
		t.Fatalf("a bad --at exits 2 naming the flag:\n%s", r)
	}
	r = run(t, "explain", "edit", "app/catalog", "--space", "shop", "-f", expirySpace, "--as", "tia@example.com")
	if !strings.Contains(r.stdout, "Expires:") || !strings.Contains(r.stdout, "2099-01-01T00:00:00Z") {
		t.Fatalf("explain says when the access ends:\n%s", r)
	}
	r = run(t, "who-can", "edit", "app/catalog", "--space", "shop", "-f", expirySpace, "--at", "2025-12-31T00:00:00Z", "-o", "json")
	var w access.WhoCanResult
	if err := json.Unmarshal([]byte(r.stdout), &w); err != nil || len(w.Grants) != 1 || !strings.Contains(strings.Join(w.Grants[0].Members, ","), "dan@example.com") {
		t.Fatalf("who-can --at lists dan before his expiry: %v\n%s", err, r)
	}
}

func TestReviewCSV(t *testing.T) {
	r := run(t, "review", "--space", "shop", "-f", expirySpace)
	if r.code != 0 {
		t.Fatal(r)
	}
	if !strings.HasPrefix(r.stdout, "# governor access review of Space shop, revision ") {
		t.Fatalf("the first line is the stamp:\n%s", r)
	}
	cr := csv.NewReader(strings.NewReader(r.stdout))
	cr.Comment = '#'
	records, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(records[0], ",") != "subject,membership,target,level,actions,group,source,rule,via,expires" {
		t.Fatalf("header %v", records[0])
	}
	var tia, dan []string
	for _, rec := range records[1:] {
		switch {
		case rec[0] == "user:tia@example.com" && rec[2] == "app/catalog":
			tia = rec
		case rec[0] == "user:dan@example.com":
			dan = rec
		}
	}
	if strings.Join(tia, ",") != "user:tia@example.com,Listed,app/catalog,Edit,edit release use view-unpublished,sellers,object rule sellers-catalog,sellers-catalog,listed,2099-01-01T00:00:00Z" {
		t.Fatalf("tia's row: %v", tia)
	}
	if dan != nil {
		t.Fatalf("dan's membership ended: %v", dan)
	}
	// As of before his end, dan is in the review, with it.
	r = run(t, "review", "--space", "shop", "-f", expirySpace, "--at", "2025-12-01T00:00:00Z")
	if !strings.Contains(r.stdout, "user:dan@example.com,Listed,app/catalog,Edit") || !strings.Contains(r.stdout, "as of 2025-12-01T00:00:00Z") {
		t.Fatalf("review --at:\n%s", r)
	}
}

func TestReviewJSONAndHTML(t *testing.T) {
	r := run(t, "review", "--space", "shop", "-f", expirySpace, "-o", "json")
	var doc struct {
		Kind     string             `json:"kind"`
		Space    string             `json:"space"`
		Revision string             `json:"revision"`
		Subjects int                `json:"subjects"`
		Rows     []access.ReviewRow `json:"rows"`
		Expired  []access.Expiry    `json:"expired"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("-o json is one JSON document: %v\n%s", err, r)
	}
	if doc.Kind != "AccessReview" || doc.Space != "shop" || len(doc.Revision) != 64 || doc.Subjects != 2 || len(doc.Rows) == 0 {
		t.Fatalf("stamp and rows: %+v", doc)
	}
	if len(doc.Expired) != 2 || doc.Expired[0].Name != "payouts-freeze" || doc.Expired[1].Email != "dan@example.com" {
		t.Fatalf("expired: %+v", doc.Expired)
	}

	r = run(t, "review", "--space", "shop", "-f", expirySpace, "-o", "html")
	page := r.stdout
	for _, want := range []string{"<!DOCTYPE html>", `id="filter"`, "Access review of Space shop", "user:tia@example.com", "dan@example.com", "</html>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, external := range []string{"<link", "src=", "https://", "http://", "@import"} {
		if strings.Contains(page, external) {
			t.Errorf("the page loads something from elsewhere: %q", external)
		}
	}
	r = run(t, "review", "--space", "shop", "-f", expirySpace, "-o", "pdf")
	if r.code != exitInvalid || !strings.Contains(r.stderr, "csv, json or html") {
		t.Fatalf("-o pdf: %s", r)
	}
	r = run(t, "review", "--space", "shop", "-f", expirySpace, "--env", "moon")
	if r.code != exitInvalid || r.stdout != "" {
		t.Fatalf("--env moon: exit 2 before any output: %s", r)
	}
}

// The walkthrough's page: the payments sample's review is one
// self-contained HTML document that loads nothing from the network (no
// script, style, image or link fetched from elsewhere), with its filter
// box and every subject of the Space.
func TestReviewOfTheSamplesIsOneSelfContainedPage(t *testing.T) {
	r := run(t, "review", "--space", "payments", "-f", samples, "-o", "html")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("review -o html: %s", r)
	}
	page := r.stdout
	if strings.Count(page, "<!DOCTYPE html>") != 1 || !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.HasSuffix(strings.TrimSpace(page), "</html>") {
		t.Fatalf("not one HTML document:\n%.300s", page)
	}
	for _, want := range []string{`id="filter"`, "Access review of Space payments", "<script>", "<style>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	network := regexp.MustCompile(`(?i)(\b(src|href|action|srcset|poster|data)\s*=\s*["']?\s*(https?:)?//)|<link\b|@import|url\(\s*["']?\s*(https?:)?//|\bfetch\(|XMLHttpRequest|<iframe|<object|<embed`)
	if m := network.FindAllString(page, -1); len(m) > 0 {
		t.Fatalf("the page refers to the network: %q", m)
	}
	// Every listed member of the sample is a subject of the review.
	csvOut := run(t, "review", "--space", "payments", "-f", samples, "-o", "csv").stdout
	for _, line := range strings.Split(csvOut, "\n") {
		if subject, _, ok := strings.Cut(line, ","); ok && strings.HasPrefix(subject, "user:") && !strings.Contains(page, strings.TrimPrefix(subject, "user:")) {
			t.Fatalf("%s is in the CSV review but not in the page", subject)
		}
	}
}

// Cells that look like markup stay text in the page.
func TestReviewHTMLEscapes(t *testing.T) {
	var b strings.Builder
	h := &htmlReview{w: &b}
	if err := h.begin(reviewStamp{Space: "<b>x</b>", Source: "</script><script>alert(1)</script>"}); err != nil {
		t.Fatal(err)
	}
	if err := h.row(access.ReviewRow{Subject: "user:</script><img src=x>@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := h.end(nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<b>x</b>") || strings.Contains(b.String(), "alert(1)</script>") || strings.Contains(b.String(), "<img") {
		t.Fatalf("markup reached the page unescaped:\n%s", b.String())
	}
}
