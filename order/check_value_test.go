package order_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/morimock/morimock/order"
)

// TestCheckResponseValueAgrees proves that checking a decoded body gives what checking
// its bytes gives, whether the caller decoded numbers as json.Number or float64.
func TestCheckResponseValueAgrees(t *testing.T) {
	bodies := map[string]string{
		"not an object":      `[1,2]`,
		"no data":            `{"datum":{}}`,
		"extra envelope key": `{"data":{"type":"antiAi"},"meta":1}`,
		"options wrong case": `{"data":{"type":"aiDetection","options":{"GenerateHeatmap":true,"generateOverlay":false,"generateThumbnail":false}}}`,
		"options extra key":  `{"data":{"type":"aiDetection","options":{"generateHeatmap":true,"generateOverlay":false,"generateThumbnail":false,"x":1}}}`,
		"fractional count":   `{"data":{"type":"antiAi","fileCount":2.5}}`,
	}
	for _, typ := range order.Types() {
		for _, st := range order.Statuses() {
			o := sample(typ, st)
			bodies[string(typ)+"/"+string(st)] = string(o.AppendResponse(nil))
		}
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			opts := order.CheckOptions{OrderID: "1234567890123456789", Now: now}
			want := order.CheckResponse([]byte(body), opts)
			var plain any
			if err := json.Unmarshal([]byte(body), &plain); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, order.CheckResponseValue(plain, opts)); diff != "" {
				t.Errorf("CheckResponseValue(float64 numbers) mismatch (-CheckResponse +value):\n%s", diff)
			}
			dec := json.NewDecoder(strings.NewReader(body))
			dec.UseNumber()
			var exact any
			if err := dec.Decode(&exact); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, order.CheckResponseValue(exact, opts)); diff != "" {
				t.Errorf("CheckResponseValue(json.Number) mismatch (-CheckResponse +value):\n%s", diff)
			}
		})
	}
}

func TestHugeFileCountIsNotAnInt(t *testing.T) {
	var v any
	json.Unmarshal([]byte(`{"data":{"type":"antiAi","fileCount":1e30}}`), &v)
	for _, vs := range [][]order.Violation{
		order.CheckResponse([]byte(`{"data":{"type":"antiAi","fileCount":1e30}}`), order.CheckOptions{}),
		order.CheckResponseValue(v, order.CheckOptions{}),
	} {
		found := false
		for _, x := range vs {
			found = found || (x.Rule == order.RuleFieldType && x.Path == "$.data.fileCount")
		}
		if !found {
			t.Errorf("fileCount 1e30: violations %v; want field_type at $.data.fileCount", vs)
		}
	}
}

// TestOptionsAreRead: options is read as the docs give it, the options of the
// creation (facts §2.1): a flag left out is false, a key the docs do not name is the
// schema's to report; a flag that is not a boolean, or options that are no object,
// break field_type.
func TestOptionsAreRead(t *testing.T) {
	for _, tc := range []struct {
		opts string
		want []string
	}{
		{`{"generateHeatmap":true,"generateOverlay":false,"generateThumbnail":false}`, nil},
		{`{"generateHeatmap":true}`, nil},
		{`{}`, nil},
		{`{"GenerateHeatmap":true,"generateOverlay":false,"generateThumbnail":false}`, nil},
		{`{"generateHeatmap":true,"generateOverlay":false,"generateThumbnail":false,"generateMask":true}`, nil},
		{`{"generateHeatmap":"true","generateOverlay":false,"generateThumbnail":false}`, []string{order.RuleFieldType}},
		{`{"generateOverlay":null}`, []string{order.RuleFieldType}},
		{`[]`, []string{order.RuleFieldType}},
	} {
		body := `{"data":{"type":"aiDetection","options":` + tc.opts + `}}`
		var rules []string
		for _, v := range order.CheckResponse([]byte(body), order.CheckOptions{}) {
			if v.Path == "$.data.options" {
				rules = append(rules, v.Rule)
			}
		}
		if diff := cmp.Diff(tc.want, rules); diff != "" {
			t.Errorf("CheckResponse(options %s) rules at $.data.options mismatch (-want +got):\n%s", tc.opts, diff)
		}
	}
}

func TestCheckResponseRefusesTrailingData(t *testing.T) {
	vs := order.CheckResponse([]byte(`{"data":{}} {"data":{}}`), order.CheckOptions{})
	if len(vs) != 1 || vs[0].Rule != order.RuleEnvelope {
		t.Errorf("CheckResponse(two values) = %v; want one envelope violation", vs)
	}
}
