package contract

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/morimock/morimock/order"
)

// downloadProbeBudget is how many requests makeDownloadable sends at most: the clock
// read, create, upload, confirm, downloadProbePolls GETs each after a clock move, and
// the clock set back.
const (
	downloadProbePolls  = 20
	downloadProbeBudget = 5 + 2*downloadProbePolls
)

// probesDownload reports whether the download check may make its own order to fetch:
// only against the sandbox (it names itself with X-Morimock-Version), only when
// writes were allowed (--probe-writes), and only with a key whose orders have result
// files (a test key's have none, facts §11). A host that is not the sandbox never
// gets an order from the read-only suite.
func (r *runner) probesDownload() bool {
	return r.c.mockVersion != "" && r.cfg.ProbeWrites && !strings.HasPrefix(r.cfg.Token, testKeyPrefix)
}

// makeDownloadable creates one anti-AI order of a one-pixel PNG on the sandbox, moves
// the key's clock past its processing and waits (bounded) for it to complete. It
// returns the order's id, or "" and why there is none, and a function that sets the
// clock back: the caller calls it, also on an error, once the download was fetched
// (the order is complete only on the moved clock).
func (r *runner) makeDownloadable(ctx context.Context) (id, why string, restore func(), err error) {
	restore = func() {}
	clock := r.sandboxClock(ctx)
	if clock == nil {
		return "", "the sandbox's clock could not be read, so no order was made to download", restore, nil
	}
	found, read := *clock, time.Now()
	restore = func() { r.restoreClock(found.Add(time.Since(read))) }
	id, why, err = r.completeOne(ctx)
	return id, why, restore, err
}

// completeOne is makeDownloadable's order: create, upload, confirm, clock moves.
func (r *runner) completeOne(ctx context.Context) (string, string, error) {
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	key := "morimock-check-download-" + hex.EncodeToString(rnd[:])
	_, resp, err := r.post(ctx, createPath(order.AntiAI), createBody(order.AntiAI, key, "morimock-check.png"))
	if err != nil {
		return "", "", err
	}
	c := parseCreated(resp.body)
	if resp.status != http.StatusOK || checkOrderID(c.id) != nil || c.uploadURL == "" {
		return "", fmt.Sprintf("the sandbox answered %d to the anti-AI create the check made to have a file to download", resp.status), nil
	}
	up, err := r.c.direct(ctx, http.MethodPut, c.uploadURL, tinyPNG(), "image/png")
	if err != nil {
		if ctx.Err() != nil {
			return "", "", err
		}
		return "", "the upload of the order made to download failed: " + err.Error(), nil
	}
	if up.status < 200 || up.status > 299 {
		return "", fmt.Sprintf("the upload of the order made to download answered %d", up.status), nil
	}
	if _, resp, err = r.post(ctx, confirmPath(order.AntiAI), confirmBody(key+"-confirm", c.id)); err != nil {
		return "", "", err
	}
	if resp.status != http.StatusOK {
		return "", fmt.Sprintf("the confirm of the order made to download answered %d", resp.status), nil
	}
	get := request{method: http.MethodGet, path: ordersPath(c.id), auth: authToken}
	st := order.Status("")
	for i := range downloadProbePolls {
		if err := r.setClock(ctx, map[string]string{"advance": "31s"}); err != nil {
			return "", "", err
		}
		// The sandbox makes the result file off the request path, in real time.
		if err := sleep(ctx, min(10*time.Millisecond<<min(i, 6), 500*time.Millisecond)); err != nil {
			return "", "", err
		}
		resp, err := r.send(ctx, get)
		if err != nil {
			return "", "", err
		}
		if st = statusOf(resp.body); st == order.Complete {
			return c.id, "", nil
		}
		if st == order.Failed || st == order.Expired {
			break
		}
	}
	return "", fmt.Sprintf("the anti-AI order %s the check made to download is %s, not complete (the lifecycle checks outcomes)", c.id, st), nil
}
