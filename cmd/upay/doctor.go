package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"upay/adapters/pgconfig"
	"upay/adapters/pgschema"
	"upay/adapters/secretfile"
	"upay/domain"
)

func init() { register(newDoctorCmd) }

// staleTx is the age from which an open write transaction is reported: on
// PostgreSQL it holds back what subscribers and projections may read
// (docs/operations.md, "Visibility").
const staleTx = time.Minute

// check is one line of the doctor's report.
type check struct {
	name   string
	status string // ok | warn | FAIL
	detail string
}

func newDoctorCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the store: connectivity, migration level, projection lag, secrets",
		Long: `doctor checks that upay can work on --store and prints one line per check:
ok, warn or FAIL, with details.

  store        the event store opens (on PostgreSQL: the server's version and
               a round trip)
  migrations   PostgreSQL only: the database is at this binary's level
  events       the number of the last event and its time
  projections  each read model's checkpoint and its lag behind the log
  secrets      the secret store holds the card fingerprint key
  transactions PostgreSQL only: no write transaction has been open for more
               than a minute (it would hold back subscribers and projections)

Exit status: 0 when nothing failed (warnings allowed), 1 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			checks := a.doctor(cmd.Context())
			failed := false
			for _, c := range checks {
				fmt.Fprintf(a.stdout, "%-5s %-12s %s\n", c.status, c.name, c.detail)
				failed = failed || c.status == "FAIL"
			}
			if failed {
				return exitError{1}
			}
			return nil
		},
	}
	return cmd
}

func (a *app) doctor(ctx context.Context) []check {
	var out []check
	add := func(name string, err error, okDetail string) bool {
		if err != nil {
			out = append(out, check{name, "FAIL", err.Error()})
			return false
		}
		out = append(out, check{name, "ok", okDetail})
		return true
	}
	if a.postgresURL() {
		if !a.doctorPostgres(ctx, &out) {
			return out
		}
	}
	start := time.Now()
	store, err := a.openStore()
	if !add("store", err, fmt.Sprintf("opened %s in %v", a.describeStore(), time.Since(start).Round(time.Millisecond))) {
		return out
	}
	defer store.Close()
	last, ok, err := store.Last(ctx)
	switch {
	case err != nil:
		add("events", err, "")
	case !ok:
		out = append(out, check{"events", "ok", "the log is empty"})
	default:
		out = append(out, check{"events", "ok", fmt.Sprintf("last event at position %s, %s (%s)", last.Position, last.Time.Format(time.RFC3339), last.Type)})
	}
	rm, err := a.openReadModels(store)
	if add("read models", err, "opened") {
		defer rm.Close()
		st, err := rm.Status(ctx)
		if err != nil {
			add("projections", err, "")
		} else {
			var parts []string
			var lag int64
			for _, s := range st {
				parts = append(parts, fmt.Sprintf("%s at %s (lag %d)", s.Name, s.Position, s.Lag))
				lag = max(lag, s.Lag)
			}
			status := "ok"
			if lag > 0 {
				status = "warn" // a runner (upay serve) or any reader catches up
			}
			out = append(out, check{"projections", status, strings.Join(parts, "; ")})
		}
	}
	sec, err := a.secrets()
	if err == nil {
		_, err = sec.Get(ctx, secretfile.FingerprintKeyName)
		if domain.CodeOf(err) == domain.CodeSecretNotFound {
			out = append(out, check{"secrets", "warn", "no card fingerprint key yet: the first ingest creates it"})
			err, sec = nil, nil
		}
	}
	if sec != nil || err != nil {
		add("secrets", err, "the card fingerprint key is present")
	}
	return out
}

// doctorPostgres checks the server before the store is opened, so a wrong
// URL or level is reported as such. It reports false when nothing more can
// be checked.
func (a *app) doctorPostgres(ctx context.Context, out *[]check) bool {
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	start := time.Now()
	c, err := connectPostgres(ctx, a.store)
	if err != nil {
		*out = append(*out, check{"server", "FAIL", err.Error()})
		return false
	}
	defer c.Close(context.Background())
	var version string
	if err := c.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		*out = append(*out, check{"server", "FAIL", err.Error()})
		return false
	}
	cfg := c.Config()
	*out = append(*out, check{"server", "ok", fmt.Sprintf("PostgreSQL %s at %s:%d/%s, connected in %v", version, cfg.Host, cfg.Port, cfg.Database, time.Since(start).Round(time.Millisecond))})
	level, err := pgschema.Level(ctx, c)
	switch {
	case err != nil:
		*out = append(*out, check{"migrations", "FAIL", err.Error()})
		return false
	case level != pgschema.Latest:
		*out = append(*out, check{"migrations", "FAIL", pgschema.Check(ctx, c).Error()})
		return false
	}
	*out = append(*out, check{"migrations", "ok", fmt.Sprintf("level %d, as this binary", level)})
	var age time.Duration
	var pid int32
	err = c.QueryRow(ctx, `SELECT coalesce(max(now() - xact_start), '0'), coalesce((array_agg(pid ORDER BY xact_start))[1], 0)
		FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()`).Scan(&age, &pid)
	switch {
	case err != nil:
		*out = append(*out, check{"transactions", "warn", "cannot read pg_stat_activity: " + err.Error()})
	case age > staleTx:
		*out = append(*out, check{"transactions", "warn", fmt.Sprintf("backend %d has held a write transaction open for %v: events committed after it began stay invisible to subscribers until it ends", pid, age.Round(time.Second))})
	default:
		*out = append(*out, check{"transactions", "ok", "no long-running write transaction"})
	}
	return true
}

// describeStore names the store without a password.
func (a *app) describeStore() string {
	if !a.postgresURL() {
		return a.storeFile()
	}
	if cfg, err := pgconfig.Parse(a.store); err == nil {
		return "postgres://" + pgconfig.Describe(cfg)
	}
	return "postgres://…"
}
