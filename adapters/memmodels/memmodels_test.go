package memmodels

import (
	"os"
	"testing"

	"upay/adapters/readmodeltest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	readmodeltest.RemoveBenchStore()
	os.Exit(code)
}

// TestConformance runs the read-model suite that the SQLite and PostgreSQL
// read models pass.
func TestConformance(t *testing.T) {
	readmodeltest.Run(t, func(t *testing.T) readmodeltest.Store { return New(nil) })
}
