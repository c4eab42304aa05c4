package mockserver

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/order"
)

// tenantIDOf is the tenant a bearer token stands for.
func tenantIDOf(token string) string {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return tenantOf(r).id
}

// TestSandboxJSONBodyLimit: a JSON body over MaxJSONBody is refused with the declared
// 400 before it is read whole, even when what it holds is a valid create.
func TestSandboxJSONBodyLimit(t *testing.T) {
	c := startSandbox(t, Config{})
	body := append(bytes.Repeat([]byte(" "), MaxJSONBody), `{"idempotencyKey":"big","fileName":"a.jpg"}`...)
	res, got := c.do(http.MethodPost, "/api/v2/orders/ai-detection", liveKey, body)
	c.want(res, got, http.StatusBadRequest, "VALIDATION_FAILED")
	var list struct{ PageInfo pageInfo }
	c.call(http.MethodGet, "/api/v2/orders", liveKey, nil, &list)
	if list.PageInfo.TotalItems != 0 {
		t.Errorf("an oversized create made %d orders; want none", list.PageInfo.TotalItems)
	}
}

// TestSandboxOneJSONValue: anything after the body's JSON value is refused.
func TestSandboxOneJSONValue(t *testing.T) {
	c := startSandbox(t, Config{})
	for _, tc := range []struct{ path, body string }{
		{"/_morimock/clock", `{"advance":"1s"} x`},
		{"/api/v2/orders/ai-detection", `{"idempotencyKey":"k","fileName":"a.jpg"}{"x":1}`},
	} {
		res, got := c.do(http.MethodPost, tc.path, liveKey, []byte(tc.body))
		c.want(res, got, http.StatusBadRequest, "VALIDATION_FAILED")
	}
	var list struct{ PageInfo pageInfo }
	c.call(http.MethodGet, "/api/v2/orders", liveKey, nil, &list)
	if list.PageInfo.TotalItems != 0 {
		t.Errorf("a create with a second JSON value made %d orders; want none", list.PageInfo.TotalItems)
	}
}

// TestSandboxClockOverflow: a clock target whose offset does not fit a Duration is
// refused, and the clock stays where it was.
func TestSandboxClockOverflow(t *testing.T) {
	c := startSandbox(t, Config{})
	for _, to := range []string{"2400-01-01T00:00:00Z", "1700-01-01T00:00:00Z"} {
		res, got := c.do(http.MethodPost, "/_morimock/clock", liveKey, map[string]string{"set": to})
		c.want(res, got, http.StatusBadRequest, "VALIDATION_FAILED")
	}
	_, got := c.do(http.MethodGet, "/_morimock/clock", liveKey, nil)
	if want := sandboxNow.Format(order.TimeLayout); !bytes.Contains(got, []byte(want)) {
		t.Errorf("clock after refused moves = %s; want %s", got, want)
	}
}

