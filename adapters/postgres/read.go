package postgres

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"upay/adapters/logfeed"
	"upay/domain"
)

const selectEvents = "SELECT tx, seq, stream, revision, type, version, time_ns, request_id, data, prev_hash, hash FROM events "

// visible bounds a read of the global log to the transactions below the
// xmin of the statement's own snapshot: they have all ended, so no event
// can appear later below what the read returns. As an InitPlan it is
// computed once and used as an index bound.
const visible = "tx < (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint)"

const (
	sqlReadStream = selectEvents + "WHERE stream = $1 AND revision >= $2 ORDER BY revision LIMIT $3"
	sqlReadAll    = selectEvents + "WHERE (tx, seq) > ($1, $2) AND " + visible + " ORDER BY tx, seq LIMIT $3"
	sqlLast       = selectEvents + "WHERE " + visible + " ORDER BY tx DESC, seq DESC LIMIT 1"
	sqlRequest    = "SELECT request_hash FROM requests WHERE request_id = $1"
)

// limit turns ReadOptions.Max into a LIMIT argument (NULL: none).
func limit(opt domain.ReadOptions) *int64 {
	if opt.Max <= 0 {
		return nil
	}
	n := int64(opt.Max)
	return &n
}

// ReadStream reads stream forward from revision from (inclusive). An empty
// or unknown stream yields no events. Errors: U3003.
//
// It needs no visibility bound: revision r+1 is only ever inserted by a
// transaction that saw revision r committed, so a stream is never read
// with a hole.
func (s *Store) ReadStream(ctx context.Context, stream domain.StreamID, from uint64, opt domain.ReadOptions) ([]domain.RecordedEvent, error) {
	if from > math.MaxInt64 {
		return nil, nil // no revision is that high
	}
	evs, err := s.query(ctx, opt.Max, sqlReadStream, string(stream), int64(from), limit(opt))
	if err != nil {
		return nil, storeErr(err, "read stream %q", stream)
	}
	return evs, nil
}

// ReadAll reads the visible log forward from after position from
// (exclusive). Errors: U3003.
func (s *Store) ReadAll(ctx context.Context, from domain.Position, opt domain.ReadOptions) ([]domain.RecordedEvent, error) {
	if from.Commit > math.MaxInt64 {
		return nil, nil
	}
	// Sequence numbers fit int64; a larger Prepare means after all of them.
	prep := int64(min(from.Prepare, math.MaxInt64))
	evs, err := s.query(ctx, opt.Max, sqlReadAll, int64(from.Commit), prep, limit(opt))
	if err != nil {
		return nil, storeErr(err, "read all from %s", from)
	}
	return evs, nil
}

// Last returns the last event of the visible log; ok is false when it is
// empty. Errors: U3003.
func (s *Store) Last(ctx context.Context) (domain.RecordedEvent, bool, error) {
	evs, err := s.query(ctx, 1, sqlLast)
	if err != nil {
		return domain.RecordedEvent{}, false, storeErr(err, "read the last event")
	}
	if len(evs) == 0 {
		return domain.RecordedEvent{}, false, nil
	}
	return evs[0], true, nil
}

// RequestHash returns the content hash stored with an applied request id.
func (s *Store) RequestHash(ctx context.Context, requestID string) (domain.Hash, bool, error) {
	var h domain.Hash
	var raw []byte
	err := s.pool.QueryRow(ctx, sqlRequest, requestID).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return h, false, nil
	}
	if err != nil {
		return h, false, storeErr(err, "read request %q", requestID)
	}
	if err := setHash(&h, raw, "request hash of %q", requestID); err != nil {
		return h, false, err
	}
	return h, true, nil
}

