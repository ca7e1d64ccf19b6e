package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"upay/domain"
	"upay/merchants"
	"upay/payouts"
	"upay/settlement"
)

func newPayoutRunCmd(a *app) *cobra.Command {
	var payday, shard string
	var dry, quiet bool
	cmd := &cobra.Command{
		Use:   "run --payday DATE [--dry-run] [--shard i/n]",
		Short: "Compute and record every merchant's payout for a payday",
		Long: `run computes each merchant's payout for the payday from the read models'
period totals (brought up to date first), with the contract rates effective on
each period's close date and the previous payout's carry-forward, and records
one payout.issued event per merchant in a stream appended with "no stream": a
second run, or two runs at once, issue each payout once. --dry-run prints the
same table and records nothing. --shard i/n takes the merchants whose id mod n
is i-1, so a very large batch can be split across machines.

It is refused before every period it pays has closed (U2401) and for a date
that is not a payday (U2403). The finance team normally runs it on the notice
date, 2 business days before the payday.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			day, err := parseDay("--payday", payday)
			if err != nil {
				return err
			}
			opt := payouts.Options{Payday: day, DryRun: dry}
			if shard != "" {
				i, n, ok := strings.Cut(shard, "/")
				si, e1 := strconv.Atoi(i)
				sn, e2 := strconv.Atoi(n)
				if !ok || e1 != nil || e2 != nil || sn < 1 || si < 1 || si > sn {
					return domain.Err(domain.CodeInvalidField, "--shard %q must be i/n with 1 <= i <= n", shard)
				}
				opt.Shard, opt.Shards = si, sn
			}
			// Period totals come from the read models, brought up to date
			// first, so every event committed before the run counts.
			m, err := a.freshModels(ctx)
			if err != nil {
				return err
			}
			defer m.Close()
			sec, err := a.secrets()
			if err != nil {
				return err
			}
			b := &payouts.Batch{Store: m.events, Merchants: &merchants.Service{Store: m.events, Secrets: sec},
				Totals: m.rm, Calendar: settlement.DefaultCalendar()}
			start := time.Now()
			if !quiet {
				opt.Progress = func(n, total int) {
					fmt.Fprintf(a.stderr, "\r%s %d/%d merchants", bar(n, total, 30), n, total)
					if n == total {
						fmt.Fprintln(a.stderr)
					}
				}
			}
			out, sum, err := b.Run(ctx, opt)
			if err != nil {
				return err
			}
			printPayouts(a.stdout, out)
			verb := "issued"
			if dry {
				verb = "would issue (dry run, nothing recorded)"
			}
			fmt.Fprintf(a.stdout, "\npayday %s: %d merchants, %s %d, already issued %d, no lines %d, failed %d\ntransfers %d totalling %s; carried forward %s; transfer fees waived (Mizuho) %d; %s\n",
				day, sum.Merchants, verb, sum.Issued+countDry(out), sum.AlreadyIssued, sum.NoLines, sum.Failed,
				sum.Transfers, yen(sum.Transferred), yen(sum.CarriedForward), sum.WaivedFees, time.Since(start).Round(time.Millisecond))
			if sum.Failed > 0 {
				return exitError{3}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&payday, "payday", "", "payday (YYYY-MM-DD)")
	cmd.Flags().BoolVar(&dry, "dry-run", false, "compute and print, record nothing")
	cmd.Flags().StringVar(&shard, "shard", "", "i/n: only merchants whose id mod n is i-1")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	return cmd
}

func countDry(out []payouts.Outcome) int {
	n := 0
	for _, o := range out {
		if o.Status == payouts.DryRun {
			n++
		}
	}
	return n
}

// bar draws a progress bar of width cells.
func bar(n, total, width int) string {
	if total <= 0 {
		return "[" + strings.Repeat("=", width) + "]"
	}
	k := n * width / total
	return "[" + strings.Repeat("=", k) + strings.Repeat(" ", width-k) + "]"
}
