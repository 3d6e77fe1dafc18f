package platform

import (
	"context"
	"sort"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	ctrlpkg "github.com/governor-dev/governor/internal/controller"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/syncer"
	"github.com/governor-dev/governor/internal/spacemodel"
)

// verifySlice is how many objects' access lists a pass compares with the
// model (one request each), so that a whole instance is compared over a
// few resyncs within the request budget.
const verifySlice = 50

// effectiveDrift is what the sync's slices of `governor platform verify`
// found in one environment's instance: the differences per object, kept
// until that object is compared again.
type effectiveDrift struct {
	mu sync.Mutex
	// lastSlice is when the last slice started; throttled is the
	// instance's count of 429s when it ended (see due).
	lastSlice time.Time
	throttled int64
	// cursor is where the next slice starts among the listed objects.
	cursor int
	// byObject holds the differences of each compared object.
	byObject map[string][]platform.Difference
}

// next compares the next slice of objects and returns the drift over every
// object compared so far (nil when none differs).
func (d *effectiveDrift) next(ctx context.Context, inst syncer.VerifyReader, reader client.Reader, space *governorv1alpha1.Space, env string, model *ctrlpkg.Model) (*governorv1alpha1.PlatformDrift, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	// The Space's declared input tells which members are in a group through
	// an IdP mapping (the instance lists them without saying why).
	loaded, err := spacemodel.Load(ctx, reader, space.Name)
	if err != nil {
		return nil, err
	}
	var slice []platform.InstanceObject
	var listed []platform.InstanceObject
	v, err := syncer.Verify(ctx, inst, syncer.VerifyInput{Model: model.Snapshot, Space: loaded.Input, Environment: env,
		Select: func(objects []platform.InstanceObject) []platform.InstanceObject {
			listed = objects
			if len(objects) == 0 {
				return nil
			}
			start := d.cursor % len(objects)
			for i := 0; i < min(verifySlice, len(objects)); i++ {
				slice = append(slice, objects[(start+i)%len(objects)])
			}
			return slice
		}})
	if err != nil {
		return nil, err
	}
	if d.byObject == nil {
		d.byObject = map[string][]platform.Difference{}
	}
	present := map[string]bool{}
	for _, o := range listed {
		present[o.String()] = true
	}
	for name := range d.byObject {
		if !present[name] {
			delete(d.byObject, name) // gone from the instance
		}
	}
	for _, o := range slice {
		delete(d.byObject, o.String())
	}
	for _, diff := range v.Differences {
		d.byObject[diff.Object] = append(d.byObject[diff.Object], diff)
	}
	d.cursor += len(slice)
	return d.summary(), nil
}

// due reports whether a slice may run now, and if so marks it started: at
// most one per interval, and none while the instance answers 429s (its
// budget goes to the sync first).
func (d *effectiveDrift) due(now time.Time, interval time.Duration, throttled int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if throttled != d.throttled {
		d.throttled = throttled // throttled since: wait for a quiet interval
		d.lastSlice = now
		return false
	}
	if now.Sub(d.lastSlice) < interval {
		return false
	}
	d.lastSlice = now
	return true
}

// settled records the instance's count of 429s once a slice ended.
func (d *effectiveDrift) settled(throttled int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.throttled = throttled
}

// last is the drift found so far, without comparing anything.
func (d *effectiveDrift) last() *governorv1alpha1.PlatformDrift {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.summary()
}

func (d *effectiveDrift) summary() *governorv1alpha1.PlatformDrift {
	var all []string
	for _, diffs := range d.byObject {
		for _, x := range diffs {
			all = append(all, x.User+" on "+x.Object+": instance "+x.InstanceLevel+", model "+x.ModelLevel)
		}
	}
	if len(all) == 0 {
		return nil
	}
	sort.Strings(all)
	return &governorv1alpha1.PlatformDrift{Count: int32(len(all)), Examples: firstN(all, 10)}
}
