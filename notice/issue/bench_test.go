package issue_test

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/adapters/secretfile"
	"upay/adapters/sqlite"
	"upay/domain"
	"upay/merchants"
	"upay/notice"
	"upay/notice/issue"
)

var benchNotices = flag.Int("notices", 1000, "notices per BenchmarkNotices iteration (the target: 10,000 in 60 s)")

// benchPayouts are n payouts of distinct merchants with varied names (so
// every PDF embeds a somewhat different font subset) and one to three lines.
func benchPayouts(n int) []domain.PayoutIssued {
	names := []string{"②新PAY切替Uペイ", "喫茶　木漏れ日", "ラーメン大将 品川店", "Boulangerie Soleil", "株式会社山田商事", "居酒屋 鳥貴族 目黒", "美容室 Hair&Make 彩", "八百屋 ときわ"}
	out := make([]domain.PayoutIssued, n)
	for i := range out {
		p := notice.SamplePayout()
		p.Merchant = domain.MerchantID(fmt.Sprintf("3%08d", i))
		p.NoticeNo = domain.NoticeNo(p.Merchant, 1, p.Payday)
		p.Name = names[i%len(names)] + " " + strconv.Itoa(i)
		if i%3 == 0 {
			p.Lines = append(p.Lines, domain.PayoutLine{Group: domain.GroupEmoney, PeriodStart: "2019-09-01", PeriodEnd: "2019-09-30", Count: int64(i % 97), Sales: int64(i * 13), Rate: "3.24", Fee: int64(i*13) * 324 / 10000, Amount: int64(i*13) - int64(i*13)*324/10000})
		}
		p.Lines[0].Sales += int64(i)
		out[i] = p
	}
	return out
}

// peakMemory samples the Go runtime's memory (heap objects, and all
// memory mapped from the OS) every 5 ms until stop is called.
func peakMemory() (stop func() (heap, total uint64)) {
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}
	var peakHeap, peakTotal atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(samples)
			peakHeap.Store(max(peakHeap.Load(), samples[0].Value.Uint64()))
			peakTotal.Store(max(peakTotal.Load(), samples[1].Value.Uint64()))
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() (uint64, uint64) {
		close(done)
		wg.Wait()
		return peakHeap.Load(), peakTotal.Load()
	}
}

// cpuTime is the CPU time (user + system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// vmHWM is the process's peak resident set (Linux), 0 elsewhere.
func vmHWM() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkNotices makes -notices notices per iteration with one worker
// per CPU (GOMAXPROCS): "make" builds each notice, renders the PDF and
// the CSV, encrypts both into the AES-256 ZIP and hashes it, in memory;
// "issue" runs the whole command path (issue.Service.IssueAll): the
// password from the secret store, the ZIP written to a temporary file,
// fsynced and linked into place, a notice.issued event appended to the
// SQLite store (synchronous=FULL). Reported: notices/s, the projected
// seconds for 10,000, the peak Go heap and the process's peak RSS.
//
//	go test ./notice/issue -run '^$' -bench Notices -benchtime 1x -notices 10000
func BenchmarkNotices(b *testing.B) {
	r := pdf(b)
	ps := benchPayouts(*benchNotices)
	pw := []byte(password)
	issued := date.New(2019, 10, 29)
	var cpu0 time.Duration
	report := func(b *testing.B, stop func() (uint64, uint64)) {
		heap, total := stop()
		n := float64(b.N * len(ps))
		rate := n / b.Elapsed().Seconds()
		cpuMS := float64(cpuTime()-cpu0) / float64(time.Millisecond) / n
		b.ReportMetric(rate, "notices/s")
		b.ReportMetric(10000/rate, "s/10k")
		// CPU time per notice does not depend on what else the machine
		// runs: 10,000 × cpu-ms / cores is the time with the cores to ourselves.
		b.ReportMetric(cpuMS, "cpu-ms/notice")
		b.ReportMetric(10*cpuMS/float64(runtime.GOMAXPROCS(0)), "s/10k-on-free-cores")
		b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(total)/(1<<20), "peak-go-MB")
		b.ReportMetric(float64(vmHWM())/(1<<20), "peak-rss-MB")
		b.ReportMetric(0, "ns/op") // per-iteration time is meaningless here
	}

	b.Run("make", func(b *testing.B) {
		svc := &issue.Service{PDF: r, Issuer: notice.SampleIssuer()}
		var bytesOut atomic.Int64
		runtime.GC()
		stop := peakMemory()
		cpu0 = cpuTime()
		for b.Loop() {
			jobs := make(chan domain.PayoutIssued)
			var wg sync.WaitGroup
			var failed atomic.Value
			for range runtime.GOMAXPROCS(0) {
				wg.Go(func() {
					for p := range jobs {
						docs, err := svc.Make(p, 1, issued)
						if err == nil {
							var z []byte
							z, err = issue.Package(docs, pw, time.Now())
							_ = sha256.Sum256(z)
							bytesOut.Add(int64(len(z)))
						}
						if err != nil {
							failed.Store(err)
						}
					}
				})
			}
			for _, p := range ps {
				jobs <- p
			}
			close(jobs)
			wg.Wait()
			if err := failed.Load(); err != nil {
				b.Fatal(err)
			}
		}
		report(b, stop)
		b.ReportMetric(float64(bytesOut.Load())/float64(b.N*len(ps))/1024, "KB/zip")
	})

	b.Run("issue", func(b *testing.B) {
		ctx := context.Background()
		base := b.TempDir()
		sec, err := secretfile.Open(filepath.Join(base, "secrets"))
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range ps {
			sec.Put(ctx, merchants.PasswordSecret(p.Merchant), pw)
		}
		runtime.GC()
		stop := peakMemory()
		cpu0 = cpuTime()
		i := 0
		for b.Loop() {
			b.StopTimer()
			i++
			st, err := sqlite.Open(filepath.Join(base, fmt.Sprintf("upay-%d.db", i)))
			if err != nil {
				b.Fatal(err)
			}
			svc := &issue.Service{Store: st, Secrets: sec, PDF: r, Issuer: notice.SampleIssuer(), Dir: filepath.Join(base, fmt.Sprintf("out-%d", i))}
			b.StartTimer()
			for _, res := range svc.IssueAll(ctx, ps, issue.Options{}, 0, nil) {
				if res.Err != nil || res.Status != issue.Issued {
					b.Fatalf("%+v", res)
				}
			}
			b.StopTimer()
			st.Close()
			os.RemoveAll(svc.Dir)
			b.StartTimer()
		}
		report(b, stop)
	})
}
