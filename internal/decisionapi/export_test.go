package decisionapi

// EncodeContinueForTest forges a continue token.
func EncodeContinueForTest(offset int, rev string) string { return encodeContinue(offset, rev) }
