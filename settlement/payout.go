package settlement

import (
	"fmt"
	"sort"

	"github.com/rickb777/date"
	"github.com/shopspring/decimal"

	"upay/domain"
)

// Transfer fee (振込手数料) and its tax, waived for payees at Mizuho Bank.
const (
	TransferFee    domain.Yen = 180
	TransferFeeTax domain.Yen = 18
	MizuhoBankCode            = "0001"
)

// DefaultFeeTaxRate is the consumption tax on fees, in percent, for a
// taxable contract (domain.md, chosen).
var DefaultFeeTaxRate = decimal.NewFromInt(10)

// LineInput is one brand group's money in one period paid on the payday,
// read from the period totals.
type LineInput struct {
	Group       domain.Group
	PeriodStart date.Date
	PeriodEnd   date.Date
	Count       int64
	Sales       domain.Yen      // captures minus refunds processed in the period
	Rate        decimal.Decimal // contract rate in percent effective on the period's close date
}

// Line is a computed payout line.
type Line struct {
	LineInput
	Fee    domain.Yen // 決済手数料 = sales x rate / 100, truncated toward zero
	Amount domain.Yen // sales - fee
}

// Input is everything one payout needs.
type Input struct {
	Lines       []LineInput
	FeeTaxRate  decimal.Decimal // percent; 0 for a non-taxable contract
	PriorPeriod domain.Yen      // 前期末精算金額: the previous payout's carry-forward
	BankCode    string          // payee bank; Mizuho (0001) pays no transfer fee
}

// Payout is a computed payout, exact to the yen.
type Payout struct {
	Lines          []Line
	FeeTotal       domain.Yen
	FeeTax         domain.Yen // 決済手数料にかかる消費税
	PriorPeriod    domain.Yen
	TransferFee    domain.Yen // 振込手数料 (0 when waived or not transferred)
	TransferFeeTax domain.Yen
	Net            domain.Yen // 差引お振込金額 (0 when carried forward)
	CarriedForward domain.Yen // to the next payout's prior-period amount
	Transferred    bool
	FeeWaived      bool // Mizuho: no transfer fee
}

// truncPercent returns amount x pct / 100 truncated toward zero, exactly:
// amount x pct is exact in decimal, and /100 is a shift of the point.
func truncPercent(amount domain.Yen, pct decimal.Decimal) domain.Yen {
	return decimal.NewFromInt(amount).Mul(pct).Shift(-2).Truncate(0).IntPart()
}

// Compute applies the rules of "Computing a payout" (shared/domain.md):
// lines ordered VISA/MASTER, JCB/その他, 電子マネー then by period; fee and
// fee tax truncated toward zero; the transfer fee and its tax unless the bank
// is Mizuho; and a carry-forward instead of a transfer when what is due does
// not exceed the transfer fee plus its tax.
func Compute(in Input) (Payout, error) {
	if len(in.Lines) == 0 {
		return Payout{}, domain.Err(domain.CodeInvalidField, "a payout needs at least one line")
	}
	var out Payout
	for _, li := range in.Lines {
		if li.Rate.IsNegative() || li.Rate.GreaterThan(decimal.NewFromInt(100)) {
			return Payout{}, domain.Err(domain.CodeInvalidField, "rate %s%% of %s is outside 0..100", li.Rate, li.Group)
		}
		fee := truncPercent(li.Sales, li.Rate)
		out.Lines = append(out.Lines, Line{LineInput: li, Fee: fee, Amount: li.Sales - fee})
	}
	sort.SliceStable(out.Lines, func(i, j int) bool {
		a, b := out.Lines[i], out.Lines[j]
		if a.Group != b.Group {
			return groupOrder(a.Group) < groupOrder(b.Group)
		}
		return a.PeriodStart.Before(b.PeriodStart)
	})
	var amounts domain.Yen
	for _, l := range out.Lines {
		out.FeeTotal += l.Fee
		amounts += l.Amount
	}
	out.FeeTax = truncPercent(out.FeeTotal, in.FeeTaxRate)
	out.PriorPeriod = in.PriorPeriod
	due := amounts - out.FeeTax + in.PriorPeriod
	tf, tft := TransferFee, TransferFeeTax
	if in.BankCode == MizuhoBankCode {
		tf, tft = 0, 0
		out.FeeWaived = true
	}
	if due <= tf+tft {
		out.CarriedForward = due
		return out, nil
	}
	out.Transferred = true
	out.TransferFee, out.TransferFeeTax = tf, tft
	out.Net = due - tf - tft
	return out, nil
}

func groupOrder(g domain.Group) int {
	for i, x := range domain.Groups {
		if x == g {
			return i
		}
	}
	panic(fmt.Sprintf("settlement: unknown brand group %q", g))
}

// Check verifies the payout's identities; auditors run it over every issued
// payout: net = sum(amounts) - fee tax + prior - transfer fee - its tax when
// transferred, and the carry-forward is that whole amount otherwise.
func (p Payout) Check() error {
	var amounts domain.Yen
	for _, l := range p.Lines {
		if l.Amount != l.Sales-l.Fee {
			return fmt.Errorf("line %s %s: amount %d != sales %d - fee %d", l.Group, l.PeriodStart, l.Amount, l.Sales, l.Fee)
		}
		amounts += l.Amount
	}
	due := amounts - p.FeeTax + p.PriorPeriod
	if p.Transferred {
		if p.Net != due-p.TransferFee-p.TransferFeeTax || p.CarriedForward != 0 || p.Net <= 0 {
			return fmt.Errorf("net %d != %d - %d - %d", p.Net, due, p.TransferFee, p.TransferFeeTax)
		}
		return nil
	}
	if p.Net != 0 || p.CarriedForward != due || p.TransferFee != 0 || p.TransferFeeTax != 0 {
		return fmt.Errorf("carried %d != due %d (net %d)", p.CarriedForward, due, p.Net)
	}
	return nil
}
