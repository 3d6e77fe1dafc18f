// Package config embeds the generated CRDs and the personas' ClusterRoles, so
// that `governor dev` and the tests install exactly what is in this tree.
package config

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"path"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

//go:embed crd/bases/*.yaml rbac/personas.yaml admission/group-admins.yaml
var files embed.FS

// CRDs returns Governor's CustomResourceDefinitions.
func CRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	names, err := fs.Glob(files, "crd/bases/*.yaml")
	if err != nil {
		return nil, err
	}
	crds := make([]*apiextensionsv1.CustomResourceDefinition, 0, len(names))
	for _, name := range names {
		data, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(data, crd); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		crds = append(crds, crd)
	}
	return crds, nil
}

// PersonaRoles returns the ClusterRoles of config/rbac/personas.yaml.
func PersonaRoles() ([]*unstructured.Unstructured, error) {
	return decodeAll("rbac/personas.yaml")
}

// AdmissionPolicies returns the ValidatingAdmissionPolicy (and its binding)
// that limits group admins to their group's members.
func AdmissionPolicies() ([]*unstructured.Unstructured, error) {
	return decodeAll("admission/group-admins.yaml")
}

func decodeAll(name string) ([]*unstructured.Unstructured, error) {
	data, err := files.ReadFile(path.Clean(name))
	if err != nil {
		return nil, err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err == io.EOF {
			return objs, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}
