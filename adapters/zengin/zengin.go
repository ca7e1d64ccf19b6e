package zengin

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
)

// RecordLen is the length of every record, without its CR LF.
const RecordLen = 120

// Limits of the numeric fields.
const (
	MaxAmount = 9_999_999_999   // 振込金額 N(10), yen
	MaxCount  = 999_999         // 合計件数 N(6)
	MaxTotal  = 999_999_999_999 // 合計金額 N(12), yen
)

// Fixed values written, and the codes each record allows.
const (
	typeCode  = "21"   // 種別コード: 総合振込
	codeJIS   = "0"    // コード区分: JIS
	newCode   = "0"    // 新規コード: その他
	telegraph = "7"    // 振込指定区分: 電信
	hdrTypes  = "129"  // 預金種目 allowed in the header
	dataTypes = "1249" // 預金種目 allowed in a data record

	kindHdr  = '1' // データ区分 of each record
	kindData = '2'
	kindTrl  = '8'
	kindEnd  = '9'

	space   = ' '
	zeros10 = "0000000000"
	crlf    = "\r\n"
)

// AccountType is 預金種目.
type AccountType uint8

const (
	AccountOrdinary AccountType = 1 // 普通預金
	AccountChecking AccountType = 2 // 当座預金
	AccountSavings  AccountType = 4 // 貯蓄預金 (data records only)
	AccountOther    AccountType = 9 // その他
)

// Remitter is the 委託者 block of the header: the company paying, and the
// account the bank debits.
type Remitter struct {
	Code          string      // 委託者コード: the 10 digits the bank assigned
	Name          string      // 委託者名: 全銀 kana, at most 40 characters
	BankCode      string      // 仕向銀行番号: 4 digits
	BankName      string      // 仕向銀行名: 全銀 kana, at most 15, may be empty
	BranchCode    string      // 仕向支店番号: 3 digits
	BranchName    string      // 仕向支店名: 全銀 kana, at most 15, may be empty
	AccountType   AccountType // 預金種目: 1, 2 or 9
	AccountNumber string      // 口座番号: 7 digits
}

// Transfer is one data record: one payment to one account.
type Transfer struct {
	BankCode      string      // 被仕向銀行番号: 4 digits
	BankName      string      // 被仕向銀行名: 全銀 kana, at most 15, may be empty
	BranchCode    string      // 被仕向支店番号: 3 digits
	BranchName    string      // 被仕向支店名: 全銀 kana, at most 15, may be empty
	AccountType   AccountType // 預金種目: 1, 2, 4 or 9
	AccountNumber string      // 口座番号: 7 digits
	HolderName    string      // 受取人名: 全銀 kana, at most 30 characters
	Amount        int64       // 振込金額: yen, 1..9,999,999,999
	// 顧客コード1/2: optional, at most 10 digits (e.g. the merchant id).
	// Written zero-filled on the left; Decode returns all 10 digits, and
	// "" when the field is blank.
	CustomerCode1 string
	CustomerCode2 string
}

// File is one 総合振込 file: a header, the transfers, and the trailer and
// end records that Encode derives.
type File struct {
	Remitter
	// TransferDate is 振込指定日 as the file carries it, "MMDD". It is a
	// string because the file has no year (see the package comment).
	TransferDate string
	Transfers    []Transfer
}

// Options tune Encode.
type Options struct {
	// NoCRLF writes the 120-byte records back to back instead of ending
	// each with CR LF.
	NoCRLF bool
}

// TransferDateOf is the MMDD of t, in t's location.
func TransferDateOf(t time.Time) string { return t.Format("0102") }

// field is one field of a record: its name in the layout, its 0-based
// offset and its width in bytes.
type field struct {
	name       string
	off, width int
}

type layout []field

// newLayout lays the fields end to end; init checks that each layout
// sums to RecordLen.
func newLayout(fs ...field) layout {
	off := 0
	for i := range fs {
		fs[i].off = off
		off += fs[i].width
	}
	return fs
}

func fld(name string, width int) field { return field{name: name, width: width} }

