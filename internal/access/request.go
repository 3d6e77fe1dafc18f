package access

import (
	"fmt"
	"strings"
)

// TargetType is what a check is about.
type TargetType string

// The target types, as the CLI and the API spell them (TYPE/NAME).
const (
	TargetApp            TargetType = "app"
	TargetWorkflow       TargetType = "workflow"
	TargetResource       TargetType = "resource"
	TargetAppFolder      TargetType = "appfolder"
	TargetWorkflowFolder TargetType = "workflowfolder"
	TargetResourceFolder TargetType = "resourcefolder"
	TargetQueryLibrary   TargetType = "querylibrary"
	TargetSpace          TargetType = "space"
	TargetGroup          TargetType = "group"
)

// Target is an object, a folder, the query library, the Space or a group.
type Target struct {
	Type TargetType `json:"type"`
	// Name is the object's name, the folder's path or the group's name;
	// empty for the query library and the Space.
	Name string `json:"name,omitempty"`
}

func (t Target) String() string {
	if t.Name == "" {
		return string(t.Type)
	}
	return string(t.Type) + "/" + t.Name
}

// objectKind is the kind of an object or folder target.
func (t Target) objectKind() (Kind, bool, bool) {
	switch t.Type {
	case TargetApp:
		return App, false, true
	case TargetWorkflow:
		return Workflow, false, true
	case TargetResource:
		return Resource, false, true
	case TargetAppFolder:
		return App, true, true
	case TargetWorkflowFolder:
		return Workflow, true, true
	case TargetResourceFolder:
		return Resource, true, true
	}
	return 0, false, false
}

// ParseTarget reads TYPE/NAME (app/NAME, workflow/NAME, resource/NAME,
// appfolder/PATH, workflowfolder/PATH, resourcefolder/PATH, group/NAME) or a
// bare querylibrary or space.
func ParseTarget(s string) (Target, error) {
	typ, name, _ := strings.Cut(strings.TrimSpace(s), "/")
	t := Target{Type: TargetType(strings.ToLower(typ)), Name: name}
	switch t.Type {
	case TargetQueryLibrary, TargetSpace:
		if name != "" {
			return Target{}, invalid(ReasonUnknownTarget, "target %q: %s takes no name", s, typ)
		}
		return t, nil
	case TargetAppFolder, TargetWorkflowFolder, TargetResourceFolder:
		if name == "" {
			return Target{}, invalid(ReasonUnknownTarget, "target %q: a folder needs a path (%s/PATH)", s, typ)
		}
		if err := CheckFolderPath(name); err != nil {
			return Target{}, invalid(ReasonUnknownTarget, "target %q: %v", s, err)
		}
		return t, nil
	case TargetApp, TargetWorkflow, TargetResource, TargetGroup:
		if name == "" || strings.Contains(name, "/") {
			return Target{}, invalid(ReasonUnknownTarget, "target %q: want %s/NAME (a name without '/'; folders are %sfolder/PATH)", s, typ, typ)
		}
		return t, nil
	}
	return Target{}, invalid(ReasonUnknownTarget, "unknown target %q: want app/NAME, workflow/NAME, resource/NAME, appfolder/PATH, workflowfolder/PATH, resourcefolder/PATH, querylibrary, space or group/NAME", s)
}

// checkTargetName holds a Target built without ParseTarget (the decision
// API's JSON, a library caller) to ParseTarget's rules: an object or group
// needs a name without '/', a folder a path, the query library and the
// Space no name.
func checkTargetName(t Target) error {
	switch t.Type {
	case TargetQueryLibrary, TargetSpace:
		if t.Name != "" {
			return invalid(ReasonUnknownTarget, "target %s: %s takes no name", t, t.Type)
		}
	case TargetAppFolder, TargetWorkflowFolder, TargetResourceFolder:
		if t.Name == "" {
			return invalid(ReasonUnknownTarget, "target %s: a folder needs a path (%s/PATH)", t, t.Type)
		}
		if err := CheckFolderPath(t.Name); err != nil {
			return invalid(ReasonUnknownTarget, "target %s: %v", t, err)
		}
	default:
		if t.Name == "" || strings.Contains(t.Name, "/") {
			return invalid(ReasonUnknownTarget, "target %s: want %s/NAME (a name without '/')", t, t.Type)
		}
	}
	return nil
}

// Reasons a request is invalid (an error, not a denial).
const (
	ReasonUnknownAction = "UnknownAction"
	ReasonUnknownTarget = "UnknownTarget"
	ReasonInvalidUser   = "InvalidUser"
)

// InvalidInputError is a request that cannot be answered: an unknown action,
// target or environment. It is not a denial.
type InvalidInputError struct {
	Reason  string
	Message string
}

func (e *InvalidInputError) Error() string { return e.Message }

func invalid(reason, format string, args ...any) error {
	return &InvalidInputError{Reason: reason, Message: fmt.Sprintf(format, args...)}
}
