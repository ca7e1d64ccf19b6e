package scenarios

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"upay/adapters/secretfile"
	"upay/adapters/sqlite"
	"upay/domain"
	"upay/ingest"
	"upay/ledger"
	"upay/merchants"
	"upay/payouts"
	"upay/settlement"
)

// Totals is what a run needs of the period-totals read model: the totals a
// payout batch reads, and a way to bring them up to date with the store
// (the runner calls CatchUp before every payout_run step).
type Totals interface {
	payouts.Totals
	CatchUp(ctx context.Context) error
}

// OpenTotals opens the period totals of a scenario's fresh event store; dir
// is the scenario's temporary directory, where the read models may keep
// their own files. The returned function releases them.
type OpenTotals func(ctx context.Context, store domain.EventStore, dir string) (Totals, func() error, error)

// OpenStore opens an empty event store for one scenario; dir is the
// scenario's temporary directory. The returned function closes the store and
// discards what it holds.
type OpenStore func(ctx context.Context, dir string) (domain.EventStore, func() error, error)

// Runner plays scenarios, each against a fresh store.
type Runner struct {
	Store    OpenStore            // nil: Embedded
	Totals   OpenTotals           // nil: ReadModels
	Calendar *settlement.Calendar // nil: settlement.DefaultCalendar()
	TempDir  string               // parent of the per-scenario directories; "": os.TempDir()
}

// Result is what one run led to and how it compares with the expectations.
type Result struct {
	Scenario *Scenario
	Actual   Outcome
	Diffs    []string // empty when every expectation holds
}

// Passed reports whether every expectation held.
func (r *Result) Passed() bool { return len(r.Diffs) == 0 }

// Outcome is what happened, in the shape of a scenario's expect key: it
// marshals to JSON that can be pasted into a file as its expect.
type Outcome struct {
	Rejections []Rejection `json:"rejections"`
	Payouts    []Payout    `json:"payouts"`
}

// Rejection is a rejected step (1-based) and its code; Merchant is set when
// one merchant failed inside a payout batch.
type Rejection struct {
	Step     int    `json:"step"`
	Code     string `json:"code"`
	Merchant string `json:"merchant,omitempty"`
	detail   string
}

// Payout is an issued payout's figures.
type Payout struct {
	Merchant       string `json:"merchant"`
	Payday         string `json:"payday"`
	NoticeDate     string `json:"notice_date"`
	NoticeNo       string `json:"notice_no"`
	Lines          []Line `json:"lines"`
	FeeTax         int64  `json:"fee_tax"`
	PriorPeriod    int64  `json:"prior_period"`
	TransferFee    int64  `json:"transfer_fee"`
	TransferFeeTax int64  `json:"transfer_fee_tax"`
	Net            int64  `json:"net"`
	CarriedForward int64  `json:"carried_forward"`
	step           int
}

// Line is a payout line; Period is "YYYY-MM-DD..YYYY-MM-DD".
type Line struct {
	Group  string `json:"group"`
	Period string `json:"period"`
	Count  int64  `json:"count"`
	Sales  int64  `json:"sales"`
	Rate   string `json:"rate"`
	Fee    int64  `json:"fee"`
	Amount int64  `json:"amount"`
}

// RegistrationLead is how long before the first step the merchants are
// registered.
const RegistrationLead = 24 * time.Hour

