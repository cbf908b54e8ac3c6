package faultnet

// SetQuickAcks turns a splice's quick acknowledgements (quickAck) on or
// off until restore is called: for a benchmark that compares.
func SetQuickAcks(on bool) (restore func()) {
	was := quickAcks.Swap(on)
	return func() { quickAcks.Store(was) }
}
