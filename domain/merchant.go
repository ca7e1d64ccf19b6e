package domain

import (
	"net/mail"
	"sort"
	"strings"
	"time"

	"github.com/rickb777/date"
	"github.com/shopspring/decimal"
)

// Merchant event type names. Never rename one.
const (
	TypeMerchantRegistered     = "merchant.registered"
	TypeMerchantRatesChanged   = "merchant.rates_changed"
	TypeMerchantBankChanged    = "merchant.bank_changed"
	TypeMerchantContactChanged = "merchant.contact_changed"
)

// Account types of a payee bank account.
const (
	AccountOrdinary = "ordinary" // 普通
	AccountChecking = "checking" // 当座
	AccountSavings  = "savings"  // 貯蓄
)

// BankAccount is where a merchant is paid. Holder is the half-width kana
// name the bank registers (口座名義), as the transfer file carries it.
type BankAccount struct {
	BankCode   string `json:"code"`
	BankName   string `json:"name"`
	BranchCode string `json:"branch_code"`
	BranchName string `json:"branch_name"`
	Type       string `json:"type"`
	Number     string `json:"number"`
	Holder     string `json:"holder"`
}

// Rates are a contract's fee rates per brand group, in percent, as decimal
// strings ("3.24"). In a change, an empty rate keeps the current one.
type Rates struct {
	VisaMaster string `json:"visa_master,omitempty"`
	JCBOther   string `json:"jcb_other,omitempty"`
	Emoney     string `json:"emoney,omitempty"`
}

// For returns the rate of a group ("" when unset).
func (r Rates) For(g Group) string {
	switch g {
	case GroupVisaMaster:
		return r.VisaMaster
	case GroupJCBOther:
		return r.JCBOther
	default:
		return r.Emoney
	}
}

// MerchantRegistered: a merchant and its contract. The notice password is
// never here: it goes to the secret store.
type MerchantRegistered struct {
	Merchant   MerchantID  `json:"merchant"`
	Name       string      `json:"name"`
	Contact    string      `json:"contact"`
	Email      string      `json:"email"`
	Bank       BankAccount `json:"bank"`
	Rates      Rates       `json:"rates"`
	FeeTaxRate string      `json:"fee_tax_rate"` // percent; "0" for a non-taxable contract
}

// MerchantRatesChanged: new rates from an effective date on. A payout uses
// the rates effective on each period's close date.
type MerchantRatesChanged struct {
	Merchant  MerchantID `json:"merchant"`
	Rates     Rates      `json:"rates"`
	Effective string     `json:"effective"` // YYYY-MM-DD
}

// MerchantBankChanged: the payee account changes for payouts issued from now on.
type MerchantBankChanged struct {
	Merchant MerchantID  `json:"merchant"`
	Bank     BankAccount `json:"bank"`
}

// MerchantContactChanged: contact person and e-mail address.
type MerchantContactChanged struct {
	Merchant MerchantID `json:"merchant"`
	Contact  string     `json:"contact"`
	Email    string     `json:"email"`
}

func (MerchantRegistered) EventType() string     { return TypeMerchantRegistered }
func (MerchantRatesChanged) EventType() string   { return TypeMerchantRatesChanged }
func (MerchantBankChanged) EventType() string    { return TypeMerchantBankChanged }
func (MerchantContactChanged) EventType() string { return TypeMerchantContactChanged }
func (MerchantRegistered) EventVersion() int     { return 1 }
func (MerchantRatesChanged) EventVersion() int   { return 1 }
func (MerchantBankChanged) EventVersion() int    { return 1 }
func (MerchantContactChanged) EventVersion() int { return 1 }

func init() {
	RegisterEvent(TypeMerchantRegistered, 1, decodeAs[MerchantRegistered])
	RegisterEvent(TypeMerchantRatesChanged, 1, decodeAs[MerchantRatesChanged])
	RegisterEvent(TypeMerchantBankChanged, 1, decodeAs[MerchantBankChanged])
	RegisterEvent(TypeMerchantContactChanged, 1, decodeAs[MerchantContactChanged])
}

// Stream is the merchant's event stream.
func (m MerchantID) Stream() StreamID { return StreamID("merchant-" + string(m)) }

