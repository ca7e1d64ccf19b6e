package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"upay/domain"
	"upay/merchants"
)

func init() { register(newMerchantCmd) }

func (a *app) merchantService() (*merchants.Service, func(), error) {
	store, err := a.openStore()
	if err != nil {
		return nil, nil, err
	}
	sec, err := a.secrets()
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return &merchants.Service{Store: store, Secrets: sec}, func() { store.Close() }, nil
}

func bankFlags(cmd *cobra.Command, b *domain.BankAccount) {
	cmd.Flags().StringVar(&b.BankCode, "bank-code", "", "bank code (4 digits; 0001 is Mizuho: no transfer fee)")
	cmd.Flags().StringVar(&b.BankName, "bank-name", "", "bank name")
	cmd.Flags().StringVar(&b.BranchCode, "branch-code", "", "branch code (3 digits)")
	cmd.Flags().StringVar(&b.BranchName, "branch-name", "", "branch name")
	cmd.Flags().StringVar(&b.Type, "account-type", domain.AccountOrdinary, "ordinary, checking or savings")
	cmd.Flags().StringVar(&b.Number, "account-number", "", "account number (7 digits)")
	cmd.Flags().StringVar(&b.Holder, "holder", "", "account holder in half-width kana, as the bank registers it")
}

func newMerchantCmd(a *app) *cobra.Command {
	root := &cobra.Command{Use: "merchant", Short: "Register merchants and change their contracts (event-sourced)"}

	var reg domain.RegisterMerchant
	var passwordFile string
	add := &cobra.Command{
		Use:   "add",
		Short: "Register a merchant with its bank account, rates and notice password",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, done, err := a.merchantService()
			if err != nil {
				return err
			}
			defer done()
			if passwordFile == "" {
				return domain.Err(domain.CodeMissingField, "--notice-password-file (a file, or - for stdin, holding the 9 digits) is required: payout notices are encrypted with it")
			}
			password, err := readSecret(a, passwordFile)
			if err != nil {
				return err
			}
			if !merchants.ValidPassword(password) {
				return domain.Err(domain.CodeInvalidField, "the notice password must be 9 digits")
			}
			if _, err := svc.Handle(cmd.Context(), reg); err != nil {
				return err
			}
			if err := svc.SetNoticePassword(cmd.Context(), reg.Merchant, password); err != nil {
				return fmt.Errorf("merchant %s is registered but its notice password was not stored (run again with the same flags after fixing the secret store): %w", reg.Merchant, err)
			}
			fmt.Fprintf(a.stdout, "registered merchant %s (%s)\n", reg.Merchant, reg.Name)
			return nil
		},
	}
	add.Flags().StringVar((*string)(&reg.Merchant), "id", "", "merchant id (9 digits)")
	add.Flags().StringVar(&reg.Name, "name", "", "merchant name")
	add.Flags().StringVar(&reg.Contact, "contact", "", "contact person")
	add.Flags().StringVar(&reg.Email, "email", "", "e-mail address for payout notices")
	add.Flags().StringVar(&reg.Rates.VisaMaster, "rate-visa-master", "", "fee rate of VISA/MASTER in percent, e.g. 3.24")
	add.Flags().StringVar(&reg.Rates.JCBOther, "rate-jcb-other", "", "fee rate of JCB/その他 in percent")
	add.Flags().StringVar(&reg.Rates.Emoney, "rate-emoney", "", "fee rate of 電子マネー in percent")
	add.Flags().StringVar(&reg.FeeTaxRate, "fee-tax-rate", "10", "consumption tax on fees in percent (0: non-taxable contract)")
	add.Flags().StringVar(&passwordFile, "notice-password-file", "", "file holding the 9-digit password of the payout notice ZIPs, or - for stdin (never a flag value: the process list would show it)")
	bankFlags(add, &reg.Bank)

	var asJSON bool
	show := &cobra.Command{
		Use:   "show MERCHANT",
		Short: "Show a merchant, its bank account and rate history",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, done, err := a.merchantService()
			if err != nil {
				return err
			}
			defer done()
			m, _, err := svc.Get(cmd.Context(), domain.MerchantID(args[0]))
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(merchantJSON(m))
			}
			fmt.Fprintf(a.stdout, "merchant   %s %s\ncontact    %s <%s>\nbank       %s %s / %s %s / %s %s / %s\nfee tax    %s%%\n",
				m.ID, m.Name, m.Contact, m.Email, m.Bank.BankCode, m.Bank.BankName, m.Bank.BranchCode, m.Bank.BranchName,
				m.Bank.Type, m.Bank.Number, m.Bank.Holder, m.FeeTaxRate)
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "EFFECTIVE\tVISA/MASTER\tJCB/その他\t電子マネー")
			for _, h := range m.History {
				eff := "registration"
				if !h.Effective.IsZero() {
					eff = h.Effective.String()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", eff, dash(h.Rates.VisaMaster), dash(h.Rates.JCBOther), dash(h.Rates.Emoney))
			}
			return tw.Flush()
		},
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	list := &cobra.Command{
		Use:   "list",
		Short: "List registered merchants",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, done, err := a.merchantService()
			if err != nil {
				return err
			}
			defer done()
			ms, err := svc.List(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "MERCHANT\tNAME\tCONTACT\tBANK")
			for _, m := range ms {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\n", m.ID, m.Name, m.Contact, m.Bank.BankCode, m.Bank.BankName)
			}
			return tw.Flush()
		},
	}

	var rates domain.Rates
	var effective string
	setRates := &cobra.Command{
		Use:   "set-rates MERCHANT --effective YYYY-MM-DD [--visa-master R] [--jcb-other R] [--emoney R]",
		Short: "Change fee rates from an effective date (not in a period that has closed)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			eff, err := parseDay("--effective", effective)
			if err != nil {
				return err
			}
			svc, done, err := a.merchantService()
			if err != nil {
				return err
			}
			defer done()
			if _, err := svc.Handle(cmd.Context(), domain.SetRates{Merchant: domain.MerchantID(args[0]), Rates: rates, Effective: eff}); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "rates of %s changed from %s\n", args[0], eff)
			return nil
		},
	}
	setRates.Flags().StringVar(&effective, "effective", "", "first day the rates apply (YYYY-MM-DD)")
	setRates.Flags().StringVar(&rates.VisaMaster, "visa-master", "", "VISA/MASTER rate in percent")
	setRates.Flags().StringVar(&rates.JCBOther, "jcb-other", "", "JCB/その他 rate in percent")
	setRates.Flags().StringVar(&rates.Emoney, "emoney", "", "電子マネー rate in percent")

	var bank domain.BankAccount
	setBank := &cobra.Command{
		Use:   "set-bank MERCHANT",
		Short: "Change the payee bank account",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, done, err := a.merchantService()
			if err != nil {
				return err
			}
			defer done()
			if _, err := svc.Handle(cmd.Context(), domain.SetBank{Merchant: domain.MerchantID(args[0]), Bank: bank}); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "bank account of %s changed\n", args[0])
			return nil
		},
	}
	bankFlags(setBank, &bank)
	root.AddCommand(add, show, list, setRates, setBank)
	return root
}

// readSecret reads a secret from a file or stdin ("-"), trimming one
// trailing newline, so that it never travels on a command line.
func readSecret(a *app, path string) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(a.stdin, 1024))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", domain.Wrap(domain.CodeInvalidField, err, "reading the notice password")
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func merchantJSON(m domain.Merchant) any {
	type change struct {
		Effective string       `json:"effective,omitempty"`
		Rates     domain.Rates `json:"rates"`
	}
	hist := make([]change, len(m.History))
	for i, h := range m.History {
		if !h.Effective.IsZero() {
			hist[i].Effective = h.Effective.String()
		}
		hist[i].Rates = h.Rates
	}
	return struct {
		ID         domain.MerchantID  `json:"id"`
		Name       string             `json:"name"`
		Contact    string             `json:"contact"`
		Email      string             `json:"email"`
		Bank       domain.BankAccount `json:"bank"`
		FeeTaxRate string             `json:"fee_tax_rate"`
		Rates      []change           `json:"rates"`
	}{m.ID, m.Name, m.Contact, m.Email, m.Bank, m.FeeTaxRate, hist}
}
