package morimock_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/morimock/morimock"
	"github.com/morimock/morimock/internal/spectest"
	"github.com/morimock/morimock/order"
)

// validate200 validates body as the 200 answer to GET /api/v2/orders/{id}.
func validate200(t *testing.T, s *morimock.Spec, id string, body []byte) error {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/api/v2/orders/"+id, nil)
	route, params, err := s.FindRoute(r)
	if err != nil {
		t.Fatalf("FindRoute(%s) error = %v", r.URL, err)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	return s.ValidateResponse(context.Background(), r, route, params, http.StatusOK, h, body)
}

func TestSpecExamplesValidate(t *testing.T) {
	s := spectest.Load(t)
	examples, err := s.OrderExamples()
	if err != nil {
		t.Fatalf("OrderExamples() error = %v", err)
	}
	var names []string
	for _, ex := range examples {
		names = append(names, ex.Name)
	}
	want := []string{"aiDetection", "aiDetectionFailed", "antiAi", "watermarkEmbed", "watermarkExtract", "watermarkExtractUndetected"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("OrderExamples() names mismatch (-want +got):\n%s", diff)
	}
	for _, ex := range examples {
		t.Run(ex.Name, func(t *testing.T) {
			if ex.ID != ex.Data["orderId"] {
				t.Errorf("example %s: ID = %q; want data.orderId %q", ex.Name, ex.ID, ex.Data["orderId"])
			}
			body, err := json.Marshal(map[string]any{"data": ex.Data})
			if err != nil {
				t.Fatal(err)
			}
			if err := validate200(t, s, ex.ID, body); err != nil {
				t.Errorf("example %s does not match its schema: %v", ex.Name, err)
			}
			if vs := order.CheckResponse(body, order.CheckOptions{OrderID: ex.ID}); len(vs) > 0 {
				t.Errorf("example %s breaks domain rules: %v", ex.Name, vs)
			}
		})
	}
}

// TestOrderFacts pins the contract facts every package reads from the Spec against
// openapi.yaml as written.
func TestOrderFacts(t *testing.T) {
	s := spectest.Load(t)
	if diff := cmp.Diff([]int{200, 400, 401, 404, 405, 429, 500}, s.OrderStatuses()); diff != "" {
		t.Errorf("OrderStatuses() mismatch (-want +got):\n%s", diff)
	}
	if got, want := morimock.OrderURLPath("42"), "/api/v2/orders/42"; got != want {
		t.Errorf("OrderURLPath(%q) = %q; want %q", "42", got, want)
	}
	if s.Doc.Paths.Value(morimock.OrderPath) == nil {
		t.Errorf("openapi.yaml has no path %s", morimock.OrderPath)
	}
	if s.OrderResponse(http.StatusOK) == nil || s.OrderResponse(http.StatusTeapot) != nil {
		t.Errorf("OrderResponse: want the 200 and no 418")
	}
}

// TestOrderExamplesRefused shows that an example that is not an order envelope is
// refused with its name. (ParseSpec already refuses one that breaks its schema, so
// the document is changed after loading.)
func TestOrderExamplesRefused(t *testing.T) {
	for name, value := range map[string]any{
		"no data":    map[string]any{"notData": map[string]any{}},
		"no orderId": map[string]any{"data": map[string]any{"type": "antiAi"}},
		"not object": []any{1},
	} {
		t.Run(name, func(t *testing.T) {
			s := spectest.Load(t) // a fresh document each time
			s.OrderResponse(http.StatusOK).Content.Get("application/json").Examples["antiAi"].Value.Value = value
			if _, err := s.OrderExamples(); err == nil || !strings.Contains(err.Error(), `"antiAi"`) {
				t.Errorf("OrderExamples() error = %v; want one naming example \"antiAi\"", err)
			}
		})
	}
}

func TestSpecRejects(t *testing.T) {
	s := spectest.Load(t)
	base := `{"type":"antiAi","orderId":"1","channel":"api","thumbnailImageUrl":null,"status":"pending","orderName":"anti_ai_2026-03-12","fileCount":1,"createdAt":"2026-03-12T10:00:00.000Z","updatedAt":"2026-03-12T10:00:00.000Z","errors":null}`
	tests := []struct {
		name, body, want string
	}{
		{"unknown field", strings.Replace(base, `"errors":null`, `"errors":null,"extra":1`, 1), "extra"},
		{"field of another type", strings.Replace(base, `"errors":null`, `"errors":null,"statusCode":null`, 1), "statusCode"},
		{"missing required", strings.Replace(base, `"errors":null,`, ``, 1) + "", ""},
		{"bad enum", strings.Replace(base, `"pending"`, `"detected"`, 1), "detected"},
		{"bad date-time", strings.Replace(base, `"2026-03-12T10:00:00.000Z"`, `"2026-03-12 10:00"`, 1), "createdAt"},
		{"no millis", strings.Replace(base, `"2026-03-12T10:00:00.000Z"`, `"2026-03-12T10:00:00Z"`, 1), "createdAt"},
		{"bad uri", strings.Replace(base, `"thumbnailImageUrl":null`, `"thumbnailImageUrl":"not a uri"`, 1), `"/thumbnailImageUrl": string doesn't match the format "uri"`},
		{"wrong type", strings.Replace(base, `"fileCount":1`, `"fileCount":"1"`, 1), "fileCount"},
		{"numeric id", strings.Replace(base, `"orderId":"1"`, `"orderId":1`, 1), "orderId"},
		{"unknown type", strings.Replace(base, `"antiAi"`, `"antiAI"`, 1), "antiAI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"data":` + tt.body + `}`
			if tt.name == "missing required" {
				body = `{"data":` + strings.Replace(base, `,"errors":null`, ``, 1) + `}`
				tt.want = "errors"
			}
			err := validate200(t, s, "1", []byte(body))
			if err == nil {
				t.Fatalf("ValidateResponse(%s) = nil; want an error", body)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ValidateResponse() error = %v; want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestParseSpecRefusesBrokenContract(t *testing.T) {
	_, err := morimock.ParseSpec(context.Background(), []byte("openapi: 3.0.3\ninfo: {}\npaths: {}\n"))
	if err == nil {
		t.Fatal("ParseSpec(broken) = nil error; want one")
	}
	if !strings.Contains(err.Error(), "openapi.yaml") {
		t.Errorf("ParseSpec(broken) error = %v; want it to name openapi.yaml", err)
	}
}

func TestResponseIssues(t *testing.T) {
	s := spectest.Load(t)
	body := `{"data":{"type":"antiAi","orderId":"1","channel":"fax","thumbnailImageUrl":null,"status":"pending","orderName":"n","fileCount":0,"createdAt":"2026-03-12T10:00:00.000Z","updatedAt":"2026-03-12T10:00:00.000Z","errors":null,"watermarks":[]}}`
	var got []string
	for _, is := range morimock.ResponseIssues(validate200(t, s, "1", []byte(body))) {
		if is.Schema == nil {
			t.Errorf("issue %+v has no schema error", is)
		}
		got = append(got, is.Path)
	}
	sort.Strings(got)
	// A disallowed property (watermarks) is reported at its object, $.data.
	if diff := cmp.Diff([]string{"$.data", "$.data.channel", "$.data.fileCount"}, got); diff != "" {
		t.Errorf("ResponseIssues() paths mismatch (-want +got):\n%s", diff)
	}
	if is := morimock.ResponseIssues(validate200(t, s, "1", []byte(`not json`))); len(is) != 1 || is[0].Path != "$" || is[0].Schema != nil {
		t.Errorf("ResponseIssues(not JSON) = %+v; want one issue at $ with no schema", is)
	}
	if got := morimock.JSONPath([]string{"data", "watermarks", "0"}); got != "$.data.watermarks[0]" {
		t.Errorf("JSONPath() = %q; want %q", got, "$.data.watermarks[0]")
	}
}
