// Package retool is a typed client of Retool's public REST API v2 for the
// endpoints Governor uses: groups and their members, users and invites,
// folders, apps, workflows, resources, permissions, source control, Spaces
// and app releases. It keeps a request budget per client, retries 429s,
// 5xxs and transport errors with backoff, and surfaces Retool's error
// messages as *APIError.
package retool

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

//go:embed openapi.yaml
var openAPIDocument []byte

// OpenAPIDocument returns the project's OpenAPI 3 description of the subset of
// Retool's API v2 that Governor speaks (servers: /api/v2).
func OpenAPIDocument() []byte { return append([]byte(nil), openAPIDocument...) }

// OpenAPI loads and validates the project's OpenAPI description.
func OpenAPI() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDocument)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate openapi.yaml: %w", err)
	}
	return doc, nil
}
