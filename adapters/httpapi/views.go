package httpapi

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/rickb777/date"

	"upay/domain"
	"upay/projections"
)

// The JSON shapes of the responses. docs/openapi.yaml documents each; field
// names are only ever added.

// codeJSON is a catalogue entry as a response shows it.
type codeJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Remedy  string `json:"remedy,omitempty"`
}

func codeView(code string) *codeJSON {
	if code == "" {
		return nil
	}
	c, _ := domain.LookupCode(code)
	return &codeJSON{Code: code, Message: c.Message, Remedy: c.Remedy}
}

// TransactionJSON is one row of the transaction listing as the API and the
// CLI print it.
type TransactionJSON struct {
	Payment         string  `json:"payment"`
	Merchant        string  `json:"merchant"`
	Kind            string  `json:"kind"`
	Brand           string  `json:"brand"`
	Amount          int64   `json:"amount"`
	Captured        int64   `json:"captured"`
	Refunded        int64   `json:"refunded"`
	Status          string  `json:"status"`
	ResultCode      string  `json:"result_code"`
	CardCompanyCode string  `json:"card_company_code,omitempty"`
	SalesDate       *string `json:"sales_date"`
	ReturnDate      *string `json:"return_date"`
	MaskedCard      string  `json:"masked_card"`
	Installments    int     `json:"installments"`
	Terminal        string  `json:"terminal,omitempty"`
	BalanceBefore   *int64  `json:"balance_before"`
	BalanceAfter    *int64  `json:"balance_after"`
	Payout          string  `json:"payout,omitempty"`
	CreatedAt       string  `json:"created_at"`
	UpdatedAt       string  `json:"updated_at"`
	Position        string  `json:"position"`
}

func dateView(d *date.Date) *string {
	if d == nil {
		return nil
	}
	s := d.String()
	return &s
}

