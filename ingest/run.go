package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"upay/domain"
	"upay/ledger"
)

// Options tune a run.
type Options struct {
	BatchSize int       // commands per store transaction; 0 means 5000
	Rejects   io.Writer // one line per rejected or malformed input line; nil discards
	// MaxReported caps the lines written to Rejects (0: no cap); the rest are
	// counted in the summary only, and a note says so.
	MaxReported int
	Progress    io.Writer // progress lines (stderr); nil for none
	// Sequential decides a batch only once the previous one is recorded,
	// instead of while it is (the results are the same; for comparison).
	Sequential bool
}

// Summary counts what a run did.
type Summary struct {
	Lines      int            `json:"lines"`
	Accepted   int            `json:"accepted"`   // recorded now
	Duplicates int            `json:"duplicates"` // request already applied: nothing appended
	Rejected   map[string]int `json:"rejected"`   // by code, malformed lines included
	Events     int            `json:"events"`     // events appended
	Declines   int            `json:"declines"`   // authorizations recorded as declined (ng-xx)
	Elapsed    time.Duration  `json:"-"`
}

// RejectedTotal is the number of rejected lines.
func (s Summary) RejectedTotal() int {
	n := 0
	for _, v := range s.Rejected {
		n += v
	}
	return n
}

// String renders the summary for people.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "lines %d, accepted %d (events %d, of which declined authorizations %d), duplicates %d, rejected %d",
		s.Lines, s.Accepted, s.Events, s.Declines, s.Duplicates, s.RejectedTotal())
	codes := make([]string, 0, len(s.Rejected))
	for c := range s.Rejected {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		fmt.Fprintf(&b, "\n  rejected %s: %d", c, s.Rejected[c])
	}
	if s.Elapsed > 0 && s.Events > 0 {
		fmt.Fprintf(&b, "\n%.0f events/s over %s", float64(s.Events)/s.Elapsed.Seconds(), s.Elapsed.Round(time.Millisecond))
	}
	return b.String()
}

// numbered is a decoded line with its number.
type numbered struct {
	n   int
	cmd domain.Command
	err error
}

// Run reads JSON Lines from r and records them through l. Decoding runs in
// its own goroutine, and each batch is decided while the previous one is
// being recorded (ledger.Decide on top of it), so throughput approaches the
// slowest of reading, deciding and recording rather than their sum. A batch
// so decided is decided again if the previous one was not recorded exactly
// as decided; the results are those of deciding each batch after the
// previous one is recorded. It returns the summary and the first store
// failure, if any (what was recorded before stays recorded); rejections are
// not failures.
func Run(ctx context.Context, r io.Reader, l *ledger.Ledger, dec Decoder, opt Options) (Summary, error) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 5000
	}
	start := time.Now()
	sum := Summary{Rejected: map[string]int{}}
	batches := make(chan []numbered, 4)
	readErr := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(batches)
		readErr <- readLines(ctx, r, dec, opt.BatchSize, batches)
	}()
	reject := func(n int, err error) {
		code := domain.CodeOf(err)
		if code == "" {
			code = "unknown"
		}
		sum.Rejected[code]++
		reported := sum.RejectedTotal()
		switch {
		case opt.Rejects == nil:
		case opt.MaxReported == 0 || reported <= opt.MaxReported:
			fmt.Fprintf(opt.Rejects, "line %d: rejected %v\n", n, err)
		case reported == opt.MaxReported+1:
			fmt.Fprintf(opt.Rejects, "line %d: rejected %v\n(further rejections are counted in the summary but not listed; --rejects FILE lists them all)\n", n, err)
		}
	}
	report := func(batch []numbered, results []ledger.Result) {
		// In line order, malformed lines among the decided ones.
		k := 0
		for _, b := range batch {
			sum.Lines++
			if b.err != nil {
				reject(b.n, b.err)
				continue
			}
			res := results[k]
			k++
			switch {
			case res.Err != nil:
				reject(b.n, res.Err)
			case res.Duplicate:
				sum.Duplicates++
			default:
				sum.Accepted++
				sum.Events += len(res.Events)
				if strings.HasPrefix(res.Code, "ng-") {
					sum.Declines++
				}
			}
		}
	}
	fail := func(batch []numbered, err error) error {
		cancel()
		for range batches { // let the reader finish
		}
		return fmt.Errorf("lines %d..%d: %w", batch[0].n, batch[len(batch)-1].n, err)
	}
	// At most one batch is being recorded (flying) while the next is
	// decided; it is waited for before anything else is decided or
	// returned.
	var flying *flight
	lastReport := time.Now()
	for batch := range batches {
		cmds := make([]domain.Command, 0, len(batch))
		for _, b := range batch {
			if b.err == nil {
				cmds = append(cmds, b.cmd)
			}
		}
		var p *ledger.Pending
		var err error
		if flying == nil || !opt.Sequential {
			p, err = l.Decide(ctx, cmds, flying.pending())
		}
		if flying != nil {
			r := <-flying.done
			if r.err != nil {
				return sum, fail(flying.batch, r.err)
			}
			report(flying.batch, r.results)
			if !r.clean || err != nil || p == nil {
				// The speculation does not hold (or a read failed during
				// it): decide again on what was recorded.
				p, err = l.Decide(ctx, cmds, nil)
			}
		}
		if err != nil {
			return sum, fail(batch, err)
		}
		flying = record(ctx, l, batch, p)
		if opt.Progress != nil && time.Since(lastReport) > time.Second {
			lastReport = time.Now()
			fmt.Fprintf(opt.Progress, "\ringest: %d lines, %d accepted, %d rejected, %.0f events/s ",
				sum.Lines, sum.Accepted, sum.RejectedTotal(), float64(sum.Events)/time.Since(start).Seconds())
		}
	}
	if flying != nil {
		r := <-flying.done
		if r.err != nil {
			return sum, fail(flying.batch, r.err)
		}
		report(flying.batch, r.results)
	}
	if opt.Progress != nil && time.Since(start) > time.Second {
		fmt.Fprintln(opt.Progress)
	}
	sum.Elapsed = time.Since(start)
	if err := <-readErr; err != nil && !errors.Is(err, context.Canceled) {
		return sum, err
	}
	return sum, nil
}

