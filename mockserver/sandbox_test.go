package mockserver

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/morimock/morimock"
	"github.com/morimock/morimock/internal/spectest"
	"github.com/morimock/morimock/mockserver/files"
	"github.com/morimock/morimock/order"
)

// sandboxNow is the server clock of the sandbox tests: before the watermark sunset.
var sandboxNow = time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)

const (
	liveKey  = "sk_live_sandbox_a"
	liveKey2 = "sk_live_sandbox_b"
	testKey  = "sk_test_sandbox_a"
)

// sbx is a sandbox served on a loopback port, and a client that checks every answer
// of a contract operation against openapi.yaml.
type sbx struct {
	t    *testing.T
	url  string
	spec *morimock.Spec
	srv  *Server
}

func startSandbox(t *testing.T, cfg Config) *sbx {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return sandboxNow }
	}
	cfg.ValidateResponses = true
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	spec := spectest.Load(t)
	s, err := New(context.Background(), spec, cfg)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		hs.Close()
		if err := s.Close(); err != nil {
			t.Errorf("Close() error = %v", err)
		}
	})
	return &sbx{t: t, url: hs.URL, spec: spec, srv: s}
}

// do sends a request (body: nil, []byte, or a value sent as JSON) and returns the
// answer; an answer to an operation of the contract must keep the contract.
func (c *sbx) do(method, target, token string, body any) (*http.Response, []byte) {
	c.t.Helper()
	var rd io.Reader
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			c.t.Fatal(err)
		}
	}
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	if !strings.HasPrefix(target, "http") {
		target = c.url + target
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if _, isJSON := body.([]byte); !isJSON && body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, target, err)
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		c.t.Fatal(err)
	}
	check, _ := http.NewRequest(method, target, nil)
	if route, params, err := c.spec.FindRoute(check); err == nil && res.Header.Get("Content-Type") == "application/xml" {
		// kin-openapi decodes no XML: hold S3's error document to sandbox.yaml's
		// S3Error by hand, its status to the declared ones.
		var e struct {
			XMLName                  xml.Name
			Code, Message, RequestId string
		}
		if route.Operation.Responses.Status(res.StatusCode) == nil || xml.Unmarshal(got, &e) != nil || e.XMLName.Local != "Error" || e.Code == "" || e.Message == "" || e.RequestId == "" {
			c.t.Errorf("%s %s answered %d %s; want a declared status and S3's <Error> with Code, Message, RequestId", method, target, res.StatusCode, got)
		}
	} else if err == nil {
		if err := c.spec.ValidateResponse(context.Background(), check, route, params, res.StatusCode, res.Header, got); err != nil {
			c.t.Errorf("%s %s answered %d %s, which breaks the contract: %v", method, target, res.StatusCode, got, err)
		}
	}
	return res, got
}

// want checks an answer's status and, for an error, its code.
func (c *sbx) want(res *http.Response, body []byte, status int, code string) {
	c.t.Helper()
	if res.StatusCode != status {
		c.t.Fatalf("%s %s = %d %s (%s); want %d %s", res.Request.Method, res.Request.URL.Path, res.StatusCode, body, res.Header.Get(HeaderError), status, code)
	}
	if code != "" && !bytes.Contains(body, []byte(code)) {
		c.t.Fatalf("%s %s = %d %s; want code %s", res.Request.Method, res.Request.URL.Path, res.StatusCode, body, code)
	}
}

// call sends a request and decodes a 200 answer's data into out.
func (c *sbx) call(method, target, token string, body, out any) {
	c.t.Helper()
	res, got := c.do(method, target, token, body)
	c.want(res, got, http.StatusOK, "")
	if out != nil {
		env := struct{ Data any }{Data: out}
		if err := json.Unmarshal(got, &env); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, target, err, got)
		}
	}
}

