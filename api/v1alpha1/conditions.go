package v1alpha1

// Condition types shared by every kind. Ready is the positive summary;
// Reconciling and Stalled are abnormal-true, as kstatus and Argo CD read them.
const (
	ConditionReady       = "Ready"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"
	// ConditionPlatformSynced is True on a Space when every environment's
	// instance holds the current access model revision.
	ConditionPlatformSynced = "PlatformSynced"
	// ConditionGroupAdminsBound is True on a PermissionGroup with group
	// admins when they are bound to its Role; False (the reason says why)
	// while the admission policy that limits them to spec.members is not
	// installed as shipped, when they get no rights at all.
	ConditionGroupAdminsBound = "GroupAdminsBound"
	// ConditionNamespaceOwned is True on a Space that governs its namespace:
	// Governor created or adopted it for this Space and no other Space claims
	// it. Only such a Space has an access model (checks, who-can, the
	// platform sync); False says why not.
	ConditionNamespaceOwned = "NamespaceOwned"
	// ConditionPlatformExpressible is False on an AccessRule with a target
	// that an environment's instance cannot hold at the rule's level (reason
	// ReasonNotExpressible; the message names the target, the environment
	// and the level the instance grants instead), and True otherwise.
	ConditionPlatformExpressible = "PlatformExpressible"
	// ReasonNotExpressible is PlatformExpressible's reason when it is False.
	ReasonNotExpressible = "NotExpressible"
	// ReasonObserving is PlatformSynced's reason on a Space whose
	// spec.platform.mode is Observe once its environments were read: True
	// when no instance needs a call to hold the model, False while some do
	// (status.platform[].planned lists them). It leaves the Space Ready:
	// observing is where the Space was asked to be.
	ReasonObserving = "Observing"
)

// Labels and annotations Governor sets or reads.
const (
	// LabelSpace marks a namespace as governed by the named Space.
	LabelSpace = "governor.dev/space"
	// AnnotationReleasedBy and AnnotationReleasedAt mark a namespace whose
	// Space was deleted (it had adopted the namespace, which stays): a Space
	// of the same name adopting it again trusts the groups and rules last
	// written before that instant, which that Space governed.
	AnnotationReleasedBy = "governor.dev/released-by"
	AnnotationReleasedAt = "governor.dev/released-at"
	// AnnotationReadoptedBy holds the UID of the Space that readopted the
	// namespace, so that its check is not repeated.
	AnnotationReadoptedBy = "governor.dev/readopted-by"
	// LabelManagedBy is set to ManagedByGovernor on every object Governor creates.
	LabelManagedBy    = "app.kubernetes.io/managed-by"
	ManagedByGovernor = "governor"
	// SpaceFinalizer lets a Space remove what it created before it goes.
	SpaceFinalizer = "governor.dev/space"
	// PlatformFinalizer lets Governor remove what it created in the platform's
	// instances before a Space, group or rule goes.
	PlatformFinalizer = "governor.dev/platform"
)
