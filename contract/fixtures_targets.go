package contract

import (
	"fmt"
	"strings"

	"github.com/morimock/morimock/fixtures"
)

// fixtureTargets asks the mock for every builtin fixture by its id; the mock answers
// those ids with the fixture's body.
func (r *runner) fixtureTargets() ([]target, error) {
	fx, err := fixtures.Builtin()
	if err != nil {
		return nil, fmt.Errorf("builtin fixtures: %w", err)
	}
	ts := make([]target, 0, len(fx))
	for _, f := range fx {
		ts = append(ts, target{
			id:       f.ID,
			scenario: "fixture " + strings.TrimSuffix(f.Name, ".json"),
			wantType: f.Type, wantStatus: f.Status, fixture: true,
		})
	}
	return ts, nil
}