func (c *sbx) advance(token, d string) {
	c.t.Helper()
	c.call(http.MethodPost, "/_morimock/clock", token, map[string]string{"advance": d}, nil)
}

type createdFile struct {
	FileID    any    `json:"fileId"`
	FileName  string `json:"fileName"`
	UploadURL string `json:"uploadUrl"`
	FileKey   string `json:"fileKey"`
}

type created struct {
	OrderID   string        `json:"orderId"`
	OrderName string        `json:"orderName"`
	Status    string        `json:"status"`
	Files     []createdFile `json:"files"`
	File      *struct {
		createdFile
		OriginalFile *createdFile `json:"originalFile"`
	} `json:"file"`
}

// settle waits until the sandbox has made every started order's files.
func (c *sbx) settle() {
	c.t.Helper()
	if err := c.srv.WaitIdle(context.Background()); err != nil {
		c.t.Fatal(err)
	}
}

// image returns a small real image in a format (JPG, PNG), textured so encoders work.
func testImage(t testing.TB, format string) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, 96, 64))
	for i := range m.Pix {
		m.Pix[i] = uint8(i*7 + i/384)
	}
	var b bytes.Buffer
	if err := files.Encode(&b, m, format); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (c *sbx) upload(u string, data []byte) {
	c.t.Helper()
	res, body := c.do(http.MethodPut, u, "", data)
	c.want(res, body, http.StatusOK, "")
}

type detail struct {
	Status        string   `json:"status"`
	Errors        *string  `json:"errors"`
	Probability   *float64 `json:"probability"`
	StatusCode    *string  `json:"statusCode"`
	WatermarkText *string  `json:"watermarkText"`
	HeatmapURL    *string  `json:"heatmapUrl"`
	Thumbnail     *string  `json:"thumbnailImageUrl"`
}

func (c *sbx) get(token, id string) detail {
	c.t.Helper()
	var d detail
	c.call(http.MethodGet, "/api/v2/orders/"+id, token, nil, &d)
	return d
}

