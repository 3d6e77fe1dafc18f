package bench

import (
	"context"
	_ "embed" // the SpiceDB schema
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	v1 "github.com/authzed/authzed-go/proto/authzed/api/v1"
	"github.com/authzed/spicedb/pkg/cmd/datastore"
	"github.com/authzed/spicedb/pkg/cmd/server"
	"github.com/authzed/spicedb/pkg/cmd/util"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/governor-dev/governor/internal/access"
)

// The SpiceDB encoding: governor.zed is the schema (Zanzibar's relations and
// permissions, with caveats for what relationships alone cannot say); a Space
// is written as relationships into SpiceDB's in-memory datastore, served
// in-process over gRPC's in-memory transport, the way SpiceDB embeds.
//
//go:embed governor.zed
var spiceSchema string

// SpiceDB is an in-process SpiceDB server holding one Space.
type SpiceDB struct {
	conn   *grpc.ClientConn
	client v1.PermissionsServiceClient
	stop   context.CancelFunc
	done   chan error
	// Relationships counts what the Space was written as.
	Relationships int
}

// rootFolder is the ID of a folder type's root, which holds the universal
// levels; no escaped path can be "|".
const rootFolder = "|"

// NewSpiceDB starts an in-memory SpiceDB, writes the schema and the Space,
// and places the objects that checks will ask about in their folders: in
// Zanzibar an object's folder is a relationship, not part of the question.
func NewSpiceDB(ctx context.Context, in access.SpaceInput, objects []access.Request) (*SpiceDB, error) {
	ds, err := datastore.NewDatastore(ctx, datastore.DefaultDatastoreConfig().ToOption())
	if err != nil {
		return nil, fmt.Errorf("starting SpiceDB's memory datastore: %w", err)
	}
	srv, err := server.NewConfigWithOptionsAndDefaults(
		server.WithDatastore(ds),
		server.WithGRPCServer(util.GRPCServerConfig{Network: util.BufferedNetwork, Enabled: true}),
		server.WithGRPCAuthFunc(func(ctx context.Context) (context.Context, error) { return ctx, nil }),
		server.WithHTTPGateway(util.HTTPServerConfig{HTTPEnabled: false}),
		server.WithMetricsAPI(util.HTTPServerConfig{HTTPEnabled: false}),
		// No decision caches: the mix repeats, and every timed check is to be evaluated.
		server.WithDispatchCacheConfig(server.CacheConfig{Enabled: false}),
		server.WithClusterDispatchCacheConfig(server.CacheConfig{Enabled: false}),
		server.WithSilentlyDisableTelemetry(true),
		server.WithEnableMemoryProtectionMiddleware(false),
	).Complete(ctx)
	if err != nil {
		_ = ds.Close()
		return nil, fmt.Errorf("configuring SpiceDB: %w", err)
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s := &SpiceDB{stop: stop, done: make(chan error, 1)}
	go func() { s.done <- srv.Run(runCtx) }()
	if s.conn, err = srv.NewClient(); err != nil {
		_ = s.Close()
		return nil, err
	}
	s.client = v1.NewPermissionsServiceClient(s.conn)
	if _, err := v1.NewSchemaServiceClient(s.conn).WriteSchema(ctx, &v1.WriteSchemaRequest{Schema: spiceSchema}); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("writing governor.zed: %w", err)
	}
	rels, err := spiceRelationships(in, objects)
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	if err := s.importAll(ctx, rels); err != nil {
		_ = s.Close()
		return nil, err
	}
	s.Relationships = len(rels)
	return s, nil
}

