package platform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/platform/syncer"
)

// fieldManager is the platform controller's field manager: it owns a
// Space's status.platform and PlatformSynced condition, and its records.
const fieldManager = "governor-platform"

// recordKey is the record's key in its ConfigMap.
const recordKey = "record.json"

// flushEvery bounds how long effects wait in memory during a pass.
const flushEvery = 5 * time.Second

// record is what Governor knows of one environment's instance, kept in a
// ConfigMap of Governor's namespace (governor-platform-SPACE-ENV): the ids
// survive a restore of the cluster without status, and the team that owns
// the Space's namespace cannot edit them. Ids are hints; each pass checks
// them against the instance's listings.
type record struct {
	SpaceID string `json:"spaceId,omitempty"`
	// SpaceCreated is set when Governor created the Space in the instance
	// (through the admin Space): its default groups are Governor's from
	// birth.
	SpaceCreated   bool              `json:"spaceCreated,omitempty"`
	Groups         map[string]int64  `json:"groups,omitempty"`
	CreatedGroups  []int64           `json:"createdGroups,omitempty"`
	CreatedGrants  []string          `json:"createdGrants,omitempty"`
	Folders        map[string]string `json:"folders,omitempty"`
	PendingCreates []string          `json:"pendingCreates,omitempty"`
	// SSODigest digests the secrets last sent with the instance's SSO
	// configuration (never the secrets): a changed Secret is sent again.
	SSODigest string `json:"ssoDigest,omitempty"`
}

func toRecord(spaceID string, r syncer.Recorded) record {
	groups, grants := r.CreatedList()
	return record{SpaceID: spaceID, SpaceCreated: r.SpaceCreated, Groups: maps.Clone(r.GroupIDs), CreatedGroups: groups, CreatedGrants: grants,
		Folders: maps.Clone(r.Folders), PendingCreates: slices.Sorted(maps.Keys(r.PendingCreates)), SSODigest: r.SSODigest}
}

func (rec record) recorded() syncer.Recorded {
	out := syncer.NewRecorded()
	out.SpaceCreated = rec.SpaceCreated
	maps.Copy(out.GroupIDs, rec.Groups)
	for _, id := range rec.CreatedGroups {
		out.CreatedGroups[id] = true
	}
	for _, g := range rec.CreatedGrants {
		out.CreatedGrants[g] = true
	}
	maps.Copy(out.Folders, rec.Folders)
	for _, n := range rec.PendingCreates {
		out.PendingCreates[n] = true
	}
	out.SSODigest = rec.SSODigest
	return out
}

// envRecord is one environment's record in memory: effects are applied as
// they arrive and written out at most every flushEvery and at the end of
// each pass, however it ends.
type envRecord struct {
	mu        sync.Mutex
	loaded    bool
	spaceID   string
	rec       syncer.Recorded
	written   string // the JSON last read or written
	lastFlush time.Time
}

// recordName names the ConfigMap of a Space's environment.
func recordName(space, env string) string {
	name := "governor-platform-" + space + "-" + env
	if len(name) <= 253 {
		return name
	}
	sum := sha256.Sum256([]byte(space + "/" + env))
	return name[:236] + "-" + hex.EncodeToString(sum[:8])
}

// load reads the record once per process (the API server, not a cache:
// Governor watches no ConfigMaps).
func (e *envRecord) load(ctx context.Context, reader client.Reader, namespace, space, env string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.loaded {
		return nil
	}
	cm := &corev1.ConfigMap{}
	err := reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: recordName(space, env)}, cm)
	switch {
	case apierrors.IsNotFound(err):
		e.rec = syncer.NewRecorded()
	case err != nil:
		return syncer.Retry(syncer.ReasonAPIServerError, fmt.Errorf("reading the record ConfigMap %s/%s: %w", namespace, recordName(space, env), err))
	default:
		var r record
		if raw := cm.Data[recordKey]; raw != "" {
			if err := json.Unmarshal([]byte(raw), &r); err != nil {
				// A damaged record: the listings rebuild ids; what was created
				// before cannot be told from what was adopted.
				r = record{}
			}
			e.written = raw
		}
		e.rec, e.spaceID = r.recorded(), r.SpaceID
	}
	e.loaded = true
	return nil
}

// snapshot returns a copy of the record for a pass.
func (e *envRecord) snapshot() (syncer.Recorded, string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rec.Clone(), e.spaceID
}

func (e *envRecord) apply(ef syncer.Effect) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rec.Apply(ef)
}

// setSpaceID records the Space's id in the instance: the recorded one, one
// found by domain (created is false: someone else made it), or one Governor
// just created.
func (e *envRecord) setSpaceID(id string, created bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.spaceID != id {
		e.rec.SpaceCreated = created
	} else {
		e.rec.SpaceCreated = e.rec.SpaceCreated || created
	}
	e.spaceID = id
}

// due reports whether effects have waited flushEvery.
func (e *envRecord) due() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return time.Since(e.lastFlush) >= flushEvery
}

// flush writes the record when it changed (server-side apply; the
// ConfigMap belongs to the Space and goes with it).
func (e *envRecord) flush(ctx context.Context, c client.Client, namespace string, space *governorv1alpha1.Space, env string) error {
	e.mu.Lock()
	raw, err := json.Marshal(toRecord(e.spaceID, e.rec))
	if err != nil || string(raw) == e.written {
		e.lastFlush = time.Now()
		e.mu.Unlock()
		return err
	}
	e.mu.Unlock()
	cm := corev1ac.ConfigMap(recordName(space.Name, env), namespace).
		WithLabels(map[string]string{governorv1alpha1.LabelManagedBy: governorv1alpha1.ManagedByGovernor,
			"governor.dev/space": labelValue(space.Name), "governor.dev/environment": env}).
		WithOwnerReferences(metav1ac.OwnerReference().WithAPIVersion(governorv1alpha1.GroupVersion.String()).WithKind("Space").
			WithName(space.Name).WithUID(space.UID)).
		WithData(map[string]string{recordKey: string(raw)})
	if err := c.Apply(ctx, cm, client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
		return syncer.Retry(syncer.ReasonAPIServerError, fmt.Errorf("writing the record ConfigMap %s/%s: %w", namespace, recordName(space.Name, env), err))
	}
	e.mu.Lock()
	e.written, e.lastFlush = string(raw), time.Now()
	e.mu.Unlock()
	return nil
}

// labelValue is name when it fits a label value, else its hash.
func labelValue(name string) string {
	if len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:16])
}

// LoadRecorded reads what Governor recorded of a Space's environment (for
// `governor platform plan`).
func LoadRecorded(ctx context.Context, reader client.Reader, namespace, space, env string) (syncer.Recorded, error) {
	e := &envRecord{}
	if err := e.load(ctx, reader, namespace, space, env); err != nil {
		return syncer.Recorded{}, err
	}
	r, _ := e.snapshot()
	return r, nil
}
