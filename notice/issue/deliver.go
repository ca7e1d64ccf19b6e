package issue

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rickb777/date"

	"upay/domain"
	"upay/notice"
)

// CodeDelivery is the code of a failed delivery: the manual's E0312
// (メールの送信に失敗しました。).
const CodeDelivery = "E0312"

// Mailer sends one message.
type Mailer interface {
	Send(ctx context.Context, from string, to []string, msg []byte) error
}

// SMTP sends through an SMTP server with net/smtp: STARTTLS when the
// server offers it, PLAIN authentication when a user is given (net/smtp
// refuses to send credentials unencrypted except to localhost).
type SMTP struct {
	Addr    string // host:port
	User    string
	Pass    string
	Timeout time.Duration // per message; 0 means 30 s
}

// ParseSMTP reads smtp://[user@]host[:port] (port 25 by default). The
// password is never part of the URL: it comes from the caller (the
// command line reads env UPAY_SMTP_PASSWORD), so that it stays off argv.
func ParseSMTP(raw, password string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "smtp" || u.Host == "" || u.Path != "" && u.Path != "/" {
		return nil, domain.Err(domain.CodeInvalidField, "--smtp %q: want smtp://[user@]host[:port]", raw)
	}
	if _, set := u.User.Password(); set {
		return nil, domain.Err(domain.CodeInvalidField, "--smtp: put the SMTP password in UPAY_SMTP_PASSWORD, not in the URL")
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "25")
	}
	return &SMTP{Addr: host, User: u.User.Username(), Pass: password}, nil
}