var headerLayout = newLayout(
	fld("データ区分", 1), fld("種別コード", 2), fld("コード区分", 1),
	fld("委託者コード", 10), fld("委託者名", 40), fld("振込指定日", 4),
	fld("仕向銀行番号", 4), fld("仕向銀行名", 15),
	fld("仕向支店番号", 3), fld("仕向支店名", 15),
	fld("預金種目", 1), fld("口座番号", 7), fld("ダミー", 17),
)

const (
	hKind = iota
	hType
	hCodeKind
	hCode
	hName
	hDate
	hBank
	hBankName
	hBranch
	hBranchName
	hAcctType
	hAcct
	hDummy
)

var dataLayout = newLayout(
	fld("データ区分", 1), fld("被仕向銀行番号", 4), fld("被仕向銀行名", 15),
	fld("被仕向支店番号", 3), fld("被仕向支店名", 15), fld("手形交換所番号", 4),
	fld("預金種目", 1), fld("口座番号", 7), fld("受取人名", 30), fld("振込金額", 10),
	fld("新規コード", 1), fld("顧客コード1", 10), fld("顧客コード2", 10),
	fld("振込指定区分", 1), fld("識別表示", 1), fld("ダミー", 7),
)

const (
	dKind = iota
	dBank
	dBankName
	dBranch
	dBranchName
	dClearing
	dAcctType
	dAcct
	dHolder
	dAmount
	dNewCode
	dCust1
	dCust2
	dMethod
	dEDI
	dDummy
)

var trailerLayout = newLayout(fld("データ区分", 1), fld("合計件数", 6), fld("合計金額", 12), fld("ダミー", 101))

const (
	tKind = iota
	tCount
	tTotal
	tDummy
)

var endLayout = newLayout(fld("データ区分", 1), fld("ダミー", 119))

const (
	eKind = iota
	eDummy
)

// Encode writes f as a 総合振込 file. It checks every field first and
// returns the first problem, in file order, as a *FieldError; it never
// truncates or replaces a character.
func Encode(f File, opt Options) ([]byte, error) {
	n := len(f.Transfers)
	if n == 0 {
		return nil, &FieldError{Record: 2, Reason: "no transfers: a file needs at least one data record", Kind: KindStructure}
	}
	if n > MaxCount {
		return nil, fieldErr(KindTotalTooBig, n+2, trailerLayout[tCount], strconv.Itoa(n),
			"%d transfers; the trailer counts at most %d: split the file", n, MaxCount)
	}
	line := RecordLen
	if !opt.NoCRLF {
		line += len(crlf)
	}
	out := make([]byte, 0, (n+3)*line)
	w := recWriter{}
	emit := func() {
		out = append(out, w.rec[:]...)
		if !opt.NoCRLF {
			out = append(out, crlf...)
		}
	}

	h := headerLayout
	w.start(1, kindHdr)
	w.lit(h[hType], typeCode)
	w.lit(h[hCodeKind], codeJIS)
	w.digits(h[hCode], f.Code)
	w.text(h[hName], f.Name, true)
	w.date(h[hDate], f.TransferDate)
	w.digits(h[hBank], f.BankCode)
	w.text(h[hBankName], f.BankName, false)
	w.digits(h[hBranch], f.BranchCode)
	w.text(h[hBranchName], f.BranchName, false)
	w.accountType(h[hAcctType], f.AccountType, hdrTypes)
	w.digits(h[hAcct], f.AccountNumber)
	if w.err != nil {
		return nil, w.err
	}
	emit()

	d := dataLayout
	var total int64
	for i := range f.Transfers {
		t := &f.Transfers[i]
		w.start(i+2, kindData)
		w.digits(d[dBank], t.BankCode)
		w.text(d[dBankName], t.BankName, false)
		w.digits(d[dBranch], t.BranchCode)
		w.text(d[dBranchName], t.BranchName, false)
		w.accountType(d[dAcctType], t.AccountType, dataTypes)
		w.digits(d[dAcct], t.AccountNumber)
		w.text(d[dHolder], t.HolderName, true)
		w.amount(d[dAmount], t.Amount)
		w.lit(d[dNewCode], newCode)
		w.optDigits(d[dCust1], t.CustomerCode1)
		w.optDigits(d[dCust2], t.CustomerCode2)
		w.lit(d[dMethod], telegraph)
		if w.err != nil {
			return nil, w.err
		}
		total += t.Amount
		emit()
	}

	tl := trailerLayout
	if total > MaxTotal {
		return nil, fieldErr(KindTotalTooBig, n+2, tl[tTotal], strconv.FormatInt(total, 10),
			"total %d yen; the trailer holds at most %d: split the file", total, int64(MaxTotal))
	}
	w.start(n+2, kindTrl)
	w.number(tl[tCount], int64(n))
	w.number(tl[tTotal], total)
	emit()

	w.start(n+3, kindEnd)
	emit()
	return out, nil
}

