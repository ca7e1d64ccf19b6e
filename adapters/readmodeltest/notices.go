package readmodeltest

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/domain"
	"upay/notice"
	"upay/projections"
)

// record appends a notices-stream event at at, as notice/issue does (the
// suite records them directly: it needs no files or mail server).
func (e *env) record(ev domain.Event, m domain.MerchantID, payday string, at time.Time) {
	e.t.Helper()
	e.advance(at)
	data, err := domain.EncodeEvent(ev)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.events.Append(e.ctx, domain.AppendRequest{Stream: notice.Stream(m, payday), Expected: domain.Any(),
		Events: []domain.ProposedEvent{{Type: ev.EventType(), Version: ev.EventVersion(), Time: at, Data: data}}}); err != nil {
		e.t.Fatalf("record %s: %v", ev.EventType(), err)
	}
}

// issueNotice records notice.issued of notice seq of a payout; rewrite
// marks a file written again for the same sequence.
func (e *env) issueNotice(p domain.PayoutIssued, seq int, reason string, rewrite bool, at time.Time) string {
	e.t.Helper()
	no := domain.NoticeNo(p.Merchant, seq, p.Payday)
	e.record(notice.Issued{Merchant: p.Merchant, Payday: p.Payday, NoticeNo: no, Seq: seq, IssueDate: domain.BusinessDate(at).String(),
		File: no + ".zip", SHA256: fmt.Sprintf("%064x", at.UnixNano()), Reason: reason, Rewrite: rewrite}, p.Merchant, p.Payday, at)
	return no
}

func (e *env) deliverNotice(p domain.PayoutIssued, seq int, at time.Time) {
	e.t.Helper()
	no := domain.NoticeNo(p.Merchant, seq, p.Payday)
	e.record(notice.Delivered{Merchant: p.Merchant, Payday: p.Payday, NoticeNo: no, Seq: seq, To: "owner@example.jp",
		SHA256: "h", MessageID: fmt.Sprintf("%d.%s@upay.example", at.UnixNano(), no)}, p.Merchant, p.Payday, at)
}

func (e *env) failNotice(p domain.PayoutIssued, seq int, at time.Time) {
	e.t.Helper()
	no := domain.NoticeNo(p.Merchant, seq, p.Payday)
	e.record(notice.DeliveryFailed{Merchant: p.Merchant, Payday: p.Payday, NoticeNo: no, Seq: seq, To: "owner@example.jp",
		Code: "U4005", Error: fmt.Sprintf("smtp: 451 try again (%s)", at.Format(time.RFC3339))}, p.Merchant, p.Payday, at)
}

// randomNotices issues the notice of each payout and then, at random,
// delivers it, fails once or twice first, rewrites its file, or reissues
// it; a few notices stay pending.
func (e *env) randomNotices(rng *rand.Rand, issued []domain.PayoutIssued) {
	e.t.Helper()
	for _, p := range issued {
		at := e.now.Add(time.Minute)
		e.issueNotice(p, 1, "", false, at)
		seq := 1
		for range rng.IntN(4) {
			at = at.Add(time.Minute)
			switch rng.IntN(5) {
			case 0, 1:
				e.deliverNotice(p, seq, at)
			case 2:
				e.failNotice(p, seq, at)
			case 3:
				e.issueNotice(p, seq, "file lost", true, at)
			case 4:
				seq++
				e.issueNotice(p, seq, "宛先訂正", false, at)
			}
		}
	}
}

// foldNotice applies a notices-stream event to the oracle.
func (o *oracle) foldNotice(t testing.TB, ev domain.Event, r domain.RecordedEvent) {
	t.Helper()
	no, _ := projections.NoticeNumberOf(ev)
	n := o.notices[no]
	if err := n.Apply(ev, r.Time, r.Position); err != nil {
		t.Fatal(err)
	}
	o.notices[no] = n
}

// noticesOn returns every merchant's notices of a payday, as Notices does.
func (o *oracle) noticesOn(payday date.Date) []projections.Notice {
	var out []projections.Notice
	for _, n := range o.notices {
		if n.Payday == payday {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b projections.Notice) int {
		if c := strings.Compare(string(a.Merchant), string(b.Merchant)); c != 0 {
			return c
		}
		return strings.Compare(a.NoticeNo, b.NoticeNo)
	})
	return out
}

// paydays returns the distinct paydays of payouts, in order: the paydays
// whose notices a dump reads.
func paydays(ps []projections.Payout) []date.Date {
	var out []date.Date
	for _, p := range ps {
		if !slices.Contains(out, p.Payday) {
			out = append(out, p.Payday)
		}
	}
	slices.SortFunc(out, func(a, b date.Date) int { return int(a.Sub(b)) })
	return out
}

