// Package payouts runs payout batches: for one payday, every merchant's
// payout is computed from the period totals (never from raw events) with the
// contract rates effective on each period's close date and the previous
// payout's carry-forward, then recorded as a payout.issued event in its own
// stream appended with NoStream. A second run, or two runs at once, issue
// each payout exactly once: the loser's append is refused and the payout is
// reported as already issued.
package payouts

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rickb777/date"
	"github.com/shopspring/decimal"

	"upay/domain"
	"upay/merchants"
	"upay/projections"
	"upay/settlement"
)

// Totals reads period totals; projections.ReadModels provides it.
type Totals interface {
	PeriodTotals(ctx context.Context, m domain.MerchantID, from, to date.Date) ([]projections.TotalRow, error)
}

// Batch runs payout batches.
type Batch struct {
	Store     domain.EventStore
	Merchants *merchants.Service
	Totals    Totals
	Calendar  *settlement.Calendar
	Clock     domain.Clock
}

// Options of one run.
type Options struct {
	Payday date.Date
	DryRun bool
	// Shard and Shards split a batch across machines by merchant id
	// (id mod Shards == Shard-1); zero Shards means one shard.
	Shard, Shards int
	At            time.Time // processing time; zero: the clock (scenarios pass their step time)
	Chunk         int       // merchants per store transaction; 0 means 500
	Progress      func(done, total int)
}

// Statuses of an outcome.
const (
	Issued        = "issued"
	AlreadyIssued = "already issued"
	NoLines       = "no lines"
	DryRun        = "dry run"
	Failed        = "failed"
)

// Outcome is one merchant's result.
type Outcome struct {
	Merchant domain.MerchantID
	Name     string // the merchant's name (set by IssuedOn)
	Status   string
	Payout   domain.PayoutIssued // figures (issued, already issued, dry run)
	Err      error               // failed
}

// Summary counts a run.
type Summary struct {
	Merchants      int
	Issued         int
	AlreadyIssued  int
	NoLines        int
	Failed         int
	Transfers      int        // payouts with a transfer
	Transferred    domain.Yen // sum of net
	CarriedForward domain.Yen // sum of carry-forwards
	WaivedFees     int        // Mizuho payees: no transfer fee
}

// Run computes and records every merchant's payout for opt.Payday.
// Errors for the whole batch: not a payday (U2403), a period not yet closed
// (U2401); a merchant's own failure is in its Outcome and the others go on.
func (b *Batch) Run(ctx context.Context, opt Options) ([]Outcome, Summary, error) {
	periods, err := b.Calendar.PeriodsPaidOn(opt.Payday)
	if err != nil {
		if domain.CodeOf(err) == domain.CodeInvalidField && strings.Contains(err.Error(), "not the payday") {
			return nil, Summary{}, domain.Wrap(domain.CodeNotPayday, err, "%s", opt.Payday)
		}
		return nil, Summary{}, err
	}
	at := opt.At
	if at.IsZero() {
		at = b.clock().Now()
	}
	today := domain.BusinessDate(at)
	for _, p := range periods {
		if !today.After(p.Close) {
			return nil, Summary{}, domain.Err(domain.CodeBatchTooEarly,
				"the %s period %s..%s closes on %s: a batch for payday %s may run from %s on (today is %s)", p.Kind, p.Start, p.End, p.Close, opt.Payday, p.Close.Add(1), today)
		}
	}
	ms, err := b.Merchants.List(ctx)
	if err != nil {
		return nil, Summary{}, err
	}
	if opt.Shards > 1 {
		if opt.Shard < 1 || opt.Shard > opt.Shards {
			return nil, Summary{}, domain.Err(domain.CodeInvalidField, "shard %d/%d: i must be 1..n", opt.Shard, opt.Shards)
		}
		kept := ms[:0]
		for _, m := range ms {
			n, _ := strconv.ParseUint(string(m.ID), 10, 64)
			if int(n%uint64(opt.Shards)) == opt.Shard-1 {
				kept = append(kept, m)
			}
		}
		ms = kept
	}
	chunk := opt.Chunk
	if chunk <= 0 {
		chunk = 500
	}
	out := make([]Outcome, 0, len(ms))
	for i := 0; i < len(ms); i += chunk {
		part := ms[i:min(i+chunk, len(ms))]
		res, err := b.runChunk(ctx, part, periods, at, opt)
		if err != nil {
			return out, summarize(out), err
		}
		out = append(out, res...)
		if opt.Progress != nil {
			opt.Progress(len(out), len(ms))
		}
	}
	return out, summarize(out), nil
}

