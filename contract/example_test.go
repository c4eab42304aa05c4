package contract_test

import (
	"fmt"
	"strings"

	"github.com/morimock/morimock/contract"
)

func ExampleReadOrderIDs() {
	ids, err := contract.ReadOrderIDs(strings.NewReader(`# orders to watch
1234567890123456789
424706541233094656  # a watermarkEmbed order
`))
	fmt.Println(ids, err)
	// Output: [1234567890123456789 424706541233094656] <nil>
}
