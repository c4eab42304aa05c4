package morimock

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// namedExample is one example of either document, with the schema it must match.
type namedExample struct {
	where  string
	schema *openapi3.SchemaRef
	value  any
}

// examplesOf collects every example of doc: of request bodies, responses, parameters
// and headers, named or single, wherever a schema governs it.
func examplesOf(name string, doc *openapi3.T) []namedExample {
	var out []namedExample
	media := func(where string, content openapi3.Content) {
		for ct, mt := range content {
			if mt == nil {
				continue
			}
			if mt.Example != nil {
				out = append(out, namedExample{where + " " + ct + " example", mt.Schema, mt.Example})
			}
			for ex, ref := range mt.Examples {
				if ref != nil && ref.Value != nil {
					out = append(out, namedExample{where + " " + ct + " examples." + ex, mt.Schema, ref.Value.Value})
				}
			}
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := fmt.Sprintf("%s: %s %s", name, method, path)
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				media(where+" request", op.RequestBody.Value.Content)
			}
			for status, ref := range op.Responses.Map() {
				if ref.Value != nil {
					media(where+" "+status, ref.Value.Content)
					for h, hr := range ref.Value.Headers {
						if hr.Value != nil && hr.Value.Example != nil {
							out = append(out, namedExample{where + " " + status + " header " + h, hr.Value.Schema, hr.Value.Example})
						}
					}
				}
			}
			for _, p := range append(item.Parameters, op.Parameters...) {
				if p.Value != nil && p.Value.Example != nil {
					out = append(out, namedExample{where + " parameter " + p.Value.Name, p.Value.Schema, p.Value.Example})
				}
			}
		}
	}
	for sn, s := range doc.Components.Schemas {
		if s.Value != nil && s.Value.Example != nil {
			out = append(out, namedExample{name + ": schema " + sn + " example", s, s.Value.Example})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].where < out[j].where })
	return out
}

// TestEveryExampleValidates holds every example of openapi.yaml and sandbox.yaml to its
// schema, formats asserted as the sandbox asserts them.
func TestEveryExampleValidates(t *testing.T) {
	s, err := LoadSpec(context.Background())
	if err != nil {
		t.Fatalf("LoadSpec() error = %v", err)
	}
	counts := map[string]int{}
	for _, doc := range []struct {
		name string
		doc  *openapi3.T
	}{{"openapi.yaml", s.Doc}, {"sandbox.yaml", s.Sandbox}} {
		for _, ex := range examplesOf(doc.name, doc.doc) {
			counts[doc.name]++
			t.Run(ex.where, func(t *testing.T) {
				if ex.schema == nil || ex.schema.Value == nil {
					t.Fatalf("%s has an example but no schema", ex.where)
				}
				if err := ex.schema.Value.VisitJSON(ex.value, append([]openapi3.SchemaValidationOption{openapi3.MultiErrors()}, doc.doc.GetSchemaValidationOptions()...)...); err != nil {
					t.Errorf("%s does not match its schema: %v", ex.where, err)
				}
			})
		}
	}
	// A floor, so a walk that silently finds nothing cannot pass.
	if counts["openapi.yaml"] < 60 || counts["sandbox.yaml"] < 10 {
		t.Errorf("examples walked = %v; want at least 60 in openapi.yaml and 10 in sandbox.yaml", counts)
	}
}

// TestSchemasRefuse holds the request schemas to the rules the descriptions promise:
// each bad body is refused, each good one accepted.
func TestSchemasRefuse(t *testing.T) {
	s, err := LoadSpec(context.Background())
	if err != nil {
		t.Fatalf("LoadSpec() error = %v", err)
	}
	schema := func(name string) *openapi3.Schema { return s.Doc.Components.Schemas[name].Value }
	tests := []struct {
		schema string
		value  any
		ok     bool
	}{
		{"ImageFileName", "photo.jpg", true},
		{"ImageFileName", "PHOTO.JPEG", true},
		{"ImageFileName", "scan.TiFf", true},
		{"ImageFileName", "a_fail.webp", true},
		{"ImageFileName", "doc.pdf", false},
		{"ImageFileName", "photo.gif", false},
		{"ImageFileName", "photo.tif", false},
		{"ImageFileName", ".jpg", false},
		{"ImageFileName", "dir/photo.jpg", false},
		{"ImageFileName", "photo.jpg.exe", false},
		{"ImageFileName", "photo", false},
		{"WatermarkFileName", "document.PDF", true},
		{"WatermarkFileName", "image.bmp", true},
		{"WatermarkFileName", "document.docx", false},
		{"IdempotencyKey", "01960d3e-a4f2-7b3c-8a1d-4c7e2f9b0a3d", true},
		{"IdempotencyKey", "my-first-order-001", true},
		{"IdempotencyKey", "", false},
		{"IdempotencyKey", "has space", false},
		{"IdempotencyKey", strings.Repeat("k", 256), false},
		{"IdempotencyKey", "ключ", false},
	}
	for _, tt := range tests {
		err := schema(tt.schema).VisitJSON(tt.value)
		if (err == nil) != tt.ok {
			t.Errorf("%s accepts %q = %v; want %v (err %v)", tt.schema, tt.value, err == nil, tt.ok, err)
		}
	}
}
