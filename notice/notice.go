package notice

import (
	"strings"
	"unicode"

	"github.com/rickb777/date"

	"upay/domain"
)

// Labels of the notice, as the manual's sample prints them. The PDF and
// the CSV use the same constants.
const (
	Title            = "お支払通知書"
	LabelIssueDate   = "発行日"
	LabelNoticeNo    = "通知書No"
	LabelContact     = "ご担当者"
	Honorific        = "様"
	LabelCardType    = "カード種類"
	LabelPeriod      = "取扱期間"
	LabelCount       = "取引件数"
	LabelSales       = "売上金額"
	LabelRate        = "料率"
	LabelFee         = "決済手数料"
	LabelAmount      = "金額"
	LabelFeeTax      = "決済手数料にかかる消費税"
	LabelPrior       = "前期末精算金額"
	LabelTransferFee = "振込手数料"
	LabelTransferTax = "振込手数料にかかる消費税"
	LabelNet         = "差引お振込金額"
	LabelCarried     = "次回繰越金額"
	LabelUnit        = "単位：円"
	LabelBank        = "指定金融機関"
	LabelBranch      = "金融機関支店名"
	LabelAccountType = "口座種類"
	LabelAccountNo   = "口座番号"
	LabelHolder      = "口座名義"
	LabelPayday      = "お振込み予定日"
	LabelInvoiceNo   = "登録番号"
)

// Issuer is the company that issues the notices (the payment service):
// configuration, not data of the payout.
type Issuer struct {
	Name       string   `json:"name"`                 // 株式会社USEN
	PostalCode string   `json:"postal_code"`          // 141-0021 (printed after 〒)
	Address    []string `json:"address"`              // one entry per printed line
	Phone      string   `json:"phone"`                // 0120-125-440 (printed after TEL)
	InvoiceNo  string   `json:"invoice_no,omitempty"` // qualified-invoice registration number (適格請求書発行事業者登録番号): T + 13 digits, optional
	// Service names the service in the greeting
	// ("<Service>をご利用いただきまして誠にありがとうございます。").
	Service string `json:"service"`
	// PasswordDocument names the document(s) that gave the merchant its
	// 9-digit notice password, quoted in the last footnote.
	PasswordDocument string `json:"password_document"`
}

// SampleIssuer is the issuer of the manual's sample notice. The command
// line uses it when no issuer file is configured, so that a demo looks
// like the sample.
func SampleIssuer() Issuer {
	return Issuer{
		Name:             "株式会社USEN",
		PostalCode:       "141-0021",
		Address:          []string{"東京都品川区上大崎三丁目1番1号", "目黒セントラルスクエア"},
		Phone:            "0120-125-440",
		Service:          "USEN PAYGATE/Uペイ",
		PasswordDocument: "「USEN PAYGATEパスワード通知」もしくは「Uペイアカウント通知」",
	}
}

// Validate checks the configuration: a name, and a registration number
// of the form T followed by 13 digits when one is given.
func (is Issuer) Validate() error {
	if strings.TrimSpace(is.Name) == "" {
		return domain.Err(domain.CodeMissingField, "issuer name is required")
	}
	if is.InvoiceNo != "" && !validInvoiceNo(is.InvoiceNo) {
		return domain.Err(domain.CodeInvalidField, "issuer invoice registration number %q must be T followed by 13 digits", is.InvoiceNo)
	}
	for _, s := range append([]string{is.Name, is.PostalCode, is.Phone, is.InvoiceNo, is.Service, is.PasswordDocument}, is.Address...) {
		if err := checkText("issuer", s); err != nil {
			return err
		}
	}
	return nil
}

