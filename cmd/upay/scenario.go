package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"upay/domain"
	"upay/scenarios"
)

func init() { register(newScenarioCmd) }

// scenarioTotals opens the period totals a scenario run reads: the
// embedded read models, caught up before every payout_run step. Tests may
// replace it.
var scenarioTotals scenarios.OpenTotals = scenarios.ReadModels

func newScenarioCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenario",
		Short: "Executable settlement scenarios (docs/scenarios.md)",
	}
	cmd.AddCommand(newScenarioRunCmd(a))
	return cmd
}

func newScenarioRunCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "run FILE... [--json]",
		Short: "Run scenario files, each against a fresh store, and check their expectations",
		Long: `run plays each scenario file (a directory stands for the *.yaml files in it)
against a fresh store: the merchants are
registered, the steps run in order at their processing times, and the
rejections and payouts that result are compared with the file's expect.

It prints a line per scenario, PASS or FAIL and its name, with one line per
difference under a failure. --json prints, per scenario, the actual outcome in
the shape of expect (under "actual"), so a what-if scenario can be written and
its result read.

Exit status: 0 when every expectation holds, 1 when a scenario failed, 2 when
a file is malformed (its error names the file, line, field and code).

Every scenario has its own store: a temporary embedded file, or, when --store
is a postgres:// URL, a schema of its own in that database, created, migrated
and dropped around the scenario.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := scenarioFiles(args)
			if err != nil {
				return err
			}
			return a.runScenarios(cmd, files, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the actual outcomes as JSON")
	return cmd
}

// scenarioFiles expands directories to the *.yaml and *.yml files in them.
func scenarioFiles(args []string) ([]string, error) {
	var files []string
	for _, arg := range args {
		fi, err := os.Stat(arg)
		if err != nil || !fi.IsDir() {
			files = append(files, arg) // ParseFile reports a missing file
			continue
		}
		var in []string
		for _, pat := range []string{"*.yaml", "*.yml"} {
			m, err := filepath.Glob(filepath.Join(arg, pat))
			if err != nil {
				return nil, err
			}
			in = append(in, m...)
		}
		if len(in) == 0 {
			return nil, domain.Err(domain.CodeMissingField, "directory %s holds no *.yaml scenario file", arg)
		}
		slices.Sort(in)
		files = append(files, in...)
	}
	return files, nil
}

// scenarioReport is one file's entry in the --json output.
type scenarioReport struct {
	File   string             `json:"file"`
	Name   string             `json:"name,omitempty"`
	Pass   bool               `json:"pass"`
	Diffs  []string           `json:"diffs,omitempty"`
	Actual *scenarios.Outcome `json:"actual,omitempty"`
	Error  *scenarioError     `json:"error,omitempty"`
}

type scenarioError struct {
	Code    string `json:"code,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

func (a *app) runScenarios(cmd *cobra.Command, files []string, asJSON bool) error {
	ctx := cmd.Context()
	r := &scenarios.Runner{Totals: scenarioTotals}
	if a.postgresURL() {
		pg := scenarios.Postgres{URL: a.store}
		r.Store, r.Totals = pg.Store, pg.Totals
	}
	var reports []scenarioReport
	passed, failed, malformed := 0, 0, 0
	for _, f := range files {
		rep := scenarioReport{File: f}
		s, err := scenarios.ParseFile(f)
		var res *scenarios.Result
		if err == nil {
			rep.Name = s.Name
			res, err = r.Run(ctx, s)
		}
		var se *scenarios.Error
		switch {
		case errors.As(err, &se):
			malformed++
			rep.Error = &scenarioError{Code: se.Code, Line: se.Line, Column: se.Column, Path: se.Path, Message: se.Msg}
			fmt.Fprintf(a.stderr, "upay: malformed scenario %v\n", se)
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failed++
			rep.Error = &scenarioError{Code: domain.CodeOf(err), Message: err.Error()}
			fmt.Fprintf(a.stderr, "upay: scenario %s: %v\n", f, err)
			if !asJSON {
				fmt.Fprintf(a.stdout, "FAIL %s (%s)\n    could not run: %v\n", rep.Name, f, err)
			}
		default:
			rep.Pass, rep.Diffs, rep.Actual = res.Passed(), res.Diffs, &res.Actual
			if rep.Pass {
				passed++
			} else {
				failed++
			}
			if !asJSON {
				printScenario(a.stdout, rep)
			}
		}
		reports = append(reports, rep)
	}
	if asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(reports); err != nil {
			return err
		}
	} else {
		parts := []string{fmt.Sprintf("%d passed", passed), fmt.Sprintf("%d failed", failed)}
		if malformed > 0 {
			parts = append(parts, fmt.Sprintf("%d malformed", malformed))
		}
		fmt.Fprintf(a.stdout, "%d %s: %s\n", len(files), plural(len(files), "scenario", "scenarios"), strings.Join(parts, ", "))
	}
	switch {
	case malformed > 0:
		return exitError{2}
	case failed > 0:
		return exitError{1}
	}
	return nil
}

func printScenario(w io.Writer, rep scenarioReport) {
	verdict := "PASS"
	if !rep.Pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s %s (%s)\n", verdict, rep.Name, rep.File)
	for _, d := range rep.Diffs {
		fmt.Fprintf(w, "    %s\n", d)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