func TestSandboxAntiAIFlow(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	for _, key := range []string{liveKey, testKey} {
		t.Run(key[:7], func(t *testing.T) {
			c := startSandbox(t, Config{ProcessingTime: Latency{Min: 5 * time.Second, Max: 5 * time.Second}})
			var o created
			c.call(http.MethodPost, "/api/v2/orders/anti-ai", key, map[string]any{
				"idempotencyKey": "flow-1", "files": []map[string]string{{"fileName": "a.jpg"}, {"fileName": "b.png"}},
			}, &o)
			if o.Status != "pending" || len(o.Files) != 2 || o.OrderName != "anti_ai_2026-03-12" {
				t.Fatalf("create = %+v; want pending, 2 files, anti_ai_2026-03-12", o)
			}
			wantPath := "/_morimock/files/"
			if key == testKey {
				wantPath = "/api/v2/test-uploads/"
			}
			if !strings.Contains(o.Files[0].UploadURL, wantPath) {
				t.Errorf("uploadUrl = %s; want it under %s", o.Files[0].UploadURL, wantPath)
			}
			confirm := map[string]string{"idempotencyKey": "confirm-1", "orderId": o.OrderID}
			res, body := c.do(http.MethodPost, "/api/v2/orders/anti-ai/confirm", key, confirm)
			c.want(res, body, http.StatusBadRequest, "ORDER_FILE_NOT_UPLOADED")
			c.upload(o.Files[0].UploadURL, testImage(t, files.JPEG))
			c.upload(o.Files[1].UploadURL, testImage(t, files.PNG))
			var conf struct{ Status string }
			c.call(http.MethodPost, "/api/v2/orders/anti-ai/confirm", key, confirm, &conf)
			if conf.Status != "inProgress" {
				t.Errorf("confirm status = %s; want inProgress", conf.Status)
			}
			res, body = c.do(http.MethodGet, "/api/v2/orders/"+o.OrderID+"/download", key, nil)
			c.want(res, body, http.StatusBadRequest, "ORDER_NOT_COMPLETED")
			if d := c.get(key, o.OrderID); d.Status != "inProgress" {
				t.Errorf("GET after confirm: status %s; want inProgress", d.Status)
			}
			c.settle()
			c.advance(key, "5s")
			if d := c.get(key, o.OrderID); d.Status != "complete" || d.Thumbnail == nil {
				t.Errorf("GET 5s later: %+v; want complete with a thumbnail", d)
			}
			c.call(http.MethodPost, "/api/v2/orders/anti-ai/confirm", key, confirm, &conf)
			if conf.Status != "complete" {
				t.Errorf("confirm again with its key: status %s; want the current, complete", conf.Status)
			}
			res, body = c.do(http.MethodPost, "/api/v2/orders/anti-ai/confirm", key, map[string]string{"idempotencyKey": "confirm-2", "orderId": o.OrderID})
			c.want(res, body, http.StatusBadRequest, "ORDER_ALREADY_CONFIRMED")

			res, body = c.do(http.MethodGet, "/api/v2/orders/"+o.OrderID+"/download", key, nil)
			if key == testKey {
				c.want(res, body, http.StatusNotFound, "PROCESSED_FILE_NOT_FOUND")
				return
			}
			var dl struct {
				DownloadURL string `json:"downloadUrl"`
				ExpiresIn   int    `json:"expiresIn"`
			}
			c.call(http.MethodGet, "/api/v2/orders/"+o.OrderID+"/download", key, nil, &dl)
			if dl.ExpiresIn != 3600 {
				t.Errorf("expiresIn = %d; want 3600", dl.ExpiresIn)
			}
			res, zipped := c.do(http.MethodGet, dl.DownloadURL, "", nil)
			c.want(res, zipped, http.StatusOK, "")
			zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
			if err != nil {
				t.Fatalf("download of two files is not a zip: %v", err)
			}
			var names []string
			for _, f := range zr.File {
				names = append(names, f.Name)
			}
			if len(names) != 2 {
				t.Errorf("zip holds %q; want the two files", names)
			}
			c.advance(key, "7d")
			res, body = c.do(http.MethodGet, "/api/v2/orders/"+o.OrderID+"/download", key, nil)
			c.want(res, body, http.StatusBadRequest, "ORDER_EXPIRED")
		})
	}
}

func TestSandboxAIDetection(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	c := startSandbox(t, Config{})
	for _, tc := range []struct {
		key, file string
		p         float64
		code      string
	}{
		{testKey, "cat_ai.png", order.ProbabilityAI, "likely_ai"},
		{liveKey, "cat_human.png", order.ProbabilityHuman, "likely_real"},
		{testKey, "cat.png", order.ProbabilityDefault, "likely_real"},
	} {
		var o created
		c.call(http.MethodPost, "/api/v2/orders/ai-detection", tc.key, map[string]any{
			"idempotencyKey": "ai-" + tc.file, "fileName": tc.file, "options": map[string]bool{"generateHeatmap": true},
		}, &o)
		c.upload(o.File.UploadURL, testImage(t, files.PNG))
		var conf struct{ Status string }
		c.call(http.MethodPost, "/api/v2/orders/ai-detection/confirm", tc.key, map[string]string{"idempotencyKey": "c-" + tc.file, "orderId": o.OrderID}, &conf)
		c.settle()
		d := c.get(tc.key, o.OrderID)
		if d.Status != "complete" || d.Probability == nil || *d.Probability != tc.p || *d.StatusCode != tc.code || d.HeatmapURL == nil {
			t.Errorf("%s: GET = %+v; want complete, p %v, %s, a heatmap", tc.file, d, tc.p, tc.code)
		}
		res, body := c.do(http.MethodGet, "/api/v2/orders/"+o.OrderID+"/download", tc.key, nil)
		c.want(res, body, http.StatusBadRequest, "ORDER_TYPE_CANT_DOWNLOAD")
		res, body = c.do(http.MethodGet, *d.HeatmapURL, "", nil)
		c.want(res, body, http.StatusOK, "")
	}
	res, body := c.do(http.MethodPost, "/api/v2/orders/ai-detection", liveKey, map[string]any{"idempotencyKey": "bad", "fileName": "doc.pdf"})
	c.want(res, body, http.StatusBadRequest, "VALIDATION_FAILED")
}

