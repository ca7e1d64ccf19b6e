package scenarios

// The YAML format, key by key (docs/scenarios.md). Every leaf is a yamlString,
// yamlInt or yamlBool so that it keeps its position; which keys are required is
// checked after decoding, against the document's index.

type fileYAML struct {
	Name      yamlString     `yaml:"name"`
	Merchants []merchantYAML `yaml:"merchants"`
	Steps     []stepYAML     `yaml:"steps"`
	Expect    expectYAML     `yaml:"expect"`
}

type merchantYAML struct {
	ID             yamlString `yaml:"id"`
	Name           yamlString `yaml:"name"`
	Contact        yamlString `yaml:"contact"`
	Email          yamlString `yaml:"email"`
	NoticePassword yamlString `yaml:"notice_password"`
	Bank           bankYAML   `yaml:"bank"`
	Rates          ratesYAML  `yaml:"rates"`
	FeeTaxRate     yamlString `yaml:"fee_tax_rate"`
}

type bankYAML struct {
	Code       yamlString `yaml:"code"`
	Name       yamlString `yaml:"name"`
	BranchCode yamlString `yaml:"branch_code"`
	BranchName yamlString `yaml:"branch_name"`
	Type       yamlString `yaml:"type"`
	Number     yamlString `yaml:"number"`
	Holder     yamlString `yaml:"holder"`
}

var bankKeys = []string{"code", "name", "branch_code", "branch_name", "type", "number", "holder"}

type ratesYAML struct {
	VisaMaster yamlString `yaml:"visa_master"`
	JCBOther   yamlString `yaml:"jcb_other"`
	Emoney     yamlString `yaml:"emoney"`
}

var rateKeys = []string{"visa_master", "jcb_other", "emoney"}

type stepYAML struct {
	At        yamlString `yaml:"at"`
	RequestID yamlString `yaml:"request_id"`

	Authorize     *authorizeYAML `yaml:"authorize"`
	Capture       *captureYAML   `yaml:"capture"`
	Void          *voidYAML      `yaml:"void"`
	Refund        *refundYAML    `yaml:"refund"`
	EmoneyDebit   *debitYAML     `yaml:"emoney_debit"`
	EmoneyResolve *resolveYAML   `yaml:"emoney_resolve"`
	SetRates      *setRatesYAML  `yaml:"set_rates"`
	SetBank       *setBankYAML   `yaml:"set_bank"`
	PayoutRun     *payoutRunYAML `yaml:"payout_run"`
}

// Step kinds: the action key of a step.
const (
	kindAuthorize     = "authorize"
	kindCapture       = "capture"
	kindVoid          = "void"
	kindRefund        = "refund"
	kindEmoneyDebit   = "emoney_debit"
	kindEmoneyResolve = "emoney_resolve"
	kindSetRates      = "set_rates"
	kindSetBank       = "set_bank"
	kindPayoutRun     = "payout_run"
)

var stepKinds = []string{kindAuthorize, kindCapture, kindVoid, kindRefund, kindEmoneyDebit, kindEmoneyResolve,
	kindSetRates, kindSetBank, kindPayoutRun}

// required keys of each step kind; the others are optional.
var stepRequired = map[string][]string{
	kindAuthorize:     {"payment", "merchant", "brand", "amount", "card"},
	kindCapture:       {"payment"},
	kindVoid:          {"payment"},
	kindRefund:        {"payment", "amount", "card"},
	kindEmoneyDebit:   {"payment", "merchant", "amount", "card", "balance_before", "outcome"},
	kindEmoneyResolve: {"payment", "outcome"},
	kindSetRates:      {"merchant", "rates", "effective"},
	kindSetBank:       {"merchant", "bank"},
	kindPayoutRun:     {"payday"},
}

type authorizeYAML struct {
	Payment         yamlString `yaml:"payment"`
	Merchant        yamlString `yaml:"merchant"`
	Brand           yamlString `yaml:"brand"`
	Amount          yamlInt    `yaml:"amount"`
	Card            yamlString `yaml:"card"`
	Installments    yamlInt    `yaml:"installments"`
	Result          yamlString `yaml:"result"`
	CardCompanyCode yamlString `yaml:"card_company_code"`
	Terminal        yamlString `yaml:"terminal"`
}

type captureYAML struct {
	Payment yamlString `yaml:"payment"`
	Amount  yamlInt    `yaml:"amount"`
}

type voidYAML struct {
	Payment yamlString `yaml:"payment"`
	Card    yamlString `yaml:"card"`
}

type refundYAML struct {
	Payment yamlString `yaml:"payment"`
	Amount  yamlInt    `yaml:"amount"`
	Card    yamlString `yaml:"card"`
}

type debitYAML struct {
	Payment       yamlString `yaml:"payment"`
	Merchant      yamlString `yaml:"merchant"`
	Amount        yamlInt    `yaml:"amount"`
	Card          yamlString `yaml:"card"`
	BalanceBefore yamlInt    `yaml:"balance_before"`
	Outcome       yamlString `yaml:"outcome"`
	Training      yamlBool   `yaml:"training"`
	Terminal      yamlString `yaml:"terminal"`
}

type resolveYAML struct {
	Payment yamlString `yaml:"payment"`
	Outcome yamlString `yaml:"outcome"`
}

type setRatesYAML struct {
	Merchant  yamlString `yaml:"merchant"`
	Rates     ratesYAML  `yaml:"rates"`
	Effective yamlString `yaml:"effective"`
}

type setBankYAML struct {
	Merchant yamlString `yaml:"merchant"`
	Bank     bankYAML   `yaml:"bank"`
}

type payoutRunYAML struct {
	Payday yamlString `yaml:"payday"`
}

type expectYAML struct {
	Rejections []rejectionYAML `yaml:"rejections"`
	Payouts    []payoutYAML    `yaml:"payouts"`
}

type rejectionYAML struct {
	Step     yamlInt    `yaml:"step"`
	Code     yamlString `yaml:"code"`
	Merchant yamlString `yaml:"merchant"`
}

type payoutYAML struct {
	Merchant       yamlString `yaml:"merchant"`
	Payday         yamlString `yaml:"payday"`
	NoticeDate     yamlString `yaml:"notice_date"`
	NoticeNo       yamlString `yaml:"notice_no"`
	Lines          []lineYAML `yaml:"lines"`
	FeeTax         yamlInt    `yaml:"fee_tax"`
	PriorPeriod    yamlInt    `yaml:"prior_period"`
	TransferFee    yamlInt    `yaml:"transfer_fee"`
	TransferFeeTax yamlInt    `yaml:"transfer_fee_tax"`
	Net            yamlInt    `yaml:"net"`
	CarriedForward yamlInt    `yaml:"carried_forward"`
}

type lineYAML struct {
	Group  yamlString `yaml:"group"`
	Period yamlString `yaml:"period"`
	Count  yamlInt    `yaml:"count"`
	Sales  yamlInt    `yaml:"sales"`
	Rate   yamlString `yaml:"rate"`
	Fee    yamlInt    `yaml:"fee"`
	Amount yamlInt    `yaml:"amount"`
}
