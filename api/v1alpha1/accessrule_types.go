package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// AccessLevel is a level an AccessRule grants.
// +kubebuilder:validation:Enum=Use;Edit;Own
type AccessLevel string

// The access levels, in order. None is only a universal level.
const (
	LevelNone AccessLevel = "None"
	LevelUse  AccessLevel = "Use"
	LevelEdit AccessLevel = "Edit"
	LevelOwn  AccessLevel = "Own"
)

// TargetKind is what a rule targets.
// +kubebuilder:validation:Enum=App;Workflow;Resource;Folder
type TargetKind string

// The target kinds.
const (
	TargetApp      TargetKind = "App"
	TargetWorkflow TargetKind = "Workflow"
	TargetResource TargetKind = "Resource"
	TargetFolder   TargetKind = "Folder"
)

// FolderType is the kind of items a folder holds.
// +kubebuilder:validation:Enum=App;Workflow;Resource
type FolderType string

// AccessRuleSpec grants one group a level on objects or folders of a Space.
//
// +kubebuilder:validation:XValidation:rule="!has(self.expires) || (self.expires >= timestamp('2000-01-01T00:00:00Z') && self.expires < timestamp('2100-01-01T00:00:00Z'))",message="expires: an RFC 3339 time between the years 2000 and 2100, like 2026-12-31T17:00:00Z",fieldPath=".expires"
type AccessRuleSpec struct {
	// group is the name of a PermissionGroup in the same namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Group string `json:"group"`

	// level granted: Use, Edit or Own.
	// +required
	Level AccessLevel `json:"level"`

	// targets are the objects and folders the level applies to (1 to 256).
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=256
	Targets []Target `json:"targets"`

	// expires is when the rule ends (RFC 3339, like 2026-12-31T17:00:00Z).
	// From that instant on the rule is not in the access model and the
	// platform sync takes its grants off the instances; the object stays
	// (status.expired says so) until someone deletes it.
	// +optional
	Expires *metav1.Time `json:"expires,omitempty"`
}

// Target is an app, workflow, resource or folder.
//
// +kubebuilder:validation:XValidation:rule="self.kind == 'Folder' ? has(self.folderType) : !has(self.folderType)",message="folderType is required when kind is Folder and refused otherwise"
// +kubebuilder:validation:XValidation:rule="self.kind == 'Resource' || !has(self.environments) || size(self.environments) == 0",message="environments: per-environment levels are only for Resource targets"
// +kubebuilder:validation:XValidation:rule="self.kind == 'Folder' || !self.name.contains('/')",message="name: an object name cannot contain '/'; use kind Folder for a folder path"
// +kubebuilder:validation:XValidation:rule="self.kind != 'Folder' || !self.name.matches('(^|/)[.][.]?(/|$)')",message="name: a folder path has no '.' or '..' segment",fieldPath=".name"
type Target struct {
	// kind is App, Workflow, Resource or Folder.
	// +required
	Kind TargetKind `json:"kind"`
	// folderType is the type of a Folder target: App, Workflow or Resource.
	// +optional
	FolderType FolderType `json:"folderType,omitempty"`
	// name is the object's name, or the folder's path (like finance/payments):
	// '/'-separated names, none of them empty, '.' or '..', with no leading
	// or trailing '/'.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^[^/\s]+(/[^/\s]+)*$`
	Name string `json:"name"`
	// environments override the rule's level per environment (Resource only).
	// An environment without an override inherits the rule's level.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	Environments []EnvironmentLevel `json:"environments,omitempty"`
}

// EnvironmentLevel is a resource's level in one environment.
type EnvironmentLevel struct {
	// name of an environment of the Space.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// level in that environment: None, Use, Edit or Own.
	// +required
	Level UniversalLevel `json:"level"`
}

// AccessRuleStatus is what Governor observed.
type AccessRuleStatus struct {
	// observedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions: Ready, Reconciling, Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// space that governs the rule's namespace.
	// +optional
	Space string `json:"space,omitempty"`
	// expiring is set while the rule ends in the next 7 days.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=1
	Expiring []Expiry `json:"expiring,omitempty"`
	// expired is set once the rule has ended: it is out of the access model.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=1
	Expired []Expiry `json:"expired,omitempty"`
}

// AccessRule grants a PermissionGroup a level on apps, workflows, resources or folders.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ar;arule,categories=governor
// +kubebuilder:printcolumn:name="Group",type=string,JSONPath=`.spec.group`
// +kubebuilder:printcolumn:name="Level",type=string,JSONPath=`.spec.level`
// +kubebuilder:printcolumn:name="Expires",type=string,JSONPath=`.spec.expires`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AccessRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec AccessRuleSpec `json:"spec"`
	// +optional
	Status AccessRuleStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// AccessRuleList is a list of AccessRules.
type AccessRuleList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AccessRule `json:"items"`
}
