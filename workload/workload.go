// Package workload generates a synthetic but realistic month of terminal
// commands as JSON Lines (the ingest format): card brands in market-like
// shares, installments, about 2% declines, voids, refunds (some in later
// periods), e-money debits with unknown outcomes resolved later, and
// training debits. The same seed always yields the same bytes, so every
// benchmark and demo can be reproduced.
//
// It streams day by day: commands due on a later day (refunds, late
// resolutions) wait in a queue, so memory grows with one day's commands,
// not with the month.
package workload

import (
	"bufio"
	"container/heap"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"upay/domain"
)

// Config says what to generate.
type Config struct {
	Merchants      int       // merchants, ids 270000001, 270000002, ...
	Days           int       // calendar days from Start
	PaymentsPerDay int       // per merchant per day
	Seed           uint64    // same seed, same output
	Start          time.Time // first day (its Asia/Tokyo date is used)
}

// MerchantID is the id of the i-th generated merchant (0-based).
func MerchantID(i int) domain.MerchantID { return domain.MerchantID(strconv.Itoa(270000001 + i)) }

// Stats counts what was generated.
type Stats struct {
	Commands int
	ByType   map[string]int
}

type cmd struct {
	at   time.Time
	seq  int
	typ  string
	line []byte
}

type queue []cmd

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(cmd)) }
func (q *queue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

type gen struct {
	cfg   Config
	rng   *rand.Rand
	seq   int
	later queue
	stats Stats
	cards map[domain.MerchantID][]card
}

type card struct {
	number string
	brand  domain.Brand
}

// Write generates the workload into w.
func Write(w io.Writer, cfg Config) (Stats, error) {
	if cfg.Merchants < 1 || cfg.Days < 1 || cfg.PaymentsPerDay < 1 {
		return Stats{}, domain.Err(domain.CodeInvalidField, "merchants, days and payments per day must be at least 1")
	}
	g := &gen{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x75706179)), stats: Stats{ByType: map[string]int{}}, cards: map[domain.MerchantID][]card{}}
	bw := bufio.NewWriterSize(w, 1<<20)
	y, m, d := cfg.Start.In(domain.Tokyo).Date()
	first := time.Date(y, m, d, 0, 0, 0, 0, domain.Tokyo)
	for day := 0; day < cfg.Days; day++ {
		dayStart := first.AddDate(0, 0, day)
		for mi := 0; mi < cfg.Merchants; mi++ {
			for k := 0; k < cfg.PaymentsPerDay; k++ {
				g.payment(MerchantID(mi), dayStart, k)
			}
		}
		// Every command generated from now on is at or after the next day's
		// start, so what is due before it can be written in time order.
		next := dayStart.AddDate(0, 0, 1)
		for g.later.Len() > 0 && g.later[0].at.Before(next) {
			c := heap.Pop(&g.later).(cmd)
			g.stats.Commands++
			g.stats.ByType[c.typ]++
			bw.Write(c.line)
			bw.WriteByte('\n')
		}
	}
	// Commands due after the last day are dropped: the month ends there.
	return g.stats, bw.Flush()
}

var brandShares = []struct {
	b     domain.Brand
	share int // per mille
}{{domain.Visa, 480}, {domain.Mastercard, 250}, {domain.JCB, 200}, {domain.Amex, 50}, {domain.Diners, 10}, {domain.Discover, 10}}

func (g *gen) pickBrand() domain.Brand {
	n := g.rng.IntN(1000)
	for _, s := range brandShares {
		if n < s.share {
			return s.b
		}
		n -= s.share
	}
	return domain.Visa
}

// cardFor returns a returning customer's card two times in five, else a new one.
func (g *gen) cardFor(m domain.MerchantID) card {
	pool := g.cards[m]
	if len(pool) > 20 && g.rng.IntN(5) < 2 {
		return pool[g.rng.IntN(len(pool))]
	}
	b := g.pickBrand()
	prefix, length := map[domain.Brand]string{domain.Visa: "4", domain.Mastercard: "5", domain.JCB: "35", domain.Amex: "37", domain.Diners: "36", domain.Discover: "6011"}[b], 16
	if b == domain.Amex {
		length = 15
	} else if b == domain.Diners {
		length = 14
	}
	num := []byte(prefix)
	for len(num) < length-1 {
		num = append(num, byte('0'+g.rng.IntN(10)))
	}
	num = append(num, luhnDigit(num))
	c := card{number: string(num), brand: b}
	if len(pool) < 500 {
		g.cards[m] = append(pool, c)
	}
	return c
}

