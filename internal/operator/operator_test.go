package operator

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
)

func withUnread() metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:          "x",
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
		Annotations:   map[string]string{corev1.LastAppliedConfigAnnotation: `{"big":"json"}`, "keep": "me"},
	}
}

// The cache holds no managedFields and no last-applied annotation, except
// on the kinds Governor updates whole (whose annotation an Update would drop).
func TestCacheStripsWhatGovernorNeverReads(t *testing.T) {
	opts := cacheOptions(Options{})
	if opts.DefaultTransform == nil {
		t.Fatal("no DefaultTransform")
	}
	group := &governorv1alpha1.PermissionGroup{ObjectMeta: withUnread()}
	if _, err := opts.DefaultTransform(group); err != nil {
		t.Fatal(err)
	}
	if group.ManagedFields != nil || group.Annotations[corev1.LastAppliedConfigAnnotation] != "" || group.Annotations["keep"] != "me" {
		t.Errorf("group after the transform: %+v", group.ObjectMeta)
	}
	var spaceTransform cache.TransformFunc
	for obj, by := range opts.ByObject {
		if _, ok := obj.(*governorv1alpha1.Space); ok {
			spaceTransform = by.Transform
		}
	}
	if spaceTransform == nil {
		t.Fatal("Spaces have no transform")
	}
	space := &governorv1alpha1.Space{ObjectMeta: withUnread()}
	if _, err := spaceTransform(space); err != nil {
		t.Fatal(err)
	}
	if space.ManagedFields != nil || space.Annotations[corev1.LastAppliedConfigAnnotation] == "" {
		t.Errorf("a Space loses its managedFields and keeps its last-applied annotation: %+v", space.ObjectMeta)
	}
	tomb := cache.DeletedFinalStateUnknown{Key: "x"}
	if out, err := opts.DefaultTransform(tomb); err != nil || out != tomb {
		t.Errorf("a tombstone passes unchanged: %v %v", out, err)
	}
}