func TestSandboxWatermarks(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	c := startSandbox(t, Config{ProcessingTime: Latency{Min: 2 * time.Second, Max: 8 * time.Second}})
	var e created
	res, _ := c.do(http.MethodPost, "/api/v2/orders/wtr-embed", liveKey, map[string]any{
		"idempotencyKey": "embed-1", "files": []map[string]any{{"fileName": "photo.jpg", "watermarks": []map[string]string{{"text": "MORI-1"}}}},
	})
	if res.Header.Get("Deprecation") != "true" || res.Header.Get("Sunset") == "" || res.Header.Get("Link") == "" {
		t.Errorf("wtr-embed headers %v; want Deprecation, Sunset and Link", res.Header)
	}
	c.call(http.MethodPost, "/api/v2/orders/wtr-embed", liveKey, map[string]any{
		"idempotencyKey": "embed-1", "files": []map[string]any{{"fileName": "photo.jpg", "watermarks": []map[string]string{{"text": "MORI-1"}}}},
	}, &e)
	if d := c.get(liveKey, e.OrderID); d.Status != "pending" {
		t.Errorf("embed before upload: %s; want pending", d.Status)
	}
	c.upload(e.Files[0].UploadURL, testImage(t, files.JPEG))
	if d := c.get(liveKey, e.OrderID); d.Status != "inProgress" {
		t.Errorf("embed after its upload: %s; want inProgress without a confirm", d.Status)
	}
	c.settle()
	c.advance(liveKey, "8s")
	var dl struct{ DownloadURL string }
	c.call(http.MethodGet, "/api/v2/orders/"+e.OrderID+"/download", liveKey, nil, &dl)
	res, got := c.do(http.MethodGet, dl.DownloadURL, "", nil)
	c.want(res, got, http.StatusOK, "")
	if img, err := jpeg.Decode(bytes.NewReader(got)); err != nil {
		t.Errorf("download of one JPEG file: %v; want the watermarked JPEG", err)
	} else if text, ok := files.ReadWatermark(img); !ok || text != "MORI-1" {
		t.Errorf("ReadWatermark(download) = %q, %v; want MORI-1", text, ok)
	}

	var x created
	c.call(http.MethodPost, "/api/v2/orders/wtr-extract", liveKey, map[string]any{
		"idempotencyKey": "extract-1", "file": map[string]any{"fileName": "w_detected.jpg", "includeOriginal": true, "originalFile": map[string]string{"fileName": "o.jpg"}},
	}, &x)
	c.upload(x.File.UploadURL, testImage(t, files.JPEG))
	if d := c.get(liveKey, x.OrderID); d.Status != "pending" {
		t.Errorf("extract with its original missing: %s; want pending", d.Status)
	}
	c.upload(x.File.OriginalFile.UploadURL, testImage(t, files.JPEG))
	c.settle()
	c.advance(liveKey, "8s")
	if d := c.get(liveKey, x.OrderID); d.Status != "complete" || d.StatusCode == nil || *d.StatusCode != "detected" || d.WatermarkText == nil {
		t.Errorf("extract of _detected: %+v; want complete, detected, a text", d)
	}

	c.call(http.MethodPost, "/_morimock/clock", liveKey, map[string]string{"set": "2026-10-09T00:00:00Z"}, nil)
	res, body := c.do(http.MethodPost, "/api/v2/orders/wtr-extract", liveKey, map[string]any{"idempotencyKey": "late", "file": map[string]any{"fileName": "w.jpg"}})
	c.want(res, body, http.StatusGone, "WATERMARK_V2_API_SUNSET")
	res, body = c.do(http.MethodPost, "/api/v2/orders/wtr-extract", liveKey2, map[string]any{"idempotencyKey": "late", "file": map[string]any{"fileName": "w.jpg"}})
	c.want(res, body, http.StatusOK, "") // another key's clock is its own
}

