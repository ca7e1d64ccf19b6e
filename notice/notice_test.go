package notice_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rickb777/date"

	"upay/domain"
	"upay/notice"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func TestYen(t *testing.T) {
	for _, c := range []struct {
		in   domain.Yen
		want string
	}{
		{0, "¥0"}, {7, "¥7"}, {999, "¥999"}, {1000, "¥1,000"}, {14140, "¥14,140"}, {13682, "¥13,682"},
		{-7126, "¥-7,126"}, {-100, "¥-100"}, {-1000, "¥-1,000"}, {1234567, "¥1,234,567"},
		{9_999_999_999, "¥9,999,999,999"}, {-9_223_372_036_854_775_808, "¥-9,223,372,036,854,775,808"},
	} {
		if got := notice.Yen(c.in); got != c.want {
			t.Errorf("Yen(%d) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMaskAccount(t *testing.T) {
	for in, want := range map[string]string{"1234567": "***567", "0000567": "***567", "1234": "***234", "567": "***", "": "***"} {
		if got := notice.MaskAccount(in); got != want {
			t.Errorf("MaskAccount(%q) = %q, want %q", in, got, want)
		}
	}
}

func d(s string) date.Date {
	v, err := date.ParseISO(s)
	if err != nil {
		panic(err)
	}
	return v
}

func TestPeriodAndDates(t *testing.T) {
	for _, c := range []struct{ from, to, want string }{
		{"2019-10-01", "2019-10-15", "10/01-15"},
		{"2019-10-16", "2019-10-31", "10/16-31"},
		{"2019-09-01", "2019-09-30", "09/01-30"},
		{"2020-02-16", "2020-02-29", "02/16-29"},
		{"2019-12-16", "2020-01-15", "12/16-01/15"},
	} {
		if got := notice.Period(d(c.from), d(c.to)); got != c.want {
			t.Errorf("Period(%s, %s) = %q, want %q", c.from, c.to, got, c.want)
		}
	}
	for in, want := range map[string]string{"2019-10-31": "2019年10月31日", "2019-10-11": "2019年10月11日", "2020-01-02": "2020年1月2日"} {
		if got := notice.JapaneseDate(d(in)); got != want {
			t.Errorf("JapaneseDate(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestRateAndAccountType(t *testing.T) {
	for in, want := range map[string]string{"3.24": "3.24%", "3": "3.00%", "3.2": "3.20%", "3.245": "3.245%", "0": "0.00%", "100": "100.00%", "3.2400": "3.24%"} {
		got, err := notice.Rate(in)
		if err != nil || got != want {
			t.Errorf("Rate(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "abc", "-1", "3,24"} {
		if _, err := notice.Rate(bad); domain.CodeOf(err) != domain.CodeInvalidField {
			t.Errorf("Rate(%q): %v, want U1009", bad, err)
		}
	}
	for in, want := range map[string]string{domain.AccountOrdinary: "普通", domain.AccountChecking: "当座", domain.AccountSavings: "貯蓄"} {
		if got, err := notice.AccountType(in); err != nil || got != want {
			t.Errorf("AccountType(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := notice.AccountType("other"); domain.CodeOf(err) != domain.CodeInvalidField {
		t.Errorf("AccountType(other): %v", err)
	}
}

func sample(t *testing.T) notice.Notice {
	t.Helper()
	n, err := notice.Build(notice.SamplePayout(), notice.SampleIssuer(), d("2019-10-29"), 1)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBuildSample(t *testing.T) {
	n := sample(t)
	if n.No != "270212122-001-20191031" || n.Name != "②新PAY切替Uペイ" || n.Contact != "平 次郎" {
		t.Fatalf("header: %+v", n)
	}
	if n.IssueDate != d("2019-10-29") || n.Payday != d("2019-10-31") {
		t.Fatalf("dates: %v %v", n.IssueDate, n.Payday)
	}
	want := []struct {
		typ, period string
		count       int64
		sales, rate string
		fee, amount string
	}{
		{"VISA/MASTER", "10/01-15", 3, "¥14,140", "3.24%", "¥458", "¥13,682"},
		{"JCB/その他", "10/01-15", 2, "¥2,000", "3.24%", "¥64", "¥1,936"},
	}
	if len(n.Lines) != len(want) {
		t.Fatalf("lines: %+v", n.Lines)
	}
	for i, w := range want {
		l := n.Lines[i]
		if l.CardType != w.typ || l.Period() != w.period || l.Count != w.count || notice.Yen(l.Sales) != w.sales ||
			l.RateText() != w.rate || notice.Yen(l.Fee) != w.fee || notice.Yen(l.Amount) != w.amount {
			t.Errorf("line %d: %+v", i, l)
		}
	}
	var tot []string
	for _, a := range n.Totals() {
		tot = append(tot, a.Label+"="+notice.Yen(a.Value))
	}
	if got := strings.Join(tot, " "); got != "決済手数料にかかる消費税=¥52 前期末精算金額=¥-7,126 振込手数料=¥180 振込手数料にかかる消費税=¥18 差引お振込金額=¥8,242" {
		t.Errorf("totals: %s", got)
	}
	var bank []string
	for _, f := range n.BankFields() {
		bank = append(bank, f.Label+"="+f.Value)
	}
	if got := strings.Join(bank, " "); got != "指定金融機関=りそな銀行 金融機関支店名=証券信託業務支店 口座種類=普通 口座番号=***567 口座名義=ｼﾝﾍﾟｲｷﾘｶｴ ﾕｰﾍﾟｲ お振込み予定日=2019年10月31日" {
		t.Errorf("bank: %s", got)
	}
	if got := strings.Join(n.IssuerLines(), "|"); got != "株式会社USEN|〒141-0021|東京都品川区上大崎三丁目1番1号|目黒セントラルスクエア|TEL 0120-125-440" {
		t.Errorf("issuer: %s", got)
	}
	if n.FileName("zip") != "270212122-001-20191031.zip" {
		t.Errorf("file name %s", n.FileName("zip"))
	}
}

func TestBuildVariants(t *testing.T) {
	// Reissue: sequence 2 changes the number, nothing else.
	n, err := notice.Build(notice.SamplePayout(), notice.SampleIssuer(), d("2019-11-05"), 2)
	if err != nil || n.No != "270212122-002-20191031" || n.Seq != 2 {
		t.Fatalf("seq 2: %v %+v", err, n.No)
	}
	// Carry-forward: no transfer, 次回繰越金額 shown, payday says so.
	p := notice.SamplePayout()
	p.Lines = []domain.PayoutLine{{Group: domain.GroupEmoney, PeriodStart: "2019-09-01", PeriodEnd: "2019-09-30", Count: 1, Sales: 200, Rate: "3", Fee: 6, Amount: 194}}
	p.FeeTotal, p.FeeTax, p.PriorPeriod, p.TransferFee, p.TransferFeeTax, p.Net, p.CarriedForward, p.Transferred = 6, 0, 0, 0, 0, 0, 194, false
	p.Bank.Type = domain.AccountSavings
	n, err = notice.Build(p, notice.SampleIssuer(), d("2019-10-29"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if n.Lines[0].Period() != "09/01-30" || n.Lines[0].RateText() != "3.00%" || n.Bank.AccountType != "貯蓄" {
		t.Errorf("line %+v", n.Lines[0])
	}
	tot := n.Totals()
	if last := tot[len(tot)-1]; last.Label != notice.LabelCarried || last.Value != 194 {
		t.Errorf("carried: %+v", tot)
	}
	if f := n.BankFields(); !strings.Contains(f[len(f)-1].Value, "今回のお振込みはありません") {
		t.Errorf("payday: %+v", f)
	}
	// Invoice number printed in the issuer block.
	is := notice.SampleIssuer()
	is.InvoiceNo = "T1234567890123"
	n, err = notice.Build(notice.SamplePayout(), is, d("2019-10-29"), 1)
	if err != nil || !strings.Contains(strings.Join(n.IssuerLines(), "|"), "登録番号 T1234567890123") {
		t.Errorf("invoice no: %v %v", err, n.IssuerLines())
	}
}

func TestBuildRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		mod  func(*domain.PayoutIssued, *notice.Issuer, *int)
		code string
	}{
		{"bad merchant", func(p *domain.PayoutIssued, _ *notice.Issuer, _ *int) { p.Merchant = "27021" }, domain.CodeInvalidField},
		{"bad payday", func(p *domain.PayoutIssued, _ *notice.Issuer, _ *int) { p.Payday = "2019/10/31" }, domain.CodeInvalidField},
		{"notice no mismatch", func(p *domain.PayoutIssued, _ *notice.Issuer, _ *int) { p.NoticeNo = "270212122-001-20191015" }, domain.CodeInvalidField},
		{"seq 0", func(_ *domain.PayoutIssued, _ *notice.Issuer, s *int) { *s = 0 }, domain.CodeInvalidField},
		{"seq 1000", func(_ *domain.PayoutIssued, _ *notice.Issuer, s *int) { *s = 1000 }, domain.CodeInvalidField},
		{"no name", func(p *domain.PayoutIssued, _ *notice.Issuer, _ *int) { p.Name = " " }, domain.CodeMissingField},
		{"no lines", func(p *domain.PayoutIssued, _ *notice.Issuer, _ *int) { p.Lines = nil }, domain.CodeMissingField},
		{"newline in name", func(p *domain.PayoutIssued, _ *notice.Issuer, _ *int) { p.Name = "商店\n様" }, domain.CodeInvalidField},
		{"bad utf-8 holder", func(p *domain.PayoutIssued, _ *notice.Issuer, _ *int) { p.Bank.Holder = "\xff" }, domain.CodeInvalidField},
		{"bad account type", func(p *domain.PayoutIssued, _ *notice.Issuer, _ *int) { p.Bank.Type = "x" }, domain.CodeInvalidField},
		{"bad period", func(p *domain.PayoutIssued, _ *notice.Issuer, _ *int) { p.Lines[0].PeriodEnd = "2019-09-30" }, domain.CodeInvalidField},
		{"bad rate", func(p *domain.PayoutIssued, _ *notice.Issuer, _ *int) { p.Lines[0].Rate = "x" }, domain.CodeInvalidField},
		{"no issuer name", func(_ *domain.PayoutIssued, is *notice.Issuer, _ *int) { is.Name = "" }, domain.CodeMissingField},
		{"bad invoice no", func(_ *domain.PayoutIssued, is *notice.Issuer, _ *int) { is.InvoiceNo = "T123" }, domain.CodeInvalidField},
		{"invoice no without T", func(_ *domain.PayoutIssued, is *notice.Issuer, _ *int) { is.InvoiceNo = "12345678901234" }, domain.CodeInvalidField},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, is, seq := notice.SamplePayout(), notice.SampleIssuer(), 1
			c.mod(&p, &is, &seq)
			_, err := notice.Build(p, is, d("2019-10-29"), seq)
			if domain.CodeOf(err) != c.code {
				t.Fatalf("err %v, want code %s", err, c.code)
			}
		})
	}
	if _, err := notice.Build(notice.SamplePayout(), notice.SampleIssuer(), date.Date{}, 1); domain.CodeOf(err) != domain.CodeMissingField {
		t.Errorf("no issue date: %v", err)
	}
}

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestCSV(t *testing.T) {
	n := sample(t)
	b := notice.CSV(n)
	if !bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")) {
		t.Fatal("no UTF-8 byte order mark")
	}
	body := string(b[3:])
	if strings.Count(body, "\r\n") != strings.Count(body, "\n") || !strings.HasSuffix(body, "\r\n") {
		t.Fatal("line ends are not all CRLF")
	}
	rows := strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n")
	if len(rows) != 1+len(n.Lines)+7 {
		t.Fatalf("%d rows", len(rows))
	}
	for i, r := range rows {
		if got := strings.Count(r, ",") + 1; got != len(notice.CSVHeader) {
			t.Errorf("row %d has %d columns", i, got)
		}
	}
	golden(t, "sample.csv", b)

	// A name a spreadsheet would run as a formula is defused; quotes are escaped.
	p := notice.SamplePayout()
	p.Name = `=HYPERLINK("x")`
	n2, err := notice.Build(p, notice.SampleIssuer(), d("2019-10-29"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(notice.CSV(n2)); !strings.Contains(got, `"'=HYPERLINK(""x"")"`) {
		t.Errorf("formula not defused: %s", got)
	}
}

func TestIssuedEvent(t *testing.T) {
	e := notice.Issued{Merchant: "270212122", Payday: "2019-10-31", NoticeNo: "270212122-002-20191031", Seq: 2, IssueDate: "2019-11-05",
		File: "270212122-002-20191031.zip", SHA256: strings.Repeat("ab", 32), Reason: "宛先誤り"}
	data, err := domain.EncodeEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"merchant":"270212122","payday":"2019-10-31","notice_no":"270212122-002-20191031","seq":2,"issue_date":"2019-11-05","file":"270212122-002-20191031.zip","sha256":"` + strings.Repeat("ab", 32) + `","reason":"宛先誤り"}`
	if string(data) != want {
		t.Errorf("encoding:\n%s\nwant\n%s", data, want)
	}
	back, err := domain.DecodeEvent(notice.TypeIssued, 1, data)
	if err != nil || back != e {
		t.Errorf("decode: %v %+v", err, back)
	}
	if _, err := domain.DecodeEvent(notice.TypeIssued, 1, []byte(`{"merchant":"1","password":"123456789"}`)); domain.CodeOf(err) != domain.CodeMalformed {
		t.Errorf("unknown field accepted: %v", err)
	}
	if s := notice.Stream("270212122", "2019-10-31"); s != "notices-270212122-20191031" {
		t.Errorf("stream %s", s)
	}
	one, _ := domain.EncodeEvent(notice.Issued{Seq: 1, SHA256: "a"})
	two, _ := domain.EncodeEvent(notice.Issued{Seq: 1, SHA256: "b", Rewrite: true})
	h, err := notice.Fold([]domain.RecordedEvent{{Type: notice.TypeIssued, Version: 1, Revision: 0, Data: one}, {Type: notice.TypeIssued, Version: 1, Revision: 1, Data: two}})
	if err != nil || h.MaxSeq != 1 || h.BySeq[1].SHA256 != "b" || h.Expected() != domain.Exact(1) {
		t.Errorf("fold: %v %+v", err, h)
	}
	if h, _ := notice.Fold(nil); h.Expected() != domain.NoStream() {
		t.Error("empty stream expects NoStream")
	}
}

// Fixtures of the notices stream's events stay in testdata/events forever
// (as the domain's own under domain/testdata/events): a change that breaks
// decoding of recorded events fails here. Names: TYPE@VERSION[-variant].json.
func TestEventFixturesDecode(t *testing.T) {
	files, _ := filepath.Glob("testdata/events/*.json")
	seen := map[string]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		typ, rest, _ := strings.Cut(name, "@")
		ver, _, _ := strings.Cut(rest, "-")
		if ver != "1" {
			t.Fatalf("%s: unexpected version", f)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.TrimSpace(data)
		e, err := domain.DecodeEvent(typ, 1, data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if e.EventType() != typ {
			t.Fatalf("%s decodes as %s", f, e.EventType())
		}
		again, _ := domain.EncodeEvent(e)
		if !bytes.Equal(again, data) {
			t.Errorf("%s does not re-encode to itself:\n%s", f, again)
		}
		seen[typ] = true
	}
	for _, typ := range []string{notice.TypeIssued, notice.TypeDelivered, notice.TypeDeliveryFailed} {
		if !seen[typ] {
			t.Errorf("no fixture for %s", typ)
		}
	}
}
