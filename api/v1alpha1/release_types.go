package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ReleaseState is whether a release is offered to users.
// +kubebuilder:validation:Enum=Draft;Published
type ReleaseState string

// The release states.
const (
	ReleaseDraft     ReleaseState = "Draft"
	ReleasePublished ReleaseState = "Published"
)

// ReleasePhase is where a release stands among its app's releases.
type ReleasePhase string

// The release phases.
const (
	PhaseDraft      ReleasePhase = "Draft"
	PhaseLive       ReleasePhase = "Live"
	PhaseSuperseded ReleasePhase = "Superseded"
	PhaseFailed     ReleasePhase = "Failed"
)

// ReleaseSpec declares a version of an app.
type ReleaseSpec struct {
	// app is the name of the released app. Immutable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[^/\s]+$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="app is immutable: create a new Release instead"
	App string `json:"app"`

	// version is a semantic version (1.4.0, 2.0.0-rc.1). Immutable.
	// +required
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="version is immutable: create a new Release instead"
	Version string `json:"version"`

	// ref is a tag, branch or commit in the Space's repository. Immutable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="ref is immutable: create a new Release instead"
	Ref string `json:"ref"`

	// description of the release for its users.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Description string `json:"description,omitempty"`

	// state is Draft or Published. Default Draft.
	// +optional
	// +kubebuilder:default=Draft
	State ReleaseState `json:"state,omitempty"`
}

// ReleaseStatus is what Governor observed.
type ReleaseStatus struct {
	// observedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions: Ready, Reconciling, Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// commit is the ref resolved to a commit of the Space's repository.
	// +optional
	Commit string `json:"commit,omitempty"`
	// phase is Draft, Live, Superseded or Failed.
	// +optional
	Phase ReleasePhase `json:"phase,omitempty"`
}

// Release is a version of an app, published to its users or kept as a draft.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rel,categories=governor
// +kubebuilder:printcolumn:name="App",type=string,JSONPath=`.spec.app`
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.spec.version`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Release struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec ReleaseSpec `json:"spec"`
	// +optional
	Status ReleaseStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ReleaseList is a list of Releases.
type ReleaseList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Release `json:"items"`
}
