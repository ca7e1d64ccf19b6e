package notice

import (
	"fmt"
	"strconv"

	"github.com/rickb777/date"
	"github.com/shopspring/decimal"

	"upay/domain"
)

// Yen formats an amount as the notice prints it: a yen sign, thousands
// separators, and a minus sign after the yen sign for a negative amount
// (the manual's sample prints ¥-7,126).
func Yen(v domain.Yen) string {
	s := strconv.FormatInt(v, 10)
	neg := v < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+4)
	out = append(out, "¥"...)
	if neg {
		out = append(out, '-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// MaskAccount shows the last three characters of an account number, as
// the notice does (***567). A number of three characters or fewer is
// masked entirely: the notice never shows a whole account number.
func MaskAccount(n string) string {
	if len(n) <= 3 {
		return "***"
	}
	return "***" + n[len(n)-3:]
}

// JapaneseDate formats a date as 2019年10月31日.
func JapaneseDate(d date.Date) string {
	return fmt.Sprintf("%d年%d月%d日", d.Year(), int(d.Month()), d.Day())
}

// Period formats a settlement period as the notice's 取扱期間 column:
// 10/01-15 within a month (10/16-31, e-money 09/01-30), and 12/16-01/15
// in the unexpected case of a period that crosses a month.
func Period(start, end date.Date) string {
	if start.Year() == end.Year() && start.Month() == end.Month() {
		return fmt.Sprintf("%02d/%02d-%02d", int(start.Month()), start.Day(), end.Day())
	}
	return fmt.Sprintf("%02d/%02d-%02d/%02d", int(start.Month()), start.Day(), int(end.Month()), end.Day())
}

// Rate formats a percent rate with at least two decimals and a percent
// sign: 3.24 -> 3.24%, 3 -> 3.00%, 3.245 -> 3.245%.
func Rate(rate string) (string, error) {
	r, err := normRate(rate)
	if err != nil {
		return "", err
	}
	return r + "%", nil
}

// normRate is a rate as a decimal with at least two decimals, no sign.
func normRate(rate string) (string, error) {
	d, err := decimal.NewFromString(rate)
	if err != nil || d.IsNegative() {
		return "", domain.Err(domain.CodeInvalidField, "rate %q is not a percentage", rate)
	}
	if d.Exponent() > -2 {
		return d.StringFixed(2), nil
	}
	return d.String(), nil
}

// AccountType is the Japanese name of an account type (口座種類).
func AccountType(t string) (string, error) {
	switch t {
	case domain.AccountOrdinary:
		return "普通", nil
	case domain.AccountChecking:
		return "当座", nil
	case domain.AccountSavings:
		return "貯蓄", nil
	}
	return "", domain.Err(domain.CodeInvalidField, "account type %q is not ordinary, checking or savings", t)
}
