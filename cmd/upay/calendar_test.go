package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"upay/settlement"
)

func runCalendar(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"calendar"}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCalendarPaydaysJSON(t *testing.T) {
	code, out, errs := runCalendar(t, "paydays", "--from", "2019-03", "--to", "2019-05", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got []map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// Worked out by hand: Golden Week 2019 moves the 04-30 payday to Fri
	// 04-26; 03-31, 06-15 and 06-30 fall on weekends.
	want := [][6]string{
		// kind, period_start, period_end, close_date, notice_date, payday
		{"card", "2019-03-01", "2019-03-15", "2019-03-15", "2019-03-27", "2019-03-29"},
		{"card", "2019-03-16", "2019-03-31", "2019-03-31", "2019-04-11", "2019-04-15"},
		{"card", "2019-04-01", "2019-04-15", "2019-04-15", "2019-04-24", "2019-04-26"},
		{"emoney", "2019-03-01", "2019-03-31", "2019-03-31", "2019-04-24", "2019-04-26"},
		{"card", "2019-04-16", "2019-04-30", "2019-04-30", "2019-05-13", "2019-05-15"},
		{"card", "2019-05-01", "2019-05-15", "2019-05-15", "2019-05-29", "2019-05-31"},
		{"emoney", "2019-04-01", "2019-04-30", "2019-04-30", "2019-05-29", "2019-05-31"},
		{"card", "2019-05-16", "2019-05-31", "2019-05-31", "2019-06-13", "2019-06-17"},
		{"emoney", "2019-05-01", "2019-05-31", "2019-05-31", "2019-06-26", "2019-06-28"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d objects, want %d:\n%s", len(got), len(want), out)
	}
	keys := []string{"kind", "period_start", "period_end", "close_date", "notice_date", "payday"}
	for i, w := range want {
		var gotKeys []string
		for k := range got[i] {
			gotKeys = append(gotKeys, k)
		}
		slices.Sort(gotKeys)
		if sorted := slices.Sorted(slices.Values(keys)); !reflect.DeepEqual(gotKeys, sorted) {
			t.Fatalf("object %d has keys %v, want exactly %v", i, gotKeys, sorted)
		}
		for j, k := range keys {
			if got[i][k] != w[j] {
				t.Errorf("object %d: %s = %q, want %q", i, k, got[i][k], w[j])
			}
		}
	}
}

func TestCalendarPaydaysTable(t *testing.T) {
	code, out, errs := runCalendar(t, "paydays", "--from", "2019-04", "--to", "2019-04")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	// Periods starting in 2019-04: card A, card B and the e-money month.
	want := []string{
		"KIND    PERIOD START  PERIOD END  CLOSE       NOTICE          PAYDAY",
		"card    2019-04-01    2019-04-15  2019-04-15  2019-04-24 Wed  2019-04-26 Fri",
		"card    2019-04-16    2019-04-30  2019-04-30  2019-05-13 Mon  2019-05-15 Wed",
		"emoney  2019-04-01    2019-04-30  2019-04-30  2019-05-29 Wed  2019-05-31 Fri",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("table:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
}

func TestCalendarErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // parts of stderr
	}{
		{"from after to", []string{"paydays", "--from", "2019-12", "--to", "2019-10"}, []string{"U1009", "2019-12 is after to month 2019-10"}},
		{"malformed from", []string{"paydays", "--from", "2019-1", "--to", "2019-10"}, []string{"U1009", `--from "2019-1"`}},
		{"malformed to", []string{"paydays", "--from", "2019-10", "--to", "2019-13"}, []string{"U1009", `--to "2019-13"`}},
		{"missing to", []string{"paydays", "--from", "2019-10"}, []string{"U1003", "--to"}},
		{"beyond the data", []string{"paydays", "--from", "2027-12", "--to", "2027-12"}, []string{"U1009", "year 2028"}},
		{"bad date", []string{"is-business-day", "2019-5-1"}, []string{"U1009", `"2019-5-1"`}},
		{"date beyond the data", []string{"is-business-day", "2028-01-04"}, []string{"U1009", "year 2028"}},
		{"no holidays file", []string{"--holidays", filepath.Join(t.TempDir(), "none.csv"), "is-business-day", "2019-10-01"}, []string{"U1009", "--holidays", "none.csv"}},
	}
	for _, tt := range tests {
		code, out, errs := runCalendar(t, tt.args...)
		if code != 1 || out != "" {
			t.Errorf("%s: exit %d, stdout %q; want exit 1 and no output", tt.name, code, out)
		}
		for _, w := range tt.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%s: stderr %q lacks %q", tt.name, errs, w)
			}
		}
	}
}

