package contract

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/morimock/morimock/internal/spectest"
)

// hostileBody builds an answer of about size bytes that costs validators the most.
// It appends to one buffer of the final size: a million fmt calls under the race
// detector took longer than the run they feed.
func hostileBody(kind string, size int) []byte {
	b := make([]byte, 0, size+64)
	field := func(prefix string, i int, value string) {
		b = append(b, `,"`...)
		b = append(b, prefix...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `":`...)
		b = append(b, value...)
	}
	switch kind {
	case "deep":
		n := (size - 10) / 2
		b = append(b, `{"data":`+strings.Repeat("[", n)+strings.Repeat("]", n)+`}`...)
	case "deep under encoding/json's limit":
		b = append(b, `{"data":`+strings.Repeat("[", 9990)+strings.Repeat("]", 9990)+`}`...)
	case "unknown fields":
		b = append(b, `{"data":{"orderId":"1","type":"antiAi","status":"pending"`...)
		for i := 0; len(b) < size-20; i++ {
			field("u", i, strconv.Itoa(i))
		}
		b = append(b, `}}`...)
	case "big unknown fields":
		b = append(b, `{"data":{"orderId":"1","type":"antiAi","status":"pending"`...)
		x := `"` + strings.Repeat("x", 60000) + `"`
		for i := 0; len(b) < size-70000; i++ {
			field("u", i, x)
		}
		b = append(b, `}}`...)
	case "huge string":
		b = append(b, `{"data":{"type":"antiAi","orderId":"`+strings.Repeat("x", size-40)+`"}}`...)
	case "long array":
		b = append(b, `{"data":{"type":"antiAi","errors":[0`...)
		for len(b) < size-10 {
			b = append(b, `,0`...)
		}
		b = append(b, `]}}`...)
	case "wide envelope":
		b = append(b, `{"data":{}`...)
		for i := 0; len(b) < size-20; i++ {
			field("e", i, "0")
		}
		b = append(b, `}`...)
	}
	return b
}

// answerAll answers every request with status and body, declaring its length as a
// server that holds the whole body does. TestAnswerOverTheBodyLimit declares more than
// maxBody, so the suite's reading of an answer of unknown length is the one that
// bounds it.
func answerAll(status int, body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		w.Write(body)
	})
}

// TestHostileAnswersAreBounded: an answer up to the body limit costs a bounded
// amount of memory, and is reported as beyond the suite's limits. Allocated bytes are
// the oracle (they do not depend on the machine's speed); before the limits, the
// deep and unknown-field answers allocated gigabytes.
func TestHostileAnswersAreBounded(t *testing.T) {
	const size = maxBody - 64
	for _, kind := range []string{"deep", "deep under encoding/json's limit", "unknown fields", "big unknown fields", "huge string", "long array", "wide envelope"} {
		t.Run(kind, func(t *testing.T) {
			body := hostileBody(kind, size)
			if len(body) > maxBody {
				t.Fatalf("the %s body has %d bytes; want at most %d", kind, len(body), maxBody)
			}
			base := newServer(t, answerAll(http.StatusOK, body))
			spec := spectest.Load(t)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			rep, err := Run(context.Background(), spec, Config{BaseURL: base, Token: "sk_test_secret", OrderIDs: []string{validID}})
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatalf("Run() error = %v", err)
			}
			// Four answers of 4 MiB are read (not found, two auth checks, the order).
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4*100<<20 {
				t.Errorf("the run allocated %d MB; want under 100 MB an answer", alloc>>20)
			}
			if got := findingOf(rep, CheckResponseSchema); got.Rule != "answer_limits" && !(kind == "deep under encoding/json's limit" && got.Rule != "") {
				t.Errorf("response_schema_conformance finding = %+v; want answer_limits", got)
			}
			assertSmallReport(t, rep)
		})
	}
}

// TestAnswerOverTheBodyLimit is reported as too large, not as "not JSON".
func TestAnswerOverTheBodyLimit(t *testing.T) {
	body := []byte(`{"data":{"type":"antiAi","orderId":"` + strings.Repeat("1", maxBody) + `"}}`)
	rep := runAgainst(t, answerAll(http.StatusOK, body), Config{OrderIDs: []string{validID}})
	got := findingOf(rep, CheckResponseSchema)
	if !strings.Contains(got.Message, "larger than 4 MiB") {
		t.Errorf("response_schema_conformance finding = %+v; want it to say the answer is larger than 4 MiB", got)
	}
	for _, res := range rep.Results {
		for _, f := range res.Findings {
			if strings.Contains(f.Message, "not JSON") {
				t.Errorf("%s says %q; want too large, not not JSON", res.Check, f.Message)
			}
		}
	}
}