// sameNotices fails unless got and want hold the same notices in the same
// order (times compared as instants).
func sameNotices(t *testing.T, what string, got, want []projections.Notice) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d notices, want %d\n got %+v\nwant %+v", what, len(got), len(want), got, want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.IssuedAt.Equal(w.IssuedAt) || !g.DeliveredAt.Equal(w.DeliveredAt) {
			t.Fatalf("%s: notice %s times %s/%s, want %s/%s", what, g.NoticeNo, g.IssuedAt, g.DeliveredAt, w.IssuedAt, w.DeliveredAt)
		}
		g.IssuedAt, g.DeliveredAt, w.IssuedAt, w.DeliveredAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("%s: notice %d\n got %+v\nwant %+v", what, i, g, w)
		}
	}
}

// The notices read model of the fixture, field by field, after a catch-up
// page by page (a delivery lands in a later page than its issue), and
// after rebuilding the notices projection alone.
func testNotices(t *testing.T, e *env) {
	e.mixed()
	if _, err := e.runner(e.rm, projections.RunnerOptions{PageSize: 2}).CatchUp(e.ctx); err != nil {
		t.Fatal(err)
	}
	sameDump(t, "after catch-up", readDump(t, e.ctx, e.rm, fixtureMerchants), e.oracle().dump(fixtureMerchants))

	payday := date.New(2019, 10, 31)
	got, err := e.rm.Notices(e.ctx, payday)
	if err != nil {
		t.Fatal(err)
	}
	want := []projections.Notice{
		{NoticeNo: "270000001-001-20191031", Merchant: mA, Payday: payday, Seq: 1, IssueDate: date.New(2019, 10, 29),
			File: "270000001-001-20191031.zip", SHA256: fmt.Sprintf("%064x", day(29, 9.25).UnixNano()), IssuedAt: day(29, 9.25),
			Status: projections.NoticeStatusDelivered, DeliveredTo: "owner@example.jp",
			MessageID: fmt.Sprintf("%d.270000001-001-20191031@upay.example", day(29, 9.5).UnixNano()), DeliveredAt: day(29, 9.5)},
		{NoticeNo: "270000002-001-20191031", Merchant: mB, Payday: payday, Seq: 1, IssueDate: date.New(2019, 10, 30),
			File: "270000002-001-20191031.zip", SHA256: fmt.Sprintf("%064x", day(30, 9).UnixNano()), Reason: "file lost", Rewrites: 1,
			IssuedAt: day(30, 9), Status: projections.NoticeStatusFailed, Attempts: 2, LastCode: "U4005",
			LastError: fmt.Sprintf("smtp: 451 try again (%s)", day(30, 9.5).Format(time.RFC3339))},
		{NoticeNo: "270000002-002-20191031", Merchant: mB, Payday: payday, Seq: 2, IssueDate: date.New(2019, 10, 31),
			File: "270000002-002-20191031.zip", SHA256: fmt.Sprintf("%064x", day(31, 9.75).UnixNano()), Reason: "宛先訂正",
			IssuedAt: day(31, 9.75), Status: projections.NoticeStatusPending},
	}
	for i := range got {
		if i < len(want) {
			want[i].Position = got[i].Position
		}
	}
	sameNotices(t, "notices of 10/31", got, want)
	if got, err := e.rm.Notices(e.ctx, date.New(2019, 11, 15)); err != nil || len(got) != 0 {
		t.Fatalf("notices of 11/15: %v, %v", got, err)
	}

	// Rebuilding the notices alone leaves the others where they are.
	before, err := e.rm.Checkpoints(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.runner(e.rm, projections.RunnerOptions{PageSize: 3}).Rebuild(e.ctx, nil, projections.NameNotices); err != nil {
		t.Fatal(err)
	}
	after, _ := e.rm.Checkpoints(e.ctx)
	if !maps(before, after) {
		t.Fatalf("checkpoints moved: %v -> %v", before, after)
	}
	sameDump(t, "after rebuilding the notices", readDump(t, e.ctx, e.rm, fixtureMerchants), e.oracle().dump(fixtureMerchants))

	// A reset of the notices empties them, and the next catch-up folds
	// them from the start of the log.
	if err := e.rm.Reset(e.ctx, []string{projections.NameNotices}); err != nil {
		t.Fatal(err)
	}
	if got, err := e.rm.Notices(e.ctx, payday); err != nil || len(got) != 0 {
		t.Fatalf("notices after a reset: %v, %v", got, err)
	}
	e.catchUp()
	sameDump(t, "after the reset and a catch-up", readDump(t, e.ctx, e.rm, fixtureMerchants), e.oracle().dump(fixtureMerchants))
}
