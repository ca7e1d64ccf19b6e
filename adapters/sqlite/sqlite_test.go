package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"upay/adapters/storetest"
	"upay/domain"
)

// crashChildEnv makes the test binary a crash-test child: it appends to the
// store file named by the variable and prints each committed append.
const crashChildEnv = "UPAY_SQLITE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		os.Exit(crashChild(path))
	}
	os.Exit(m.Run())
}

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) domain.EventStore { return openTemp(t) })
}

var t0 = time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)

func ev(i int) domain.ProposedEvent {
	return domain.ProposedEvent{Type: "test.event", Version: 1, Time: t0.Add(time.Duration(i) * time.Microsecond), Data: fmt.Appendf(nil, `{"i":%d}`, i)}
}

func mustOpen(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open %s: %v", path, err)
	}
	return s
}

// TestFileSettings checks what the durability claim rests on: WAL, full
// synchronous commits, and the schema version.
// TestHandles: the suite's tests with several handles on one file, as
// several processes would have.
func TestHandles(t *testing.T) {
	storetest.RunHandles(t, func(t *testing.T) (domain.EventStore, func() domain.EventStore) {
		path := filepath.Join(t.TempDir(), "events.db")
		return mustOpen(t, path), func() domain.EventStore { return mustOpen(t, path) }
	})
}

// TestCleanCloseCheckpoints: a clean close folds the WAL into the file and
// removes it, so a copy of the closed file alone is a complete backup.
func TestCleanCloseCheckpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	s := mustOpen(t, path)
	if _, err := s.Append(t.Context(), domain.AppendRequest{Stream: "a", Events: []domain.ProposedEvent{ev(0)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !os.IsNotExist(err) {
		t.Errorf("the WAL file is left after a clean close (stat: %v)", err)
	}
	s = mustOpen(t, path)
	defer s.Close()
	if n := len(readAll(t, s)); n != 1 {
		t.Fatalf("reopened: %d events, want 1", n)
	}
}

func TestFileSettings(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := t.Context()
	var mode string
	var syncMode, version int
	if err := s.wc.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	if err := s.wc.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&syncMode); err != nil || syncMode != 2 {
		t.Fatalf("synchronous = %d, %v; want 2 (FULL)", syncMode, err)
	}
	if err := s.wc.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version != schemaVersion {
		t.Fatalf("user_version = %d, %v; want %d", version, err, schemaVersion)
	}
	// Reads go through read-only connections.
	if _, err := s.r.ExecContext(ctx, "DELETE FROM events"); err == nil {
		t.Fatal("a read connection accepted a write")
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	s := mustOpen(t, path)
	if _, err := s.wc.ExecContext(t.Context(), "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	if !errors.Is(err, domain.ErrStoreFailure) || !strings.Contains(err.Error(), "schema version 99") {
		t.Fatalf("Open of a newer file: %v, want U3003 naming version 99", err)
	}
}

func TestOpenRefuses(t *testing.T) {
	for path, code := range map[string]string{"": domain.CodeMissingField, ":memory:": domain.CodeInvalidField} {
		if s, err := Open(path); domain.CodeOf(err) != code {
			if s != nil {
				s.Close()
			}
			t.Errorf("Open(%q): %v, want %s", path, err, code)
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing-dir", "events.db")); !errors.Is(err, domain.ErrStoreFailure) {
		t.Errorf("Open in a missing directory: %v, want U3003", err)
	}
}

// crashChild appends until killed, printing "pos stream revision" after
// each append returns, i.e. once it is committed.
func crashChild(path string) int {
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	report := func(r domain.AppendResult) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, "%d %s %d\n", r.Position.Commit, r.Stream, r.LastRevision)
		out.Flush() // before the next append: what is printed is committed
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				stream := domain.StreamID(fmt.Sprintf("w%d-%d", w, i%5))
				if i%4 == 3 {
					var reqs []domain.AppendRequest
					for j := range 10 {
						reqs = append(reqs, domain.AppendRequest{Stream: stream, Events: []domain.ProposedEvent{ev(j)}})
					}
					res, err := s.AppendBatch(ctx, reqs)
					if err != nil {
						fmt.Fprintln(os.Stderr, err)
						os.Exit(3)
					}
					for _, r := range res {
						report(r)
					}
					continue
				}
				r, err := s.Append(ctx, domain.AppendRequest{Stream: stream, RequestID: fmt.Sprintf("w%d-r%d", w, i), Events: []domain.ProposedEvent{ev(i), ev(i + 1)}})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				report(r)
			}
		})
	}
	wg.Wait()
	return 0
}

