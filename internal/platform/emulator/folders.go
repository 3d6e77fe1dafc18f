package emulator

import (
	"encoding/json"
	"net/http"
	"slices"
)

// Folders (/folders).

func (s *Server) listFolders(sp *space, _ *http.Request, _ []byte) (int, any) {
	out := make([]folder, 0, len(sp.folders))
	for _, id := range sortedKeys(sp.folders) {
		out = append(out, *sp.folders[id])
	}
	return all(out)
}

func (s *Server) folderOf(sp *space, r *http.Request) (*folder, int, any) {
	id := r.PathValue("folderId")
	if !folderIDRe.MatchString(id) {
		st, b := fail(http.StatusBadRequest, "folderId must look like app_<n>, workflow_<n> or resource_<n>, got %q", id)
		return nil, st, b
	}
	f := sp.folders[id]
	if f == nil {
		st, b := fail(http.StatusNotFound, "Folder %s not found", id)
		return nil, st, b
	}
	return f, 0, nil
}

func (s *Server) getFolder(sp *space, r *http.Request, _ []byte) (int, any) {
	f, st, b := s.folderOf(sp, r)
	if f == nil {
		return st, b
	}
	return ok(*f)
}

func (s *Server) createFolder(sp *space, _ *http.Request, body []byte) (int, any) {
	var in struct {
		Name           string  `json:"name"`
		ParentFolderID *string `json:"parent_folder_id"`
		FolderType     string  `json:"folder_type"`
	}
	if err := decode(body, &in, false); err != nil {
		return badBody(err)
	}
	if in.Name == "" {
		return fail(http.StatusBadRequest, "name is required")
	}
	if err := enumErr("folder_type", in.FolderType, []string{kindApp, kindWorkflow, kindResource}); err != nil {
		return badBody(err)
	}
	parent := sp.roots[in.FolderType]
	if in.ParentFolderID != nil {
		parent = *in.ParentFolderID
	}
	p := sp.folders[parent]
	if p == nil {
		return fail(http.StatusUnprocessableEntity, "Parent folder %s does not exist", parent)
	}
	if p.FolderType != in.FolderType {
		return fail(http.StatusUnprocessableEntity, "Parent folder %s is a %s folder, not a %s folder", parent, p.FolderType, in.FolderType)
	}
	for _, f := range sp.folders {
		if f.ParentFolderID != nil && *f.ParentFolderID == parent && f.Name == in.Name {
			return fail(http.StatusConflict, "Folder with name %q already exists in %s", in.Name, parent)
		}
	}
	return ok(*s.addFolder(sp, in.Name, in.FolderType, &parent, false))
}

func (s *Server) deleteFolder(sp *space, r *http.Request, _ []byte) (int, any) {
	f, st, b := s.folderOf(sp, r)
	if f == nil {
		return st, b
	}
	if f.IsSystemFolder {
		return fail(http.StatusBadRequest, "Folder %s is a system folder and cannot be deleted", f.ID)
	}
	// Retool's document answers a deletion 204 or 404 only: without
	// recursive (app folders only), what the folder holds moves up to its
	// parent instead of being refused.
	if r.URL.Query().Get("recursive") != "true" || f.FolderType != kindApp {
		sp.moveContents(f.ID, *f.ParentFolderID, stamp(s.now()))
	}
	sp.removeFolder(f.ID)
	return http.StatusNoContent, nil
}

// moveContents moves the sub-folders, apps, workflows and resources of a
// folder to another.
func (sp *space) moveContents(from, to, now string) {
	for _, f := range sp.folders {
		if f.ParentFolderID != nil && *f.ParentFolderID == from {
			parent := to
			f.ParentFolderID, f.UpdatedAt = &parent, now
		}
	}
	for _, a := range sp.apps {
		if a.FolderID == from {
			a.FolderID, a.UpdatedAt = to, now
		}
	}
	for _, w := range sp.workflows {
		if w.FolderID == from {
			w.FolderID, w.UpdatedAt = to, now
		}
	}
	for _, r := range sp.resources {
		if r.FolderID != nil && *r.FolderID == from {
			parent := to
			r.FolderID, r.UpdatedAt = &parent, now
		}
	}
}

// removeFolder deletes a folder, its subfolders and its apps.
func (sp *space) removeFolder(id string) {
	for _, f := range sp.folders {
		if f.ParentFolderID != nil && *f.ParentFolderID == id {
			sp.removeFolder(f.ID)
		}
	}
	sp.apps = slices.DeleteFunc(sp.apps, func(a *app) bool {
		if a.FolderID == id {
			sp.dropGrants(objectKey{kindApp, a.ID})
			return true
		}
		return false
	})
	delete(sp.folders, id)
	sp.dropGrants(objectKey{kindFolder, id})
}

// patchFolder renames or moves a folder (JSON Patch replace of /name or
// /parent_folder_id).
func (s *Server) patchFolder(sp *space, r *http.Request, body []byte) (int, any) {
	f, st, b := s.folderOf(sp, r)
	if f == nil {
		return st, b
	}
	var p patchIn
	if err := decode(body, &p, false); err != nil {
		return badBody(err)
	}
	name, parent := f.Name, f.ParentFolderID
	for i, op := range p.Operations {
		if op.Op != "replace" && op.Op != "add" {
			return fail(http.StatusUnprocessableEntity, "operations[%d].op %q is not supported on %s", i, op.Op, op.Path)
		}
		var v string
		if json.Unmarshal(op.Value, &v) != nil || v == "" {
			return fail(http.StatusUnprocessableEntity, "operations[%d].value of %s must be a non-empty string", i, op.Path)
		}
		switch op.Path {
		case "/name":
			name = v
		case "/parent_folder_id":
			parent = &v
		default:
			return fail(http.StatusUnprocessableEntity, "operations[%d].path %q is not a field of a folder that can be changed", i, op.Path)
		}
	}
	if f.IsSystemFolder {
		return fail(http.StatusUnprocessableEntity, "Folder %s is a system folder and cannot be changed", f.ID)
	}
	if parent == nil {
		return fail(http.StatusUnprocessableEntity, "parent_folder_id is required")
	}
	p2 := sp.folders[*parent]
	if p2 == nil {
		return fail(http.StatusNotFound, "Parent folder %s not found", *parent)
	}
	if p2.FolderType != f.FolderType {
		return fail(http.StatusUnprocessableEntity, "Parent folder %s is a %s folder, not a %s folder", p2.ID, p2.FolderType, f.FolderType)
	}
	for cur := p2; cur != nil; {
		if cur.ID == f.ID {
			return fail(http.StatusUnprocessableEntity, "Folder %s cannot be moved into itself or one of its sub-folders", f.ID)
		}
		if cur.ParentFolderID == nil {
			break
		}
		cur = sp.folders[*cur.ParentFolderID]
	}
	for _, o := range sp.folders {
		if o.ID != f.ID && o.ParentFolderID != nil && *o.ParentFolderID == p2.ID && o.Name == name {
			return fail(http.StatusConflict, "Folder with name %q already exists in %s", name, p2.ID)
		}
	}
	// As recorded: a move alone is answered with the folder as it was
	// (parent and updated_at unchanged in the answer); a rename answers the
	// folder as it is now.
	before := *f
	id := p2.ID
	f.ParentFolderID = &id
	if name == f.Name {
		return ok(before)
	}
	f.Name, f.UpdatedAt = name, stamp(s.now())
	return ok(*f)
}
