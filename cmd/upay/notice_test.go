package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"upay/adapters/pdfnotice"
	"upay/adapters/sqlite"
	"upay/domain"
	"upay/merchants"
	"upay/notice"
	"upay/notice/issue"
)

// TestNoticeCommands registers three merchants, records their payouts for
// 2019-10-31, and issues the notices: one merchant lacks its password and
// fails with U3004 while the others are written; a second run keeps them;
// a reissue writes 002. The password never reaches an event or the output.
func TestNoticeCommands(t *testing.T) {
	if !pdfnotice.FontInstalled(os.Getenv("UPAY_NOTICE_FONT")) {
		if os.Getenv("CI") == "true" {
			t.Fatal("notice font not installed but CI=true: run `make deps` (Debian package fonts-ipaexfont-gothic)")
		}
		t.Skip("notice font not installed (Debian package fonts-ipaexfont-gothic, `make deps`): skipped")
	}
	ctx := context.Background()
	base := t.TempDir()
	store := filepath.Join(base, "upay.db")
	out := filepath.Join(base, "notices")
	ids := []string{"270000001", "270000002", "270000003"}
	pws := []string{"111222333", "444555666", "777888999"}
	for i, id := range ids {
		args := []string{"--store", store, "merchant", "add", "--id", id, "--name", "テスト商店" + id[8:], "--contact", "平 次郎",
			"--email", "owner@example.jp", "--bank-code", "0010", "--bank-name", "りそな銀行", "--branch-code", "101", "--branch-name", "本店",
			"--account-number", "1234567", "--holder", "ﾃｽﾄｼﾖｳﾃﾝ", "--rate-visa-master", "3.24", "--rate-jcb-other", "3.24", "--rate-emoney", "3.24",
			"--notice-password-file", "-", "stdin=" + pws[i] + "\n"}
		if code, _, errs := runCLI(t, args...); code != 0 {
			t.Fatalf("merchant add: %s", errs)
		}
	}
	// The payout batch's events, as `upay payout run` records them.
	st, err := sqlite.Open(store)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		p := notice.SamplePayout()
		p.Merchant, p.Name = domain.MerchantID(id), "テスト商店"+id[8:]
		p.NoticeNo = domain.NoticeNo(p.Merchant, 1, p.Payday)
		data, _ := domain.EncodeEvent(p)
		if _, err := st.Append(ctx, domain.AppendRequest{Stream: domain.PayoutStream(p.Merchant, p.Payday), Expected: domain.NoStream(),
			Events: []domain.ProposedEvent{{Type: p.EventType(), Version: 1, Time: time.Now().UTC(), Data: data}}}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	secret := filepath.Join(store+".secrets", merchants.PasswordSecret("270000002"))
	if err := os.Remove(secret); err != nil {
		t.Fatal(err)
	}

	issueArgs := []string{"--store", store, "notice", "issue", "--payday", "2019-10-31", "--out", out}
	code, stdout, stderr := runCLI(t, issueArgs...)
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"270000001  issued    270000001-001-20191031.zip", "270000003  issued", "270000002  failed    U3004",
		"3 payouts, 2 issued, 0 kept, 0 adopted, 0 rewritten, 1 failed"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "notices [") || !strings.Contains(stderr, "merchant 270000002 (テスト商店2): error U3004") {
		t.Errorf("stderr:\n%s", stderr)
	}
	for _, id := range []string{"270000001", "270000003"} {
		if _, err := os.Stat(filepath.Join(out, id+"-001-20191031.zip")); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "270000002-001-20191031.zip")); err == nil {
		t.Error("a notice was written without a password")
	}

	// The password is back: the second run keeps two and issues the third.
	os.WriteFile(secret, []byte(pws[1]), 0o600)
	code, stdout, stderr = runCLI(t, append(issueArgs, "-q")...)
	if code != 0 || !strings.Contains(stdout, "3 payouts, 1 issued, 2 kept") || stderr != "" {
		t.Fatalf("second run: %d\n%s\n%s", code, stdout, stderr)
	}
	z, _ := os.ReadFile(filepath.Join(out, "270000002-001-20191031.zip"))
	if _, _, err := issue.Unpack(z, []byte(pws[1]), "270000002-001-20191031"); err != nil {
		t.Fatalf("the archive does not open with the merchant's password: %v", err)
	}

	// Reissue.
	if code, _, stderr := runCLI(t, "--store", store, "notice", "reissue", "270000001", "2019-10-31", "--out", out); code == 0 || !strings.Contains(stderr, "U1003") {
		t.Fatalf("reissue without reason: %d %s", code, stderr)
	}
	code, stdout, stderr = runCLI(t, "--store", store, "notice", "reissue", "270000001", "2019-10-31", "--reason", "メール不達のため再送", "--out", out, "--issue-date", "2019-11-01")
	if code != 0 || !strings.Contains(stdout, "reissued 270000001-002-20191031") {
		t.Fatalf("reissue: %d %s %s", code, stdout, stderr)
	}
	if code, _, stderr := runCLI(t, "--store", store, "notice", "reissue", "270000009", "2019-10-31", "--reason", "x", "--out", out); code == 0 || !strings.Contains(stderr, "U2404") {
		t.Fatalf("reissue of no payout: %d %s", code, stderr)
	}

	// Events: readable by `upay events`, and no password anywhere.
	code, stdout, _ = runCLI(t, "--store", store, "events", "--json")
	if code != 0 || strings.Count(stdout, `"type":"notice.issued"`) != 4 || !strings.Contains(stdout, "メール不達のため再送") {
		t.Fatalf("events:\n%s", stdout)
	}
	for _, pw := range pws {
		if strings.Contains(stdout, pw) {
			t.Fatal("a password is in an event")
		}
	}
	if code, _, _ := runCLI(t, "--store", store, "events", "--verify"); code != 0 {
		t.Fatal("events --verify failed")
	}

	// Bad flags.
	if code, _, stderr := runCLI(t, "--store", store, "notice", "issue", "--payday", "2019-10-31"); code == 0 || !strings.Contains(stderr, "U1003") {
		t.Fatalf("no --out: %s", stderr)
	}
	if code, _, stderr := runCLI(t, append(issueArgs, "--font", filepath.Join(base, "none.ttf"))...); code == 0 || !strings.Contains(stderr, "fonts-ipaexfont-gothic") {
		t.Fatalf("missing font: %s", stderr)
	}
	bad := filepath.Join(base, "issuer.json")
	os.WriteFile(bad, []byte(`{"name":"株式会社テスト","invoice_no":"T12"}`), 0o644)
	if code, _, stderr := runCLI(t, append(issueArgs, "--issuer", bad)...); code == 0 || !strings.Contains(stderr, "U1009") {
		t.Fatalf("bad issuer: %s", stderr)
	}
}

