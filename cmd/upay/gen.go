package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"upay/domain"
	"upay/workload"
)

func init() { register(newGenCmd) }

func newGenCmd(a *app) *cobra.Command {
	var cfg workload.Config
	var start, out string
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Generate a deterministic synthetic workload of terminal commands (JSON Lines)",
		Long: `gen writes JSON Lines commands (the ingest format) for --merchants merchants over
--days days from --start, --per-day payments per merchant and day: card brands
in market-like shares, installments, ~2% declines, voids, refunds (some in
later periods), e-money debits with unknown outcomes resolved later, and
training debits. Each line carries "at", so ingest it with --import.
The same --seed always yields the same bytes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := time.ParseInLocation("2006-01-02", start, domain.Tokyo)
			if err != nil {
				return domain.Err(domain.CodeInvalidField, "--start %q is not a date YYYY-MM-DD", start)
			}
			cfg.Start = d
			var w io.Writer = a.stdout
			var f *os.File
			if out != "" && out != "-" {
				if f, err = os.Create(out); err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			bw := bufio.NewWriter(w)
			st, err := workload.Write(bw, cfg)
			if err != nil {
				return err
			}
			if err := bw.Flush(); err != nil {
				return err
			}
			if f != nil {
				if err := f.Close(); err != nil {
					return err
				}
			}
			fmt.Fprintf(a.stderr, "gen: %d commands (authorize %d, capture %d, void %d, refund %d, emoney_debit %d, emoney_resolve %d)\n",
				st.Commands, st.ByType["authorize"], st.ByType["capture"], st.ByType["void"], st.ByType["refund"], st.ByType["emoney_debit"], st.ByType["emoney_resolve"])
			return nil
		},
	}
	cmd.Flags().IntVar(&cfg.Merchants, "merchants", 3, "number of merchants")
	cmd.Flags().IntVar(&cfg.Days, "days", 30, "number of days")
	cmd.Flags().IntVar(&cfg.PaymentsPerDay, "per-day", 1000, "payments per merchant per day")
	cmd.Flags().Uint64Var(&cfg.Seed, "seed", 1, "random seed")
	cmd.Flags().StringVar(&start, "start", "2019-10-01", "first day (Asia/Tokyo date)")
	cmd.Flags().StringVarP(&out, "out", "o", "-", "output file (- for stdout)")
	return cmd
}
