package contract

// redactedError is an error whose text has had the token removed (and what a server
// sent escaped), while errors.Is and errors.As still reach the error it wraps:
// context.Canceled, context.DeadlineExceeded, *RateLimitError.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactError wraps err with prefix, removing token from its text.
func redactError(prefix string, err error, token string) error {
	return &redactedError{msg: prefix + printable(redact(err.Error(), token)), err: err}
}
