package zengin

import (
	"fmt"
	"strings"
)

// Kind sorts FieldErrors for callers that map them to catalogue codes.
type Kind uint8

const (
	// KindCharset: a C field holds a character outside the 全銀 set (kanji,
	// hiragana, small kana, lowercase, ...) or Decode found a byte that is
	// not one.
	KindCharset Kind = iota + 1
	// KindTooLong: a name is longer than its field.
	KindTooLong
	// KindNumeric: an N field holds something other than digits, or not
	// the number of digits the field needs (bank 4, branch 3, account 7).
	KindNumeric
	// KindValue: a field holds a value the layout does not define: account
	// type, date, a fixed value (種別コード, コード区分, ...), a required
	// name left blank, a filler that is not blank.
	KindValue
	// KindAmount: 振込金額 zero or negative.
	KindAmount
	// KindAmountTooBig: 振込金額 above 9,999,999,999 yen (10 digits).
	KindAmountTooBig
	// KindTotalTooBig: the file's count or total does not fit the trailer
	// (999,999 records, 999,999,999,999 yen): split the file.
	KindTotalTooBig
	// KindStructure: Decode found a malformed file (record length,
	// separator, record order, missing or extra records), or a file has no
	// transfers.
	KindStructure
	// KindTotals: the trailer's count or total differs from the data
	// records.
	KindTotals
)

func (k Kind) String() string {
	switch k {
	case KindCharset:
		return "charset"
	case KindTooLong:
		return "too long"
	case KindNumeric:
		return "numeric"
	case KindValue:
		return "value"
	case KindAmount:
		return "amount"
	case KindAmountTooBig:
		return "amount too big"
	case KindTotalTooBig:
		return "total too big"
	case KindStructure:
		return "structure"
	case KindTotals:
		return "totals"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// FieldError is the one error type of the package.
type FieldError struct {
	// Record is the 1-based record number: 1 is the header,
	// File.Transfers[i] is record i+2, then the trailer and the end record.
	// It is 0 when the error is not about a record (NormalizeKana).
	Record int
	// Field is the field's name in the layout, e.g. "受取人名"; "" when
	// the error is about the record or the file as a whole.
	Field string
	// Value is the offending value: the Go value on Encode, the field's
	// bytes read as Shift_JIS on Decode.
	Value string
	// Reason says what is wrong, in English.
	Reason string
	// Kind sorts the error (see the Kind constants).
	Kind Kind
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("zengin: ")
	if e.Record > 0 {
		fmt.Fprintf(&b, "record %d", e.Record)
		if e.Field != "" {
			b.WriteString(" ")
		}
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		if en := fieldEnglish[e.Field]; en != "" {
			fmt.Fprintf(&b, " (%s)", en)
		}
	}
	if e.Record > 0 || e.Field != "" {
		fmt.Fprintf(&b, " %q: ", e.Value)
	} else {
		fmt.Fprintf(&b, "%q: ", e.Value)
	}
	b.WriteString(e.Reason)
	return b.String()
}

func fieldErr(kind Kind, rec int, f field, value, format string, args ...any) *FieldError {
	return &FieldError{Record: rec, Field: f.name, Value: value, Reason: fmt.Sprintf(format, args...), Kind: kind}
}

// fieldEnglish glosses the layout's field names in messages.
var fieldEnglish = map[string]string{
	"データ区分":   "record type",
	"種別コード":   "business type",
	"コード区分":   "character code",
	"委託者コード":  "remitter code",
	"委託者名":    "remitter name",
	"振込指定日":   "transfer date",
	"仕向銀行番号":  "remitter bank code",
	"仕向銀行名":   "remitter bank name",
	"仕向支店番号":  "remitter branch code",
	"仕向支店名":   "remitter branch name",
	"預金種目":    "account type",
	"口座番号":    "account number",
	"ダミー":     "filler",
	"被仕向銀行番号": "bank code",
	"被仕向銀行名":  "bank name",
	"被仕向支店番号": "branch code",
	"被仕向支店名":  "branch name",
	"手形交換所番号": "clearing house",
	"受取人名":    "holder name",
	"振込金額":    "amount",
	"新規コード":   "new code",
	"顧客コード1":  "customer code 1",
	"顧客コード2":  "customer code 2",
	"振込指定区分":  "transfer method",
	"識別表示":    "EDI flag",
	"合計件数":    "total count",
	"合計金額":    "total amount",
}