// recWriter fills one record; the first error sticks.
type recWriter struct {
	rec [RecordLen]byte
	n   int // record number
	err *FieldError
}

func (w *recWriter) start(n int, kind byte) {
	w.n = n
	w.err = nil
	for i := range w.rec {
		w.rec[i] = space
	}
	w.rec[0] = kind
}

func (w *recWriter) fail(kind Kind, f field, value, format string, args ...any) {
	if w.err == nil {
		w.err = fieldErr(kind, w.n, f, value, format, args...)
	}
}

func (w *recWriter) lit(f field, s string) { copy(w.rec[f.off:f.off+f.width], s) }

// digits writes a code that must have exactly the field's width.
func (w *recWriter) digits(f field, s string) {
	if w.err != nil {
		return
	}
	if reason := checkDigits(s, f.width); reason != "" {
		w.fail(KindNumeric, f, s, "%s", reason)
		return
	}
	copy(w.rec[f.off:], s)
}

// optDigits writes an optional code of up to the field's width,
// zero-filled on the left; "" leaves the field blank.
func (w *recWriter) optDigits(f field, s string) {
	if w.err != nil || s == "" {
		return
	}
	if len(s) > f.width {
		w.fail(KindNumeric, f, s, "%d digits, the field holds at most %d", len(s), f.width)
		return
	}
	if reason := checkDigits(s, len(s)); reason != "" {
		w.fail(KindNumeric, f, s, "%s", reason)
		return
	}
	pad := f.width - len(s)
	copy(w.rec[f.off:], zeros10[:pad])
	copy(w.rec[f.off+pad:], s)
}

// number writes 0 <= v < 10^width, right-aligned and zero-filled.
func (w *recWriter) number(f field, v int64) {
	for i := f.off + f.width - 1; i >= f.off; i-- {
		w.rec[i] = byte('0' + v%10)
		v /= 10
	}
}

func (w *recWriter) amount(f field, v int64) {
	if w.err != nil {
		return
	}
	switch {
	case v <= 0:
		w.fail(KindAmount, f, strconv.FormatInt(v, 10), "amount must be at least 1 yen")
	case v > MaxAmount:
		w.fail(KindAmountTooBig, f, strconv.FormatInt(v, 10), "amount above %d yen does not fit 10 digits", int64(MaxAmount))
	default:
		w.number(f, v)
	}
}

func (w *recWriter) date(f field, s string) {
	if w.err != nil {
		return
	}
	if reason := checkDigits(s, f.width); reason != "" {
		w.fail(KindNumeric, f, s, "%s (MMDD)", reason)
		return
	}
	if reason := checkMMDD(s); reason != "" {
		w.fail(KindValue, f, s, "%s", reason)
		return
	}
	copy(w.rec[f.off:], s)
}

func (w *recWriter) accountType(f field, t AccountType, allowed string) {
	if w.err != nil {
		return
	}
	if t > 9 || strings.IndexByte(allowed, byte('0'+t)) < 0 {
		w.fail(KindValue, f, strconv.Itoa(int(t)), "%s", accountTypeReason(allowed))
		return
	}
	w.rec[f.off] = byte('0' + t)
}

