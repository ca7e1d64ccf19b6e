package pdfnotice_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/adapters/pdfnotice"
	"upay/domain"
	"upay/notice"
)

var update = flag.Bool("update", false, "rewrite testdata/*.txt from pdftotext's output")

// need returns the renderer, after checking that the font and the poppler
// tools are installed. Missing, the test is skipped with the reason,
// except under CI=true where a missing tool is a broken setup.
func need(t testing.TB, tools ...string) *pdfnotice.Renderer {
	t.Helper()
	missing := func(what string) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s, but CI=true: run `make deps` (Debian packages fonts-ipaexfont-gothic poppler-utils)", what)
		}
		t.Skipf("%s: skipped; install the Debian packages fonts-ipaexfont-gothic and poppler-utils (`make deps`) to run it", what)
	}
	font := os.Getenv("UPAY_NOTICE_FONT")
	if !pdfnotice.FontInstalled(font) {
		missing(fmt.Sprintf("notice font %s not found", cmp(font, pdfnotice.DefaultFont)))
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing(tool + " not found on PATH")
		}
	}
	r, err := pdfnotice.New(font)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.String())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Fatalf("%s %v complained:\n%s", name, args, s)
	}
	return string(out)
}

func build(t testing.TB, p domain.PayoutIssued, is notice.Issuer, seq int) notice.Notice {
	t.Helper()
	n, err := notice.Build(p, is, date.New(2019, 10, 29), seq)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pdfText renders n and returns `pdftotext -layout` of it.
func pdfText(t *testing.T, r *pdfnotice.Renderer, n notice.Notice) (string, string) {
	t.Helper()
	b, err := r.Render(n)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", b[:min(len(b), 16)])
	}
	path := filepath.Join(t.TempDir(), n.No+".pdf")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return run(t, "pdftotext", "-layout", "-enc", "UTF-8", path, "-"), path
}

func TestSampleNoticeReadByPoppler(t *testing.T) {
	r := need(t, "pdftotext", "pdftoppm", "pdffonts")
	n := build(t, notice.SamplePayout(), notice.SampleIssuer(), 1)
	text, path := pdfText(t, r, n)

	// Every label of the sample and every figure of the payout.
	for _, want := range []string{
		"お支払通知書", "発行日： 2019年10月29日", "通知書No： 270212122-001-20191031",
		"②新PAY切替Uペイ 様", "ご担当者： 平 次郎 様",
		"株式会社USEN", "〒141-0021", "東京都品川区上大崎三丁目1番1号", "目黒セントラルスクエア", "TEL 0120-125-440",
		"USEN PAYGATE/Uペイをご利用いただきまして誠にありがとうございます。",
		"カード種類", "取扱期間", "取引件数", "売上金額", "料率", "決済手数料", "金額",
		"VISA/MASTER", "JCB/その他", "10/01-15", "¥14,140", "3.24%", "¥458", "¥13,682", "¥2,000", "¥64", "¥1,936",
		"決済手数料にかかる消費税", "¥52", "単位：円", "前期末精算金額 *1", "¥-7,126", "振込手数料", "¥180",
		"振込手数料にかかる消費税", "¥18", "差引お振込金額", "¥8,242",
		"*1：過去のお支払済みの取引に対して取り消し、または変更により発生した赤伝処理分となります。",
		"その他：American Express/Diners Club/Discover",
		"指定金融機関", "りそな銀行", "金融機関支店名", "証券信託業務支店", "口座種類", "普通", "口座番号", "***567",
		"口座名義", "ｼﾝﾍﾟｲｷﾘｶｴ ﾕｰﾍﾟｲ", "お振込み予定日", "2019年10月31日",
		"数字9桁を設定しております。",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext output lacks %q", want)
		}
	}
	// The three-count figures are in their rows.
	for _, row := range [][]string{{"VISA/MASTER", "10/01-15", "3", "¥14,140", "3.24%", "¥458", "¥13,682"}, {"JCB/その他", "10/01-15", "2", "¥2,000", "3.24%", "¥64", "¥1,936"}} {
		if !strings.Contains(text, row[0]) {
			continue
		}
		line := text[strings.Index(text, row[0]):]
		line = line[:strings.IndexByte(line, '\n')]
		if got := strings.Fields(line); strings.Join(got, " ") != strings.Join(row, " ") {
			t.Errorf("row %q, want %q", got, row)
		}
	}
	if strings.Contains(text, "1234567") {
		t.Error("the whole account number is printed")
	}
	golden(t, "sample.txt", text)

	// The font is embedded (a subset: only the glyphs used) with a ToUnicode map.
	fonts := run(t, "pdffonts", path)
	if !strings.Contains(fonts, "CID TrueType") || !regexpFields(fonts, "ipaexg", "yes", "yes") {
		t.Errorf("pdffonts:\n%s", fonts)
	}
	// Page 1 renders to PNG.
	prefix := filepath.Join(t.TempDir(), "page")
	run(t, "pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", path, prefix)
	png, err := os.ReadFile(prefix + "-1.png")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 2000 {
		t.Fatalf("pdftoppm made %d bytes, not a page image", len(png))
	}
}

