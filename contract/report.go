package contract

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Report is what a run found. It is safe to encode as JSON and to show anyone: it
// never holds the API token.
type Report struct {
	// Target is the base URL that was checked, without any userinfo.
	Target string `json:"target"`
	// Mock is true when the target is morimock (it sets X-Morimock-Version).
	Mock bool `json:"mock"`
	// MockVersion is the X-Morimock-Version the mock sent.
	MockVersion string `json:"mockVersion,omitempty"`
	// Strict is Config.Strict: warnings count as failures.
	Strict bool `json:"strict"`
	// Orders is how many orders were fetched and checked.
	Orders int `json:"orders"`
	// Requests is how many HTTP requests were sent, retries included.
	Requests int `json:"requests"`
	// RateLimited is how many 429 answers were retried; they are not failures.
	RateLimited int `json:"rateLimited"`
	// Stopped says why the run ended before it checked every order: its deadline, a
	// Retry-After too long to wait, a host that stopped answering. The results are
	// those of the requests made until then.
	Stopped string `json:"stopped,omitempty"`
	// Inconclusive says why the run could not judge the API (e.g. a legacy test mode
	// that keeps no orders); the run then ends with an *InconclusiveError.
	Inconclusive string `json:"inconclusive,omitempty"`
	// Budget is the number of requests the run planned at its start (--lifecycle).
	Budget int `json:"budget,omitempty"`
	// Checks sums the results per check, in the order of Checks().
	Checks []CheckResult `json:"checks"`
	// Rules is every rule the suite applies, with its basis.
	Rules []RuleBasis `json:"rules"`
	// Results holds one entry per check and order (or request), in the order they ran.
	Results []Result `json:"results"`
}

// CheckResult counts the outcomes of one check.
type CheckResult struct {
	CheckInfo
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Warned  int `json:"warned"`
	Skipped int `json:"skipped"`
}

// skippedOnly reports whether the check judged nothing: it neither passed, warned nor
// failed anywhere (the verdict counts it as skipped).
func (c CheckResult) skippedOnly() bool { return c.Passed+c.Warned+c.Failed == 0 }

// Result is how one check went for one order or request.
type Result struct {
	Check    string   `json:"check"`
	Severity Severity `json:"severity"`
	Outcome  Outcome  `json:"outcome"`
	// OrderID is the id that was requested, when there was one.
	OrderID string `json:"orderId,omitempty"`
	// Scenario says how the order was chosen: a mock scenario, a fixture, an example.
	Scenario string `json:"scenario,omitempty"`
	// Request is the method and path that was sent, e.g. "GET /api/v2/orders/123".
	Request string `json:"request"`
	// Reason says why the check was skipped.
	Reason   string    `json:"reason,omitempty"`
	Findings []Finding `json:"findings,omitempty"`
}

// Finding is one thing a check found wrong, said so that a person can act on it.
type Finding struct {
	// Rule names the broken rule: an order rule (order.Rules), a schema keyword, ...
	Rule string `json:"rule,omitempty"`
	// Path is the JSON path of the offending value, e.g. $.data.statusCode.
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
	Want    string `json:"want,omitempty"`
	Got     string `json:"got,omitempty"`
	// Fix says what to change, or which document disagrees.
	Fix string `json:"fix,omitempty"`
	// Doc is the documentation page a drift warning refers to.
	Doc string `json:"doc,omitempty"`
	// Basis is what the broken rule rests on: documented (a failure) or inferred (a
	// warning against any host but the sandbox, unless Strict).
	Basis *Basis `json:"basis,omitempty"`
}

// Failed reports whether any check failed (with Strict, warnings fail too).
func (r *Report) Failed() bool {
	for _, res := range r.Results {
		if res.Outcome == Failed {
			return true
		}
	}
	return false
}

// Warnings counts the warned results.
func (r *Report) Warnings() int {
	n := 0
	for _, res := range r.Results {
		if res.Outcome == Warned {
			n++
		}
	}
	return n
}

// finish applies Strict, sums the results per check, hides what in a finding would
// open the user's files or webhooks (hideSecrets), and removes the token from every
// string, in case a server echoed it back.
func (r *Report) finish(token string) {
	for i := range r.Results {
		for j := range r.Results[i].Findings {
			hideSecrets(&r.Results[i].Findings[j])
		}
	}
	if r.Strict {
		for i := range r.Results {
			if r.Results[i].Outcome == Warned {
				r.Results[i].Outcome = Failed
			}
		}
	}
	r.Rules = ruleBases()
	r.Checks = r.Checks[:0]
	for _, info := range Checks() {
		cr := CheckResult{CheckInfo: info}
		seen := false
		for _, res := range r.Results {
			if res.Check != info.Name {
				continue
			}
			seen = true
			switch res.Outcome {
			case Passed:
				cr.Passed++
			case Failed:
				cr.Failed++
			case Warned:
				cr.Warned++
			case Skipped:
				cr.Skipped++
			}
		}
		if seen {
			r.Checks = append(r.Checks, cr)
		}
	}
	if len(token) < minRedacted {
		return
	}
	forms := tokenForms(token) // once for the report's hundreds of strings
	scrub := func(s *string) { *s = redactForms(*s, forms) }
	scrub(&r.Target)
	scrub(&r.MockVersion)
	scrub(&r.Stopped)
	scrub(&r.Inconclusive)
	for i := range r.Results {
		res := &r.Results[i]
		for _, s := range []*string{&res.OrderID, &res.Scenario, &res.Request, &res.Reason} {
			scrub(s)
		}
		for j := range res.Findings {
			f := &res.Findings[j]
			for _, s := range []*string{&f.Rule, &f.Path, &f.Message, &f.Want, &f.Got, &f.Fix, &f.Doc} {
				scrub(s)
			}
		}
	}
}