func TestSandboxPresignedErrors(t *testing.T) {
	c := startSandbox(t, Config{MaxUploadBytes: 8})
	var o created
	c.call(http.MethodPost, "/api/v2/orders/anti-ai", liveKey, map[string]any{"idempotencyKey": "p", "files": []map[string]string{{"fileName": "a.jpg"}}}, &o)
	u := o.Files[0].UploadURL
	for name, tc := range map[string]struct {
		url    string
		body   []byte
		status int
		code   string
	}{
		"tampered":  {strings.Replace(u, "X-Amz-Expires=3600", "X-Amz-Expires=7200", 1), []byte("x"), http.StatusForbidden, "SignatureDoesNotMatch"},
		"too large": {u, []byte("123456789"), http.StatusBadRequest, "EntityTooLarge"},
		"no query":  {strings.Split(u, "?")[0], []byte("x"), http.StatusBadRequest, "AuthorizationQueryParametersError"},
	} {
		res, body := c.do(http.MethodPut, tc.url, "", tc.body)
		if res.StatusCode != tc.status || !bytes.Contains(body, []byte("<Code>"+tc.code+"</Code>")) || res.Header.Get("Content-Type") != "application/xml" {
			t.Errorf("%s: PUT = %d %s; want %d with S3's XML %s", name, res.StatusCode, body, tc.status, tc.code)
		}
	}
	// A body of unknown length goes chunked: S3 wants its size.
	req, err := http.NewRequest(http.MethodPut, u, struct{ io.Reader }{strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}
	chunked, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	chunkedBody, _ := io.ReadAll(chunked.Body)
	chunked.Body.Close()
	if chunked.StatusCode != http.StatusLengthRequired || !bytes.Contains(chunkedBody, []byte("<Code>MissingContentLength</Code>")) {
		t.Errorf("chunked: PUT = %d %s; want 411 with S3's XML MissingContentLength", chunked.StatusCode, chunkedBody)
	}
	c.advance(liveKey, "1h")
	res, body := c.do(http.MethodPut, u, "", []byte("x"))
	if res.StatusCode != http.StatusForbidden || !bytes.Contains(body, []byte("Request has expired")) {
		t.Errorf("expired: PUT = %d %s; want 403 AccessDenied Request has expired", res.StatusCode, body)
	}
	var fresh struct{ Files []createdFile }
	c.call(http.MethodPost, "/api/v2/orders/"+o.OrderID+"/refresh-urls", liveKey, nil, &fresh)
	c.upload(fresh.Files[0].UploadURL, []byte("x"))

	var tt created
	c.call(http.MethodPost, "/api/v2/orders/anti-ai", testKey, map[string]any{"idempotencyKey": "t", "files": []map[string]string{{"fileName": "a.jpg"}}}, &tt)
	res, body = c.do(http.MethodPut, tt.Files[0].UploadURL+"0", "", []byte("x"))
	c.want(res, body, http.StatusUnauthorized, "AUTH_TOKEN_INVALID")
	c.advance(testKey, "61m")
	res, body = c.do(http.MethodPut, tt.Files[0].UploadURL, "", []byte("x"))
	c.want(res, body, http.StatusUnauthorized, "AUTH_TOKEN_EXPIRED")
	c.call(http.MethodPost, "/api/v2/orders/anti-ai/confirm", liveKey, map[string]string{"idempotencyKey": "c", "orderId": o.OrderID}, nil)
	res, body = c.do(http.MethodPost, "/api/v2/orders/"+o.OrderID+"/refresh-urls", liveKey, nil)
	c.want(res, body, http.StatusBadRequest, "ORDER_NOT_PENDING")
}

func TestSandboxTenants(t *testing.T) {
	c := startSandbox(t, Config{})
	var o created
	c.call(http.MethodPost, "/api/v2/orders/ai-detection", liveKey, map[string]any{"idempotencyKey": "k", "fileName": "a.jpg"}, &o)
	res, body := c.do(http.MethodGet, "/api/v2/orders/"+o.OrderID, liveKey2, nil)
	c.want(res, body, http.StatusNotFound, "ORDER_NOT_FOUND")
	res, body = c.do(http.MethodPost, "/api/v2/orders/ai-detection/confirm", liveKey2, map[string]string{"idempotencyKey": "c", "orderId": o.OrderID})
	c.want(res, body, http.StatusForbidden, "ORDER_NOT_OWNER")
	res, body = c.do(http.MethodPost, "/api/v2/orders/anti-ai/confirm", liveKey, map[string]string{"idempotencyKey": "c", "orderId": o.OrderID})
	c.want(res, body, http.StatusBadRequest, "ORDER_TYPE_NOT_MATCH")
	res, body = c.do(http.MethodPost, "/api/v2/orders/ai-detection/confirm", liveKey, map[string]string{"idempotencyKey": "c", "orderId": "42"})
	c.want(res, body, http.StatusNotFound, "ORDER_NOT_FOUND")
	var list struct{ PageInfo pageInfo }
	c.call(http.MethodGet, "/api/v2/orders", liveKey2, nil, &list)
	if list.PageInfo.TotalItems != 0 {
		t.Errorf("another key lists %d orders; want 0", list.PageInfo.TotalItems)
	}
	c.advance(liveKey2, "48h")
	var a, b clockAnswer
	_, body = c.do(http.MethodGet, "/_morimock/clock", liveKey, nil)
	json.Unmarshal(body, &a)
	_, body = c.do(http.MethodGet, "/_morimock/clock", liveKey2, nil)
	json.Unmarshal(body, &b)
	if a.Now != "2026-03-12T10:00:00.000Z" || b.Now != "2026-03-14T10:00:00.000Z" {
		t.Errorf("clocks %s and %s; want only the second moved by 48h", a.Now, b.Now)
	}
	res, body = c.do(http.MethodPost, "/_morimock/reset", liveKey, nil)
	c.want(res, body, http.StatusNoContent, "")
	res, body = c.do(http.MethodGet, "/api/v2/orders/"+o.OrderID, liveKey, nil)
	if res.Header.Get(HeaderSource) == "sandbox" {
		t.Errorf("GET after reset = %s; want the order forgotten", body)
	}
}

func TestSandboxListAndStats(t *testing.T) {
	c := startSandbox(t, Config{})
	var spring created
	for i, name := range []string{"spring", "summer", "autumn"} {
		var out any
		if i == 0 {
			out = &spring
		}
		c.call(http.MethodPost, "/api/v2/orders/ai-detection", liveKey, map[string]any{"idempotencyKey": name, "orderName": name + "-campaign", "fileName": "a.jpg"}, out)
		if i == 0 {
			c.advance(liveKey, "1d")
		}
	}
	var list struct {
		Orders   []struct{ OrderName string }
		PageInfo pageInfo
	}
	c.call(http.MethodGet, "/api/v2/orders?limit=2&page=1", liveKey, nil, &list)
	if len(list.Orders) != 2 || list.Orders[0].OrderName != "autumn-campaign" || (list.PageInfo != pageInfo{TotalItems: 3, TotalPages: 2, CurrentPage: 1, ItemsPerPage: 2}) {
		t.Errorf("list = %+v; want the two newest of three, autumn first", list)
	}
	c.call(http.MethodGet, "/api/v2/orders?keyword=SPRING&status=pending&type=aiDetection&channel=api", liveKey, nil, &list)
	if len(list.Orders) != 1 || list.Orders[0].OrderName != "spring-campaign" {
		t.Errorf("keyword list = %+v; want spring only", list.Orders)
	}
	// The whole order id matches; a part of it does not (openapi.yaml, listOrders).
	id := spring.OrderID
	c.call(http.MethodGet, "/api/v2/orders?keyword="+id, liveKey, nil, &list)
	if len(list.Orders) != 1 || list.Orders[0].OrderName != "spring-campaign" {
		t.Errorf("list by the id %s = %+v; want spring only", id, list.Orders)
	}
	c.call(http.MethodGet, "/api/v2/orders?keyword="+id[:len(id)-1], liveKey, nil, &list)
	if len(list.Orders) != 0 {
		t.Errorf("list by a part of the id %s = %+v; want none", id, list.Orders)
	}
	// A filter that cannot be decoded is refused, not dropped; after the token is
	// checked, and only where the operation reads its query (it declares no 400
	// elsewhere).
	res, body := c.do(http.MethodGet, "/api/v2/orders?keyword=%ZZ", liveKey, nil)
	c.want(res, body, http.StatusBadRequest, "VALIDATION_FAILED")
	res, body = c.do(http.MethodGet, "/api/v2/orders?keyword=%ZZ", "", nil)
	c.want(res, body, http.StatusUnauthorized, "")
	res, body = c.do(http.MethodGet, "/_morimock/clock?a;b", liveKey, nil)
	c.want(res, body, http.StatusOK, "")
	res, body = c.do(http.MethodGet, "/api/v2/orders?limit=-1", liveKey, nil)
	c.want(res, body, http.StatusBadRequest, "VALIDATION_FAILED")
	var stats recentStats
	c.call(http.MethodGet, "/api/v2/orders/stats/recent", liveKey, nil, &stats)
	if stats.DailyStats[6] != (dailyStat{"03.13", 2}) || stats.DailyStats[5] != (dailyStat{"03.12", 1}) || stats.Domain != [2]int{0, 5} {
		t.Errorf("stats = %+v; want 1 on 03.12, 2 on 03.13, domain [0,5]", stats)
	}
}

func TestSandboxUnknownOrders(t *testing.T) {
	c := startSandbox(t, Config{})
	res, body := c.do(http.MethodGet, "/api/v2/orders/1234567890123456700", liveKey, nil)
	c.want(res, body, http.StatusOK, "")
	strict := startSandbox(t, Config{StrictUnknownOrders: true})
	res, body = strict.do(http.MethodGet, "/api/v2/orders/1234567890123456700", liveKey, nil)
	strict.want(res, body, http.StatusNotFound, "ORDER_NOT_FOUND")
}

// tWriter sends the server's warnings and errors to the test log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestSandboxIdempotencyConcurrent(t *testing.T) {
	c := startSandbox(t, Config{})
	ids := make(chan string, 50)
	for i := 0; i < 50; i++ {
		go func() { // ends when its request is answered; reports through ids, never t
			var o created
			body, _ := rawSend(http.MethodPost, c.url+"/api/v2/orders/ai-detection", liveKey, []byte(`{"idempotencyKey":"same","fileName":"a.jpg"}`))
			json.Unmarshal(body, &struct{ Data *created }{&o})
			ids <- o.OrderID
		}()
	}
	first := <-ids
	for i := 1; i < 50; i++ {
		if id := <-ids; id != first || id == "" {
			t.Errorf("create %d answered order %q; want %q like the first", i, id, first)
		}
	}
	var list struct{ PageInfo pageInfo }
	c.call(http.MethodGet, "/api/v2/orders", liveKey, nil, &list)
	if list.PageInfo.TotalItems != 1 {
		t.Errorf("50 creates with one key made %d orders; want 1", list.PageInfo.TotalItems)
	}
}

