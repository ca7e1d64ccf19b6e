package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/rickb777/date"
	"github.com/spf13/cobra"

	"upay/adapters/pdfnotice"
	"upay/domain"
	"upay/notice"
	"upay/notice/issue"
)

func init() { register(newNoticeCmd) }

// yen and maskAccount now live in package notice, with the notice they
// format; payout.go keeps calling them by these names.
var (
	yen         = notice.Yen
	maskAccount = notice.MaskAccount
)

// noticeFlags are the settings every notice subcommand shares.
type noticeFlags struct {
	out       string
	font      string
	issuer    string
	issueDate string
}

func (f *noticeFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.out, "out", "", "folder the notice ZIPs are written to (required; created if missing)")
	cmd.Flags().StringVar(&f.font, "font", os.Getenv("UPAY_NOTICE_FONT"), "TrueType font embedded in the PDFs (env UPAY_NOTICE_FONT; default "+pdfnotice.DefaultFont+")")
	cmd.Flags().StringVar(&f.issuer, "issuer", os.Getenv("UPAY_NOTICE_ISSUER"), "issuer block as a JSON file (env UPAY_NOTICE_ISSUER; default: the manual sample's issuer), see docs/notices.md")
	cmd.Flags().StringVar(&f.issueDate, "issue-date", "", "date printed as 発行日, YYYY-MM-DD (default: the payout's notice date for issue, today in Tokyo for reissue)")
}

// service wires the notice issuer to the stores, the font and the issuer
// configuration of the flags.
func (a *app) noticeService(f *noticeFlags, st domain.EventStore, sec domain.Secrets) (*issue.Service, error) {
	if f.out == "" {
		return nil, domain.Err(domain.CodeMissingField, "--out DIR is required")
	}
	is := notice.SampleIssuer()
	if f.issuer != "" {
		b, err := os.ReadFile(f.issuer)
		if err != nil {
			return nil, domain.Wrap(domain.CodeInvalidField, err, "--issuer %s", f.issuer)
		}
		is = notice.Issuer{}
		d := json.NewDecoder(strings.NewReader(string(b)))
		d.DisallowUnknownFields()
		if err := d.Decode(&is); err != nil {
			return nil, domain.Wrap(domain.CodeInvalidField, err, "--issuer %s is not an issuer JSON file", f.issuer)
		}
	}
	if err := is.Validate(); err != nil {
		return nil, err
	}
	r, err := pdfnotice.New(f.font)
	if err != nil {
		return nil, err
	}
	return &issue.Service{Store: st, Secrets: sec, PDF: r, Issuer: is, Dir: f.out}, nil
}

func (f *noticeFlags) date() (date.Date, error) {
	if f.issueDate == "" {
		return date.Date{}, nil
	}
	return parseDay("--issue-date", f.issueDate)
}

