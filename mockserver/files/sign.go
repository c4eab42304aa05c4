// Package files signs and checks the sandbox's presigned URLs: the upload URLs an
// order's files are PUT to, and the GET URLs of its inputs and results. A URL carries
// its tenant, the storage key, the instant it was issued (on the tenant's clock) and
// its lifetime, under an HMAC of the server's key; whoever holds the URL may use it
// without an Authorization header, as with S3, and nobody can forge or extend one.
//
// Live-style keys get S3-style URLs (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
// X-Amz-Expires, X-Amz-Signature): the same parameters as AWS Signature V4 query
// signing, though the signature is not SigV4's. Test keys (sk_test_) get the vendor's
// test-upload URLs, /api/v2/test-uploads/{signedToken}.
package files

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Paths the signed URLs point at. FilesPath is followed by the escaped storage key
// (a key holds slashes, escaped as %2F so that it stays one path segment).
const (
	FilesPath       = "/_morimock/files/"
	TestUploadsPath = "/api/v2/test-uploads/"
)

// The S3 query parameters.
const (
	amzAlgorithm  = "X-Amz-Algorithm"
	amzCredential = "X-Amz-Credential"
	amzDate       = "X-Amz-Date"
	amzExpires    = "X-Amz-Expires"
	amzSignature  = "X-Amz-Signature"
	amzSigned     = "X-Amz-SignedHeaders"
	signedHeaders = "host" // the headers a presigned URL signs: its host only
	algorithm     = "AWS4-HMAC-SHA256"
	amzDateLayout = "20060102T150405Z"
	// region and service complete the credential scope as S3 writes it; the
	// vendor's URLs name ap-northeast-2.
	credentialScope = "ap-northeast-2/s3/aws4_request"
)

// Errors of Check. ErrSignature is a URL that was not signed by this server as it
// stands (tampered, or signed with another key); ErrMalformed is one that is not a
// presigned URL at all.
var (
	ErrSignature = errors.New("signature does not match")
	ErrMalformed = errors.New("not a presigned URL")
)

// Grant is what a presigned URL allows: one method on one storage key, for one
// tenant, from Issued for For (order.PresignedURLLifetime on every URL the sandbox
// makes). The URL carries the tenant sealed (sealTenant), never the digest itself.
type Grant struct {
	Method string
	Tenant string // the tenant digest; never a token
	Key    string // the storage key
	Issued time.Time
	For    time.Duration
}

// Expired reports whether the grant has run out at now (the tenant's clock). An URL
// is valid for exactly its lifetime: at Issued+For it has expired.
func (g Grant) Expired(now time.Time) bool { return !now.Before(g.Issued.Add(g.For)) }

// Signer signs and checks URLs with one key. It is safe for concurrent use.
type Signer struct {
	key []byte
	// sealKey encrypts the tenant digest a URL carries (see sealTenant), derived
	// from key so that every replica and restart sharing the key reads it back.
	sealKey []byte
}

// NewSigner returns a Signer for key, which should be at least 32 random bytes.
func NewSigner(key []byte) *Signer {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("morimock tenant seal key"))
	return &Signer{key: append([]byte(nil), key...), sealKey: m.Sum(nil)}
}

// sealTenant is what a URL carries instead of the tenant digest (X-Amz-Credential's
// access key, the test-upload token's second field). The digest is a fast hash of
// the bearer token, so a URL that carried it would let anyone holding the URL guess
// a weak token offline. Sealed, it is an HMAC of the tenant under the signing key
// (the synthetic IV) followed by the tenant encrypted in CTR mode under that IV:
// deterministic (one tenant, one access key, as with S3), unreadable without the
// key, and read back by every process that shares the key (--state-dir, Redis), so
// URLs stay valid across restarts and replicas. Tampering is caught by unsealTenant
// and, in any case, by the URL's signature, which covers the tenant itself.
func (s *Signer) sealTenant(tenant string) string {
	m := hmac.New(sha256.New, s.sealKey)
	m.Write([]byte(tenant))
	iv := m.Sum(nil)[:aes.BlockSize]
	out := make([]byte, aes.BlockSize+len(tenant))
	copy(out, iv)
	s.ctr(iv).XORKeyStream(out[aes.BlockSize:], []byte(tenant))
	return hex.EncodeToString(out)
}

