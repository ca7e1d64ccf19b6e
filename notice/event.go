package notice

import (
	"bytes"
	"encoding/json"
	"fmt"

	"upay/domain"
)

// Event type names of the notices stream. Never rename one.
const (
	TypeIssued         = "notice.issued"
	TypeDelivered      = "notice.delivered"
	TypeDeliveryFailed = "notice.delivery_failed"
)

// Issued (notice.issued v1) records that a notice file was written: which
// notice (number and sequence), the issue date printed on it (so the same
// document can be rebuilt from the events alone), the file's base name
// and the SHA-256 of its bytes. Reason is given for a reissue (seq >= 2)
// and for a rewrite. Rewrite marks a file written again, with the same
// sequence number and document, after the first file was lost: the ZIP's
// random salts make its bytes and hash differ. The password is never part
// of it.
//
// Stream: Stream(merchant, payday) = notices-<merchant>-<YYYYMMDD>. The
// first issue is appended with NoStream, every later event with the exact
// revision the issuer read, so one sequence number is never issued twice.
type Issued struct {
	Merchant  domain.MerchantID `json:"merchant"`
	Payday    string            `json:"payday"`
	NoticeNo  string            `json:"notice_no"`
	Seq       int               `json:"seq"`
	IssueDate string            `json:"issue_date"`
	File      string            `json:"file"`
	SHA256    string            `json:"sha256"`
	Reason    string            `json:"reason,omitempty"`
	Rewrite   bool              `json:"rewrite,omitempty"`
}

// Delivered (notice.delivered v1): the SMTP server accepted the notice
// file (by hash) for the address; it is never sent again.
type Delivered struct {
	Merchant  domain.MerchantID `json:"merchant"`
	Payday    string            `json:"payday"`
	NoticeNo  string            `json:"notice_no"`
	Seq       int               `json:"seq"`
	To        string            `json:"to"`
	SHA256    string            `json:"sha256"`
	MessageID string            `json:"message_id"` // without the angle brackets
}

// DeliveryFailed (notice.delivery_failed v1): a delivery attempt failed;
// the next run tries again.
type DeliveryFailed struct {
	Merchant domain.MerchantID `json:"merchant"`
	Payday   string            `json:"payday"`
	NoticeNo string            `json:"notice_no"`
	Seq      int               `json:"seq"`
	To       string            `json:"to"`
	Code     string            `json:"code"`
	Error    string            `json:"error"`
}

func (Issued) EventType() string         { return TypeIssued }
func (Issued) EventVersion() int         { return 1 }
func (Delivered) EventType() string      { return TypeDelivered }
func (Delivered) EventVersion() int      { return 1 }
func (DeliveryFailed) EventType() string { return TypeDeliveryFailed }
func (DeliveryFailed) EventVersion() int { return 1 }

func init() {
	domain.RegisterEvent(TypeIssued, 1, decodeStrict[Issued])
	domain.RegisterEvent(TypeDelivered, 1, decodeStrict[Delivered])
	domain.RegisterEvent(TypeDeliveryFailed, 1, decodeStrict[DeliveryFailed])
}

func decodeStrict[T domain.Event](b []byte) (domain.Event, error) {
	var e T
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&e); err != nil {
		return nil, domain.Wrap(domain.CodeMalformed, err, "decoding %T", e)
	}
	return e, nil
}

// Stream is the stream of one merchant's notices for one payday.
func Stream(m domain.MerchantID, payday string) domain.StreamID {
	c := make([]byte, 0, 8)
	for i := 0; i < len(payday); i++ {
		if payday[i] != '-' {
			c = append(c, payday[i])
		}
	}
	return domain.StreamID(fmt.Sprintf("notices-%s-%s", m, c))
}

// History is the folded state of a notices stream: the latest
// notice.issued of every sequence number, the deliveries, and the
// stream's last revision for the next append's expected revision.
type History struct {
	BySeq     map[int]Issued
	Last      uint64 // revision of the last event
	Exists    bool   // the stream has at least one event
	MaxSeq    int    // highest sequence issued, 0 when none
	Recorded  []Issued
	Delivered map[string]Delivered // by notice number
	Failures  int                  // delivery attempts that failed
}

// Fold reads a notices stream's recorded events.
func Fold(evs []domain.RecordedEvent) (History, error) {
	h := History{BySeq: map[int]Issued{}, Delivered: map[string]Delivered{}}
	for _, r := range evs {
		e, err := domain.DecodeEvent(r.Type, r.Version, r.Data)
		if err != nil {
			return h, fmt.Errorf("stream %s revision %d: %w", r.Stream, r.Revision, err)
		}
		switch e := e.(type) {
		case Issued:
			h.BySeq[e.Seq] = e
			h.MaxSeq = max(h.MaxSeq, e.Seq)
			h.Recorded = append(h.Recorded, e)
		case Delivered:
			h.Delivered[e.NoticeNo] = e
		case DeliveryFailed:
			h.Failures++
		default:
			return h, domain.Err(domain.CodeUnknownType, "stream %s revision %d: unexpected event %s", r.Stream, r.Revision, r.Type)
		}
		h.Last, h.Exists = r.Revision, true
	}
	return h, nil
}

// Expected is the expected revision of the next append to the stream.
func (h History) Expected() domain.ExpectedRevision {
	if !h.Exists {
		return domain.NoStream()
	}
	return domain.Exact(h.Last)
}
