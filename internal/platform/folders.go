package platform

import (
	"sort"
	"strings"
)

// rootFolderName is the name of each folder type's system root folder: the
// parent of a team's top-level folders. A real instance has other system
// folders without a parent too (personalRoot, which holds every user's
// drafts and trash) and system folders under the root (archive): none of
// them is ever a folder path's parent.
const rootFolderName = "root"

// FolderIndex finds folders by path under each type's system root folder.
type FolderIndex struct {
	byPath map[string]string // type/path -> id
	paths  map[string]string // id -> path, folders under a root only
	roots  map[string]string // type -> root folder id
	// sorted lists each type's paths, parents before their children.
	sorted map[string][]string
}

// NewFolderIndex indexes an instance's folders. A folder has a path only when
// its parents lead, through folders that are not system folders, to its
// type's root folder: folders in the archive, in a user's drafts or trash,
// or under a parent the listing did not show have none.
func NewFolderIndex(folders []Folder) *FolderIndex {
	byID := make(map[string]Folder, len(folders))
	t := &FolderIndex{byPath: make(map[string]string, len(folders)), paths: make(map[string]string, len(folders)),
		roots: map[string]string{}, sorted: map[string][]string{}}
	for _, f := range folders {
		byID[f.ID] = f
		if f.System && f.ParentID == "" && f.Name == rootFolderName {
			if _, dup := t.roots[f.Type]; !dup {
				t.roots[f.Type] = f.ID
			}
		}
	}
	for _, f := range folders {
		if f.System {
			continue
		}
		path, ok := t.folderPath(f, byID)
		if !ok {
			continue
		}
		key := f.Type + "/" + path
		if _, dup := t.byPath[key]; dup {
			continue
		}
		t.byPath[key] = f.ID
		t.paths[f.ID] = path
		t.sorted[f.Type] = append(t.sorted[f.Type], path)
	}
	for _, ps := range t.sorted {
		sortPaths(ps)
	}
	return t
}

// sortPaths orders folder paths parents first, then by name.
func sortPaths(ps []string) {
	sort.Slice(ps, func(i, j int) bool {
		di, dj := strings.Count(ps[i], "/"), strings.Count(ps[j], "/")
		if di != dj {
			return di < dj
		}
		return ps[i] < ps[j]
	})
}

// folderPath is f's path from its type's root ("a/b"), false when its
// parents do not lead to that root through non-system folders.
func (t *FolderIndex) folderPath(f Folder, byID map[string]Folder) (string, bool) {
	root, ok := t.roots[f.Type]
	if !ok {
		return "", false
	}
	parts := []string{f.Name}
	for cur, depth := f, 0; ; depth++ {
		if cur.ParentID == root {
			break
		}
		parent, ok := byID[cur.ParentID]
		if !ok || parent.System || parent.Type != f.Type || depth > 64 {
			return "", false
		}
		parts = append(parts, parent.Name)
		cur = parent
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, "/"), true
}

// Root is the id of the system root folder of folderType ("" when unknown).
func (t *FolderIndex) Root(folderType string) string { return t.roots[folderType] }

// Lookup finds a folder by type and path.
func (t *FolderIndex) Lookup(folderType, path string) (string, bool) {
	id, ok := t.byPath[folderType+"/"+path]
	return id, ok
}

// Path is the path of the folder with id ("", false when it has none: a
// system folder, or a folder outside its type's root).
func (t *FolderIndex) Path(id string) (string, bool) {
	p, ok := t.paths[id]
	return p, ok
}

// Paths lists the paths of folderType's folders, parents first.
func (t *FolderIndex) Paths(folderType string) []string { return t.sorted[folderType] }

// resolve returns the folder's id, or "" and the paths to create (parents first).
func (t *FolderIndex) resolve(folderType, path string) (string, []string) {
	if id, ok := t.byPath[folderType+"/"+path]; ok {
		return id, nil
	}
	parts := strings.Split(path, "/")
	var missing []string
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		if _, ok := t.byPath[folderType+"/"+p]; !ok {
			missing = append(missing, p)
		}
	}
	return "", missing
}

// parentPaths are the proper ancestors of path, nearest first ("a/b/c":
// "a/b", "a").
func parentPaths(path string) []string {
	var out []string
	for i := strings.LastIndex(path, "/"); i > 0; i = strings.LastIndex(path[:i], "/") {
		out = append(out, path[:i])
	}
	return out
}
