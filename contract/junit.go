package contract

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// junitSuites is the JUnit XML that CI systems read: one suite per check, one case
// per order or request.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",cdata"`
}

type junitText struct {
	Text string `xml:",cdata"`
}

// WriteJUnit writes the report as JUnit XML. Warnings pass, with their findings in
// system-out; with Strict they are failures. A run that stopped, could not judge the
// API or checked nothing gets a "run" suite whose one case is an error, so a CI that
// shows only the JUnit file never shows it green.
func (r *Report) WriteJUnit(w io.Writer) error {
	// XML 1.0 has no way to write most control characters, not even as references:
	// printable escapes them, and every other string a server sent with them.
	out := junitSuites{Name: "morimock check " + printable(r.Target)}
	for _, c := range r.Checks {
		s := junitSuite{Name: c.Name}
		for _, res := range r.Results {
			if res.Check != c.Name {
				continue
			}
			jc := junitCase{Name: caseName(res), ClassName: "contract." + c.Name}
			switch res.Outcome {
			case Failed:
				jc.Failure = &junitMessage{Message: "failed", Type: string(res.Severity), Text: findingsText(res)}
				if len(res.Findings) > 0 {
					jc.Failure.Message = printable(res.Findings[0].Message)
				}
				s.Failures++
			case Skipped:
				jc.Skipped = &junitMessage{Message: printable(res.Reason)}
				s.Skipped++
			case Warned:
				jc.SystemOut = &junitText{Text: "WARNING\n" + findingsText(res)}
			}
			s.Tests++
			s.Cases = append(s.Cases, jc)
		}
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Skipped += s.Skipped
		out.Suites = append(out.Suites, s)
	}
	if why := r.unfinished(); why != "" {
		out.Suites = append(out.Suites, junitSuite{Name: "run", Tests: 1, Errors: 1, Cases: []junitCase{{
			Name: "run", ClassName: "contract.run",
			Error: &junitMessage{Message: printable(why), Type: "not finished", Text: printable(why)},
		}}})
		out.Tests++
		out.Errors++
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func caseName(res Result) string {
	name := res.Request
	if res.Scenario != "" {
		name += " [" + res.Scenario + "]"
	}
	return printable(name)
}

func findingsText(res Result) string {
	var b strings.Builder
	for _, f := range res.Findings {
		fmt.Fprintf(&b, "order %s path %s rule %s: %s\n", orDash(res.OrderID), orDash(f.Path), orDash(f.Rule), printable(f.Message))
		if f.Want != "" || f.Got != "" {
			fmt.Fprintf(&b, "  want: %s\n  got:  %s\n", printable(f.Want), printable(f.Got))
		}
		if f.Fix != "" {
			fmt.Fprintf(&b, "  fix:  %s\n", printable(f.Fix))
		}
		if f.Basis != nil {
			fmt.Fprintf(&b, "  basis: %s, %s\n", f.Basis.Kind, printable(f.Basis.Source))
		}
	}
	return b.String()
}
