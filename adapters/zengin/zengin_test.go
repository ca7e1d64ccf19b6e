package zengin

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"
)

var update = flag.Bool("update", false, "rewrite testdata/sample.txt and the FuzzDecode seeds in testdata/fuzz")

// sampleFile is the file of the golden test and the hand-made records.
func sampleFile() File {
	return File{
		Remitter: Remitter{
			Code: "1234567890", Name: "ｶ)ﾕﾍﾟｲ",
			BankCode: "0005", BankName: "ﾐﾂﾋﾞｼUFJ",
			BranchCode: "001", BranchName: "ﾎﾝﾃﾝ",
			AccountType: AccountOrdinary, AccountNumber: "1234567",
		},
		TransferDate: "0325",
		Transfers: []Transfer{
			{
				BankCode: "0001", BankName: "ﾐｽﾞﾎ", BranchCode: "110", BranchName: "ｼﾌﾞﾔ",
				AccountType: AccountOrdinary, AccountNumber: "7654321",
				HolderName: "ﾔﾏﾀﾞ ﾀﾛｳ", Amount: 328710, CustomerCode1: "0270212122",
			},
			{
				BankCode: "0009", BankName: "ﾐﾂｲｽﾐﾄﾓ", BranchCode: "250", BranchName: "ｵｵｻｶ",
				AccountType: AccountChecking, AccountNumber: "0000123",
				HolderName: "ｻﾄｳｼﾖｳｼﾞ(ﾕ", Amount: MaxAmount,
				CustomerCode1: "0000000001", CustomerCode2: "1234567890",
			},
		},
	}
}

// piece is a field of a hand-made record: its 1-based position as the
// bank manuals print it, its width, and its bytes (padded to the width
// with spaces by the test, never by the encoder).
type piece struct {
	pos, width int
	name       string
	bytes      string
}

// handRecord lays pieces end to end and checks that each starts where the
// manual says and that the record is 120 bytes.
func handRecord(t *testing.T, pieces ...piece) []byte {
	t.Helper()
	var b []byte
	for _, p := range pieces {
		if p.pos != len(b)+1 {
			t.Fatalf("hand layout: %s at position %d, but the previous fields end at %d", p.name, p.pos, len(b))
		}
		if len(p.bytes) > p.width {
			t.Fatalf("hand layout: %s is %d bytes, wider than %d", p.name, len(p.bytes), p.width)
		}
		b = append(b, p.bytes...)
		b = append(b, strings.Repeat(" ", p.width-len(p.bytes))...)
	}
	if len(b) != 120 {
		t.Fatalf("hand layout: record is %d bytes", len(b))
	}
	return b
}

// compareRecord reports which hand-made field differs first.
func compareRecord(t *testing.T, what string, got, want []byte, pieces []piece) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	for _, p := range pieces {
		g, w := got[p.pos-1:p.pos-1+p.width], want[p.pos-1:p.pos-1+p.width]
		if !bytes.Equal(g, w) {
			t.Errorf("%s: %s (pos %d, %d bytes) = %q, want %q", what, p.name, p.pos, p.width, g, w)
		}
	}
}