// TestSandboxConfirmRacesUpload confirms while the last file is being uploaded: the
// confirm either sees the upload (and starts the order) or answers
// ORDER_FILE_NOT_UPLOADED and leaves it pending; a confirm after the upload then works.
func TestSandboxConfirmRacesUpload(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	c := startSandbox(t, Config{ProcessingTime: Latency{Min: time.Minute}})
	for i := 0; i < 20; i++ {
		var o created
		c.call(http.MethodPost, "/api/v2/orders/ai-detection", liveKey, map[string]any{"idempotencyKey": "race-" + itoa(int64(i)), "fileName": "a.jpg"}, &o)
		done := make(chan int, 1)
		go func() { // ends when the upload is answered; reports through done, never t
			_, status := rawSend(http.MethodPut, o.File.UploadURL, "", []byte("bytes"))
			done <- status
		}()
		confirm := map[string]string{"idempotencyKey": "c-" + itoa(int64(i)), "orderId": o.OrderID}
		res, body := c.do(http.MethodPost, "/api/v2/orders/ai-detection/confirm", liveKey, confirm)
		if status := <-done; status != http.StatusOK {
			t.Fatalf("upload racing the confirm = %d; want 200", status)
		}
		switch {
		case res.StatusCode == http.StatusOK:
		case bytes.Contains(body, []byte("ORDER_FILE_NOT_UPLOADED")):
			if d := c.get(liveKey, o.OrderID); d.Status != "pending" {
				t.Fatalf("a refused confirm left the order %s; want pending", d.Status)
			}
			c.call(http.MethodPost, "/api/v2/orders/ai-detection/confirm", liveKey, confirm, nil)
		default:
			t.Fatalf("confirm racing the upload = %d %s", res.StatusCode, body)
		}
		if d := c.get(liveKey, o.OrderID); d.Status != "inProgress" {
			t.Fatalf("after upload and confirm: %s; want inProgress", d.Status)
		}
	}
}

