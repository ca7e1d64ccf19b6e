package domain

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// StreamID names one event stream, e.g. "pay-p1" or "merchant-270212122".
type StreamID string

// Position is a global position in the event log. It is opaque to callers:
// stores order events by (Commit, Prepare), which fits SQLite's single
// sequence (Commit == Prepare), EventStoreDB's commit/prepare pair and a
// PostgreSQL (transaction id, sequence) pair alike. The zero value is the
// start of the log, before every event.
type Position struct {
	Commit  uint64
	Prepare uint64
}

// Start is the position before the first event.
var Start = Position{}

// Less orders positions.
func (p Position) Less(q Position) bool {
	if p.Commit != q.Commit {
		return p.Commit < q.Commit
	}
	return p.Prepare < q.Prepare
}

// String renders a position as a token that ParsePosition reads back:
// "C" when Commit == Prepare, else "C/P".
func (p Position) String() string {
	if p.Commit == p.Prepare {
		return strconv.FormatUint(p.Commit, 10)
	}
	return strconv.FormatUint(p.Commit, 10) + "/" + strconv.FormatUint(p.Prepare, 10)
}

// ParsePosition reads a token made by Position.String.
func ParsePosition(s string) (Position, error) {
	c, p, two := strings.Cut(strings.TrimSpace(s), "/")
	ci, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return Position{}, Err(CodeInvalidField, "position %q is not a position token", s)
	}
	if !two {
		return Position{Commit: ci, Prepare: ci}, nil
	}
	pi, err := strconv.ParseUint(p, 10, 64)
	if err != nil {
		return Position{}, Err(CodeInvalidField, "position %q is not a position token", s)
	}
	return Position{Commit: ci, Prepare: pi}, nil
}

// ExpectedRevision is the optimistic-concurrency condition of an append: a
// small closed set, as EventStoreDB has it. The zero value is Any.
type ExpectedRevision struct {
	kind expectKind
	rev  uint64
}

type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectExists
	expectExact
)

// Any appends whatever the stream's state.
func Any() ExpectedRevision { return ExpectedRevision{} }

// NoStream appends only when the stream has no event yet.
func NoStream() ExpectedRevision { return ExpectedRevision{kind: expectNoStream} }

// StreamExists appends only when the stream has at least one event.
func StreamExists() ExpectedRevision { return ExpectedRevision{kind: expectExists} }

// Exact appends only when the stream's last event has revision rev
// (revisions are 0-based: a stream with one event is at revision 0).
func Exact(rev uint64) ExpectedRevision { return ExpectedRevision{kind: expectExact, rev: rev} }

// Check reports whether a stream whose last revision is last (exists false
// when the stream is empty) satisfies the expectation. Adapters that check
// the condition themselves (SQL) call it so every store agrees.
func (e ExpectedRevision) Check(last uint64, exists bool) bool {
	switch e.kind {
	case expectNoStream:
		return !exists
	case expectExists:
		return exists
	case expectExact:
		return exists && last == e.rev
	default:
		return true
	}
}

func (e ExpectedRevision) String() string {
	switch e.kind {
	case expectNoStream:
		return "no stream"
	case expectExists:
		return "stream exists"
	case expectExact:
		return fmt.Sprintf("revision %d", e.rev)
	default:
		return "any"
	}
}

// ProposedEvent is an event to append. Data is its canonical encoding
// (see EncodeEvent); Time is the processing time stamped by the ledger's clock.
type ProposedEvent struct {
	Type    string
	Version int
	Time    time.Time
	Data    []byte
}

// RecordedEvent is an event as stored.
type RecordedEvent struct {
	Stream    StreamID
	Revision  uint64 // 0-based within the stream
	Position  Position
	Type      string
	Version   int
	Time      time.Time // processing time, UTC, nanosecond precision
	RequestID string    // the request that appended it ("" for none)
	Data      []byte
	PrevHash  Hash // hash of the stream's previous event; zero for revision 0
	Hash      Hash // ChainHash(PrevHash, this event)
}

