package mockserver

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/morimock/morimock/order"
)

// Scenario is what a client asked the mock for, through the Prefer header (as
// Stoplight Prism users know it) or the equivalent __ query parameters. The zero
// Scenario asks for nothing: the order comes from its id.
type Scenario struct {
	Type    order.Type    // "" = from the id
	Status  order.Status  // "" = from the id
	Code    int           // 0 = none; else the HTTP status to answer
	Example string        // a named example: of GET order's 200, or with an error Code, of that error
	Seed    int64         // with HasSeed, replaces the server's seed
	HasSeed bool          //
	Delay   time.Duration // added before answering
}

// shapesOrder reports whether the scenario makes up an order: a type, a status, a
// seed, or an example without an error code to pick it from.
func (sc Scenario) shapesOrder() bool {
	return sc.Type != "" || sc.Status != "" || sc.HasSeed || (sc.Example != "" && !sc.asksError())
}

// asksError reports whether the scenario asks for an error status.
func (sc Scenario) asksError() bool { return sc.Code >= 300 }

// MaxDelay bounds Prefer: delay, so that no request can hold a connection for long.
const MaxDelay = 30 * time.Second

// scenarioKeys lists the accepted keys for error messages.
const scenarioKeys = "type, status, code, example, seed, delay"

// ParseScenario reads a scenario from Prefer header values and query parameters.
// Preferences are comma-separated key=value pairs (RFC 7240; values may be quoted).
// The preferences RFC 7240 registers (return, respond-async, wait, handling) are
// ignored whatever their value. An unknown key, a bad value, a key given twice with different values, or a
// contradictory combination is an error that names it.
func ParseScenario(prefer []string, query url.Values) (Scenario, error) {
	if len(prefer) == 0 && len(query) == 0 {
		return Scenario{}, nil // nothing asked: the common case, without building a map
	}
	vals := map[string]string{}
	set := func(key, val, from string) error {
		if !knownKey(key) {
			return fmt.Errorf("unknown scenario key %s in %s (want one of %s)", clip(key), from, scenarioKeys)
		}
		if old, ok := vals[key]; ok && old != val {
			return fmt.Errorf("scenario key %s given twice, as %s and %s", key, clip(old), clip(val))
		}
		vals[key] = val
		return nil
	}
	for _, header := range prefer {
		for _, pref := range strings.Split(header, ",") {
			pref = strings.TrimSpace(pref)
			if pref == "" {
				continue
			}
			if i := strings.IndexByte(pref, ';'); i >= 0 { // RFC 7240 parameters: none are used
				pref = strings.TrimSpace(pref[:i])
			}
			key, val, ok := strings.Cut(pref, "=")
			key = strings.ToLower(strings.TrimSpace(key))
			val = strings.TrimSpace(val)
			if registeredPreference(key) {
				continue // RFC 7240: a preference the server does not support is ignored
			}
			if !ok || val == "" {
				return Scenario{}, fmt.Errorf("Prefer: %s has no value (write KEY=VALUE)", clip(pref))
			}
			if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
				val = val[1 : len(val)-1]
			}
			if err := set(key, val, "Prefer"); err != nil {
				return Scenario{}, err
			}
		}
	}
	for name, vs := range query {
		key, ok := strings.CutPrefix(name, "__")
		if !ok {
			continue // the operation declares no query parameters; others are ignored as the API does
		}
		for _, v := range vs {
			if err := set(key, v, "the query"); err != nil {
				return Scenario{}, err
			}
		}
	}
	return buildScenario(vals)
}

// registeredPreference reports whether k is a preference registered with IANA for
// Prefer (RFC 7240 and RFC 8144): some SDKs send return=minimal on every request, and
// the mock, supporting none of them, ignores them as RFC 7240 asks. Only in Prefer: a
// __ parameter is ours alone.
func registeredPreference(k string) bool {
	switch k {
	case "return", "respond-async", "wait", "handling":
		return true
	}
	return false
}

func knownKey(k string) bool {
	switch k {
	case "type", "status", "code", "example", "seed", "delay":
		return true
	}
	return false
}

func buildScenario(vals map[string]string) (Scenario, error) {
	var sc Scenario
	var err error
	if v, ok := vals["type"]; ok {
		if sc.Type, err = order.ParseType(v); err != nil {
			return Scenario{}, fmt.Errorf("scenario type: %w", err)
		}
	}
	if v, ok := vals["status"]; ok {
		if sc.Status, err = order.ParseStatus(v); err != nil {
			return Scenario{}, fmt.Errorf("scenario status: %w", err)
		}
	}
	if v, ok := vals["code"]; ok {
		sc.Code, err = strconv.Atoi(v)
		if err != nil || sc.Code < 100 || sc.Code > 599 {
			return Scenario{}, fmt.Errorf("scenario code %s is not an HTTP status", clip(v))
		}
	}
	if v, ok := vals["example"]; ok {
		sc.Example = v
	}
	if v, ok := vals["seed"]; ok {
		if sc.Seed, err = strconv.ParseInt(v, 10, 64); err != nil {
			return Scenario{}, fmt.Errorf("scenario seed %s is not a 64-bit integer", clip(v))
		}
		sc.HasSeed = true
	}
	if v, ok := vals["delay"]; ok {
		if sc.Delay, err = parseDelay(v); err != nil {
			return Scenario{}, fmt.Errorf("scenario delay: %w", err)
		}
	}
	if sc.asksError() && (sc.Type != "" || sc.Status != "" || sc.HasSeed) {
		return Scenario{}, fmt.Errorf("scenario code %d answers an error; it cannot be combined with type, status or seed (example picks one of the error's examples)", sc.Code)
	}
	if sc.Example != "" && !sc.asksError() && (sc.Type != "" || sc.Status != "") {
		return Scenario{}, fmt.Errorf("scenario example %s cannot be combined with type or status: an example fixes both", clip(sc.Example))
	}
	return sc, nil
}

// parseDelay accepts a Go duration ("200ms", "1.5s") or bare milliseconds ("200").
func parseDelay(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		ms, err2 := strconv.ParseUint(v, 10, 32)
		if err2 != nil {
			return 0, fmt.Errorf("%s is not a duration (write 200ms or 1.5s)", clip(v))
		}
		d = time.Duration(ms) * time.Millisecond
	}
	if d < 0 || d > MaxDelay {
		return 0, fmt.Errorf("%s is outside 0..%s", clip(v), MaxDelay)
	}
	return d, nil
}

// clip quotes what a client sent for an error message: short, and ASCII-only so it is
// safe in a header and a log line whatever the client sent.
func clip(s string) string {
	if len(s) > 64 {
		return strconv.QuoteToASCII(s[:61]) + "..."
	}
	return strconv.QuoteToASCII(s)
}
