package access

// Per-target-type tables indexed without hashing the type's name: checks
// and diffs look them up for every question.

// targetTypes are the target types in table order.
var targetTypes = [...]TargetType{TargetApp, TargetWorkflow, TargetResource, TargetAppFolder, TargetWorkflowFolder,
	TargetResourceFolder, TargetQueryLibrary, TargetSpace, TargetGroup}

// typeIndex is t's index in targetTypes (-1 for none of them).
func typeIndex(t TargetType) int {
	switch t {
	case TargetApp:
		return 0
	case TargetWorkflow:
		return 1
	case TargetResource:
		return 2
	case TargetAppFolder:
		return 3
	case TargetWorkflowFolder:
		return 4
	case TargetResourceFolder:
		return 5
	case TargetQueryLibrary:
		return 6
	case TargetSpace:
		return 7
	case TargetGroup:
		return 8
	}
	return -1
}

// requirementTable, mutatingTable and actionNameTable hold, per target
// type, its requirements, the mask of its mutating actions, and the names
// of the actions of each mask.
var (
	requirementTable [len(targetTypes)][]requirement
	mutatingTable    [len(targetTypes)]uint16
	actionNameTable  [len(targetTypes)][][]string
)

func init() {
	for i, t := range targetTypes {
		reqs := requirements[t]
		requirementTable[i] = reqs
		names := make([][]string, 1<<len(reqs))
		for mask := 1; mask < len(names); mask++ {
			for j, r := range reqs {
				if mask&(1<<j) != 0 {
					names[mask] = append(names[mask], r.action)
				}
			}
		}
		actionNameTable[i] = names
		for j, r := range reqs {
			if r.mutating {
				mutatingTable[i] |= 1 << j
			}
		}
	}
}

// requirementsOf is t's requirements (nil for an unknown type).
func requirementsOf(t TargetType) []requirement {
	if i := typeIndex(t); i >= 0 {
		return requirementTable[i]
	}
	return nil
}

// mutatingOf is the mask of t's mutating actions.
func mutatingOf(t TargetType) uint16 {
	if i := typeIndex(t); i >= 0 {
		return mutatingTable[i]
	}
	return 0
}

// actionNames names the actions of target type t whose bits are set in
// mask (nil for none). Changes share these slices.
func actionNames(t TargetType, mask uint16) []string {
	i := typeIndex(t)
	if mask == 0 || i < 0 {
		return nil
	}
	return actionNameTable[i][mask]
}
