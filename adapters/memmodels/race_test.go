//go:build race

package memmodels

// raceBuild shrinks TestSameAsSQLite under the race detector: it checks
// logic, not concurrency, and modernc SQLite runs about 40 times slower
// there.
const raceBuild = true