func timeView(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// TransactionView renders a listing row.
func TransactionView(t projections.Transaction) TransactionJSON {
	return TransactionJSON{
		Payment: string(t.Payment), Merchant: string(t.Merchant), Kind: string(t.Kind), Brand: t.Brand,
		Amount: t.Amount, Captured: t.Captured, Refunded: t.Refunded, Status: t.Status,
		ResultCode: t.LastCode, CardCompanyCode: t.CardCode,
		SalesDate: dateView(t.SalesDate), ReturnDate: dateView(t.ReturnDate),
		MaskedCard: t.MaskedCard, Installments: t.Installments, Terminal: t.Terminal,
		BalanceBefore: t.BalanceBefore, BalanceAfter: t.BalanceAfter, Payout: t.Payout,
		CreatedAt: timeView(t.CreatedAt), UpdatedAt: timeView(t.UpdatedAt), Position: t.Position.String(),
	}
}

func txViews(ts []projections.Transaction) []TransactionJSON {
	out := make([]TransactionJSON, len(ts))
	for i, t := range ts {
		out[i] = TransactionView(t)
	}
	return out
}

// searchJSON is a page of the search. Truncated says more rows match than
// were returned; with the default limit (the UI's 50) the manual's message
// A25 comes with it. Next is the cursor of the next page.
type searchJSON struct {
	Rows      []TransactionJSON `json:"rows"`
	Count     int               `json:"count"`
	Limit     int               `json:"limit"`
	Truncated bool              `json:"truncated"`
	Code      string            `json:"code,omitempty"`
	Message   string            `json:"message,omitempty"`
	Next      string            `json:"next,omitempty"`
	Query     searchEchoJSON    `json:"query"`
}

// searchEchoJSON is the query as understood, normalised.
type searchEchoJSON struct {
	Merchant string `json:"merchant,omitempty"`
	From     string `json:"from,omitempty"`
	To       string `json:"to,omitempty"`
	Min      *int64 `json:"min,omitempty"`
	Max      *int64 `json:"max,omitempty"`
	Status   string `json:"status,omitempty"`
	Brand    string `json:"brand,omitempty"`
	After    string `json:"after,omitempty"`
}

func searchView(q projections.TxQuery, p projections.TxPage) searchJSON {
	out := searchJSON{Rows: txViews(p.Rows), Count: len(p.Rows), Limit: q.Limit, Truncated: p.More,
		Query: searchEchoJSON{Merchant: string(q.Merchant), Min: q.MinAmount, Max: q.MaxAmount,
			Status: q.Status, Brand: q.Brand, After: q.After}}
	if q.From != nil {
		out.Query.From = q.From.String()
	}
	if q.To != nil {
		out.Query.To = q.To.String()
	}
	if p.More {
		out.Next = p.Next
		if q.Limit == projections.SearchLimit {
			c, _ := domain.LookupCode(domain.CodeSearchOverflow)
			out.Code, out.Message = domain.CodeSearchOverflow, c.Message
		}
	}
	return out
}

// detailJSON is one payment: its row, its last result code explained and,
// when the server reads the event store, its events in order.
type detailJSON struct {
	Transaction TransactionJSON `json:"transaction"`
	Result      *codeJSON       `json:"result"`
	CardCompany *codeJSON       `json:"card_company,omitempty"`
	Events      []eventJSON     `json:"events,omitempty"`
}

// eventJSON is one event of a payment. Data is the payload without the
// card fingerprint (a keyed hash that would let a reader link payments by
// card).
type eventJSON struct {
	Revision     uint64          `json:"revision"`
	Position     string          `json:"position"`
	Type         string          `json:"type"`
	Version      int             `json:"version"`
	Time         string          `json:"time"`
	BusinessDate string          `json:"business_date"`
	Result       *codeJSON       `json:"result,omitempty"`
	CardCompany  *codeJSON       `json:"card_company,omitempty"`
	Data         json.RawMessage `json:"data"`
}

// hiddenFields are payload fields the API never shows.
var hiddenFields = []string{"card_fingerprint"}

func eventView(e domain.RecordedEvent) eventJSON {
	out := eventJSON{Revision: e.Revision, Position: e.Position.String(), Type: e.Type, Version: e.Version,
		Time: timeView(e.Time), BusinessDate: domain.BusinessDate(e.Time).String(), Data: json.RawMessage("{}")}
	var fields map[string]json.RawMessage
	if json.Unmarshal(e.Data, &fields) != nil {
		return out
	}
	for _, k := range hiddenFields {
		delete(fields, k)
	}
	var codes struct {
		Result          string `json:"result"`
		CardCompanyCode string `json:"card_company_code"`
	}
	_ = json.Unmarshal(e.Data, &codes)
	out.Result, out.CardCompany = codeView(codes.Result), codeView(codes.CardCompanyCode)
	if b, err := json.Marshal(fields); err == nil {
		out.Data = b
	}
	return out
}

// trialBalanceJSON lists every account's debits and credits.
type trialBalanceJSON struct {
	Accounts    []accountJSON `json:"accounts"`
	TotalDebit  int64         `json:"total_debit"`
	TotalCredit int64         `json:"total_credit"`
	Balanced    bool          `json:"balanced"`
}

type accountJSON struct {
	Account string `json:"account"`
	Debit   int64  `json:"debit"`
	Credit  int64  `json:"credit"`
	Balance int64  `json:"balance"` // debit - credit
}

func trialBalanceView(tb projections.TrialBalance) trialBalanceJSON {
	out := trialBalanceJSON{Accounts: make([]accountJSON, 0, len(tb))}
	for acc, b := range tb {
		out.Accounts = append(out.Accounts, accountJSON{Account: acc, Debit: b.Debit, Credit: b.Credit, Balance: b.Debit - b.Credit})
	}
	slices.SortFunc(out.Accounts, func(a, b accountJSON) int {
		if a.Account < b.Account {
			return -1
		}
		if a.Account > b.Account {
			return 1
		}
		return 0
	})
	out.TotalDebit, out.TotalCredit = tb.Totals()
	out.Balanced = out.TotalDebit == out.TotalCredit
	return out
}

// journalJSON is a page of the journal, in global order.
type journalJSON struct {
	Entries []journalEntryJSON `json:"entries"`
	Count   int                `json:"count"`
	Next    string             `json:"next,omitempty"`
}

type journalEntryJSON struct {
	Position string        `json:"position"`
	Time     string        `json:"time"`
	Type     string        `json:"type"`
	Payment  string        `json:"payment,omitempty"`
	Notice   string        `json:"notice,omitempty"`
	Postings []postingJSON `json:"postings"`
}

type postingJSON struct {
	Account string `json:"account"`
	Debit   int64  `json:"debit"`
	Credit  int64  `json:"credit"`
}

func journalView(es []projections.JournalEntry, limit int) journalJSON {
	out := journalJSON{Entries: make([]journalEntryJSON, len(es)), Count: len(es)}
	for i, e := range es {
		ps := make([]postingJSON, len(e.Postings))
		for j, p := range e.Postings {
			ps[j] = postingJSON{Account: p.Account, Debit: p.Debit, Credit: p.Credit}
		}
		out.Entries[i] = journalEntryJSON{Position: e.Position.String(), Time: e.Time, Type: e.Type, Payment: string(e.Payment), Notice: e.Notice, Postings: ps}
	}
	if len(es) > 0 && len(es) >= limit {
		out.Next = es[len(es)-1].Position.String()
	}
	return out
}

// projectionsJSON is the runner's state.
type projectionsJSON struct {
	Projections []projectionJSON `json:"projections"`
	MaxLag      int64            `json:"max_lag"`
}

type projectionJSON struct {
	Name     string `json:"name"`
	Position string `json:"position"`
	Lag      int64  `json:"lag"`
}

func projectionsView(ss []projections.Status) projectionsJSON {
	out := projectionsJSON{Projections: make([]projectionJSON, len(ss))}
	for i, s := range ss {
		out.Projections[i] = projectionJSON{Name: s.Name, Position: s.Position.String(), Lag: s.Lag}
		out.MaxLag = max(out.MaxLag, s.Lag)
	}
	return out
}

// payoutJSON is one payout: every figure of its notice and the bank's
// outcome.
type payoutJSON struct {
	NoticeNo       string           `json:"notice_no"`
	Merchant       string           `json:"merchant"`
	Payday         string           `json:"payday"`
	NoticeDate     string           `json:"notice_date"`
	Lines          []payoutLineJSON `json:"lines"`
	FeeTotal       int64            `json:"fee_total"`
	FeeTax         int64            `json:"fee_tax"`
	PriorPeriod    int64            `json:"prior_period"`
	PriorFrom      string           `json:"prior_from,omitempty"`
	TransferFee    int64            `json:"transfer_fee"`
	TransferFeeTax int64            `json:"transfer_fee_tax"`
	Net            int64            `json:"net"`
	CarriedForward int64            `json:"carried_forward"`
	Transferred    bool             `json:"transferred"`
	FeeWaived      bool             `json:"fee_waived"`
	Status         string           `json:"status"`
	Reason         string           `json:"reason,omitempty"`
	IssuedAt       string           `json:"issued_at"`
	OutcomeAt      *string          `json:"outcome_at"`
	Position       string           `json:"position"`
}

type payoutLineJSON struct {
	Group       string `json:"group"`
	PeriodStart string `json:"period_start"`
	PeriodEnd   string `json:"period_end"`
	Count       int64  `json:"count"`
	Sales       int64  `json:"sales"`
	Rate        string `json:"rate"`
	Fee         int64  `json:"fee"`
	Amount      int64  `json:"amount"`
}

func payoutView(p projections.Payout) payoutJSON {
	out := payoutJSON{NoticeNo: p.NoticeNo, Merchant: string(p.Merchant), Payday: p.Payday.String(), NoticeDate: p.NoticeDate.String(),
		Lines: make([]payoutLineJSON, len(p.Lines)), FeeTotal: p.FeeTotal, FeeTax: p.FeeTax, PriorPeriod: p.PriorPeriod, PriorFrom: p.PriorFrom,
		TransferFee: p.TransferFee, TransferFeeTax: p.TransferFeeTax, Net: p.Net, CarriedForward: p.CarriedForward,
		Transferred: p.Transferred, FeeWaived: p.FeeWaived, Status: p.Status, Reason: p.Reason, IssuedAt: timeView(p.IssuedAt),
		Position: p.Position.String()}
	for i, l := range p.Lines {
		out.Lines[i] = payoutLineJSON{Group: string(l.Group), PeriodStart: l.PeriodStart, PeriodEnd: l.PeriodEnd, Count: l.Count,
			Sales: l.Sales, Rate: l.Rate, Fee: l.Fee, Amount: l.Amount}
	}
	if !p.OutcomeAt.IsZero() {
		s := timeView(p.OutcomeAt)
		out.OutcomeAt = &s
	}
	return out
}

// payoutsJSON is a list of payouts.
type payoutsJSON struct {
	Payouts []payoutJSON `json:"payouts"`
	Count   int          `json:"count"`
}

func payoutsView(ps []projections.Payout) payoutsJSON {
	out := payoutsJSON{Payouts: make([]payoutJSON, len(ps)), Count: len(ps)}
	for i, p := range ps {
		out.Payouts[i] = payoutView(p)
	}
	return out
}
