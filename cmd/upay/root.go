package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"upay/domain"
)

// app carries what every subcommand shares: the streams and the global flags.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	store  string // --store: an embedded file path, or a URL of another engine

	secretsDir string // --secrets (env UPAY_SECRETS); "" = beside the store file

	// migrate lets opening a PostgreSQL store apply pending migrations
	// (upay migrate, upay serve --migrate); otherwise a database below this
	// binary's level is refused.
	migrate bool
}

// exitError carries a process exit code through cobra.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "upay",
		Short:         "Event-sourced ledger and settlement engine for card and e-money payments",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	defStore := os.Getenv("UPAY_STORE")
	if defStore == "" {
		defStore = "upay.db"
	}
	root.PersistentFlags().StringVar(&a.store, "store", defStore, "event store: path of the embedded SQLite file, or a URL (env UPAY_STORE)")
	root.PersistentFlags().StringVar(&a.secretsDir, "secrets", os.Getenv("UPAY_SECRETS"), "secret store directory (env UPAY_SECRETS; default: <store>.secrets)")
	for _, sub := range subcommands {
		root.AddCommand(sub(a))
	}
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if code := domain.CodeOf(err); code != "" {
		fmt.Fprintf(stderr, "upay: error %v\n", err)
	} else {
		fmt.Fprintf(stderr, "upay: %v\n", err)
	}
	return 1
}

// subcommands are added by each command's file in its init, so that files
// for separate features never edit the same lines.
var subcommands []func(*app) *cobra.Command

func register(f func(*app) *cobra.Command) { subcommands = append(subcommands, f) }
