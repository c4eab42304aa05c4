package mockserver

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// zeros is an endless stream of zero bytes: the test sends 50 MiB without holding it.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestSandboxTestUploadLimit sends test-upload bodies over a real socket: one that
// says it is 50 MiB + 1 byte long (refused before a byte is read), and, chunked, bodies
// of exactly the limit and one byte more (refused once that byte arrives), the
// chunked ones against a sandbox whose limit is 1 MiB, so that the counting is shown
// at its boundary without streaming 50 MiB twice under the race detector. The
// vendor's limit is 50 MiB; over it is 413 TEST_UPLOAD_TOO_LARGE and the order keeps
// waiting for its file.
func TestSandboxTestUploadLimit(t *testing.T) {
	t.Parallel() // its own servers; share only the read-only spec
	const small = 1 << 20
	full, c := startSandbox(t, Config{}), startSandbox(t, Config{testUploadLimit: small})
	for _, tt := range []struct {
		name    string
		c       *sbx
		size    int64
		chunked bool
		status  int
	}{
		{"50 MiB + 1 with a length", full, TestUploadLimit + 1, false, http.StatusRequestEntityTooLarge},
		{"limit + 1 chunked", c, small + 1, true, http.StatusRequestEntityTooLarge},
		{"limit chunked", c, small, true, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			key := strings.ReplaceAll(tt.name, " ", "-")
			var o created
			c.call(http.MethodPost, "/api/v2/orders/ai-detection", testKey, map[string]any{"idempotencyKey": key, "fileName": "big.png"}, &o)
			req, err := http.NewRequest(http.MethodPut, o.File.UploadURL, io.LimitReader(zeros{}, tt.size))
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = tt.size
			if tt.chunked {
				req.ContentLength = -1 // the length is unknown: the sandbox must count
			}
			req.Header.Set("Content-Type", "image/png")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("PUT %d bytes: %v", tt.size, err)
			}
			body, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
			res.Body.Close()
			c.want(res, body, tt.status, map[int]string{http.StatusRequestEntityTooLarge: "TEST_UPLOAD_TOO_LARGE"}[tt.status])
			res, body = c.do(http.MethodPost, "/api/v2/orders/ai-detection/confirm", testKey, map[string]string{"idempotencyKey": "c-" + key, "orderId": o.OrderID})
			if tt.status == http.StatusOK {
				c.want(res, body, http.StatusOK, "")
			} else {
				c.want(res, body, http.StatusBadRequest, "ORDER_FILE_NOT_UPLOADED")
			}
		})
	}
}
