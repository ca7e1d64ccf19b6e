package memmodels

import (
	"testing"

	"upay/adapters/readmodeltest"
	"upay/workload"
)

// benchConfig is the generated month: 10 merchants x 30 days x 1,000
// payments a day by default (readmodeltest.BenchConfig), as for the SQLite
// read models' benchmarks.
func benchConfig() workload.Config { return readmodeltest.BenchConfig(10, 30) }

func openBench(*testing.B) readmodeltest.Store { return New(nil) }

// BenchmarkRebuild rebuilds every projection of the generated month from
// the embedded event store into empty models and reports events/s, the
// CPU time per event (both cores) and the peak heap in use while it ran,
// which here includes the models themselves (readmodeltest.BenchRebuild).
// Run: go test ./adapters/memmodels -run '^$' -bench Rebuild -benchtime 3x
func BenchmarkRebuild(b *testing.B) {
	readmodeltest.BenchRebuild(b, benchConfig(), openBench)
}

// BenchmarkSearchOneDayOneMerchant runs the admin search's typical query
// from 32 goroutines (readmodeltest.BenchSearch).
// Run: go test ./adapters/memmodels -run '^$' -bench Search -benchtime 5x
func BenchmarkSearchOneDayOneMerchant(b *testing.B) {
	readmodeltest.BenchSearch(b, benchConfig(), openBench)
}
