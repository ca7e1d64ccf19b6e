// Package storebench compares the event and read-model stores side by
// side, in one benchmark run on one machine: the embedded SQLite store and
// PostgreSQL, each against its engine's own ceiling. It holds benchmarks
// only (bench_test.go); docs/benchmarks.md gives the commands and figures.
package storebench