// TestSandboxAwkwardFileNames: names the contract accepts, however long their
// escaped form, upload and download; the blob is never named after the file.
func TestSandboxAwkwardFileNames(t *testing.T) {
	st, err := store.NewMemory(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := startSandbox(t, Config{Store: st})
	for i, name := range []string{strings.Repeat("é", 95) + ".jpg", strings.Repeat(".", 200) + ".jpg"} {
		var o created
		c.call(http.MethodPost, "/api/v2/orders/ai-detection", liveKey, map[string]any{"idempotencyKey": "n" + itoa(int64(i)), "fileName": name}, &o)
		img := testImage(t, "JPG")
		c.upload(o.File.UploadURL, img)
		c.call(http.MethodPost, "/api/v2/orders/ai-detection/confirm", liveKey, map[string]string{"idempotencyKey": "c" + itoa(int64(i)), "orderId": o.OrderID}, nil)
		c.settle()
		rec, err := st.GetOrder(context.Background(), tenantIDOf(liveKey), o.OrderID)
		if err != nil {
			t.Fatal(err)
		}
		if b := rec.Files[0].Blob; strings.Contains(b, "jpg") || !strings.HasPrefix(b, store.OrderBlobPrefix(rec.Tenant, rec.ID)) {
			t.Errorf("blob key %q; want one under the order's prefix, not named after the file", b)
		}
		var d struct {
			OriginalImageURL string `json:"originalImageUrl"`
		}
		c.call(http.MethodGet, "/api/v2/orders/"+o.OrderID, liveKey, nil, &d)
		res, got := c.do(http.MethodGet, d.OriginalImageURL, "", nil)
		c.want(res, got, http.StatusOK, "")
		if !bytes.Equal(got, img) {
			t.Errorf("download of %q differs from the upload", name[:8])
		}
	}
}

// TestSandboxUploadNeverReplacesConfirmedFile: once an order was confirmed, no
// upload replaces its file, even after its clock moved back to before the confirm;
// and the refused upload leaves no bytes behind.
func TestSandboxUploadNeverReplacesConfirmedFile(t *testing.T) {
	st, err := store.NewMemory(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := startSandbox(t, Config{Store: st, ProcessingTime: Latency{Min: time.Second, Max: time.Second}})
	var o created
	c.call(http.MethodPost, "/api/v2/orders/ai-detection", liveKey, map[string]any{"idempotencyKey": "k", "fileName": "a.jpg"}, &o)
	first := testImage(t, "JPG")
	c.upload(o.File.UploadURL, first)
	c.call(http.MethodPost, "/api/v2/orders/ai-detection/confirm", liveKey, map[string]string{"idempotencyKey": "c", "orderId": o.OrderID}, nil)
	c.settle()
	c.advance(liveKey, "2s") // complete
	c.call(http.MethodPost, "/_morimock/clock", liveKey, map[string]string{"set": sandboxNow.Format(time.RFC3339)}, nil)
	res, got := c.do(http.MethodPut, o.File.UploadURL, "", testImage(t, "PNG"))
	c.want(res, got, http.StatusForbidden, "AccessDenied")

	rec, err := st.GetOrder(context.Background(), tenantIDOf(liveKey), o.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.OpenBlob(context.Background(), rec.Files[0].Blob)
	if err != nil {
		t.Fatal(err)
	}
	var kept bytes.Buffer
	kept.ReadFrom(b)
	b.Close()
	if !bytes.Equal(kept.Bytes(), first) {
		t.Errorf("the confirmed file's bytes changed after a refused upload")
	}
}

// TestSandboxIDsUniqueAfterRestart: a second server on the same store under the same
// frozen clock (a restart with --now and --state-dir) creates orders, with new ids.
func TestSandboxIDsUniqueAfterRestart(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	st, err := store.NewMemory(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seen := map[string]bool{}
	for run := 0; run < 3; run++ {
		c := startSandbox(t, Config{Store: st})
		for i := 0; i < 20; i++ {
			var o created
			c.call(http.MethodPost, "/api/v2/orders/ai-detection", liveKey, map[string]any{"idempotencyKey": "r" + itoa(int64(run*100+i)), "fileName": "a.jpg"}, &o)
			if seen[o.OrderID] {
				t.Fatalf("run %d: order id %s again", run, o.OrderID)
			}
			seen[o.OrderID] = true
		}
	}
}

// TestSandboxIdempotencyKeyFreeAfterRetention: a key whose order left the retention
// window makes a new order, which GET then finds.
func TestSandboxIdempotencyKeyFreeAfterRetention(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	c := startSandbox(t, Config{Retention: 10 * 24 * time.Hour})
	body := map[string]any{"idempotencyKey": "again", "fileName": "a.jpg"}
	var first, second created
	c.call(http.MethodPost, "/api/v2/orders/ai-detection", liveKey, body, &first)
	// Move the clock with the store's offset only, as if no sweep had run since.
	if err := c.srv.sb.store.SetClockOffset(context.Background(), tenantIDOf(liveKey), 11*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	c.call(http.MethodPost, "/api/v2/orders/ai-detection", liveKey, body, &second)
	if second.OrderID == first.OrderID {
		t.Fatalf("key reused past retention answered the forgotten order %s", first.OrderID)
	}
	if d := c.get(liveKey, second.OrderID); d.Status != "pending" {
		t.Errorf("GET the new order: %s; want pending", d.Status)
	}
}

// TestSandboxScenarioNeverBypassesTenants: a tenant's own order is answered as stored
// after a delay and refused other scenarios; another key's id stays 403/404 and
// --unknown-orders=404 stays 404 whatever the request prefers.
func TestSandboxScenarioNeverBypassesTenants(t *testing.T) {
	c := startSandbox(t, Config{})
	var o created
	c.call(http.MethodPost, "/api/v2/orders/ai-detection", liveKey, map[string]any{"idempotencyKey": "sc", "fileName": "a.jpg"}, &o)
	get := func(c *sbx, target, token, prefer string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodGet, c.url+target, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if prefer != "" {
			req.Header.Set("Prefer", prefer)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(res.Body)
		return res, b.Bytes()
	}
	path := "/api/v2/orders/" + o.OrderID
	res, body := get(c, path, liveKey, "delay=1ms")
	c.want(res, body, http.StatusOK, "")
	if res.Header.Get(HeaderSource) != "sandbox" || !bytes.Contains(body, []byte(`"pending"`)) {
		t.Errorf("own order with a delay: %s from %s; want the stored, pending order", body, res.Header.Get(HeaderSource))
	}
	res, body = get(c, path, liveKey, "status=complete")
	c.want(res, body, http.StatusBadRequest, "INVALID_PARAMETER")
	res, body = get(c, path, liveKey2, "seed=1")
	if res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusNotFound {
		t.Errorf("another key's order with a scenario = %d %s; want 403 or 404", res.StatusCode, body)
	}
	res, body = c.do(http.MethodGet, path+"?__seed=1", liveKey2, nil)
	if res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusNotFound {
		t.Errorf("another key's order with ?__seed = %d %s; want 403 or 404", res.StatusCode, body)
	}
	strict := startSandbox(t, Config{StrictUnknownOrders: true})
	res, body = get(strict, "/api/v2/orders/1234567890123456700", liveKey, "seed=1")
	strict.want(res, body, http.StatusNotFound, "ORDER_NOT_FOUND")
}

// TestAccessLogNeverHoldsTestUploadToken: the signed token of a test-upload URL is a
// credential, and the access log never shows it.
func TestAccessLogNeverHoldsTestUploadToken(t *testing.T) {
	var logs bytes.Buffer
	c := startSandbox(t, Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	var o created
	c.call(http.MethodPost, "/api/v2/orders/ai-detection", testKey, map[string]any{"idempotencyKey": "log", "fileName": "a.jpg"}, &o)
	c.upload(o.File.UploadURL, testImage(t, "JPG"))
	token := o.File.UploadURL[strings.Index(o.File.UploadURL, "/api/v2/test-uploads/")+len("/api/v2/test-uploads/"):]
	if out := logs.String(); len(token) < 16 || strings.Contains(out, token[:16]) {
		t.Errorf("access log holds the test-upload token %s...:\n%s", token[:16], out)
	}
}
