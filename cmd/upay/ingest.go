package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"upay/ingest"
	"upay/ledger"
)

func init() { register(newIngestCmd) }

func newIngestCmd(a *app) *cobra.Command {
	var importMode, asJSON, quiet bool
	var batch int
	var rejects string
	cmd := &cobra.Command{
		Use:   "ingest FILE|-",
		Short: "Record terminal commands from a JSON Lines file (docs/ingest.md)",
		Long: `ingest reads one command per line, records what the payment rules accept and
reports every rejected line with its number and code (on stderr); nothing of a
rejected line is appended, and ingest goes on with the next line. A request id
already applied is a duplicate: its original result stands, nothing is appended.

Without --import the ledger's clock stamps each command's processing time and a
line may not carry "at". With --import each line's "at" is its processing time
(history, scenarios) and a time earlier than the last recorded event is
rejected (U1010).

Exit status: 0 when every line was accepted or a duplicate, 3 when some lines
were rejected, 1 on a failure of the store (what was committed before stays).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var r io.Reader = a.stdin
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			key, err := a.fingerprintKey(ctx)
			if err != nil {
				return err
			}
			store, err := a.openStore()
			if err != nil {
				return err
			}
			defer store.Close()
			l, err := ledger.New(ctx, store, ledger.Options{Import: importMode})
			if err != nil {
				return err
			}
			opt := ingest.Options{BatchSize: batch, Rejects: a.stderr, MaxReported: 1000}
			if rejects != "" {
				f, err := os.Create(rejects)
				if err != nil {
					return err
				}
				defer f.Close()
				opt.Rejects, opt.MaxReported = f, 0
			}
			if !quiet {
				opt.Progress = a.stderr
			}
			sum, err := ingest.Run(ctx, r, l, ingest.Decoder{Key: key}, opt)
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				enc.Encode(struct {
					ingest.Summary
					EventsPerSec float64 `json:"events_per_second"`
				}{sum, float64(sum.Events) / max(sum.Elapsed.Seconds(), 1e-9)})
			} else {
				fmt.Fprintln(a.stdout, sum.String())
			}
			if err != nil {
				return err
			}
			if sum.RejectedTotal() > 0 {
				return exitError{3}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&importMode, "import", false, "take each line's \"at\" as the processing time (history, scenarios)")
	cmd.Flags().IntVar(&batch, "batch", 5000, "commands per store transaction")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summary as JSON")
	cmd.Flags().StringVar(&rejects, "rejects", "", "write every rejected line's number, code and reason to this file (default: the first 1,000 on stderr)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress on stderr")
	return cmd
}
