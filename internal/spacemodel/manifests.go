package spacemodel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
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

// Objects is a client.Reader of the Spaces, PermissionGroups and
// AccessRules it holds, so that Load reads manifests as it reads a cluster.
// Groups and rules without metadata.namespace are listed in any namespace
// asked for (as that namespace's): `kubectl apply -n` or an Argo CD
// Application's destination would put them there.
var _ client.Reader = (*Objects)(nil)

// Get reads a Space by name.
func (o *Objects) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	space, ok := obj.(*governorv1alpha1.Space)
	if !ok {
		return fmt.Errorf("manifests: cannot get a %T", obj)
	}
	for i := range o.Spaces {
		if o.Spaces[i].Name == key.Name {
			o.Spaces[i].DeepCopyInto(space)
			return nil
		}
	}
	return apierrors.NewNotFound(governorv1alpha1.GroupVersion.WithResource("spaces").GroupResource(), key.Name)
}

// List lists PermissionGroups or AccessRules (client.InNamespace filters).
func (o *Objects) List(_ context.Context, list client.ObjectList, opts ...client.ListOption) error {
	lo := client.ListOptions{}
	lo.ApplyOptions(opts)
	in := func(ns string) (string, bool) {
		switch {
		case lo.Namespace == "":
			return ns, true
		case ns == "" || ns == lo.Namespace:
			return lo.Namespace, true
		}
		return "", false
	}
	switch l := list.(type) {
	case *governorv1alpha1.PermissionGroupList:
		l.Items = nil
		for _, g := range o.Groups {
			if ns, ok := in(g.Namespace); ok {
				g := *g.DeepCopy()
				g.Namespace = ns
				l.Items = append(l.Items, g)
			}
		}
	case *governorv1alpha1.AccessRuleList:
		l.Items = nil
		for _, r := range o.Rules {
			if ns, ok := in(r.Namespace); ok {
				r := *r.DeepCopy()
				r.Namespace = ns
				l.Items = append(l.Items, r)
			}
		}
	default:
		return fmt.Errorf("manifests: cannot list %T", list)
	}
	return nil
}

// SpaceNames lists the Spaces' names, in the order read.
func (o *Objects) SpaceNames() []string {
	names := make([]string, 0, len(o.Spaces))
	for i := range o.Spaces {
		names = append(names, o.Spaces[i].Name)
	}
	return names
}

// Inherit returns space with sourceControl and sso copied from source where
// space leaves them unset (spec.inheritFrom); a Space with its own sso but no
// sso.provider takes the source's provider.
func Inherit(space, source *governorv1alpha1.Space) *governorv1alpha1.Space {
	out := space.DeepCopy()
	if out.Spec.SourceControl == nil && source.Spec.SourceControl != nil {
		out.Spec.SourceControl = source.Spec.SourceControl.DeepCopy()
	}
	switch {
	case out.Spec.SSO == nil && source.Spec.SSO != nil:
		out.Spec.SSO = source.Spec.SSO.DeepCopy()
	case out.Spec.SSO != nil && out.Spec.SSO.Provider == nil && source.Spec.SSO != nil && source.Spec.SSO.Provider != nil:
		// A Space with its own JIT and role mappings still signs in through
		// the source's identity provider.
		out.Spec.SSO.Provider = source.Spec.SSO.Provider.DeepCopy()
	}
	return out
}
