package settlement

import (
	"math/rand/v2"
	"testing"

	"github.com/rickb777/date"
	"github.com/shopspring/decimal"

	"upay/domain"
)

func d(s string) date.Date { return date.MustParseISO(s) }

func rate(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func line(g domain.Group, start, end string, count int64, sales domain.Yen, r string) LineInput {
	return LineInput{Group: g, PeriodStart: d(start), PeriodEnd: d(end), Count: count, Sales: sales, Rate: rate(r)}
}

// The manual's sample lines: 14,140 x 3.24% = 458.136 -> 458; 2,000 x 3.24% = 64.8 -> 64.
func TestManualSampleLines(t *testing.T) {
	p, err := Compute(Input{Lines: []LineInput{
		line(domain.GroupJCBOther, "2019-10-01", "2019-10-15", 2, 2000, "3.24"),
		line(domain.GroupVisaMaster, "2019-10-01", "2019-10-15", 3, 14140, "3.24"),
	}, FeeTaxRate: DefaultFeeTaxRate, PriorPeriod: -7126, BankCode: "0010"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Lines[0].Group != domain.GroupVisaMaster || p.Lines[0].Fee != 458 || p.Lines[0].Amount != 13682 {
		t.Fatalf("VISA/MASTER line %+v", p.Lines[0])
	}
	if p.Lines[1].Fee != 64 || p.Lines[1].Amount != 1936 {
		t.Fatalf("JCB line %+v", p.Lines[1])
	}
	// Fee tax: (458 + 64) x 10% = 52.2 -> 52. Due: 13,682 + 1,936 - 52 - 7,126 = 8,440.
	if p.FeeTax != 52 || p.TransferFee != 180 || p.TransferFeeTax != 18 || p.Net != 8440-198 || !p.Transferred {
		t.Fatalf("payout %+v", p)
	}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
}

// The scenario: a 5,000 sale with a 1,000 refund in the period.
func TestScenarioExample(t *testing.T) {
	p, _ := Compute(Input{Lines: []LineInput{line(domain.GroupVisaMaster, "2019-10-01", "2019-10-15", 2, 4000, "3.24")}, FeeTaxRate: DefaultFeeTaxRate, BankCode: "0010"})
	if p.Lines[0].Fee != 129 || p.Lines[0].Amount != 3871 || p.FeeTax != 12 || p.Net != 3661 || p.CarriedForward != 0 {
		t.Fatalf("%+v", p)
	}
}

func TestCarryForwardAndWaiver(t *testing.T) {
	tests := []struct {
		name        string
		sales       domain.Yen
		prior       domain.Yen
		bank        string
		net, carry  domain.Yen
		transferred bool
	}{
		// 200 - fee 6 (3%) - tax 0 = 194 <= 198: carried, no fee charged.
		{"below the transfer fee is carried", 200, 0, "0010", 0, 194, false},
		// 204 - 6 = 198: exactly the fee and its tax: not greater, carried.
		{"equal to the transfer fee is carried", 204, 0, "0010", 0, 198, false},
		// 206 - 6 = 200 > 198: transferred, net 2.
		{"one yen over is transferred", 206, 0, "0010", 2, 0, true},
		// -5000: fee -150, amount -4850, fee tax -15 (truncated toward zero): -4835 carried.
		{"negative is carried", -5000, 0, "0010", 0, -4835, false},
		{"carried negative absorbed", 10000, -4850, "0010", 10000 - 300 - 30 - 4850 - 198, 0, true},
		{"Mizuho pays no transfer fee", 206, 0, MizuhoBankCode, 200, 0, true},
		{"Mizuho: zero is carried", 0, 0, MizuhoBankCode, 0, 0, false},
		{"Mizuho: one yen is transferred", 1, 0, MizuhoBankCode, 1, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compute(Input{Lines: []LineInput{line(domain.GroupVisaMaster, "2019-10-01", "2019-10-15", 1, tc.sales, "3")},
				FeeTaxRate: DefaultFeeTaxRate, PriorPeriod: tc.prior, BankCode: tc.bank})
			if err != nil {
				t.Fatal(err)
			}
			if p.Net != tc.net || p.CarriedForward != tc.carry || p.Transferred != tc.transferred {
				t.Fatalf("net %d carried %d transferred %v; want %d %d %v (%+v)", p.Net, p.CarriedForward, p.Transferred, tc.net, tc.carry, tc.transferred, p)
			}
			if !p.Transferred && (p.TransferFee != 0 || p.TransferFeeTax != 0) {
				t.Fatal("a carried payout is charged no transfer fee")
			}
			if err := p.Check(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestTruncationTowardZero(t *testing.T) {
	for _, tc := range []struct {
		sales domain.Yen
		rate  string
		fee   domain.Yen
	}{
		{14140, "3.24", 458}, {2000, "3.24", 64}, {-14140, "3.24", -458}, {-1, "3.24", 0},
		{1, "99.9999", 0}, {100, "99.9999", 99}, {9_999_999_999, "3.2401", 324_009_999}, {33, "3.0303", 0}, {34, "3.0303", 1},
	} {
		if got := truncPercent(tc.sales, rate(tc.rate)); got != tc.fee {
			t.Errorf("%d x %s%% = %d, want %d", tc.sales, tc.rate, got, tc.fee)
		}
	}
	if got := truncPercent(-523, DefaultFeeTaxRate); got != -52 {
		t.Errorf("negative fee tax truncates toward zero: %d", got)
	}
}

func TestNonTaxableAndOrdering(t *testing.T) {
	p, _ := Compute(Input{Lines: []LineInput{
		line(domain.GroupEmoney, "2019-09-01", "2019-09-30", 1, 1000, "3.24"),
		line(domain.GroupVisaMaster, "2019-10-01", "2019-10-15", 1, 1000, "3.24"),
		line(domain.GroupVisaMaster, "2019-09-16", "2019-09-30", 1, 1000, "3.24"),
	}, FeeTaxRate: decimal.Zero, BankCode: "0010"})
	if p.FeeTax != 0 {
		t.Fatalf("non-taxable contract taxed %d", p.FeeTax)
	}
	want := []string{"VISA/MASTER 2019-09-16", "VISA/MASTER 2019-10-01", "電子マネー 2019-09-01"}
	for i, l := range p.Lines {
		if got := string(l.Group) + " " + l.PeriodStart.String(); got != want[i] {
			t.Fatalf("line %d = %s, want %s", i, got, want[i])
		}
	}
	if _, err := Compute(Input{Lines: []LineInput{line(domain.GroupVisaMaster, "2019-10-01", "2019-10-15", 1, 1, "100.01")}}); domain.CodeOf(err) != domain.CodeInvalidField {
		t.Fatalf("rate above 100: %v", err)
	}
	if _, err := Compute(Input{}); err == nil {
		t.Fatal("a payout without lines must be refused")
	}
}

// The net identity holds for any input (property test).
func TestPayoutIdentity(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		var lines []LineInput
		for range 1 + rng.IntN(4) {
			lines = append(lines, LineInput{Group: domain.Groups[rng.IntN(3)], PeriodStart: d("2019-10-01"),
				Count: 1, Sales: rng.Int64N(2_000_000) - 200_000, Rate: decimal.New(rng.Int64N(1_000_000), -4)})
		}
		bank := "0010"
		if rng.IntN(4) == 0 {
			bank = MizuhoBankCode
		}
		p, err := Compute(Input{Lines: lines, FeeTaxRate: DefaultFeeTaxRate, PriorPeriod: rng.Int64N(20000) - 10000, BankCode: bank})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Check(); err != nil {
			t.Fatalf("case %d: %v (%+v)", i, err, p)
		}
	}
}

func BenchmarkCompute(b *testing.B) {
	in := Input{Lines: []LineInput{
		line(domain.GroupVisaMaster, "2019-10-01", "2019-10-15", 3, 14140, "3.24"),
		line(domain.GroupJCBOther, "2019-10-01", "2019-10-15", 2, 2000, "3.24"),
		line(domain.GroupEmoney, "2019-09-01", "2019-09-30", 5, 3000, "3.24"),
	}, FeeTaxRate: DefaultFeeTaxRate, PriorPeriod: -7126, BankCode: "0010"}
	for b.Loop() {
		if _, err := Compute(in); err != nil {
			b.Fatal(err)
		}
	}
}