func TestCalendarDataFiles(t *testing.T) {
	dir := t.TempDir()
	embedded, err := io.ReadAll(settlement.DefaultHolidays())
	if err != nil {
		t.Fatal(err)
	}
	// Next February's Cabinet Office list: 2028 added, no code change.
	holidays := filepath.Join(dir, "holidays.csv")
	if err := os.WriteFile(holidays, append(embedded, "2028-01-01,元日\n2028-01-10,成人の日\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	closures := filepath.Join(dir, "closures.csv")
	if err := os.WriteFile(closures, []byte("date,name\n2019-10-31,system migration\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("date,name\n2019-10-31,x\n2019/11/01,y\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// Sat 2028-01-15 moves forward to Mon 01-17; notice Thu 01-13.
	code, out, errs := runCalendar(t, "--holidays", holidays, "paydays", "--from", "2027-12", "--to", "2027-12", "--json")
	if code != 0 || !strings.Contains(out, `"payday": "2028-01-17"`) || !strings.Contains(out, `"notice_date": "2028-01-13"`) {
		t.Errorf("with 2028 data: exit %d\n%s%s", code, out, errs)
	}
	// The closure moves card period A of 2019-10 back to Wed 10-30.
	code, out, errs = runCalendar(t, "--closures", closures, "paydays", "--from", "2019-10", "--to", "2019-10")
	if code != 0 || !strings.Contains(out, "card    2019-10-01    2019-10-15  2019-10-15  2019-10-28 Mon  2019-10-30 Wed") {
		t.Errorf("with the closure: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = runCalendar(t, "--closures", closures, "is-business-day", "2019-10-31")
	if code != 2 || !strings.Contains(out, "closed: extra closure system migration") {
		t.Errorf("closure day: exit %d, %q", code, out)
	}
	code, _, errs = runCalendar(t, "--closures", bad, "paydays", "--from", "2019-10", "--to", "2019-10")
	if code != 1 || !strings.Contains(errs, "U1009") || !strings.Contains(errs, bad+": extra closures, line 3") {
		t.Errorf("bad closures: exit %d, stderr %q; want the file and line 3", code, errs)
	}
	code, _, errs = runCalendar(t, "--holidays", bad, "paydays", "--from", "2019-10", "--to", "2019-10")
	if code != 1 || !strings.Contains(errs, bad+": national holidays, line 3") {
		t.Errorf("bad holidays: exit %d, stderr %q; want the file and line 3", code, errs)
	}
}

func TestCalendarIsBusinessDay(t *testing.T) {
	tests := []struct {
		day  string
		code int
		out  string
	}{
		{"2019-05-07", 0, "2019-05-07 Tue: business day\n"},
		{"2019-05-01", 2, "2019-05-01 Wed: closed: national holiday 休日（祝日扱い）\nprevious business day: 2019-04-26 Fri\nnext business day:     2019-05-07 Tue\n"},
		{"2020-01-02", 2, "2020-01-02 Thu: closed: bank holiday (Jan 2)\nprevious business day: 2019-12-30 Mon\nnext business day:     2020-01-06 Mon\n"},
		{"2021-08-08", 2, "2021-08-08 Sun: closed: Sunday; national holiday 山の日\nprevious business day: 2021-08-06 Fri\nnext business day:     2021-08-10 Tue\n"},
		{"2027-12-31", 2, "2027-12-31 Fri: closed: bank holiday (Dec 31)\nprevious business day: 2027-12-30 Thu\n"}, // no next: 2028 unknown
	}
	for _, tt := range tests {
		code, out, errs := runCalendar(t, "is-business-day", tt.day)
		if code != tt.code || out != tt.out || errs != "" {
			t.Errorf("is-business-day %s: exit %d\n%q\n%q; want exit %d\n%q", tt.day, code, out, errs, tt.code, tt.out)
		}
	}
}
