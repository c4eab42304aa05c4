package mockserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/morimock/morimock"
	"github.com/morimock/morimock/order"
)

// exampleBody is a named 200 example of the contract, split around its orderId so the
// requested id can be put in without parsing the body again.
type exampleBody struct {
	before, after []byte
}

func (e exampleBody) appendFor(dst []byte, id string) []byte {
	dst = append(dst, e.before...)
	dst = order.AppendString(dst, id)
	return append(dst, e.after...)
}

func loadExamples(spec *morimock.Spec) (map[string]exampleBody, error) {
	examples, err := spec.OrderExamples()
	if err != nil {
		return nil, err
	}
	out := map[string]exampleBody{}
	for _, ex := range examples {
		name := ex.Name
		body, err := orderedJSON(ex.Data)
		if err != nil {
			return nil, fmt.Errorf("openapi.yaml: example %q: %w", name, err)
		}
		marker := []byte(`"orderId":`)
		i := bytes.Index(body, marker)
		if i < 0 {
			return nil, fmt.Errorf("openapi.yaml: example %q has no orderId", name)
		}
		start := i + len(marker)
		end := start + bytes.IndexByte(body[start+1:], '"') + 2
		out[name] = exampleBody{
			before: append([]byte(`{"data":`), body[:start]...),
			after:  append(append([]byte(nil), body[end:]...), '}'),
		}
	}
	return out, nil
}

// orderedJSON encodes an order held as a map in the order the API sends its fields.
func orderedJSON(data map[string]any) ([]byte, error) {
	t, _ := data[order.FieldType].(string)
	keys := append([]string(nil), order.Fields(order.Type(t))...)
	var extra []string
	for k := range data {
		if !order.HasField(order.Type(t), k) {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	keys = append(keys, extra...)
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	for _, k := range keys {
		v, ok := data[k]
		if !ok {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// exampleNames lists the examples for an error message.
func (s *Server) exampleNames() string {
	names := make([]string, 0, len(s.examples))
	for n := range s.examples {
		names = append(names, n)
	}
	sort.Strings(names)
	return fmt.Sprint(names)
}
