package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"upay/adapters/httpapi"
	"upay/adapters/memmodels"
	"upay/domain"
	"upay/projections"
)

func init() { register(newServeCmd) }

// ShutdownGrace is how long serve waits for requests in flight after
// SIGINT/SIGTERM.
const ShutdownGrace = 10 * time.Second

func newServeCmd(a *app) *cobra.Command {
	var addr, tokens, models string
	var follow bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the admin read API (JSON over HTTP, docs/http-api.md)",
		Long: `serve answers the admin read API under /api/v1 (docs/openapi.yaml): the
transaction search and details, merchants' balances, the journal and its trial
balance, projection status, and /healthz and /readyz probes. It reads the read
models and, for a payment's details, its events; it never writes.

Every request but the probes needs a bearer token of the --tokens file (env
UPAY_TOKENS): one token a line, "TOKEN ROLE [MERCHANT|-] [NAME]", where TOKEN
is the token or sha256:<hex of its SHA-256>, ROLE is admin, finance, auditor or
merchant, and a merchant token names its 9-digit merchant. See
docs/http-api.md.

The read models are the file beside the event store (<store>.read.db), or the
tables of the same database for a postgres:// store (--migrate applies pending
migrations first). With
--follow (the default) serve also runs the projection runner: it catches the
read models up with the log, then follows live appends, so the API shows what
was recorded a moment ago; /api/v1/projections shows the lag.

--read-models memory holds the read models in this process's memory instead:
serve folds the whole event log into them before it listens (printing the
events and the rate), then follows live appends. Searches need no disk and a
rebuild is several times faster; the memory grows with the read models (about
1.7 KB per payment) and they are gone when serve stops. The CLI readers keep
using the store's read models.

serve prints the address it listens on (--addr :0 picks a free port) and stops
gracefully on SIGINT or SIGTERM, letting requests in flight finish.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context(), addr, tokens, models, follow)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; :0 for a free port)")
	cmd.Flags().BoolVar(&follow, "follow", true, "keep the read models in step with the event store while serving (--follow=false: only read)")
	cmd.Flags().StringVar(&models, "read-models", "store", "store: the store's read models (<store>.read.db, or the database's tables); memory: in this process, folded at start")
	cmd.Flags().BoolVar(&a.migrate, "migrate", false, "PostgreSQL store: apply pending migrations before serving (upay migrate)")
	cmd.Flags().StringVar(&tokens, "tokens", os.Getenv("UPAY_TOKENS"), "token file (env UPAY_TOKENS; see docs/http-api.md)")
	return cmd
}

// readModelsOpener opens the read models serve reads; tests replace it.
var readModelsOpener = (*app).openReadModels

// readModels is what serve needs of a read-model store: the port it reads,
// the writer a runner follows the log through, and Close.
type readModels interface {
	projections.ReadModels
	projections.Writer
	Close() error
}

func (a *app) serve(ctx context.Context, addr, tokenFile, models string, follow bool) error {
	switch models {
	case "store":
	case "memory":
		if !follow {
			return domain.Err(domain.CodeInvalidField, "--read-models memory needs --follow: the models start empty and only the runner fills them")
		}
	default:
		return domain.Err(domain.CodeInvalidField, "--read-models %q: want store or memory", models)
	}
	if tokenFile == "" {
		return domain.Err(domain.CodeMissingField, "--tokens FILE (or UPAY_TOKENS) is required: every request but the probes needs a token")
	}
	tokens, err := httpapi.LoadTokens(tokenFile)
	if err != nil {
		return err
	}
	if tokens.Len() == 0 {
		return domain.Err(domain.CodeInvalidField, "token file %s holds no token", tokenFile)
	}
	if fi, err := os.Stat(tokenFile); err == nil && tokens.Plaintext > 0 && fi.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(a.stderr, "upay: warning: %s holds %d plaintext tokens and is readable by others (mode %v); chmod 600 it or store sha256: hashes\n",
			tokenFile, tokens.Plaintext, fi.Mode().Perm())
	}
	store, err := a.openStore()
	if err != nil {
		return err
	}
	defer store.Close()
	var rm readModels
	if models == "memory" {
		rm = memmodels.New(store)
	} else if rm, err = readModelsOpener(a, store); err != nil {
		return err
	}
	defer rm.Close()
	log := slog.New(slog.NewTextHandler(a.stderr, nil))
	if models == "memory" {
		// Fold the log before listening: the API never answers from
		// half-built models.
		start := time.Now()
		n, err := projections.NewRunner(store, rm, projections.RunnerOptions{}).CatchUp(ctx)
		if err != nil {
			return err
		}
		d := time.Since(start)
		fmt.Fprintf(a.stdout, "upay: read models in memory: %d events folded in %s (%.0f events/s)\n", n, d.Round(time.Millisecond), float64(n)/max(d.Seconds(), 1e-9))
	}
	cfg := httpapi.Config{ReadModels: rm, Tokens: tokens, Events: store, Log: log}
	if models == "memory" {
		// One core fewer than the process has: the rest is left to the
		// network, the runner following the log and the collector (see
		// httpapi.Config.MaxInFlight).
		cfg.MaxInFlight = max(1, runtime.GOMAXPROCS(0)-1)
	}
	h, err := httpapi.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return domain.Wrap(domain.CodeInvalidField, err, "--addr %s", addr)
	}
	var follower sync.WaitGroup
	rctx, stopRunner := context.WithCancel(ctx)
	defer stopRunner()
	if follow {
		// Keep the read models in step with the log while serving: catch
		// up, then follow live appends; a failure is logged and retried.
		r := projections.NewRunner(store, rm, projections.RunnerOptions{
			OnError: func(err error) { log.Error("projections runner", "err", err) },
		})
		follower.Add(1)
		go func() {
			defer follower.Done()
			if err := r.Run(rctx); err != nil {
				log.Error("projections runner stopped", "err", err)
			}
		}()
	}
	fmt.Fprintf(a.stdout, "upay: serving the admin API on http://%s (%d tokens)\n", ln.Addr(), tokens.Len())
	err = serveUntil(ctx, httpapi.NewServer(addr, h, log), ln)
	stopRunner()
	follower.Wait() // the runner ends before the models close
	fmt.Fprintln(a.stdout, "upay: server stopped")
	return err
}

// serveUntil serves on ln until ctx ends, then shuts down gracefully:
// no new connections, requests in flight get ShutdownGrace to finish.
func serveUntil(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