// TestHandMadeRecords builds the sample file's four kinds of record by
// hand, byte by byte from the published layout, and compares each field
// with the encoder's output; then decodes the hand-made file.
func TestHandMadeRecords(t *testing.T) {
	// Half-width katakana in Shift_JIS are U+FF61..U+FF9F -> 0xA1..0xDF,
	// written here as escapes: ｶ B6, ﾕ D5, ﾍ CD, ﾟ DF, ｲ B2, ﾐ D0, ﾂ C2,
	// ﾋ CB, ﾞ DE, ｼ BC, ﾎ CE, ﾝ DD, ﾃ C3, ｽ BD, ﾌ CC, ﾔ D4, ﾏ CF, ﾀ C0,
	// ﾛ DB, ｳ B3, ﾄ C4, ﾓ D3, ｵ B5, ｻ BB, ﾖ D6.
	header := []piece{
		{1, 1, "データ区分", "1"},
		{2, 2, "種別コード", "21"},
		{4, 1, "コード区分", "0"},
		{5, 10, "委託者コード", "1234567890"},
		{15, 40, "委託者名", "\xb6)\xd5\xcd\xdf\xb2"}, // ｶ)ﾕﾍﾟｲ
		{55, 4, "振込指定日", "0325"},
		{59, 4, "仕向銀行番号", "0005"},
		{63, 15, "仕向銀行名", "\xd0\xc2\xcb\xde\xbcUFJ"}, // ﾐﾂﾋﾞｼUFJ
		{78, 3, "仕向支店番号", "001"},
		{81, 15, "仕向支店名", "\xce\xdd\xc3\xdd"}, // ﾎﾝﾃﾝ
		{96, 1, "預金種目", "1"},
		{97, 7, "口座番号", "1234567"},
		{104, 17, "ダミー", ""},
	}
	data1 := []piece{
		{1, 1, "データ区分", "2"},
		{2, 4, "被仕向銀行番号", "0001"},
		{6, 15, "被仕向銀行名", "\xd0\xbd\xde\xce"}, // ﾐｽﾞﾎ
		{21, 3, "被仕向支店番号", "110"},
		{24, 15, "被仕向支店名", "\xbc\xcc\xde\xd4"}, // ｼﾌﾞﾔ
		{39, 4, "手形交換所番号", ""},
		{43, 1, "預金種目", "1"},
		{44, 7, "口座番号", "7654321"},
		{51, 30, "受取人名", "\xd4\xcf\xc0\xde \xc0\xdb\xb3"}, // ﾔﾏﾀﾞ ﾀﾛｳ
		{81, 10, "振込金額", "0000328710"},
		{91, 1, "新規コード", "0"},
		{92, 10, "顧客コード1", "0270212122"},
		{102, 10, "顧客コード2", ""},
		{112, 1, "振込指定区分", "7"},
		{113, 1, "識別表示", ""},
		{114, 7, "ダミー", ""},
	}
	data2 := []piece{
		{1, 1, "データ区分", "2"},
		{2, 4, "被仕向銀行番号", "0009"},
		{6, 15, "被仕向銀行名", "\xd0\xc2\xb2\xbd\xd0\xc4\xd3"}, // ﾐﾂｲｽﾐﾄﾓ
		{21, 3, "被仕向支店番号", "250"},
		{24, 15, "被仕向支店名", "\xb5\xb5\xbb\xb6"}, // ｵｵｻｶ
		{39, 4, "手形交換所番号", ""},
		{43, 1, "預金種目", "2"},
		{44, 7, "口座番号", "0000123"},
		{51, 30, "受取人名", "\xbb\xc4\xb3\xbc\xd6\xb3\xbc\xde(\xd5"}, // ｻﾄｳｼﾖｳｼﾞ(ﾕ
		{81, 10, "振込金額", "9999999999"},
		{91, 1, "新規コード", "0"},
		{92, 10, "顧客コード1", "0000000001"},
		{102, 10, "顧客コード2", "1234567890"},
		{112, 1, "振込指定区分", "7"},
		{113, 1, "識別表示", ""},
		{114, 7, "ダミー", ""},
	}
	trailer := []piece{
		{1, 1, "データ区分", "8"},
		{2, 6, "合計件数", "000002"},
		{8, 12, "合計金額", "010000328709"}, // 328,710 + 9,999,999,999
		{20, 101, "ダミー", ""},
	}
	end := []piece{
		{1, 1, "データ区分", "9"},
		{2, 119, "ダミー", ""},
	}
	records := [][]piece{header, data1, data2, trailer, end}
	names := []string{"header", "data 1", "data 2", "trailer", "end"}

	got, err := Encode(sampleFile(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(records)*122 {
		t.Fatalf("encoded %d bytes, want %d (5 records of 120 + CR LF)", len(got), len(records)*122)
	}
	var hand []byte
	for i, pieces := range records {
		want := handRecord(t, pieces...)
		line := got[i*122 : (i+1)*122]
		compareRecord(t, names[i], line[:120], want, pieces)
		if string(line[120:]) != "\r\n" {
			t.Errorf("%s: ends with %q, want CR LF", names[i], line[120:])
		}
		hand = append(append(hand, want...), "\r\n"...)
	}

	f, err := Decode(hand)
	if err != nil {
		t.Fatalf("decode hand-made file: %v", err)
	}
	if want := sampleFile(); !reflect.DeepEqual(f, want) {
		t.Errorf("decode hand-made file:\n got %+v\nwant %+v", f, want)
	}
}

func TestLayoutsAreContiguous(t *testing.T) {
	for _, l := range []layout{headerLayout, dataLayout, trailerLayout, endLayout} {
		off := 0
		for _, f := range l {
			if f.off != off || f.width <= 0 {
				t.Errorf("%s at %d width %d, want offset %d", f.name, f.off, f.width, off)
			}
			off += f.width
		}
		if off != RecordLen {
			t.Errorf("layout starting %s sums to %d", l[0].name, off)
		}
	}
}

func TestGolden(t *testing.T) {
	got, err := Encode(sampleFile(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "sample.txt")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		writeFuzzSeeds(t, got)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("encoded file differs from %s at byte %d (record %d, position %d); run go test -update if the change is intended",
			path, i, i/122+1, i%122+1)
	}
	f, err := Decode(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f, sampleFile()) {
		t.Errorf("decoded golden file:\n got %+v\nwant %+v", f, sampleFile())
	}
}

// writeFuzzSeeds writes the FuzzDecode seed corpus, derived from the
// golden file, in go test's corpus format.
func writeFuzzSeeds(t *testing.T, golden []byte) {
	noCRLF := bytes.ReplaceAll(golden, []byte("\r\n"), nil)
	mutate := func(b []byte, at int, s string) []byte {
		c := bytes.Clone(b)
		copy(c[at:], s)
		return c
	}
	seeds := map[string][]byte{
		"crlf":           golden,
		"no-crlf":        noCRLF,
		"no-final-crlf":  golden[:len(golden)-2],
		"lf-only":        bytes.ReplaceAll(golden, []byte("\r\n"), []byte("\n")),
		"truncated":      golden[:len(golden)-50],
		"empty":          {},
		"bad-total":      mutate(golden, 3*122+7, "000000000001"),
		"bad-count":      mutate(golden, 3*122+1, "000003"),
		"kanji-in-name":  mutate(golden, 122+50, "\x8eR\x93c"), // 山田 in Shift_JIS
		"small-kana":     mutate(golden, 122+50, "\xac"),
		"edi-flag":       mutate(golden, 122+112, "Y"),
		"zero-amount":    mutate(golden, 122+80, "0000000000"),
		"header-only":    golden[:122],
		"end-missing":    golden[:4*122],
		"after-end":      append(bytes.Clone(golden), golden[4*122:]...),
		"ebcdic-kind":    mutate(golden, 3, "1"),
		"no-data":        append(bytes.Clone(golden[:122]), golden[3*122:]...),
		"short-record":   append(bytes.Clone(golden[:120]), golden[121:]...),
		"mixed-separate": append(bytes.Clone(golden[:122]), noCRLF[120:]...),
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCRLFOption(t *testing.T) {
	f := sampleFile()
	with, err := Encode(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	without, err := Encode(f, Options{NoCRLF: true})
	if err != nil {
		t.Fatal(err)
	}
	records := len(f.Transfers) + 3
	if len(with) != records*122 {
		t.Errorf("with CR LF: %d bytes, want %d", len(with), records*122)
	}
	for i := 0; i < records; i++ {
		if got := string(with[i*122+120 : i*122+122]); got != "\r\n" {
			t.Errorf("with CR LF: record %d ends with %q", i+1, got)
		}
	}
	if len(without) != records*120 {
		t.Errorf("without CR LF: %d bytes, want %d", len(without), records*120)
	}
	if bytes.ContainsAny(without, "\r\n") {
		t.Error("NoCRLF output contains CR or LF")
	}
	if !bytes.Equal(bytes.ReplaceAll(with, []byte("\r\n"), nil), without) {
		t.Error("the two encodings differ other than by CR LF")
	}
	for name, b := range map[string][]byte{
		"CR LF":               with,
		"none":                without,
		"no CR LF after last": with[:len(with)-2],
	} {
		got, err := Decode(b)
		if err != nil {
			t.Errorf("decode (%s): %v", name, err)
			continue
		}
		if !reflect.DeepEqual(got, f) {
			t.Errorf("decode (%s) = %+v, want %+v", name, got, f)
		}
	}
}

// randomName draws up to max characters of the 全銀 set, not ending in a
// space (trailing spaces are padding), at least one when required.
func randomName(r *rand.Rand, max int, required bool) string {
	set := []rune(charset)
	n := r.IntN(max + 1)
	if required && n == 0 {
		n = 1
	}
	out := make([]rune, n)
	for i := range out {
		out[i] = set[r.IntN(len(set))]
	}
	if n > 0 && out[n-1] == ' ' {
		out[n-1] = 'ｱ'
	}
	if required && strings.TrimSpace(string(out)) == "" {
		out[0] = 'A'
	}
	return string(out)
}

func randomDigits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

func randomFile(r *rand.Rand, transfers int) File {
	pick := func(s string) AccountType { return AccountType(s[r.IntN(len(s))] - '0') }
	month := 1 + r.IntN(12)
	f := File{
		Remitter: Remitter{
			Code: randomDigits(r, 10), Name: randomName(r, 40, true),
			BankCode: randomDigits(r, 4), BankName: randomName(r, 15, false),
			BranchCode: randomDigits(r, 3), BranchName: randomName(r, 15, false),
			AccountType: pick("129"), AccountNumber: randomDigits(r, 7),
		},
		TransferDate: fmt.Sprintf("%02d%02d", month, 1+r.IntN(monthDays[month-1])),
		Transfers:    make([]Transfer, transfers),
	}
	var total int64
	for i := range f.Transfers {
		amount := 1 + r.Int64N(1_000_000)
		if r.IntN(10) == 0 {
			amount = 1 + r.Int64N(MaxAmount)
		}
		if total+amount > MaxTotal {
			amount = 1
		}
		total += amount
		t := Transfer{
			BankCode: randomDigits(r, 4), BankName: randomName(r, 15, false),
			BranchCode: randomDigits(r, 3), BranchName: randomName(r, 15, false),
			AccountType: pick("1249"), AccountNumber: randomDigits(r, 7),
			HolderName: randomName(r, 30, true), Amount: amount,
		}
		if r.IntN(2) == 0 {
			t.CustomerCode1 = randomDigits(r, 10)
		}
		if r.IntN(3) == 0 {
			t.CustomerCode2 = randomDigits(r, 10)
		}
		f.Transfers[i] = t
	}
	return f
}

// TestRoundTripRandom: Encode -> Decode gives the file back, and
// Encode -> Decode -> Encode gives the same bytes, for random files.
func TestRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(20240325, 1))
	sizes := []int{1, 2, 3, 10, 100, 2000}
	for i := 0; i < 60; i++ {
		sizes = append(sizes, 1+r.IntN(300))
	}
	for i, n := range sizes {
		f := randomFile(r, n)
		opt := Options{NoCRLF: i%2 == 1}
		b, err := Encode(f, opt)
		if err != nil {
			t.Fatalf("file %d: encode: %v", i, err)
		}
		line := 122
		if opt.NoCRLF {
			line = 120
		}
		if len(b) != (n+3)*line {
			t.Fatalf("file %d: %d bytes, want %d", i, len(b), (n+3)*line)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("file %d: decode: %v", i, err)
		}
		if !reflect.DeepEqual(got, f) {
			for j := range f.Transfers {
				if j < len(got.Transfers) && !reflect.DeepEqual(got.Transfers[j], f.Transfers[j]) {
					t.Fatalf("file %d transfer %d: got %+v, want %+v", i, j, got.Transfers[j], f.Transfers[j])
				}
			}
			t.Fatalf("file %d: got %+v, want %+v", i, got.Remitter, f.Remitter)
		}
		again, err := Encode(got, opt)
		if err != nil {
			t.Fatalf("file %d: re-encode: %v", i, err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("file %d: re-encoded bytes differ", i)
		}
	}
}

func TestShiftJISHalfWidthKanaAreSingleBytes(t *testing.T) {
	kana := []rune("ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝﾞﾟ｢｣")
	enc := japanese.ShiftJIS.NewEncoder()
	for _, k := range kana {
		b, err := enc.String(string(k))
		if err != nil || len(b) != 1 || b[0] < 0xA1 || b[0] > 0xDF {
			t.Errorf("x/text Shift_JIS encodes %q as % x, %v; want one byte in A1-DF", k, b, err)
		}
		if want := byte(k - 0xFF61 + 0xA1); len(b) == 1 && b[0] != want {
			t.Errorf("%q encodes as %02X, want %02X", k, b[0], want)
		}
	}
	// Through the encoder: a 30-character holder name of kana is 30 bytes
	// at positions 51-80, each in A1-DF, and the record stays 120 bytes.
	f := sampleFile()
	for start := 0; start < len(kana); start += 30 {
		name := kana[start:min(start+30, len(kana))]
		if name[0] == 'ﾞ' || name[0] == 'ﾟ' || name[0] == '｢' {
			name = append([]rune{'ｱ'}, name[:len(name)-1]...)
		}
		f.Transfers[0].HolderName = string(name)
		b, err := Encode(f, Options{NoCRLF: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 5*120 {
			t.Fatalf("file is %d bytes, want 600", len(b))
		}
		field := b[120+50 : 120+50+len(name)]
		for i, c := range field {
			if c < 0xA1 || c > 0xDF {
				t.Errorf("%q encoded as %02X", name[i], c)
			}
		}
		if got := b[120+50+len(name) : 120+80]; !bytes.Equal(got, bytes.Repeat([]byte{' '}, len(got))) {
			t.Errorf("padding after %d kana is %q", len(name), got)
		}
		d, err := Decode(b)
		if err != nil || d.Transfers[0].HolderName != string(name) {
			t.Errorf("decode %q: %q, %v", string(name), d.Transfers[0].HolderName, err)
		}
	}
}

func TestYenSignIsBackslash(t *testing.T) {
	f := sampleFile()
	f.Transfers[0].HolderName = "A¥B"
	yen, err := Encode(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.Transfers[0].HolderName = `A\B`
	backslash, err := Encode(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(yen, backslash) || yen[122+51] != 0x5C {
		t.Errorf("¥ and \\ must both be byte 5C; got %02X", yen[122+51])
	}
	d, err := Decode(yen)
	if err != nil || d.Transfers[0].HolderName != `A\B` {
		t.Errorf("decode: %q, %v", d.Transfers[0].HolderName, err)
	}
}

func TestCustomerCodeZeroFilled(t *testing.T) {
	f := sampleFile()
	f.Transfers[0].CustomerCode1 = "270212122" // a 9-digit merchant id
	f.Transfers[0].CustomerCode2 = "7"
	b, err := Encode(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b[122+91 : 122+111]); got != "02702121220000000007" {
		t.Errorf("customer codes = %q", got)
	}
	d, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if c := d.Transfers[0]; c.CustomerCode1 != "0270212122" || c.CustomerCode2 != "0000000007" {
		t.Errorf("decoded customer codes %q %q", c.CustomerCode1, c.CustomerCode2)
	}
	// An absent code is blank in the file and "" after Decode.
	f.Transfers[0].CustomerCode2 = ""
	if b, err = Encode(f, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := string(b[122+101 : 122+111]); got != "          " {
		t.Errorf("absent customer code 2 = %q, want blanks", got)
	}
	if d, err = Decode(b); err != nil || d.Transfers[0].CustomerCode2 != "" {
		t.Errorf("absent customer code 2 decoded as %q, %v", d.Transfers[0].CustomerCode2, err)
	}
}

func TestEncodeRejects(t *testing.T) {
	tr := func(mut func(*Transfer)) func(*File) {
		return func(f *File) { mut(&f.Transfers[0]) }
	}
	tr2 := func(mut func(*Transfer)) func(*File) {
		return func(f *File) { mut(&f.Transfers[1]) }
	}
	cases := []struct {
		name   string
		mut    func(*File)
		record int
		field  string
		kind   Kind
		value  string
	}{
		{"small kana in holder", tr(func(t *Transfer) { t.HolderName = "ｷｬﾉﾝ" }), 2, "受取人名", KindCharset, "ｷｬﾉﾝ"},
		{"small tsu in remitter", func(f *File) { f.Name = "ｶ)ｻｯﾎﾟﾛ" }, 1, "委託者名", KindCharset, "ｶ)ｻｯﾎﾟﾛ"},
		{"kanji holder", tr(func(t *Transfer) { t.HolderName = "山田太郎" }), 2, "受取人名", KindCharset, "山田太郎"},
		{"kanji in second transfer", tr2(func(t *Transfer) { t.HolderName = "ｻﾄｳ 花子" }), 3, "受取人名", KindCharset, "ｻﾄｳ 花子"},
		{"full-width katakana", tr(func(t *Transfer) { t.HolderName = "ヤマダ" }), 2, "受取人名", KindCharset, "ヤマダ"},
		{"hiragana bank name", tr(func(t *Transfer) { t.BankName = "みずほ" }), 2, "被仕向銀行名", KindCharset, "みずほ"},
		{"lowercase", tr(func(t *Transfer) { t.HolderName = "Yamada" }), 2, "受取人名", KindCharset, "Yamada"},
		{"long vowel", tr(func(t *Transfer) { t.HolderName = "ﾕｰﾍﾟｲ" }), 2, "受取人名", KindCharset, "ﾕｰﾍﾟｲ"},
		{"wo", tr(func(t *Transfer) { t.HolderName = "ｦ" }), 2, "受取人名", KindCharset, "ｦ"},
		{"invalid UTF-8", tr(func(t *Transfer) { t.HolderName = "A\xffB" }), 2, "受取人名", KindCharset, "A\xffB"},
		{"amount 0", tr(func(t *Transfer) { t.Amount = 0 }), 2, "振込金額", KindAmount, "0"},
		{"amount negative", tr(func(t *Transfer) { t.Amount = -100 }), 2, "振込金額", KindAmount, "-100"},
		{"amount over width", tr(func(t *Transfer) { t.Amount = MaxAmount + 1 }), 2, "振込金額", KindAmountTooBig, "10000000000"},
		{"bank code 3 digits", tr(func(t *Transfer) { t.BankCode = "001" }), 2, "被仕向銀行番号", KindNumeric, "001"},
		{"bank code 5 digits", tr(func(t *Transfer) { t.BankCode = "00010" }), 2, "被仕向銀行番号", KindNumeric, "00010"},
		{"bank code letter", tr(func(t *Transfer) { t.BankCode = "00A1" }), 2, "被仕向銀行番号", KindNumeric, "00A1"},
		{"branch 2 digits", tr(func(t *Transfer) { t.BranchCode = "11" }), 2, "被仕向支店番号", KindNumeric, "11"},
		{"account 6 digits", tr(func(t *Transfer) { t.AccountNumber = "654321" }), 2, "口座番号", KindNumeric, "654321"},
		{"account 8 digits", tr2(func(t *Transfer) { t.AccountNumber = "12345678" }), 3, "口座番号", KindNumeric, "12345678"},
		{"full-width digits", tr(func(t *Transfer) { t.AccountNumber = "７６５４３２１" }), 2, "口座番号", KindNumeric, "７６５４３２１"},
		{"remitter code short", func(f *File) { f.Code = "123" }, 1, "委託者コード", KindNumeric, "123"},
		{"remitter bank code", func(f *File) { f.BankCode = "5" }, 1, "仕向銀行番号", KindNumeric, "5"},
		{"remitter branch", func(f *File) { f.BranchCode = "0001" }, 1, "仕向支店番号", KindNumeric, "0001"},
		{"remitter account", func(f *File) { f.AccountNumber = "" }, 1, "口座番号", KindNumeric, ""},
		{"customer code 11 digits", tr(func(t *Transfer) { t.CustomerCode1 = "12345678901" }), 2, "顧客コード1", KindNumeric, "12345678901"},
		{"customer code letters", tr(func(t *Transfer) { t.CustomerCode2 = "M-1" }), 2, "顧客コード2", KindNumeric, "M-1"},
		{"holder overflow", tr(func(t *Transfer) { t.HolderName = strings.Repeat("ｱ", 31) }), 2, "受取人名", KindTooLong, strings.Repeat("ｱ", 31)},
		{"voiced overflow", tr(func(t *Transfer) { t.HolderName = strings.Repeat("ｶﾞ", 16) }), 2, "受取人名", KindTooLong, strings.Repeat("ｶﾞ", 16)},
		{"remitter name overflow", func(f *File) { f.Name = strings.Repeat("A", 41) }, 1, "委託者名", KindTooLong, strings.Repeat("A", 41)},
		{"bank name overflow", tr(func(t *Transfer) { t.BankName = "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲｷﾞﾝｺｳ" }), 2, "被仕向銀行名", KindTooLong, "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲｷﾞﾝｺｳ"},
		{"empty holder", tr(func(t *Transfer) { t.HolderName = "  " }), 2, "受取人名", KindValue, "  "},
		{"empty remitter name", func(f *File) { f.Name = "" }, 1, "委託者名", KindValue, ""},
		{"account type 0", tr(func(t *Transfer) { t.AccountType = 0 }), 2, "預金種目", KindValue, "0"},
		{"account type 3", tr(func(t *Transfer) { t.AccountType = 3 }), 2, "預金種目", KindValue, "3"},
		{"header savings", func(f *File) { f.AccountType = AccountSavings }, 1, "預金種目", KindValue, "4"},
		{"month 13", func(f *File) { f.TransferDate = "1301" }, 1, "振込指定日", KindValue, "1301"},
		{"Feb 30", func(f *File) { f.TransferDate = "0230" }, 1, "振込指定日", KindValue, "0230"},
		{"day 0", func(f *File) { f.TransferDate = "0400" }, 1, "振込指定日", KindValue, "0400"},
		{"date 3 digits", func(f *File) { f.TransferDate = "325" }, 1, "振込指定日", KindNumeric, "325"},
		{"date with year", func(f *File) { f.TransferDate = "20240325" }, 1, "振込指定日", KindNumeric, "20240325"},
		{"no transfers", func(f *File) { f.Transfers = nil }, 2, "", KindStructure, ""},
		{"total over trailer", func(f *File) {
			f.Transfers = make([]Transfer, 101)
			for i := range f.Transfers {
				f.Transfers[i] = sampleFile().Transfers[1] // MaxAmount each
			}
		}, 103, "合計金額", KindTotalTooBig, "1009999999899"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := sampleFile()
			c.mut(&f)
			b, err := Encode(f, Options{})
			if err == nil {
				t.Fatalf("accepted; record 2 = %q", b[122:242])
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v, want *FieldError", err, err)
			}
			if fe.Record != c.record || fe.Field != c.field || fe.Kind != c.kind || fe.Value != c.value {
				t.Errorf("got record %d field %q kind %v value %q, want record %d field %q kind %v value %q (%v)",
					fe.Record, fe.Field, fe.Kind, fe.Value, c.record, c.field, c.kind, c.value, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, fmt.Sprintf("record %d", c.record)) || !strings.Contains(msg, c.field) || fe.Reason == "" {
				t.Errorf("message %q does not name record %d and field %q", msg, c.record, c.field)
			}
		})
	}
}

func TestEncodeAcceptsLimits(t *testing.T) {
	f := sampleFile()
	f.TransferDate = "0229"
	f.Name = strings.Repeat("ﾊﾟ", 20)                          // 40 bytes exactly
	f.Transfers[0].HolderName = "(ｶ)ABC-123.ﾃｽﾄ/ｼﾖｳｼﾞ,｢ｴ｣ \\¥" // every symbol
	f.Transfers[0].Amount = 1
	f.Transfers[0].BankName = "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿ   " // 15 + trailing padding
	f.Transfers[0].AccountType = AccountSavings
	f.Transfers[1].AccountType = AccountOther
	b, err := Encode(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != f.Name || d.Transfers[0].HolderName != `(ｶ)ABC-123.ﾃｽﾄ/ｼﾖｳｼﾞ,｢ｴ｣ \\` ||
		d.Transfers[0].BankName != "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿ" || d.TransferDate != "0229" ||
		d.Transfers[0].AccountType != AccountSavings || d.Transfers[1].AccountType != AccountOther {
		t.Errorf("decoded %+v", d)
	}
}

func TestErrorMessage(t *testing.T) {
	f := sampleFile()
	f.Transfers[0].HolderName = "ｷｬﾉﾝ"
	_, err := Encode(f, Options{})
	want := `zengin: record 2 受取人名 (holder name) "ｷｬﾉﾝ": small kana 'ｬ' (U+FF6C) at character 2: banks accept only large kana (NormalizeKana converts)`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

func TestDecodeRejects(t *testing.T) {
	golden, err := Encode(sampleFile(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	noCRLF := bytes.ReplaceAll(golden, []byte("\r\n"), nil)
	at := func(b []byte, off int, s string) []byte {
		c := bytes.Clone(b)
		copy(c[off:], s)
		return c
	}
	const d1, trl = 122, 3 * 122 // first data record, trailer
	cases := []struct {
		name   string
		data   []byte
		record int
		field  string
		kind   Kind
	}{
		{"empty", nil, 1, "", KindStructure},
		{"trailer count", at(golden, trl+1, "000003"), 4, "合計件数", KindTotals},
		{"trailer total", at(golden, trl+7, "010000328708"), 4, "合計金額", KindTotals},
		{"trailer total letters", at(golden, trl+7, "01000032870X"), 4, "合計金額", KindNumeric},
		{"small kana byte", at(golden, d1+50, "\xac"), 2, "受取人名", KindCharset},
		{"kanji bytes", at(golden, d1+50, "\x8eR\x93c"), 2, "受取人名", KindCharset},
		{"long vowel byte", at(golden, d1+5, "\xb0"), 2, "被仕向銀行名", KindCharset},
		{"lowercase", at(golden, 14, "abc"), 1, "委託者名", KindCharset},
		{"amount zero", at(golden, d1+80, "0000000000"), 2, "振込金額", KindAmount},
		{"amount blank", at(golden, d1+80, "          "), 2, "振込金額", KindNumeric},
		{"business type 11", at(golden, 1, "11"), 1, "種別コード", KindValue},
		{"EBCDIC", at(golden, 3, "1"), 1, "コード区分", KindValue},
		{"bad date", at(golden, 54, "0431"), 1, "振込指定日", KindValue},
		{"account type", at(golden, d1+42, "3"), 2, "預金種目", KindValue},
		{"bank code space", at(golden, d1+1, "01 1"), 2, "被仕向銀行番号", KindNumeric},
		{"customer code partly blank", at(golden, d1+91, "12345     "), 2, "顧客コード1", KindNumeric},
		{"EDI flag", at(golden, d1+112, "Y"), 2, "識別表示", KindValue},
		{"transfer method", at(golden, d1+111, "1"), 2, "振込指定区分", KindValue},
		{"filler", at(golden, 110, "X"), 1, "ダミー", KindValue},
		{"end filler", at(golden, 4*122+60, "0"), 5, "ダミー", KindValue},
		{"holder blank", at(golden, d1+50, strings.Repeat(" ", 30)), 2, "受取人名", KindValue},
		{"header kind", at(golden, 0, "2"), 1, "データ区分", KindStructure},
		{"trailer kind", at(golden, trl, "7"), 4, "データ区分", KindStructure},
		{"end kind", at(golden, 4*122, "8"), 5, "データ区分", KindStructure},
		{"LF only", bytes.ReplaceAll(golden, []byte("\r\n"), []byte("\n")), 1, "", KindStructure},
		{"CR only", bytes.ReplaceAll(golden, []byte("\r\n"), []byte("\r")), 1, "", KindStructure},
		{"mixed separators", append(bytes.Clone(golden[:122]), noCRLF[120:]...), 2, "", KindStructure},
		{"short record", append(bytes.Clone(golden[:119]), golden[120:]...), 1, "", KindStructure},
		{"truncated", golden[:len(golden)-10], 5, "", KindStructure},
		{"truncated no CRLF", noCRLF[:len(noCRLF)-1], 5, "", KindStructure},
		{"no trailer", golden[:3*122], 4, "", KindStructure},
		{"no end", golden[:4*122], 5, "", KindStructure},
		{"after end", append(bytes.Clone(golden), golden[4*122:]...), 6, "", KindStructure},
		{"no data", append(bytes.Clone(golden[:122]), golden[3*122:]...), 2, "", KindStructure},
		{"header only", golden[:120], 2, "", KindStructure},
		{"trailing garbage", append(bytes.Clone(noCRLF), 0x1A), 6, "", KindStructure},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Decode(c.data)
			if err == nil {
				t.Fatalf("accepted: %+v", f)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v, want *FieldError", err, err)
			}
			if fe.Record != c.record || fe.Field != c.field || fe.Kind != c.kind {
				t.Errorf("got record %d field %q kind %v, want record %d field %q kind %v (%v)",
					fe.Record, fe.Field, fe.Kind, c.record, c.field, c.kind, err)
			}
			if !reflect.DeepEqual(f, File{}) {
				t.Errorf("partial file returned with the error: %+v", f)
			}
		})
	}
}

func TestDecodeLenientFields(t *testing.T) {
	golden, err := Encode(sampleFile(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := bytes.Clone(golden)
	copy(b[122+38:], "0000") // 手形交換所番号 as zeros
	copy(b[122+90:], "1")    // 新規コード 第1回振込分
	copy(b[122+111:], "8")   // 振込指定区分 文書
	copy(b[2*122+111:], " ") // 振込指定区分 blank
	f, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f, sampleFile()) {
		t.Errorf("got %+v", f)
	}
}

func TestNormalizeKana(t *testing.T) {
	cases := []struct{ in, want string }{
		{"ヤマダ タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ"},
		{"やまだ　たろう", "ﾔﾏﾀﾞ ﾀﾛｳ"},
		{"キャノン", "ｷﾔﾉﾝ"},
		{"ｷｬﾉﾝ", "ｷﾔﾉﾝ"},
		{"ァィゥェォャュョッ", "ｱｲｳｴｵﾔﾕﾖﾂ"},
		{"ｧｨｩｪｫｬｭｮｯ", "ｱｲｳｴｵﾔﾕﾖﾂ"},
		{"ヵヶヮゎ", "ｶｹﾜﾜ"},
		{"ガッコウ", "ｶﾞﾂｺｳ"},
		{"パン", "ﾊﾟﾝ"},
		{"ヴィ", "ｳﾞｲ"},
		{"ｶﾞｯｺｳ", "ｶﾞﾂｺｳ"},
		{"カ\u3099", "ｶﾞ"},
		{"ハ゜", "ﾊﾟ"},
		{"ＡＢＣ　ｄｅｆ１２３", "ABC DEF123"},
		{"abc xyz", "ABC XYZ"},
		{"ユーペイ", "ﾕ-ﾍﾟｲ"},
		{"ﾕｰﾍﾟｲ", "ﾕ-ﾍﾟｲ"},
		{"（カ）ユーペイ", "(ｶ)ﾕ-ﾍﾟｲ"},
		{"カ）ＡＢ－Ｃ．／，", "ｶ)AB-C./,"},
		{"A‐B–C—D―E−F", "A-B-C-D-E-F"},
		{"「テスト」", "｢ﾃｽﾄ｣"},
		{"ヲ", "ｵ"},
		{"を", "ｵ"},
		{"￥＼", "¥\\"},
		{"", ""},
	}
	for _, c := range cases {
		got, err := NormalizeKana(c.in)
		if err != nil || got != c.want {
			t.Errorf("NormalizeKana(%q) = %q, %v; want %q", c.in, got, err, c.want)
			continue
		}
		for _, r := range got {
			if _, ok := encodeRune(r); !ok {
				t.Errorf("NormalizeKana(%q) = %q holds %q outside the 全銀 set", c.in, got, r)
			}
		}
		if again, err := NormalizeKana(got); err != nil || again != got {
			t.Errorf("NormalizeKana not idempotent on %q: %q, %v", got, again, err)
		}
	}
	for _, bad := range []string{"山田", "ナカ・ムラ", "ﾅｶ･ﾑﾗ", "いすゞ", "A&B", "a@b", "😀", "ﾃｽﾄ\t", "~", "『ﾃ』"} {
		got, err := NormalizeKana(bad)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Kind != KindCharset || fe.Value != bad || fe.Record != 0 {
			t.Errorf("NormalizeKana(%q) = %q, %v; want a KindCharset *FieldError", bad, got, err)
		}
	}
}

// TestNormalizeThenEncode: a name typed in full-width goes through
// NormalizeKana into a file and back.
func TestNormalizeThenEncode(t *testing.T) {
	name, err := NormalizeKana("カブシキガイシャ　ショップ")
	if err != nil {
		t.Fatal(err)
	}
	f := sampleFile()
	f.Transfers[0].HolderName = name
	b, err := Encode(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "\xb6\xcc\xde\xbc\xb7\xb6\xde\xb2\xbc\xd4 \xbc\xd6\xc2\xcc\xdf" // ｶﾌﾞｼｷｶﾞｲｼﾔ ｼﾖﾂﾌﾟ
	if got := string(b[122+50 : 122+50+len(want)]); got != want {
		t.Errorf("holder bytes % x, want % x", got, want)
	}
}

func TestTransferDateOf(t *testing.T) {
	jst := time.FixedZone("JST", 9*3600)
	if got := TransferDateOf(time.Date(2024, 3, 5, 23, 0, 0, 0, jst)); got != "0305" {
		t.Errorf("TransferDateOf = %q, want 0305", got)
	}
}

func FuzzDecode(f *testing.F) {
	golden, err := Encode(sampleFile(), Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add(bytes.ReplaceAll(golden, []byte("\r\n"), nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode(data)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Record < 1 || fe.Reason == "" {
				t.Fatalf("error %T %v: want *FieldError with a record and a reason", err, err)
			}
			return
		}
		// Whatever Decode accepts, Encode writes back and Decode reads
		// the same file again.
		out, err := Encode(file, Options{})
		if err != nil {
			t.Fatalf("decoded file does not encode: %v", err)
		}
		again, err := Decode(out)
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, file) {
			t.Fatalf("round trip changed the file:\n%+v\n%+v", file, again)
		}
	})
}

// bigFile is 10,000 transfers, as a month's merchant payouts might be.
func bigFile() File {
	f := sampleFile()
	f.Transfers = make([]Transfer, 10_000)
	for i := range f.Transfers {
		f.Transfers[i] = Transfer{
			BankCode: fmt.Sprintf("%04d", i%2000), BankName: "ﾐﾂﾋﾞｼUFJ",
			BranchCode: fmt.Sprintf("%03d", i%1000), BranchName: "ｼﾝｼﾞﾕｸﾆｼｸﾞﾁ",
			AccountType: AccountOrdinary, AccountNumber: fmt.Sprintf("%07d", i*37),
			HolderName: "ｶ)ﾃｽﾄｼﾖｳｼﾞ ﾄｳｷﾖｳｼﾃﾝ", Amount: int64(1000 + i*13),
			CustomerCode1: fmt.Sprintf("%010d", 270212122+i),
		}
	}
	return f
}

func TestEncode10000(t *testing.T) {
	f := bigFile()
	start := time.Now()
	b, err := Encode(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	if len(b) != 10_003*122 {
		t.Fatalf("%d bytes", len(b))
	}
	d, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d, f) {
		t.Fatal("10,000-transfer file does not round-trip")
	}
	t.Logf("encoded 10,000 transfers in %v", elapsed)
}

func BenchmarkEncode10000(b *testing.B) {
	f := bigFile()
	b.ReportAllocs()
	b.SetBytes(10_003 * 122)
	for b.Loop() {
		if _, err := Encode(f, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode10000(b *testing.B) {
	data, err := Encode(bigFile(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDecodeErrorNamesTheCharacter(t *testing.T) {
	golden, err := Encode(sampleFile(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for raw, want := range map[string]string{
		"\xac":       "small kana 'ｬ'",
		"\xb0":       "long vowel mark 'ｰ'",
		"a":          "lowercase letter 'a'",
		"\x8eR\x93c": "double-byte",
	} {
		b := bytes.Clone(golden)
		copy(b[122+50:], raw)
		_, err := Decode(b)
		var fe *FieldError
		if !errors.As(err, &fe) || !strings.Contains(fe.Reason, want) {
			t.Errorf("byte %q in 受取人名: %v; want a reason naming %s", raw, err, want)
		}
	}
}
