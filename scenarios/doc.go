// Package scenarios reads and runs executable settlement scenarios: YAML
// files that register merchants, play terminal commands, contract changes
// and payout batches at given processing times, and state the rejections and
// payouts they must lead to (docs/scenarios.md is the format's reference).
//
// Parse turns a file into a Scenario or a coded error naming the file, the
// line and the field: U1001 for YAML that does not parse, U1009 for an
// unknown key, a value of the wrong type or a step that refers to a payment
// or merchant the scenario never introduced, U1003 for a missing field.
//
// Runner.Run plays a Scenario against a fresh embedded store in a temporary
// directory, through the same services the CLI uses (merchants.Service,
// ledger.Ledger in import mode, payouts.Batch), and compares what happened
// with the expectations.
package scenarios
