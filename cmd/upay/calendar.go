package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rickb777/date"
	"github.com/spf13/cobra"

	"upay/domain"
	"upay/settlement"
)

func init() { register(newCalendarCmd) }

// periodJSON is one line of `upay calendar paydays --json`.
type periodJSON struct {
	Kind        string `json:"kind"`
	PeriodStart string `json:"period_start"`
	PeriodEnd   string `json:"period_end"`
	CloseDate   string `json:"close_date"`
	NoticeDate  string `json:"notice_date"`
	Payday      string `json:"payday"`
}

func newCalendarCmd(a *app) *cobra.Command {
	var holidaysFile, closuresFile string
	cmd := &cobra.Command{
		Use:   "calendar",
		Short: "Bank business days, settlement periods and paydays",
		Long: `calendar answers from the bank business-day calendar: the embedded Cabinet
Office list of national holidays (or --holidays FILE), Saturdays, Sundays,
Dec 31, Jan 2, Jan 3, and the operator's extra closures (--closures FILE).
Both files are CSV with the header "date,name" and one YYYY-MM-DD,name a line.`,
		Args: cobra.NoArgs,
	}
	cmd.PersistentFlags().StringVar(&holidaysFile, "holidays", "", "national holiday list (date,name CSV) replacing the embedded one")
	cmd.PersistentFlags().StringVar(&closuresFile, "closures", "", "extra closures (date,name CSV) on top of the holidays")
	load := func() (*settlement.Calendar, error) {
		return loadCalendar(holidaysFile, closuresFile)
	}
	cmd.AddCommand(newPaydaysCmd(a, load), newIsBusinessDayCmd(a, load))
	return cmd
}

// loadCalendar builds the calendar from the embedded data or the files
// given; a parse error names the file its line number refers to.
func loadCalendar(holidaysFile, closuresFile string) (*settlement.Calendar, error) {
	if holidaysFile == "" && closuresFile == "" {
		return settlement.DefaultCalendar(), nil
	}
	holidays := settlement.DefaultHolidays()
	var extra io.Reader
	if holidaysFile != "" {
		b, err := os.ReadFile(holidaysFile)
		if err != nil {
			return nil, domain.Wrap(domain.CodeInvalidField, err, "--holidays")
		}
		holidays = bytes.NewReader(b)
	}
	if closuresFile != "" {
		b, err := os.ReadFile(closuresFile)
		if err != nil {
			return nil, domain.Wrap(domain.CodeInvalidField, err, "--closures")
		}
		extra = bytes.NewReader(b)
	}
	c, err := settlement.LoadCalendar(holidays, extra)
	var e domain.Error
	if err != nil && errors.As(err, &e) {
		// The settlement package starts its details with the list's role.
		switch {
		case holidaysFile != "" && strings.HasPrefix(e.Detail, "national holidays"):
			e.Detail = holidaysFile + ": " + e.Detail
			return nil, e
		case closuresFile != "" && strings.HasPrefix(e.Detail, "extra closures"):
			e.Detail = closuresFile + ": " + e.Detail
			return nil, e
		}
	}
	return c, err
}

func newPaydaysCmd(a *app, load func() (*settlement.Calendar, error)) *cobra.Command {
	var from, to string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "paydays --from YYYY-MM --to YYYY-MM",
		Short: "List every settlement period starting in the months given, with close, notice date and payday",
		Long: `paydays lists card period A (1..15), card period B (16..month end) and the
e-money month for every month from --from to --to, sorted by payday, then
kind, then period start. A payday that is not a bank business day moves: a
month-end payday back, a 15th payday forward; the notice date is 2 business
days before the payday.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || to == "" {
				return domain.Err(domain.CodeMissingField, "--from and --to are required (YYYY-MM)")
			}
			fm, err := settlement.ParseMonth(from)
			if err != nil {
				return domain.Err(domain.CodeInvalidField, "--from %q is not a month YYYY-MM", from)
			}
			tm, err := settlement.ParseMonth(to)
			if err != nil {
				return domain.Err(domain.CodeInvalidField, "--to %q is not a month YYYY-MM", to)
			}
			c, err := load()
			if err != nil {
				return err
			}
			ps, err := c.PeriodsStarting(fm, tm)
			if err != nil {
				return err
			}
			if asJSON {
				out := make([]periodJSON, len(ps))
				for i, p := range ps {
					out[i] = periodJSON{p.Kind, p.Start.String(), p.End.String(), p.Close.String(), p.NoticeDate.String(), p.Payday.String()}
				}
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "KIND\tPERIOD START\tPERIOD END\tCLOSE\tNOTICE\tPAYDAY")
			for _, p := range ps {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s %s\t%s %s\n", p.Kind, p.Start, p.End, p.Close,
					p.NoticeDate, wd(p.NoticeDate), p.Payday, wd(p.Payday))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "first month YYYY-MM")
	cmd.Flags().StringVar(&to, "to", "", "last month YYYY-MM")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}

func wd(d date.Date) string { return d.Weekday().String()[:3] }

func newIsBusinessDayCmd(a *app, load func() (*settlement.Calendar, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "is-business-day YYYY-MM-DD",
		Short: "Say whether a date is a bank business day (exit 0) or closed (exit 2), and why",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := time.Parse("2006-01-02", args[0])
			if err != nil || len(args[0]) != len("2006-01-02") {
				return domain.Err(domain.CodeInvalidField, "date %q is not YYYY-MM-DD", args[0])
			}
			d := date.New(t.Date())
			c, err := load()
			if err != nil {
				return err
			}
			reason, err := c.ClosedReason(d)
			if err != nil {
				return err
			}
			if reason == "" {
				fmt.Fprintf(a.stdout, "%s %s: business day\n", d, wd(d))
				return nil
			}
			fmt.Fprintf(a.stdout, "%s %s: closed: %s\n", d, wd(d), reason)
			if prev, err := c.PrevBusinessDay(d); err == nil {
				fmt.Fprintf(a.stdout, "previous business day: %s %s\n", prev, wd(prev))
			}
			if next, err := c.NextBusinessDay(d); err == nil {
				fmt.Fprintf(a.stdout, "next business day:     %s %s\n", next, wd(next))
			}
			return exitError{2}
		},
	}
}
