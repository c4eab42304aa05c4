package order

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// DecodeJSON reads data as exactly one JSON value, the way openapi3filter reads a
// JSON body (encoding/json into an any, numbers as json.Number, so that no id or
// probability is rounded), and refuses anything but white space after it. It is the
// one decoding of a body that both the schema validation and the rule checks walk.
func DecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}
