package access

// ReferenceDiff is Diff's changes computed question by question through the
// policy chain (referenceCompare), for the agreement tests of package access_test.
func ReferenceDiff(from, to *Snapshot) []Change { return referenceDiff(from, to) }