// unsealTenant reverses sealTenant, refusing a value sealTenant did not make.
func (s *Signer) unsealTenant(sealed string) (string, bool) {
	b, err := hex.DecodeString(sealed)
	if err != nil || len(b) <= aes.BlockSize {
		return "", false
	}
	iv := b[:aes.BlockSize]
	tenant := make([]byte, len(b)-aes.BlockSize)
	s.ctr(iv).XORKeyStream(tenant, b[aes.BlockSize:])
	m := hmac.New(sha256.New, s.sealKey)
	m.Write(tenant)
	if !hmac.Equal(iv, m.Sum(nil)[:aes.BlockSize]) {
		return "", false
	}
	return string(tenant), true
}

func (s *Signer) ctr(iv []byte) cipher.Stream {
	block, err := aes.NewCipher(s.sealKey) // 32 bytes: never fails
	if err != nil {
		panic(err)
	}
	return cipher.NewCTR(block, iv)
}

// KeyFromSeed derives a signing key from a seed, so that a server started with the
// same --seed signs the same URLs and a restart keeps them valid.
func KeyFromSeed(seed int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(seed))
	sum := sha256.Sum256(append([]byte("morimock files key\x00"), b[:]...))
	return sum[:]
}

// RandomKey returns a fresh random signing key.
func RandomKey() ([]byte, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return k, nil
}

// keyFile is the name of the signing key under a state directory.
const keyFile = "signing.key"

// LoadOrCreateKey returns the signing key kept in dir, creating it (random) the first
// time, so that URLs signed before a restart stay valid after it.
func LoadOrCreateKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, keyFile)
	if b, err := os.ReadFile(path); err == nil {
		k, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(k) < 16 {
			return nil, fmt.Errorf("signing key %s: not a hex key of at least 16 bytes", path)
		}
		return k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	k, err := RandomKey()
	if err != nil {
		return nil, err
	}
	// Written to a temporary name and renamed, so that a crash never leaves half a key.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return k, nil
}

func (s *Signer) mac(g Grant) []byte {
	m := hmac.New(sha256.New, s.key)
	// Each field is length-prefixed so that no two grants share a message.
	for _, f := range []string{g.Method, g.Tenant, g.Key, strconv.FormatInt(g.Issued.Unix(), 10), strconv.FormatInt(int64(g.For/time.Second), 10)} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		m.Write(n[:])
		m.Write([]byte(f))
	}
	return m.Sum(nil)
}

// S3URL returns the S3-style presigned URL (path and query) of g on the sandbox. The
// issue instant is kept to the second, as X-Amz-Date is.
func (s *Signer) S3URL(g Grant) string {
	g.Issued = g.Issued.UTC().Truncate(time.Second)
	q := url.Values{}
	q.Set(amzAlgorithm, algorithm)
	q.Set(amzCredential, s.sealTenant(g.Tenant)+"/"+g.Issued.Format("20060102")+"/"+credentialScope)
	q.Set(amzDate, g.Issued.Format(amzDateLayout))
	q.Set(amzExpires, strconv.FormatInt(int64(g.For/time.Second), 10))
	q.Set(amzSigned, signedHeaders)
	q.Set(amzSignature, hex.EncodeToString(s.mac(g)))
	return FilesPath + url.PathEscape(g.Key) + "?" + q.Encode()
}

// s3Params are the query parameters of a presigned URL (S3URL), each exactly once and
// nothing else.
var s3Params = []string{amzAlgorithm, amzCredential, amzDate, amzExpires, amzSigned, amzSignature}

