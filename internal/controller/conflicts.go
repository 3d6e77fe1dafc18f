package controller

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// conflictRetry is how soon a reconcile that lost an optimistic-lock race
// runs again.
const conflictRetry = 100 * time.Millisecond

// RetryConflicts runs r, and turns an error that only says another writer
// was first (an optimistic-lock conflict on an update, or a create racing
// the cache) into a quick retry logged at debug level: the next reconcile
// reads the newer object and is expected to succeed. Every other error is
// returned as it is, and logged as an error by controller-runtime.
func RetryConflicts[T comparable](r reconcile.TypedReconciler[T]) reconcile.TypedReconciler[T] {
	return reconcile.TypedFunc[T](func(ctx context.Context, req T) (reconcile.Result, error) {
		res, err := r.Reconcile(ctx, req)
		if err != nil && (apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)) {
			log.FromContext(ctx).V(1).Info("retrying after a concurrent write", "cause", err.Error())
			return reconcile.Result{RequeueAfter: conflictRetry}, nil
		}
		return res, err
	})
}
