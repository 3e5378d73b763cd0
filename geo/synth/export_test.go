package synth

// SetBulkMin sets the smallest load that may drop and rebuild the
// incidents indexes, and returns a func that restores it.
func SetBulkMin(n int) func() {
	old := bulkMin
	bulkMin = n
	return func() { bulkMin = old }
}
