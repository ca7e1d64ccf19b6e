package postgres

import (
	"cmp"
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"upay/domain"
)

const (
	// maxConflicts bounds the retries after a concurrent writer took a
	// revision or request id first. Each retry re-reads the heads, so an
	// Exact or NoStream expectation that no longer holds ends as U3001 at
	// once; only Any/StreamExists appends to a hot stream go round again.
	maxConflicts = 10
	// maxTransient bounds the retries after a serialization failure, a
	// deadlock or a lost connection; backoff starts at firstBackoff and
	// doubles.
	maxTransient = 5
	firstBackoff = 10 * time.Millisecond
	// copyRows is the batch size from which rows go in with COPY rather
	// than one INSERT ... SELECT FROM unnest(arrays): COPY costs a round
	// trip to describe the table, then streams rows at the lowest cost
	// per row.
	copyRows = 256
	// maxLocks bounds the stream locks one retry takes: a large ingest batch
	// retries optimistically rather than filling the server's lock table.
	maxLocks = 64
	// streamLockClass is the first key of the stream locks: "upst".
	streamLockClass = "1970303860"
)

type eventRow struct {
	seq, rev, timeNs       int64
	version                int32
	stream, typ, requestID string
	data                   []byte
	prev, hash             domain.Hash
}

type requestRow struct {
	id               string
	hash             domain.Hash
	stream           string
	first, last, seq int64
}

// attempt is one run of an append transaction.
type attempt struct {
	tx       int64 // the transaction id: Position.Commit of every event it appends
	results  []domain.AppendResult
	fresh    []bool // items planned as new appends, not duplicates
	appended bool   // events were inserted (and, without error, committed)
	// visible: no older transaction was running just before COMMIT, so the
	// events are in the visible log as soon as the commit returns.
	visible bool
}

// Append appends req.Events to req.Stream atomically. Errors: U3001 when the
// expected revision does not hold, U3002 when the request id was applied
// with another hash, U3003 on an engine failure, U1003/U1009 on a request
// without stream or events or with an event time out of range.
func (s *Store) Append(ctx context.Context, req domain.AppendRequest) (domain.AppendResult, error) {
	return domain.AppendOne(ctx, s.AppendBatch, req)
}

// AppendBatch applies reqs in one transaction, in order: all land or none
// does. An item may append to a stream an earlier item of the batch
// appended to; its expected revision is checked against that. A failing
// item is a *domain.BatchError naming its index; an engine failure is U3003
// without an index.
//
// Writers take no lock: a concurrent writer that took a revision or request
// id first makes the insert fail on the unique index, and the whole
// transaction is retried against the new heads. Serialization failures,
// deadlocks and lost connections are retried with backoff; that is safe
// because nothing of a failed transaction remains. A connection lost during
// COMMIT leaves the outcome unknown: the batch is retried only when every
// item has a request id (the retry then finds what did land), otherwise the
// error says the outcome is unknown.
func (s *Store) AppendBatch(ctx context.Context, reqs []domain.AppendRequest) ([]domain.AppendResult, error) {
	if err := domain.ValidateBatch(reqs); err != nil {
		return nil, err
	}
	if len(reqs) == 0 {
		return nil, nil
	}
	if !s.begin() {
		return nil, errClosed
	}
	defer s.ops.Done()
	allIDs := true
	for i := range reqs {
		allIDs = allIDs && reqs[i].RequestID != ""
	}
	var (
		conflicts, transient int
		backoff              = firstBackoff
		unknown              []*attempt // attempts whose COMMIT outcome is unknown
	)
	// fail builds the final error, saying so when an earlier COMMIT may
	// have landed.
	fail := func(err error, format string, args ...any) error {
		if domain.CodeOf(err) != "" {
			return err // already says what failed
		}
		if len(unknown) > 0 {
			format += " (an attempt lost its connection during COMMIT: its outcome is unknown)"
		}
		return storeErr(err, format, args...)
	}
	for {
		a, err := s.try(ctx, reqs, conflicts > 0)
		if err == nil {
			// What a lost COMMIT appended comes back as duplicates; it was
			// this call's own append, not an earlier one. Any of the lost
			// attempts may be the one that landed.
			for _, u := range unknown {
				for i := range a.results {
					if r := &a.results[i]; r.Duplicate && u.fresh[i] && r.Position.Commit == uint64(u.tx) {
						r.Duplicate = false
					}
				}
			}
			if a.appended {
				s.settle(ctx, a)
			} else if top := newest(a.results); top > 0 && s.wait >= 0 {
				// All duplicates: what they answer with may have been
				// committed a moment ago (a retry after a lost COMMIT, or
				// the original still settling); read-your-writes holds for
				// them too.
				_, _ = s.waitPast(ctx, top, s.wait)
			}
			return a.results, nil
		}
		var be *domain.BatchError
		if errors.As(err, &be) {
			return nil, err
		}
		kind := classify(err)
		if kind == unknownCommit && !allIDs {
			return nil, storeErr(err, "append to %q: the connection failed during COMMIT, so its outcome is unknown: the events may or may not have landed; the append (or an item of its batch) has no request id, so it was not retried: check the stream before appending again", reqs[0].Stream)
		}
		if kind == unknownCommit {
			unknown = append(unknown, a) // before any return: fail reports it
		}
		if ctx.Err() != nil {
			return nil, fail(err, "append to %q abandoned", reqs[0].Stream)
		}
		switch kind {
		case conflict:
			conflicts++
			if conflicts >= maxConflicts {
				return nil, domain.Wrap(domain.CodeConcurrency, err, "postgres: append to %q: concurrent appends to the same streams or request ids won %d times in a row", reqs[0].Stream, conflicts)
			}
			// Short and random, so that the writers that collided do not
			// collide again.
			if !s.sleep(ctx, time.Duration(rand.Int64N(int64(conflicts)*int64(time.Millisecond)))) {
				return nil, fail(ctx.Err(), "append to %q abandoned", reqs[0].Stream)
			}
			continue
		case unknownCommit, retry:
		default:
			return nil, fail(err, "append to %q", reqs[0].Stream)
		}
		transient++
		if transient >= maxTransient {
			return nil, fail(err, "append to %q failed %d times", reqs[0].Stream, transient)
		}
		if !s.sleep(ctx, backoff) {
			return nil, fail(ctx.Err(), "append to %q abandoned", reqs[0].Stream)
		}
		backoff *= 2
	}
}

