package order_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/morimock/morimock/order"
)

func TestStatusCodeFor(t *testing.T) {
	tests := []struct {
		name string
		p    float64
		want order.StatusCode
	}{
		{"zero", 0, order.LikelyReal},
		{"just below 0.25", 0.2499999, order.LikelyReal},
		{"largest float below 0.25", 0.24999999999999997, order.LikelyReal},
		{"exactly 0.25", 0.25, order.UncertainReal},
		{"just below 0.5", 0.4999999, order.UncertainReal},
		{"largest float below 0.5", 0.49999999999999994, order.UncertainReal},
		{"exactly 0.5", 0.5, order.UncertainAI},
		{"just below 0.75", 0.7499999, order.UncertainAI},
		{"largest float below 0.75", 0.7499999999999999, order.UncertainAI},
		{"exactly 0.75", 0.75, order.LikelyAI},
		{"docs example 0.92", 0.92, order.LikelyAI},
		{"one", 1, order.LikelyAI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := order.StatusCodeFor(tt.p); got != tt.want {
				t.Errorf("StatusCodeFor(%v) = %q; want %q", tt.p, got, tt.want)
			}
		})
	}
}

// ruleConstants reads the Rule* string constants declared in rules.go with go/ast,
// an oracle independent of Rules(): a constant added without a Rules() entry (or the
// reverse) fails TestRulesComplete, and no list is kept by hand.
func ruleConstants(tb testing.TB) []string {
	tb.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "rules.go", nil, 0)
	if err != nil {
		tb.Fatal(err)
	}
	var values []string
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Rule") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					tb.Fatalf("rules.go: %s is not a string literal", name.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					tb.Fatal(err)
				}
				values = append(values, v)
			}
		}
	}
	if len(values) == 0 {
		tb.Fatal("rules.go declares no Rule constants")
	}
	return values
}

func TestRulesComplete(t *testing.T) {
	seen := map[string]bool{}
	var names []string
	for _, r := range order.Rules() {
		if seen[r.Name] {
			t.Errorf("Rules() lists %q twice", r.Name)
		}
		seen[r.Name] = true
		names = append(names, r.Name)
		if r.Description == "" {
			t.Errorf("rule %q has no description", r.Name)
		}
	}
	want := ruleConstants(t)
	sort.Strings(want)
	sort.Strings(names)
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("Rules() names mismatch (-want +got):\n%s", diff)
	}
}

func TestFields(t *testing.T) {
	for _, typ := range order.Types() {
		t.Run(string(typ), func(t *testing.T) {
			fs := order.Fields(typ)
			seen := map[string]bool{}
			for _, f := range fs {
				if seen[f] {
					t.Errorf("Fields(%q) lists %q twice", typ, f)
				}
				seen[f] = true
				if !order.HasField(typ, f) || !order.KnownField(f) {
					t.Errorf("HasField/KnownField(%q) = false for a field of %s", f, typ)
				}
			}
			if !order.HasField(typ, order.FieldType) || !order.HasField(typ, order.FieldOrderID) {
				t.Errorf("Fields(%q) lacks type or orderId", typ)
			}
		})
	}
	if got := order.Fields("antiAI"); got != nil {
		t.Errorf("Fields(%q) = %q; want nil", "antiAI", got)
	}
	if order.KnownField("extra") {
		t.Errorf("KnownField(%q) = true; want false", "extra")
	}
}

func TestParse(t *testing.T) {
	for _, typ := range order.Types() {
		if got, err := order.ParseType(string(typ)); err != nil || got != typ {
			t.Errorf("ParseType(%q) = %q, %v; want %q, nil", typ, got, err, typ)
		}
	}
	for _, s := range order.Statuses() {
		if got, err := order.ParseStatus(string(s)); err != nil || got != s {
			t.Errorf("ParseStatus(%q) = %q, %v; want %q, nil", s, got, err, s)
		}
	}
	for _, bad := range []string{"", "antiAI", "AntiAi", "detected"} {
		if _, err := order.ParseType(bad); err == nil {
			t.Errorf("ParseType(%q) = nil error; want one", bad)
		}
	}
	for _, bad := range []string{"", "detected", "undetected", "Complete", "in_progress"} {
		if _, err := order.ParseStatus(bad); err == nil {
			t.Errorf("ParseStatus(%q) = nil error; want one", bad)
		}
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"", false},
		{"0", true},
		{"123456789", true},
		{"1234567890123456789", true},
		{"12345678901234567890", true},
		{"123456789012345678901", false},
		{"12a", false},
		{" 1", false},
		{"-1", false},
		{"1.0", false},
		{"１２３", false}, // full-width digits are not ASCII digits
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := order.ValidID(tt.id); got != tt.want {
				t.Errorf("ValidID(%q) = %v; want %v", tt.id, got, tt.want)
			}
		})
	}
}
