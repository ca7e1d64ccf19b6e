package domain

import (
	"errors"
	"fmt"
)

// Error is the one error type of the ledger. It carries a catalogue code
// (P1245, ng-91, U1004, ...), the catalogue's Japanese message and remedy, a
// detail in English naming the offending field or value, and the cause.
// It is a value: compare codes with errors.Is against a sentinel such as
// ErrConcurrency, or use CodeOf.
type Error struct {
	Code   string
	Detail string
	Cause  error
}

// Err builds an Error for a catalogue code with a detail message.
func Err(code, format string, args ...any) Error {
	return Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// Wrap builds an Error for a code around a cause.
func Wrap(code string, cause error, format string, args ...any) Error {
	return Error{Code: code, Detail: fmt.Sprintf(format, args...), Cause: cause}
}

func (e Error) Error() string {
	msg := e.Code
	if c, ok := LookupCode(e.Code); ok && c.Message != "" {
		msg += " " + c.Message
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

func (e Error) Unwrap() error { return e.Cause }

// Is matches any Error with the same code, so sentinels work with errors.Is.
func (e Error) Is(target error) bool {
	t, ok := target.(Error)
	return ok && t.Code == e.Code && t.Detail == "" && t.Cause == nil
}

// CodeOf returns the catalogue code of err, or "" when err carries none.
func CodeOf(err error) string {
	var e Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Sentinels for errors.Is. Their codes are documented in the catalogue.
var (
	ErrConcurrency    = Error{Code: CodeConcurrency}
	ErrRequestReused  = Error{Code: CodeRequestReused}
	ErrStoreFailure   = Error{Code: CodeStoreFailure}
	ErrStreamNotFound = Error{Code: CodeStreamNotFound}
)
