package zengin

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// charset is the 全銀 character set of C fields, as Unicode: half-width
// katakana ｱ-ﾝ with the voicing marks ﾞ ﾟ, A-Z, 0-9, space and the symbols
// ( ) - . / , \ ｢ ｣. '¥' is accepted too, as another spelling of '\'
// (byte 0x5C).
const charset = " 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ()-./,\\｢｣" +
	"ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝﾞﾟ"

// Encoding tables, built once from x/text's Shift_JIS codec so that the
// bytes are the codec's, not hand arithmetic.
var (
	asciiByte [utf8.RuneSelf]byte // rune -> byte for ASCII members; 0 = not allowed
	kanaByte  [0xFFA0 - 0xFF61]byte
	byteRune  [256]rune // byte -> rune for allowed bytes; 0 = not allowed
)

func init() {
	enc := japanese.ShiftJIS.NewEncoder()
	dec := japanese.ShiftJIS.NewDecoder()
	for _, r := range charset {
		b, err := enc.Bytes([]byte(string(r)))
		if err != nil || len(b) != 1 {
			panic(fmt.Sprintf("zengin: Shift_JIS encodes %q as % x, %v", r, b, err))
		}
		back, err := dec.Bytes(b)
		if err != nil || string(back) != string(r) {
			panic(fmt.Sprintf("zengin: Shift_JIS decodes % x as %q, %v", b, back, err))
		}
		if r < utf8.RuneSelf {
			asciiByte[r] = b[0]
		} else {
			kanaByte[r-0xFF61] = b[0]
		}
		byteRune[b[0]] = r
	}
	for _, l := range []layout{headerLayout, dataLayout, trailerLayout, endLayout} {
		if end := l[len(l)-1].off + l[len(l)-1].width; end != RecordLen {
			panic(fmt.Sprintf("zengin: layout sums to %d bytes, want %d", end, RecordLen))
		}
	}
}

// encodeRune is the one-byte Shift_JIS (JIS X 0201) code of r when r is
// in the 全銀 set.
func encodeRune(r rune) (byte, bool) {
	switch {
	case r < utf8.RuneSelf:
		b := asciiByte[r]
		return b, b != 0
	case r >= 0xFF61 && r < 0xFFA0:
		b := kanaByte[r-0xFF61]
		return b, b != 0
	case r == '¥':
		return asciiByte['\\'], true
	}
	return 0, false
}

// whyNot explains why r is outside the 全銀 set.
func whyNot(r rune, pos int) string {
	at := fmt.Sprintf("%q (U+%04X)", r, r)
	if pos > 0 {
		at += fmt.Sprintf(" at character %d", pos)
	}
	switch {
	case r >= 'a' && r <= 'z':
		return "lowercase letter " + at + ": only A-Z are allowed (NormalizeKana converts)"
	case r >= 0xFF67 && r <= 0xFF6F:
		return "small kana " + at + ": banks accept only large kana (NormalizeKana converts)"
	case r == 'ｰ':
		return "long vowel mark " + at + " is not allowed: write '-' (NormalizeKana converts)"
	case r == 'ｦ':
		return at + " is not accepted in names: banks register ｵ (NormalizeKana converts)"
	case r == utf8.RuneError:
		return "invalid UTF-8 " + at
	case r >= 0x3000 || (r >= 0xFF01 && r <= 0xFF60) || r >= 0xFFE0:
		return "full-width character " + at + ": names must be half-width katakana, A-Z, 0-9 (NormalizeKana converts kana and ASCII)"
	}
	return at + ` is not in the 全銀 character set (half-width ｱ-ﾝ ﾞ ﾟ, A-Z, 0-9, space, ( ) - . / , \ ｢ ｣)`
}

// largeKana is the large form of the small half-width kana ｧｨｩｪｫｬｭｮｯ.
var largeKana = [...]rune{'ｱ', 'ｲ', 'ｳ', 'ｴ', 'ｵ', 'ﾔ', 'ﾕ', 'ﾖ', 'ﾂ'}

// NormalizeKana converts a name to the 全銀 character set, or says which
// character cannot be converted:
//
//   - full-width katakana and hiragana become half-width katakana, a
//     voiced kana becoming two characters (ガ -> ｶﾞ, ヴ -> ｳﾞ);
//   - small kana become large (ァ/ｧ -> ｱ, ッ/ｯ -> ﾂ, ャ/ｬ -> ﾔ, ヵ -> ｶ ...);
//   - full-width ASCII becomes half-width, a-z become A-Z, the ideographic
//     space a space, 「」 become ｢｣, ￥ becomes ¥;
//   - the long vowel mark ー/ｰ and dashes (‐ – — ― −) become '-';
//   - ヲ/ｦ becomes ｵ, the reading banks register.
//
// Kanji, the middle dot ・, iteration marks and other symbols are errors
// (*FieldError, Kind KindCharset, Record 0): a person has to decide how
// to write them. The result is not trimmed or cut to any field width.
func NormalizeKana(s string) (string, error) {
	// Split voiced kana (ガ -> カ + U+3099), fold hiragana and the small
	// kana that have no half-width form into full-width katakana, then
	// narrow.
	var pre strings.Builder
	for _, r := range norm.NFD.String(s) {
		if r >= 0x3041 && r <= 0x3096 { // hiragana -> katakana
			r += 0x60
		}
		switch r {
		case 'ヮ':
			r = 'ワ'
		case 'ヵ':
			r = 'カ'
		case 'ヶ':
			r = 'ケ'
		}
		pre.WriteRune(r)
	}
	var out strings.Builder
	out.Grow(pre.Len())
	for _, r := range width.Narrow.String(pre.String()) {
		switch {
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		case r == 0x3099 || r == 0x309B: // combining / spacing voiced mark
			r = 'ﾞ'
		case r == 0x309A || r == 0x309C: // combining / spacing semi-voiced mark
			r = 'ﾟ'
		case r >= 0xFF67 && r <= 0xFF6F:
			r = largeKana[r-0xFF67]
		case r == 'ｦ':
			r = 'ｵ'
		case r == 'ｰ' || r == 0x2010 || r == 0x2011 || r == 0x2012 || r == 0x2013 ||
			r == 0x2014 || r == 0x2015 || r == 0x2212:
			r = '-'
		}
		if _, ok := encodeRune(r); !ok {
			return "", &FieldError{Value: s, Reason: whyNot(r, 0), Kind: KindCharset}
		}
		out.WriteRune(r)
	}
	return out.String(), nil
}
