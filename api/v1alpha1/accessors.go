package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Conditioned is implemented by every kind: its status conditions and the
// generation they describe, read and written without knowing the kind.
// +kubebuilder:object:generate=false
type Conditioned interface {
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
	GetObservedGeneration() int64
	SetObservedGeneration(int64)
}

// GetConditions returns the Space's conditions.
func (s *Space) GetConditions() []metav1.Condition { return s.Status.Conditions }

// SetConditions replaces the Space's conditions.
func (s *Space) SetConditions(c []metav1.Condition) { s.Status.Conditions = c }

// GetObservedGeneration is the generation the Space's status describes.
func (s *Space) GetObservedGeneration() int64 { return s.Status.ObservedGeneration }

// SetObservedGeneration records the generation the Space's status describes.
func (s *Space) SetObservedGeneration(g int64) { s.Status.ObservedGeneration = g }

// GetConditions returns the group's conditions.
func (g *PermissionGroup) GetConditions() []metav1.Condition { return g.Status.Conditions }

// SetConditions replaces the group's conditions.
func (g *PermissionGroup) SetConditions(c []metav1.Condition) { g.Status.Conditions = c }

// GetObservedGeneration is the generation the group's status describes.
func (g *PermissionGroup) GetObservedGeneration() int64 { return g.Status.ObservedGeneration }

// SetObservedGeneration records the generation the group's status describes.
func (g *PermissionGroup) SetObservedGeneration(gen int64) { g.Status.ObservedGeneration = gen }

// SetSpace records the Space that governs the group's namespace.
func (g *PermissionGroup) SetSpace(name string) { g.Status.Space = name }

// GetSpace is the Space that governs the group's namespace, as status records it.
func (g *PermissionGroup) GetSpace() string { return g.Status.Space }

// GetConditions returns the rule's conditions.
func (r *AccessRule) GetConditions() []metav1.Condition { return r.Status.Conditions }

// SetConditions replaces the rule's conditions.
func (r *AccessRule) SetConditions(c []metav1.Condition) { r.Status.Conditions = c }

// GetObservedGeneration is the generation the rule's status describes.
func (r *AccessRule) GetObservedGeneration() int64 { return r.Status.ObservedGeneration }

// SetObservedGeneration records the generation the rule's status describes.
func (r *AccessRule) SetObservedGeneration(g int64) { r.Status.ObservedGeneration = g }

// SetSpace records the Space that governs the rule's namespace.
func (r *AccessRule) SetSpace(name string) { r.Status.Space = name }

// GetSpace is the Space that governs the rule's namespace, as status records it.
func (r *AccessRule) GetSpace() string { return r.Status.Space }

// GetConditions returns the release's conditions.
func (r *Release) GetConditions() []metav1.Condition { return r.Status.Conditions }

// SetConditions replaces the release's conditions.
func (r *Release) SetConditions(c []metav1.Condition) { r.Status.Conditions = c }

// GetObservedGeneration is the generation the release's status describes.
func (r *Release) GetObservedGeneration() int64 { return r.Status.ObservedGeneration }

// SetObservedGeneration records the generation the release's status describes.
func (r *Release) SetObservedGeneration(g int64) { r.Status.ObservedGeneration = g }