// text writes a name: every character in the 全銀 set, at most the
// field's width (each is one byte), left-aligned.
func (w *recWriter) text(f field, s string, required bool) {
	if w.err != nil {
		return
	}
	if required && strings.TrimRight(s, " ") == "" {
		w.fail(KindValue, f, s, "required: the name is empty")
		return
	}
	count := 0
	for _, r := range s {
		count++
		if _, ok := encodeRune(r); !ok {
			w.fail(KindCharset, f, s, "%s", whyNot(r, count))
			return
		}
	}
	if count > f.width {
		// Trailing spaces are padding anyway; only real characters count.
		if trimmed := strings.TrimRight(s, " "); utf8.RuneCountInString(trimmed) <= f.width {
			s = trimmed
		} else {
			w.fail(KindTooLong, f, s, "%d characters, the field holds %d", count, f.width)
			return
		}
	}
	i := f.off
	for _, r := range s {
		w.rec[i], _ = encodeRune(r)
		i++
	}
}

func checkDigits(s string, width int) string {
	if len(s) != width {
		return "want " + strconv.Itoa(width) + " digits, got " + strconv.Itoa(len(s)) + " bytes"
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "non-digit " + strconv.QuoteRune(rune(s[i])) + " at byte " + strconv.Itoa(i+1)
		}
	}
	return ""
}

