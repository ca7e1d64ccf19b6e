package zengin

import "fmt"

// HolderWidth is the width in bytes of 受取人名 (the payee's name) in a data record.
const HolderWidth = 30

// CheckName reports whether s can be written into a name field of width
// bytes exactly as given (no conversion): every character in the 全銀 set,
// one byte each, and not longer than the field. Merchant registration calls
// it so that a holder name a bank file cannot carry is refused when it is
// entered, not on payday.
func CheckName(field, s string, width int) error {
	if s == "" {
		return &FieldError{Field: field, Value: s, Reason: "empty name", Kind: KindValue}
	}
	n := 0
	for _, r := range s {
		n++
		if _, ok := encodeRune(r); !ok || r == 'ｦ' || r == 'ｰ' || (r >= 0xFF67 && r <= 0xFF6F) {
			return &FieldError{Field: field, Value: s, Reason: whyNot(r, n), Kind: KindCharset}
		}
	}
	if n > width {
		return &FieldError{Field: field, Value: s, Reason: fmt.Sprintf("%d characters, the field holds %d", n, width), Kind: KindTooLong}
	}
	return nil
}
