package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Expiry is a membership's or a rule's end.
type Expiry struct {
	// email of the member whose membership ends; absent on an AccessRule
	// (the rule itself ends).
	// +optional
	// +kubebuilder:validation:MaxLength=254
	Email string `json:"email,omitempty"`
	// expires is when the access ends.
	// +required
	Expires metav1.Time `json:"expires"`
}