// smtpInbox is an in-process SMTP server (github.com/emersion/go-smtp)
// that refuses recipients containing "bounce".
type smtpInbox struct {
	mu   sync.Mutex
	msgs [][]byte
}

type smtpSession struct{ in *smtpInbox }

func (b *smtpInbox) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return smtpSession{b}, nil }
func (smtpSession) Reset()                                           {}
func (smtpSession) Logout() error                                    { return nil }
func (smtpSession) Mail(string, *gosmtp.MailOptions) error           { return nil }
func (smtpSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if strings.Contains(to, "bounce") {
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}
	}
	return nil
}
func (s smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.in.mu.Lock()
	s.in.msgs = append(s.in.msgs, b)
	s.in.mu.Unlock()
	return err
}

func TestNoticeIssueWithSMTP(t *testing.T) {
	if !pdfnotice.FontInstalled(os.Getenv("UPAY_NOTICE_FONT")) {
		if os.Getenv("CI") == "true" {
			t.Fatal("notice font not installed but CI=true: run `make deps` (Debian package fonts-ipaexfont-gothic)")
		}
		t.Skip("notice font not installed (Debian package fonts-ipaexfont-gothic, `make deps`): skipped")
	}
	in := &smtpInbox{}
	srv := gosmtp.NewServer(in)
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()

	base := t.TempDir()
	store := filepath.Join(base, "upay.db")
	out := filepath.Join(base, "notices")
	for i, email := range []string{"shop1@example.jp", "bounce@example.jp"} {
		id := fmt.Sprintf("27000000%d", i+1)
		args := []string{"--store", store, "merchant", "add", "--id", id, "--name", "テスト商店", "--contact", "平 次郎",
			"--email", email, "--bank-code", "0010", "--bank-name", "りそな銀行", "--branch-code", "101", "--branch-name", "本店",
			"--account-number", "1234567", "--holder", "ﾃｽﾄｼﾖｳﾃﾝ", "--rate-visa-master", "3.24", "--rate-jcb-other", "3.24", "--rate-emoney", "3.24",
			"--notice-password-file", "-", "stdin=123456789\n"}
		if code, _, errs := runCLI(t, args...); code != 0 {
			t.Fatalf("merchant add: %s", errs)
		}
		appendPayout(t, store, id, email)
	}
	args := []string{"--store", store, "notice", "issue", "--payday", "2019-10-31", "--out", out, "-q", "--smtp", "smtp://" + l.Addr().String()}
	if code, _, errs := runCLI(t, args...); code == 0 || !strings.Contains(errs, "--from") {
		t.Fatalf("no --from: %d %s", code, errs)
	}
	args = append(args, "--from", "notices@upay.example")
	code, stdout, stderr := runCLI(t, args...)
	if code != 3 || !strings.Contains(stdout, "270000001  delivered 270000001-001-20191031.zip") || !strings.Contains(stdout, "270000002  delivery failed E0312") ||
		!strings.Contains(stdout, "e-mail: 1 delivered, 0 already delivered, 1 failed") || !strings.Contains(stderr, "550") {
		t.Fatalf("first run %d:\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, args...)
	if code != 3 || !strings.Contains(stdout, "270000001  already delivered") || len(in.msgs) != 1 {
		t.Fatalf("second run %d (%d messages):\n%s", code, len(in.msgs), stdout)
	}
	if strings.Contains(string(in.msgs[0]), "123456789") {
		t.Fatal("the password is in the e-mail")
	}

	// The notices projection shows both outcomes, with the failed attempts.
	code, stdout, stderr = runCLI(t, "--store", store, "notice", "list", "--payday", "2019-10-31")
	if code != 0 || !regexp.MustCompile(`270000001\s+270000001-001-20191031\s+1\s+\S+\s+270000001-001-20191031\.zip\s+delivered\s+\S+@\S+\s+0\s+-`).MatchString(stdout) ||
		!regexp.MustCompile(`270000002\s+270000002-001-20191031\s+1\s+\S+\s+\S+\s+failed\s+-\s+2\s+E0312`).MatchString(stdout) {
		t.Fatalf("notice list %d:\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "--store", store, "notice", "list", "--payday", "2019-10-31", "--json")
	var listed []noticeJSON
	if err := json.Unmarshal([]byte(stdout), &listed); code != 0 || err != nil || len(listed) != 2 ||
		listed[0].Status != "delivered" || listed[0].MessageID == "" || listed[0].DeliveredAt == "" ||
		listed[1].Status != "failed" || listed[1].Attempts != 2 || listed[1].LastCode != "E0312" {
		t.Fatalf("notice list --json %d: %v\n%s", code, err, stdout)
	}
	for _, day := range []string{"2019-13-01", "2019-02-30", "2019-10-31x", ""} {
		if code, _, errs := runCLI(t, "--store", store, "notice", "list", "--payday", day); code != 1 || !strings.Contains(errs, "U1009") {
			t.Errorf("notice list --payday %q: exit %d %s", day, code, errs)
		}
	}
	if code, _, errs := runCLI(t, "--store", store, "payout", "list", "--payday", "2019-02-30"); code != 1 || !strings.Contains(errs, "U1009") {
		t.Errorf("payout list of 2019-02-30 (rolled over before): exit %d %s", code, errs)
	}
}

// appendPayout records a payout.issued for 2019-10-31 as the batch does.
func appendPayout(t *testing.T, store, id, email string) {
	t.Helper()
	st, err := sqlite.Open(store)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := notice.SamplePayout()
	p.Merchant, p.Name, p.Email = domain.MerchantID(id), "テスト商店", email
	p.NoticeNo = domain.NoticeNo(p.Merchant, 1, p.Payday)
	data, _ := domain.EncodeEvent(p)
	if _, err := st.Append(context.Background(), domain.AppendRequest{Stream: domain.PayoutStream(p.Merchant, p.Payday), Expected: domain.NoStream(),
		Events: []domain.ProposedEvent{{Type: p.EventType(), Version: 1, Time: time.Now().UTC(), Data: data}}}); err != nil {
		t.Fatal(err)
	}
}
