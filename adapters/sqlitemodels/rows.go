package sqlitemodels

import (
	"strings"

	"github.com/rickb777/date"

	"upay/adapters/sqlmodels"
	"upay/domain"
	"upay/projections"
)

// The bind side of a batch's rows: SQLite binds a row's values one ?
// each, rows of a chunk one after the other (see rowsSQL); sqlmodels scans
// them back.

// The column counts of the tables written by multi-row statements.
var (
	txColCount      = colCount(sqlmodels.TxCols)
	journalColCount = colCount(sqlmodels.JournalCols)
	payoutColCount  = colCount(sqlmodels.PayoutCols)
	noticeColCount  = colCount(sqlmodels.NoticeCols)
)

func colCount(cols string) int { return strings.Count(cols, ",") + 1 }

func days(d *date.Date) any {
	if d == nil {
		return nil
	}
	return int64(d.DaysSinceEpoch())
}

func yenPtr(y *domain.Yen) any {
	if y == nil {
		return nil
	}
	return *y
}

// appendTx appends the bind values of one row.
func appendTx(args []any, t *projections.Transaction) ([]any, error) {
	pc, pp, err := dialect.Position(t.Position)
	if err != nil {
		return nil, err
	}
	return append(args, string(t.Payment), string(t.Merchant), string(t.Kind), t.Brand, t.Amount, t.Captured, t.Refunded,
		t.Status, t.LastCode, t.CardCode, days(t.SalesDate), days(t.ReturnDate), t.MaskedCard, int64(t.Installments),
		t.Terminal, yenPtr(t.BalanceBefore), yenPtr(t.BalanceAfter), t.Payout, t.CreatedAt.UnixNano(), t.UpdatedAt.UnixNano(), pc, pp), nil
}

// appendEntry appends the bind values of one journal entry.
func appendEntry(args []any, e *projections.Entry) ([]any, error) {
	pc, pp, err := dialect.Position(e.Position)
	if err != nil {
		return nil, err
	}
	ps, err := dialect.EncodePostings(e)
	if err != nil {
		return nil, err
	}
	args = append(args, pc, pp, e.Time.UnixNano(), e.Type, string(e.Payment), e.Notice)
	if ps.Pair {
		return append(args, ps.Debit, ps.Credit, ps.Amount, nil), nil
	}
	return append(args, nil, nil, nil, ps.JSON), nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// appendPayout appends the bind values of one payout row.
func appendPayout(args []any, p *projections.Payout) ([]any, error) {
	pc, pp, err := dialect.Position(p.Position)
	if err != nil {
		return nil, err
	}
	lines, err := dialect.EncodeLines(p)
	if err != nil {
		return nil, err
	}
	var outcome any
	if !p.OutcomeAt.IsZero() {
		outcome = p.OutcomeAt.UnixNano()
	}
	return append(args, p.NoticeNo, string(p.Merchant), int64(p.Payday.DaysSinceEpoch()), int64(p.NoticeDate.DaysSinceEpoch()),
		lines, p.FeeTotal, p.FeeTax, p.PriorPeriod, p.PriorFrom, p.TransferFee, p.TransferFeeTax, p.Net, p.CarriedForward,
		boolInt(p.Transferred), boolInt(p.FeeWaived), p.Status, p.Reason, p.IssuedAt.UnixNano(), outcome, pc, pp), nil
}

// appendNotice appends the bind values of one notices row.
func appendNotice(args []any, n *projections.Notice) ([]any, error) {
	pc, pp, err := dialect.Position(n.Position)
	if err != nil {
		return nil, err
	}
	return append(args, n.NoticeNo, string(n.Merchant), int64(n.Payday.DaysSinceEpoch()), int64(n.Seq),
		int64(n.IssueDate.DaysSinceEpoch()), n.File, n.SHA256, n.Reason, int64(n.Rewrites), sqlmodels.NullInstant(n.IssuedAt),
		n.Status, n.DeliveredTo, n.MessageID, sqlmodels.NullInstant(n.DeliveredAt), int64(n.Attempts), n.LastCode, n.LastError,
		pc, pp), nil
}
