package importer

import (
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// commentWidth is where Write wraps comments.
const commentWidth = 100

// Write prints the result as multi-document YAML for a person to review and
// commit: header lines and the notes that concern the whole Space first,
// then each PermissionGroup, preceded by its notes as comments and followed
// by its AccessRules. The output depends on the result only: importing the
// same instances twice prints the same bytes.
func Write(w io.Writer, res Result, header []string) error {
	var b strings.Builder
	for _, h := range header {
		comment(&b, h)
	}
	additive, authoritative := 0, 0
	for _, wr := range res.Calls {
		if wr.Authoritative {
			authoritative++
		} else {
			additive++
		}
	}
	comment(&b, fmt.Sprintf("%d PermissionGroup(s), %d AccessRule(s). Once they are applied, a sync makes %d call(s) in Additive mode and %d more in Authoritative mode; the notes say which and why.",
		len(res.Groups), len(res.Rules), additive, authoritative))
	if res.ChangesAccess() {
		comment(&b, "Applying changes some users' access in the instance: the notes marked [changes access] say whose and where.")
	}
	if res.Exact() {
		comment(&b, "Once applied and synced, every user's level in the instance is the model's: `governor platform verify` finds no difference.")
	} else {
		comment(&b, "Once applied and synced, some users' levels in the model still differ from the instance's (the notes marked [differs]): `governor platform verify` reports them.")
	}
	byGroup := map[string][]Note{}
	for _, n := range res.Notes {
		byGroup[n.Group] = append(byGroup[n.Group], n)
	}
	if notes := byGroup[""]; len(notes) > 0 {
		b.WriteString("#\n")
		comment(&b, "The Space:")
		for _, n := range notes {
			noteLine(&b, n)
		}
	}
	rulesOf := map[string][]int{}
	for i, r := range res.Rules {
		rulesOf[r.Spec.Group] = append(rulesOf[r.Spec.Group], i)
	}
	for i := range res.Groups {
		g := &res.Groups[i]
		b.WriteString("---\n")
		for _, n := range byGroup[g.Name] {
			noteLine(&b, n)
		}
		if err := object(&b, g); err != nil {
			return err
		}
		for _, ri := range rulesOf[g.Name] {
			b.WriteString("---\n")
			if err := object(&b, &res.Rules[ri]); err != nil {
				return err
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// object writes an object's YAML without its status and creation time.
func object(b *strings.Builder, obj any) error {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	delete(u, "status")
	if md, ok := u["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	out, err := yaml.Marshal(u)
	if err != nil {
		return err
	}
	b.Write(out)
	return nil
}

func noteLine(b *strings.Builder, n Note) {
	prefix := "- "
	if n.Changes {
		prefix += "[changes access] "
	}
	if n.Inexact {
		prefix += "[differs] "
	}
	comment(b, prefix+n.String())
}

// comment writes text as comment lines wrapped at commentWidth; lines after
// the first of a list item are indented under it.
func comment(b *strings.Builder, text string) {
	indent := ""
	if strings.HasPrefix(text, "- ") {
		indent = "  "
	}
	line := "#"
	for _, word := range strings.Fields(text) {
		if len(line)+1+len(word) > commentWidth && line != "#" && strings.TrimSpace(line) != "#" {
			b.WriteString(line + "\n")
			line = "# " + indent + word
			continue
		}
		line += " " + word
	}
	b.WriteString(line + "\n")
}