// query runs a read of events; hint sizes the result.
func (s *Store) query(ctx context.Context, hint int, sql string, args ...any) ([]domain.RecordedEvent, error) {
	if s.isClosed() {
		return nil, errClosed
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.RecordedEvent
	if hint > 0 && hint <= pageSize {
		out = make([]domain.RecordedEvent, 0, hint)
	}
	var (
		tx, seq, rev, timeNs int64
		ver                  int32
		stream               string
		prev, hash           pgtype.DriverBytes // valid until the next row: copied below
	)
	for rows.Next() {
		var e domain.RecordedEvent
		if err := rows.Scan(&tx, &seq, &stream, &rev, &e.Type, &ver, &timeNs, &e.RequestID, &e.Data, &prev, &hash); err != nil {
			return nil, err
		}
		e.Stream = domain.StreamID(stream)
		e.Revision = uint64(rev)
		e.Position = domain.Position{Commit: uint64(tx), Prepare: uint64(seq)}
		e.Version = int(ver)
		e.Time = time.Unix(0, timeNs).UTC()
		if err := setHash(&e.PrevHash, prev, "prev_hash at position %s", e.Position); err != nil {
			return nil, err
		}
		if err := setHash(&e.Hash, hash, "hash at position %s", e.Position); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Subscribe delivers every event after from in global order: the backlog
// page by page, then live appends. Appends through this Store wake it at
// once, appends by other processes through NOTIFY; a poll every
// PollInterval covers the rest. Every read is bounded like ReadAll, so an
// event is delivered only once nothing can land below it: none is skipped
// or repeated. The subscription ends when ctx is cancelled (Err nil), when
// the store is closed or a read fails (Err says why).
func (s *Store) Subscribe(ctx context.Context, from domain.Position) (domain.Subscription, error) {
	s.smu.Lock()
	defer s.smu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	s.listen()
	return logfeed.Start(ctx, &s.subs, &logfeed.Feed{
		Read: func(ctx context.Context, from domain.Position, max int) ([]domain.RecordedEvent, error) {
			return s.ReadAll(ctx, from, domain.ReadOptions{Max: max})
		},
		Notify: s.notify, Done: s.done, Closed: errClosed, Poll: PollInterval, Page: pageSize,
		// A dropped connection ends a read, not the subscription: the
		// pool reconnects.
		Transient: func(err error) bool { return classify(err) == retry },
		Retries:   maxTransient,
	}, from), nil
}

// CountAfter counts the events of the visible log after position after
// (projections.Lag): positions are not dense here, so it counts rows, by
// an index-only scan of the (tx, seq) index. Errors: U3003.
func (s *Store) CountAfter(ctx context.Context, after domain.Position) (int64, error) {
	if after.Commit > math.MaxInt64 {
		return 0, nil
	}
	if s.isClosed() {
		return 0, errClosed
	}
	var n int64
	err := s.pool.QueryRow(ctx, "SELECT count(*) FROM events WHERE (tx, seq) > ($1, $2) AND "+visible,
		int64(after.Commit), int64(min(after.Prepare, math.MaxInt64))).Scan(&n)
	if err != nil {
		return 0, storeErr(err, "count the events after %s", after)
	}
	return n, nil
}

const (
	// sqlHeldBack finds committed events that the visibility bound still
	// hides: their transaction is at or above the snapshot's xmin.
	sqlHeldBack = "SELECT coalesce(max(tx), 0), count(*) FROM events WHERE tx >= (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint)"
	// sqlOldestWriter names the write transaction that holds them back.
	sqlOldestWriter = `SELECT pid, coalesce(application_name, ''), now() - xact_start FROM pg_stat_activity
		WHERE backend_xid IS NOT NULL ORDER BY age(backend_xid) DESC LIMIT 1`
)

// Settle waits until every event committed before the call can be read
// from the global log, for at most Options.SettleWait. A projection
// runner's catch-up calls it first (projections.Settler), so that a payout
// batch, whose totals are caught up just before, never computes without an
// event that an append had already confirmed but an older open transaction
// elsewhere on the server still hides (see the package doc). Past the
// bound it fails with U3003 naming the transaction that holds the log
// back, rather than let a reader go on without those events.
func (s *Store) Settle(ctx context.Context) error {
	if s.isClosed() {
		return errClosed
	}
	var top, n int64
	if err := s.pool.QueryRow(ctx, sqlHeldBack).Scan(&top, &n); err != nil {
		return storeErr(err, "look for committed events not yet readable")
	}
	if n == 0 {
		return nil
	}
	ok, err := s.waitPast(ctx, top, s.settleWait)
	if err != nil {
		return storeErr(err, "wait for older transactions to end")
	}
	if ok {
		return nil
	}
	var pid int32
	var app string
	var age time.Duration
	if err := s.pool.QueryRow(ctx, sqlOldestWriter).Scan(&pid, &app, &age); err != nil {
		pid, app = 0, "unknown"
	}
	return domain.Err(domain.CodeStoreFailure, "postgres: %d committed events are not readable yet: a write transaction that began before them "+
		"is still open after %v (backend pid %d, application %q, open for %v); end it (or pg_terminate_backend(%d)) and retry",
		n, s.settleWait, pid, app, age.Round(time.Second), pid)
}