// AppendRequest appends events to one stream, all or nothing.
//
// RequestID is the idempotency key: when a request with the same id was
// already applied, the store appends nothing and returns the original
// result with Duplicate set. RequestHash identifies the request's content;
// the same id with a different hash is ErrRequestReused. An empty RequestID
// disables idempotency for that append.
type AppendRequest struct {
	Stream      StreamID
	Expected    ExpectedRevision
	RequestID   string
	RequestHash Hash
	Events      []ProposedEvent
}

// AppendResult says where an append landed.
type AppendResult struct {
	Stream        StreamID
	FirstRevision uint64   // revision of the first appended event
	LastRevision  uint64   // revision of the last appended event
	Position      Position // global position of the last appended event
	Duplicate     bool     // the request id had been applied before; nothing was appended now
}

// ReadOptions bound a read; the zero value reads everything forward.
type ReadOptions struct {
	Max int // at most this many events; 0 means no limit
	// Lean says the caller reads neither request ids nor hashes (a
	// projection runner folding the log): a store may then leave
	// RequestID, PrevHash and Hash empty and read less. Whoever verifies
	// the chain or shows an event whole never sets it.
	Lean bool
}

// EventStore is the port every event store implements: the embedded SQLite
// file, PostgreSQL and EventStoreDB/KurrentDB. adapters/storetest holds the
// conformance suite each implementation runs.
//
// Errors: ErrConcurrency (U3001) when the expected revision does not hold,
// ErrRequestReused (U3002) when a request id is reused with other content,
// ErrStoreFailure (U3003) when the engine fails; callers may retry an append
// after U3003 because request ids make it idempotent.
type EventStore interface {
	// Append appends req.Events to req.Stream atomically.
	Append(ctx context.Context, req AppendRequest) (AppendResult, error)
	// AppendBatch applies several appends in one transaction: all land or
	// none does. A failing item is reported as a *BatchError naming its index.
	// Duplicates inside or before the batch are not failures: they return
	// their original result with Duplicate set.
	AppendBatch(ctx context.Context, reqs []AppendRequest) ([]AppendResult, error)
	// ReadStream reads a stream forward from revision from (inclusive).
	// An empty or unknown stream yields no events and no error.
	ReadStream(ctx context.Context, stream StreamID, from uint64, opt ReadOptions) ([]RecordedEvent, error)
	// ReadAll reads the global log forward from after position from
	// (exclusive: pass the last position you applied, or Start).
	ReadAll(ctx context.Context, from Position, opt ReadOptions) ([]RecordedEvent, error)
	// Subscribe delivers every event after position from in global order:
	// first the backlog (catch-up), then live appends, with none skipped or
	// repeated. The subscription ends when ctx is cancelled.
	Subscribe(ctx context.Context, from Position) (Subscription, error)
	// RequestHash returns the content hash recorded with an applied request
	// id, ok false when the id was never applied. A restarted ledger uses it
	// to tell a retry (same hash) from a reused id (other hash).
	RequestHash(ctx context.Context, requestID string) (h Hash, ok bool, err error)
	// Last returns the most recently committed event, ok false on an empty store.
	Last(ctx context.Context) (ev RecordedEvent, ok bool, err error)
	// Close releases the store.
	Close() error
}

// Subscription is a stream of recorded events in global order.
type Subscription interface {
	// Events delivers events in global order; it is closed when the
	// subscription ends, after which Err says why (nil on cancellation).
	Events() <-chan RecordedEvent
	Err() error
}

// BatchError reports which item of an AppendBatch failed.
type BatchError struct {
	Index int
	Err   error
}

func (b *BatchError) Error() string { return fmt.Sprintf("batch item %d: %v", b.Index, b.Err) }
func (b *BatchError) Unwrap() error { return b.Err }

// Clock stamps processing times.
type Clock interface{ Now() time.Time }

// SystemClock is the ledger's wall clock.
type SystemClock struct{}

// Now returns the current instant in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// Secrets is the port of the secret store: the card fingerprint key and the
// merchants' notice passwords live there, never in an event or a projection.
// Get returns ErrSecretNotFound (U3004) when name is unknown.
type Secrets interface {
	Get(ctx context.Context, name string) ([]byte, error)
	Put(ctx context.Context, name string, value []byte) error
}
