package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"upay/domain"
	"upay/projections"
)

func init() { register(newProjectionsCmd) }

// projModels is an open event store, the read models that follow it and a
// runner between them.
type projModels struct {
	events domain.EventStore
	rm     readModels
	runner *projections.Runner
}

func (m *projModels) Close() error {
	err := m.rm.Close()
	if e := m.events.Close(); err == nil {
		err = e
	}
	return err
}

// openModels opens the event store of --store and its read models.
func (a *app) openModels(opt projections.RunnerOptions) (*projModels, error) {
	events, err := a.openStore()
	if err != nil {
		return nil, err
	}
	rm, err := a.openReadModels(events)
	if err != nil {
		events.Close()
		return nil, err
	}
	return &projModels{events: events, rm: rm, runner: projections.NewRunner(events, rm, opt)}, nil
}

// freshModels opens the read models and applies what the event store
// recorded since they last ran, so a reader sees every committed event.
// A long catch-up (a first run on a big store) shows a progress bar.
func (a *app) freshModels(ctx context.Context) (*projModels, error) {
	m, err := a.openModels(projections.RunnerOptions{})
	if err != nil {
		return nil, err
	}
	st, err := m.rm.Status(ctx)
	if err != nil {
		m.Close()
		return nil, err
	}
	var lag int64
	for _, s := range st {
		lag = max(lag, s.Lag)
	}
	var bar *eventsBar
	if lag >= 100_000 {
		fmt.Fprintf(a.stderr, "upay: bringing the read models up to date (%d events)\n", lag)
		bar = newEventsBar(a.stderr)
	}
	m.runner = projections.NewRunner(m.events, m.rm, projections.RunnerOptions{Progress: bar.update})
	if _, err := m.runner.CatchUp(ctx); err != nil {
		m.Close()
		return nil, err
	}
	bar.finish()
	return m, nil
}

func newProjectionsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "projections",
		Short: "Read models: status, catch-up and rebuild (docs/projections.md)",
		Long: `projections manages the read models the admin screens and the finance team read:
the transaction listing, period totals, the double-entry journal and the payouts. They live in
<store>.read.db beside the event store and can always be rebuilt from the
events. The readers (tx, balance)
catch up on their own before they read.`,
	}
	cmd.AddCommand(newProjectionsStatusCmd(a), newProjectionsCatchUpCmd(a), newProjectionsRebuildCmd(a))
	return cmd
}

type statusJSON struct {
	Name     string `json:"name"`
	Position string `json:"position"`
	Lag      int64  `json:"lag"`
}

func newProjectionsStatusCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Each projection's checkpoint (the last event applied) and lag (events recorded after it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := a.openModels(projections.RunnerOptions{})
			if err != nil {
				return err
			}
			defer m.Close()
			st, err := m.runner.Status(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				out := make([]statusJSON, len(st))
				for i, s := range st {
					out[i] = statusJSON{Name: s.Name, Position: s.Position.String(), Lag: s.Lag}
				}
				return txWriteJSON(a.stdout, out)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PROJECTION\tPOSITION\tLAG")
			for _, s := range st {
				fmt.Fprintf(tw, "%s\t%s\t%d\n", s.Name, s.Position, s.Lag)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newProjectionsCatchUpCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "catch-up",
		Short: "Apply the events recorded since the projections last ran",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bar := newEventsBar(a.stderr)
			m, err := a.openModels(projections.RunnerOptions{Progress: bar.update})
			if err != nil {
				return err
			}
			defer m.Close()
			start := time.Now()
			n, err := m.runner.CatchUp(cmd.Context())
			bar.finish()
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "applied %d events in %s\n", n, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}

func newProjectionsRebuildCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "rebuild [NAME]",
		Short: "Delete a projection's rows (all projections without NAME) and apply every event again",
		Long: `rebuild empties the named projection (transactions, period_totals, journal, payouts or
notices; all of them without a name) and applies the whole event log again from position
zero, with a progress bar on stderr. Readers see the projection refill; it
commits page by page, so an interrupted rebuild resumes where it stopped with
the next catch-up.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := projections.CheckNames(args); err != nil {
				return err
			}
			bar := newEventsBar(a.stderr)
			if slices.Contains(projectionNames(args), projections.NameTransactions) {
				// After the last event the store rebuilds the listing's
				// search indexes (minutes on a large log): say so rather
				// than sit at 100%.
				bar.atEnd = "every event applied; building the listing's search indexes..."
			}
			m, err := a.openModels(projections.RunnerOptions{})
			if err != nil {
				return err
			}
			defer m.Close()
			start := time.Now()
			n, err := m.runner.Rebuild(cmd.Context(), bar.update, args...)
			bar.end(err)
			if err != nil {
				return err
			}
			d := time.Since(start)
			fmt.Fprintf(a.stdout, "rebuilt %s from %d events in %s (%.0f events/s)\n", strings.Join(projectionNames(args), ", "), n,
				d.Round(time.Millisecond), float64(n)/max(d.Seconds(), 1e-9))
			return nil
		},
	}
}

func projectionNames(args []string) []string {
	n, _ := projections.CheckNames(args)
	return n
}

// eventsBar draws "[=====>    ]  45% 1.2M/2.7M events 310k ev/s" on one
// line of w, redrawn with \r at most ten times a second. A nil bar does
// nothing.
type eventsBar struct {
	w     io.Writer
	start time.Time
	last  time.Time
	drawn bool
	done  int64
	total int64
	// atEnd, when set, is printed on a line of its own once every event is
	// applied, for work the store does after the last page.
	atEnd string
	ended bool
}

func newEventsBar(w io.Writer) *eventsBar { return &eventsBar{w: w, start: time.Now()} }

func (p *eventsBar) update(done, total int64) {
	if p == nil {
		return
	}
	p.done, p.total = done, total
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || done >= total {
		p.last = now
		p.draw()
	}
	if done >= total && p.atEnd != "" && !p.ended {
		p.ended = true
		fmt.Fprintf(p.w, "\n%s", p.atEnd)
	}
}

func (p *eventsBar) draw() {
	const width = 30
	frac := 1.0
	if p.total > 0 {
		frac = min(1, float64(p.done)/float64(p.total))
	}
	fill := int(frac * width)
	bar := strings.Repeat("=", fill)
	if fill < width {
		bar += ">" + strings.Repeat(" ", width-fill-1)
	}
	rate := float64(p.done) / max(time.Since(p.start).Seconds(), 1e-9)
	fmt.Fprintf(p.w, "\r[%s] %3.0f%% %s/%s events %s ev/s", bar, frac*100, siCount(float64(p.done)), siCount(float64(p.total)), siCount(rate))
	p.drawn = true
}

// finish draws the final state and ends the line.
func (p *eventsBar) finish() { p.end(nil) }

// end is finish for work that may have failed: the atEnd line says
// "failed" rather than "done" when err is set.
func (p *eventsBar) end(err error) {
	if p == nil || !p.drawn {
		return
	}
	if p.ended {
		if err != nil {
			fmt.Fprintln(p.w, " failed")
		} else {
			fmt.Fprintln(p.w, " done")
		}
		return
	}
	p.draw()
	fmt.Fprintln(p.w)
}

// siCount renders a count with a k or M suffix: 950, 12.3k, 2.7M.
func siCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// txWriteJSON prints v indented.
func txWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
