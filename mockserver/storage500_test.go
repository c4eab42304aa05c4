package mockserver

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/morimock/morimock/mockserver/store"
)

// failingClock is a store whose tenant clocks can be made to fail.
type failingClock struct {
	store.Store
	fail atomic.Bool
}

func (f *failingClock) ClockOffset(ctx context.Context, tenant string) (time.Duration, error) {
	if f.fail.Load() {
		return 0, errors.New("disk on fire")
	}
	return f.Store.ClockOffset(ctx, tenant)
}

// TestStorage500IsS3XML: the storage paths stand for S3, so even their 500 is S3's
// XML error document (sandbox.yaml declares S3Error for it), never the API's JSON.
func TestStorage500IsS3XML(t *testing.T) {
	mem, err := store.NewMemory(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st := &failingClock{Store: mem}
	c := startSandbox(t, Config{Store: st})
	var o created
	c.call(http.MethodPost, "/api/v2/orders/anti-ai", liveKey, map[string]any{"idempotencyKey": "s500", "files": []map[string]string{{"fileName": "a.jpg"}}}, &o)
	st.fail.Store(true)
	res, body := c.do(http.MethodPut, o.Files[0].UploadURL, "", []byte("x"))
	if res.StatusCode != http.StatusInternalServerError || res.Header.Get("Content-Type") != "application/xml" || !bytes.Contains(body, []byte("<Code>InternalError</Code>")) {
		t.Errorf("PUT upload URL with a failing store = %d %s %s; want 500 with S3's XML InternalError", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}