// TestCrashDurability kills a writing process with SIGKILL mid-stream and
// checks that every append it had seen committed is in the file, chained.
func TestCrashDurability(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A child that hangs must not hang the test: killing it ends the read
	// loop below, and the test fails for lack of reports.
	guard := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer guard.Stop()
	type committed struct {
		pos    uint64
		stream string
		rev    uint64
	}
	var reported []committed
	sc := bufio.NewScanner(stdout)
	killed := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			t.Fatalf("child printed %q", sc.Text())
		}
		pos, err1 := strconv.ParseUint(f[0], 10, 64)
		rev, err2 := strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("child printed %q", sc.Text())
		}
		reported = append(reported, committed{pos, f[1], rev})
		if len(reported) == 400 && !killed {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	werr := cmd.Wait()
	if !killed {
		t.Fatalf("child ended by itself after %d appends: %v\n%s", len(reported), werr, stderr.String())
	}
	var ee *exec.ExitError
	if !errors.As(werr, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v\n%s", werr, stderr.String())
	}

	s := mustOpen(t, path)
	defer s.Close()
	all := readAll(t, s)
	byPos := map[uint64]domain.RecordedEvent{}
	for _, e := range all {
		byPos[e.Position.Commit] = e
	}
	for _, c := range reported {
		e, ok := byPos[c.pos]
		if !ok || string(e.Stream) != c.stream || e.Revision != c.rev {
			t.Fatalf("committed %s@%d at %d is missing after the crash (found %+v)", c.stream, c.rev, c.pos, e)
		}
	}
	verifyStreams(t, s, all)
	// The file is healthy: appends go on after the last surviving event.
	res, err := s.Append(t.Context(), domain.AppendRequest{Stream: "after-crash", Events: []domain.ProposedEvent{ev(0)}})
	if err != nil || !all[len(all)-1].Position.Less(res.Position) {
		t.Fatalf("append after recovery = %+v, %v", res, err)
	}
	t.Logf("child reported %d commits before SIGKILL; %d events survived", len(reported), len(all))
}

