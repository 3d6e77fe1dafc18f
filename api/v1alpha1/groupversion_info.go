// Package v1alpha1 holds the governor.dev/v1alpha1 API: Space, PermissionGroup,
// AccessRule and Release. Field names follow the architecture document and are
// a contract with users' manifests.
//
// +kubebuilder:object:generate=true
// +groupName=governor.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every Governor kind.
	GroupVersion = schema.GroupVersion{Group: "governor.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the Governor kinds with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the Governor kinds to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
