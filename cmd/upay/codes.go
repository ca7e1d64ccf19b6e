package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"upay/domain"
)

func init() { register(newCodesCmd) }

// codeJSON is the printed form of a catalogue entry. Query is the code asked
// for when a pattern matched it (P0199 for P01xx).
type codeJSON struct {
	Code     string `json:"code"`
	Query    string `json:"query,omitempty"`
	Category string `json:"category"`
	Source   string `json:"source"`
	Message  string `json:"message"`
	Remedy   string `json:"remedy"`
	Note     string `json:"note,omitempty"`
}

func toCodeJSON(c domain.Code) codeJSON {
	return codeJSON{Code: c.Code, Category: c.Category, Source: c.Source, Message: c.Message, Remedy: c.Remedy, Note: c.Note}
}

func newCodesCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "codes [CODE]",
		Short: "List the result/error code catalogue, or explain one code",
		Long: `codes prints the catalogue of result and error codes: the operator's manual's
codes (P-, E-, T0-, ok-, ng-, G-codes and the in-app messages A01..) and this
ledger's U-codes. With no argument it lists every code (code, source, message);
with a CODE it shows its category, message, remedy and note. A code matching a
pattern shows the pattern's entry (P0199 -> P01xx). --json prints JSON: an
array of entries, or one entry.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return printCodes(a, asJSON)
			}
			return printCode(a, args[0], asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printCodes(a *app, asJSON bool) error {
	all := domain.Catalogue()
	if asJSON {
		out := make([]codeJSON, len(all))
		for i, c := range all {
			out[i] = toCodeJSON(c)
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tSOURCE\tMESSAGE")
	for _, c := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Code, c.Source, c.Message)
	}
	return tw.Flush()
}

// lookupCode finds code as typed, else in the catalogue's case (p0199, NG-91).
func lookupCode(code string) (domain.Code, bool) {
	code = strings.TrimSpace(code)
	for _, k := range []string{code, strings.ToUpper(code), strings.ToLower(code)} {
		if c, ok := domain.LookupCode(k); ok {
			return c, true
		}
	}
	return domain.Code{}, false
}

func printCode(a *app, query string, asJSON bool) error {
	c, ok := lookupCode(query)
	if !ok {
		return domain.Err(domain.CodeInvalidField, "unknown code %q: not in the catalogue (upay codes lists every code)", query)
	}
	if asJSON {
		out := toCodeJSON(c)
		if !strings.EqualFold(c.Code, query) {
			out.Query = query
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 1, ' ', 0)
	code := c.Code
	if !strings.EqualFold(c.Code, query) {
		code += fmt.Sprintf(" (matches %s)", query)
	}
	fmt.Fprintf(tw, "code:\t%s\n", code)
	fmt.Fprintf(tw, "category:\t%s\n", c.Category)
	fmt.Fprintf(tw, "source:\t%s\n", c.Source)
	fmt.Fprintf(tw, "message:\t%s\n", c.Message)
	fmt.Fprintf(tw, "remedy:\t%s\n", c.Remedy)
	if c.Note != "" {
		fmt.Fprintf(tw, "note:\t%s\n", c.Note)
	}
	return tw.Flush()
}