func newNoticeCmd(a *app) *cobra.Command {
	root := &cobra.Command{Use: "notice", Short: "Payout notices (支払通知書): PDF + CSV in a ZIP encrypted with the merchant's 9-digit password"}

	var (
		f       noticeFlags
		payday  string
		rewrite bool
		workers int
		quiet   bool
		smtpURL string
		from    string
	)
	iss := &cobra.Command{
		Use:   "issue --payday DATE --out DIR",
		Short: "Write and record the notice of every payout of a payday (idempotent)",
		Long: `Writes <notice no>.zip for every payout issued for the payday and records a
notice.issued event with the file's SHA-256. A notice already recorded whose
file is present with the recorded hash is kept; a file found without an event
is adopted when it decrypts to the same notice, refused otherwise. A recorded
notice whose file is missing is an error unless --rewrite.

With --smtp, each merchant's current notice is then e-mailed to the address
its payout recorded (MIME attachment) and notice.delivered or
notice.delivery_failed is recorded: a delivered notice is never sent again, a
failed one is sent again by the next run. The SMTP password, if any, comes
from env UPAY_SMTP_PASSWORD.

Errors are reported per merchant with a code and the other merchants
continue; the exit status is 3 when some failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			day, err := parseDay("--payday", payday)
			if err != nil {
				return err
			}
			issued, err := f.date()
			if err != nil {
				return err
			}
			var mailer *issue.SMTP
			if smtpURL != "" {
				if mailer, err = issue.ParseSMTP(smtpURL, os.Getenv("UPAY_SMTP_PASSWORD")); err != nil {
					return err
				}
				if _, err := mail.ParseAddress(from); err != nil {
					return domain.Err(domain.CodeMissingField, "--from (or UPAY_NOTICE_FROM): the sender address of the notice e-mails is required with --smtp")
				}
			}
			b, done, err := a.payoutBatch()
			if err != nil {
				return err
			}
			defer done()
			svc, err := a.noticeService(&f, b.Store, b.Merchants.Secrets)
			if err != nil {
				return err
			}
			outcomes, err := b.IssuedOn(ctx, day)
			if err != nil {
				return err
			}
			var ps []domain.PayoutIssued
			var results []issue.Result
			for _, o := range outcomes {
				if o.Err != nil {
					results = append(results, issue.Result{Merchant: o.Merchant, Name: o.Name, Status: issue.Failed, Err: o.Err})
					continue
				}
				ps = append(ps, o.Payout)
			}
			if len(ps) == 0 && len(results) == 0 {
				fmt.Fprintf(a.stderr, "upay: no payout was issued for payday %s (run `upay payout run --payday %s` first)\n", day, day)
			}
			var bar *progressBar
			if !quiet && len(ps) > 0 {
				bar = newProgressBar(a.stderr, "notices", len(ps))
			}
			start := time.Now()
			results = append(results, svc.IssueAll(ctx, ps, issue.Options{IssueDate: issued, Rewrite: rewrite}, workers, bar.update)...)
			bar.finish()
			err = printNoticeResults(a.stdout, a.stderr, day.String(), f.out, results, time.Since(start))
			if mailer == nil {
				return err
			}
			var send []domain.PayoutIssued
			for i, r := range results[len(results)-len(ps):] {
				if r.Status != issue.Failed {
					send = append(send, ps[i])
				}
			}
			if !quiet && len(send) > 0 {
				bar = newProgressBar(a.stderr, "e-mail ", len(send))
			}
			sent := svc.DeliverAll(ctx, send, mailer, from, bar.update)
			bar.finish()
			if derr := printDeliveries(a.stdout, a.stderr, sent); err == nil {
				err = derr
			}
			return err
		},
	}
	f.add(iss)
	iss.Flags().StringVar(&payday, "payday", "", "payday (YYYY-MM-DD)")
	iss.Flags().BoolVar(&rewrite, "rewrite", false, "write a recorded notice again when its file is missing (same document, new file hash)")
	iss.Flags().IntVar(&workers, "workers", 0, "notices made in parallel (default: one per CPU)")
	iss.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar on stderr")
	iss.Flags().StringVar(&smtpURL, "smtp", "", "e-mail the notices through this SMTP server: smtp://[user@]host[:port] (password in env UPAY_SMTP_PASSWORD)")
	iss.Flags().StringVar(&from, "from", os.Getenv("UPAY_NOTICE_FROM"), "sender address of the notice e-mails (env UPAY_NOTICE_FROM)")

	var (
		rf     noticeFlags
		reason string
	)
	re := &cobra.Command{
		Use:   "reissue MERCHANT PAYDAY --reason TEXT --out DIR",
		Short: "Issue the next sequence number (002, 003...) of a notice already issued",
		Long: `Writes <merchant>-<next seq>-<payday>.zip with the same figures (a payout never
changes) and the reissue's date as 発行日 (today in Tokyo unless --issue-date),
and records a notice.issued event with the sequence number and the reason.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := domain.ParseMerchantID(args[0])
			if err != nil {
				return err
			}
			day, err := parseDay("PAYDAY", args[1])
			if err != nil {
				return err
			}
			if strings.TrimSpace(reason) == "" {
				return domain.Err(domain.CodeMissingField, "--reason is required: say why the notice is issued again")
			}
			issued, err := rf.date()
			if err != nil {
				return err
			}
			b, done, err := a.payoutBatch()
			if err != nil {
				return err
			}
			defer done()
			svc, err := a.noticeService(&rf, b.Store, b.Merchants.Secrets)
			if err != nil {
				return err
			}
			p, _, err := b.Show(cmd.Context(), m, day)
			if err != nil {
				return err
			}
			r := svc.Reissue(cmd.Context(), p, reason, issued)
			if r.Err != nil {
				return r.Err
			}
			fmt.Fprintf(a.stdout, "%s %s %s sha256 %s\n", r.Status, r.NoticeNo, r.File, r.SHA256)
			return nil
		},
	}
	rf.add(re)
	re.Flags().StringVar(&reason, "reason", "", "why the notice is issued again (recorded in the event)")

	root.AddCommand(iss, re, newNoticeListCmd(a))
	return root
}

