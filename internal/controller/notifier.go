package controller

import (
	"context"
	"sync"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// notifier hands requests to the work queues of the controllers that
// subscribed through its source (those running: on the leader only, for
// controllers that need the lease).
type notifier struct {
	mu     sync.Mutex
	queues map[workqueue.TypedRateLimitingInterface[reconcile.Request]]struct{}
}

func (n *notifier) send(req reconcile.Request) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for q := range n.queues {
		q.Add(req)
	}
}

func (n *notifier) source() source.Source {
	return source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		n.mu.Lock()
		if n.queues == nil {
			n.queues = map[workqueue.TypedRateLimitingInterface[reconcile.Request]]struct{}{}
		}
		n.queues[q] = struct{}{}
		n.mu.Unlock()
		go func() {
			<-ctx.Done()
			n.mu.Lock()
			delete(n.queues, q)
			n.mu.Unlock()
		}()
		return nil
	})
}
