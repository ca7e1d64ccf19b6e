package domain

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/rickb777/date"
)

// Yen is an amount of Japanese yen. JPY has no minor unit, so every amount
// is a whole number; float64 never touches money.
type Yen = int64

// Limits of the payment rules.
const (
	MaxAmount       Yen = 9_999_999_999 // widest amount any command may carry (10 digits, the Zengin field width)
	EmoneyCardLimit Yen = 20_000        // a transit IC card holds at most this much
	TrainingBalance Yen = 99_999        // training mode shows this fictitious balance
	MaxInstallments     = 99
)

// Brand is a card brand.
type Brand string

// The card brands the terminal accepts.
const (
	Visa       Brand = "visa"
	Mastercard Brand = "mastercard"
	JCB        Brand = "jcb"
	Amex       Brand = "amex"
	Diners     Brand = "diners"
	Discover   Brand = "discover"
)

// Brands lists the card brands in catalogue order.
var Brands = []Brand{Visa, Mastercard, JCB, Amex, Diners, Discover}

// ParseBrand accepts a brand name in any case.
func ParseBrand(s string) (Brand, error) {
	b := Brand(strings.ToLower(strings.TrimSpace(s)))
	for _, k := range Brands {
		if k == b {
			return b, nil
		}
	}
	return "", Err(CodeUnknownBrand, "brand %q is not one of visa, mastercard, jcb, amex, diners, discover", s)
}

// Group is a settlement brand group: one line of a payout per group and period.
type Group string

// The brand groups, in the order payout lines are printed.
const (
	GroupVisaMaster Group = "VISA/MASTER"
	GroupJCBOther   Group = "JCB/その他"
	GroupEmoney     Group = "電子マネー"
)

// Groups lists the brand groups in line order.
var Groups = []Group{GroupVisaMaster, GroupJCBOther, GroupEmoney}

// Group returns the settlement group of a card brand.
func (b Brand) Group() Group {
	if b == Visa || b == Mastercard {
		return GroupVisaMaster
	}
	return GroupJCBOther
}

// MerchantID is a 9-digit merchant number.
type MerchantID string

// ParseMerchantID checks the 9-digit form.
func ParseMerchantID(s string) (MerchantID, error) {
	if len(s) != 9 || !allDigits(s) {
		return "", Err(CodeInvalidField, "merchant id %q must be 9 digits", s)
	}
	return MerchantID(s), nil
}

// PaymentID identifies one payment (its terminal-side id). It names the
// payment's stream, so it is kept to a safe alphabet.
type PaymentID string

// ParsePaymentID checks a payment id: 1..64 characters of A-Z a-z 0-9 . _ : -.
func ParsePaymentID(s string) (PaymentID, error) {
	if s == "" || len(s) > 64 {
		return "", Err(CodeInvalidField, "payment id %q must have 1 to 64 characters", s)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._:-", r)) {
			return "", Err(CodeInvalidField, "payment id %q may hold only letters, digits and . _ : -", s)
		}
	}
	return PaymentID(s), nil
}

// Stream is the payment's event stream.
func (p PaymentID) Stream() StreamID { return StreamID("pay-" + string(p)) }

// CheckAmount enforces a positive whole amount within MaxAmount.
func CheckAmount(field string, a Yen) error {
	if a <= 0 {
		return Err(CodeInvalidAmount, "%s %d must be a positive whole number of yen", field, a)
	}
	if a > MaxAmount {
		return Err(CodeAmountTooBig, "%s %d exceeds 9,999,999,999 yen", field, a)
	}
	return nil
}

// CardRef is what the ledger keeps of a card: the last four characters and a
// keyed fingerprint (HMAC-SHA256 under the secret fingerprint key), enough
// to tell "same card" for refunds and nothing more.
type CardRef struct {
	Last4       string
	Fingerprint string // hex
}

// NewCardRef derives a CardRef from a full card number (or e-money card id)
// and the fingerprint key. The number itself goes no further.
func NewCardRef(key []byte, number string) CardRef {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(number))
	last := number
	if len(last) > 4 {
		last = last[len(last)-4:]
	}
	return CardRef{Last4: last, Fingerprint: hex.EncodeToString(m.Sum(nil))}
}

// Tokyo is Japan Standard Time. Japan has kept UTC+9 without daylight saving
// since 1951, so a fixed zone is exact and needs no tzdata on the machine.
var Tokyo = time.FixedZone("Asia/Tokyo", 9*60*60)

// BusinessDate is the calendar date of an instant in Asia/Tokyo: the date
// settlement periods and the admin search use.
func BusinessDate(t time.Time) date.Date {
	y, m, d := t.In(Tokyo).Date()
	return date.New(y, m, d)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
