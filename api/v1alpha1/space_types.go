package v1alpha1

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SpaceSpec declares an isolated organisation of the platform: its namespace,
// delegated administrators, source control, environments and SSO settings.
//
// +kubebuilder:validation:XValidation:rule="!has(self.inheritFrom) || !has(self.admin) || !self.admin",message="inheritFrom: the admin Space cannot inherit from another Space"
// +kubebuilder:validation:XValidation:rule="has(self.namespace) == has(oldSelf.namespace)",message="namespace is immutable from creation: it cannot be set or unset after the Space is created; create a new Space to move it"
type SpaceSpec struct {
	// displayName is the name people see.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	DisplayName string `json:"displayName,omitempty"`

	// namespace is where the Space's groups, rules and releases live. Defaults
	// to the Space's name; immutable once set.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="namespace is immutable: create a new Space to move it"
	// +kubebuilder:validation:XValidation:rule="self != 'default' && !self.startsWith('kube-')",message="namespace: default and kube-* namespaces are never governed"
	Namespace string `json:"namespace,omitempty"`

	// adoptExistingObjects trusts the PermissionGroups and AccessRules that
	// were already in the namespace before the Space was created. Without it
	// Governor refuses to adopt a namespace holding such objects, and leaves
	// any object older than the Space out of its model: they were written
	// before the Space's admins were chosen.
	// +optional
	AdoptExistingObjects bool `json:"adoptExistingObjects,omitempty"`

	// admin marks the hub's admin Space. Only one Space may be admin.
	// +optional
	Admin bool `json:"admin,omitempty"`

	// inheritFrom names a Space whose sourceControl and sso are copied where
	// this Space leaves them unset.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	InheritFrom string `json:"inheritFrom,omitempty"`

	// admins are the delegated Space administrators (Kubernetes RBAC subjects),
	// bound to the governor-space-admin ClusterRole in the Space's namespace.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	Admins []Subject `json:"admins,omitempty"`

	// defaultGroups creates the all-users, viewer, editor and admin groups
	// once, unless a group with that builtin already exists. Default true.
	// +optional
	// +kubebuilder:default=true
	DefaultGroups *bool `json:"defaultGroups,omitempty"`

	// sourceControl is the repository the Space's apps are versioned in.
	// +optional
	SourceControl *SourceControl `json:"sourceControl,omitempty"`

	// environments are the Space's stages (development, staging, production...).
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	Environments []Environment `json:"environments,omitempty"`

	// sso holds just-in-time provisioning and IdP role mappings.
	// +optional
	SSO *SSO `json:"sso,omitempty"`

	// platform says how Governor treats the Space in its environments'
	// instances.
	// +optional
	Platform *Platform `json:"platform,omitempty"`
}

// PlatformMode says what Governor may change in an instance.
// +kubebuilder:validation:Enum=Observe;Additive;Authoritative
type PlatformMode string

// The platform modes.
const (
	// PlatformObserve reads the instance and reports what a sync would do
	// (status.platform[].planned and drift) and writes nothing to it, ever:
	// the way in for an instance run by hand until now.
	PlatformObserve PlatformMode = "Observe"
	// PlatformAdditive creates and updates what is declared and never deletes
	// what Governor did not create.
	PlatformAdditive PlatformMode = "Additive"
	// PlatformAuthoritative also removes groups, members and grants in the
	// Space that nothing declares.
	PlatformAuthoritative PlatformMode = "Authoritative"
)

// DeletionPolicy says what deleting a Space does to it in the instances.
// +kubebuilder:validation:Enum=Retain;Delete
type DeletionPolicy string

// The deletion policies.
const (
	DeletionRetain DeletionPolicy = "Retain"
	DeletionDelete DeletionPolicy = "Delete"
)

// Platform is how Governor treats a Space's instances.
type Platform struct {
	// mode: Additive (default) creates and updates what is declared and never
	// deletes what Governor did not create; Authoritative also removes the
	// groups, members and grants in the Space that nothing declares; Observe
	// writes nothing to the instances (no group, member, grant, folder,
	// source control setting, release, Space creation or deletion) and
	// reports in status.platform[].planned the calls the first pass after
	// switching to Additive makes (Authoritative would also remove what
	// status.platform[].drift lists).
	// +optional
	// +kubebuilder:default=Additive
	Mode PlatformMode `json:"mode,omitempty"`
	// deletionPolicy: what deleting the Space does to the Space in each
	// instance. Retain (default) leaves it; Delete deletes it.
	// +optional
	// +kubebuilder:default=Retain
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
	// inviteMissingMembers invites members who have no account in an instance
	// yet; otherwise they are listed as pending until JIT or SCIM creates them.
	// +optional
	InviteMissingMembers bool `json:"inviteMissingMembers,omitempty"`
}

