package mockserver

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/morimock/morimock/mockserver/store"
)

// TestSandboxExpiryFreesStorage: an order's files are deleted when it expires on its
// key's clock (7 days after createdAt) and the order is forgotten when it leaves the
// retention window, at the moment the clock moves past them; another key's order,
// on a clock that did not move, keeps everything.
func TestSandboxExpiryFreesStorage(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	st, err := store.NewMemory(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := startSandbox(t, Config{Store: st, StrictUnknownOrders: true})
	ctx := context.Background()
	type made struct {
		id, key string
	}
	flow := func(key string) made {
		var o created
		c.call(http.MethodPost, "/api/v2/orders/ai-detection", key, map[string]any{"idempotencyKey": "exp", "fileName": "a.jpg"}, &o)
		c.upload(o.File.UploadURL, testImage(t, "JPG"))
		c.call(http.MethodPost, "/api/v2/orders/ai-detection/confirm", key, map[string]string{"idempotencyKey": "c", "orderId": o.OrderID}, nil)
		c.settle()
		var d struct {
			OriginalImageURL *string `json:"originalImageUrl"`
		}
		c.call(http.MethodGet, "/api/v2/orders/"+o.OrderID, key, nil, &d)
		if d.OriginalImageURL == nil {
			t.Fatalf("GET order %s: no originalImageUrl", o.OrderID)
		}
		rec, err := st.GetOrder(ctx, tenantIDOf(key), o.OrderID)
		if err != nil || rec.Files[0].Blob == "" {
			t.Fatalf("GetOrder(%s) = %+v, %v; want the upload's blob", o.OrderID, rec.Files, err)
		}
		return made{id: o.OrderID, key: rec.Files[0].Blob}
	}
	blobThere := func(key string) bool {
		t.Helper()
		b, err := st.OpenBlob(ctx, key)
		if err == nil {
			b.Close()
			return true
		}
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("OpenBlob(%q) = %v", key, err)
		}
		return false
	}

	mine, theirs := flow(liveKey), flow(liveKey2)
	c.advance(liveKey, "6d23h30m")
	if !blobThere(mine.key) {
		t.Fatalf("file of an order 6d23h30m old is gone; want it kept until the order expires")
	}
	var d struct {
		OriginalImageURL string `json:"originalImageUrl"`
	}
	c.call(http.MethodGet, "/api/v2/orders/"+mine.id, liveKey, nil, &d) // a URL for the next hour
	res, body := c.do(http.MethodGet, d.OriginalImageURL, "", nil)
	c.want(res, body, http.StatusOK, "")

	c.advance(liveKey, "30m")
	if blobThere(mine.key) {
		t.Errorf("file of an expired order is still stored")
	}
	if d := c.get(liveKey, mine.id); d.Status != "expired" {
		t.Errorf("GET expired order: status %s; want expired (the order stays until --retention)", d.Status)
	}
	res, body = c.do(http.MethodGet, d.OriginalImageURL, "", nil) // still within its hour
	c.want(res, body, http.StatusNotFound, "NoSuchKey")
	if !blobThere(theirs.key) {
		t.Errorf("another key's file went with this key's clock")
	}

	c.advance(liveKey, "23d")
	res, body = c.do(http.MethodGet, "/api/v2/orders/"+mine.id, liveKey, nil)
	c.want(res, body, http.StatusNotFound, "ORDER_NOT_FOUND")
	if ok, err := st.OrderExists(ctx, mine.id); ok || err != nil {
		t.Errorf("OrderExists(order past retention) = %v, %v; want it forgotten", ok, err)
	}
	if d := c.get(liveKey2, theirs.id); d.Status != "complete" {
		t.Errorf("another key's order: status %s; want complete, its clock never moved", d.Status)
	}
}