// RateChange is one entry of a contract's rate history.
type RateChange struct {
	Effective date.Date // zero for the registration's rates (effective from the start)
	Rates     Rates
}

// Merchant is the state folded from a merchant's stream.
type Merchant struct {
	Exists     bool
	ID         MerchantID
	Name       string
	Contact    string
	Email      string
	Bank       BankAccount
	FeeTaxRate string
	History    []RateChange // in effective order
}

// Evolve folds one merchant event.
func (m *Merchant) Evolve(e Event) {
	switch e := e.(type) {
	case MerchantRegistered:
		*m = Merchant{Exists: true, ID: e.Merchant, Name: e.Name, Contact: e.Contact, Email: e.Email, Bank: e.Bank,
			FeeTaxRate: e.FeeTaxRate, History: []RateChange{{Rates: e.Rates}}}
	case MerchantRatesChanged:
		d, _ := date.ParseISO(e.Effective)
		m.History = append(m.History, RateChange{Effective: d, Rates: e.Rates})
		sort.SliceStable(m.History, func(i, j int) bool { return m.History[i].Effective.Before(m.History[j].Effective) })
	case MerchantBankChanged:
		m.Bank = e.Bank
	case MerchantContactChanged:
		m.Contact, m.Email = e.Contact, e.Email
	}
}

// RateOn returns the group's rate effective on day d: the latest change
// effective on or before d that sets the group, else the registration's.
func (m Merchant) RateOn(g Group, d date.Date) decimal.Decimal {
	rate := ""
	for _, c := range m.History {
		if c.Effective.After(d) {
			break
		}
		if r := c.Rates.For(g); r != "" {
			rate = r
		}
	}
	v, _ := decimal.NewFromString(rate) // validated when recorded
	return v
}

// MerchantCommand is a command on a merchant's stream.
type MerchantCommand interface {
	MerchantID() MerchantID
	Meta() CommandMeta
}

// RegisterMerchant registers a merchant and its contract.
type RegisterMerchant struct {
	CommandMeta
	MerchantRegistered
}

// SetRates changes rates from an effective date.
type SetRates struct {
	CommandMeta
	Merchant  MerchantID
	Rates     Rates
	Effective date.Date
}

// SetBank changes the payee account.
type SetBank struct {
	CommandMeta
	Merchant MerchantID
	Bank     BankAccount
}

// SetContact changes the contact person and e-mail.
type SetContact struct {
	CommandMeta
	Merchant MerchantID
	Contact  string
	Email    string
}

func (c RegisterMerchant) MerchantID() MerchantID { return c.Merchant }
func (c SetRates) MerchantID() MerchantID         { return c.Merchant }
func (c SetBank) MerchantID() MerchantID          { return c.Merchant }
func (c SetContact) MerchantID() MerchantID       { return c.Merchant }
func (c RegisterMerchant) Meta() CommandMeta      { return c.CommandMeta }
func (c SetRates) Meta() CommandMeta              { return c.CommandMeta }
func (c SetBank) Meta() CommandMeta               { return c.CommandMeta }
func (c SetContact) Meta() CommandMeta            { return c.CommandMeta }