// CheckS3 checks an S3-style presigned request: the method, the storage key from the
// path (unescaped) and the query. It returns the grant, or ErrMalformed, or
// ErrSignature. Expiry is the caller's to check, on the tenant's clock.
func (s *Signer) CheckS3(method, key string, query url.Values) (Grant, error) {
	for _, p := range s3Params {
		if len(query[p]) != 1 {
			return Grant{}, fmt.Errorf("%w: want exactly one %s", ErrMalformed, p)
		}
	}
	// SigV4 signs every parameter of the query but the signature, and the headers
	// SignedHeaders names: a URL with a parameter added, or other signed headers, no
	// longer matches its signature.
	if len(query) != len(s3Params) || query.Get(amzSigned) != signedHeaders {
		return Grant{}, ErrSignature
	}
	if query.Get(amzAlgorithm) != algorithm {
		return Grant{}, fmt.Errorf("%w: %s is not %s", ErrMalformed, amzAlgorithm, algorithm)
	}
	issued, err := time.Parse(amzDateLayout, query.Get(amzDate))
	if err != nil {
		return Grant{}, fmt.Errorf("%w: %s is not yyyymmddThhmmssZ", ErrMalformed, amzDate)
	}
	secs, err := strconv.ParseInt(query.Get(amzExpires), 10, 64)
	if err != nil || secs < 1 || secs > 7*24*3600 {
		return Grant{}, fmt.Errorf("%w: %s is not 1 to 604800 seconds", ErrMalformed, amzExpires)
	}
	access, _, ok := strings.Cut(query.Get(amzCredential), "/")
	if !ok || access == "" {
		return Grant{}, fmt.Errorf("%w: %s has no access key", ErrMalformed, amzCredential)
	}
	if query.Get(amzCredential) != access+"/"+issued.Format("20060102")+"/"+credentialScope {
		return Grant{}, ErrSignature
	}
	tenant, ok := s.unsealTenant(access)
	if !ok {
		return Grant{}, ErrSignature
	}
	g := Grant{Method: method, Tenant: tenant, Key: key, Issued: issued, For: time.Duration(secs) * time.Second}
	sig, err := hex.DecodeString(query.Get(amzSignature))
	if err != nil || !hmac.Equal(sig, s.mac(g)) {
		return Grant{}, ErrSignature
	}
	return g, nil
}

// TestUploadURL returns the vendor's test-upload URL (path) for g, which must be a
// PUT. The token is the grant's fields and their MAC, dot-separated and URL-safe.
func (s *Signer) TestUploadURL(g Grant) string {
	g.Issued = g.Issued.UTC().Truncate(time.Second)
	g.Method = "PUT"
	return TestUploadsPath + s.testToken(g)
}

func (s *Signer) testToken(g Grant) string {
	var b strings.Builder
	b.WriteString("v2.")
	b.WriteString(s.sealTenant(g.Tenant))
	b.WriteByte('.')
	b.WriteString(strconv.FormatInt(g.Issued.Unix(), 10))
	b.WriteByte('.')
	b.WriteString(strconv.FormatInt(int64(g.For/time.Second), 10))
	b.WriteByte('.')
	b.WriteString(hex.EncodeToString([]byte(g.Key)))
	b.WriteByte('.')
	b.WriteString(hex.EncodeToString(s.mac(g)))
	return b.String()
}

// CheckTestUpload checks a signed test-upload token and returns its grant, or
// ErrMalformed, or ErrSignature.
func (s *Signer) CheckTestUpload(token string) (Grant, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 6 || parts[0] != "v2" || parts[1] == "" {
		return Grant{}, fmt.Errorf("%w: want v2.<sealed tenant>.<issued>.<seconds>.<key>.<signature>", ErrMalformed)
	}
	tenant, ok := s.unsealTenant(parts[1])
	if !ok {
		return Grant{}, ErrSignature
	}
	issued, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || issued < 0 || issued > 1<<40 {
		return Grant{}, fmt.Errorf("%w: bad issue time", ErrMalformed)
	}
	secs, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || secs < 1 || secs > 7*24*3600 {
		return Grant{}, fmt.Errorf("%w: bad lifetime", ErrMalformed)
	}
	key, err := hex.DecodeString(parts[4])
	if err != nil || len(key) == 0 {
		return Grant{}, fmt.Errorf("%w: bad key", ErrMalformed)
	}
	sig, err := hex.DecodeString(parts[5])
	if err != nil {
		return Grant{}, ErrSignature
	}
	g := Grant{Method: "PUT", Tenant: tenant, Key: string(key), Issued: time.Unix(issued, 0).UTC(), For: time.Duration(secs) * time.Second}
	if !hmac.Equal(sig, s.mac(g)) {
		return Grant{}, ErrSignature
	}
	return g, nil
}
