package sqlmodels

import (
	"strings"

	"upay/projections"
)

// The tables' columns, in the order rows are bound and scanned.
const (
	// TxCols are the listing's (transactions), key first.
	TxCols = "payment, merchant, kind, brand, amount, captured, refunded, status, last_code, card_code, " +
		"sales_date, return_date, masked_card, installments, terminal, balance_before, balance_after, payout, " +
		"created_at, updated_at, pos_commit, pos_prepare"
	// JournalCols are the journal's.
	JournalCols = "pos_commit, pos_prepare, time_ns, type, payment, notice, debit, credit, amount, postings"
	// PayoutCols are the payouts table's, key first.
	PayoutCols = "notice_no, merchant, payday, notice_date, lines, fee_total, fee_tax, prior_period, prior_from, " +
		"transfer_fee, transfer_fee_tax, net, carried_forward, transferred, fee_waived, status, reason, issued_at, outcome_at, " +
		"pos_commit, pos_prepare"
	// NoticeCols are the notices table's, key first.
	NoticeCols = "notice_no, merchant, payday, seq, issue_date, file, sha256, reason, rewrites, issued_at, status, " +
		"delivered_to, message_id, delivered_at, attempts, last_code, last_error, pos_commit, pos_prepare"
	// TotalsCols are period_totals', BalanceCols trial_balance's and
	// CheckpointCols checkpoints'.
	TotalsCols     = "merchant, date, grp, count, sales"
	BalanceCols    = "account, debit, credit"
	CheckpointCols = "name, pos_commit, pos_prepare"
)

// The reads both engines run as written (with ? placeholders; Reader
// renders them for its dialect).
const (
	QueryTransaction  = "SELECT " + TxCols + " FROM transactions WHERE payment = ?"
	QueryPeriodTotals = "SELECT date, grp, count, sales FROM period_totals WHERE merchant = ? AND date >= ? AND date <= ? ORDER BY date"
	// QueryUnknownEmoney: unknown debits have neither a sales nor a return
	// date, so the partial index of such rows (tx_merchant_dateless)
	// serves it.
	QueryUnknownEmoney = "SELECT " + TxCols + " FROM transactions WHERE merchant = ? AND sales_date IS NULL AND return_date IS NULL AND status = 'unknown' ORDER BY created_at, payment"
	QueryTrialBalance  = "SELECT account, debit, credit FROM trial_balance"
	QueryJournal       = "SELECT " + JournalCols + " FROM journal WHERE (pos_commit, pos_prepare) > (?, ?) ORDER BY pos_commit, pos_prepare LIMIT ?"
	// QueryPayouts reads through payouts_merchant, QueryPayoutsOn through
	// payouts_payday.
	QueryPayouts   = "SELECT " + PayoutCols + " FROM payouts WHERE merchant = ? AND payday BETWEEN ? AND ? ORDER BY payday, notice_no"
	QueryPayoutsOn = "SELECT " + PayoutCols + " FROM payouts WHERE payday = ? ORDER BY merchant, notice_no"
	// QueryNotices reads through notices_payday.
	QueryNotices     = "SELECT " + NoticeCols + " FROM notices WHERE payday = ? ORDER BY merchant, notice_no"
	QueryCheckpoints = "SELECT " + CheckpointCols + " FROM checkpoints"
)

// The writes' shared parts.
const (
	// Outcome records a payout's bank outcome.
	Outcome = "UPDATE payouts SET status = ?, reason = ?, outcome_at = ?, pos_commit = ?, pos_prepare = ? WHERE notice_no = ?"
	// TxOnConflict, PayoutOnConflict and CheckpointOnConflict make an
	// insert of the listing, the payouts or the checkpoints replace the
	// stored row of the same key.
	TxOnConflict         = "ON CONFLICT (payment) DO UPDATE SET "
	PayoutOnConflict     = "ON CONFLICT (notice_no) DO UPDATE SET "
	NoticeOnConflict     = PayoutOnConflict
	CheckpointOnConflict = "ON CONFLICT (name) DO UPDATE SET pos_commit = excluded.pos_commit, pos_prepare = excluded.pos_prepare"
)

// TxUpdate, PayoutUpdate and NoticeUpdate complete TxOnConflict,
// PayoutOnConflict and NoticeOnConflict.
var (
	TxUpdate     = updateAll(TxCols)
	PayoutUpdate = updateAll(PayoutCols)
	NoticeUpdate = updateAll(NoticeCols)
)

// updateAll sets every column of cols but the first (the key) from the
// proposed row.
func updateAll(cols string) string {
	var b strings.Builder
	for i, c := range strings.Split(cols, ", ")[1:] {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = excluded." + c)
	}
	return b.String()
}

// AddOnConflict makes an insert into table add its cols to the stored row
// of the same key: the deltas of period_totals and trial_balance.
func (d *Dialect) AddOnConflict(table, key string, cols ...string) string {
	stored := ""
	if d.QualifyExisting {
		stored = table + "."
	}
	sets := make([]string, len(cols))
	for i, c := range cols {
		sets[i] = c + " = " + stored + c + " + excluded." + c
	}
	return "ON CONFLICT (" + key + ") DO UPDATE SET " + strings.Join(sets, ", ")
}

// TxsByPayment selects the listing rows whose payment is in keys, the
// engine's key-set condition.
func TxsByPayment(keys string) string {
	return "SELECT " + TxCols + " FROM transactions WHERE payment " + keys
}

// NoticesByNo selects the notices rows whose notice number is in keys,
// the engine's key-set condition: the stored rows a batch folds over.
func NoticesByNo(keys string) string {
	return "SELECT " + NoticeCols + " FROM notices WHERE notice_no " + keys
}

// Settle stamps a payout line's notice on the listing rows it settles
// (projections.Settlement.Stamp in SQL), through tx_unsettled: brands is
// the engine's brand-set condition.
func Settle(brands string) string {
	return "UPDATE transactions SET payout = ? WHERE merchant = ? AND sales_date BETWEEN ? AND ? AND payout = '' AND brand " + brands
}

// Tables returns the tables a projection owns, which a Reset empties.
func Tables(name string) []string {
	switch name {
	case projections.NameTransactions:
		return []string{"transactions", "tx_merchants"}
	case projections.NameTotals:
		return []string{"period_totals"}
	case projections.NameJournal:
		return []string{"journal", "trial_balance"}
	case projections.NamePayouts:
		return []string{"payouts"}
	case projections.NameNotices:
		return []string{"notices"}
	}
	return nil
}