// Decide applies the contract rules to a merchant command.
func (m Merchant) Decide(c MerchantCommand, now time.Time) ([]Event, error) {
	if _, err := ParseMerchantID(string(c.MerchantID())); err != nil {
		return nil, err
	}
	if _, ok := c.(RegisterMerchant); !ok && !m.Exists {
		return nil, Err(CodeMerchantUnknown, "merchant %s is not registered", c.MerchantID())
	}
	switch c := c.(type) {
	case RegisterMerchant:
		if m.Exists {
			return nil, Err(CodeMerchantExists, "merchant %s is already registered", c.Merchant)
		}
		e := c.MerchantRegistered
		if strings.TrimSpace(e.Name) == "" {
			return nil, Err(CodeMissingField, "name is required")
		}
		if err := checkContact(e.Contact, e.Email); err != nil {
			return nil, err
		}
		if err := CheckBank(e.Bank); err != nil {
			return nil, err
		}
		for _, g := range Groups {
			if e.Rates.For(g) == "" {
				return nil, Err(CodeMissingField, "rate of %s is required", g)
			}
		}
		if err := checkRates(e.Rates); err != nil {
			return nil, err
		}
		if e.FeeTaxRate == "" {
			e.FeeTaxRate = "10"
		}
		if err := checkRate("fee_tax_rate", e.FeeTaxRate); err != nil {
			return nil, err
		}
		return []Event{e}, nil
	case SetRates:
		if c.Rates == (Rates{}) {
			return nil, Err(CodeMissingField, "set-rates needs at least one rate")
		}
		if err := checkRates(c.Rates); err != nil {
			return nil, err
		}
		if closed := LastClosedCloseDate(BusinessDate(now)); !c.Effective.After(closed) {
			return nil, Err(CodeRateInClosedPeriod, "effective %s is not after %s, the close date of a period that has already closed", c.Effective, closed)
		}
		return []Event{MerchantRatesChanged{Merchant: c.Merchant, Rates: c.Rates, Effective: c.Effective.String()}}, nil
	case SetBank:
		if err := CheckBank(c.Bank); err != nil {
			return nil, err
		}
		return []Event{MerchantBankChanged{Merchant: c.Merchant, Bank: c.Bank}}, nil
	case SetContact:
		if err := checkContact(c.Contact, c.Email); err != nil {
			return nil, err
		}
		return []Event{MerchantContactChanged{Merchant: c.Merchant, Contact: c.Contact, Email: c.Email}}, nil
	}
	return nil, Err(CodeUnknownType, "unknown merchant command %T", c)
}

// LastClosedCloseDate is the latest period close date strictly before day
// d: card periods close on the 15th and the month end, the e-money month on
// the month end. A rate effective on or before it would change a period
// that has closed (and may be settled), so it is refused.
func LastClosedCloseDate(d date.Date) date.Date {
	if d.Day() > 15 {
		return date.New(d.Year(), d.Month(), 15)
	}
	return date.New(d.Year(), d.Month(), 1).AddDate(0, 0, -1)
}

// MaxRateDecimals is the finest rate a contract may state (e.g. 3.2401%).
const MaxRateDecimals = 4

func checkRates(r Rates) error {
	for _, g := range Groups {
		if v := r.For(g); v != "" {
			if err := checkRate(string(g), v); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkRate(field, s string) error {
	v, err := decimal.NewFromString(s)
	if err != nil || strings.ContainsAny(s, "eE") {
		return Err(CodeInvalidRate, "%s %q is not a decimal number of percent", field, s)
	}
	if v.IsNegative() || v.GreaterThan(decimal.NewFromInt(100)) {
		return Err(CodeInvalidRate, "%s %s%% is outside 0..100", field, s)
	}
	if -v.Exponent() > MaxRateDecimals && !v.Equal(v.Truncate(MaxRateDecimals)) {
		return Err(CodeInvalidRate, "%s %s has more than %d decimals", field, s, MaxRateDecimals)
	}
	return nil
}

func checkContact(contact, email string) error {
	if strings.TrimSpace(contact) == "" {
		return Err(CodeMissingField, "contact is required")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" {
		return Err(CodeInvalidField, "e-mail %q is not a plain address", email)
	}
	return nil
}

// CheckBank checks an account's codes and fields; the holder's characters
// are checked against the bank file's character set by the caller (the
// Zengin adapter knows it).
func CheckBank(b BankAccount) error {
	switch {
	case len(b.BankCode) != 4 || !allDigits(b.BankCode):
		return Err(CodeInvalidField, "bank code %q must be 4 digits", b.BankCode)
	case len(b.BranchCode) != 3 || !allDigits(b.BranchCode):
		return Err(CodeInvalidField, "branch code %q must be 3 digits", b.BranchCode)
	case len(b.Number) != 7 || !allDigits(b.Number):
		return Err(CodeInvalidField, "account number %q must be 7 digits", b.Number)
	case b.Type != AccountOrdinary && b.Type != AccountChecking && b.Type != AccountSavings:
		return Err(CodeInvalidField, "account type %q must be ordinary, checking or savings", b.Type)
	case strings.TrimSpace(b.BankName) == "" || strings.TrimSpace(b.BranchName) == "":
		return Err(CodeMissingField, "bank and branch names are required")
	case b.Holder == "":
		return Err(CodeMissingField, "account holder is required")
	}
	return nil
}