// TestCorruptHash: a row whose hash is not 32 bytes is reported, not
// silently read as a zero hash.
func TestCorruptHash(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := t.Context()
	if _, err := s.Append(ctx, domain.AppendRequest{Stream: "s", Events: []domain.ProposedEvent{ev(0)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wc.ExecContext(ctx, "UPDATE events SET hash = x'00'"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadAll(ctx, domain.Start, domain.ReadOptions{}); !errors.Is(err, domain.ErrStoreFailure) {
		t.Fatalf("ReadAll of a damaged row: %v, want U3003", err)
	}
	if _, err := s.Append(ctx, domain.AppendRequest{Stream: "s", Events: []domain.ProposedEvent{ev(1)}}); !errors.Is(err, domain.ErrStoreFailure) {
		t.Fatalf("Append after a damaged head: %v, want U3003", err)
	}
}

// TestGroupCommit holds the write token so that appends queue up, then lets
// one leader commit them together: each keeps its own outcome, as if it had
// run alone in queue order.
func TestGroupCommit(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := t.Context()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	one := func(i int) []domain.ProposedEvent { return []domain.ProposedEvent{ev(i)} }
	jobs := []struct {
		ctx  context.Context
		reqs []domain.AppendRequest
	}{
		{ctx, []domain.AppendRequest{{Stream: "g1", Expected: domain.NoStream(), RequestID: "r1", RequestHash: domain.Hash{1}, Events: []domain.ProposedEvent{ev(0), ev(1)}}}},
		{ctx, []domain.AppendRequest{{Stream: "g1", Expected: domain.NoStream(), Events: one(2)}}}, // job 0 created g1
		{ctx, []domain.AppendRequest{{Stream: "g2", Expected: domain.NoStream(), Events: one(3)}, {Stream: "g2", Expected: domain.Exact(0), Events: one(4)}}},
		{ctx, []domain.AppendRequest{{Stream: "g1", Expected: domain.NoStream(), RequestID: "r1", RequestHash: domain.Hash{1}, Events: []domain.ProposedEvent{ev(0), ev(1)}}}}, // duplicate of job 0
		{cancelled, []domain.AppendRequest{{Stream: "g5", Events: one(5)}}},
		{ctx, append(slices.Repeat([]domain.AppendRequest{{Stream: "g3", Events: one(6)}}, 100), // more than one insert chunk
			domain.AppendRequest{Stream: "g1", Expected: domain.Exact(99), Events: one(7)})},
		{ctx, []domain.AppendRequest{{Stream: "g4", Expected: domain.Any(), RequestID: "r4", RequestHash: domain.Hash{4}, Events: one(8)}}},
	}
	type outcome struct {
		res []domain.AppendResult
		err error
	}
	out := make([]outcome, len(jobs))
	s.wsem <- struct{}{} // nobody can lead until released
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			res, err := s.AppendBatch(j.ctx, j.reqs)
			out[i] = outcome{res, err}
		})
		for { // queue them in order
			s.qmu.Lock()
			n := len(s.queue)
			s.qmu.Unlock()
			if n == i+1 {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	<-s.wsem
	wg.Wait()

	if err := out[0].err; err != nil || out[0].res[0].FirstRevision != 0 || out[0].res[0].LastRevision != 1 {
		t.Fatalf("job 0: %+v", out[0])
	}
	if !errors.Is(out[1].err, domain.ErrConcurrency) {
		t.Fatalf("job 1: err = %v, want a conflict with job 0", out[1].err)
	}
	if err := out[2].err; err != nil || out[2].res[1].LastRevision != 1 {
		t.Fatalf("job 2: %+v", out[2])
	}
	if d := out[3]; d.err != nil || !d.res[0].Duplicate || d.res[0].Position != out[0].res[0].Position {
		t.Fatalf("job 3: %+v, want a duplicate of job 0 %+v", d, out[0].res[0])
	}
	if !errors.Is(out[4].err, context.Canceled) || !errors.Is(out[4].err, domain.ErrStoreFailure) {
		t.Fatalf("job 4 (cancelled while queued): err = %v", out[4].err)
	}
	var be *domain.BatchError
	if !errors.As(out[5].err, &be) || be.Index != 100 || !errors.Is(out[5].err, domain.ErrConcurrency) {
		t.Fatalf("job 5: err = %v, want a conflict at item 1", out[5].err)
	}
	if err := out[6].err; err != nil || out[6].res[0].FirstRevision != 0 {
		t.Fatalf("job 6: %+v", out[6])
	}
	all := readAll(t, s)
	var got []string
	for _, e := range all {
		got = append(got, fmt.Sprintf("%s@%d", e.Stream, e.Revision))
	}
	if want := "g1@0 g1@1 g2@0 g2@1 g4@0"; strings.Join(got, " ") != want {
		t.Fatalf("log %v, want %s: refused jobs must leave nothing, the others land in queue order", got, want)
	}
	if out[6].res[0].Position != all[4].Position {
		t.Fatalf("job 6 at %s, its event at %s", out[6].res[0].Position, all[4].Position)
	}
	verifyStreams(t, s, all)
}

// TestOddPath: a file name with URI-special characters is a plain name.
func TestOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a b?c#d%20e")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ev ents?.db")
	s := mustOpen(t, path)
	if _, err := s.Append(t.Context(), domain.AppendRequest{Stream: "s", Events: []domain.ProposedEvent{ev(0)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || entries[0].Name() != "ev ents?.db" {
		t.Fatalf("files in %s: %v (%v), want exactly %q", dir, entries, err, "ev ents?.db")
	}
	s = mustOpen(t, path)
	defer s.Close()
	if n := len(readAll(t, s)); n != 1 {
		t.Fatalf("reopened %s: %d events, want 1", path, n)
	}
}

func readAll(t testing.TB, s *Store) []domain.RecordedEvent { return storetest.ReadAll(t, s) }

func verifyStreams(t testing.TB, s *Store, all []domain.RecordedEvent) {
	storetest.VerifyStreams(t, s, all)
}

// TestReadsGiveTheirGatePlaceBack runs every read more often than the gate
// admits at once (a read that kept its place would block the later ones
// until the deadline), then fills the gate: a read must wait, and its
// deadline ends the wait with U3003.
func TestReadsGiveTheirGatePlaceBack(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Append(ctx, domain.AppendRequest{Stream: "s", RequestID: "r1", Events: []domain.ProposedEvent{ev(0)}}); err != nil {
		t.Fatal(err)
	}
	reads := map[string]func() error{
		"stream":  func() error { _, err := s.ReadStream(ctx, "s", 0, domain.ReadOptions{}); return err },
		"all":     func() error { _, err := s.ReadAll(ctx, domain.Start, domain.ReadOptions{}); return err },
		"last":    func() error { _, _, err := s.Last(ctx); return err },
		"request": func() error { _, _, err := s.RequestHash(ctx, "r1"); return err },
		"missing": func() error { _, _, err := s.RequestHash(ctx, "nope"); return err },
		"count":   func() error { _, err := s.CountAfter(ctx, domain.Start); return err },
	}
	for name, read := range reads {
		for i := range 3 * cap(s.gate) {
			if err := read(); err != nil {
				t.Fatalf("%s, call %d: %v", name, i+1, err)
			}
		}
	}
	if n := len(s.gate); n != 0 {
		t.Fatalf("%d places of the gate still held after every read returned", n)
	}
	for range cap(s.gate) {
		s.gate <- struct{}{}
	}
	defer func() {
		for range cap(s.gate) {
			s.gate.Leave()
		}
	}()
	short, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	defer stop()
	if _, err := s.ReadAll(short, domain.Start, domain.ReadOptions{}); domain.CodeOf(err) != domain.CodeStoreFailure {
		t.Fatalf("read behind a full gate: got %v, want U3003 when its deadline passes", err)
	}
}