func (b *Batch) runChunk(ctx context.Context, ms []domain.Merchant, periods []settlement.Period, at time.Time, opt Options) ([]Outcome, error) {
	out := make([]Outcome, len(ms))
	var reqs []domain.AppendRequest
	var owners []int
	for i, m := range ms {
		o, req, err := b.compute(ctx, m, periods, opt.Payday)
		if err != nil {
			if domain.CodeOf(err) == domain.CodeStoreFailure {
				return nil, err
			}
			o = Outcome{Merchant: m.ID, Status: Failed, Err: err}
		}
		out[i] = o
		if o.Status != Issued {
			continue
		}
		if opt.DryRun {
			out[i].Status = DryRun
			continue
		}
		for k := range req {
			for j := range req[k].Events {
				req[k].Events[j].Time = at.UTC()
			}
		}
		reqs = append(reqs, req...)
		owners = append(owners, i, i)
	}
	if len(reqs) == 0 {
		return out, nil
	}
	_, err := b.Store.AppendBatch(ctx, reqs)
	var be *domain.BatchError
	if err == nil {
		return out, nil
	}
	if !errors.As(err, &be) {
		return nil, err
	}
	// Another run got there first for some merchant: record the chunk one
	// merchant at a time, so only that merchant is reported as such.
	for k := 0; k < len(reqs); k += 2 {
		i := owners[k]
		if _, err := b.Store.AppendBatch(ctx, reqs[k:k+2]); err != nil {
			if errors.As(err, &be) && errors.Is(be.Err, domain.ErrConcurrency) {
				if prev, ok, rerr := b.issued(ctx, ms[i].ID, opt.Payday); rerr == nil && ok {
					out[i] = Outcome{Merchant: ms[i].ID, Status: AlreadyIssued, Payout: prev}
					continue
				}
			}
			out[i] = Outcome{Merchant: ms[i].ID, Status: Failed, Err: err}
		}
	}
	return out, nil
}

// compute builds a merchant's payout and the appends that record it.
func (b *Batch) compute(ctx context.Context, m domain.Merchant, periods []settlement.Period, payday date.Date) (Outcome, []domain.AppendRequest, error) {
	if prev, ok, err := b.issued(ctx, m.ID, payday); err != nil {
		return Outcome{}, nil, err
	} else if ok {
		return Outcome{Merchant: m.ID, Status: AlreadyIssued, Payout: prev}, nil, nil
	}
	// Lines first: a merchant with nothing to pay on this payday has no
	// payout, whatever its history (re-running a past payday is a no-op).
	lines, err := b.lines(ctx, m, periods)
	if err != nil {
		return Outcome{}, nil, err
	}
	if len(lines) == 0 {
		return Outcome{Merchant: m.ID, Status: NoLines}, nil, nil
	}
	hist, err := b.Store.ReadStream(ctx, domain.PayoutIndexStream(m.ID), 0, domain.ReadOptions{})
	if err != nil {
		return Outcome{}, nil, err
	}
	var prior domain.PayoutIndexed
	idxExpected := domain.NoStream()
	if len(hist) > 0 {
		last := hist[len(hist)-1]
		e, err := domain.DecodeEvent(last.Type, last.Version, last.Data)
		if err != nil {
			return Outcome{}, nil, err
		}
		prior = e.(domain.PayoutIndexed)
		idxExpected = domain.Exact(last.Revision)
		if prior.Payday > payday.String() {
			return Outcome{}, nil, domain.Err(domain.CodePayoutOutOfOrder,
				"merchant %s was already paid out for the later payday %s: payouts are issued in payday order", m.ID, prior.Payday)
		}
	}
	taxRate, err := decimal.NewFromString(m.FeeTaxRate)
	if err != nil {
		return Outcome{}, nil, domain.Err(domain.CodeInvalidRate, "merchant %s fee tax rate %q", m.ID, m.FeeTaxRate)
	}
	p, err := settlement.Compute(settlement.Input{Lines: lines, FeeTaxRate: taxRate, PriorPeriod: prior.CarriedForward, BankCode: m.Bank.BankCode})
	if err != nil {
		return Outcome{}, nil, err
	}
	ev := domain.PayoutIssued{Merchant: m.ID, Payday: payday.String(), NoticeDate: periods[0].NoticeDate.String(),
		NoticeNo: domain.NoticeNo(m.ID, 1, payday.String()), Name: m.Name, Contact: m.Contact, Email: m.Email, Bank: m.Bank,
		FeeTotal: p.FeeTotal, FeeTaxRate: m.FeeTaxRate, FeeTax: p.FeeTax, PriorPeriod: p.PriorPeriod, PriorFrom: prior.NoticeNo,
		TransferFee: p.TransferFee, TransferFeeTax: p.TransferFeeTax, Net: p.Net, CarriedForward: p.CarriedForward,
		Transferred: p.Transferred, FeeWaived: p.FeeWaived}
	for _, l := range p.Lines {
		ev.Lines = append(ev.Lines, domain.PayoutLine{Group: l.Group, PeriodStart: l.PeriodStart.String(), PeriodEnd: l.PeriodEnd.String(),
			Count: l.Count, Sales: l.Sales, Rate: l.Rate.String(), Fee: l.Fee, Amount: l.Amount})
	}
	idx := domain.PayoutIndexed{Merchant: m.ID, Payday: ev.Payday, NoticeNo: ev.NoticeNo, CarriedForward: ev.CarriedForward}
	reqs := []domain.AppendRequest{
		// No request id: NoStream alone makes the payout exactly-once, and a
		// request id would turn a concurrent run's append into a silent
		// "duplicate" that lets its index append through.
		{Stream: domain.PayoutStream(m.ID, ev.Payday), Expected: domain.NoStream()},
		{Stream: domain.PayoutIndexStream(m.ID), Expected: idxExpected},
	}
	for i, e := range []domain.Event{ev, idx} {
		data, err := domain.EncodeEvent(e)
		if err != nil {
			return Outcome{}, nil, err
		}
		reqs[i].Events = []domain.ProposedEvent{{Type: e.EventType(), Version: e.EventVersion(), Data: data}}
	}
	return Outcome{Merchant: m.ID, Status: Issued, Payout: ev}, reqs, nil
}

