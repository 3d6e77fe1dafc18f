package controller

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
)

// outcome is the result of one reconcile pass, summarised as the three
// kstatus conditions: Ready (positive), Reconciling and Stalled (abnormal-true,
// removed when false).
type outcome struct {
	state   state
	reason  string
	message string
}

type state int

const (
	stateReady       state = iota // everything is as declared
	stateReconciling              // progressing; will settle without the user
	stateStalled                  // the user must fix the object
)

func ready(reason, format string, args ...any) outcome {
	return outcome{state: stateReady, reason: reason, message: fmt.Sprintf(format, args...)}
}

func reconciling(reason, format string, args ...any) outcome {
	return outcome{state: stateReconciling, reason: reason, message: fmt.Sprintf(format, args...)}
}

func stalled(reason, format string, args ...any) outcome {
	return outcome{state: stateStalled, reason: reason, message: fmt.Sprintf(format, args...)}
}

// setConditions writes an outcome as conditions observed at generation. Times
// only move when a condition's status changes, so an unchanged outcome leaves
// the status as it was (and nothing is written).
func setConditions(conds *[]metav1.Condition, generation int64, o outcome) {
	readyStatus := metav1.ConditionFalse
	if o.state == stateReady {
		readyStatus = metav1.ConditionTrue
	}
	meta.SetStatusCondition(conds, metav1.Condition{
		Type: governorv1alpha1.ConditionReady, Status: readyStatus,
		Reason: o.reason, Message: o.message, ObservedGeneration: generation,
	})
	setAbnormal(conds, governorv1alpha1.ConditionReconciling, o.state == stateReconciling, generation, o)
	setAbnormal(conds, governorv1alpha1.ConditionStalled, o.state == stateStalled, generation, o)
}

func setAbnormal(conds *[]metav1.Condition, condType string, on bool, generation int64, o outcome) {
	if !on {
		meta.RemoveStatusCondition(conds, condType)
		return
	}
	meta.SetStatusCondition(conds, metav1.Condition{
		Type: condType, Status: metav1.ConditionTrue,
		Reason: o.reason, Message: o.message, ObservedGeneration: generation,
	})
}

// stalledError is an error the user must fix: it becomes a Stalled condition
// and is not retried until the object (or what it refers to) changes.
type stalledError struct {
	reason  string
	message string
	// recheck, when set, looks again after this long: what the user must fix
	// is outside what the watches see (an object the cache does not hold).
	recheck time.Duration
}

func (e *stalledError) Error() string { return e.message }

func stall(reason, format string, args ...any) error {
	return &stalledError{reason: reason, message: fmt.Sprintf(format, args...)}
}

// stallRecheck is a stall that is looked at again after d.
func stallRecheck(d time.Duration, reason, format string, args ...any) error {
	return &stalledError{reason: reason, message: fmt.Sprintf(format, args...), recheck: d}
}

// recheckAfter is how long a stalled or waiting error asks to wait before
// looking again (0: never, the watches bring the object back).
func recheckAfter(err error) time.Duration {
	var s *stalledError
	if errors.As(err, &s) {
		return s.recheck
	}
	var w *waitingError
	if errors.As(err, &w) {
		return w.recheck
	}
	return 0
}

// waitingError is a state that resolves by itself or by another object's
// change (which the watches deliver): Reconciling, no backoff.
type waitingError struct {
	reason  string
	message string
	// recheck, when set, looks again after this long: the wait ends with
	// time, not with an event.
	recheck time.Duration
}

func (e *waitingError) Error() string { return e.message }

func wait(reason, format string, args ...any) error {
	return &waitingError{reason: reason, message: fmt.Sprintf(format, args...)}
}

// waitUntil is a wait that ends after d.
func waitUntil(d time.Duration, reason, format string, args ...any) error {
	return &waitingError{reason: reason, message: fmt.Sprintf(format, args...), recheck: d}
}

// classify maps a phase's error to an outcome and whether to return it to
// the work queue (transient errors back off; stalled and waiting do not).
func classify(err error) (outcome, bool) {
	var s *stalledError
	if errors.As(err, &s) {
		return stalled(s.reason, "%s", s.message), false
	}
	var w *waitingError
	if errors.As(err, &w) {
		return reconciling(w.reason, "%s", w.message), false
	}
	return reconciling("Retrying", "%v", err), true
}

func errorClass(err error) string {
	var s *stalledError
	if errors.As(err, &s) {
		return "stalled"
	}
	var w *waitingError
	if errors.As(err, &w) {
		return "waiting"
	}
	return "transient"
}
