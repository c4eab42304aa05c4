package jsonvalue_test

import (
	"fmt"

	"github.com/morimock/morimock/internal/jsonvalue"
)

func ExampleDecode() {
	v, err := jsonvalue.Decode([]byte(`{"probability":0.25,"status":"complete","errors":null}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	m := v.(map[string]any)
	fmt.Printf("%T %v\n", m["probability"], m["probability"])
	fmt.Printf("%T %v\n", m["status"], m["status"])
	fmt.Println(m["errors"] == nil)

	_, err = jsonvalue.Decode([]byte(`{"fileCount":01}`))
	fmt.Println(err)
	// Output:
	// json.Number 0.25
	// string complete
	// true
	// jsonvalue: invalid character '1' after object key:value pair at byte offset 14
}