// Subject is a user or group of the Kubernetes API, as in an RBAC binding.
type Subject struct {
	// kind is User or Group.
	// +required
	// +kubebuilder:validation:Enum=User;Group
	Kind string `json:"kind"`
	// name is the user or group name as the API server authenticates it.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// RBACSubject returns the subject as an RBAC binding subject.
func (s Subject) RBACSubject() rbacv1.Subject {
	return rbacv1.Subject{Kind: s.Kind, Name: s.Name, APIGroup: rbacv1.GroupName}
}

// SourceControlProvider names a source control service.
// +kubebuilder:validation:Enum=GitHub;GitLab;Bitbucket;AzureRepos;AWSCodeCommit;Git
type SourceControlProvider string

// SourceControl is the repository a Space's apps are versioned in.
type SourceControl struct {
	// provider is the service hosting the repository.
	// +required
	Provider SourceControlProvider `json:"provider"`
	// repository is the clone URL (https://, ssh:// or git@host:path).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.startsWith('https://') || self.startsWith('http://') || self.startsWith('ssh://') || self.startsWith('git@') || self.startsWith('file://')",message="repository must be an https://, ssh://, git@ or file:// URL"
	Repository string `json:"repository"`
	// defaultBranch is the branch development merges into. Default main.
	// +optional
	// +kubebuilder:default=main
	// +kubebuilder:validation:MaxLength=255
	DefaultBranch string `json:"defaultBranch,omitempty"`
	// credentialsSecretRef names a Secret in Governor's own namespace holding
	// the repository credentials (never the Space's namespace, which its team
	// can read).
	// +optional
	CredentialsSecretRef *LocalObjectReference `json:"credentialsSecretRef,omitempty"`
}

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	// name of the object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// Environment is a named stage of a Space.
// +kubebuilder:validation:XValidation:rule="!has(self.branch) || self.readOnly",message="branch is only meaningful on a readOnly environment, which pulls from it"
type Environment struct {
	// name of the environment, unique in the Space.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`
	// readOnly instances pull from source control; no change is made in them.
	// +optional
	ReadOnly bool `json:"readOnly,omitempty"`
	// branch a read-only environment pulls from.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Branch string `json:"branch,omitempty"`
	// instance is this environment's platform instance, as the Space reaches
	// it. Without it Governor answers checks but pushes nothing.
	// +optional
	Instance *Instance `json:"instance,omitempty"`
}

// Instance is a platform instance (a self-hosted Retool) as one Space reaches it.
type Instance struct {
	// url is the instance's base URL; its API is under /api/v2.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && (self.startsWith('https://') || self.startsWith('http://'))",message="url must be an http:// or https:// URL"
	URL string `json:"url"`
	// domain is the Space's domain in the instance: the Host header of its
	// API calls, and the domain the admin Space creates it with. Default: the
	// host of url.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?(:[0-9]{1,5})?$`
	Domain string `json:"domain,omitempty"`
	// tokenSecretRef names the Secret, in Governor's own namespace, holding
	// the Space's API token for this instance (created in the Space's
	// Settings > API).
	// +required
	TokenSecretRef SecretKeyReference `json:"tokenSecretRef"`
	// requestsPerMinute is the instance's request budget, shared by every
	// Space and environment calling the same url (the lowest asked wins).
	// Self-hosted Retool allows 300 a minute unless configured otherwise.
	// Default: the operator's --platform-requests-per-minute (45).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=6000
	RequestsPerMinute *int32 `json:"requestsPerMinute,omitempty"`
}

// SecretKeyReference names a key of a Secret in Governor's own namespace.
type SecretKeyReference struct {
	// name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	Name string `json:"name"`
	// key in the Secret's data. Default "token".
	// +optional
	// +kubebuilder:default=token
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key,omitempty"`
}

// SSO holds the Space's identity provider settings.
type SSO struct {
	// jit provisions users on first sign-in.
	// +optional
	JIT *JIT `json:"jit,omitempty"`
	// roleMappings map IdP groups to the Space's groups.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=1024
	RoleMappings []RoleMapping `json:"roleMappings,omitempty"`
	// provider is the identity provider's connection, written to each
	// instance's SSO configuration with jit and the role mappings. Unset:
	// inherited from spec.inheritFrom's Space (when that has one); with
	// none, the instances' SSO configuration is left as it is.
	// +optional
	Provider *SSOProvider `json:"provider,omitempty"`
}

// JIT is just-in-time user provisioning.
type JIT struct {
	// enabled makes every signed-in user of an allowed domain a member.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// allowedDomains limits JIT to these email domains; empty allows any.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	AllowedDomains []string `json:"allowedDomains,omitempty"`
}

// RoleMapping maps an IdP group to a PermissionGroup of the Space.
type RoleMapping struct {
	// idpGroup is the group claim sent by the identity provider.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	IdPGroup string `json:"idpGroup"`
	// group is the name of a PermissionGroup in the Space's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Group string `json:"group"`
}

// SpaceStatus is what Governor observed and compiled.
type SpaceStatus struct {
	// observedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions: Ready, Reconciling, Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// namespace the Space governs.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// defaultGroupsCreated records that the default groups were created, so
	// that they are created once and a group deleted on purpose stays deleted.
	// +optional
	DefaultGroupsCreated bool `json:"defaultGroupsCreated,omitempty"`
	// readopted records that the groups and rules already in the namespace
	// when this Space adopted it were governed by a deleted Space of the
	// same name and unchanged since: they are trusted as with
	// spec.adoptExistingObjects.
	// +optional
	Readopted bool `json:"readopted,omitempty"`
	// inherited lists what was copied from spec.inheritFrom.
	// +optional
	Inherited *InheritedSettings `json:"inherited,omitempty"`
	// accessModel summarises the compiled access model checks answer from.
	// +optional
	AccessModel *AccessModelStatus `json:"accessModel,omitempty"`
	// releases lists each app's live release.
	// +optional
	// +listType=map
	// +listMapKey=app
	Releases []AppReleaseStatus `json:"releases,omitempty"`
	// platform reports, per environment with an instance, what the instance
	// holds.
	// +optional
	// +listType=map
	// +listMapKey=environment
	Platform []EnvironmentPlatformStatus `json:"platform,omitempty"`
}

// EnvironmentPlatformStatus is what one environment's instance holds of the Space.
type EnvironmentPlatformStatus struct {
	// environment name.
	Environment string `json:"environment"`
	// spaceId is the Space's id in the instance.
	// +optional
	SpaceID string `json:"spaceId,omitempty"`
	// syncedRevision is the access model revision the instance now holds.
	// +optional
	SyncedRevision string `json:"syncedRevision,omitempty"`
	// lastSyncTime is when the instance last matched the model.
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`
	// groups managed in the instance.
	// +optional
	Groups int32 `json:"groups"`
	// grants managed in the instance.
	// +optional
	Grants int32 `json:"grants"`
	// pending names what could not be placed yet (a member without an
	// account, an app or resource the instance does not have); at most 20.
	// +optional
	// +listType=atomic
	Pending []string `json:"pending,omitempty"`
	// pendingCount counts everything pending, listed or not.
	// +optional
	PendingCount int32 `json:"pendingCount,omitempty"`
	// notExpressible names what this instance cannot hold as declared: rule
	// targets below a broader grant of their group (a None override, an
	// object rule below its folder's) or on a single workflow, each with the
	// AccessRule, the group and the level the instance grants instead (the
	// AccessRule's PlatformExpressible condition says it too); a group named
	// like one of the platform's default groups; a source control provider
	// the platform does not have. At most 20.
	// +optional
	// +listType=atomic
	NotExpressible []string `json:"notExpressible,omitempty"`
	// notExpressibleCount counts them, listed or not.
	// +optional
	NotExpressibleCount int32 `json:"notExpressibleCount,omitempty"`
	// drift is what the instance holds in the Space that nothing declares.
	// +optional
	Drift *PlatformDrift `json:"drift,omitempty"`
	// planned is set in Observe mode: the calls a sync would make to the
	// instance (the ones switching to Additive makes), counted, with the
	// first few.
	// +optional
	Planned *PlatformPlanned `json:"planned,omitempty"`
	// effectiveDrift counts the users whose level on an object of the
	// instance (Retool's own access list) differs from the model's, over the
	// objects compared so far (a slice after each pass that wrote nothing;
	// `governor platform verify` compares every object at once), with the
	// first few.
	// +optional
	EffectiveDrift *PlatformDrift `json:"effectiveDrift,omitempty"`
	// message says what failed on the last attempt, if anything.
	// +optional
	Message string `json:"message,omitempty"`
}

// PlatformDrift is what an instance holds that nothing declares.
type PlatformDrift struct {
	// count of undeclared groups, members and grants.
	Count int32 `json:"count"`
	// examples names a few of them; at most 10.
	// +optional
	// +listType=atomic
	Examples []string `json:"examples,omitempty"`
}

// PlatformPlanned is what a sync would write to an instance.
type PlatformPlanned struct {
	// count of API calls planned.
	Count int32 `json:"count"`
	// calls names the first of them (method, path and what they change, as
	// `governor platform plan` prints them); at most 10.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10
	Calls []string `json:"calls,omitempty"`
}

// InheritedSettings are the settings a Space took from spec.inheritFrom.
type InheritedSettings struct {
	// from is the Space they came from.
	From string `json:"from"`
	// sourceControl as inherited, when this Space left it unset.
	// +optional
	SourceControl *SourceControl `json:"sourceControl,omitempty"`
	// sso as inherited, when this Space left it unset.
	// +optional
	SSO *SSO `json:"sso,omitempty"`
}

// AccessModelStatus summarises a compiled access model.
type AccessModelStatus struct {
	// revision is the content hash of the compiled snapshot.
	Revision string `json:"revision"`
	// revisionToken is the revision with the inputs' position
	// (hash@spaces.groups.rules): passed as the decision API's
	// atLeastRevision, any replica whose model is at this state or a later
	// one answers (docs/api.md).
	// +optional
	RevisionToken string `json:"revisionToken,omitempty"`
	// groups compiled.
	Groups int32 `json:"groups"`
	// rules compiled.
	Rules int32 `json:"rules"`
	// members: distinct member emails.
	Members int32 `json:"members"`
	// problems: objects left out of the model (each says why in its status).
	// +optional
	Problems int32 `json:"problems,omitempty"`
}

// AppReleaseStatus is an app's live release.
type AppReleaseStatus struct {
	// app name.
	App string `json:"app"`
	// live is the version of the live release in Governor's answers; empty
	// when none is published.
	// +optional
	Live string `json:"live,omitempty"`
	// environments reports, per environment with an instance, the version of
	// the app its users get there.
	// +optional
	// +listType=map
	// +listMapKey=name
	Environments []ReleaseEnvironmentStatus `json:"environments,omitempty"`
}

// Space is an isolated organisation of the platform, declared by the hub.
//
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 63 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name: a Space's name must be a DNS label (at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit): it names the Space's namespace and labels"
// +kubebuilder:validation:XValidation:rule="has(self.spec.namespace) || (self.metadata.name != 'default' && !self.metadata.name.startsWith('kube-'))",message="metadata.name: a Space named default or kube-* must set spec.namespace: those namespaces are never governed"
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=spc,categories=governor
// +kubebuilder:printcolumn:name="Namespace",type=string,JSONPath=`.status.namespace`
// +kubebuilder:printcolumn:name="Admin",type=boolean,JSONPath=`.spec.admin`,priority=1
// +kubebuilder:printcolumn:name="Groups",type=integer,JSONPath=`.status.accessModel.groups`
// +kubebuilder:printcolumn:name="Rules",type=integer,JSONPath=`.status.accessModel.rules`
// +kubebuilder:printcolumn:name="Platform",type=string,JSONPath=`.status.conditions[?(@.type=="PlatformSynced")].reason`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Space struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec SpaceSpec `json:"spec"`
	// +optional
	Status SpaceStatus `json:"status,omitempty"`
}

// EffectiveSourceControl is the Space's source control, or the one it
// inherits (status.inherited) when it sets none.
func (s *Space) EffectiveSourceControl() *SourceControl {
	if s.Spec.SourceControl != nil {
		return s.Spec.SourceControl
	}
	if s.Status.Inherited != nil {
		return s.Status.Inherited.SourceControl
	}
	return nil
}

// EffectivePlatformMode is spec.platform.mode, Additive when unset.
func (s *Space) EffectivePlatformMode() PlatformMode {
	if s.Spec.Platform != nil && s.Spec.Platform.Mode != "" {
		return s.Spec.Platform.Mode
	}
	return PlatformAdditive
}

// Observing reports whether the Space is in Observe mode: Governor writes
// nothing to its instances.
func (s *Space) Observing() bool { return s.EffectivePlatformMode() == PlatformObserve }

// TargetNamespace is the namespace the Space governs: spec.namespace, else its name.
func (s *Space) TargetNamespace() string {
	if s.Spec.Namespace != "" {
		return s.Spec.Namespace
	}
	return s.Name
}

// +kubebuilder:object:root=true

// SpaceList is a list of Spaces.
type SpaceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Space `json:"items"`
}
