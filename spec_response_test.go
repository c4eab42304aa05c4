package morimock_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/morimock/morimock"
	"github.com/morimock/morimock/fixtures"
	"github.com/morimock/morimock/mockserver"
	"github.com/morimock/morimock/order"
)

// TestResponseValidatorAgreesWithValidateResponse holds the shortcut of
// ResponseValidator to its promise: for valid and broken bodies, wrong content
// types and methods, it answers exactly what ValidateResponse answers.
func TestResponseValidatorAgreesWithValidateResponse(t *testing.T) {
	ctx := context.Background()
	spec, err := morimock.LoadSpec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		name   string
		method string
		ct     string
		body   []byte
	}
	var answers []answer
	valid, err := fixtures.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range valid {
		answers = append(answers, answer{name: "fixture " + f.Name, body: f.Body})
	}
	broken, err := fixtures.Invalid()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range broken {
		answers = append(answers, answer{name: "broken " + b.Name, body: b.Body})
	}
	now := time.Date(2026, 11, 26, 10, 30, 0, 0, time.UTC)
	for i, typ := range order.Types() {
		for j, st := range order.Statuses() {
			o := mockserver.Generate(int64(i*5+j), fmt.Sprint(1000+i*5+j), typ, st, now)
			answers = append(answers, answer{name: fmt.Sprintf("generated %s/%s", typ, st), body: o.AppendResponse(nil)})
		}
	}
	body := valid[0].Body
	answers = append(answers,
		answer{name: "not JSON", body: []byte(`{"data":`)},
		answer{name: "trailing bytes", body: append(append([]byte(nil), body...), "}garbage"...)},
		answer{name: "empty", body: nil},
		answer{name: "number envelope", body: []byte(`{"data":1e400}`)},
		answer{name: "charset", ct: "application/json; charset=utf-8", body: body},
		answer{name: "text content type", ct: "text/plain", body: body},
		answer{name: "no content type", ct: "-", body: body},
		answer{name: "HEAD", method: http.MethodHead, body: []byte("x")},
		// Bodies kin-openapi's decoder and ours must read alike.
		answer{name: "escaped strings", body: bytes.Replace(body, []byte(`"antiAi"`), []byte(`"anti\u0041i"`), 1)},
		answer{name: "escaped enum value", body: bytes.Replace(body, []byte(`"antiAi"`), []byte(`"\u0061ntiAi"`), 1)},
		answer{name: "invalid UTF-8", body: bytes.Replace(body, []byte(`"https:`), []byte("\"\xff\xfehttps:"), 1)},
		answer{name: "duplicate data", body: append([]byte(`{"data":{"type":"antiAi"},`), body[1:]...)},
		answer{name: "duplicate data, broken last", body: append(append(append([]byte(nil), body[:len(body)-1]...), `,"data":{}`...), '}')},
		answer{name: "whitespace around", body: append(append([]byte(" \n\t"), body...), " \r\n"...)},
	)

	refused := 0
	for _, a := range answers {
		t.Run(a.name, func(t *testing.T) {
			method := a.method
			if method == "" {
				method = http.MethodGet
			}
			r := httptest.NewRequest(method, "/api/v2/orders/1234567890123456789", nil)
			route, params, err := spec.FindRoute(httptest.NewRequest(http.MethodGet, r.URL.Path, nil))
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{"Content-Type": {"application/json"}}
			switch a.ct {
			case "":
			case "-":
				h = http.Header{}
			default:
				h.Set("Content-Type", a.ct)
			}
			want := spec.ValidateResponse(ctx, r, route, params, http.StatusOK, h.Clone(), bytes.Clone(a.body))
			got := spec.ResponseValidator(route, http.StatusOK).Validate(ctx, r, params, h.Clone(), bytes.Clone(a.body))
			if diff := cmp.Diff(errText(want), errText(got)); diff != "" {
				t.Errorf("ResponseValidator.Validate() mismatch with ValidateResponse (-want +got):\n%s", diff)
			}
			if want != nil {
				refused++
			}
		})
	}
	// The broken fixtures that break the schema (not only the rules), the bad JSON and
	// the content types: the error paths must be compared too.
	if refused < 10 {
		t.Errorf("only %d answers were refused; the comparison must cover the error paths", refused)
	}
	t.Logf("%d of %d answers refused by both", refused, len(answers))
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%T: %v", err, err)
}

// FuzzResponseValidator holds ResponseValidator to ValidateResponse for any body:
// whatever the bytes, the shortcut's verdict and error must be the ones kin-openapi's
// own path gives.
func FuzzResponseValidator(f *testing.F) {
	ctx := context.Background()
	spec, err := morimock.LoadSpec(ctx)
	if err != nil {
		f.Fatal(err)
	}
	valid, err := fixtures.Builtin()
	if err != nil {
		f.Fatal(err)
	}
	for _, fx := range valid[:8] {
		f.Add(fx.Body)
	}
	f.Add([]byte(`{"data":{"type":"aiDetection","probability":1e400}}`))
	f.Add([]byte("{\"data\":\"\\ud800\xff\"} x"))
	r := httptest.NewRequest(http.MethodGet, "/api/v2/orders/1234567890123456789", nil)
	route, params, err := spec.FindRoute(r)
	if err != nil {
		f.Fatal(err)
	}
	v := spec.ResponseValidator(route, http.StatusOK)
	f.Fuzz(func(t *testing.T, body []byte) {
		h := http.Header{"Content-Type": {"application/json"}}
		want := spec.ValidateResponse(ctx, r, route, params, http.StatusOK, h.Clone(), bytes.Clone(body))
		got := v.Validate(ctx, r, params, h.Clone(), bytes.Clone(body))
		if diff := cmp.Diff(errText(want), errText(got)); diff != "" {
			t.Errorf("ResponseValidator.Validate() mismatch with ValidateResponse (-want +got):\n%s", diff)
		}
	})
}
