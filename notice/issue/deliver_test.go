package issue_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/rickb777/date"

	"upay/domain"
	"upay/notice"
	"upay/notice/issue"
)

// inbox is a real SMTP server (github.com/emersion/go-smtp) in the test
// process, keeping what it receives.
type inbox struct {
	mu     sync.Mutex
	msgs   []received
	refuse atomic.Bool // refuse every recipient (550)
}

type received struct {
	from string
	to   []string
	data []byte
}

type session struct {
	in  *inbox
	cur received
}

func (b *inbox) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &session{in: b}, nil }
func (s *session) Reset()                                        { s.cur = received{} }
func (s *session) Logout() error                                 { return nil }
func (s *session) Mail(from string, _ *gosmtp.MailOptions) error {
	s.cur.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if s.in.refuse.Load() {
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.cur.to = append(s.cur.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	s.in.mu.Lock()
	s.in.msgs = append(s.in.msgs, s.cur)
	s.in.mu.Unlock()
	return nil
}

func (b *inbox) count() int { b.mu.Lock(); defer b.mu.Unlock(); return len(b.msgs) }
func (b *inbox) last() received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.msgs[len(b.msgs)-1]
}

func startSMTP(t *testing.T) (*inbox, *issue.SMTP) {
	t.Helper()
	in := &inbox{}
	srv := gosmtp.NewServer(in)
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return in, &issue.SMTP{Addr: l.Addr().String()}
}

// attachment returns the subject and the decoded application/zip part.
func attachment(t *testing.T, raw []byte) (string, string, []byte) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("content type %q: %v", mt, err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var text string
	var zip []byte
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
		if strings.HasPrefix(p.Header.Get("Content-Type"), "application/zip") {
			zip = b
			if p.FileName() == "" {
				t.Error("attachment without a file name")
			}
		} else {
			text = string(b)
		}
	}
	return subject, text, zip
}

func TestDeliverOverSMTP(t *testing.T) {
	ctx := context.Background()
	in, mailer := startSMTP(t)
	e := newEnv(t, "")
	p := notice.SamplePayout()
	if r := e.svc.Deliver(ctx, p, mailer, "notices@upay.example"); domain.CodeOf(r.Err) != domain.CodePayoutNotFound {
		t.Fatalf("deliver before issue: %+v", r)
	}
	if r := e.svc.Issue(ctx, p, issue.Options{}); r.Err != nil {
		t.Fatal(r.Err)
	}
	r := e.svc.Deliver(ctx, p, mailer, "notices@upay.example")
	if r.Status != issue.Delivered || r.Err != nil || in.count() != 1 {
		t.Fatalf("deliver: %+v, %d messages", r, in.count())
	}
	msg := in.last()
	if msg.from != "notices@upay.example" || len(msg.to) != 1 || msg.to[0] != "owner@example.jp" {
		t.Fatalf("envelope %q %q", msg.from, msg.to)
	}
	if bytes.Contains(msg.data, []byte(password)) {
		t.Fatal("the password is in the e-mail")
	}
	subject, text, zip := attachment(t, msg.data)
	if subject != "【お支払通知書】270212122-001-20191031" || !strings.Contains(text, "②新PAY切替Uペイ 様") || !strings.Contains(text, "2019年10月31日") {
		t.Errorf("subject %q, text %q", subject, text)
	}
	want, _ := e.svc.Make(p, 1, date.New(2019, 10, 29))
	pdf, csv, err := issue.Unpack(zip, []byte(password), "270212122-001-20191031")
	if err != nil || !bytes.Equal(pdf, want.PDF) || !bytes.Equal(csv, want.CSV) {
		t.Fatalf("the received attachment does not decrypt to the notice: %v", err)
	}

	// Never twice.
	if r := e.svc.Deliver(ctx, p, mailer, "notices@upay.example"); r.Status != issue.AlreadyDelivered || in.count() != 1 {
		t.Fatalf("second delivery: %+v, %d messages", r, in.count())
	}
	// A reissue is a new notice: delivered once too.
	if r := e.svc.Reissue(ctx, p, "宛先誤り", date.Date{}); r.Err != nil {
		t.Fatal(r.Err)
	}
	if r := e.svc.Deliver(ctx, p, mailer, "notices@upay.example"); r.Status != issue.Delivered || r.NoticeNo != "270212122-002-20191031" || in.count() != 2 {
		t.Fatalf("reissue delivery: %+v", r)
	}
	if _, text, _ := attachment(t, in.last().data); !strings.Contains(text, "再発行です（宛先誤り）") {
		t.Errorf("reissue text %q", text)
	}
	evs, _ := e.store.ReadStream(ctx, notice.Stream(p.Merchant, p.Payday), 0, domain.ReadOptions{})
	h, _ := notice.Fold(evs)
	if d := h.Delivered["270212122-001-20191031"]; d.To != "owner@example.jp" || d.MessageID == "" || d.SHA256 == "" {
		t.Fatalf("delivered event %+v", d)
	}
}

func TestDeliveryFailuresAreRecordedAndRetried(t *testing.T) {
	ctx := context.Background()
	in, mailer := startSMTP(t)
	e := newEnv(t, "")
	p := notice.SamplePayout()
	if r := e.svc.Issue(ctx, p, issue.Options{}); r.Err != nil {
		t.Fatal(r.Err)
	}
	in.refuse.Store(true)
	r := e.svc.Deliver(ctx, p, mailer, "notices@upay.example")
	if r.Status != issue.DeliveryFailed || domain.CodeOf(r.Err) != issue.CodeDelivery || !strings.Contains(r.Err.Error(), "550") {
		t.Fatalf("refused: %+v", r)
	}
	// A server that drops the connection.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	defer l.Close()
	if r := e.svc.Deliver(ctx, p, &issue.SMTP{Addr: l.Addr().String()}, "notices@upay.example"); r.Status != issue.DeliveryFailed || domain.CodeOf(r.Err) != issue.CodeDelivery {
		t.Fatalf("dropped: %+v", r)
	}
	// A bad address is a failure too, recorded.
	bad := p
	bad.Email = "not an address"
	if r := e.svc.Deliver(ctx, bad, mailer, "notices@upay.example"); r.Status != issue.DeliveryFailed {
		t.Fatalf("bad address: %+v", r)
	}
	in.refuse.Store(false)
	if r := e.svc.Deliver(ctx, p, mailer, "notices@upay.example"); r.Status != issue.Delivered || in.count() != 1 {
		t.Fatalf("retry: %+v, %d", r, in.count())
	}
	evs, _ := e.store.ReadStream(ctx, notice.Stream(p.Merchant, p.Payday), 0, domain.ReadOptions{})
	h, _ := notice.Fold(evs)
	if h.Failures != 3 || len(h.Delivered) != 1 {
		t.Fatalf("history %+v", h)
	}
}

func TestParseSMTP(t *testing.T) {
	s, err := issue.ParseSMTP("smtp://mailer@relay.example", "secret")
	if err != nil || s.Addr != "relay.example:25" || s.User != "mailer" || s.Pass != "secret" {
		t.Fatalf("%+v %v", s, err)
	}
	if s, err := issue.ParseSMTP("smtp://127.0.0.1:2525", ""); err != nil || s.Addr != "127.0.0.1:2525" {
		t.Fatalf("%+v %v", s, err)
	}
	for _, bad := range []string{"http://x", "smtp://", "smtp://u:p@host", "relay:25"} {
		if _, err := issue.ParseSMTP(bad, ""); domain.CodeOf(err) != domain.CodeInvalidField {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
