package issue_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/adapters/pdfnotice"
	"upay/adapters/secretfile"
	"upay/adapters/sqlite"
	"upay/domain"
	"upay/merchants"
	"upay/notice"
	"upay/notice/issue"
)

const password = "482915736"

// missing skips a test for an absent tool, or fails it under CI=true.
func missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s, but CI=true: run `make deps` (Debian packages fonts-ipaexfont-gothic poppler-utils 7zip)", what)
	}
	t.Skipf("%s: skipped; install the Debian packages fonts-ipaexfont-gothic, poppler-utils and 7zip (`make deps`) to run it", what)
}

var (
	rendererOnce sync.Once
	renderer     *pdfnotice.Renderer
	rendererErr  error
)

func pdf(t testing.TB) *pdfnotice.Renderer {
	t.Helper()
	if !pdfnotice.FontInstalled("") {
		missing(t, "notice font "+pdfnotice.DefaultFont+" not found")
	}
	rendererOnce.Do(func() { renderer, rendererErr = pdfnotice.New("") })
	if rendererErr != nil {
		t.Fatal(rendererErr)
	}
	return renderer
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

type env struct {
	svc   *issue.Service
	store *sqlite.Store
	sec   *secretfile.Store
	dir   string
}

func newEnv(t *testing.T, dir string) *env {
	t.Helper()
	base := t.TempDir()
	st, err := sqlite.Open(filepath.Join(base, "upay.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sec, err := secretfile.Open(filepath.Join(base, "secrets"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sec.Put(context.Background(), merchants.PasswordSecret("270212122"), []byte(password)); err != nil {
		t.Fatal(err)
	}
	if dir == "" {
		dir = filepath.Join(base, "out")
	}
	return &env{store: st, sec: sec, dir: dir, svc: &issue.Service{Store: st, Secrets: sec, PDF: pdf(t), Issuer: notice.SampleIssuer(), Dir: dir,
		Clock: fixedClock{time.Date(2019, 11, 5, 1, 0, 0, 0, time.UTC)}}}
}

func (e *env) events(t *testing.T) []notice.Issued {
	t.Helper()
	evs, err := e.store.ReadStream(context.Background(), notice.Stream("270212122", "2019-10-31"), 0, domain.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := notice.Fold(evs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range evs {
		if bytes.Contains(r.Data, []byte(password)) {
			t.Fatalf("the password is in an event: %s", r.Data)
		}
	}
	return h.Recorded
}

func TestIssueKeepRewriteReissue(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	p := notice.SamplePayout()

	r := e.svc.Issue(ctx, p, issue.Options{})
	if r.Err != nil || r.Status != issue.Issued {
		t.Fatalf("issue: %+v", r)
	}
	if r.File != filepath.Join(e.dir, "270212122-001-20191031.zip") {
		t.Fatalf("file %s", r.File)
	}
	z, err := os.ReadFile(r.File)
	if err != nil {
		t.Fatal(err)
	}
	evs := e.events(t)
	if len(evs) != 1 || evs[0].SHA256 != sha(z) || evs[0].Seq != 1 || evs[0].IssueDate != "2019-10-29" || evs[0].File != "270212122-001-20191031.zip" || evs[0].NoticeNo != "270212122-001-20191031" {
		t.Fatalf("event %+v (file sha %s)", evs, sha(z))
	}
	// The archive holds exactly the notice's PDF and CSV.
	want, err := e.svc.Make(p, 1, date.New(2019, 10, 29))
	if err != nil {
		t.Fatal(err)
	}
	gotPDF, gotCSV, err := issue.Unpack(z, []byte(password), r.NoticeNo)
	if err != nil || !bytes.Equal(gotPDF, want.PDF) || !bytes.Equal(gotCSV, want.CSV) {
		t.Fatalf("unpack: %v", err)
	}
	if _, _, err := issue.Unpack(z, []byte("111111111"), r.NoticeNo); err == nil {
		t.Fatal("opened with a wrong password")
	}
	if entries, _ := os.ReadDir(e.dir); len(entries) != 1 {
		t.Fatalf("output folder holds %d entries (temporary files left?)", len(entries))
	}

	// Again: kept, nothing recorded.
	if r := e.svc.Issue(ctx, p, issue.Options{}); r.Status != issue.Kept || r.Err != nil {
		t.Fatalf("second issue: %+v", r)
	}
	if len(e.events(t)) != 1 {
		t.Fatal("second issue recorded an event")
	}

	// Changed file: an error, the file stays as it is.
	tampered := append(bytes.Clone(z), 0)
	os.WriteFile(r.File, tampered, 0o644)
	if r := e.svc.Issue(ctx, p, issue.Options{Rewrite: true}); r.Status != issue.Failed || domain.CodeOf(r.Err) != domain.CodeInvalidField || !strings.Contains(r.Err.Error(), "differs") {
		t.Fatalf("tampered: %+v", r)
	}
	if b, _ := os.ReadFile(r.File); !bytes.Equal(b, tampered) {
		t.Fatal("a changed file was replaced")
	}

	// Missing file: an error unless rewrite; the rewrite records the new hash.
	os.Remove(r.File)
	if r := e.svc.Issue(ctx, p, issue.Options{}); r.Status != issue.Failed || domain.CodeOf(r.Err) != domain.CodeMissingField || !strings.Contains(r.Err.Error(), "--rewrite") {
		t.Fatalf("missing: %+v", r)
	}
	rw := e.svc.Issue(ctx, p, issue.Options{Rewrite: true, IssueDate: date.New(2030, 1, 1)})
	if rw.Status != issue.Rewritten || rw.Err != nil {
		t.Fatalf("rewrite: %+v", rw)
	}
	z2, _ := os.ReadFile(rw.File)
	evs = e.events(t)
	if len(evs) != 2 || !evs[1].Rewrite || evs[1].Seq != 1 || evs[1].SHA256 != sha(z2) || evs[1].IssueDate != "2019-10-29" {
		t.Fatalf("rewrite event %+v", evs)
	}
	if pdf2, _, err := issue.Unpack(z2, []byte(password), r.NoticeNo); err != nil || !bytes.Equal(pdf2, want.PDF) {
		t.Fatalf("the rewritten notice is not the same document: %v", err)
	}
	if r := e.svc.Issue(ctx, p, issue.Options{}); r.Status != issue.Kept {
		t.Fatalf("after rewrite: %+v", r)
	}

	// Reissue: a reason is required; then 002 and 003.
	if r := e.svc.Reissue(ctx, p, "", date.Date{}); domain.CodeOf(r.Err) != domain.CodeMissingField {
		t.Fatalf("reissue without reason: %+v", r)
	}
	r2 := e.svc.Reissue(ctx, p, "宛先誤りのため再発行", date.Date{})
	if r2.Status != issue.Reissued || r2.NoticeNo != "270212122-002-20191031" || r2.Err != nil {
		t.Fatalf("reissue: %+v", r2)
	}
	evs = e.events(t)
	last := evs[len(evs)-1]
	if last.Seq != 2 || last.Reason != "宛先誤りのため再発行" || last.IssueDate != "2019-11-05" || last.File != "270212122-002-20191031.zip" {
		t.Fatalf("reissue event %+v", last)
	}
	z3, _ := os.ReadFile(r2.File)
	pdf3, csv3, err := issue.Unpack(z3, []byte(password), r2.NoticeNo)
	if err != nil || !bytes.Contains(csv3, []byte("270212122-002-20191031,2019-11-05,")) || bytes.Equal(pdf3, want.PDF) {
		t.Fatalf("reissued documents: %v", err)
	}
	if r := e.svc.Reissue(ctx, p, "再送", date.Date{}); r.NoticeNo != "270212122-003-20191031" || r.Err != nil {
		t.Fatalf("third: %+v", r)
	}
	// The first notice is still kept.
	if r := e.svc.Issue(ctx, p, issue.Options{}); r.Status != issue.Kept {
		t.Fatalf("after reissues: %+v", r)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestReissueNeedsAFirstIssue(t *testing.T) {
	e := newEnv(t, "")
	r := e.svc.Reissue(context.Background(), notice.SamplePayout(), "再送", date.Date{})
	if domain.CodeOf(r.Err) != domain.CodePayoutNotFound {
		t.Fatalf("%+v", r)
	}
}

// An interrupted run left the file without its event: the next run finds
// an identical document and records it; a different one is refused.
func TestAdoptOrRefuseAnUnrecordedFile(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "out")
	first := newEnv(t, dir)
	r := first.svc.Issue(ctx, notice.SamplePayout(), issue.Options{})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	z, _ := os.ReadFile(r.File)

	second := newEnv(t, dir) // same folder, empty store: no event
	a := second.svc.Issue(ctx, notice.SamplePayout(), issue.Options{})
	if a.Status != issue.Adopted || a.Err != nil || a.SHA256 != sha(z) {
		t.Fatalf("adopt: %+v", a)
	}
	if evs := second.events(t); len(evs) != 1 || evs[0].SHA256 != sha(z) {
		t.Fatalf("adopted event %+v", evs)
	}

	third := newEnv(t, dir)
	x := third.svc.Issue(ctx, notice.SamplePayout(), issue.Options{IssueDate: date.New(2019, 10, 30)}) // another document
	if x.Status != issue.Failed || domain.CodeOf(x.Err) != domain.CodeInvalidField || !strings.Contains(x.Err.Error(), "never recorded") {
		t.Fatalf("different: %+v", x)
	}
	if b, _ := os.ReadFile(r.File); !bytes.Equal(b, z) {
		t.Fatal("the file was replaced")
	}
	if len(third.events(t)) != 0 {
		t.Fatal("recorded a refused file")
	}
}

func TestPasswordProblemsAndUnwritableFolder(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	p := notice.SamplePayout()
	p2 := p
	p2.Merchant, p2.NoticeNo, p2.Name = "270000003", "270000003-001-20191031", "第二商店"

	r := e.svc.Issue(ctx, p2, issue.Options{})
	if domain.CodeOf(r.Err) != domain.CodeSecretNotFound || !strings.Contains(r.Err.Error(), "270000003 (第二商店)") {
		t.Fatalf("no password: %+v", r)
	}
	for _, bad := range []string{"12345678", "1234567890", "12345678a", "１２３４５６７８９"} {
		e.sec.Put(ctx, merchants.PasswordSecret("270000003"), []byte(bad))
		r := e.svc.Issue(ctx, p2, issue.Options{})
		if domain.CodeOf(r.Err) != domain.CodeInvalidField || strings.Contains(r.Err.Error(), bad) || !strings.Contains(r.Err.Error(), "270000003") {
			t.Fatalf("password %q: %+v", bad, r)
		}
	}
	if _, err := os.Stat(filepath.Join(e.dir, "270000003-001-20191031.zip")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a file was written without a valid password")
	}

	// An output folder that cannot be created (a file is in the way).
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o644)
	e.svc.Dir = filepath.Join(blocker, "out")
	r = e.svc.Issue(ctx, p, issue.Options{})
	if domain.CodeOf(r.Err) != domain.CodeStoreFailure || !strings.Contains(r.Err.Error(), "270212122") {
		t.Fatalf("unwritable: %+v", r)
	}
	if len(e.events(t)) != 0 {
		t.Fatal("an event without a file")
	}
	if strings.Contains(fmt.Sprint(r.Err), password) {
		t.Fatal("password in an error")
	}
}

// Two processes issuing the same notice at once: one file, one event.
func TestConcurrentIssue(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	other := *e.svc
	var wg sync.WaitGroup
	res := make([]issue.Result, 6)
	for i := range res {
		svc := e.svc
		if i%2 == 1 {
			svc = &other
		}
		wg.Go(func() { res[i] = svc.Issue(ctx, notice.SamplePayout(), issue.Options{}) })
	}
	wg.Wait()
	issued := 0
	for _, r := range res {
		if r.Err != nil {
			// Losing the append race twice is possible; it is retryable and leaves no stray event.
			if domain.CodeOf(r.Err) != domain.CodeConcurrency {
				t.Fatalf("%+v", r)
			}
			continue
		}
		if r.Status == issue.Issued || r.Status == issue.Adopted {
			issued++
		}
	}
	evs := e.events(t)
	z, _ := os.ReadFile(filepath.Join(e.dir, "270212122-001-20191031.zip"))
	if len(evs) != 1 || evs[0].SHA256 != sha(z) || issued != 1 {
		t.Fatalf("%d events, %d issued: %+v", len(evs), issued, res)
	}
}

func TestIssueAllKeepsOrderAndContinues(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	var ps []domain.PayoutIssued
	for i := range 5 {
		p := notice.SamplePayout()
		p.Merchant = domain.MerchantID(fmt.Sprintf("27000000%d", i))
		p.NoticeNo = domain.NoticeNo(p.Merchant, 1, p.Payday)
		if i != 2 { // merchant 2 has no password
			e.sec.Put(ctx, merchants.PasswordSecret(p.Merchant), []byte(password))
		}
		ps = append(ps, p)
	}
	var calls []int
	out := e.svc.IssueAll(ctx, ps, issue.Options{}, 2, func(done, total int) { calls = append(calls, done) })
	for i, r := range out {
		if r.Merchant != ps[i].Merchant {
			t.Fatalf("order: %d %s", i, r.Merchant)
		}
		if (i == 2) != (r.Status == issue.Failed) {
			t.Fatalf("%d: %+v", i, r)
		}
	}
	if len(calls) != 5 || calls[4] != 5 {
		t.Fatalf("progress %v", calls)
	}
}

// Real 7-Zip opens the archive with the password, refuses a wrong one,
// reports AES-256, and extracts the PDF whose text poppler reads.
func TestSevenZipAndPoppler(t *testing.T) {
	for _, tool := range []string{"7zz", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing(t, tool+" not found on PATH")
		}
	}
	e := newEnv(t, "")
	r := e.svc.Issue(context.Background(), notice.SamplePayout(), issue.Options{})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	// The password is on 7zz's command line only here, in a test with a
	// test password; production code never runs an external program.
	if out, err := tool(t, "7zz", "t", "-p"+password, r.File); err != nil || !strings.Contains(out, "Everything is Ok") {
		t.Fatalf("7zz t: %v\n%s", err, out)
	}
	if out, err := tool(t, "7zz", "t", "-p111111111", r.File); err == nil {
		t.Fatalf("7zz accepted a wrong password:\n%s", out)
	}
	out, err := tool(t, "7zz", "l", "-slt", "-p"+password, r.File)
	if err != nil || strings.Count(out, "Method = AES-256 Deflate") != 2 || !strings.Contains(out, "Path = 270212122-001-20191031.pdf") || !strings.Contains(out, "Path = 270212122-001-20191031.csv") {
		t.Fatalf("7zz l -slt: %v\n%s", err, out)
	}
	x := t.TempDir()
	if out, err := tool(t, "7zz", "x", "-p"+password, "-o"+x, r.File); err != nil {
		t.Fatalf("7zz x: %v\n%s", err, out)
	}
	text, err := tool(t, "pdftotext", "-layout", "-enc", "UTF-8", filepath.Join(x, "270212122-001-20191031.pdf"), "-")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"お支払通知書", "270212122-001-20191031", "¥14,140", "¥13,682", "¥-7,126", "差引お振込金額", "¥8,242", "***567", "2019年10月31日"} {
		if !strings.Contains(text, want) {
			t.Errorf("extracted PDF text lacks %q", want)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(x, "270212122-001-20191031.csv"))
	if !bytes.HasPrefix(csv, []byte("\uFEFF通知書No,")) || !bytes.Contains(csv, []byte(",差引お振込金額,,,,,,,8242\r\n")) {
		t.Errorf("extracted CSV:\n%s", csv)
	}
}

func tool(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	out, err := cmd.CombinedOutput()
	return string(out), err
}
