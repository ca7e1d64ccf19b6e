package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"upay/projections"
)

// newNoticeListCmd lists a payday's notices from the notices projection:
// what was issued, rewritten and delivered, without opening a file.
func newNoticeListCmd(a *app) *cobra.Command {
	var payday string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list --payday DATE [--json]",
		Short: "List a payday's notices: file, hash, delivery status and attempts (read model)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			day, err := parseDay("--payday", payday)
			if err != nil {
				return err
			}
			m, err := a.freshModels(cmd.Context())
			if err != nil {
				return err
			}
			defer m.Close()
			ns, err := m.rm.Notices(cmd.Context(), day)
			if err != nil {
				return err
			}
			if asJSON {
				return writeNoticesJSON(a, ns)
			}
			if len(ns) == 0 {
				fmt.Fprintf(a.stdout, "no notices for %s\n", day)
				return nil
			}
			w := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(w, "MERCHANT\tNOTICE NO\tSEQ\tISSUED\tFILE\tSTATUS\tTO\tATTEMPTS\tLAST ERROR")
			for _, n := range ns {
				lastErr := "-"
				if n.LastCode != "" {
					lastErr = n.LastCode + " " + n.LastError
				}
				to := n.DeliveredTo
				if to == "" {
					to = "-"
				}
				fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%d\t%s\n", n.Merchant, n.NoticeNo, n.Seq, n.IssueDate, n.File, n.Status, to, n.Attempts, lastErr)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&payday, "payday", "", "the payday (YYYY-MM-DD)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

type noticeJSON struct {
	Merchant    string `json:"merchant"`
	NoticeNo    string `json:"notice_no"`
	Payday      string `json:"payday"`
	Seq         int    `json:"seq"`
	IssueDate   string `json:"issue_date"`
	File        string `json:"file"`
	SHA256      string `json:"sha256"`
	Reason      string `json:"reason,omitempty"`
	Rewrites    int    `json:"rewrites"`
	Status      string `json:"status"`
	DeliveredTo string `json:"delivered_to,omitempty"`
	MessageID   string `json:"message_id,omitempty"`
	DeliveredAt string `json:"delivered_at,omitempty"`
	Attempts    int    `json:"attempts"`
	LastCode    string `json:"last_code,omitempty"`
	LastError   string `json:"last_error,omitempty"`
}

func writeNoticesJSON(a *app, ns []projections.Notice) error {
	out := make([]noticeJSON, len(ns))
	for i, n := range ns {
		out[i] = noticeJSON{Merchant: string(n.Merchant), NoticeNo: n.NoticeNo, Payday: n.Payday.String(), Seq: n.Seq,
			IssueDate: n.IssueDate.String(), File: n.File, SHA256: n.SHA256, Reason: n.Reason, Rewrites: n.Rewrites,
			Status: n.Status, DeliveredTo: n.DeliveredTo, MessageID: n.MessageID, Attempts: n.Attempts,
			LastCode: n.LastCode, LastError: n.LastError}
		if !n.DeliveredAt.IsZero() {
			out[i].DeliveredAt = n.DeliveredAt.UTC().Format(time.RFC3339Nano)
		}
	}
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