// sleep waits d; false when ctx ended first.
func (s *Store) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

type errKind int

const (
	fatal         errKind = iota
	conflict              // a unique index refused a revision or request id
	retry                 // nothing landed; try again after a pause
	unknownCommit         // COMMIT may or may not have landed
)

// commitError marks a failure of COMMIT itself.
type commitError struct{ err error }

func (e *commitError) Error() string { return "commit: " + e.err.Error() }
func (e *commitError) Unwrap() error { return e.err }

// lostConnError marks a failure after which the connection was closed.
type lostConnError struct{ err error }

func (e *lostConnError) Error() string { return e.err.Error() }
func (e *lostConnError) Unwrap() error { return e.err }

func classify(err error) errKind {
	var ce *commitError
	atCommit := errors.As(err, &ce)
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505" && (pe.ConstraintName == "events_stream_revision" || pe.ConstraintName == "requests_pkey"):
			return conflict
		case pe.Code == "40001" || pe.Code == "40P01": // serialization failure, deadlock
			return retry
		case pe.Code[:2] == "08" || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03":
			// Connection exception, or the server ended the session
			// (pg_terminate_backend, shutdown): nothing of an open
			// transaction survives, but a COMMIT may have been processed
			// before the session ended.
			if atCommit {
				return unknownCommit
			}
			return retry
		}
		// Any other error response to COMMIT means it rolled back.
		return fatal
	}
	if !lost(err) {
		return fatal
	}
	if atCommit && !pgconn.SafeToRetry(err) {
		return unknownCommit // COMMIT was sent, its answer never came
	}
	return retry
}

// lost reports an error of the connection rather than of the statement.
func lost(err error) bool {
	var le *lostConnError
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &le) || errors.As(err, &ce) || errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) || pgconn.SafeToRetry(err)
}

