package projections

import (
	"time"

	"github.com/rickb777/date"

	"upay/domain"
	"upay/notice"
)

// Notice delivery statuses: pending until the notice's current file is
// delivered, failed after a failed attempt (the next run tries again).
const (
	NoticeStatusPending   = "pending"
	NoticeStatusDelivered = "delivered"
	NoticeStatusFailed    = "failed"
)

// Notice is one row of the notices read model: one payout notice (one
// notice number: a reissue has a number of its own) with its current file
// and its delivery.
type Notice struct {
	NoticeNo  string
	Merchant  domain.MerchantID
	Payday    date.Date
	Seq       int
	IssueDate date.Date // 発行日 printed on the notice
	File      string    // base name of the current file
	SHA256    string    // of the current file
	Reason    string    // of the last notice.issued (a reissue's or a rewrite's); "" for none
	Rewrites  int       // files written again, same document, after the first was lost
	IssuedAt  time.Time // processing time of the last notice.issued: the current file's
	Status    string    // NoticeStatusPending, ...Delivered or ...Failed
	// DeliveredTo, MessageID and DeliveredAt describe the delivery of the
	// current file; empty unless Status is delivered.
	DeliveredTo string
	MessageID   string
	DeliveredAt time.Time
	Attempts    int    // failed delivery attempts, over every file of the notice
	LastCode    string // of the last failed attempt, kept after a later success
	LastError   string
	Position    domain.Position // of the last event applied
}

// NoticeNumberOf returns the notice number of a notices-stream event; ok
// is false for any other event.
func NoticeNumberOf(e domain.Event) (no string, ok bool) {
	switch e := e.(type) {
	case notice.Issued:
		return e.NoticeNo, true
	case notice.Delivered:
		return e.NoticeNo, true
	case notice.DeliveryFailed:
		return e.NoticeNo, true
	}
	return "", false
}

// Apply folds a notices-stream event into the row (the zero row for the
// notice's first event). Every event names its notice, so a row is whole
// whatever event starts it. A notice.issued is a new file (a rewrite has
// new bytes, so a new hash): the notice is pending again, as the delivery
// sends a file whose hash it has not delivered. Errors: U1001 for a payday
// or issue date that is not a date.
func (n *Notice) Apply(e domain.Event, at time.Time, pos domain.Position) error {
	var (
		m      domain.MerchantID
		payday string
		no     string
		seq    int
	)
	switch e := e.(type) {
	case notice.Issued:
		m, payday, no, seq = e.Merchant, e.Payday, e.NoticeNo, e.Seq
	case notice.Delivered:
		m, payday, no, seq = e.Merchant, e.Payday, e.NoticeNo, e.Seq
	case notice.DeliveryFailed:
		m, payday, no, seq = e.Merchant, e.Payday, e.NoticeNo, e.Seq
	default:
		return nil
	}
	pd, err := date.ParseISO(payday)
	if err != nil {
		return domain.Err(domain.CodeMalformed, "notice %s: payday %q: want YYYY-MM-DD", no, payday)
	}
	n.NoticeNo, n.Merchant, n.Payday, n.Seq, n.Position = no, m, pd, seq, pos
	if n.Status == "" {
		n.Status = NoticeStatusPending
	}
	switch e := e.(type) {
	case notice.Issued:
		issued, err := date.ParseISO(e.IssueDate)
		if err != nil {
			return domain.Err(domain.CodeMalformed, "notice %s: issue date %q: want YYYY-MM-DD", no, e.IssueDate)
		}
		n.IssueDate, n.File, n.SHA256, n.Reason, n.IssuedAt = issued, e.File, e.SHA256, e.Reason, at.UTC()
		if e.Rewrite {
			n.Rewrites++
		}
		n.Status, n.DeliveredTo, n.MessageID, n.DeliveredAt = NoticeStatusPending, "", "", time.Time{}
	case notice.Delivered:
		n.Status, n.DeliveredTo, n.MessageID, n.DeliveredAt = NoticeStatusDelivered, e.To, e.MessageID, at.UTC()
	case notice.DeliveryFailed:
		n.Status, n.Attempts, n.LastCode, n.LastError = NoticeStatusFailed, n.Attempts+1, e.Code, e.Error
		n.DeliveredTo, n.MessageID, n.DeliveredAt = "", "", time.Time{}
	}
	return nil
}