// Run plays s and compares the outcome with its expectations. A merchant
// the domain refuses to register is a malformed scenario (*Error, with the
// merchant's line); other errors are failures of the machinery (store,
// read models), not of the scenario.
func (r *Runner) Run(ctx context.Context, s *Scenario) (*Result, error) {
	if len(s.Steps) == 0 {
		return nil, &Error{File: s.File, Code: domain.CodeMissingField, Msg: "a scenario needs at least one step"}
	}
	open := r.Totals
	if open == nil {
		open = ReadModels
	}
	cal := r.Calendar
	if cal == nil {
		cal = settlement.DefaultCalendar()
	}
	dir, err := os.MkdirTemp(r.TempDir, "upay-scenario-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	openStore := r.Store
	if openStore == nil {
		openStore = Embedded
	}
	store, closeStore, err := openStore(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("opening the event store: %w", err)
	}
	defer closeStore()
	secrets, err := secretfile.Open(filepath.Join(dir, "secrets"))
	if err != nil {
		return nil, err
	}
	key, err := secretfile.FingerprintKey(ctx, secrets)
	if err != nil {
		return nil, err
	}
	ms := &merchants.Service{Store: store, Secrets: secrets}
	regAt := s.Steps[0].At.Add(-RegistrationLead)
	for _, m := range s.Merchants {
		reg := domain.RegisterMerchant{CommandMeta: domain.CommandMeta{At: regAt}, MerchantRegistered: m.Registration}
		_, err := ms.Handle(ctx, reg)
		if err == nil && m.NoticePassword != "" {
			err = ms.SetNoticePassword(ctx, m.Registration.Merchant, m.NoticePassword)
		}
		if err != nil {
			return nil, s.merchantError(m, err)
		}
	}
	led, err := ledger.New(ctx, store, ledger.Options{Import: true})
	if err != nil {
		return nil, err
	}
	totals, closeTotals, err := open(ctx, store, dir)
	if err != nil {
		return nil, fmt.Errorf("opening the period totals: %w", err)
	}
	defer closeTotals()
	batch := &payouts.Batch{Store: store, Merchants: ms, Totals: totals, Calendar: cal}
	dec := ingest.Decoder{Key: key}

	res := &Result{Scenario: s, Actual: Outcome{Rejections: []Rejection{}, Payouts: []Payout{}}}
	reject := func(st Step, merchant string, err error) {
		res.Actual.Rejections = append(res.Actual.Rejections, Rejection{Step: st.N, Code: domain.CodeOf(err), Merchant: merchant, detail: err.Error()})
	}
	for _, st := range s.Steps {
		var err error
		switch st.Kind {
		case kindSetRates:
			_, err = ms.Handle(ctx, domain.SetRates{CommandMeta: domain.CommandMeta{At: st.At}, Merchant: st.Merchant, Rates: st.Rates, Effective: st.Effective})
		case kindSetBank:
			_, err = ms.Handle(ctx, domain.SetBank{CommandMeta: domain.CommandMeta{At: st.At}, Merchant: st.Merchant, Bank: st.Bank})
		case kindPayoutRun:
			if err := totals.CatchUp(ctx); err != nil {
				return nil, fmt.Errorf("step %d: catching up the period totals: %w", st.N, err)
			}
			var out []payouts.Outcome
			out, _, err = batch.Run(ctx, payouts.Options{Payday: st.Payday, At: st.At})
			for _, o := range out {
				switch o.Status {
				case payouts.Issued:
					res.Actual.Payouts = append(res.Actual.Payouts, payoutOf(o.Payout, st.N))
				case payouts.Failed:
					if c := domain.CodeOf(o.Err); c == "" || c == domain.CodeStoreFailure {
						return nil, fmt.Errorf("step %d: payout of merchant %s: %w", st.N, o.Merchant, o.Err)
					}
					reject(st, string(o.Merchant), o.Err)
				}
			}
		default: // payment steps, through the ingest decoder and the ledger
			var cmd domain.Command
			if cmd, err = dec.Decode(st.Line); err == nil {
				var lr ledger.Result
				if lr, err = led.Handle(ctx, cmd); err == nil {
					err = lr.Err
				}
			}
		}
		if err == nil {
			continue
		}
		if domain.CodeOf(err) == "" || domain.CodeOf(err) == domain.CodeStoreFailure {
			return nil, fmt.Errorf("step %d (%s): %w", st.N, st.Kind, err)
		}
		reject(st, "", err)
	}
	res.Diffs = Compare(s, res.Actual)
	return res, nil
}

// Embedded is the default OpenStore: the embedded store, a file in dir.
func Embedded(_ context.Context, dir string) (domain.EventStore, func() error, error) {
	s, err := sqlite.Open(filepath.Join(dir, "upay.db"))
	if err != nil {
		return nil, nil, err
	}
	return s, s.Close, nil
}

func (s *Scenario) merchantError(m Merchant, err error) error {
	code := domain.CodeOf(err)
	if code == "" || code == domain.CodeStoreFailure {
		return fmt.Errorf("registering merchant %s: %w", m.Registration.Merchant, err)
	}
	e := &Error{File: s.File, Path: m.path, Code: code, Msg: "the merchant cannot be registered: " + detail(err)}
	if tok := m.pos.token(); tok != nil {
		e.Line, e.Column = tok.Position.Line, tok.Position.Column
	}
	return e
}

func payoutOf(p domain.PayoutIssued, step int) Payout {
	out := Payout{Merchant: string(p.Merchant), Payday: p.Payday, NoticeDate: p.NoticeDate, NoticeNo: p.NoticeNo, Lines: []Line{},
		FeeTax: p.FeeTax, PriorPeriod: p.PriorPeriod, TransferFee: p.TransferFee, TransferFeeTax: p.TransferFeeTax,
		Net: p.Net, CarriedForward: p.CarriedForward, step: step}
	for _, l := range p.Lines {
		out.Lines = append(out.Lines, Line{Group: string(l.Group), Period: l.PeriodStart + ".." + l.PeriodEnd,
			Count: l.Count, Sales: l.Sales, Rate: l.Rate, Fee: l.Fee, Amount: l.Amount})
	}
	return out
}
