package mockserver

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Latency is a delay added to every answer: Min when Max is zero, else uniform in
// [Min, Max].
type Latency struct {
	Min, Max time.Duration
}

// ParseLatency reads "200ms" or a range "100ms-300ms".
func ParseLatency(s string) (Latency, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return Latency{}, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	min, err := time.ParseDuration(strings.TrimSpace(lo))
	if err != nil {
		return Latency{}, fmt.Errorf("latency %q: want a duration such as 200ms or a range such as 100ms-300ms", s)
	}
	l := Latency{Min: min}
	if isRange {
		if l.Max, err = time.ParseDuration(strings.TrimSpace(hi)); err != nil || l.Max < l.Min {
			return Latency{}, fmt.Errorf("latency %q: the range must be LOW-HIGH with LOW <= HIGH, e.g. 100ms-300ms", s)
		}
	}
	if l.Min < 0 || l.Min > MaxDelay || l.Max > MaxDelay {
		return Latency{}, fmt.Errorf("latency %q: must be between 0 and %s", s, MaxDelay)
	}
	return l, nil
}

func (l Latency) String() string {
	if l.Max == 0 {
		return l.Min.String()
	}
	return l.Min.String() + "-" + l.Max.String()
}

// Plans maps the documented plan names to their rate limits in requests per minute.
func Plans() map[string]int { return map[string]int{"free": 60, "pro": 300, "enterprise": 1000} }

// ParseRateLimit reads a plan name (free, pro, enterprise), a number of requests per
// minute, or "off"/"0".
func ParseRateLimit(s string) (int, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "off" || s == "0" {
		return 0, nil
	}
	if n, ok := Plans()[s]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("rate limit %q: want free (60/min), pro (300), enterprise (1000), a number of requests per minute, or off", s)
	}
	return n, nil
}

// dice is the server's seeded source for error injection and latency ranges: the same
// seed gives the same sequence of decisions.
type dice struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newDice(seed int64) *dice {
	return &dice{r: rand.New(rand.NewPCG(uint64(seed), 0x6d6f72696d6f636b))}
}

func (d *dice) float() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.r.Float64()
}

func (d *dice) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return lo + time.Duration(d.r.Int64N(int64(hi-lo)+1))
}

// limiter is a token bucket of perMinute requests, refilled continuously, on the real
// clock (a frozen --now does not freeze it). One bucket serves the whole server, as one
// sandbox stands for one account; its memory does not grow with traffic.
type limiter struct {
	mu        sync.Mutex
	perMinute float64
	tokens    float64
	last      time.Time
}

func newLimiter(perMinute int) *limiter {
	if perMinute <= 0 {
		return nil
	}
	return &limiter{perMinute: float64(perMinute), tokens: float64(perMinute)}
}

// take spends a token, or says how many whole seconds until one is free.
func (l *limiter) take(now time.Time) (ok bool, retryAfter int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() {
		l.tokens = math.Min(l.perMinute, l.tokens+now.Sub(l.last).Minutes()*l.perMinute)
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return true, 0
	}
	wait := (1 - l.tokens) / l.perMinute * 60
	return false, max(1, int(math.Ceil(wait)))
}

// wait applies the configured latency and the scenario's delay, and reports whether
// to answer now. A request held in a Prefer: delay keeps its connection busy, and a
// crowd of them would lock every other client out: past MaxDelayed of them at once, a
// delay is answered 429 at once instead.
func (s *Server) wait(ctx context.Context, w http.ResponseWriter, sc Scenario) bool {
	if sc.Delay > 0 && s.delayed != nil {
		select {
		case s.delayed <- struct{}{}:
			defer func() { <-s.delayed }()
		default:
			s.fail(w, &apiError{status: http.StatusTooManyRequests, code: codeRateLimitExceeded, retryAfter: 1,
				detail: fmt.Sprintf("%d requests are held in a Prefer: delay already, the most at once (--max-delayed); try again", cap(s.delayed))})
			return false
		}
	}
	d := sc.Delay + s.dice.between(s.cfg.Latency.Min, s.cfg.Latency.Max)
	return sleep(ctx, d)
}

// sleep waits d or until ctx ends, and reports whether the whole wait passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
