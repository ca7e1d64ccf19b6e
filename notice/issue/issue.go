// Package issue writes payout notices to files and records them: for each
// payout, the notice (notice.Build), its PDF and CSV, one AES-256 ZIP
// encrypted with the merchant's 9-digit notice password from the secret
// store, written without ever leaving a half-written file under its final
// name, and a notice.issued event with the file's SHA-256.
//
// Idempotency is by the recorded events: a notice already recorded whose
// file is still there with the recorded hash is kept; a ZIP cannot be
// compared by bytes (every archive has fresh random salts), so a file
// found without an event is decrypted and its PDF and CSV compared with a
// fresh rendering: identical, it is adopted and recorded; different, it
// is an error and stays untouched.
//
// The password is read from the secret store, handed to the ZIP writer,
// and cleared; it never reaches an error, a log line, an event or the
// command line of another program.
package issue

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/rickb777/date"

	"upay/adapters/zipaes"
	"upay/domain"
	"upay/merchants"
	"upay/notice"
)

// Renderer makes the PDF of a notice (adapters/pdfnotice).
type Renderer interface {
	Render(notice.Notice) ([]byte, error)
}

// Service issues notices into one output folder.
type Service struct {
	Store   domain.EventStore
	Secrets domain.Secrets
	PDF     Renderer
	Issuer  notice.Issuer
	Dir     string // output folder; created if missing
	Clock   domain.Clock

	cpu chan struct{} // IssueAll: bounds the notices being rendered at once
}

// Status of one notice after Issue or Reissue.
type Status string

const (
	Issued    Status = "issued"    // written and recorded now
	Kept      Status = "kept"      // recorded before, file present with the recorded hash
	Adopted   Status = "adopted"   // file found without an event, identical content: recorded now
	Rewritten Status = "rewritten" // recorded before, file was missing: written again (--rewrite)
	Reissued  Status = "reissued"  // next sequence number written and recorded
	Failed    Status = "failed"
)

// Result is the outcome for one merchant.
type Result struct {
	Merchant domain.MerchantID
	Name     string
	NoticeNo string
	File     string // path of the ZIP
	SHA256   string
	Status   Status
	Err      error
}

// Options of Issue.
type Options struct {
	// IssueDate is printed as 発行日; zero means the payout's notice date
	// (支払通知日), so a first notice follows from its payout alone.
	IssueDate date.Date
	// Rewrite writes a recorded notice again when its file is missing.
	Rewrite bool
}

// Documents are one notice's files, in memory.
type Documents struct {
	Notice notice.Notice
	PDF    []byte
	CSV    []byte
}

// Make builds the notice of p with sequence seq and renders its PDF and CSV.
func (s *Service) Make(p domain.PayoutIssued, seq int, issued date.Date) (Documents, error) {
	n, err := notice.Build(p, s.Issuer, issued, seq)
	if err != nil {
		return Documents{}, err
	}
	pdf, err := s.PDF.Render(n)
	if err != nil {
		return Documents{}, err
	}
	return Documents{Notice: n, PDF: pdf, CSV: notice.CSV(n)}, nil
}

