package morimocktest_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/morimock/morimock/morimocktest"
)

// A whole AI-detection flow against an in-process sandbox: create, upload, confirm,
// move the clock past processing, read the result.
func Example() {
	s, err := morimocktest.New(context.Background(), morimocktest.Config{ProcessingTime: morimocktest.Latency{Min: 5 * time.Second}})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	s.SetNow(time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC))

	upload := func(url string, body []byte) string {
		req, _ := http.NewRequest("PUT", url, bytes.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		res.Body.Close()
		return fmt.Sprint(res.StatusCode)
	}
	call := func(method, url, body string) string {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		if !strings.Contains(url, "/test-uploads/") {
			req.Header.Set("Authorization", "Bearer "+s.Token)
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		var b strings.Builder
		fmt.Fprint(&b, res.StatusCode)
		buf := make([]byte, 4096)
		n, _ := res.Body.Read(buf)
		return b.String() + " " + string(buf[:n])
	}
	created := call("POST", s.URL+"/api/v2/orders/ai-detection", `{"idempotencyKey":"ex-1","fileName":"cat_ai.png"}`)
	id := between(created, `"orderId":"`, `"`)
	fmt.Println(upload(between(created, `"uploadUrl":"`, `"`), morimocktest.PNG(64, 48)))
	fmt.Println(call("POST", s.URL+"/api/v2/orders/ai-detection/confirm", `{"idempotencyKey":"ex-c","orderId":"`+id+`"}`)[:3])
	fmt.Println(between(call("GET", s.URL+"/api/v2/orders/"+id, ""), `"status":"`, `"`))
	s.Advance(5 * time.Second)
	got := call("GET", s.URL+"/api/v2/orders/"+id, "")
	fmt.Println(between(got, `"status":"`, `"`), between(got, `"probability":`, `,`), between(got, `"statusCode":"`, `"`))
	// Output:
	// 200
	// 200
	// inProgress
	// complete 0.98 likely_ai
}

func between(s, from, to string) string {
	_, after, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(after, to)
	return v
}