var monthDays = [12]int{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// checkMMDD checks four digits are a calendar month and day; 0229 passes
// because the year is unknown.
func checkMMDD(s string) string {
	m := int(s[0]-'0')*10 + int(s[1]-'0')
	d := int(s[2]-'0')*10 + int(s[3]-'0')
	if m < 1 || m > 12 {
		return "month " + s[:2] + " is not 01-12 (MMDD)"
	}
	if d < 1 || d > monthDays[m-1] {
		return "day " + s[2:] + " does not exist in month " + s[:2] + " (MMDD)"
	}
	return ""
}

func accountTypeReason(allowed string) string {
	names := map[byte]string{'1': "1 普通", '2': "2 当座", '4': "4 貯蓄", '9': "9 その他"}
	parts := make([]string, 0, len(allowed))
	for i := 0; i < len(allowed); i++ {
		parts = append(parts, names[allowed[i]])
	}
	return "預金種目 must be one of " + strings.Join(parts, ", ")
}

// Decode reads a 総合振込 file written in this layout, with or without
// CR LF after each record. It checks every field as Encode does, that the
// records come in order (header, data..., trailer, end, nothing after),
// and that the trailer's count and total match the data records. Errors
// are *FieldError.
func Decode(data []byte) (File, error) {
	recs, err := splitRecords(data)
	if err != nil {
		return File{}, err
	}
	var f File
	r := recReader{}

	h := headerLayout
	r.start(recs[0], 1)
	r.kind(h[hKind], kindHdr, "1 (header)")
	r.lit(h[hType], typeCode, "only 21 (総合振込) is supported")
	r.lit(h[hCodeKind], codeJIS, "only 0 (JIS) is supported")
	f.Code = r.digits(h[hCode])
	f.Name = r.text(h[hName], true)
	f.TransferDate = r.date(h[hDate])
	f.BankCode = r.digits(h[hBank])
	f.BankName = r.text(h[hBankName], false)
	f.BranchCode = r.digits(h[hBranch])
	f.BranchName = r.text(h[hBranchName], false)
	f.AccountType = r.accountType(h[hAcctType], hdrTypes)
	f.AccountNumber = r.digits(h[hAcct])
	r.blank(h[hDummy])
	if r.err != nil {
		return File{}, r.err
	}

	d := dataLayout
	i := 1
	for i < len(recs) && recs[i][0] == kindData {
		i++
	}
	f.Transfers = make([]Transfer, 0, i-1)
	var total int64
	for j := 1; j < i; j++ {
		r.start(recs[j], j+1)
		var t Transfer
		t.BankCode = r.digits(d[dBank])
		t.BankName = r.text(d[dBankName], false)
		t.BranchCode = r.digits(d[dBranch])
		t.BranchName = r.text(d[dBranchName], false)
		r.clearing(d[dClearing])
		t.AccountType = r.accountType(d[dAcctType], dataTypes)
		t.AccountNumber = r.digits(d[dAcct])
		t.HolderName = r.text(d[dHolder], true)
		t.Amount = r.amount(d[dAmount])
		r.oneOf(d[dNewCode], "012 ", "新規コード must be 0, 1, 2 or blank")
		t.CustomerCode1 = r.optDigits(d[dCust1])
		t.CustomerCode2 = r.optDigits(d[dCust2])
		r.oneOf(d[dMethod], "78 ", "振込指定区分 must be 7 (電信), 8 (文書) or blank")
		r.oneOf(d[dEDI], " ", "only a blank 識別表示 is supported (Y = EDI information is not)")
		r.blank(d[dDummy])
		if r.err != nil {
			return File{}, r.err
		}
		total += t.Amount
		f.Transfers = append(f.Transfers, t)
	}

	if i == len(recs) {
		return File{}, &FieldError{Record: i + 1, Reason: "file ends before the trailer record", Kind: KindStructure}
	}
	tl := trailerLayout
	r.start(recs[i], i+1)
	r.kind(tl[tKind], kindTrl, "2 (data) or 8 (trailer)")
	if r.err != nil {
		return File{}, r.err
	}
	if i == 1 {
		return File{}, &FieldError{Record: 2, Reason: "no data records before the trailer", Kind: KindStructure}
	}
	count := r.digits(tl[tCount])
	sum := r.digits(tl[tTotal])
	r.blank(tl[tDummy])
	if r.err != nil {
		return File{}, r.err
	}
	if c, _ := strconv.Atoi(count); c != len(f.Transfers) {
		return File{}, fieldErr(KindTotals, i+1, tl[tCount], count,
			"trailer counts %d transfers, the file has %d data records", c, len(f.Transfers))
	}
	if s, _ := strconv.ParseInt(sum, 10, 64); s != total {
		return File{}, fieldErr(KindTotals, i+1, tl[tTotal], sum,
			"trailer total is %d yen, the data records add up to %d", s, total)
	}
	i++

	if i == len(recs) {
		return File{}, &FieldError{Record: i + 1, Reason: "file ends before the end record", Kind: KindStructure}
	}
	r.start(recs[i], i+1)
	r.kind(endLayout[eKind], kindEnd, "9 (end)")
	r.blank(endLayout[eDummy])
	if r.err != nil {
		return File{}, r.err
	}
	if i++; i < len(recs) {
		return File{}, &FieldError{Record: i + 1, Value: display(recs[i][:1]), Reason: "record after the end record", Kind: KindStructure}
	}
	return f, nil
}

// splitRecords cuts data into 120-byte records. The first separator
// decides: CR LF after every record (the last one may lack it), or none.
func splitRecords(data []byte) ([][]byte, error) {
	if len(data) == 0 {
		return nil, &FieldError{Record: 1, Reason: "empty file", Kind: KindStructure}
	}
	withCRLF := len(data) > RecordLen && (data[RecordLen] == '\r' || data[RecordLen] == '\n')
	step := RecordLen
	if withCRLF {
		step += len(crlf)
	}
	recs := make([][]byte, 0, len(data)/step+1)
	for pos := 0; pos < len(data); pos += step {
		n := len(recs) + 1
		rest := data[pos:]
		if len(rest) < RecordLen {
			return nil, &FieldError{Record: n, Value: display(rest),
				Reason: "record is " + strconv.Itoa(len(rest)) + " bytes, want 120", Kind: KindStructure}
		}
		rec := rest[:RecordLen]
		for k, b := range rec {
			if b == '\r' || b == '\n' {
				return nil, &FieldError{Record: n, Value: display(rec[:k]),
					Reason: "line break at byte " + strconv.Itoa(k+1) + ": the record is shorter than 120 bytes", Kind: KindStructure}
			}
		}
		recs = append(recs, rec)
		if withCRLF {
			sep := rest[RecordLen:]
			if len(sep) == 0 {
				break
			}
			if len(sep) < 2 || sep[0] != '\r' || sep[1] != '\n' {
				return nil, &FieldError{Record: n, Value: display(sep[:min(2, len(sep))]),
					Reason: "record not followed by CR LF (records end with CR LF or with nothing; CR alone and LF alone are refused)",
					Kind:   KindStructure}
			}
		}
	}
	return recs, nil
}

// display reads raw field bytes for an error message.
func display(raw []byte) string {
	s, err := japanese.ShiftJIS.NewDecoder().Bytes(raw)
	if err != nil {
		return strconv.Quote(string(raw))
	}
	return string(s)
}

// recReader reads one record's fields; the first error sticks.
type recReader struct {
	rec []byte
	n   int
	err *FieldError
}

func (r *recReader) start(rec []byte, n int) {
	r.rec, r.n, r.err = rec, n, nil
}

func (r *recReader) raw(f field) []byte { return r.rec[f.off : f.off+f.width] }

func (r *recReader) fail(kind Kind, f field, format string, args ...any) {
	if r.err == nil {
		r.err = fieldErr(kind, r.n, f, display(r.raw(f)), format, args...)
	}
}

func (r *recReader) kind(f field, want byte, what string) {
	if r.err == nil && r.rec[f.off] != want {
		r.fail(KindStructure, f, "want データ区分 %s here", what)
	}
}

func (r *recReader) lit(f field, want, reason string) {
	if r.err == nil && string(r.raw(f)) != want {
		r.fail(KindValue, f, "%s", reason)
	}
}

func (r *recReader) blank(f field) {
	if r.err != nil {
		return
	}
	for k, b := range r.raw(f) {
		if b != space {
			r.fail(KindValue, f, "filler must be spaces, byte %d is 0x%02X", k+1, b)
			return
		}
	}
}

func (r *recReader) oneOf(f field, allowed, reason string) byte {
	if r.err != nil {
		return 0
	}
	b := r.rec[f.off]
	if strings.IndexByte(allowed, b) < 0 {
		r.fail(KindValue, f, "%s", reason)
	}
	return b
}

func (r *recReader) digits(f field) string {
	if r.err != nil {
		return ""
	}
	s := string(r.raw(f))
	if reason := checkDigits(s, f.width); reason != "" {
		r.fail(KindNumeric, f, "%s", reason)
		return ""
	}
	return s
}

func (r *recReader) optDigits(f field) string {
	if r.err != nil {
		return ""
	}
	raw := r.raw(f)
	if strings.Trim(string(raw), " ") == "" {
		return ""
	}
	return r.digits(f)
}

// clearing accepts 手形交換所番号 blank or four digits, and ignores it.
func (r *recReader) clearing(f field) {
	if r.err == nil && strings.Trim(string(r.raw(f)), " ") != "" {
		r.digits(f)
	}
}

func (r *recReader) date(f field) string {
	s := r.digits(f)
	if s == "" {
		return ""
	}
	if reason := checkMMDD(s); reason != "" {
		r.fail(KindValue, f, "%s", reason)
		return ""
	}
	return s
}

func (r *recReader) accountType(f field, allowed string) AccountType {
	b := r.oneOf(f, allowed, accountTypeReason(allowed))
	if r.err != nil {
		return 0
	}
	return AccountType(b - '0')
}

func (r *recReader) amount(f field) int64 {
	s := r.digits(f)
	if s == "" {
		return 0
	}
	v, _ := strconv.ParseInt(s, 10, 64) // ten digits always fit
	if v <= 0 {
		r.fail(KindAmount, f, "amount must be at least 1 yen")
		return 0
	}
	return v
}

// text reads a name: each byte must be a 全銀 character; trailing spaces
// are padding.
func (r *recReader) text(f field, required bool) string {
	if r.err != nil {
		return ""
	}
	raw := r.raw(f)
	end := len(raw)
	for end > 0 && raw[end-1] == space {
		end--
	}
	if end == 0 {
		if required {
			r.fail(KindValue, f, "required: the name is blank")
		}
		return ""
	}
	var b strings.Builder
	b.Grow(end * 3)
	for k, c := range raw[:end] {
		ru := byteRune[c]
		if ru == 0 {
			if c < 0x80 || (c >= 0xA1 && c <= 0xDF) { // a JIS X 0201 character, just not a 全銀 one
				ch, _ := utf8.DecodeRuneInString(display([]byte{c}))
				r.fail(KindCharset, f, "byte 0x%02X: %s", c, whyNot(ch, k+1))
			} else {
				r.fail(KindCharset, f, "byte 0x%02X at byte %d of the field is not a 全銀 character (Shift_JIS double-byte characters such as kanji are not allowed)", c, k+1)
			}
			return ""
		}
		b.WriteRune(ru)
	}
	return b.String()
}
