package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// BuiltinRole is the fixed role of a default group.
// +kubebuilder:validation:Enum="";AllUsers;Viewer;Editor;Admin
type BuiltinRole string

// The built-in roles. The empty role is a custom group.
const (
	BuiltinNone     BuiltinRole = ""
	BuiltinAllUsers BuiltinRole = "AllUsers"
	BuiltinViewer   BuiltinRole = "Viewer"
	BuiltinEditor   BuiltinRole = "Editor"
	BuiltinAdmin    BuiltinRole = "Admin"
)

// UniversalLevel is a level granted on every object of a kind.
// +kubebuilder:validation:Enum=None;Use;Edit;Own
type UniversalLevel string

// QueryLibraryLevel is a level on the query library, which has no Own.
// +kubebuilder:validation:Enum=None;Use;Edit
type QueryLibraryLevel string

// PermissionGroupSpec declares a group of users and its Space-wide levels.
//
// +kubebuilder:validation:XValidation:rule="!has(self.builtin) || !(self.builtin in ['Viewer', 'Editor', 'Admin']) || !has(self.universal)",message="universal: only custom and AllUsers groups take universal rules; Viewer, Editor and Admin have fixed levels"
// +kubebuilder:validation:XValidation:rule="!has(self.builtin) || !(self.builtin in ['Viewer', 'Editor', 'Admin']) || !has(self.additional)",message="additional: only custom and AllUsers groups take additional rules; Viewer, Editor and Admin have fixed levels"
// +kubebuilder:validation:XValidation:rule="!has(self.builtin) || self.builtin != 'AllUsers' || !has(self.members) || size(self.members) == 0",message="members: the AllUsers group has every member of the Space; its membership cannot be listed"
// +kubebuilder:validation:XValidation:rule="!has(self.builtin) || self.builtin != 'AllUsers' || !has(self.idpGroups) || size(self.idpGroups) == 0",message="idpGroups: the AllUsers group has every member of the Space; it cannot map IdP groups"
// +kubebuilder:validation:XValidation:rule="has(self.builtin) == has(oldSelf.builtin) && (!has(self.builtin) || self.builtin == oldSelf.builtin)",message="builtin is immutable: create a new group instead"
type PermissionGroupSpec struct {
	// displayName is the name people see.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	DisplayName string `json:"displayName,omitempty"`

	// builtin is the group's fixed role: "" (a custom group), AllUsers,
	// Viewer, Editor or Admin. Immutable.
	// +optional
	Builtin BuiltinRole `json:"builtin,omitempty"`

	// members are the users listed in the group, keyed by email. None on AllUsers.
	// +optional
	// +listType=map
	// +listMapKey=email
	// +kubebuilder:validation:MaxItems=5000
	Members []Member `json:"members,omitempty"`

	// idpGroups are identity provider groups whose members belong to this group.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=256
	IdPGroups []string `json:"idpGroups,omitempty"`

	// universal are the "Use all / Edit all / Own all" rules. Custom and
	// AllUsers groups only.
	// +optional
	Universal *UniversalAccess `json:"universal,omitempty"`

	// additional are the organisation-level rules. Custom and AllUsers groups only.
	// +optional
	Additional *AdditionalAccess `json:"additional,omitempty"`
}

// Member is a user listed in a group.
//
// +kubebuilder:validation:XValidation:rule="!has(self.expires) || (self.expires >= timestamp('2000-01-01T00:00:00Z') && self.expires < timestamp('2100-01-01T00:00:00Z'))",message="expires: an RFC 3339 time between the years 2000 and 2100, like 2026-12-31T17:00:00Z",fieldPath=".expires"
type Member struct {
	// email identifies the user: ASCII only, LOCAL@DOMAIN (an internationalised
	// domain in punycode, xn--...). Compared lower-cased with ASCII rules, never
	// Unicode-folded (docs/access-model.md, canonical input).
	// +required
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:Pattern=`^[!-?A-~]+@[!-?A-~]+$`
	Email string `json:"email"`
	// groupAdmin may add and remove members of this group, and nothing else.
	// +optional
	GroupAdmin bool `json:"groupAdmin,omitempty"`
	// expires is when the membership ends (RFC 3339, like
	// 2026-12-31T17:00:00Z). From that instant on the user is not in the
	// group: the access model leaves them out and the platform sync removes
	// them from the instances. The entry stays in the spec (status.expired
	// lists it) until someone removes it.
	// +optional
	Expires *metav1.Time `json:"expires,omitempty"`
}

// UniversalAccess grants a level on every object of a kind.
type UniversalAccess struct {
	// apps level on every app. Default None.
	// +optional
	// +kubebuilder:default=None
	Apps UniversalLevel `json:"apps,omitempty"`
	// workflows level on every workflow. Default None.
	// +optional
	// +kubebuilder:default=None
	Workflows UniversalLevel `json:"workflows,omitempty"`
	// resources level on every resource. Default None.
	// +optional
	// +kubebuilder:default=None
	Resources UniversalLevel `json:"resources,omitempty"`
	// queryLibrary level (None, Use, Edit). Default None.
	// +optional
	// +kubebuilder:default=None
	QueryLibrary QueryLibraryLevel `json:"queryLibrary,omitempty"`
}

// AdditionalAccess are organisation-level permissions.
type AdditionalAccess struct {
	// userList lets members view the Space's users.
	// +optional
	UserList bool `json:"userList,omitempty"`
	// auditLog lets members view the audit log.
	// +optional
	AuditLog bool `json:"auditLog,omitempty"`
	// unpublishedReleases lets members with Use open releases that are not live.
	// +optional
	UnpublishedReleases bool `json:"unpublishedReleases,omitempty"`
	// usageAnalytics lets members view usage analytics.
	// +optional
	UsageAnalytics bool `json:"usageAnalytics,omitempty"`
	// themes lets members manage themes.
	// +optional
	Themes bool `json:"themes,omitempty"`
	// accountDetails lets members view account details.
	// +optional
	AccountDetails bool `json:"accountDetails,omitempty"`
}

// PermissionGroupStatus is what Governor observed.
type PermissionGroupStatus struct {
	// observedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions: Ready, Reconciling, Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// space that governs the group's namespace.
	// +optional
	Space string `json:"space,omitempty"`
	// memberCount is the number of listed members whose membership has not expired.
	// +optional
	MemberCount int32 `json:"memberCount"`
	// nextExpiry is when the next listed membership ends.
	// +optional
	NextExpiry *metav1.Time `json:"nextExpiry,omitempty"`
	// expiring are the memberships that end in the next 7 days, soonest first.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=5000
	Expiring []Expiry `json:"expiring,omitempty"`
	// expired are the memberships that have ended but are still listed in
	// spec.members, soonest first: they are out of the access model.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=5000
	Expired []Expiry `json:"expired,omitempty"`
}

// PermissionGroup is a list of users and the access they share in a Space.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=pg;pgroup,categories=governor
// +kubebuilder:printcolumn:name="Builtin",type=string,JSONPath=`.spec.builtin`
// +kubebuilder:printcolumn:name="Members",type=integer,JSONPath=`.status.memberCount`
// +kubebuilder:printcolumn:name="Next Expiry",type=string,JSONPath=`.status.nextExpiry`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type PermissionGroup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec PermissionGroupSpec `json:"spec,omitempty"`
	// +optional
	Status PermissionGroupStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// PermissionGroupList is a list of PermissionGroups.
type PermissionGroupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PermissionGroup `json:"items"`
}