// TestManyUnknownFieldsMakeOneFinding: the first names and the count.
func TestManyUnknownFieldsMakeOneFinding(t *testing.T) {
	var b strings.Builder
	b.WriteString(strings.TrimSuffix(validAntiAI, "}}"))
	for i := range 50 {
		fmt.Fprintf(&b, `,"zz%03d":1`, i)
	}
	b.WriteString("}}")
	rep := runAgainst(t, &fakeAPI{Orders: map[string][]byte{validID: []byte(b.String())}}, Config{OrderIDs: []string{validID}})
	for _, res := range rep.Results {
		if res.OrderID == validID && res.Check == CheckUnknownField {
			if len(res.Findings) != 1 {
				t.Fatalf("unknown_field has %d findings; want 1", len(res.Findings))
			}
			msg := res.Findings[0].Message
			if !strings.Contains(msg, "50 fields") || !strings.Contains(msg, `"zz000"`) || !strings.Contains(msg, "and 40 more") {
				t.Errorf("unknown_field message = %q; want the count, the first names and how many more", msg)
			}
		}
	}
	if rep.Failed() {
		t.Errorf("Failed() = true; want unknown fields to warn only: %v", outcomes(rep, Failed))
	}
}

// TestRedirectsAreNotFollowed: a 3xx to another port of the same host is an answer;
// the token never reaches the other port.
func TestRedirectsAreNotFollowed(t *testing.T) {
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var reached atomic.Int32
			other := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reached.Add(1)
				w.WriteHeader(http.StatusOK)
			}))
			redirect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other+r.URL.Path, status)
			})
			rep := runAgainst(t, redirect, Config{OrderIDs: []string{validID}, ProbeWrites: true})
			if n := reached.Load(); n > 0 {
				t.Errorf("the other port received %d requests; want none", n)
			}
			if got := findingOf(rep, CheckStatusCode); got.Rule != "undeclared_status" {
				t.Errorf("status_code_conformance finding = %+v; want the %d judged as an undeclared status", got, status)
			}
		})
	}
}

// TestAServerCannotSwitchOnWrites: saying it is the mock does not make the suite
// send anything but GETs.
func TestAServerCannotSwitchOnWrites(t *testing.T) {
	api := &fakeAPI{Orders: map[string][]byte{validID: []byte(validAntiAI)}, Mock: true}
	runAgainst(t, api, Config{OrderIDs: []string{validID}})
	for _, m := range api.sent() {
		if m != http.MethodGet {
			t.Errorf("the suite sent %s to a server that calls itself the mock; want GETs only without ProbeWrites", m)
		}
	}
}

// terminalAttack is what a hostile server sends to a person's terminal: a new title,
// erased lines, a fake green PASS, a NUL and a bidi override.
const terminalAttack = "\x1b]0;pwned\x07\x1b[2K\x1b[1A\x1b[32mPASS\x1b[0m\x00\u202e\x7f\xff"