// printNoticeResults lists every merchant's outcome on stdout, the errors
// with their codes on stderr, then a summary; exit status 3 when any failed.
func printNoticeResults(out, errw io.Writer, payday, dir string, rs []issue.Result, took time.Duration) error {
	count := map[issue.Status]int{}
	for _, r := range rs {
		count[r.Status]++
		if r.Err != nil {
			fmt.Fprintf(out, "%s  %-9s %s\n", r.Merchant, r.Status, firstCode(r.Err))
			fmt.Fprintf(errw, "upay: merchant %s (%s): error %v\n", r.Merchant, r.Name, r.Err)
			continue
		}
		fmt.Fprintf(out, "%s  %-9s %s  sha256 %s\n", r.Merchant, r.Status, r.NoticeNo+".zip", r.SHA256)
	}
	fmt.Fprintf(out, "notices for %s: %d payouts, %d issued, %d kept, %d adopted, %d rewritten, %d failed, in %s -> %s\n",
		payday, len(rs), count[issue.Issued], count[issue.Kept], count[issue.Adopted], count[issue.Rewritten], count[issue.Failed],
		took.Round(time.Millisecond), dir)
	if count[issue.Failed] > 0 {
		return exitError{3}
	}
	return nil
}

// printDeliveries lists the e-mail outcome per merchant and a summary.
func printDeliveries(out, errw io.Writer, rs []issue.Result) error {
	count := map[issue.Status]int{}
	for _, r := range rs {
		count[r.Status]++
		if r.Err != nil {
			fmt.Fprintf(out, "%s  %s %s\n", r.Merchant, r.Status, firstCode(r.Err))
			fmt.Fprintf(errw, "upay: merchant %s (%s): error %v\n", r.Merchant, r.Name, r.Err)
			continue
		}
		fmt.Fprintf(out, "%s  %s %s\n", r.Merchant, r.Status, r.NoticeNo+".zip")
	}
	failed := len(rs) - count[issue.Delivered] - count[issue.AlreadyDelivered]
	fmt.Fprintf(out, "e-mail: %d delivered, %d already delivered, %d failed\n", count[issue.Delivered], count[issue.AlreadyDelivered], failed)
	if failed > 0 {
		return exitError{3}
	}
	return nil
}

func firstCode(err error) string {
	if c := domain.CodeOf(err); c != "" {
		return c
	}
	return "error"
}

// progressBar draws "notices [#####-----]  512/1000" on one line of a
// terminal's stderr, redrawn at most every 100 ms.
type progressBar struct {
	w     io.Writer
	label string
	total int
	last  time.Time
	drawn bool
}

func newProgressBar(w io.Writer, label string, total int) *progressBar {
	return &progressBar{w: w, label: label, total: total}
}

func (p *progressBar) update(done, total int) {
	if p == nil || (done < total && time.Since(p.last) < 100*time.Millisecond) {
		return
	}
	p.last = time.Now()
	const width = 30
	fill := width * done / max(total, 1)
	fmt.Fprintf(p.w, "\r%s [%s%s] %*d/%d", p.label, strings.Repeat("#", fill), strings.Repeat("-", width-fill), len(fmt.Sprint(total)), done, total)
	p.drawn = true
}

func (p *progressBar) finish() {
	if p != nil && p.drawn {
		fmt.Fprintln(p.w)
	}
}
