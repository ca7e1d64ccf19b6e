package pgmodels

import (
	"testing"

	"upay/adapters/pgtest"
	"upay/adapters/readmodeltest"
	"upay/workload"
)

// benchConfig is the generated workload: 5 merchants x 4 days x 1,000
// payments a day by default, a fraction of sqlitemodels' month so that a
// run stays short on a shared machine (readmodeltest.BenchConfig).
func benchConfig() workload.Config { return readmodeltest.BenchConfig(5, 4) }

// openBench opens the read models in a new throwaway database.
func openBench(b *testing.B) readmodeltest.Store { return openFresh(b, Options{}) }

// BenchmarkRebuild rebuilds every projection of the generated workload
// from the embedded store into a fresh database and reports events/s, this
// process's CPU time per event (the server's is not counted), and the peak
// heap in use while it ran (readmodeltest.BenchRebuild). It skips without
// a server (pgtest).
// Run: go test ./adapters/pgmodels -run '^$' -bench Rebuild -benchtime 3x
func BenchmarkRebuild(b *testing.B) {
	pgtest.ServerURL(b)
	readmodeltest.BenchRebuild(b, benchConfig(), openBench)
}

// BenchmarkSearch runs the admin search's typical query (one merchant, one
// business day, first page of 50) from 32 goroutines over the read models
// of the generated workload and reports the latency percentiles
// (readmodeltest.BenchSearch). It skips without a server (pgtest).
// Run: go test ./adapters/pgmodels -run '^$' -bench Search -benchtime 3x
func BenchmarkSearch(b *testing.B) {
	pgtest.ServerURL(b)
	readmodeltest.BenchSearch(b, benchConfig(), openBench)
}
