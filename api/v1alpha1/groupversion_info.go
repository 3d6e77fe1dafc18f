// Package v1alpha1 holds the governor.dev/v1alpha1 API: Space, PermissionGroup,
// AccessRule and Release. Field names follow the architecture document and are
// a contract with users' manifests.
//
// +kubebuilder:object:generate=true
// +groupName=governor.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every Governor kind.
	GroupVersion = schema.GroupVersion{Group: "governor.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the Governor kinds with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the Governor kinds to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&Space{}, &SpaceList{},
		&PermissionGroup{}, &PermissionGroupList{},
		&AccessRule{}, &AccessRuleList{},
		&Release{}, &ReleaseList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
