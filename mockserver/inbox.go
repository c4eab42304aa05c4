package mockserver

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/morimock/morimock"
	"github.com/morimock/morimock/webhook"
)

// Bounds of the inboxes, which live in memory only: they are a receiver for tests,
// not a store.
const (
	inboxPath      = morimock.SandboxPrefix + "inbox/"
	maxInboxes     = 256
	maxInboxKept   = 100      // deliveries kept per inbox, the newest
	maxInboxBody   = 64 << 10 // bytes of a delivery kept
	maxInboxWait   = 30 * time.Second
	inboxSlowLimit = 60 * time.Second // a slow answer waits for the sender to give up, at most this
)

var inboxName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// inboxes are the sandbox's own webhook receivers, by name.
type inboxes struct {
	mu    sync.Mutex
	boxes map[string]*inbox
	order []string // names, oldest first, to drop the oldest past maxInboxes
	// made is closed and replaced when an inbox is made: a long poll of a name that
	// has none yet waits on it.
	made chan struct{}
}

type inbox struct {
	seq        int64
	kept       []delivered
	failNext   int
	failMode   string        // error or slow
	arrived    chan struct{} // closed and replaced on each delivery
	deliveries int64
}

type delivered struct {
	Seq         int64  `json:"seq"`
	ReceivedAt  string `json:"receivedAt"`
	ContentType string `json:"contentType"`
	Signature   string `json:"signature"`
	Answered    int    `json:"answered"`
	Body        string `json:"body"`
}

func newInboxes() *inboxes { return &inboxes{boxes: map[string]*inbox{}, made: make(chan struct{})} }

// codeInboxNotFound answers a read of an inbox nothing was delivered to or configured.
const codeInboxNotFound = "INBOX_NOT_FOUND"

// get returns the inbox name, making it if needed; holds ib.mu. Only a delivery and
// a fail configuration make one: a read never does, so reading many names cannot
// push a real inbox (and what it was told) out of the maxInboxes kept.
func (ib *inboxes) get(name string) *inbox {
	b := ib.boxes[name]
	if b == nil {
		if len(ib.order) >= maxInboxes {
			delete(ib.boxes, ib.order[0])
			ib.order = ib.order[1:]
		}
		b = &inbox{arrived: make(chan struct{})}
		ib.boxes[name] = b
		ib.order = append(ib.order, name)
		close(ib.made)
		ib.made = make(chan struct{})
	}
	return b
}

// isInboxPost reports whether r delivers to an inbox: those carry no Authorization
// (a delivery never does), so they are served before the contract's router.
func isInboxPost(r *http.Request) bool {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, inboxPath) {
		return false
	}
	return inboxName.MatchString(strings.TrimPrefix(r.URL.Path, inboxPath))
}

// handleInboxPost records a delivery and answers it: 200, or as the inbox was told
// (500, or an answer held until the sender gives up).
func (s *Server) handleInboxPost(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, inboxPath)
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxInboxBody))
	s.inboxes.mu.Lock()
	b := s.inboxes.get(name)
	answer := http.StatusOK
	mode := ""
	if b.failNext > 0 {
		b.failNext--
		mode = b.failMode
		answer = http.StatusInternalServerError
	}
	b.seq++
	b.kept = append(b.kept, delivered{
		Seq: b.seq, ReceivedAt: s.now().UTC().Format(time.RFC3339Nano), ContentType: r.Header.Get("Content-Type"),
		Signature: r.Header.Get(webhook.SignatureHeader), Answered: answer, Body: string(body),
	})
	if len(b.kept) > maxInboxKept {
		b.kept = b.kept[len(b.kept)-maxInboxKept:]
	}
	close(b.arrived)
	b.arrived = make(chan struct{})
	s.inboxes.mu.Unlock()

	w.Header().Set(HeaderSource, "sandbox")
	w.Header().Set("Content-Type", "application/json")
	if mode == "slow" {
		// Past any sender's timeout: the sender gives up first and closes.
		t := time.NewTimer(inboxSlowLimit)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
		answer = http.StatusOK
	}
	w.WriteHeader(answer)
	w.Write([]byte(`{"received":true}`))
}

type inboxAnswer struct {
	Deliveries []delivered `json:"deliveries"`
	Failing    int         `json:"failing"`
}

// handleInboxRead serves GET /_morimock/inbox/{name}: the deliveries after ?after=
// (a seq), waiting up to ?wait= for one when there is none yet; 404 for a name no
// delivery or fail configuration made (after the wait, when one was given).
func (s *Server) handleInboxRead(w http.ResponseWriter, r *http.Request, c *call) {
	name := c.params["name"]
	q := r.URL.Query()
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	var wait time.Duration
	if v := q.Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > maxInboxWait {
			s.fail(w, &apiError{status: http.StatusBadRequest, code: codeInvalidParameter, detail: "wait: want a duration from 0s to 30s, such as 5s"})
			return
		}
		wait = d
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		s.inboxes.mu.Lock()
		b := s.inboxes.boxes[name]
		if b == nil {
			made := s.inboxes.made
			s.inboxes.mu.Unlock()
			if wait == 0 {
				s.fail(w, &apiError{status: http.StatusNotFound, code: codeInboxNotFound, detail: "no inbox " + name + ": nothing was delivered to it and it was not told to fail (yet)"})
				return
			}
			select {
			case <-made:
			case <-deadline.C:
				wait = 0
			case <-r.Context().Done():
				return
			}
			continue
		}
		ans := inboxAnswer{Deliveries: []delivered{}, Failing: b.failNext}
		for _, d := range b.kept {
			if d.Seq > after {
				ans.Deliveries = append(ans.Deliveries, d)
			}
		}
		arrived := b.arrived
		s.inboxes.mu.Unlock()
		if len(ans.Deliveries) > 0 || wait == 0 {
			s.replyStatus(w, r, c, http.StatusOK, map[string]any{"data": ans})
			return
		}
		select {
		case <-arrived:
		case <-deadline.C:
			wait = 0
		case <-r.Context().Done():
			return
		}
	}
}

// handleInboxFail serves POST /_morimock/inbox/{name}/fail: the next count deliveries
// get a 500 (mode error) or an answer held past the sender's timeout (mode slow).
func (s *Server) handleInboxFail(w http.ResponseWriter, r *http.Request, c *call) {
	var b struct {
		Count int    `json:"count"`
		Mode  string `json:"mode"`
	}
	if e := decode(r, &b); e != nil {
		s.fail(w, e)
		return
	}
	if b.Mode == "" {
		b.Mode = "error"
	}
	s.inboxes.mu.Lock()
	box := s.inboxes.get(c.params["name"])
	box.failNext, box.failMode = b.Count, b.Mode
	s.inboxes.mu.Unlock()
	s.replyStatus(w, r, c, http.StatusOK, map[string]any{"data": map[string]any{"failing": b.Count, "mode": b.Mode}})
}