// luhnDigit makes generated numbers valid card numbers.
func luhnDigit(n []byte) byte {
	sum := 0
	for i := len(n) - 1; i >= 0; i-- {
		d := int(n[i] - '0')
		if (len(n)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// emit queues a command; Write takes it out in time order.
func (g *gen) emit(at time.Time, typ string, fields string) {
	g.seq++
	line := fmt.Appendf(nil, `{"type":%q,"request_id":"g%d-%d","at":%q,%s}`, typ, g.cfg.Seed, g.seq, at.Format(time.RFC3339), fields)
	heap.Push(&g.later, cmd{at: at, seq: g.seq, typ: typ, line: line})
}

func (g *gen) payment(m domain.MerchantID, day time.Time, k int) {
	// Shops are open 09:00-21:00 JST; a few late sales fall after 23:00 to
	// exercise the Tokyo midnight boundary in UTC terms.
	at := day.Add(9*time.Hour + time.Duration(g.rng.IntN(12*3600))*time.Second)
	if g.rng.IntN(200) == 0 {
		at = day.Add(23*time.Hour + time.Duration(g.rng.IntN(3599))*time.Second)
	}
	pid := fmt.Sprintf("%s-%s-%05d", m, day.Format("20060102"), k)
	term := fmt.Sprintf("T%s-%d", m[5:], g.rng.IntN(3)+1)
	if g.rng.IntN(100) < 18 {
		g.emoney(m, pid, term, at)
		return
	}
	c := g.cardFor(m)
	amount := g.amount(100, 60000)
	inst := 1
	if g.rng.IntN(100) < 8 {
		inst = []int{2, 3, 5, 6, 10, 12, 24}[g.rng.IntN(7)]
	}
	if g.rng.IntN(100) < 2 {
		ng := []string{"ng-02", "ng-02", "ng-02", "ng-03", "ng-08", "ng-01"}[g.rng.IntN(6)]
		gc := ""
		if g.rng.IntN(2) == 0 {
			gc = fmt.Sprintf(`,"card_company_code":%q`, []string{"G12", "G30", "G54", "G55", "G56", "G61"}[g.rng.IntN(6)])
		}
		g.emit(at, "authorize", fmt.Sprintf(`"payment":%q,"merchant":%q,"brand":%q,"amount":%d,"installments":%d,"card":%q,"terminal":%q,"result":%q%s`,
			pid, m, c.brand, amount, inst, c.number, term, ng, gc))
		return
	}
	g.emit(at, "authorize", fmt.Sprintf(`"payment":%q,"merchant":%q,"brand":%q,"amount":%d,"installments":%d,"card":%q,"terminal":%q,"result":"ok-01"`,
		pid, m, c.brand, amount, inst, c.number, term))
	if g.rng.IntN(100) == 0 {
		// The customer changed their mind before the sale was confirmed.
		g.emit(at.Add(time.Duration(30+g.rng.IntN(600))*time.Second), "void", fmt.Sprintf(`"payment":%q,"card":%q`, pid, c.number))
		return
	}
	g.emit(at.Add(time.Second), "capture", fmt.Sprintf(`"payment":%q`, pid))
	if g.rng.IntN(100) < 3 {
		refund := amount
		if g.rng.IntN(3) == 0 {
			refund = max(1, amount/(2+int64(g.rng.IntN(4))))
		}
		// Half the refunds come the same day, the rest up to three weeks
		// later, often in a later settlement period.
		delay := time.Duration(60+g.rng.IntN(3*3600)) * time.Second
		if g.rng.IntN(2) == 0 {
			delay += time.Duration(1+g.rng.IntN(21)) * 24 * time.Hour
		}
		g.emit(at.Add(delay), "refund", fmt.Sprintf(`"payment":%q,"amount":%d,"card":%q`, pid, refund, c.number))
	}
}

func (g *gen) emoney(m domain.MerchantID, pid, term string, at time.Time) {
	cardID := fmt.Sprintf("JE%014d", g.rng.Int64N(1e14))
	training := g.rng.IntN(100) == 0
	balance := int64(1000 + g.rng.IntN(19001))
	if training {
		balance = domain.TrainingBalance
	}
	amount := g.amount(100, min(balance, 8000))
	outcome := "succeeded"
	switch n := g.rng.IntN(1000); {
	case n < 10:
		outcome = "unknown"
	case n < 15:
		outcome = "failed"
	}
	tr := ""
	if training {
		tr = `,"training":true`
	}
	g.emit(at, "emoney_debit", fmt.Sprintf(`"payment":%q,"merchant":%q,"amount":%d,"card":%q,"balance_before":%d,"outcome":%q,"terminal":%q%s`,
		pid, m, amount, cardID, balance, outcome, term, tr))
	if outcome == "unknown" {
		res := "succeeded"
		if g.rng.IntN(4) == 0 {
			res = "failed"
		}
		// Most are resolved within minutes at the counter; some only the
		// next days (after a month end, the success counts in the next month).
		delay := time.Duration(30+g.rng.IntN(900)) * time.Second
		if g.rng.IntN(5) == 0 {
			delay += time.Duration(1+g.rng.IntN(3)) * 24 * time.Hour
		}
		g.emit(at.Add(delay), "emoney_resolve", fmt.Sprintf(`"payment":%q,"outcome":%q`, pid, res))
	}
}

// amount is log-uniform-ish between lo and hi, in tens of yen as shops price.
func (g *gen) amount(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	span := hi - lo
	a := lo + g.rng.Int64N(span/4+1)
	if g.rng.IntN(4) == 0 {
		a = lo + g.rng.Int64N(span+1)
	}
	return max(lo, a/10*10)
}