// flight is a batch being recorded.
type flight struct {
	batch []numbered
	p     *ledger.Pending
	done  chan recorded
}

type recorded struct {
	results []ledger.Result
	clean   bool
	err     error
}

func record(ctx context.Context, l *ledger.Ledger, batch []numbered, p *ledger.Pending) *flight {
	f := &flight{batch: batch, p: p, done: make(chan recorded, 1)}
	go func() {
		var r recorded
		r.results, r.clean, r.err = l.Record(ctx, p)
		f.done <- r
	}()
	return f
}

func (f *flight) pending() *ledger.Pending {
	if f == nil {
		return nil
	}
	return f.p
}

// readLines splits r into lines of at most MaxLine bytes (a longer line is
// read to its end and reported, never buffered whole), decodes them and
// sends them in batches.
func readLines(ctx context.Context, r io.Reader, dec Decoder, size int, out chan<- []numbered) error {
	br := bufio.NewReaderSize(r, 1<<20)
	batch := make([]numbered, 0, size)
	send := func() bool {
		if len(batch) == 0 {
			return true
		}
		select {
		case out <- batch:
			batch = make([]numbered, 0, size)
			return true
		case <-ctx.Done():
			return false
		}
	}
	var buf []byte
	for n := 1; ; n++ {
		buf = buf[:0]
		tooLong := false
		var err error
		for {
			var frag []byte
			frag, err = br.ReadSlice('\n')
			if !tooLong {
				if len(buf)+len(frag) > MaxLine+2 { // room for \r\n
					tooLong = true
				} else {
					buf = append(buf, frag...)
				}
			}
			if err != bufio.ErrBufferFull {
				break
			}
		}
		if err != nil && err != io.EOF {
			return err
		}
		line := strings.TrimRight(string(buf), "\r\n")
		switch {
		case tooLong:
			batch = append(batch, numbered{n: n, err: domain.Err(domain.CodeLineTooLong, "line exceeds 64 KiB")})
		case strings.TrimSpace(line) == "":
			// blank lines (and the end of input) carry no command
		default:
			cmd, derr := dec.Decode([]byte(line))
			batch = append(batch, numbered{n: n, cmd: cmd, err: derr})
		}
		if len(batch) >= size && !send() {
			return ctx.Err()
		}
		if err == io.EOF {
			break
		}
	}
	send()
	return nil
}
