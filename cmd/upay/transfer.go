package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"upay/adapters/zengin"
	"upay/domain"
	"upay/payouts"
)

// TypeTransferFileCreated records a bank transfer file's hash.
const TypeTransferFileCreated = "payout.transfer_file_created"

// transferFileCreated is its payload, in the stream transfer-files-<YYYYMMDD>.
type transferFileCreated struct {
	Payday    string     `json:"payday"`
	File      string     `json:"file"`
	SHA256    string     `json:"sha256"`
	Transfers int        `json:"transfers"`
	Total     domain.Yen `json:"total"`
}

func (transferFileCreated) EventType() string { return TypeTransferFileCreated }
func (transferFileCreated) EventVersion() int { return 1 }

func init() {
	domain.RegisterEvent(TypeTransferFileCreated, 1, func(b []byte) (domain.Event, error) {
		var e transferFileCreated
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, domain.Wrap(domain.CodeMalformed, err, "decoding %s", TypeTransferFileCreated)
		}
		return e, nil
	})
}

// remitterConfig is the 委託者 block, from a JSON file the operator keeps.
type remitterConfig struct {
	Code          string `json:"code"`
	Name          string `json:"name"`
	BankCode      string `json:"bank_code"`
	BankName      string `json:"bank_name"`
	BranchCode    string `json:"branch_code"`
	BranchName    string `json:"branch_name"`
	AccountType   string `json:"account_type"`
	AccountNumber string `json:"account_number"`
}

var zenginTypes = map[string]zengin.AccountType{
	domain.AccountOrdinary: zengin.AccountOrdinary, domain.AccountChecking: zengin.AccountChecking, domain.AccountSavings: zengin.AccountSavings,
}

func newTransferFileCmd(a *app) *cobra.Command {
	var payday, out, remitterFile string
	var noCRLF bool
	cmd := &cobra.Command{
		Use:   "transfer-file --payday DATE --remitter FILE.json --out FILE",
		Short: "Write the Zengin 総合振込 file of a payday's transfers (payouts with a positive net)",
		Long: `transfer-file writes the payday's transfers as a Zengin 総合振込 file: 120-byte
records in Shift_JIS (header, one data record per payout with a transfer,
trailer with the count and total, end), CRLF after each record unless
--no-crlf. The remitter (委託者) block comes from a JSON file with the keys
code, name (half-width kana), bank_code, bank_name, branch_code, branch_name,
account_type (ordinary, checking) and account_number. The file is written to
a temporary name, synced and renamed; its SHA-256 is recorded in a
payout.transfer_file_created event.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			day, err := parseDay("--payday", payday)
			if err != nil {
				return err
			}
			if out == "" || remitterFile == "" {
				return domain.Err(domain.CodeMissingField, "--out and --remitter are required")
			}
			raw, err := os.ReadFile(remitterFile)
			if err != nil {
				return domain.Wrap(domain.CodeInvalidField, err, "--remitter")
			}
			var rc remitterConfig
			if err := json.Unmarshal(raw, &rc); err != nil {
				return domain.Wrap(domain.CodeMalformed, err, "--remitter %s", remitterFile)
			}
			b, done, err := a.payoutBatch()
			if err != nil {
				return err
			}
			defer done()
			f := zengin.File{TransferDate: zengin.TransferDateOf(day.In(domain.Tokyo)),
				Remitter: zengin.Remitter{Code: rc.Code, Name: rc.Name, BankCode: rc.BankCode, BankName: rc.BankName,
					BranchCode: rc.BranchCode, BranchName: rc.BranchName, AccountType: zenginTypes[rc.AccountType], AccountNumber: rc.AccountNumber}}
			var total domain.Yen
			issued, err := b.IssuedOn(ctx, day)
			if err != nil {
				return err
			}
			if err := firstFailure(issued); err != nil {
				return err
			}
			for _, o := range issued {
				p := o.Payout
				if !p.Transferred || p.Net <= 0 {
					continue
				}
				f.Transfers = append(f.Transfers, zengin.Transfer{BankCode: p.Bank.BankCode, BranchCode: p.Bank.BranchCode,
					AccountType: zenginTypes[p.Bank.Type], AccountNumber: p.Bank.Number, HolderName: p.Bank.Holder,
					Amount: p.Net, CustomerCode1: string(p.Merchant)})
				total += p.Net
			}
			if len(f.Transfers) == 0 {
				return domain.Err(domain.CodePayoutNotFound, "no transfers for payday %s (run the payout batch first)", day)
			}
			data, err := zengin.Encode(f, zengin.Options{NoCRLF: noCRLF})
			if err != nil {
				var fe *zengin.FieldError
				if errors.As(err, &fe) {
					return domain.Wrap(domain.CodeBankFileChars, err, "the transfer file cannot carry a field")
				}
				return err
			}
			if err := writeAtomic(out, data); err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			if err := recordTransferFile(ctx, b, day.String(), filepath.Base(out), hex.EncodeToString(sum[:]), len(f.Transfers), total); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s: %d transfers totalling %s, sha256 %x\n", out, len(f.Transfers), yen(total), sum)
			return nil
		},
	}
	cmd.Flags().StringVar(&payday, "payday", "", "payday (YYYY-MM-DD)")
	cmd.Flags().StringVar(&out, "out", "", "file to write")
	cmd.Flags().StringVar(&remitterFile, "remitter", "", "JSON file of the remitter (委託者) block")
	cmd.Flags().BoolVar(&noCRLF, "no-crlf", false, "no CRLF after each record")
	return cmd
}

func recordTransferFile(ctx context.Context, b *payouts.Batch, payday, file, hash string, n int, total domain.Yen) error {
	e := transferFileCreated{Payday: payday, File: file, SHA256: hash, Transfers: n, Total: total}
	data, err := domain.EncodeEvent(e)
	if err != nil {
		return err
	}
	_, err = b.Store.Append(ctx, domain.AppendRequest{Stream: domain.StreamID("transfer-files-" + payday), Expected: domain.Any(),
		Events: []domain.ProposedEvent{{Type: e.EventType(), Version: e.EventVersion(), Time: domain.SystemClock{}.Now(), Data: data}}})
	return err
}

// writeAtomic writes data to a temporary file beside path, syncs it and
// renames it into place, so no half-written file ever has the final name.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return domain.Wrap(domain.CodeStoreFailure, err, "output folder %s", dir)
	}
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp.Name())
		return domain.Wrap(domain.CodeStoreFailure, err, "writing %s", path)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return domain.Wrap(domain.CodeStoreFailure, err, "writing %s", path)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
