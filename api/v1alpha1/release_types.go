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

// ConditionTagMoved is True on a Release whose tag ref was seen to move to
// another commit: release tags are meant not to move.
const ConditionTagMoved = "TagMoved"

// ConditionPublished says whether a Release is released in the platform:
// True once the branch of its release artifact is merged into the Space's
// default branch (reason Merged) or the instance already had it (Adopted);
// False while that branch awaits its merge (AwaitingMerge) or when it cannot
// be published (VersionNotReleasable, InstanceNewer, NoWritableEnvironment).
const ConditionPublished = "Published"

// ReleasePhase is where a release stands among its app's releases.
type ReleasePhase string

// The release phases.
const (
	PhaseDraft ReleasePhase = "Draft"
	// PhaseAwaitingMerge: the live release, created in the platform, whose
	// artifact's branch is not merged into the default branch yet.
	PhaseAwaitingMerge ReleasePhase = "AwaitingMerge"
	PhaseLive          ReleasePhase = "Live"
	PhaseSuperseded    ReleasePhase = "Superseded"
	PhaseFailed        ReleasePhase = "Failed"
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
	// shortCommit is commit's first 7 characters (kubectl get's column).
	// +optional
	ShortCommit string `json:"shortCommit,omitempty"`
	// resolvedRef is what ref named: refs/tags/..., refs/heads/... or a commit sha.
	// +optional
	ResolvedRef string `json:"resolvedRef,omitempty"`
	// phase is Draft, AwaitingMerge, Live, Superseded or Failed: the
	// release's place among its app's releases. The highest Published
	// release is AwaitingMerge while the branch the platform pushed for it
	// is not merged into the Space's default branch, then Live.
	// +optional
	Phase ReleasePhase `json:"phase,omitempty"`
	// published records the release's creation in the Space's writable
	// environment's instance (or its adoption there, when the instance
	// already had the version). It is made once and never withdrawn.
	// +optional
	Published *ReleasePublication `json:"published,omitempty"`
	// environments reports, per environment with an instance, the version of
	// the app its users get there.
	// +optional
	// +listType=map
	// +listMapKey=name
	Environments []ReleaseEnvironmentStatus `json:"environments,omitempty"`
	// liveIn names the environments whose users get this release, comma
	// separated (kubectl get's column).
	// +optional
	LiveIn string `json:"liveIn,omitempty"`
}

// ReleasePublication is a release's artifact in the platform.
type ReleasePublication struct {
	// environment whose instance the release was created in.
	Environment string `json:"environment"`
	// time the release was created or adopted.
	Time metav1.Time `json:"time"`
	// adopted: the instance already had this version; nothing was created.
	// +optional
	Adopted bool `json:"adopted,omitempty"`
	// branch the platform pushed the release artifact to.
	// +optional
	Branch string `json:"branch,omitempty"`
	// commit is the sha of the branch's commit holding the release artifact.
	// +optional
	Commit string `json:"commit,omitempty"`
	// pullRequestURL opens the pull request that merges branch into the
	// Space's default branch.
	// +optional
	PullRequestURL string `json:"pullRequestURL,omitempty"`
	// mergedTime is when Governor first saw commit on the Space's default
	// branch: from then on the release is released.
	// +optional
	MergedTime *metav1.Time `json:"mergedTime,omitempty"`
}

// ReleaseEnvironmentStatus is the app's live version in one environment.
type ReleaseEnvironmentStatus struct {
	// name of the environment.
	Name string `json:"name"`
	// liveVersion is the app's release its users get; empty when the app
	// has no release there (or is not there).
	// +optional
	LiveVersion string `json:"liveVersion,omitempty"`
	// message says why the live version is not known, if it is not.
	// +optional
	Message string `json:"message,omitempty"`
}

// Release is a version of an app, published to its users or kept as a draft.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rel,categories=governor
// +kubebuilder:printcolumn:name="App",type=string,JSONPath=`.spec.app`
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.spec.version`
// +kubebuilder:printcolumn:name="Commit",type=string,JSONPath=`.status.shortCommit`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Live In",type=string,JSONPath=`.status.liveIn`
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
