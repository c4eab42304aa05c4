package files

import (
	"encoding/xml"
	"net/http"
)

// S3 error codes the sandbox answers presigned requests with, as S3 spells them.
const (
	CodeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	CodeAccessDenied          = "AccessDenied"
	CodeEntityTooLarge        = "EntityTooLarge"
	CodeNoSuchKey             = "NoSuchKey"
	CodeAuthorizationQuery    = "AuthorizationQueryParametersError"
	CodeMethodNotAllowed      = "MethodNotAllowed"
	CodeIncompleteBody        = "IncompleteBody"
	CodeRequestTimeout        = "RequestTimeout"
	CodeMissingContentLength  = "MissingContentLength"
)

// s3Error is S3's XML error document.
type s3Error struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
}

// WriteS3Error answers as S3 does: status, application/xml, <Error><Code>... The key
// is named in X-Morimock-Error, not in the document (sandbox.yaml's S3Error has no
// Key).
func WriteS3Error(w http.ResponseWriter, status int, code, message, key string) {
	body, err := xml.Marshal(s3Error{Code: code, Message: message, RequestID: "MORIMOCK"})
	if err != nil { // a struct of strings always marshals
		body = nil
	}
	w.Header().Set("Content-Type", "application/xml")
	if key != "" {
		w.Header().Set("X-Morimock-Error", code+": "+key)
	}
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}