// regexpFields reports whether a line of pdffonts output starts with name
// and has emb and uni set (columns: name type encoding emb sub uni ...).
func regexpFields(out, name, emb, uni string) bool {
	for l := range strings.SplitSeq(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 7 && f[0] == name && f[len(f)-5] == emb && f[len(f)-3] == uni {
			return true
		}
	}
	return false
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("pdftotext output differs from testdata/%s (check, then run with -update):\n%s", name, got)
	}
}

func TestCarryForwardReissueInvoiceNoAndRareKanji(t *testing.T) {
	r := need(t, "pdftotext")
	p := notice.SamplePayout()
	p.Lines = []domain.PayoutLine{{Group: domain.GroupEmoney, PeriodStart: "2019-09-01", PeriodEnd: "2019-09-30", Count: 1, Sales: 200, Rate: "3", Fee: 6, Amount: 194}}
	p.FeeTotal, p.FeeTax, p.PriorPeriod, p.TransferFee, p.TransferFeeTax, p.Net, p.CarriedForward, p.Transferred = 6, 0, 0, 0, 0, 0, 194, false
	p.Name = "髙橋商店 ﾀｶﾊｼ" // a JIS X 0213 kanji and half-width kana
	is := notice.SampleIssuer()
	is.InvoiceNo = "T1234567890123"
	text, _ := pdfText(t, r, build(t, p, is, 2))
	for _, want := range []string{"髙橋商店 ﾀｶﾊｼ 様", "270212122-002-20191031", "電子マネー", "09/01-30", "3.00%", "¥200", "¥6", "¥194", "次回繰越金額 *2",
		"今回のお振込みはありません", "登録番号 T1234567890123"} {
		if !strings.Contains(text, want) {
			t.Errorf("lacks %q:\n%s", want, text)
		}
	}
}

func TestManyLinesFlowToASecondPage(t *testing.T) {
	r := need(t, "pdftotext")
	p := notice.SamplePayout()
	for i := range 40 {
		p.Lines = append(p.Lines, domain.PayoutLine{Group: domain.GroupJCBOther, PeriodStart: "2019-10-01", PeriodEnd: "2019-10-15", Count: int64(1000 + i), Sales: 1, Rate: "3.24", Fee: 0, Amount: 1})
	}
	text, _ := pdfText(t, r, build(t, p, notice.SampleIssuer(), 1))
	if strings.Count(text, "\f") < 2 {
		t.Errorf("expected two pages")
	}
	for i := range 40 {
		if !strings.Contains(text, fmt.Sprint(1000+i)) {
			t.Errorf("line %d missing", i)
		}
	}
	if !strings.Contains(text, "¥8,242") || !strings.Contains(text, "お振込み予定日") {
		t.Error("totals or bank block missing")
	}
}

func TestRenderIsDeterministicAndConcurrent(t *testing.T) {
	r := need(t)
	n := build(t, notice.SamplePayout(), notice.SampleIssuer(), 1)
	first, err := r.Render(n)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			b, err := r.Render(n)
			if err == nil && !bytes.Equal(b, first) {
				err = fmt.Errorf("two renderings of one notice differ")
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCharacterWithoutGlyph(t *testing.T) {
	r := need(t)
	p := notice.SamplePayout()
	p.Name = "カフェ\U0001F600"
	_, err := r.Render(build(t, p, notice.SampleIssuer(), 1))
	if domain.CodeOf(err) != domain.CodeInvalidField || !strings.Contains(err.Error(), "270212122") || !strings.Contains(err.Error(), "U+1F600") {
		t.Fatalf("err %v", err)
	}
	// The font has 𠀋 (U+2000B), but gopdf cannot map a character beyond
	// the BMP back to text: refused rather than silently unsearchable.
	p.Name = "\U0002000B屋"
	if _, err := r.Render(build(t, p, notice.SampleIssuer(), 1)); domain.CodeOf(err) != domain.CodeInvalidField || !strings.Contains(err.Error(), "U+2000B") {
		t.Fatalf("non-BMP: %v", err)
	}
	p.Name = "☕"
	if _, err := r.Render(build(t, p, notice.SampleIssuer(), 1)); domain.CodeOf(err) != domain.CodeInvalidField || !strings.Contains(err.Error(), "U+2615") {
		t.Fatalf("no glyph: %v", err)
	}
}

func TestMissingFont(t *testing.T) {
	_, err := pdfnotice.New(filepath.Join(t.TempDir(), "none.ttf"))
	if domain.CodeOf(err) != domain.CodeInvalidField || !strings.Contains(err.Error(), pdfnotice.FontPackage) {
		t.Fatalf("err %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.ttf")
	os.WriteFile(bad, []byte("not a font"), 0o644)
	if _, err := pdfnotice.New(bad); domain.CodeOf(err) != domain.CodeInvalidField {
		t.Fatalf("not a font: %v", err)
	}
}

func TestLongNamesAreSetSmaller(t *testing.T) {
	r := need(t, "pdftotext")
	p := notice.SamplePayout()
	p.Name = strings.Repeat("株式会社長い名前の加盟店", 4)
	p.Bank.BranchName = strings.Repeat("とても長い支店名", 6)
	text, _ := pdfText(t, r, build(t, p, notice.SampleIssuer(), 1))
	for _, want := range []string{p.Name + " 様", p.Bank.BranchName, "株式会社USEN"} {
		if !strings.Contains(text, want) {
			t.Errorf("lacks %q:\n%s", want, text)
		}
	}
}
