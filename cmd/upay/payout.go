package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/rickb777/date"
	"github.com/spf13/cobra"

	"upay/domain"
	"upay/payouts"
	"upay/settlement"
)

func init() { register(newPayoutCmd) }

// payoutBatch wires a payout batch to the stores; totals are opened only
// by the commands that compute.
func (a *app) payoutBatch() (*payouts.Batch, func(), error) {
	svc, done, err := a.merchantService()
	if err != nil {
		return nil, nil, err
	}
	return &payouts.Batch{Store: svc.Store, Merchants: svc, Calendar: settlement.DefaultCalendar()}, done, nil
}

// parseDay reads a date YYYY-MM-DD given on the command line. time.Parse
// checks the month and day ranges (2019-13-01 and 2019-02-30 are errors);
// date.ParseISO would roll them over into another day. Errors: U1009.
func parseDay(flag, s string) (date.Date, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return date.Date{}, domain.Err(domain.CodeInvalidField, "%s %q is not a date YYYY-MM-DD", flag, s)
	}
	return date.New(t.Year(), t.Month(), t.Day()), nil
}

func newPayoutCmd(a *app) *cobra.Command {
	root := &cobra.Command{Use: "payout", Short: "Payout batches: run, list, show, record the bank's outcome"}
	root.AddCommand(newPayoutRunCmd(a), newTransferFileCmd(a))

	var payday string
	list := &cobra.Command{
		Use:   "list --payday DATE",
		Short: "List the payouts issued for a payday",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			day, err := parseDay("--payday", payday)
			if err != nil {
				return err
			}
			b, done, err := a.payoutBatch()
			if err != nil {
				return err
			}
			defer done()
			rows, err := b.IssuedOn(cmd.Context(), day)
			if err != nil {
				return err
			}
			if err := firstFailure(rows); err != nil {
				return err
			}
			printPayouts(a.stdout, rows)
			return nil
		},
	}
	list.Flags().StringVar(&payday, "payday", "", "payday (YYYY-MM-DD)")

	var asJSON bool
	show := &cobra.Command{
		Use:   "show MERCHANT PAYDAY",
		Short: "Show every figure of one payout",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			day, err := parseDay("PAYDAY", args[1])
			if err != nil {
				return err
			}
			b, done, err := a.payoutBatch()
			if err != nil {
				return err
			}
			defer done()
			p, state, err := b.Show(cmd.Context(), domain.MerchantID(args[0]), day)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					domain.PayoutIssued
					State string `json:"state"`
				}{p, state})
			}
			printPayout(a.stdout, p, state)
			return nil
		},
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	mark := func(use string, paid bool) *cobra.Command {
		var reason string
		c := &cobra.Command{
			Use:   use + " MERCHANT PAYDAY",
			Short: map[bool]string{true: "Record that the bank executed the transfer", false: "Record that the bank returned the transfer (組戻し)"}[paid],
			Args:  cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				day, err := parseDay("PAYDAY", args[1])
				if err != nil {
					return err
				}
				b, done, err := a.payoutBatch()
				if err != nil {
					return err
				}
				defer done()
				if err := b.Mark(cmd.Context(), domain.MerchantID(args[0]), day, paid, reason); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "%s %s: %s\n", args[0], args[1], use)
				return nil
			},
		}
		if !paid {
			c.Flags().StringVar(&reason, "reason", "", "why the bank returned it")
		}
		return c
	}
	root.AddCommand(list, show, mark("mark-paid", true), mark("mark-returned", false))
	return root
}

// firstFailure is the error of the first outcome that failed, if any.
func firstFailure(out []payouts.Outcome) error {
	for _, o := range out {
		if o.Err != nil {
			return o.Err
		}
	}
	return nil
}

func printPayouts(w io.Writer, rows []payouts.Outcome) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "MERCHANT\tSTATUS\tNOTICE NO\tLINES\tFEE\tFEE TAX\tPRIOR\tTRANSFER FEE\tNET\tCARRIED\t")
	for _, o := range rows {
		p := o.Payout
		if o.Status == payouts.NoLines || o.Status == payouts.Failed {
			msg := ""
			if o.Err != nil {
				msg = o.Err.Error()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t\t\t\t\t\t\t\t\n", o.Merchant, o.Status, msg)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", o.Merchant, o.Status, p.NoticeNo, len(p.Lines), yen(p.FeeTotal), yen(p.FeeTax),
			yen(p.PriorPeriod), yen(p.TransferFee+p.TransferFeeTax), yen(p.Net), yen(p.CarriedForward))
	}
	tw.Flush()
}

func printPayout(w io.Writer, p domain.PayoutIssued, state string) {
	fmt.Fprintf(w, "通知書No %s  (%s)\n%s 様  ご担当者: %s 様\nお振込み予定日 %s  支払通知日 %s\n\n", p.NoticeNo, state, p.Name, p.Contact, p.Payday, p.NoticeDate)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "カード種類\t取扱期間\t取引件数\t売上金額\t料率\t決済手数料\t金額\t")
	for _, l := range p.Lines {
		fmt.Fprintf(tw, "%s\t%s..%s\t%d\t%s\t%s%%\t%s\t%s\t\n", l.Group, l.PeriodStart, l.PeriodEnd, l.Count, yen(l.Sales), l.Rate, yen(l.Fee), yen(l.Amount))
	}
	tw.Flush()
	fmt.Fprintf(w, "\n決済手数料にかかる消費税 (%s%%)  %s\n前期末精算金額              %s\n振込手数料                  %s\n振込手数料にかかる消費税    %s\n差引お振込金額              %s\n",
		p.FeeTaxRate, yen(p.FeeTax), yen(p.PriorPeriod), yen(p.TransferFee), yen(p.TransferFeeTax), yen(p.Net))
	if !p.Transferred {
		fmt.Fprintf(w, "繰越金額 (次回へ)            %s\n", yen(p.CarriedForward))
	}
	fmt.Fprintf(w, "\n%s %s  %s %s  %s  %s  %s\n", p.Bank.BankCode, p.Bank.BankName, p.Bank.BranchCode, p.Bank.BranchName, p.Bank.Type, maskAccount(p.Bank.Number), p.Bank.Holder)
}
