package notice

import "upay/domain"

// SamplePayout is the payout of the manual's sample notice (merchant
// 270212122, payday 2019-10-31, two lines 10/01-15 at 3.24%, a red-slip
// prior-period amount of ¥-7,126), with the totals our rules give rather
// than the sample's illustrative ones: fee tax 52 (10% of 522), net 8,242
// (docs/settlement.md). Tests and the demo use it.
func SamplePayout() domain.PayoutIssued {
	return domain.PayoutIssued{
		Merchant:   "270212122",
		Payday:     "2019-10-31",
		NoticeDate: "2019-10-29",
		NoticeNo:   "270212122-001-20191031",
		Name:       "②新PAY切替Uペイ",
		Contact:    "平 次郎",
		Email:      "owner@example.jp",
		Bank: domain.BankAccount{BankCode: "0010", BankName: "りそな銀行", BranchCode: "101", BranchName: "証券信託業務支店",
			Type: domain.AccountOrdinary, Number: "1234567", Holder: "ｼﾝﾍﾟｲｷﾘｶｴ ﾕｰﾍﾟｲ"},
		Lines: []domain.PayoutLine{
			{Group: domain.GroupVisaMaster, PeriodStart: "2019-10-01", PeriodEnd: "2019-10-15", Count: 3, Sales: 14140, Rate: "3.24", Fee: 458, Amount: 13682},
			{Group: domain.GroupJCBOther, PeriodStart: "2019-10-01", PeriodEnd: "2019-10-15", Count: 2, Sales: 2000, Rate: "3.24", Fee: 64, Amount: 1936},
		},
		FeeTotal:       522,
		FeeTaxRate:     "10",
		FeeTax:         52,
		PriorPeriod:    -7126,
		PriorFrom:      "270212122-001-20191015",
		TransferFee:    180,
		TransferFeeTax: 18,
		Net:            8242,
		Transferred:    true,
	}
}
