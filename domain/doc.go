// Package domain holds the ledger's language: money, identifiers, commands,
// events with their stable type names and schema versions, the payment
// aggregates' decide/evolve rules, the result/error code catalogue, and the
// ports (event store, clock, secret store) that adapters implement.
//
// Invariants kept here:
//   - money is int64 yen; rates are shopspring/decimal; float64 never touches money;
//   - a decision never mutates state: Decide returns events, Evolve folds them;
//   - no full card number ever leaves a command: events carry the last four
//     digits and a keyed fingerprint only;
//   - every recorded event is chained to its stream's previous event by a
//     SHA-256 hash over a canonical encoding (ChainHash), so audits can prove
//     nothing was altered.
//
// The package imports only the standard library, shopspring/decimal and
// rickb777/date.
package domain