// rawSend is a request for a goroutine: it reports the answer (status 0 when the
// request failed) rather than failing the test from outside its goroutine.
func rawSend(method, target, token string, body []byte) ([]byte, int) {
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		return nil, 0
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, 0
	}
	return got, res.StatusCode
}

// TestOneOfBodyErrorsNameTheClosestBranch: a body that matches no branch of a oneOf
// is told what the branch it comes closest to lacks (fewest errors), not also what a
// body of another branch would have lacked; when branches tie, each is said.
func TestOneOfBodyErrorsNameTheClosestBranch(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	c := startSandbox(t, Config{})
	for _, tc := range []struct {
		target string
		body   string
		want   []string
		not    []string
	}{
		{"/_morimock/clock", `{"advance":"banana"}`, []string{`.advance: string doesn't match the regular expression`}, []string{`"set\" is missing`, `unsupported`}},
		{"/_morimock/clock", `{"advance":5}`, []string{`.advance: value must be a string`}, []string{`set`}},
		{"/_morimock/clock", `{}`, []string{`"advance\" is missing`, `"set\" is missing`}, nil},
		{"/api/v2/orders/anti-ai", `{"idempotencyKey":"k","files":[{"fileName":"a.exe"}]}`, []string{`.files.0.fileName: string doesn't match the regular expression`}, []string{`is missing`, `unsupported`}},
	} {
		res, body := c.do(http.MethodPost, tc.target, testKey, json.RawMessage(tc.body))
		c.want(res, body, http.StatusBadRequest, "VALIDATION_FAILED")
		got := res.Header.Get(HeaderError)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("POST %s %s: X-Morimock-Error = %s; want it to say %s", tc.target, tc.body, got, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("POST %s %s: X-Morimock-Error = %s; want no %s (another branch's complaint)", tc.target, tc.body, got, n)
			}
		}
	}
}