func (s *SpiceDB) importAll(ctx context.Context, rels []*v1.Relationship) error {
	stream, err := s.client.ImportBulkRelationships(ctx)
	if err != nil {
		return err
	}
	for chunk := range slices.Chunk(rels, 1000) {
		if err := stream.Send(&v1.ImportBulkRelationshipsRequest{Relationships: chunk}); err != nil {
			if _, rerr := stream.CloseAndRecv(); rerr != nil {
				err = rerr
			}
			return fmt.Errorf("importing relationships: %w", err)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("importing relationships: %w", err)
	}
	if resp != nil && resp.NumLoaded != uint64(len(rels)) {
		return fmt.Errorf("SpiceDB loaded %d of %d relationships", resp.NumLoaded, len(rels))
	}
	return nil
}

// Close stops the server.
func (s *SpiceDB) Close() error {
	if s.conn != nil {
		_ = s.conn.Close()
	}
	s.stop()
	return <-s.done
}

// Allowed asks SpiceDB a prepared check.
func (s *SpiceDB) Allowed(ctx context.Context, req *v1.CheckPermissionRequest) (bool, error) {
	resp, err := s.client.CheckPermission(ctx, req)
	if err != nil {
		return false, err
	}
	switch resp.Permissionship {
	case v1.CheckPermissionResponse_PERMISSIONSHIP_HAS_PERMISSION:
		return true, nil
	case v1.CheckPermissionResponse_PERMISSIONSHIP_NO_PERMISSION:
		return false, nil
	}
	return false, fmt.Errorf("SpiceDB answered %s (missing context %v)", resp.Permissionship, resp.PartialCaveatInfo.GetMissingRequiredContext())
}

var fullyConsistent = &v1.Consistency{Requirement: &v1.Consistency_FullyConsistent{FullyConsistent: true}}

// SpiceDBCheck translates a Governor request on an object or a folder: the
// action is the permission, the object the resource (placed in its folder),
// and the rest is the caveats' context.
func SpiceDBCheck(req access.Request) (*v1.CheckPermissionRequest, error) {
	email := strings.ToLower(strings.TrimSpace(req.User))
	_, domain, _ := strings.Cut(email, "@")
	kind, folder := spiceKind(req.Target.Type)
	if kind == "" {
		return nil, fmt.Errorf("target %s has no SpiceDB encoding", req.Target)
	}
	ctx := map[string]any{
		"environment": req.Environment, "idp_groups": anySlice(req.Groups), "email_domain": domain,
	}
	var resource *v1.ObjectReference
	if folder {
		path := strings.Trim(req.Target.Name, "/")
		resource = &v1.ObjectReference{ObjectType: kind + "folder", ObjectId: folderID(path)}
		ctx["folder"], ctx["name"] = path, ""
	} else {
		dir := strings.Trim(req.Folder, "/")
		resource = &v1.ObjectReference{ObjectType: kind, ObjectId: placedID(dir, req.Target.Name)}
		ctx["folder"], ctx["name"] = dir, req.Target.Name
	}
	caveatCtx, err := structpb.NewStruct(ctx)
	if err != nil {
		return nil, err
	}
	return &v1.CheckPermissionRequest{
		Consistency: fullyConsistent,
		Resource:    resource,
		Permission:  strings.ReplaceAll(strings.ToLower(req.Action), "-", "_"),
		Subject:     &v1.SubjectReference{Object: &v1.ObjectReference{ObjectType: "user", ObjectId: spiceID(email)}},
		Context:     caveatCtx,
	}, nil
}

// spiceKind is a target type's object kind ("app", ...) and whether it is a folder.
func spiceKind(t access.TargetType) (string, bool) {
	switch t {
	case access.TargetApp, access.TargetWorkflow, access.TargetResource:
		return string(t), false
	case access.TargetAppFolder, access.TargetWorkflowFolder, access.TargetResourceFolder:
		return strings.TrimSuffix(string(t), "folder"), true
	}
	return "", false
}

// spiceID escapes a name into SpiceDB's object ID alphabet: letters, digits,
// '_' and '-' stand; '/' too when it separates a path's segments; every other
// byte is "=XX".
func spiceID(s string) string { return escapeID(s, false) }

func folderID(path string) string {
	if path == "" {
		return rootFolder
	}
	return escapeID(path, true)
}

// placedID is an object in its folder: FOLDER/NAME (a name has no '/').
func placedID(dir, name string) string {
	if dir == "" {
		return spiceID(name)
	}
	return escapeID(dir, true) + "/" + spiceID(name)
}

func escapeID(s string, path bool) string {
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-', path && c == '/':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02x", c)
		}
	}
	return b.String()
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
