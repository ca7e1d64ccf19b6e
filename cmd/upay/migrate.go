package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"upay/adapters/pgconfig"
	"upay/adapters/pgschema"
)

func init() { register(newMigrateCmd) }

func newMigrateCmd(a *app) *cobra.Command {
	var to int
	var status bool
	cmd := &cobra.Command{
		Use:   "migrate [--to N] [--status]",
		Short: "Apply the database migrations embedded in this binary (PostgreSQL)",
		Long: `migrate brings the PostgreSQL database of --store to this binary's schema
level: the event store and the read models. Migrations are numbered,
forward-only and embedded in the binary; each is applied once, in its own
transaction, under a lock that makes concurrent runs safe. A database at a
newer level than the binary is refused: upgrade upay instead.

--status prints the level and applies nothing. --to N stops at level N.

The embedded store (a file path) needs no migrate: it is created, and
upgraded, when it is opened.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !a.postgresURL() {
				fmt.Fprintf(a.stdout, "upay: %s is an embedded store: it is created and upgraded when opened; nothing to migrate\n", a.storeFile())
				return nil
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), openTimeout)
			defer cancel()
			c, err := connectPostgres(ctx, a.store)
			if err != nil {
				return err
			}
			defer c.Close(context.Background())
			if status {
				level, err := pgschema.Level(ctx, c)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "migration level %d (this binary: %d)\n", level, pgschema.Latest)
				return nil
			}
			from, now, err := pgschema.Migrate(cmd.Context(), c, to)
			if err != nil {
				return err
			}
			if from == now {
				fmt.Fprintf(a.stdout, "upay: already at migration level %d; nothing to do\n", now)
				return nil
			}
			for _, m := range pgschema.Migrations()[from:now] {
				fmt.Fprintf(a.stdout, "applied %04d_%s\n", m.Version, m.Name)
			}
			fmt.Fprintf(a.stdout, "upay: migrated from level %d to %d\n", from, now)
			return nil
		},
	}
	cmd.Flags().IntVar(&to, "to", 0, "stop at this level (default: the latest)")
	cmd.Flags().BoolVar(&status, "status", false, "print the level, apply nothing")
	return cmd
}

// connectPostgres opens one connection to a postgres:// URL for the admin
// commands. Errors name the host, never the password: U1009 for a URL that
// does not parse, U3003 when the server cannot be reached.
func connectPostgres(ctx context.Context, url string) (*pgx.Conn, error) {
	cfg, err := pgconfig.Parse(url)
	if err != nil {
		return nil, err
	}
	cc := cfg.ConnConfig
	if cc.RuntimeParams["application_name"] == "" {
		cc.RuntimeParams["application_name"] = "upay"
	}
	c, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, pgconfig.ConnectError(cfg, url, err)
	}
	return c, nil
}