// lines sums the period totals of each period paid on the payday, per
// brand group; a group and period without a capture or refund has no line.
func (b *Batch) lines(ctx context.Context, m domain.Merchant, periods []settlement.Period) ([]settlement.LineInput, error) {
	from, to := periods[0].Start, periods[0].End
	for _, p := range periods[1:] {
		if p.Start.Before(from) {
			from = p.Start
		}
		if p.End.After(to) {
			to = p.End
		}
	}
	rows, err := b.Totals.PeriodTotals(ctx, m.ID, from, to)
	if err != nil {
		return nil, err
	}
	type key struct {
		p int
		g domain.Group
	}
	sums := map[key]*settlement.LineInput{}
	for _, r := range rows {
		for pi, p := range periods {
			if r.Date.Before(p.Start) || r.Date.After(p.End) || (p.Kind == settlement.KindEmoney) != (r.Group == domain.GroupEmoney) {
				continue
			}
			k := key{pi, r.Group}
			li := sums[k]
			if li == nil {
				li = &settlement.LineInput{Group: r.Group, PeriodStart: p.Start, PeriodEnd: p.End, Rate: m.RateOn(r.Group, p.Close)}
				sums[k] = li
			}
			li.Count += r.Count
			li.Sales += r.Sales
		}
	}
	out := make([]settlement.LineInput, 0, len(sums))
	for _, li := range sums {
		if li.Count > 0 {
			out = append(out, *li)
		}
	}
	return out, nil // settlement.Compute puts lines in their printed order
}

// issued returns the payout already recorded for a merchant and payday.
func (b *Batch) issued(ctx context.Context, m domain.MerchantID, payday date.Date) (domain.PayoutIssued, bool, error) {
	evs, err := b.Store.ReadStream(ctx, domain.PayoutStream(m, payday.String()), 0, domain.ReadOptions{Max: 1})
	if err != nil || len(evs) == 0 {
		return domain.PayoutIssued{}, false, err
	}
	e, err := domain.DecodeEvent(evs[0].Type, evs[0].Version, evs[0].Data)
	if err != nil {
		return domain.PayoutIssued{}, false, err
	}
	p, ok := e.(domain.PayoutIssued)
	if !ok {
		return domain.PayoutIssued{}, false, fmt.Errorf("stream %s starts with %s", evs[0].Stream, evs[0].Type)
	}
	return p, true, nil
}