const (
	// sqlBegin takes the transaction id (so the events' positions are
	// known before they are inserted) and as many sequence numbers as the
	// batch could append; the numbers of duplicates are simply not used.
	sqlBegin = `SELECT pg_current_xact_id()::text::bigint,
		ARRAY(SELECT nextval('events_seq_seq') FROM generate_series(1, $1::int))`
	// sqlHeads reads each stream's last revision and hash: one backward
	// probe of the (stream, revision) index per stream.
	sqlHeads = `SELECT s.stream, e.revision, e.hash
		FROM unnest($1::text[]) AS s(stream)
		CROSS JOIN LATERAL (SELECT revision, hash FROM events
			WHERE events.stream = s.stream ORDER BY revision DESC LIMIT 1) AS e`
	// sqlLockStreams locks streams in key order, so lockers never deadlock.
	// The two-key form keeps these locks apart from single-key ones such as
	// the migration lock.
	sqlLockStreams = `SELECT pg_advisory_xact_lock(` + streamLockClass + `, k)
		FROM (SELECT DISTINCT hashtext(s) AS k FROM unnest($1::text[]) AS s ORDER BY k) AS keys`
	sqlRequests = `SELECT request_id, request_hash, stream, first_rev, last_rev, pos_commit, pos_prepare
		FROM requests WHERE request_id = ANY($1::text[])`
	sqlInsertEvents = `INSERT INTO events (tx, seq, stream, revision, type, version, time_ns, request_id, data, prev_hash, hash)
		SELECT $1::bigint, * FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::int[], $7::bigint[], $8::text[], $9::bytea[], $10::bytea[], $11::bytea[])`
	sqlInsertRequests = `INSERT INTO requests (request_id, request_hash, stream, first_rev, last_rev, pos_commit, pos_prepare)
		SELECT r.id, r.hash, r.stream, r.first, r.last, $1::bigint, r.seq
		FROM unnest($2::text[], $3::bytea[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[]) AS r(id, hash, stream, first, last, seq)`
	sqlNotify = `SELECT pg_notify('` + channel + `', '')`
	// sqlXmin is the oldest transaction still running (or the next one to
	// start): every transaction below it has ended.
	sqlXmin = `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`
)

var eventCols = []string{"tx", "seq", "stream", "revision", "type", "version", "time_ns", "request_id", "data", "prev_hash", "hash"}
var requestCols = []string{"request_id", "request_hash", "stream", "first_rev", "last_rev", "pos_commit", "pos_prepare"}

// try runs reqs in one transaction. A refused item is a *domain.BatchError
// (nothing committed); other errors are classified by classify. The attempt
// comes back with a commitError too: the caller needs its transaction id.
//
// lock serializes this attempt with the other retries on its streams: an
// append that lost a race on a stream takes a transaction-level advisory
// lock per stream (at most maxLocks of them, in key order) before it reads
// the heads, so that writers on one hot stream with an Any expectation
// take turns instead of colliding again and again.
func (s *Store) try(ctx context.Context, reqs []domain.AppendRequest, lock bool) (*attempt, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return nil, err
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	// failed marks an error after which the connection is gone: the
	// transaction died with it, so a retry is safe.
	failed := func(err error) error {
		if tx.Conn().IsClosed() {
			return &lostConnError{err}
		}
		return err
	}
	s.pause(ctx, "begun", tx)

	n := 0
	for i := range reqs {
		n += len(reqs[i].Events)
	}
	streams, ids := domain.BatchKeys(reqs)
	a := &attempt{results: make([]domain.AppendResult, len(reqs)), fresh: make([]bool, len(reqs))}
	heads := make(map[domain.StreamID]domain.StreamHead, len(streams))
	done := make(map[string]domain.AppliedRequest, len(reqs))
	var seqs []int64
	if err := s.load(ctx, tx, n, lock && len(streams) <= maxLocks, streams, ids, &a.tx, &seqs, heads, done); err != nil {
		return nil, failed(err)
	}
	slices.Sort(seqs)

	events := make([]eventRow, 0, n)
	requests := make([]requestRow, 0, len(ids))
	plan := domain.AppendPlan{
		Heads:   heads,
		Applied: done,
		Next: func() domain.Position {
			return domain.Position{Commit: uint64(a.tx), Prepare: uint64(seqs[len(events)])}
		},
		Event: func(e domain.NewEvent) error {
			events = append(events, eventRow{
				seq: int64(e.Position.Prepare), rev: int64(e.Revision), version: int32(e.Version), timeNs: e.TimeNs,
				stream: string(e.Stream), typ: e.Type, requestID: e.RequestID,
				data: e.Data, prev: e.PrevHash, hash: e.Hash,
			})
			return nil
		},
		Request: func(id string, hash domain.Hash, res domain.AppendResult) error {
			requests = append(requests, requestRow{id: id, hash: hash, stream: string(res.Stream),
				first: int64(res.FirstRevision), last: int64(res.LastRevision), seq: int64(res.Position.Prepare)})
			return nil
		},
	}
	if a.results, err = plan.Plan(reqs); err != nil {
		return nil, err
	}
	for i := range a.results {
		a.fresh[i] = !a.results[i].Duplicate
	}
	if len(events) == 0 {
		return a, nil // all duplicates: nothing to write
	}
	if err := s.insert(ctx, tx, a, events, requests); err != nil {
		return nil, failed(err)
	}
	s.pause(ctx, "beforeCommit", tx)
	commit := tx.Commit
	if s.test != nil && s.test.commit != nil {
		commit = func(ctx context.Context) error { return s.test.commit(ctx, tx) }
	}
	// Commit whatever the context says now: an interrupted COMMIT would
	// leave the caller unsure whether the append landed.
	// ... but not forever: on a half-open connection the COMMIT would wait
	// for the kernel to give up (minutes); past the statement timeout its
	// outcome is unknown, which the caller's retry with request ids settles.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.commitTimeout)
	defer cancel()
	if err := commit(cctx); err != nil {
		return a, &commitError{failed(err)}
	}
	committed = true
	a.appended = true
	return a, nil
}

