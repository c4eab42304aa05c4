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
	op := s.Doc.Paths.Value("/api/v2/orders/{orderId}").Get
	examples := op.Responses.Status(200).Value.Content.Get("application/json").Examples
	var names []string
	for name := range examples {
		names = append(names, name)
	}
	sort.Strings(names)
	want := []string{"aiDetection", "aiDetectionFailed", "antiAi", "watermarkEmbed", "watermarkExtract", "watermarkExtractUndetected"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("200 examples mismatch (-want +got):\n%s", diff)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			body, err := json.Marshal(examples[name].Value.Value)
			if err != nil {
				t.Fatal(err)
			}
			var env struct {
				Data struct{ OrderID string }
			}
			if err := json.Unmarshal(body, &env); err != nil {
				t.Fatal(err)
			}
			if err := validate200(t, s, env.Data.OrderID, body); err != nil {
				t.Errorf("example %s does not match its schema: %v", name, err)
			}
			if vs := order.CheckResponse(body, order.CheckOptions{OrderID: env.Data.OrderID}); len(vs) > 0 {
				t.Errorf("example %s breaks domain rules: %v", name, vs)
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
