package controller

import (
	"context"
	"errors"
	"fmt"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// A lost optimistic-lock race or a create that raced the cache is retried
// soon and returns no error (controller-runtime would log it as one); any
// other error and any result pass through unchanged.
func TestRetryConflicts(t *testing.T) {
	gr := schema.GroupResource{Group: "governor.dev", Resource: "accessrules"}
	for name, c := range map[string]struct {
		res       reconcile.Result
		err       error
		wantRes   reconcile.Result
		wantError bool
	}{
		"conflict":           {err: apierrors.NewConflict(gr, "finance-apps", errors.New("the object has been modified")), wantRes: reconcile.Result{RequeueAfter: conflictRetry}},
		"wrapped conflict":   {err: fmt.Errorf("adding the finalizer: %w", apierrors.NewConflict(gr, "x", errors.New("modified"))), wantRes: reconcile.Result{RequeueAfter: conflictRetry}},
		"already exists":     {err: apierrors.NewAlreadyExists(gr, "governor-group-admins-finance"), wantRes: reconcile.Result{RequeueAfter: conflictRetry}},
		"other error":        {res: reconcile.Result{RequeueAfter: 7}, err: apierrors.NewForbidden(gr, "x", errors.New("no")), wantRes: reconcile.Result{RequeueAfter: 7}, wantError: true},
		"success":            {res: reconcile.Result{RequeueAfter: 42}, wantRes: reconcile.Result{RequeueAfter: 42}},
		"not found, as such": {err: apierrors.NewNotFound(gr, "x"), wantError: true},
	} {
		t.Run(name, func(t *testing.T) {
			r := RetryConflicts[reconcile.Request](reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
				return c.res, c.err
			}))
			res, err := r.Reconcile(context.Background(), reconcile.Request{})
			if (err != nil) != c.wantError {
				t.Fatalf("error %v, want error: %v", err, c.wantError)
			}
			if c.wantError && !errors.Is(err, c.err) {
				t.Fatalf("error %v, want %v unchanged", err, c.err)
			}
			if res != c.wantRes {
				t.Fatalf("result %+v, want %+v", res, c.wantRes)
			}
		})
	}
}
