package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"time"

	"upay/adapters/logfeed"
	"upay/domain"
)

// limit turns ReadOptions.Max into an SQL LIMIT (-1: none).
func limit(opt domain.ReadOptions) int64 {
	if opt.Max <= 0 {
		return -1
	}
	return int64(opt.Max)
}

// ReadStream reads stream forward from revision from (inclusive). An empty
// or unknown stream yields no events. Errors: U3003.
func (s *Store) ReadStream(ctx context.Context, stream domain.StreamID, from uint64, opt domain.ReadOptions) ([]domain.RecordedEvent, error) {
	if from > math.MaxInt64 {
		return nil, nil // no revision is that high
	}
	if err := s.gate.Enter(ctx); err != nil {
		return nil, storeErr(err, "read stream %q", stream)
	}
	defer s.gate.Leave()
	rows, err := s.rs.stream.QueryContext(ctx, string(stream), int64(from), limit(opt))
	if err != nil {
		return nil, storeErr(err, "read stream %q", stream)
	}
	return scanEvents(rows, opt.Max, false)
}

// ReadAll reads the log forward from after position from (exclusive).
// Errors: U3003.
func (s *Store) ReadAll(ctx context.Context, from domain.Position, opt domain.ReadOptions) ([]domain.RecordedEvent, error) {
	// Events here sit at (pos, pos); the first one after from is pos ==
	// from.Commit itself when from.Prepare < from.Commit (a position from
	// another store's numbering), else the next one.
	start := from.Commit
	if from.Prepare >= from.Commit {
		if start == math.MaxUint64 {
			return nil, nil
		}
		start++
	}
	if start > math.MaxInt64 {
		return nil, nil
	}
	if err := s.gate.Enter(ctx); err != nil {
		return nil, storeErr(err, "read all from %s", from)
	}
	defer s.gate.Leave()
	if opt.Lean {
		rows, err := s.rs.allLean.QueryContext(ctx, int64(start), limit(opt))
		if err != nil {
			return nil, storeErr(err, "read all from %s", from)
		}
		return scanEvents(rows, opt.Max, true)
	}
	rows, err := s.rs.all.QueryContext(ctx, int64(start), limit(opt))
	if err != nil {
		return nil, storeErr(err, "read all from %s", from)
	}
	return scanEvents(rows, opt.Max, false)
}

// RequestHash returns the content hash stored with an applied request id.
func (s *Store) RequestHash(ctx context.Context, requestID string) (domain.Hash, bool, error) {
	var h domain.Hash
	var raw []byte
	if err := s.gate.Enter(ctx); err != nil {
		return h, false, storeErr(err, "read request %q", requestID)
	}
	err := s.rs.request.QueryRowContext(ctx, requestID).Scan(&raw)
	s.gate.Leave()
	if errors.Is(err, sql.ErrNoRows) {
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

// Last returns the most recently committed event; ok is false on an empty
// store. Errors: U3003.
func (s *Store) Last(ctx context.Context) (domain.RecordedEvent, bool, error) {
	if err := s.gate.Enter(ctx); err != nil {
		return domain.RecordedEvent{}, false, storeErr(err, "read last event")
	}
	defer s.gate.Leave()
	rows, err := s.rs.last.QueryContext(ctx)
	if err != nil {
		return domain.RecordedEvent{}, false, storeErr(err, "read last event")
	}
	evs, err := scanEvents(rows, 1, false)
	if err != nil || len(evs) == 0 {
		return domain.RecordedEvent{}, false, err
	}
	return evs[0], true, nil
}

// maxHint bounds the events a read allocates room for at once: a page of
// the projection runner (8,192) fits, a read without Max grows as it goes.
const maxHint = 1 << 14

// scanEvents reads rows of eventCols, or of leanCols when lean (no request
// ids and hashes).
func scanEvents(rows *sql.Rows, hint int, lean bool) ([]domain.RecordedEvent, error) {
	defer rows.Close()
	var out []domain.RecordedEvent
	if hint > 0 && hint <= maxHint {
		out = make([]domain.RecordedEvent, 0, hint)
	}
	var (
		e                     domain.RecordedEvent
		pos, rev, ver, timeNs int64
		stream                string
		prev, hash            sql.RawBytes
	)
	// One destination list for every row; Scan copies Data into a new slice.
	dest := []any{&pos, &stream, &rev, &e.Type, &ver, &timeNs, &e.RequestID, &e.Data, &prev, &hash}
	if lean {
		dest = []any{&pos, &stream, &rev, &e.Type, &ver, &timeNs, &e.Data}
	}
	for rows.Next() {
		e = domain.RecordedEvent{}
		if err := rows.Scan(dest...); err != nil {
			return nil, storeErr(err, "scan event")
		}
		e.Stream = domain.StreamID(stream)
		e.Revision = uint64(rev)
		e.Position = domain.Position{Commit: uint64(pos), Prepare: uint64(pos)}
		e.Version = int(ver)
		e.Time = time.Unix(0, timeNs).UTC()
		if !lean {
			if err := setHash(&e.PrevHash, prev, "prev_hash at position %d", pos); err != nil {
				return nil, err
			}
			if err := setHash(&e.Hash, hash, "hash at position %d", pos); err != nil {
				return nil, err
			}
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr(err, "read events")
	}
	return out, nil
}

// Subscribe delivers every event after from in global order: the backlog
// page by page, then live appends. Appends through this Store wake it at
// once; appends by other processes are seen within PollInterval. The
// subscription ends when ctx is cancelled (Err nil), when the store is
// closed or a read fails (Err says why).
func (s *Store) Subscribe(ctx context.Context, from domain.Position) (domain.Subscription, error) {
	s.smu.Lock()
	defer s.smu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	return logfeed.Start(ctx, &s.subs, &logfeed.Feed{
		Read: func(ctx context.Context, from domain.Position, max int) ([]domain.RecordedEvent, error) {
			return s.ReadAll(ctx, from, domain.ReadOptions{Max: max})
		},
		Notify: s.notify, Done: s.done, Closed: errClosed, Poll: PollInterval, Page: pageSize,
	}, from), nil
}

// CountAfter counts the events after position after (projections.Lag). The
// store numbers events 1, 2, 3, ... without gaps (positions are assigned
// inside the one write transaction), so the count is the difference to the
// last position: one indexed read, however far behind after is.
func (s *Store) CountAfter(ctx context.Context, after domain.Position) (int64, error) {
	last, ok, err := s.Last(ctx)
	if err != nil || !ok || last.Position.Commit <= after.Commit {
		return 0, err
	}
	return int64(last.Position.Commit - after.Commit), nil
}