func validInvoiceNo(s string) bool {
	if len(s) != 14 || s[0] != 'T' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Line is one row of the notice's table: a brand group and period.
type Line struct {
	CardType    string    // カード種類: VISA/MASTER, JCB/その他, 電子マネー
	PeriodStart date.Date // 取扱期間
	PeriodEnd   date.Date
	Count       int64      // 取引件数
	Sales       domain.Yen // 売上金額
	Rate        string     // 料率 in percent, at least two decimals: "3.24"
	Fee         domain.Yen // 決済手数料
	Amount      domain.Yen // 金額
}

// Period is the 取扱期間 as printed: 10/01-15.
func (l Line) Period() string { return Period(l.PeriodStart, l.PeriodEnd) }

// RateText is the 料率 as printed: 3.24%.
func (l Line) RateText() string { return l.Rate + "%" }

// Bank is the payee account as the notice shows it.
type Bank struct {
	Name        string // 指定金融機関
	Branch      string // 金融機関支店名
	AccountType string // 口座種類: 普通, 当座, 貯蓄
	Masked      string // 口座番号, masked: ***567
	Holder      string // 口座名義
}

// Notice is the payout notice (支払通知書) of one merchant and payday:
// every figure comes from the payout.issued event, nothing is computed.
type Notice struct {
	No        string            // 通知書No: <merchant>-<seq>-<YYYYMMDD>
	Seq       int               // 1 for the first issue, 2 for the first reissue...
	Merchant  domain.MerchantID //
	Name      string            // merchant name, printed with 様
	Contact   string            // ご担当者, printed with 様; may be empty
	IssueDate date.Date         // 発行日
	Payday    date.Date         // お振込み予定日
	Issuer    Issuer

	Lines          []Line
	FeeTotal       domain.Yen
	FeeTaxRate     string     // percent, e.g. "10"
	FeeTax         domain.Yen // 決済手数料にかかる消費税
	PriorPeriod    domain.Yen // 前期末精算金額 (may be negative: red slip)
	TransferFee    domain.Yen // 振込手数料
	TransferFeeTax domain.Yen // 振込手数料にかかる消費税
	Net            domain.Yen // 差引お振込金額
	CarriedForward domain.Yen // 次回繰越金額 when there is no transfer
	Transferred    bool
	Bank           Bank
}

// FileName is the base name of the notice's files: <notice no>.pdf,
// <notice no>.csv, and the archive <notice no>.zip.
func (n Notice) FileName(ext string) string { return n.No + "." + ext }

// Build makes the notice of an issued payout. seq is the notice's
// sequence number (1 for the first issue, 2 and up for reissues); the
// notice number is the payout's with that sequence number. issued is the
// notice's issue date (発行日). Build copies figures; it never recomputes
// one. Malformed events or configuration are reported with U1003 or U1009
// naming the merchant.
func Build(p domain.PayoutIssued, is Issuer, issued date.Date, seq int) (Notice, error) {
	if _, err := domain.ParseMerchantID(string(p.Merchant)); err != nil {
		return Notice{}, err
	}
	fail := func(code, format string, args ...any) (Notice, error) {
		e := domain.Err(code, format, args...)
		e.Detail = "merchant " + string(p.Merchant) + ": " + e.Detail
		return Notice{}, e
	}
	if err := is.Validate(); err != nil {
		return Notice{}, err
	}
	payday, err := date.ParseISO(p.Payday)
	if err != nil {
		return fail(domain.CodeInvalidField, "payday %q is not a date", p.Payday)
	}
	if seq < 1 || seq > 999 {
		return fail(domain.CodeInvalidField, "notice sequence %d is not in 1..999", seq)
	}
	if want := domain.NoticeNo(p.Merchant, 1, p.Payday); p.NoticeNo != want {
		return fail(domain.CodeInvalidField, "payout notice number %q, want %q", p.NoticeNo, want)
	}
	if issued.IsZero() {
		return fail(domain.CodeMissingField, "issue date is required")
	}
	if strings.TrimSpace(p.Name) == "" {
		return fail(domain.CodeMissingField, "merchant name is empty")
	}
	if len(p.Lines) == 0 {
		return fail(domain.CodeMissingField, "payout %s has no lines", p.NoticeNo)
	}
	for _, s := range []string{p.Name, p.Contact, p.Bank.BankName, p.Bank.BranchName, p.Bank.Holder, p.Bank.Number} {
		if err := checkText("merchant "+string(p.Merchant), s); err != nil {
			return Notice{}, err
		}
	}
	acct, err := AccountType(p.Bank.Type)
	if err != nil {
		return fail(domain.CodeInvalidField, "account type %q is not ordinary, checking or savings", p.Bank.Type)
	}
	n := Notice{
		No:             domain.NoticeNo(p.Merchant, seq, p.Payday),
		Seq:            seq,
		Merchant:       p.Merchant,
		Name:           p.Name,
		Contact:        p.Contact,
		IssueDate:      issued,
		Payday:         payday,
		Issuer:         is,
		FeeTotal:       p.FeeTotal,
		FeeTaxRate:     p.FeeTaxRate,
		FeeTax:         p.FeeTax,
		PriorPeriod:    p.PriorPeriod,
		TransferFee:    p.TransferFee,
		TransferFeeTax: p.TransferFeeTax,
		Net:            p.Net,
		CarriedForward: p.CarriedForward,
		Transferred:    p.Transferred,
		Bank: Bank{
			Name:        p.Bank.BankName,
			Branch:      p.Bank.BranchName,
			AccountType: acct,
			Masked:      MaskAccount(p.Bank.Number),
			Holder:      p.Bank.Holder,
		},
	}
	for i, l := range p.Lines {
		start, err1 := date.ParseISO(l.PeriodStart)
		end, err2 := date.ParseISO(l.PeriodEnd)
		if err1 != nil || err2 != nil || end.Before(start) {
			return fail(domain.CodeInvalidField, "line %d period %q..%q is not a date range", i+1, l.PeriodStart, l.PeriodEnd)
		}
		rate, err := normRate(l.Rate)
		if err != nil {
			return fail(domain.CodeInvalidField, "line %d rate %q is not a percentage", i+1, l.Rate)
		}
		if l.Group == "" {
			return fail(domain.CodeMissingField, "line %d has no card type", i+1)
		}
		n.Lines = append(n.Lines, Line{CardType: string(l.Group), PeriodStart: start, PeriodEnd: end,
			Count: l.Count, Sales: l.Sales, Rate: rate, Fee: l.Fee, Amount: l.Amount})
	}
	return n, nil
}

// checkText refuses control characters (a line break in a name would
// break the layout and the CSV's one-row-per-record promise) and invalid
// UTF-8.
func checkText(who, s string) error {
	for _, r := range s {
		if r == unicode.ReplacementChar || unicode.IsControl(r) {
			return domain.Err(domain.CodeInvalidField, "%s: text %q holds a control character or invalid UTF-8", who, s)
		}
	}
	return nil
}

// Amount is one row of the totals under the table.
type Amount struct {
	Label string
	Mark  string // footnote mark, e.g. "*1"
	Value domain.Yen
}

// Totals are the rows under the table, in the sample's order. 次回繰越金額
// is shown only when there is no transfer (the amount goes to the next
// payout as its 前期末精算金額).
func (n Notice) Totals() []Amount {
	out := []Amount{
		{Label: LabelFeeTax, Value: n.FeeTax},
		{Label: LabelPrior, Mark: "*1", Value: n.PriorPeriod},
		{Label: LabelTransferFee, Value: n.TransferFee},
		{Label: LabelTransferTax, Value: n.TransferFeeTax},
		{Label: LabelNet, Value: n.Net},
	}
	if !n.Transferred {
		out = append(out, Amount{Label: LabelCarried, Mark: "*2", Value: n.CarriedForward})
	}
	return out
}

// Field is a label and its printed value.
type Field struct{ Label, Value string }

// BankFields are the rows of the bank block.
func (n Notice) BankFields() []Field {
	pay := JapaneseDate(n.Payday)
	if !n.Transferred {
		pay += "（今回のお振込みはありません）"
	}
	return []Field{
		{LabelBank, n.Bank.Name},
		{LabelBranch, n.Bank.Branch},
		{LabelAccountType, n.Bank.AccountType},
		{LabelAccountNo, n.Bank.Masked},
		{LabelHolder, n.Bank.Holder},
		{LabelPayday, pay},
	}
}

// IssuerLines is the issuer block, one printed line each.
func (n Notice) IssuerLines() []string {
	is := n.Issuer
	out := []string{is.Name}
	if is.PostalCode != "" {
		out = append(out, "〒"+is.PostalCode)
	}
	out = append(out, is.Address...)
	if is.Phone != "" {
		out = append(out, "TEL "+is.Phone)
	}
	if is.InvoiceNo != "" {
		out = append(out, LabelInvoiceNo+" "+is.InvoiceNo)
	}
	return out
}

// Greeting is the two sentences under the header.
func (n Notice) Greeting() []string {
	svc := n.Issuer.Service
	if svc == "" {
		svc = n.Issuer.Name
	}
	return []string{
		svc + "をご利用いただきまして誠にありがとうございます。",
		"下記の通り、お支払予定金額をご案内いたします。",
	}
}

// TableNotes are the footnotes printed under the totals (the sample's *1
// and the brand notes), plus *2 when the amount is carried forward.
func (n Notice) TableNotes() []string {
	out := []string{
		"*1：過去のお支払済みの取引に対して取り消し、または変更により発生した赤伝処理分となります。",
	}
	if !n.Transferred {
		out = append(out, "*2：お振込金額が振込手数料以下のため今回のお振込みはありません。次回のお支払いで前期末精算金額として精算いたします。")
	}
	return append(out,
		"カード会社との直接契約分のお取引は本通知書には含まれません。直接契約先のカード会社にお問い合わせください。",
		"その他：American Express/Diners Club/Discover",
	)
}

// ClosingNotes are the footnotes at the bottom of the notice.
func (n Notice) ClosingNotes() []string {
	doc := n.Issuer.PasswordDocument
	if doc == "" {
		doc = "パスワード通知"
	}
	return []string{
		"※ご入金の日時帯については、各金融機関で異なりますが、当社からの指定が出来ません。",
		"　万が一ご入金を確認できない場合は、ご指定の金融機関へ直接お問い合わせをお願い致します。",
		"※本通知書のZIPファイルを展開する際のパスワードは、納品時にお渡ししている" + doc + "に記載の数字9桁を設定しております。",
	}
}
