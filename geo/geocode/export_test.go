package geocode

// Similarity exposes the in-memory pg_trgm similarity to the tests.
func Similarity(a, b string) float64 { return similarity(trigrams(a), trigrams(b)) }
