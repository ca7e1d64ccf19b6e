package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/rickb777/date"
	"github.com/spf13/cobra"

	"upay/balance"
	"upay/domain"
	"upay/projections"
	"upay/settlement"
)

func init() { register(newBalanceCmd) }

type balanceLineJSON struct {
	Group string `json:"group"`
	Count int64  `json:"count"`
	Sales int64  `json:"sales"`
}

type balancePeriodJSON struct {
	Kind       string            `json:"kind"` // card or emoney
	Start      string            `json:"start"`
	End        string            `json:"end"`
	NoticeDate string            `json:"notice_date"`
	Payday     string            `json:"payday"`
	Count      int64             `json:"count"`
	Sales      int64             `json:"sales"`
	Lines      []balanceLineJSON `json:"lines"`
}

type balanceOutJSON struct {
	Merchant      string              `json:"merchant"`
	AsOf          string              `json:"as_of"`
	Card          []balancePeriodJSON `json:"card"`
	Emoney        []balancePeriodJSON `json:"emoney"`
	CardTotal     int64               `json:"card_total"`
	EmoneyTotal   int64               `json:"emoney_total"`
	Total         int64               `json:"total"`
	Unknown       []txJSON            `json:"unknown_emoney"`
	UnknownAmount int64               `json:"unknown_emoney_amount"`
	Payouts       []balancePayoutJSON `json:"payouts"`
	Scheduled     int64               `json:"scheduled"` // issued, the bank has not reported on the transfer
	Paid          int64               `json:"paid"`      // of the listed payouts
	Returned      int64               `json:"returned"`  // every returned transfer: owed again
	Carried       int64               `json:"carried_forward"`
	CarriedFrom   string              `json:"carried_from,omitempty"`
	Owed          int64               `json:"owed"` // unsettled + carried forward + returned
}

// balancePayoutJSON is one payout as the balance lists it, with its status
// as of the balance's date.
type balancePayoutJSON struct {
	NoticeNo       string `json:"notice_no"`
	Payday         string `json:"payday"`
	Net            int64  `json:"net"`
	CarriedForward int64  `json:"carried_forward"`
	Transferred    bool   `json:"transferred"`
	Status         string `json:"status"`
	Reason         string `json:"reason,omitempty"`
}

func toBalancePeriods(ps []balance.Period) []balancePeriodJSON {
	out := make([]balancePeriodJSON, len(ps))
	for i, p := range ps {
		out[i] = balancePeriodJSON{Kind: p.Kind, Start: p.Start.String(), End: p.End.String(), NoticeDate: p.NoticeDate.String(),
			Payday: p.Payday.String(), Count: p.Count, Sales: p.Sales}
		for _, l := range p.Lines {
			out[i].Lines = append(out[i].Lines, balanceLineJSON{Group: string(l.Group), Count: l.Count, Sales: l.Sales})
		}
	}
	return out
}