func TestServerBytesAreEscaped(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, missingID) {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"code":"` + terminalAttack + `"}`))
			return
		}
		w.Write([]byte(terminalAttack))
	})
	rep := runAgainst(t, h, Config{OrderIDs: []string{validID}})
	var text, junit, js bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	// JSON escapes the C0 controls; text and XML escape every rune that is not
	// printable.
	for name, out := range map[string][]byte{"text": text.Bytes(), "junit": junit.Bytes(), "json": js.Bytes()} {
		if i := bytes.IndexFunc(out, func(r rune) bool {
			return r < 0x20 && r != '\n' && r != '\t' || name != "json" && (r == 0x7f || r == 0x202e || r == utf8.RuneError)
		}); i >= 0 {
			t.Errorf("the %s report holds %q at %d; want every control byte escaped", name, out[i], i)
		}
	}
	if !strings.Contains(text.String(), `\x1b`) {
		t.Errorf("the text report does not show the escapes:\n%s", text.String())
	}
	dec := xml.NewDecoder(&junit)
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the JUnit report is not well-formed XML: %v", err)
		}
	}
	if !json.Valid(js.Bytes()) {
		t.Error("the JSON report is not valid JSON")
	}
}

// TestLongRetryAfterStopsTheRun: a Retry-After above a minute is not waited; the run
// ends at once with what it found, naming the rate limit.
func TestLongRetryAfterStopsTheRun(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, missingID) {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"code":"ORDER_NOT_FOUND"}`))
			return
		}
		w.Header().Set("Retry-After", "300")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"code":"RATE_LIMIT_EXCEEDED"}`))
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard, not an assertion
	defer cancel()
	rep, err := Run(ctx, spectest.Load(t), Config{BaseURL: newServer(t, h), Token: "sk_test_secret", OrderIDs: []string{validID}})
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.Wait != 5*time.Minute {
		t.Fatalf("Run() error = %v; want a *RateLimitError asking for 5m", err)
	}
	if !strings.Contains(err.Error(), "rate limited") {
		t.Errorf("Run() error = %q; want it to name the rate limit", err)
	}
	if rep == nil || rep.Stopped == "" || len(rep.Results) == 0 {
		t.Fatalf("Run() report = %+v; want the results so far and why the run stopped", rep)
	}
}

// hangOn answers the order id never (until the request ends) and validAntiAI for
// every other order.
func hangOn(id string) http.Handler {
	api := &fakeAPI{Orders: map[string][]byte{validID: []byte(validAntiAI)}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/"+id) && r.Header.Get("Authorization") != "" && strings.HasPrefix(r.Header.Get("Authorization"), "Bearer") {
			<-r.Context().Done()
			return
		}
		api.ServeHTTP(w, r)
	})
}

// TestAnOrderThatTimesOutIsReported and the run goes on to the next order.
func TestAnOrderThatTimesOutIsReported(t *testing.T) {
	rep := runAgainst(t, hangOn("999"), Config{OrderIDs: []string{"999", validID}, Timeout: 100 * time.Millisecond})
	got := findingOf(rep, CheckStatusCode)
	if got.Rule != "no_answer" || !strings.Contains(got.Message, "no answer within") {
		t.Errorf("status_code_conformance finding = %+v; want the order that timed out reported", got)
	}
	if rep.Orders != 2 {
		t.Errorf("Orders = %d; want 2: the run goes on after a timeout", rep.Orders)
	}
}

// TestDeadlineEndsTheRun with the report so far and an error that unwraps.
func TestDeadlineEndsTheRun(t *testing.T) {
	ids := []string{validID, "1", "2", "3"}
	cfg := Config{BaseURL: newServer(t, hangOn("1")), Token: "sk_test_secret", OrderIDs: ids, Timeout: time.Hour, Deadline: 300 * time.Millisecond}
	rep, err := Run(context.Background(), spectest.Load(t), cfg)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("Run() error = %v; want the run's deadline, wrapping context.DeadlineExceeded", err)
	}
	if rep == nil || rep.Orders == 0 || rep.Stopped == "" {
		t.Fatalf("Run() report = %+v; want the orders checked before the deadline", rep)
	}
	// The request's own timeout is an hour: what cut it was the run's deadline.
	if text := err.Error() + reportText(t, rep); strings.Contains(text, "no answer within") {
		t.Errorf("the run blames the request timeout for the deadline: %s", text)
	}
}

func TestCanceledRunUnwraps(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, spectest.Load(t), Config{BaseURL: newServer(t, hangOn("1")), Token: "sk_test_secret", OrderIDs: []string{"1"}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run(canceled) error = %v; want errors.Is context.Canceled", err)
	}
}

func TestBaseURLRefused(t *testing.T) {
	tests := []struct{ base, want string }{
		{"http://user:hunter2@127.0.0.1:8080", "user:password@"},
		{"http://127.0.0.1:8080/?key=1", "without a query"},
		{"http://127.0.0.1:8080/#x", "without a query or fragment"},
		{"ftp://127.0.0.1", "want http(s)"},
	}
	for _, tt := range tests {
		_, err := Run(context.Background(), spectest.Load(t), Config{BaseURL: tt.base, OrderIDs: []string{"1"}})
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Run(%q) error = %v; want it to say %q, without the password", tt.base, err, tt.want)
		}
	}
}

// TestLocalhostNamesAreResolved: a name only counts as loopback when it resolves to
// loopback addresses; a *.localhost name is not trusted for its suffix.
func TestLocalhostNamesAreResolved(t *testing.T) {
	c, err := newClient(t.Context(), Config{BaseURL: "http://api.localhost.invalid:8080"})
	if err != nil {
		t.Fatal(err)
	}
	if c.interval == 0 {
		t.Error("a name that does not resolve to loopback got no rate limit; want the remote default")
	}
}

func TestEchoedEncodedTokenIsRedacted(t *testing.T) {
	const token = "sk_live_TOPSECRET_0123456789"
	forms := map[string]string{
		"basic":   base64.StdEncoding.EncodeToString([]byte("user:" + token)),
		"base64":  base64.URLEncoding.EncodeToString([]byte(token)),
		"raw64":   base64.RawStdEncoding.EncodeToString([]byte("x" + token)),
		"percent": url.QueryEscape("Bearer " + token),
		"hex":     hex.EncodeToString([]byte(token)),
		"HEX":     strings.ToUpper(hex.EncodeToString([]byte(token))),
	}
	for name, echoed := range forms {
		t.Run(name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusNotFound)
				w.Write([]byte(`{"code":"` + echoed + `"}`))
			})
			rep := runAgainst(t, h, Config{Token: token, OrderIDs: []string{validID}})
			var out bytes.Buffer
			rep.WriteText(&out)
			rep.WriteJSON(&out)
			rep.WriteJUnit(&out)
			// A piece of the encoded token long enough to decode most of it.
			for _, f := range tokenForms(token) {
				if len(f) >= 16 && strings.Contains(out.String(), f[:16]) {
					t.Errorf("a report holds %q, a piece of the token's form %q", f[:16], f)
				}
			}
		})
	}
}

// findingOf is the first finding of a check with one.
func findingOf(rep *Report, check string) Finding {
	for _, res := range rep.Results {
		if res.Check == check && len(res.Findings) > 0 {
			return res.Findings[0]
		}
	}
	return Finding{}
}

// assertSmallReport: no report string is longer than a person can read.
func assertSmallReport(tb testing.TB, rep *Report) {
	tb.Helper()
	var js bytes.Buffer
	rep.WriteJSON(&js)
	if js.Len() > 64<<10 {
		tb.Errorf("the JSON report has %d bytes; want it bounded whatever the answers", js.Len())
	}
}