func (s *Store) pause(ctx context.Context, stage string, tx pgx.Tx) {
	if s.test != nil && s.test.pause != nil {
		s.test.pause(ctx, stage, tx)
	}
}

// load reads the heads of streams and the request ids of ids already
// applied, then takes the transaction id and n sequence numbers: three
// statements (four with the stream locks) in one round trip.
func (s *Store) load(ctx context.Context, tx pgx.Tx, n int, lock bool, streams, ids []string, txID *int64, seqs *[]int64, heads map[domain.StreamID]domain.StreamHead, done map[string]domain.AppliedRequest) error {
	b := &pgx.Batch{}
	if lock {
		b.Queue(sqlLockStreams, streams)
	}
	b.Queue(sqlHeads, streams).Query(func(rows pgx.Rows) error {
		var (
			stream string
			rev    int64
			hash   []byte
		)
		_, err := pgx.ForEachRow(rows, []any{&stream, &rev, &hash}, func() error {
			h := domain.StreamHead{Rev: uint64(rev), Exists: true}
			if err := setHash(&h.Hash, hash, "hash of %s@%d", stream, rev); err != nil {
				return err
			}
			heads[domain.StreamID(stream)] = h
			return nil
		})
		return err
	})
	if len(ids) > 0 {
		b.Queue(sqlRequests, ids).Query(func(rows pgx.Rows) error {
			var (
				id, stream          string
				hash                []byte
				first, last, pc, pp int64
			)
			_, err := pgx.ForEachRow(rows, []any{&id, &hash, &stream, &first, &last, &pc, &pp}, func() error {
				d := domain.AppliedRequest{Result: domain.AppendResult{
					Stream: domain.StreamID(stream), FirstRevision: uint64(first), LastRevision: uint64(last),
					Position: domain.Position{Commit: uint64(pc), Prepare: uint64(pp)},
				}}
				if err := setHash(&d.Hash, hash, "request hash of %q", id); err != nil {
					return err
				}
				done[id] = d
				return nil
			})
			return err
		})
	}
	// The transaction id is taken after the heads and request ids are
	// read, never before: in READ COMMITTED each statement has its own
	// snapshot, and an id taken first could be older than a transaction
	// that commits in between and whose head this append then builds on.
	// Its events would then sort (by transaction id) before the events
	// they follow in their stream, and a reader of the global log would
	// see revision n+1 before n. Taken last, the id is newer than every
	// transaction whose events the heads read saw.
	b.Queue(sqlBegin, n).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(txID, seqs); err != nil {
			return err
		}
		if len(*seqs) != n {
			return domain.Err(domain.CodeStoreFailure, "postgres: got %d sequence numbers, want %d", len(*seqs), n)
		}
		return nil
	})
	return tx.SendBatch(ctx, b).Close()
}

