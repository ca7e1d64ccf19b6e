// Package httpapi is the admin read API over HTTP: JSON under /api/v1 for
// the admin UI (管理画面), the finance team and auditors, reading only the
// read models (projections.ReadModels) and, for a payment's details,
// optionally its event stream. It never writes.
//
// Model and invariants:
//   - Every request but the health probes (/healthz, /readyz) carries a
//     bearer token from the operator's token file (ParseTokens). Tokens are
//     kept only as SHA-256 hashes and compared in constant time.
//   - A merchant token sees only its own merchant: any other merchant's
//     path, and every endpoint that is not a merchant's, answers 404 H404,
//     exactly as an unknown route does, so it learns nothing of others.
//   - Every response is JSON with Cache-Control: no-store and
//     X-Content-Type-Options: nosniff. Errors are
//     {"error":{"code","message","remedy","detail"}} with a catalogue code
//     (U1009, U1004, U1005, U1008, U2002, U3003) or one of the HTTP-level
//     H-codes of this package (H401, H404, H405, H414, H503). Bad input is
//     400/404/405/414, never 500; a panic becomes 500 U3003 and is logged.
//   - The search follows the manual's admin screen: 50 rows by default and,
//     when more match, "truncated": true with the manual's message (A25)
//     and a keyset cursor "next" for tools (limit up to 500).
//
// docs/http-api.md describes the API and the token file; docs/openapi.yaml
// is its OpenAPI 3.1 document, and a test keeps it in step with the routes.
package httpapi
