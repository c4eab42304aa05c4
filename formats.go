package morimock

import (
	"errors"
	"fmt"
	"net/url"
)

// uriFormat asserts format: uri as RFC 3986 absolute URIs: a scheme and, for http(s),
// a host. kin-openapi leaves "uri" unchecked by default, and the contract's download
// and upload links are declared with it; every other format is kin-openapi's own.
type uriFormat struct{}

func (uriFormat) Validate(value string) error {
	u, err := url.Parse(value)
	if err != nil {
		// Without the URL itself, which url.Error repeats: a report shows the value
		// apart, with the query of a presigned URL (its signature) hidden.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("not a URI: %w", err)
	}
	if !u.IsAbs() {
		return errors.New("not an absolute URI")
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Host == "" {
		return errors.New("http URI without a host")
	}
	return nil
}