// Send delivers msg, giving up after the timeout.
func (s *SMTP) Send(ctx context.Context, from string, to []string, msg []byte) error {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(nil); err != nil {
			return err
		}
	}
	if s.User != "" {
		if err := c.Auth(smtp.PlainAuth("", s.User, s.Pass, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// Delivery statuses.
const (
	Delivered        Status = "delivered"
	AlreadyDelivered Status = "already delivered"
	DeliveryFailed   Status = "delivery failed"
)

// Deliver e-mails the merchant's current notice of p's payday (the
// highest sequence number issued) to the address the payout recorded, as
// a MIME attachment, and records notice.delivered or
// notice.delivery_failed. A notice recorded as delivered is never sent
// again; a failed one is sent again by the next call. The file must still
// have the recorded hash.
func (s *Service) Deliver(ctx context.Context, p domain.PayoutIssued, m Mailer, from string) Result {
	res := Result{Merchant: p.Merchant, Name: p.Name}
	fail := func(err error) Result { res.Status, res.Err = Failed, err; return res }
	h, err := s.history(ctx, p)
	if err != nil {
		return fail(err)
	}
	rec, ok := h.BySeq[h.MaxSeq]
	if !ok {
		return fail(domain.Err(domain.CodePayoutNotFound, "merchant %s (%s): no notice issued for payday %s", p.Merchant, p.Name, p.Payday))
	}
	res.NoticeNo, res.File, res.SHA256 = rec.NoticeNo, filepath.Join(s.Dir, rec.File), rec.SHA256
	if d, ok := h.Delivered[rec.NoticeNo]; ok && d.SHA256 == rec.SHA256 {
		res.Status = AlreadyDelivered
		return res
	}
	z, err := os.ReadFile(res.File)
	if err != nil {
		return fail(domain.Wrap(domain.CodeMissingField, err, "merchant %s: notice %s cannot be read for delivery", p.Merchant, rec.NoticeNo))
	}
	if sum := sha256.Sum256(z); hex.EncodeToString(sum[:]) != rec.SHA256 {
		return fail(domain.Err(domain.CodeInvalidField, "merchant %s: %s differs from the notice recorded as issued: not sent", p.Merchant, res.File))
	}
	to, err := mail.ParseAddress(p.Email)
	if err != nil {
		return s.recordFailure(ctx, p, h, rec, p.Email, domain.Wrap(CodeDelivery, err, "merchant %s (%s): e-mail address %q", p.Merchant, p.Name, p.Email), res)
	}
	msgID := messageID(rec.NoticeNo, from)
	msg, err := Message(from, to.Address, msgID, p, rec, z, s.clock().Now())
	if err != nil {
		return fail(err)
	}
	if err := m.Send(ctx, from, []string{to.Address}, msg); err != nil {
		return s.recordFailure(ctx, p, h, rec, to.Address, domain.Wrap(CodeDelivery, err, "merchant %s (%s): sending %s to %s", p.Merchant, p.Name, rec.File, to.Address), res)
	}
	ev := notice.Delivered{Merchant: p.Merchant, Payday: p.Payday, NoticeNo: rec.NoticeNo, Seq: rec.Seq, To: to.Address, SHA256: rec.SHA256, MessageID: msgID}
	if err := s.record(ctx, p, h, ev); err != nil {
		// Sent but not recorded: say so loudly, a re-run would send again.
		return fail(fmt.Errorf("merchant %s: notice %s was sent to %s but the delivery could not be recorded (a re-run sends it again): %w", p.Merchant, rec.NoticeNo, to.Address, err))
	}
	res.Status = Delivered
	return res
}

func (s *Service) recordFailure(ctx context.Context, p domain.PayoutIssued, h notice.History, rec notice.Issued, to string, cause error, res Result) Result {
	ev := notice.DeliveryFailed{Merchant: p.Merchant, Payday: p.Payday, NoticeNo: rec.NoticeNo, Seq: rec.Seq, To: to, Code: CodeDelivery, Error: cause.Error()}
	if err := s.record(ctx, p, h, ev); err != nil {
		cause = errors.Join(cause, err)
	}
	res.Status, res.Err = DeliveryFailed, cause
	return res
}

func (s *Service) record(ctx context.Context, p domain.PayoutIssued, h notice.History, e domain.Event) error {
	data, err := domain.EncodeEvent(e)
	if err != nil {
		return err
	}
	_, err = s.Store.Append(ctx, domain.AppendRequest{Stream: notice.Stream(p.Merchant, p.Payday), Expected: h.Expected(),
		Events: []domain.ProposedEvent{{Type: e.EventType(), Version: e.EventVersion(), Time: s.clock().Now(), Data: data}}})
	return err
}

func messageID(noticeNo, from string) string {
	var r [8]byte
	rand.Read(r[:])
	domainPart := "upay.invalid"
	if a, err := mail.ParseAddress(from); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok {
			domainPart = d
		}
	}
	return fmt.Sprintf("%s.%s@%s", noticeNo, hex.EncodeToString(r[:]), domainPart)
}

// Message is the e-mail of one notice: a Japanese text part and the ZIP
// as an application/zip attachment (base64), subject and names encoded
// per RFC 2047 / RFC 2231.
func Message(from, to, msgID string, p domain.PayoutIssued, rec notice.Issued, zip []byte, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	subject := fmt.Sprintf("【お支払通知書】%s", rec.NoticeNo)
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", from)
	h("To", to)
	h("Subject", mime.BEncoding.Encode("UTF-8", subject))
	h("Date", now.In(domain.Tokyo).Format(time.RFC1123Z))
	h("Message-ID", "<"+msgID+">")
	h("MIME-Version", "1.0")
	h("Content-Type", `multipart/mixed; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")

	payday, _ := date.ParseISO(p.Payday)
	body := fmt.Sprintf("%s 様\r\n\r\nいつもご利用いただきまして誠にありがとうございます。\r\n"+
		"お振込み予定日 %s のお支払通知書（通知書No %s）をお送りいたします。\r\n"+
		"添付のZIPファイルは、ご購入時にお渡しした資料に記載の数字9桁のパスワードで開けます。\r\n"+
		"（7-Zip など AES-256 暗号化に対応したソフトでお開きください。）\r\n",
		p.Name, notice.JapaneseDate(payday), rec.NoticeNo)
	if rec.Seq > 1 && rec.Reason != "" {
		body += "\r\n本通知書は再発行です（" + rec.Reason + "）。\r\n"
	}
	tp, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=UTF-8"},
		"Content-Transfer-Encoding": {"base64"},
	})
	if err != nil {
		return nil, err
	}
	writeBase64(tp, []byte(body))
	ap, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {mime.FormatMediaType("application/zip", map[string]string{"name": rec.File})},
		"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": rec.File})},
		"Content-Transfer-Encoding": {"base64"},
	})
	if err != nil {
		return nil, err
	}
	writeBase64(ap, zip)
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeBase64 writes data in base64 lines of 76 characters (RFC 2045).
func writeBase64(w io.Writer, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		w.Write([]byte(enc[:76] + "\r\n"))
		enc = enc[76:]
	}
	w.Write([]byte(enc + "\r\n"))
}

// DeliverAll delivers the notices of several payouts with up to four
// connections at once; results in the order of ps.
func (s *Service) DeliverAll(ctx context.Context, ps []domain.PayoutIssued, m Mailer, from string, progress func(done, total int)) []Result {
	out := make([]Result, len(ps))
	jobs := make(chan int)
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	for range min(4, max(len(ps), 1)) {
		wg.Go(func() {
			for i := range jobs {
				out[i] = s.Deliver(ctx, ps[i], m, from)
				mu.Lock()
				done++
				if progress != nil {
					progress(done, len(ps))
				}
				mu.Unlock()
			}
		})
	}
	for i := range ps {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return out
}
