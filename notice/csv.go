package notice

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
)

// CSVHeader is the header row of the notice CSV.
var CSVHeader = []string{"通知書No", "発行日", "加盟店番号", "加盟店名", "お振込み予定日",
	"区分", "項目", "取扱期間開始", "取扱期間終了", "取引件数", "売上金額", "料率(%)", "決済手数料", "金額"}

// Row kinds of the CSV's 区分 column.
const (
	KindLine  = "明細" // one row per line of the table
	KindTotal = "合計" // one row per total under the table
)

// CSV renders the notice's figures for a spreadsheet: UTF-8 with a byte
// order mark and CRLF line ends (so that Excel in Japan opens it as
// UTF-8), a header row, one row per line of the table (区分 明細) and one
// row per total (区分 合計: 決済手数料合計, the totals the PDF prints, and
// 次回繰越金額, always present, 0 when there is a transfer). Amounts are
// plain integers of yen (no yen sign, no separators, a leading minus when
// negative), dates ISO (YYYY-MM-DD), rates in percent without the sign.
// Every row starts with the notice number, issue date, merchant and
// payday, so rows of several notices can be concatenated. A text cell
// that a spreadsheet would take for a formula is prefixed with an
// apostrophe.
func CSV(n Notice) []byte {
	var b bytes.Buffer
	b.WriteString("\uFEFF")
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	head := []string{n.No, n.IssueDate.String(), string(n.Merchant), cellText(n.Name), n.Payday.String()}
	row := func(cols ...string) {
		w.Write(append(append(make([]string, 0, len(CSVHeader)), head...), cols...))
	}
	w.Write(CSVHeader)
	for _, l := range n.Lines {
		row(KindLine, cellText(l.CardType), l.PeriodStart.String(), l.PeriodEnd.String(), strconv.FormatInt(l.Count, 10),
			itoa(l.Sales), l.Rate, itoa(l.Fee), itoa(l.Amount))
	}
	total := func(label string, v int64) { row(KindTotal, label, "", "", "", "", "", "", itoa(v)) }
	total(LabelFee+"合計", n.FeeTotal)
	total(LabelFeeTax, n.FeeTax)
	total(LabelPrior, n.PriorPeriod)
	total(LabelTransferFee, n.TransferFee)
	total(LabelTransferTax, n.TransferFeeTax)
	total(LabelNet, n.Net)
	total(LabelCarried, n.CarriedForward)
	w.Flush() // a bytes.Buffer does not fail
	return b.Bytes()
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// cellText keeps a spreadsheet from reading a text cell as a formula
// (CSV injection): text starting with = + - @ gets a leading apostrophe,
// which Excel shows as a text marker.
func cellText(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}
