package morimock

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// The facts about the contract that the sandbox, the contract suite, the fixtures and
// the load test all need, each stated here once.

// OrderPath is the path template of the operation every package works with, GET of
// one order, as openapi.yaml writes it.
const OrderPath = "/api/v2/orders/{orderId}"

// OrderURLPath returns the (unescaped) path of the order with id.
func OrderURLPath(id string) string { return strings.Replace(OrderPath, "{orderId}", id, 1) }

// Response headers by which morimock makes itself known. They are not part of the
// vendor's contract; the sandbox sets them and the contract suite reads them.
const (
	// HeaderVersion carries the sandbox's version on every answer.
	HeaderVersion = "X-Morimock-Version"
	// HeaderSource says where an answer came from: fixture, example, generated, error
	// or mock.
	HeaderSource = "X-Morimock-Source"
	// HeaderError explains an error answer, for a person.
	HeaderError = "X-Morimock-Error"
)

// RuleResponseSchema is the rule (and contract check) a body breaks when it does not
// match openapi.yaml. Reports, fixtures and users' CI configurations refer to it.
const RuleResponseSchema = "response_schema_conformance"

// orderGet returns the operation at GET OrderPath.
func (s *Spec) orderGet() (*openapi3.Operation, error) {
	item := s.Doc.Paths.Value(OrderPath)
	if item == nil || item.Get == nil || item.Get.Responses == nil {
		return nil, fmt.Errorf("openapi.yaml has no GET %s", OrderPath)
	}
	return item.Get, nil
}

// OrderStatuses returns the HTTP statuses the contract declares for GET OrderPath,
// in ascending order.
func (s *Spec) OrderStatuses() []int {
	op, err := s.orderGet()
	if err != nil {
		return nil
	}
	var out []int
	for k := range op.Responses.Map() {
		if n, err := strconv.Atoi(k); err == nil {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// OrderResponse returns the response the contract declares for status at GET
// OrderPath, or nil.
func (s *Spec) OrderResponse(status int) *openapi3.Response {
	op, err := s.orderGet()
	if err != nil {
		return nil
	}
	ref := op.Responses.Status(status)
	if ref == nil {
		return nil
	}
	return ref.Value
}

// Example is one named example of the 200 answer to GET OrderPath.
type Example struct {
	Name string
	ID   string         // data.orderId
	Data map[string]any // the order, the example's data, as openapi.yaml holds it
}

// OrderExamples returns the named examples of the 200 answer to GET OrderPath, by
// name. Each must be {"data": {...}} with a string orderId; an error says which is not.
func (s *Spec) OrderExamples() ([]Example, error) {
	resp := s.OrderResponse(http.StatusOK)
	if resp == nil || resp.Content.Get("application/json") == nil {
		return nil, fmt.Errorf("openapi.yaml: GET %s has no JSON 200 response", OrderPath)
	}
	examples := resp.Content.Get("application/json").Examples
	names := make([]string, 0, len(examples))
	for name, ex := range examples {
		if ex != nil && ex.Value != nil {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	out := make([]Example, 0, len(names))
	for _, name := range names {
		env, ok := examples[name].Value.Value.(map[string]any)
		data, ok2 := env["data"].(map[string]any)
		if !ok || !ok2 {
			return nil, fmt.Errorf("openapi.yaml: example %q is not {\"data\": {...}}", name)
		}
		id, _ := data["orderId"].(string)
		if id == "" {
			return nil, fmt.Errorf("openapi.yaml: example %q has no data.orderId", name)
		}
		out = append(out, Example{Name: name, ID: id, Data: data})
	}
	return out, nil
}
