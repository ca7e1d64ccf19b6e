package sqlite

import (
	"context"
	"errors"

	"upay/domain"
)

// eventRow is one row of table events.
type eventRow struct {
	pos, rev, version, timeNs int64
	stream, typ, requestID    string
	data                      []byte
	prev, hash                domain.Hash
}

type requestRow struct {
	id          string
	hash        domain.Hash
	stream      string
	first, last int64
	pos         int64
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
// Concurrent appends are committed in groups: the first caller to find the
// write connection free becomes the leader and applies every append queued
// meanwhile in one transaction, each inside its own savepoint so that one
// failing append does not take the others with it, then commits them with a
// single fsync. Each caller returns only after the commit that holds its
// append, so durability is unchanged; latency under load drops from one
// fsync per waiting append to about two.
func (s *Store) AppendBatch(ctx context.Context, reqs []domain.AppendRequest) ([]domain.AppendResult, error) {
	if err := domain.ValidateBatch(reqs); err != nil {
		return nil, err
	}
	if len(reqs) == 0 {
		return nil, nil
	}
	if s.isClosed() {
		return nil, errClosed
	}
	j := &job{ctx: ctx, reqs: reqs, done: make(chan struct{})}
	s.qmu.Lock()
	s.queue = append(s.queue, j)
	s.qmu.Unlock()
	select {
	case <-j.done: // a leader committed it (or failed it)
	case s.wsem <- struct{}{}:
		select {
		case <-j.done: // done by the leader we followed
		default:
			s.qmu.Lock()
			jobs := s.queue
			s.queue = nil
			s.qmu.Unlock()
			s.commitGroup(jobs) // j is among them
		}
		<-s.wsem
	}
	return j.res, j.err
}

// job is one AppendBatch call waiting for, or in, a group commit.
type job struct {
	ctx  context.Context
	reqs []domain.AppendRequest
	res  []domain.AppendResult
	err  error
	done chan struct{} // closed when res or err is final
}

// commitGroup applies jobs in one write transaction and closes their done
// channels. The caller holds wsem.
func (s *Store) commitGroup(jobs []*job) {
	defer func() {
		for _, j := range jobs {
			close(j.done)
		}
	}()
	if s.isClosed() {
		for _, j := range jobs {
			j.err = errClosed
		}
		return
	}
	live := make([]*job, 0, len(jobs))
	for _, j := range jobs {
		if err := j.ctx.Err(); err != nil {
			j.err = storeErr(err, "append abandoned before it started")
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	// A lone job runs under its own context. In a group no caller's
	// cancellation may interrupt a statement: SQLite rolls the whole
	// transaction back on an interrupted write, taking the others with it.
	ctx := context.Background()
	if len(live) == 1 {
		ctx = live[0].ctx
	}
	fail := func(err error) {
		_, _ = s.wc.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		for _, j := range live {
			if j.err == nil {
				j.res, j.err = nil, err
			}
		}
	}
	if _, err := s.wc.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		fail(storeErr(err, "begin append"))
		return
	}
	savepoints := len(live) > 1
	var landed, appended bool
	for _, j := range live {
		if savepoints {
			if _, err := s.wc.ExecContext(ctx, "SAVEPOINT job"); err != nil {
				fail(storeErr(err, "savepoint"))
				return
			}
		}
		res, n, err := s.apply(ctx, j.reqs)
		var be *domain.BatchError
		switch {
		case errors.As(err, &be):
			// The append is refused; undo its rows and go on with the rest.
			j.err = err
			if savepoints {
				if _, err := s.wc.ExecContext(ctx, "ROLLBACK TO job"); err != nil {
					fail(storeErr(err, "rollback to savepoint"))
					return
				}
			}
		case err != nil:
			fail(err)
			return
		default:
			j.res = res
			landed = true
			appended = appended || n > 0
		}
		if savepoints {
			if _, err := s.wc.ExecContext(ctx, "RELEASE job"); err != nil {
				fail(storeErr(err, "release savepoint"))
				return
			}
		}
	}
	if !landed {
		_, _ = s.wc.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return
	}
	// Commit whatever the contexts say now: an interrupted COMMIT would leave
	// callers unsure whether their appends landed.
	if _, err := s.wc.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		fail(storeErr(err, "commit append"))
		return
	}
	if appended {
		s.notify.Broadcast()
	}
}

// batch is the state of one append transaction.
type batch struct {
	s        *Store
	ctx      context.Context
	heads    map[domain.StreamID]domain.StreamHead
	applied  map[string]domain.AppliedRequest
	events   []eventRow
	requests []requestRow
	args     []any
}

// apply runs one AppendBatch inside the open write transaction. The write
// lock is held from the first read, so the heads and request ids it reads
// stay true until commit. It returns the results and how many events it
// inserted; a refused item is a *domain.BatchError, anything else an engine
// failure.
func (s *Store) apply(ctx context.Context, reqs []domain.AppendRequest) (results []domain.AppendResult, inserted int64, err error) {
	b := &batch{
		s:       s,
		ctx:     ctx,
		heads:   make(map[domain.StreamID]domain.StreamHead, len(reqs)),
		applied: make(map[string]domain.AppliedRequest, len(reqs)),
	}
	if err := b.load(reqs); err != nil {
		return nil, 0, err
	}
	var pos int64
	if err := s.ws.maxPos.QueryRowContext(ctx).Scan(&pos); err != nil {
		return nil, 0, storeErr(err, "read last position")
	}
	start := pos
	plan := domain.AppendPlan{
		Heads:   b.heads,
		Applied: b.applied,
		Next: func() domain.Position {
			pos++
			return domain.Position{Commit: uint64(pos), Prepare: uint64(pos)}
		},
		Event: func(e domain.NewEvent) error {
			b.events = append(b.events, eventRow{
				pos: int64(e.Position.Commit), rev: int64(e.Revision), version: int64(e.Version), timeNs: e.TimeNs,
				stream: string(e.Stream), typ: e.Type, requestID: e.RequestID,
				data: e.Data, prev: e.PrevHash, hash: e.Hash,
			})
			if len(b.events) >= chunkSizes[0] {
				return b.flushEvents()
			}
			return nil
		},
		Request: func(id string, hash domain.Hash, res domain.AppendResult) error {
			b.requests = append(b.requests, requestRow{id: id, hash: hash, stream: string(res.Stream),
				first: int64(res.FirstRevision), last: int64(res.LastRevision), pos: int64(res.Position.Commit)})
			if len(b.requests) >= chunkSizes[0] {
				return b.flushRequests()
			}
			return nil
		},
	}
	if results, err = plan.Plan(reqs); err != nil {
		return nil, 0, err
	}
	if err := b.flushEvents(); err != nil {
		return nil, 0, err
	}
	if err := b.flushRequests(); err != nil {
		return nil, 0, err
	}
	return results, pos - start, nil
}

// load reads the heads of the batch's streams and the batch's request ids
// already applied, a chunk of keys per query.
func (b *batch) load(reqs []domain.AppendRequest) error {
	keys, rids := domain.BatchKeys(reqs)
	streams := make([]any, len(keys))
	for i, k := range keys {
		streams[i] = k
	}
	ids := make([]any, len(rids))
	for i, id := range rids {
		ids[i] = id
	}
	for len(streams) > 0 {
		k := chunk(len(streams))
		if err := b.loadHeads(streams[:k]); err != nil {
			return err
		}
		streams = streams[k:]
	}
	for len(ids) > 0 {
		k := chunk(len(ids))
		if err := b.loadRequests(ids[:k]); err != nil {
			return err
		}
		ids = ids[k:]
	}
	return nil
}

func (b *batch) loadHeads(streams []any) error {
	rows, err := b.s.ws.heads[len(streams)].QueryContext(b.ctx, streams...)
	if err != nil {
		return storeErr(err, "read stream heads")
	}
	defer rows.Close()
	for rows.Next() {
		var stream string
		var rev int64
		var hash []byte
		if err := rows.Scan(&stream, &rev, &hash); err != nil {
			return storeErr(err, "read stream heads")
		}
		h := domain.StreamHead{Rev: uint64(rev), Exists: true}
		if err := setHash(&h.Hash, hash, "hash of %s@%d", stream, rev); err != nil {
			return err
		}
		b.heads[domain.StreamID(stream)] = h
	}
	if err := rows.Err(); err != nil {
		return storeErr(err, "read stream heads")
	}
	return nil
}

func (b *batch) loadRequests(ids []any) error {
	rows, err := b.s.ws.requests[len(ids)].QueryContext(b.ctx, ids...)
	if err != nil {
		return storeErr(err, "read request ids")
	}
	defer rows.Close()
	for rows.Next() {
		var id, stream string
		var hash []byte
		var first, last, pos int64
		if err := rows.Scan(&id, &hash, &stream, &first, &last, &pos); err != nil {
			return storeErr(err, "read request ids")
		}
		a := domain.AppliedRequest{Result: domain.AppendResult{
			Stream: domain.StreamID(stream), FirstRevision: uint64(first), LastRevision: uint64(last),
			Position: domain.Position{Commit: uint64(pos), Prepare: uint64(pos)},
		}}
		if err := setHash(&a.Hash, hash, "request hash of %q", id); err != nil {
			return err
		}
		b.applied[id] = a
	}
	if err := rows.Err(); err != nil {
		return storeErr(err, "read request ids")
	}
	return nil
}

func (b *batch) flushEvents() error {
	rows := b.events
	for len(rows) > 0 {
		k := chunk(len(rows))
		args := b.args[:0]
		for j := range rows[:k] {
			r := &rows[j]
			args = append(args, r.pos, r.stream, r.rev, r.typ, r.version, r.timeNs, r.requestID, r.data, r.prev[:], r.hash[:])
		}
		b.args = args
		if _, err := b.s.ws.insEvents[k].ExecContext(b.ctx, args...); err != nil {
			return storeErr(err, "insert events")
		}
		rows = rows[k:]
	}
	b.events = b.events[:0]
	return nil
}

func (b *batch) flushRequests() error {
	rows := b.requests
	for len(rows) > 0 {
		k := chunk(len(rows))
		args := b.args[:0]
		for j := range rows[:k] {
			r := &rows[j]
			args = append(args, r.id, r.hash[:], r.stream, r.first, r.last, r.pos)
		}
		b.args = args
		if _, err := b.s.ws.insRequests[k].ExecContext(b.ctx, args...); err != nil {
			return storeErr(err, "insert request ids")
		}
		rows = rows[k:]
	}
	b.requests = b.requests[:0]
	return nil
}

// setHash copies a stored hash, refusing one of the wrong length (a
// damaged or foreign file).
func setHash(dst *domain.Hash, src []byte, what string, args ...any) error {
	if len(src) != len(dst) {
		return domain.Err(domain.CodeStoreFailure, "sqlite: "+what+" has %d bytes, want %d", append(args, len(src), len(dst))...)
	}
	copy(dst[:], src)
	return nil
}
