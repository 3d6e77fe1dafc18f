package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/gitref"
)

// resolve resolves the release's ref in its Space's repository. Errors are
// stalled (the user must fix the ref, the Secret or the Space) or waiting
// (the repository is unreachable), and name the ref and the repository.
func (r *ReleaseReconciler) resolve(ctx context.Context, space *governorv1alpha1.Space, rel *governorv1alpha1.Release) (gitref.Resolution, error) {
	sc := space.EffectiveSourceControl()
	if sc == nil || sc.Repository == "" {
		return gitref.Resolution{}, stall("NoSourceControl",
			"spec.ref: the Space %s has no sourceControl.repository (set or inherited) to resolve %q against", space.Name, rel.Spec.Ref)
	}
	creds, err := r.credentials(ctx, sc, rel.Spec.Ref)
	if err != nil {
		return gitref.Resolution{}, err
	}
	res, err := r.Resolver.Resolve(ctx, sc.Repository, creds, rel.Spec.Ref)
	switch {
	case err == nil:
		return res, nil
	case gitref.IsAuthError(err):
		return res, stall("AuthFailed", "%v; %s", err, credentialsHint(sc, r.Namespace))
	case gitref.IsNotFound(err):
		return res, stall("RefNotFound", "spec.ref: %v", err)
	case gitref.IsInvalid(err):
		return res, stall("InvalidRef", "spec.ref: %v", err)
	}
	return res, wait("RepositoryUnreachable", "%v; retrying", err)
}

func credentialsHint(sc *governorv1alpha1.SourceControl, namespace string) string {
	if sc.CredentialsSecretRef == nil {
		return "the repository was read anonymously: name a credentials Secret in the Space's sourceControl.credentialsSecretRef"
	}
	return fmt.Sprintf("check the credentials in Secret %s/%s", namespace, sc.CredentialsSecretRef.Name)
}

// credentials reads the repository's credentials from Governor's namespace.
func (r *ReleaseReconciler) credentials(ctx context.Context, sc *governorv1alpha1.SourceControl, ref string) (gitref.Credentials, error) {
	if sc.CredentialsSecretRef == nil {
		return gitref.Credentials{}, nil
	}
	name := sc.CredentialsSecretRef.Name
	if r.Namespace == "" {
		return gitref.Credentials{}, stall("CredentialsNotFound",
			"resolving ref %q in repository %s: Governor runs without its own namespace (--namespace), so credentials Secret %s cannot be read",
			ref, sc.Repository, name)
	}
	secret := &corev1.Secret{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: r.Namespace, Name: name}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return gitref.Credentials{}, stall("CredentialsNotFound",
				"resolving ref %q in repository %s: credentials Secret %s/%s not found: create it (keys token, username and password, or identity and known_hosts)",
				ref, sc.Repository, r.Namespace, name)
		}
		return gitref.Credentials{}, err
	}
	creds, err := gitref.CredentialsFromSecret(secret.Data)
	if err != nil {
		return gitref.Credentials{}, stall("InvalidCredentials", "resolving ref %q in repository %s: Secret %s/%s: %v",
			ref, sc.Repository, r.Namespace, name, err)
	}
	return creds, nil
}

// recordResolution writes the resolved commit. A branch that moved is an
// event; a tag that moved is a warning event and the TagMoved condition,
// which stays.
func (r *ReleaseReconciler) recordResolution(rel *governorv1alpha1.Release, res gitref.Resolution) {
	st := &rel.Status
	prev, prevRef := st.Commit, st.ResolvedRef
	st.Commit, st.ResolvedRef = res.Commit, res.Name
	st.ShortCommit = res.Commit
	if len(st.ShortCommit) > 7 {
		st.ShortCommit = st.ShortCommit[:7]
	}
	if prev == "" || prev == res.Commit || prevRef != res.Name {
		return
	}
	switch res.Kind {
	case gitref.KindBranch:
		r.Recorder.Eventf(rel, nil, corev1.EventTypeNormal, "BranchMoved", "Resolve",
			"branch %s moved from %s to %s", rel.Spec.Ref, prev, res.Commit)
	case gitref.KindTag:
		msg := fmt.Sprintf("tag %s moved from %s to %s: release tags are meant not to move; the release now names %s",
			rel.Spec.Ref, prev, res.Commit, res.Commit)
		r.Recorder.Eventf(rel, nil, corev1.EventTypeWarning, "TagMoved", "Resolve", "%s", msg)
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: governorv1alpha1.ConditionTagMoved, Status: metav1.ConditionTrue,
			Reason: "TagMoved", Message: msg, ObservedGeneration: rel.Generation})
	}
}