// Package encrypts the documents into one ZIP (AES-256, WinZip AE-2)
// holding <notice no>.pdf and <notice no>.csv, stamped modified.
func Package(d Documents, password []byte, modified time.Time) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(d.PDF) + len(d.CSV) + 1024)
	// The PDF's streams are already deflated: the fastest level keeps the
	// CSV small without spending time on the PDF again.
	w, err := zipaes.NewWriter(&buf, password, zipaes.WithCompressionLevel(flate.BestSpeed))
	if err != nil {
		return nil, err
	}
	if err := w.Add(d.Notice.FileName("pdf"), modified, d.PDF); err != nil {
		w.Close()
		return nil, err
	}
	if err := w.Add(d.Notice.FileName("csv"), modified, d.CSV); err != nil {
		w.Close()
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Unpack decrypts a notice ZIP and returns its PDF and CSV; an archive
// with other entries is an error.
func Unpack(zipBytes, password []byte, noticeNo string) (pdf, csv []byte, err error) {
	files, err := zipaes.Open(zipBytes, password)
	if err != nil {
		return nil, nil, err
	}
	pdf, okP := files[noticeNo+".pdf"]
	csv, okC := files[noticeNo+".csv"]
	if !okP || !okC || len(files) != 2 {
		return nil, nil, fmt.Errorf("archive does not hold exactly %s.pdf and %s.csv", noticeNo, noticeNo)
	}
	return pdf, csv, nil
}

// Password reads a merchant's notice password from the secret store:
// U3004 when there is none, U1009 when it is not 9 digits. Neither error
// holds the value. The caller clears the returned bytes after use.
func Password(ctx context.Context, sec domain.Secrets, m domain.MerchantID, name string) ([]byte, error) {
	pw, err := sec.Get(ctx, merchants.PasswordSecret(m))
	if errors.Is(err, domain.Error{Code: domain.CodeSecretNotFound}) {
		return nil, domain.Err(domain.CodeSecretNotFound, "merchant %s (%s) has no notice password in the secret store (secret %s): its notices cannot be encrypted", m, name, merchants.PasswordSecret(m))
	}
	if err != nil {
		return nil, err
	}
	if !merchants.ValidPassword(string(pw)) {
		clear(pw)
		return nil, domain.Err(domain.CodeInvalidField, "merchant %s (%s): the notice password in the secret store (secret %s) is not 9 digits", m, name, merchants.PasswordSecret(m))
	}
	return pw, nil
}

func (s *Service) clock() domain.Clock {
	if s.Clock == nil {
		return domain.SystemClock{}
	}
	return s.Clock
}

func (s *Service) path(noticeNo string) string { return filepath.Join(s.Dir, noticeNo+".zip") }

// Issue writes and records the first notice (sequence 001) of p, or
// keeps the one already issued (see the package comment). Errors carry a
// code and name the merchant; the Result says what happened.
func (s *Service) Issue(ctx context.Context, p domain.PayoutIssued, opt Options) Result {
	res := Result{Merchant: p.Merchant, Name: p.Name, NoticeNo: domain.NoticeNo(p.Merchant, 1, p.Payday)}
	res.File = s.path(res.NoticeNo)
	fail := func(err error) Result { res.Status, res.Err = Failed, err; return res }

	h, err := s.history(ctx, p)
	if err != nil {
		return fail(err)
	}
	if rec, ok := h.BySeq[1]; ok {
		res.SHA256 = rec.SHA256
		sum, exists, err := fileHash(res.File)
		switch {
		case err != nil:
			return fail(err)
		case exists && sum == rec.SHA256:
			res.Status = Kept
			return res
		case exists:
			return fail(domain.Err(domain.CodeInvalidField, "merchant %s (%s): %s differs from the notice recorded as issued (sha256 %s, file %s): left untouched; move it away and run with --rewrite to write the notice again",
				p.Merchant, p.Name, res.File, short(rec.SHA256), short(sum)))
		case !opt.Rewrite:
			return fail(domain.Err(domain.CodeMissingField, "merchant %s (%s): notice %s was issued (sha256 %s) but %s is missing: run with --rewrite to write it again",
				p.Merchant, p.Name, res.NoticeNo, short(rec.SHA256), res.File))
		}
		issued, err := date.ParseISO(rec.IssueDate)
		if err != nil {
			return fail(domain.Err(domain.CodeInvalidField, "merchant %s: recorded issue date %q", p.Merchant, rec.IssueDate))
		}
		return s.write(ctx, p, h, 1, issued, "rewrite: file missing", true, Rewritten, res)
	}
	issued := opt.IssueDate
	if issued.IsZero() {
		if issued, err = date.ParseISO(p.NoticeDate); err != nil {
			return fail(domain.Err(domain.CodeInvalidField, "merchant %s: payout notice date %q is not a date", p.Merchant, p.NoticeDate))
		}
	}
	return s.write(ctx, p, h, 1, issued, "", false, Issued, res)
}

// Reissue writes and records the next sequence number (002, 003...) of a
// notice already issued, with a reason. The figures are the payout's, as
// ever; the issue date is issued, or today in Tokyo when zero.
func (s *Service) Reissue(ctx context.Context, p domain.PayoutIssued, reason string, issued date.Date) Result {
	res := Result{Merchant: p.Merchant, Name: p.Name}
	fail := func(err error) Result { res.Status, res.Err = Failed, err; return res }
	if reason == "" {
		return fail(domain.Err(domain.CodeMissingField, "merchant %s: a reissue needs a reason (--reason)", p.Merchant))
	}
	if err := checkReason(reason); err != nil {
		return fail(err)
	}
	h, err := s.history(ctx, p)
	if err != nil {
		return fail(err)
	}
	if h.MaxSeq == 0 {
		return fail(domain.Err(domain.CodePayoutNotFound, "merchant %s (%s): the notice of payday %s was never issued: run `upay notice issue --payday %s` first", p.Merchant, p.Name, p.Payday, p.Payday))
	}
	seq := h.MaxSeq + 1
	if seq > 999 {
		return fail(domain.Err(domain.CodeInvalidField, "merchant %s: no sequence number left after 999", p.Merchant))
	}
	if issued.IsZero() {
		issued = domain.BusinessDate(s.clock().Now())
	}
	res.NoticeNo = domain.NoticeNo(p.Merchant, seq, p.Payday)
	res.File = s.path(res.NoticeNo)
	return s.write(ctx, p, h, seq, issued, reason, false, Reissued, res)
}

func checkReason(r string) error {
	for _, c := range r {
		if c < 0x20 || c == 0x7f {
			return domain.Err(domain.CodeInvalidField, "the reason holds a control character")
		}
	}
	if len(r) > 500 {
		return domain.Err(domain.CodeInvalidField, "the reason is longer than 500 bytes")
	}
	return nil
}

func (s *Service) history(ctx context.Context, p domain.PayoutIssued) (notice.History, error) {
	evs, err := s.Store.ReadStream(ctx, notice.Stream(p.Merchant, p.Payday), 0, domain.ReadOptions{})
	if err != nil {
		return notice.History{}, err
	}
	return notice.Fold(evs)
}

// write makes the documents, places the ZIP under its final name (or
// adopts an identical file already there) and records the event.
func (s *Service) write(ctx context.Context, p domain.PayoutIssued, h notice.History, seq int, issued date.Date, reason string, rewrite bool, ok Status, res Result) Result {
	fail := func(err error) Result { res.Status, res.Err = Failed, err; return res }
	pw, err := Password(ctx, s.Secrets, p.Merchant, p.Name)
	if err != nil {
		return fail(err)
	}
	defer clear(pw)
	now := s.clock().Now()
	docs, zipBytes, err := s.makeZip(p, seq, issued, pw, now)
	if err != nil {
		return fail(err)
	}
	sum := sha256.Sum256(zipBytes)
	res.SHA256 = hex.EncodeToString(sum[:])

	placed, err := place(s.Dir, res.File, zipBytes)
	if err != nil {
		return fail(domain.Wrap(domain.CodeStoreFailure, err, "merchant %s (%s): writing %s", p.Merchant, p.Name, res.File))
	}
	if !placed {
		// A file is already there with no event for this sequence number
		// (an interrupted run, or another process racing this one).
		existing, err := os.ReadFile(res.File)
		if err != nil {
			return fail(domain.Wrap(domain.CodeStoreFailure, err, "merchant %s: reading %s", p.Merchant, res.File))
		}
		pdf, csv, err := Unpack(existing, pw, res.NoticeNo)
		if err != nil || !bytes.Equal(pdf, docs.PDF) || !bytes.Equal(csv, docs.CSV) {
			why := "its content differs"
			if err != nil {
				why = "it does not open with the merchant's password as a notice archive"
			}
			return fail(domain.Err(domain.CodeInvalidField, "merchant %s (%s): %s exists but was never recorded as issued and %s: left untouched; move it away and run again",
				p.Merchant, p.Name, res.File, why))
		}
		e := sha256.Sum256(existing)
		res.SHA256 = hex.EncodeToString(e[:])
		ok = Adopted
	}

	ev := notice.Issued{Merchant: p.Merchant, Payday: p.Payday, NoticeNo: res.NoticeNo, Seq: seq, IssueDate: issued.String(),
		File: filepath.Base(res.File), SHA256: res.SHA256, Reason: reason, Rewrite: rewrite}
	data, err := domain.EncodeEvent(ev)
	if err != nil {
		return fail(err)
	}
	_, err = s.Store.Append(ctx, domain.AppendRequest{Stream: notice.Stream(p.Merchant, p.Payday), Expected: h.Expected(),
		Events: []domain.ProposedEvent{{Type: ev.EventType(), Version: ev.EventVersion(), Time: now, Data: data}}})
	if errors.Is(err, domain.ErrConcurrency) {
		// Someone recorded this notice meanwhile: fine if it is this file.
		if h2, err2 := s.history(ctx, p); err2 == nil {
			if rec, found := h2.BySeq[seq]; found && rec.SHA256 == res.SHA256 {
				res.Status = Kept
				return res
			}
		}
		return fail(domain.Wrap(domain.CodeConcurrency, err, "merchant %s: notice %s was recorded by another process meanwhile: run again", p.Merchant, res.NoticeNo))
	}
	if err != nil {
		return fail(err)
	}
	res.Status = ok
	return res
}

// makeZip renders and encrypts: the CPU-bound part, bounded by s.cpu.
func (s *Service) makeZip(p domain.PayoutIssued, seq int, issued date.Date, pw []byte, now time.Time) (Documents, []byte, error) {
	if s.cpu != nil {
		s.cpu <- struct{}{}
		defer func() { <-s.cpu }()
	}
	docs, err := s.Make(p, seq, issued)
	if err != nil {
		return Documents{}, nil, err
	}
	z, err := Package(docs, pw, now.In(domain.Tokyo))
	if err != nil {
		return Documents{}, nil, domain.Wrap(domain.CodeInvalidField, err, "merchant %s: notice %s cannot be packed", p.Merchant, docs.Notice.No)
	}
	return docs, z, nil
}

// place writes data to a temporary file in dir, syncs it, and links it
// to final only if final does not exist (no file is ever replaced or
// half-written under its final name), then syncs the folder. placed is
// false when final already existed.
func place(dir, final string, data []byte) (placed bool, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	f, err := os.CreateTemp(dir, ".notice-*.tmp")
	if err != nil {
		return false, err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return false, err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return false, err
	}
	if err := os.Link(tmp, final); err != nil {
		if errors.Is(err, os.ErrExist) {
			return false, nil
		}
		return false, err
	}
	return true, syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// fileHash returns the hex SHA-256 of a file, exists false when it is missing.
func fileHash(path string) (string, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, domain.Wrap(domain.CodeStoreFailure, err, "reading %s", path)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), true, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// IssueAll issues the notices of several payouts: at most workers notices
// are rendered and encrypted at once (0 means one per CPU), while up to
// four times as many wait on the disk (fsync) and the store, whose group
// commit then records several notices per transaction. Results come back
// in the order of ps; progress, when set, is called after each notice
// (from one goroutine at a time).
func (s *Service) IssueAll(ctx context.Context, ps []domain.PayoutIssued, opt Options, workers int, progress func(done, total int)) []Result {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	svc := *s
	svc.cpu = make(chan struct{}, workers)
	out := make([]Result, len(ps))
	jobs := make(chan int)
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	for range min(4*workers, max(len(ps), 1)) {
		wg.Go(func() {
			for i := range jobs {
				if err := ctx.Err(); err != nil {
					out[i] = Result{Merchant: ps[i].Merchant, Name: ps[i].Name, Status: Failed, Err: err}
				} else {
					out[i] = svc.Issue(ctx, ps[i], opt)
				}
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