func newBalanceCmd(a *app) *cobra.Command {
	var asOf string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "balance MERCHANT",
		Short: "A merchant's unsettled card sales per period and brand group, e-money per month, unknown e-money debits",
		Long: `balance shows what a merchant is owed and not yet paid, as of a business date:
card sales per settlement period (A: 1st-15th, B: 16th-month end) and brand group
whose payday is after that date, e-money per month likewise, and the e-money
debits still awaiting resolution (they count nowhere until resolved). A period
is unsettled until its payday, moved to a bank business day as the settlement
calendar says, or until a payout issued by that date pays it out. Then the
merchant's payouts as of that date: scheduled (issued, the bank has not
reported on the transfer), paid, returned (owed again), and the carry-forward
waiting for the next payout. --as-of defaults to the business date of the last
recorded event (the ledger's clock as far as the log knows).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mid, err := domain.ParseMerchantID(args[0])
			if err != nil {
				return err
			}
			day, err := txParseDate("as-of", asOf)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			m, err := a.freshModels(ctx)
			if err != nil {
				return err
			}
			defer m.Close()
			if day == nil {
				last, ok, err := m.events.Last(ctx)
				if err != nil {
					return err
				}
				d := date.TodayIn(domain.Tokyo)
				if ok {
					d = domain.BusinessDate(last.Time)
				}
				day = &d
			}
			b, err := balance.Compute(ctx, m.rm, settlement.DefaultCalendar(), mid, *day)
			if err != nil {
				return err
			}
			if asJSON {
				out := balanceOutJSON{Merchant: string(mid), AsOf: b.AsOf.String(), Card: toBalancePeriods(b.Card), Emoney: toBalancePeriods(b.Emoney),
					CardTotal: b.CardTotal, EmoneyTotal: b.EmoneyTotal, Total: b.Total, Unknown: make([]txJSON, len(b.Unknown)),
					UnknownAmount: b.UnknownAmount, Payouts: make([]balancePayoutJSON, len(b.List)), Scheduled: b.Scheduled, Paid: b.Paid,
					Returned: b.Returned, Carried: b.CarriedForward, CarriedFrom: b.CarriedFrom, Owed: b.Owed}
				for i, t := range b.Unknown {
					out.Unknown[i] = toTxJSON(t)
				}
				for i, p := range b.List {
					out.Payouts[i] = balancePayoutJSON{NoticeNo: p.NoticeNo, Payday: p.Payday.String(), Net: p.Net,
						CarriedForward: p.CarriedForward, Transferred: p.Transferred, Status: p.Status, Reason: p.Reason}
				}
				return txWriteJSON(a.stdout, out)
			}
			w := a.stdout
			fmt.Fprintf(w, "merchant %s, unsettled as of %s\n\n", mid, b.AsOf)
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			// The group goes last: tabwriter counts a wide (Japanese) character as
			// one cell, which would shift any column after it.
			fmt.Fprintln(tw, "KIND\tPERIOD\tNOTICE\tPAYDAY\tCOUNT\tSALES\tGROUP")
			for _, ps := range [][]balance.Period{b.Card, b.Emoney} {
				for _, p := range ps {
					for i, l := range p.Lines {
						label, notice, payday := p.Kind, p.NoticeDate.String(), p.Payday.String()
						period := p.Start.Format("01/02") + "-" + p.End.Format("02")
						if i > 0 {
							label, period, notice, payday = "", "", "", ""
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", label, period, notice, payday, l.Count, l.Sales, l.Group)
					}
				}
			}
			tw.Flush()
			if len(b.Card)+len(b.Emoney) == 0 {
				fmt.Fprintln(w, "(no unsettled sales)")
			}
			fmt.Fprintf(w, "\nunsettled card %d, e-money %d, total %d\n", b.CardTotal, b.EmoneyTotal, b.Total)
			fmt.Fprintf(w, "unknown e-money debits awaiting resolution: %d (%d yen, counted nowhere until resolved)\n", len(b.Unknown), b.UnknownAmount)
			for _, t := range b.Unknown {
				fmt.Fprintf(w, "  %s  %s  %d\n", t.Payment, t.CreatedAt.In(domain.Tokyo).Format("2006-01-02 15:04:05"), t.Amount)
			}
			fmt.Fprintln(w)
			if len(b.List) == 0 {
				fmt.Fprintln(w, "payouts: none")
			} else {
				fmt.Fprintln(w, "payouts:")
				tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "  PAYDAY\tNOTICE\tNET\tCARRIED\tSTATUS")
				for _, p := range b.List {
					status := p.Status
					switch {
					case !p.Transferred:
						status = "carried forward"
					case p.Status == projections.PayoutStatusIssued:
						status = "scheduled"
					case p.Reason != "":
						status += ": " + p.Reason
					}
					fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%s\n", p.Payday, p.NoticeNo, p.Net, p.CarriedForward, status)
				}
				tw.Flush()
			}
			fmt.Fprintf(w, "scheduled %d, paid %d, returned %d (owed again)\n", b.Scheduled, b.Paid, b.Returned)
			if b.CarriedFrom != "" {
				fmt.Fprintf(w, "carried forward %d from %s, to the next payout\n", b.CarriedForward, b.CarriedFrom)
			} else {
				fmt.Fprintln(w, "carried forward 0")
			}
			fmt.Fprintf(w, "owed %d (unsettled + carried forward + returned)\n", b.Owed)
			return nil
		},
	}
	cmd.Flags().StringVar(&asOf, "as-of", "", "business date YYYY-MM-DD (default: that of the last recorded event)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
