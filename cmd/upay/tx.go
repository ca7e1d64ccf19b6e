package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"upay/adapters/httpapi"

	"github.com/rickb777/date"
	"github.com/spf13/cobra"

	"upay/domain"
	"upay/projections"
)

func init() { register(newTxCmd) }

func newTxCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tx",
		Short: "The transaction listing (取引一覧): search and details",
	}
	cmd.AddCommand(newTxSearchCmd(a), newTxShowCmd(a))
	return cmd
}

// txJSON is the printed form of a listing row: the admin API's view.
type txJSON = httpapi.TransactionJSON

func toTxJSON(t projections.Transaction) txJSON { return httpapi.TransactionView(t) }

type searchJSON struct {
	Rows    []txJSON `json:"rows"`
	Count   int      `json:"count"`
	More    bool     `json:"more"`
	Next    string   `json:"next,omitempty"`
	Code    string   `json:"code,omitempty"`    // A25 when more rows match
	Message string   `json:"message,omitempty"` // the manual's message for A25
}

// txParseDate reads a business date YYYY-MM-DD. Errors: U1009.
func txParseDate(flag, s string) (*date.Date, error) {
	if s == "" {
		return nil, nil
	}
	d, err := parseDay("--"+flag, s)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// txParseYen reads a whole number of yen, 0 or more. Errors: U1004.
func txParseYen(flag, s string) (*domain.Yen, error) {
	if s == "" {
		return nil, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return nil, domain.Err(domain.CodeInvalidAmount, "--%s %q is not a whole number of yen", flag, s)
	}
	return &v, nil
}

// txParseStatus accepts a status as listed, in any case, with - or _ for
// the space of "partially refunded". Errors: U1009.
func txParseStatus(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	n := strings.NewReplacer("-", " ", "_", " ").Replace(strings.ToLower(strings.TrimSpace(s)))
	for _, st := range projections.Statuses {
		if st == n {
			return st, nil
		}
	}
	return "", domain.Err(domain.CodeInvalidField, "--status %q is not one of %s", s, strings.Join(projections.Statuses, ", "))
}

// txParseBrand accepts a card brand or emoney, in any case.
// Errors: U1009.
func txParseBrand(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	n := strings.ToLower(strings.TrimSpace(s))
	if n == projections.BrandEmoney {
		return n, nil
	}
	b, err := domain.ParseBrand(n)
	if err != nil {
		return "", domain.Err(domain.CodeInvalidField, "--brand %q is not one of visa, mastercard, jcb, amex, diners, discover, emoney", s)
	}
	return string(b), nil
}

func newTxSearchCmd(a *app) *cobra.Command {
	var merchant, from, to, minY, maxY, status, brand, after string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "search",
		Short: "Search the listing as the admin screen does, newest first, at most 50 rows",
		Long: `search lists payments newest first. --from and --to bound the processing date
(売上/返品処理日, Asia/Tokyo business dates, inclusive): a payment matches when
its sales date or its return date is in the range; one with neither
(authorized, declined, voided, unknown, failed, training) matches on the date of
its first event. --min and --max bound the amount in whole yen. No condition
lists everything. At most 50 rows are shown (--limit up to 1000); when more
match, the manual's message says so and --after with the printed cursor shows
the next page.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var q projections.TxQuery
			var err error
			if merchant != "" {
				if q.Merchant, err = domain.ParseMerchantID(merchant); err != nil {
					return err
				}
			}
			if q.From, err = txParseDate("from", from); err != nil {
				return err
			}
			if q.To, err = txParseDate("to", to); err != nil {
				return err
			}
			if q.MinAmount, err = txParseYen("min", minY); err != nil {
				return err
			}
			if q.MaxAmount, err = txParseYen("max", maxY); err != nil {
				return err
			}
			if q.Status, err = txParseStatus(status); err != nil {
				return err
			}
			if q.Brand, err = txParseBrand(brand); err != nil {
				return err
			}
			q.Limit, q.After = limit, after
			if err := q.Validate(); err != nil {
				return err
			}
			m, err := a.freshModels(cmd.Context())
			if err != nil {
				return err
			}
			defer m.Close()
			page, err := m.rm.SearchTransactions(cmd.Context(), q)
			if err != nil {
				return err
			}
			overflow, _ := domain.LookupCode(domain.CodeSearchOverflow)
			if asJSON {
				out := searchJSON{Rows: make([]txJSON, len(page.Rows)), Count: len(page.Rows), More: page.More, Next: page.Next}
				for i, r := range page.Rows {
					out.Rows[i] = toTxJSON(r)
				}
				if page.More {
					out.Code, out.Message = overflow.Code, overflow.Message
				}
				return txWriteJSON(a.stdout, out)
			}
			if err := txPrintRows(a.stdout, page.Rows); err != nil {
				return err
			}
			if page.More {
				fmt.Fprintf(a.stdout, "%s %s\nnext page: --after %s\n", overflow.Code, overflow.Message, page.Next)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&merchant, "merchant", "", "9-digit merchant id")
	f.StringVar(&from, "from", "", "first processing date, YYYY-MM-DD")
	f.StringVar(&to, "to", "", "last processing date, YYYY-MM-DD")
	f.StringVar(&minY, "min", "", "smallest amount, whole yen")
	f.StringVar(&maxY, "max", "", "largest amount, whole yen")
	f.StringVar(&status, "status", "", "status: "+strings.Join(projections.Statuses, ", "))
	f.StringVar(&brand, "brand", "", "visa, mastercard, jcb, amex, diners, discover or emoney")
	f.IntVar(&limit, "limit", 0, fmt.Sprintf("rows per page (default %d, at most %d)", projections.SearchLimit, projections.MaxSearchLimit))
	f.StringVar(&after, "after", "", "continue after this cursor (printed when more rows match)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func txOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func txDatePtrStr(d *date.Date) string {
	if d == nil {
		return "-"
	}
	return d.String()
}

// txPrintRows prints listing rows as a table.
func txPrintRows(w io.Writer, rows []projections.Transaction) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PAYMENT\tCREATED (JST)\tMERCHANT\tBRAND\tAMOUNT\tCAPTURED\tREFUNDED\tSTATUS\tCODE\tSALES DATE\tRETURN DATE\tCARD")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", r.Payment, r.CreatedAt.In(domain.Tokyo).Format("2006-01-02 15:04:05"),
			r.Merchant, r.Brand, r.Amount, r.Captured, r.Refunded, r.Status, txOrDash(r.LastCode), txDatePtrStr(r.SalesDate),
			txDatePtrStr(r.ReturnDate), r.MaskedCard)
	}
	return tw.Flush()
}

type eventDetailJSON struct {
	Position     string     `json:"position"`
	Revision     uint64     `json:"revision"`
	Time         string     `json:"time"`
	Type         string     `json:"type"`
	Amount       int64      `json:"amount"`
	Outcome      string     `json:"outcome,omitempty"`
	BalanceAfter *int64     `json:"balance_after,omitempty"`
	Codes        []codeJSON `json:"codes,omitempty"`
}

type txShowJSON struct {
	Transaction txJSON            `json:"transaction"`
	Events      []eventDetailJSON `json:"events"`
}

func newTxShowCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "A payment's details and every event of it, with each result code's meaning and remedy",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := domain.ParsePaymentID(args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			m, err := a.freshModels(ctx)
			if err != nil {
				return err
			}
			defer m.Close()
			t, ok, err := m.rm.Transaction(ctx, id)
			if err != nil {
				return err
			}
			if !ok {
				return domain.Err(domain.CodePaymentNotFound, "payment %s not found", id)
			}
			evs, err := m.events.ReadStream(ctx, id.Stream(), 0, domain.ReadOptions{})
			if err != nil {
				return err
			}
			details, err := projections.Details(evs)
			if err != nil {
				return err
			}
			if asJSON {
				out := txShowJSON{Transaction: toTxJSON(t), Events: make([]eventDetailJSON, len(details))}
				for i, d := range details {
					e := eventDetailJSON{Position: d.Position.String(), Revision: d.Revision, Time: d.Time.Format(time.RFC3339Nano),
						Type: d.Type, Amount: d.Amount, Outcome: d.Outcome, BalanceAfter: d.BalanceAfter}
					for _, c := range d.Codes {
						e.Codes = append(e.Codes, toCodeJSON(c))
					}
					out.Events[i] = e
				}
				return txWriteJSON(a.stdout, out)
			}
			txPrintTx(a.stdout, t)
			fmt.Fprintln(a.stdout, "\nevents:")
			for _, d := range details {
				fmt.Fprintf(a.stdout, "  %d  %s  %-24s %8d", d.Revision, d.Time.In(domain.Tokyo).Format("2006-01-02 15:04:05"), d.Type, d.Amount)
				if d.Outcome != "" {
					fmt.Fprintf(a.stdout, "  %s", d.Outcome)
				}
				if d.BalanceAfter != nil {
					fmt.Fprintf(a.stdout, "  balance after %d", *d.BalanceAfter)
				}
				if len(d.Codes) == 0 {
					fmt.Fprintln(a.stdout, "  (no result code)")
					continue
				}
				fmt.Fprintln(a.stdout)
				for _, c := range d.Codes {
					fmt.Fprintf(a.stdout, "       %s %s\n", c.Code, txOrDash(c.Message))
					if c.Remedy != "" {
						fmt.Fprintf(a.stdout, "       remedy: %s\n", c.Remedy)
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func txPrintTx(w io.Writer, t projections.Transaction) {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	line := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	line("payment", string(t.Payment))
	line("merchant", string(t.Merchant))
	line("kind", string(t.Kind))
	line("brand", t.Brand)
	line("status", t.Status)
	line("amount", strconv.FormatInt(t.Amount, 10))
	line("captured", strconv.FormatInt(t.Captured, 10))
	line("refunded", strconv.FormatInt(t.Refunded, 10))
	code := txOrDash(t.LastCode)
	if c, ok := domain.LookupCode(t.LastCode); ok {
		code += " " + c.Message
	}
	line("result code", code)
	if t.CardCode != "" {
		line("card company code", t.CardCode)
	}
	line("sales date", txDatePtrStr(t.SalesDate))
	line("return date", txDatePtrStr(t.ReturnDate))
	line("card", t.MaskedCard)
	line("installments", strconv.Itoa(t.Installments))
	line("terminal", txOrDash(t.Terminal))
	if t.BalanceBefore != nil {
		line("balance before", strconv.FormatInt(*t.BalanceBefore, 10))
		after := "unknown"
		if t.BalanceAfter != nil {
			after = strconv.FormatInt(*t.BalanceAfter, 10)
		}
		line("balance after", after)
	}
	line("payout", txOrDash(t.Payout))
	line("created (JST)", t.CreatedAt.In(domain.Tokyo).Format("2006-01-02 15:04:05.000"))
	line("updated (JST)", t.UpdatedAt.In(domain.Tokyo).Format("2006-01-02 15:04:05.000"))
	tw.Flush()
}