// insert writes the rows, NOTIFYs (delivered at commit) and notes whether
// an older transaction is running. Rows go in sorted by (stream, revision)
// and request id: concurrent batches then take the unique index entries
// in one order and cannot deadlock on them. Their positions were fixed
// beforehand, so the order of insertion does not matter.
func (s *Store) insert(ctx context.Context, tx pgx.Tx, a *attempt, events []eventRow, requests []requestRow) error {
	slices.SortFunc(events, func(x, y eventRow) int {
		return cmp.Or(cmp.Compare(x.stream, y.stream), cmp.Compare(x.rev, y.rev))
	})
	slices.SortFunc(requests, func(x, y requestRow) int { return cmp.Compare(x.id, y.id) })
	if len(events) >= copyRows {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, eventCols, pgx.CopyFromSlice(len(events), func(i int) ([]any, error) {
			e := &events[i]
			return []any{a.tx, e.seq, e.stream, e.rev, e.typ, e.version, e.timeNs, e.requestID, e.data, e.prev[:], e.hash[:]}, nil
		}))
		if err != nil {
			return err
		}
	}
	if len(requests) >= copyRows {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"requests"}, requestCols, pgx.CopyFromSlice(len(requests), func(i int) ([]any, error) {
			r := &requests[i]
			return []any{r.id, r.hash[:], r.stream, r.first, r.last, a.tx, r.seq}, nil
		}))
		if err != nil {
			return err
		}
	}
	b := &pgx.Batch{}
	if len(events) < copyRows {
		var (
			seqs, revs, times     = make([]int64, len(events)), make([]int64, len(events)), make([]int64, len(events))
			versions              = make([]int32, len(events))
			streams, types, reqID = make([]string, len(events)), make([]string, len(events)), make([]string, len(events))
			data, prevs, hashes   = make([][]byte, len(events)), make([][]byte, len(events)), make([][]byte, len(events))
		)
		for i := range events {
			e := &events[i]
			seqs[i], revs[i], times[i], versions[i] = e.seq, e.rev, e.timeNs, e.version
			streams[i], types[i], reqID[i] = e.stream, e.typ, e.requestID
			data[i], prevs[i], hashes[i] = e.data, e.prev[:], e.hash[:]
		}
		b.Queue(sqlInsertEvents, a.tx, seqs, streams, revs, types, versions, times, reqID, data, prevs, hashes)
	}
	if len(requests) > 0 && len(requests) < copyRows {
		var (
			ids, streams        = make([]string, len(requests)), make([]string, len(requests))
			hashes              = make([][]byte, len(requests))
			firsts, lasts, seqs = make([]int64, len(requests)), make([]int64, len(requests)), make([]int64, len(requests))
		)
		for i := range requests {
			r := &requests[i]
			ids[i], streams[i], hashes[i] = r.id, r.stream, r.hash[:]
			firsts[i], lasts[i], seqs[i] = r.first, r.last, r.seq
		}
		b.Queue(sqlInsertRequests, a.tx, ids, hashes, streams, firsts, lasts, seqs)
	}
	b.Queue(sqlNotify)
	b.Queue(sqlXmin).QueryRow(func(row pgx.Row) error {
		var xmin int64
		if err := row.Scan(&xmin); err != nil {
			return err
		}
		a.visible = xmin >= a.tx // our own transaction is the oldest running
		return nil
	})
	return tx.SendBatch(ctx, b).Close()
}

// settle runs after a commit: it waits (up to the visibility wait) until
// every older transaction has ended, so that the caller, and anyone it
// tells, finds the events in ReadAll, Last and subscriptions, then wakes
// this process's subscriptions. The append has landed whatever happens
// here.
func (s *Store) settle(ctx context.Context, a *attempt) {
	defer s.notify.Broadcast()
	if a.visible || s.wait < 0 {
		return
	}
	_, _ = s.waitPast(ctx, a.tx, s.wait)
}

// waitPast polls, for at most bound, until the xmin of a new snapshot is
// above tx: every transaction up to tx has ended, so the events of tx and
// of all before it are readable in the global log.
func (s *Store) waitPast(ctx context.Context, tx int64, bound time.Duration) (bool, error) {
	deadline := time.Now().Add(bound)
	delay := 500 * time.Microsecond
	for {
		var xmin int64
		if err := s.pool.QueryRow(ctx, sqlXmin).Scan(&xmin); err != nil {
			return false, err
		}
		if xmin > tx {
			return true, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false, nil
		}
		t := time.NewTimer(min(delay, left))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		case <-s.done:
			t.Stop()
			return false, errClosed
		}
		delay = min(2*delay, 20*time.Millisecond)
	}
}

// setHash copies a stored hash, refusing one of the wrong length.
func setHash(dst *domain.Hash, src []byte, what string, args ...any) error {
	if len(src) != len(dst) {
		return domain.Err(domain.CodeStoreFailure, "postgres: "+what+" has %d bytes, want %d", append(args, len(src), len(dst))...)
	}
	copy(dst[:], src)
	return nil
}

// newest is the largest transaction id among results' positions.
func newest(results []domain.AppendResult) int64 {
	var top uint64
	for _, r := range results {
		top = max(top, r.Position.Commit)
	}
	return int64(min(top, math.MaxInt64))
}
