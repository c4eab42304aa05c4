package contract

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteText writes the summary a person reads in a terminal: per check, how many
// passed, failed, warned and were skipped; then each failure and warning with the
// order, the JSON path, the rule, what was wanted and what came back.
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	// Every string of a report may hold what a server sent: printable escapes it.
	target := printable(r.Target)
	if r.Mock {
		target += " (morimock " + printable(r.MockVersion) + ")"
	}
	fmt.Fprintf(bw, "morimock check %s\n", target)
	fmt.Fprintf(bw, "%d orders checked, %d requests, %d answered 429 and were retried\n", r.Orders, r.Requests, r.RateLimited)
	if r.Budget > 0 {
		fmt.Fprintf(bw, "lifecycle request budget: at most %d requests\n", r.Budget)
	}
	fmt.Fprintf(bw, "%d rules applied, each documented (a failure) or inferred (a warning except against the sandbox or with --strict); the JSON report and `morimock check --rules` list them\n\n", len(r.Rules))

	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "check\tseverity\tpassed\tfailed\twarned\tskipped")
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", c.Name, c.Severity, c.Passed, c.Failed, c.Warned, c.Skipped)
	}
	tw.Flush()

	writeFindings(bw, r)
	return bw.Flush()
}

// WriteFindings writes only what WriteText writes after the table: each failure and
// warning, then the verdict.
func (r *Report) WriteFindings(w io.Writer) error {
	bw := bufio.NewWriter(w)
	writeFindings(bw, r)
	return bw.Flush()
}

func writeFindings(w io.Writer, r *Report) {
	for _, section := range []struct {
		title   string
		outcome Outcome
	}{{"FAILED", Failed}, {"WARNING", Warned}} {
		for _, res := range r.Results {
			if res.Outcome == section.outcome {
				writeResult(w, section.title, res)
			}
		}
	}
	writeSkipped(w, r)
	fmt.Fprintln(w)
	if r.Stopped != "" {
		fmt.Fprintf(w, "STOPPED: %s\n", printable(r.Stopped))
	}
	if r.Inconclusive != "" {
		fmt.Fprintf(w, "INCONCLUSIVE: %s\n", printable(r.Inconclusive))
	}
	fmt.Fprintln(w, r.Verdict())
}

// writeSkipped says, for each check the verdict counts as skipped (it ran for no
// order), why: the reason of its first skip, and how many there were.
func writeSkipped(w io.Writer, r *Report) {
	first := true
	for _, c := range r.Checks {
		if !c.skippedOnly() || c.Skipped == 0 {
			continue
		}
		for _, res := range r.Results {
			if res.Check != c.Name || res.Outcome != Skipped {
				continue
			}
			if first {
				fmt.Fprintln(w)
				first = false
			}
			fmt.Fprintf(w, "SKIPPED %s: %s", c.Name, printable(res.Reason))
			if c.Skipped > 1 {
				fmt.Fprintf(w, " (%d skips)", c.Skipped)
			}
			fmt.Fprintln(w)
			break
		}
	}
}

// Verdict is the report in one line: FAIL, STOPPED, INCONCLUSIVE or PASS, how many
// checks passed, warned and were only skipped. A run that stopped early or checked
// nothing is never a PASS: what it did not check may be broken.
func (r *Report) Verdict() string {
	failed, passed, warned, skipped := 0, 0, 0, 0
	for _, c := range r.Checks {
		switch {
		case c.Failed > 0:
			failed++
		case c.skippedOnly():
			skipped++
		default:
			passed++
		}
		if c.Warned > 0 {
			warned++
		}
	}
	var s string
	switch {
	case failed > 0:
		s = fmt.Sprintf("FAIL: %d of %d checks failed", failed, len(r.Checks))
	case r.Stopped != "":
		s = fmt.Sprintf("STOPPED: the run did not finish, so it is not a pass (%d checks passed before it stopped)", passed)
	case r.Inconclusive != "":
		s = fmt.Sprintf("INCONCLUSIVE: the API could not be judged (%d checks passed)", passed)
	case passed == 0:
		s = "INCONCLUSIVE: nothing was checked"
	default:
		s = fmt.Sprintf("PASS: the API keeps the contract (%d checks passed", passed)
		if skipped > 0 {
			s += fmt.Sprintf(", %d skipped", skipped)
		}
		s += ")"
	}
	if warned > 0 {
		s += fmt.Sprintf(", %d with warnings", warned)
	}
	return s
}

// unfinished says why the run is neither a pass nor a failure of the API: it
// stopped, could not judge, or checked nothing; "" when it finished.
func (r *Report) unfinished() string {
	switch {
	case r.Stopped != "":
		return "the run stopped: " + r.Stopped
	case r.Inconclusive != "":
		return "the run is inconclusive: " + r.Inconclusive
	}
	for _, c := range r.Checks {
		if !c.skippedOnly() {
			return ""
		}
	}
	return "the run checked nothing"
}

func writeResult(w io.Writer, title string, res Result) {
	fmt.Fprintf(w, "\n%s %s: %s", title, res.Check, printable(res.Request))
	if res.Scenario != "" {
		fmt.Fprintf(w, " [%s]", printable(res.Scenario))
	}
	fmt.Fprintln(w)
	for _, f := range res.Findings {
		fmt.Fprintf(w, "  order %s", orDash(res.OrderID))
		fmt.Fprintf(w, "  path %s  rule %s\n", orDash(f.Path), orDash(f.Rule))
		fmt.Fprintf(w, "    %s\n", printable(f.Message))
		if f.Want != "" || f.Got != "" {
			fmt.Fprintf(w, "    want: %s\n    got:  %s\n", printable(f.Want), printable(f.Got))
		}
		if f.Fix != "" {
			fmt.Fprintf(w, "    fix:  %s\n", printable(f.Fix))
		}
		if f.Basis != nil {
			fmt.Fprintf(w, "    basis: %s, %s\n", f.Basis.Kind, printable(f.Basis.Source))
		}
	}
}

// orDash is s made printable, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return printable(s)
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteRules writes every rule the suite applies, with its check and basis.
func WriteRules(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, rb := range Rules() {
		fmt.Fprintf(bw, "%s (%s)\n  %s\n  %s: %s\n", rb.Rule, rb.Check, rb.Description, rb.Basis.Kind, rb.Basis.Source)
	}
	return bw.Flush()
}
