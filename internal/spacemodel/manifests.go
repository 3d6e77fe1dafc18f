package spacemodel

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
)

// Objects are the Governor objects of a set of manifests.
type Objects struct {
	Spaces   []governorv1alpha1.Space
	Groups   []governorv1alpha1.PermissionGroup
	Rules    []governorv1alpha1.AccessRule
	Releases []governorv1alpha1.Release
}

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := governorv1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

var decoder = serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()

// LoadManifests reads files, or directories of .yaml, .yml and .json files
// (recursively), each holding one or more YAML documents. Documents of other
// kinds (a Namespace, a Deployment) are skipped; a malformed Governor object
// is an error naming the file and the document.
func LoadManifests(paths ...string) (*Objects, error) {
	objs := &Objects{}
	for _, p := range paths {
		files, err := manifestFiles(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			if err := objs.add(f, data); err != nil {
				return nil, err
			}
		}
	}
	return objs, nil
}

// Parse reads the documents of one stream (name is used in errors).
func Parse(name string, data []byte) (*Objects, error) {
	objs := &Objects{}
	if err := objs.add(name, data); err != nil {
		return nil, err
	}
	return objs, nil
}

func manifestFiles(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			if !d.IsDir() {
				files = append(files, path)
			}
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

func (o *Objects) add(name string, data []byte) error {
	reader := utilyaml.NewYAMLReader(bufioReader(data))
	for doc := 1; ; doc++ {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: document %d: %w", name, doc, err)
		}
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(raw, &meta); err != nil {
			return fmt.Errorf("%s: document %d: %w", name, doc, err)
		}
		if meta.APIVersion == "" && meta.Kind == "" {
			continue // comments only
		}
		if !strings.HasPrefix(meta.APIVersion, governorv1alpha1.GroupVersion.Group+"/") {
			continue
		}
		obj, _, err := decoder.Decode(raw, nil, nil)
		if err != nil {
			return fmt.Errorf("%s: document %d (%s): %w", name, doc, meta.Kind, err)
		}
		switch v := obj.(type) {
		case *governorv1alpha1.Space:
			o.Spaces = append(o.Spaces, *v)
		case *governorv1alpha1.PermissionGroup:
			o.Groups = append(o.Groups, *v)
		case *governorv1alpha1.AccessRule:
			o.Rules = append(o.Rules, *v)
		case *governorv1alpha1.Release:
			o.Releases = append(o.Releases, *v)
		}
	}
}

// Space returns the named Space and the groups and rules in its namespace,
// with settings from spec.inheritFrom applied when that Space is among the
// objects too. Groups and rules without metadata.namespace count as in the
// Space's namespace, where `kubectl apply -n` or an Argo CD Application's
// destination would put them.
func (o *Objects) Space(name string) (*governorv1alpha1.Space, []governorv1alpha1.PermissionGroup, []governorv1alpha1.AccessRule, error) {
	var space *governorv1alpha1.Space
	names := make([]string, 0, len(o.Spaces))
	for i := range o.Spaces {
		names = append(names, o.Spaces[i].Name)
		if o.Spaces[i].Name == name {
			space = o.Spaces[i].DeepCopy()
		}
	}
	if space == nil {
		return nil, nil, nil, fmt.Errorf("no Space %q in the manifests (found: %s)", name, strings.Join(names, ", "))
	}
	for i := range o.Spaces {
		if src := &o.Spaces[i]; src.Name == space.Spec.InheritFrom {
			space = Inherit(space, src)
		}
	}
	ns := space.TargetNamespace()
	var groups []governorv1alpha1.PermissionGroup
	for _, g := range o.Groups {
		if g.Namespace == ns || g.Namespace == "" {
			g.Namespace = ns
			groups = append(groups, g)
		}
	}
	var rules []governorv1alpha1.AccessRule
	for _, r := range o.Rules {
		if r.Namespace == ns || r.Namespace == "" {
			r.Namespace = ns
			rules = append(rules, r)
		}
	}
	return space, groups, rules, nil
}

// Inherit returns space with sourceControl and sso copied from source where
// space leaves them unset (spec.inheritFrom).
func Inherit(space, source *governorv1alpha1.Space) *governorv1alpha1.Space {
	out := space.DeepCopy()
	if out.Spec.SourceControl == nil && source.Spec.SourceControl != nil {
		out.Spec.SourceControl = source.Spec.SourceControl.DeepCopy()
	}
	if out.Spec.SSO == nil && source.Spec.SSO != nil {
		out.Spec.SSO = source.Spec.SSO.DeepCopy()
	}
	return out
}
