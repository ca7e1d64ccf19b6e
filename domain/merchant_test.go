package domain

import (
	"testing"
	"time"

	"github.com/rickb777/date"
)

func registration() RegisterMerchant {
	return RegisterMerchant{MerchantRegistered: MerchantRegistered{Merchant: "270212122", Name: "テスト商店", Contact: "平 次郎", Email: "owner@example.jp",
		Bank:  BankAccount{BankCode: "0010", BankName: "りそな銀行", BranchCode: "101", BranchName: "本店", Type: AccountOrdinary, Number: "1234567", Holder: "ﾃｽﾄｼﾖｳﾃﾝ"},
		Rates: Rates{VisaMaster: "3.24", JCBOther: "3.24", Emoney: "3.24"}}}
}

func TestMerchantRules(t *testing.T) {
	now := time.Date(2019, 10, 10, 1, 0, 0, 0, time.UTC) // 2019-10-10 JST: period A of October is open
	var m Merchant
	evs, err := m.Decide(registration(), now)
	if err != nil {
		t.Fatal(err)
	}
	if evs[0].(MerchantRegistered).FeeTaxRate != "10" {
		t.Fatal("fee tax rate must default to 10%")
	}
	m.Evolve(evs[0])
	d := date.MustParseISO
	mod := func(f func(*RegisterMerchant)) RegisterMerchant { r := registration(); f(&r); return r }
	tests := []struct {
		name string
		m    Merchant
		cmd  MerchantCommand
		code string
	}{
		{"register twice", m, registration(), CodeMerchantExists},
		{"bad id", Merchant{}, mod(func(r *RegisterMerchant) { r.Merchant = "12345" }), CodeInvalidField},
		{"bank code 3 digits", Merchant{}, mod(func(r *RegisterMerchant) { r.Bank.BankCode = "010" }), CodeInvalidField},
		{"branch code letters", Merchant{}, mod(func(r *RegisterMerchant) { r.Bank.BranchCode = "1A1" }), CodeInvalidField},
		{"account type", Merchant{}, mod(func(r *RegisterMerchant) { r.Bank.Type = "current" }), CodeInvalidField},
		{"rate above 100", Merchant{}, mod(func(r *RegisterMerchant) { r.Rates.Emoney = "100.01" }), CodeInvalidRate},
		{"rate negative", Merchant{}, mod(func(r *RegisterMerchant) { r.Rates.Emoney = "-1" }), CodeInvalidRate},
		{"rate 5 decimals", Merchant{}, mod(func(r *RegisterMerchant) { r.Rates.Emoney = "3.24001" }), CodeInvalidRate},
		{"rate exponent", Merchant{}, mod(func(r *RegisterMerchant) { r.Rates.Emoney = "3e0" }), CodeInvalidRate},
		{"rate missing", Merchant{}, mod(func(r *RegisterMerchant) { r.Rates.JCBOther = "" }), CodeMissingField},
		{"bad email", Merchant{}, mod(func(r *RegisterMerchant) { r.Email = "owner at example" }), CodeInvalidField},
		{"set rates unknown merchant", Merchant{}, SetRates{Merchant: "270212122", Rates: Rates{VisaMaster: "3"}, Effective: d("2019-10-16")}, CodeMerchantUnknown},
		{"effective in closed period", m, SetRates{Merchant: "270212122", Rates: Rates{VisaMaster: "3"}, Effective: d("2019-09-30")}, CodeRateInClosedPeriod},
		{"no rates", m, SetRates{Merchant: "270212122", Effective: d("2019-10-16")}, CodeMissingField},
		{"set bank bad number", m, SetBank{Merchant: "270212122", Bank: BankAccount{BankCode: "0001", BankName: "x", BranchCode: "001", BranchName: "y", Type: AccountOrdinary, Number: "12", Holder: "ｱ"}}, CodeInvalidField},
	}
	for _, tc := range tests {
		if _, err := tc.m.Decide(tc.cmd, now); CodeOf(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	// A change effective in the open period is accepted; rates follow history.
	evs, err = m.Decide(SetRates{Merchant: "270212122", Rates: Rates{VisaMaster: "3.00"}, Effective: d("2019-10-15")}, now)
	if err != nil {
		t.Fatal(err)
	}
	m.Evolve(evs[0])
	for _, tc := range []struct {
		g    Group
		day  string
		rate string
	}{{GroupVisaMaster, "2019-09-30", "3.24"}, {GroupVisaMaster, "2019-10-15", "3"}, {GroupVisaMaster, "2019-10-31", "3"}, {GroupJCBOther, "2019-10-31", "3.24"}} {
		if got := m.RateOn(tc.g, d(tc.day)); got.String() != tc.rate {
			t.Errorf("rate of %s on %s = %s, want %s", tc.g, tc.day, got, tc.rate)
		}
	}
}

func TestLastClosedCloseDate(t *testing.T) {
	for day, want := range map[string]string{"2019-10-15": "2019-09-30", "2019-10-16": "2019-10-15", "2019-10-01": "2019-09-30", "2019-03-01": "2019-02-28", "2020-03-20": "2020-03-15"} {
		if got := LastClosedCloseDate(date.MustParseISO(day)).String(); got != want {
			t.Errorf("%s: %s, want %s", day, got, want)
		}
	}
}