// Show returns a merchant's payout for a payday and its bank outcome.
func (b *Batch) Show(ctx context.Context, m domain.MerchantID, payday date.Date) (domain.PayoutIssued, string, error) {
	evs, err := b.Store.ReadStream(ctx, domain.PayoutStream(m, payday.String()), 0, domain.ReadOptions{})
	if err != nil {
		return domain.PayoutIssued{}, "", err
	}
	if len(evs) == 0 {
		return domain.PayoutIssued{}, "", domain.Err(domain.CodePayoutNotFound, "no payout of merchant %s for payday %s", m, payday)
	}
	var p domain.PayoutIssued
	state := "issued"
	for _, r := range evs {
		e, err := domain.DecodeEvent(r.Type, r.Version, r.Data)
		if err != nil {
			return p, "", err
		}
		switch e := e.(type) {
		case domain.PayoutIssued:
			p = e
		case domain.PayoutPaid:
			state = "paid"
		case domain.PayoutReturned:
			state = "returned: " + e.Reason
		}
	}
	return p, state, nil
}

// IssuedOn returns every registered merchant's payout for a payday, with its
// state (issued, paid, returned: ...), by merchant id; merchants without a
// payout that day are left out. A merchant whose payout cannot be read is
// an outcome with Status Failed and its error; the store failing is the
// error return.
func (b *Batch) IssuedOn(ctx context.Context, payday date.Date) ([]Outcome, error) {
	ms, err := b.Merchants.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []Outcome
	for _, m := range ms {
		p, state, err := b.Show(ctx, m.ID, payday)
		switch {
		case domain.CodeOf(err) == domain.CodePayoutNotFound:
		case domain.CodeOf(err) == domain.CodeStoreFailure:
			return nil, err
		case err != nil:
			out = append(out, Outcome{Merchant: m.ID, Name: m.Name, Status: Failed, Err: err})
		default:
			out = append(out, Outcome{Merchant: m.ID, Name: m.Name, Status: state, Payout: p})
		}
	}
	return out, nil
}

// Mark records the bank's outcome of a transferred payout: paid, or
// returned with a reason. Only an issued, transferred payout that has no
// outcome yet can be marked.
func (b *Batch) Mark(ctx context.Context, m domain.MerchantID, payday date.Date, paid bool, reason string) error {
	evs, err := b.Store.ReadStream(ctx, domain.PayoutStream(m, payday.String()), 0, domain.ReadOptions{})
	if err != nil {
		return err
	}
	if len(evs) == 0 {
		return domain.Err(domain.CodePayoutNotFound, "no payout of merchant %s for payday %s", m, payday)
	}
	if len(evs) > 1 {
		return domain.Err(domain.CodePayoutMarked, "the payout of merchant %s for %s already has its bank outcome (%s)", m, payday, evs[len(evs)-1].Type)
	}
	p, _, err := b.Show(ctx, m, payday)
	if err != nil {
		return err
	}
	if !p.Transferred {
		return domain.Err(domain.CodePayoutMarked, "the payout %s was carried forward, not transferred: there is no bank outcome to record", p.NoticeNo)
	}
	var e domain.Event = domain.PayoutPaid{Merchant: m, Payday: p.Payday, NoticeNo: p.NoticeNo}
	if !paid {
		if strings.TrimSpace(reason) == "" {
			return domain.Err(domain.CodeMissingField, "a returned transfer needs --reason")
		}
		e = domain.PayoutReturned{Merchant: m, Payday: p.Payday, NoticeNo: p.NoticeNo, Reason: reason}
	}
	data, err := domain.EncodeEvent(e)
	if err != nil {
		return err
	}
	_, err = b.Store.Append(ctx, domain.AppendRequest{Stream: evs[0].Stream, Expected: domain.Exact(0),
		Events: []domain.ProposedEvent{{Type: e.EventType(), Version: e.EventVersion(), Time: b.clock().Now().UTC(), Data: data}}})
	if errors.Is(err, domain.ErrConcurrency) {
		return domain.Err(domain.CodePayoutMarked, "the payout of merchant %s for %s got its bank outcome meanwhile", m, payday)
	}
	return err
}

func (b *Batch) clock() domain.Clock {
	if b.Clock == nil {
		return domain.SystemClock{}
	}
	return b.Clock
}

func summarize(out []Outcome) Summary {
	s := Summary{Merchants: len(out)}
	for _, o := range out {
		switch o.Status {
		case Issued, DryRun:
			if o.Status == Issued {
				s.Issued++
			}
			if o.Payout.Transferred {
				s.Transfers++
				s.Transferred += o.Payout.Net
			}
			s.CarriedForward += o.Payout.CarriedForward
			if o.Payout.FeeWaived {
				s.WaivedFees++
			}
		case AlreadyIssued:
			s.AlreadyIssued++
		case NoLines:
			s.NoLines++
		case Failed:
			s.Failed++
		}
	}
	return s
}
