package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/shopspring/decimal"
)

// Compare lists every difference between what s expects and what happened,
// one readable line each, in step order for rejections and then in the
// file's order for payouts. Every actual rejection must be expected and
// every issued payout must be listed; a listed payout's fields are compared
// only where the file gives them.
func Compare(s *Scenario, act Outcome) []string {
	var diffs []string
	type rkey struct {
		step     int
		merchant string
	}
	want := map[rkey]ExpectRejection{}
	got := map[rkey]Rejection{}
	var keys []rkey
	for _, r := range s.Expect.Rejections {
		k := rkey{r.Step, r.Merchant}
		want[k] = r
		keys = append(keys, k)
	}
	for _, r := range act.Rejections {
		k := rkey{r.Step, r.Merchant}
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
		got[k] = r
	}
	slices.SortFunc(keys, func(a, b rkey) int {
		return cmp.Or(cmp.Compare(a.step, b.step), cmp.Compare(a.merchant, b.merchant))
	})
	keys = slices.Compact(keys)
	for _, k := range keys {
		w, wok := want[k]
		g, gok := got[k]
		who := s.describe(k.step)
		if k.merchant != "" {
			who += " merchant " + k.merchant
		}
		switch {
		case wok && !gok:
			diffs = append(diffs, fmt.Sprintf("%s: want rejection %s, but the step was accepted", who, w.Code))
		case !wok && gok:
			diffs = append(diffs, fmt.Sprintf("%s: rejected %s, not listed in expect.rejections (%s)", who, g.Code, g.detail))
		case w.Code != g.Code:
			diffs = append(diffs, fmt.Sprintf("%s: rejection: want %s, got %s (%s)", who, w.Code, g.Code, g.detail))
		}
	}

	used := make([]bool, len(act.Payouts))
	for i, w := range s.Expect.Payouts {
		prefix := fmt.Sprintf("payouts[%d] %s %s", i, w.Merchant, w.Payday)
		j := slices.IndexFunc(act.Payouts, func(p Payout) bool { return p.Merchant == w.Merchant && p.Payday == w.Payday })
		if j < 0 {
			diffs = append(diffs, prefix+": not issued")
			continue
		}
		used[j] = true
		diffs = append(diffs, comparePayout(prefix, w, act.Payouts[j])...)
	}
	for j, p := range act.Payouts {
		if !used[j] {
			diffs = append(diffs, fmt.Sprintf("payout %s %s (%s, net %d, carried forward %d) issued by step %d, not listed in expect.payouts",
				p.Merchant, p.Payday, p.NoticeNo, p.Net, p.CarriedForward, p.step))
		}
	}
	return diffs
}

func comparePayout(prefix string, w ExpectPayout, g Payout) []string {
	var diffs []string
	str := func(field string, want *string, got string) {
		if want != nil && *want != got {
			diffs = append(diffs, fmt.Sprintf("%s: %s: want %s, got %s", prefix, field, *want, got))
		}
	}
	num := func(field string, want *int64, got int64) {
		if want != nil && *want != got {
			diffs = append(diffs, fmt.Sprintf("%s: %s: want %d, got %d", prefix, field, *want, got))
		}
	}
	str("notice_date", w.NoticeDate, g.NoticeDate)
	str("notice_no", w.NoticeNo, g.NoticeNo)
	if w.Lines != nil {
		wl := *w.Lines
		if len(wl) != len(g.Lines) {
			var have []string
			for _, l := range g.Lines {
				have = append(have, l.Group+" "+l.Period)
			}
			diffs = append(diffs, fmt.Sprintf("%s: lines: want %d, got %d [%s]", prefix, len(wl), len(g.Lines), strings.Join(have, "; ")))
		}
		for k := range min(len(wl), len(g.Lines)) {
			diffs = append(diffs, compareLine(fmt.Sprintf("%s: lines[%d] %s %s", prefix, k, g.Lines[k].Group, g.Lines[k].Period), wl[k], g.Lines[k])...)
		}
	}
	num("fee_tax", w.FeeTax, g.FeeTax)
	num("prior_period", w.PriorPeriod, g.PriorPeriod)
	num("transfer_fee", w.TransferFee, g.TransferFee)
	num("transfer_fee_tax", w.TransferFeeTax, g.TransferFeeTax)
	num("net", w.Net, g.Net)
	num("carried_forward", w.CarriedForward, g.CarriedForward)
	return diffs
}

func compareLine(prefix string, w ExpectLine, g Line) []string {
	var diffs []string
	str := func(field string, want *string, got string) {
		if want != nil && *want != got {
			diffs = append(diffs, fmt.Sprintf("%s: %s: want %s, got %s", prefix, field, *want, got))
		}
	}
	num := func(field string, want *int64, got int64) {
		if want != nil && *want != got {
			diffs = append(diffs, fmt.Sprintf("%s: %s: want %d, got %d", prefix, field, *want, got))
		}
	}
	str("group", w.Group, g.Group)
	str("period", w.Period, g.Period)
	num("count", w.Count, g.Count)
	num("sales", w.Sales, g.Sales)
	if w.Rate != nil {
		if r, err := decimal.NewFromString(g.Rate); err != nil || !r.Equal(*w.Rate) {
			diffs = append(diffs, fmt.Sprintf("%s: rate: want %s, got %s", prefix, w.Rate.String(), g.Rate))
		}
	}
	num("fee", w.Fee, g.Fee)
	num("amount", w.Amount, g.Amount)
	return diffs
}

// describe names a step for a diff: "step 4 (void p1)".
func (s *Scenario) describe(n int) string {
	if n < 1 || n > len(s.Steps) {
		return fmt.Sprintf("step %d", n)
	}
	st := s.Steps[n-1]
	what := st.Kind
	switch {
	case st.Payment != "":
		what += " " + string(st.Payment)
	case st.Kind == kindPayoutRun:
		what += " " + st.Payday.String()
	case st.Merchant != "":
		what += " " + string(st.Merchant)
	}
	return fmt.Sprintf("step %d (%s)", n, what)
}
