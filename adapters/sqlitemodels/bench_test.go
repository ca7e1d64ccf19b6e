package sqlitemodels

import (
	"path/filepath"
	"testing"

	"upay/adapters/readmodeltest"
	"upay/workload"
)

// benchConfig is the generated month: 10 merchants x 30 days x 1,000
// payments a day by default (readmodeltest.BenchConfig).
func benchConfig() workload.Config { return readmodeltest.BenchConfig(10, 30) }

// openBench opens the read models in a new file.
func openBench(b *testing.B) readmodeltest.Store {
	m, err := Open(filepath.Join(b.TempDir(), "r.read.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkRebuild rebuilds every projection of the generated month from
// the embedded store into a fresh read-model file and reports events/s,
// the CPU time per event (both cores), and the peak heap in use while it
// ran (readmodeltest.BenchRebuild).
// Run: go test ./adapters/sqlitemodels -run '^$' -bench Rebuild -benchtime 3x
func BenchmarkRebuild(b *testing.B) {
	readmodeltest.BenchRebuild(b, benchConfig(), openBench)
}

// BenchmarkSearchOneDayOneMerchant runs the admin search's typical query
// (one merchant, one business day, first page of 50) from 32 goroutines
// over the read models of the generated month and reports the latency
// percentiles (readmodeltest.BenchSearch).
// Run: go test ./adapters/sqlitemodels -run '^$' -bench Search -benchtime 5x
func BenchmarkSearchOneDayOneMerchant(b *testing.B) {
	readmodeltest.BenchSearch(b, benchConfig(), openBench)
}