// minRedacted is the shortest token that redact looks for. The suite never writes the
// token itself; redact only scrubs what a server echoed back, and a shorter "token"
// (the mock accepts "x") is no secret but would garble every report.
const minRedacted = 8

// redact replaces every occurrence of token in s, as sent or in an encoding a server
// may echo it in (base64, percent-encoding, hex), and a piece of one of minRedacted
// bytes or more that ends s or stands before "...": report values are cut to 80
// bytes, and an echoed token may have been cut with them.
func redact(s, token string) string {
	if len(token) < minRedacted {
		return s
	}
	return redactForms(s, tokenForms(token))
}

// redactForms is redact with the token's forms (tokenForms) worked out already.
func redactForms(s string, forms []string) string {
	for _, form := range forms {
		s = redactForm(s, form)
	}
	return s
}

func redactForm(s, form string) string {
	if len(form) < minRedacted || !strings.Contains(s, form[:minRedacted]) {
		return s // neither the form nor a piece of it long enough to redact
	}
	s = strings.ReplaceAll(s, form, "[REDACTED]")
	for n := len(form) - 1; n >= minRedacted; n-- {
		head := form[:n]
		if strings.HasSuffix(s, head) {
			return strings.TrimSuffix(s, head) + "[REDACTED]"
		}
		if strings.Contains(s, head+"...") {
			return strings.ReplaceAll(s, head+"...", "[REDACTED]...")
		}
	}
	return s
}

// tokenForms is the token and the forms a server might echo it in: percent-encoded
// (as a query or a path would, and every byte), hex, and base64 in both alphabets at
// each of the three offsets it can start at inside a longer encoded text (such as
// "Basic " + base64("user:" + token)), keeping only the characters that the token's
// bytes alone decide.
func tokenForms(token string) []string {
	forms := []string{token, url.QueryEscape(token), url.PathEscape(token), hex.EncodeToString([]byte(token)), strings.ToUpper(hex.EncodeToString([]byte(token)))}
	var pct strings.Builder
	for _, b := range []byte(token) {
		fmt.Fprintf(&pct, "%%%02X", b)
	}
	forms = append(forms, pct.String(), strings.ToLower(pct.String()))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for pad := 0; pad < 3; pad++ {
			e := enc.EncodeToString(append(make([]byte, pad), token...))
			// Character i holds bits [6i, 6i+6) of the input; the token's are
			// [8pad, 8(pad+len)).
			first := (8*pad + 5) / 6
			last := (8*(pad+len(token)) - 6) / 6
			forms = append(forms, e[first:last+1])
		}
	}
	// Longest first, so that a shorter form never breaks up a longer one.
	slices.SortStableFunc(forms, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(forms)
}

// urlQuery is a URL's query: where a presigned URL carries its signature.
var urlQuery = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>?]*)\?[^\s"'<>]*`)

// hiddenQuery stands for a URL's query in a report.
const hiddenQuery = "?[query hidden]"

// secretMember is a "secret" member of a JSON excerpt, its value up to the closing
// quote or the excerpt's end; webhookSecret is a webhook secret anywhere.
var (
	secretMember  = regexp.MustCompile(`(\\?"(?i:secret)\\?"\s*:\s*)(\[[^\]]*\]?|[^,}\]]*)`)
	webhookSecret = regexp.MustCompile(`whsec_[^\s"',}\]]*`)
)

// hiddenSecret stands for a webhook secret in a report.
const hiddenSecret = "[secret hidden]"

// hideSecrets removes from a finding what would give its reader the user's files or
// webhooks: the query of every URL (a presigned URL's signature opens a file for an
// hour, and reports end up in CI artifacts), and a webhook's secret, whether the
// finding is about it or about an object or text that holds it.
func hideSecrets(f *Finding) {
	for _, s := range []*string{&f.Message, &f.Want, &f.Got} {
		*s = urlQuery.ReplaceAllString(*s, "${1}"+hiddenQuery)
		*s = secretMember.ReplaceAllString(*s, "${1}\""+hiddenSecret+"\"")
		*s = webhookSecret.ReplaceAllString(*s, hiddenSecret)
	}
	if strings.HasSuffix(f.Path, ".secret") || strings.HasSuffix(f.Path, "Secret") {
		f.Got = hiddenSecret
	}
}
