package workload

import (
	"os"
	"strconv"
	"time"

	"upay/domain"
)

// EnvInt returns the environment variable name when it holds a positive
// integer, else def: how the benchmarks are scaled (UPAY_BENCH_*).
func EnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// Bench is the benchmarks' generated month: seed 1 from 2019-10-01
// (Asia/Tokyo), merchants × days × perDay payments, each overridden by
// UPAY_BENCH_MERCHANTS, UPAY_BENCH_DAYS and UPAY_BENCH_PER_DAY.
func Bench(merchants, days, perDay int) Config {
	return Config{Merchants: EnvInt("UPAY_BENCH_MERCHANTS", merchants), Days: EnvInt("UPAY_BENCH_DAYS", days),
		PaymentsPerDay: EnvInt("UPAY_BENCH_PER_DAY", perDay), Seed: 1, Start: time.Date(2019, 10, 1, 0, 0, 0, 0, domain.Tokyo)}
}
