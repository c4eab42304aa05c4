package files

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var issued = time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)

func grant() Grant {
	return Grant{Method: "PUT", Tenant: "0123456789abcdef", Key: "temp/123456789/0/photo.jpg", Issued: issued, For: time.Hour}
}

// splitS3 turns a presigned URL back into what a request carries: the unescaped key
// and the query.
func splitS3(t *testing.T, u string) (string, url.Values) {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	key, ok := strings.CutPrefix(p.Path, FilesPath)
	if !ok {
		t.Fatalf("S3URL() = %q; want it under %s", u, FilesPath)
	}
	return key, p.Query()
}

func TestS3URLRoundTrip(t *testing.T) {
	s := NewSigner(KeyFromSeed(1))
	u := s.S3URL(grant())
	for _, p := range []string{"X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Credential=", "X-Amz-Date=20260312T100000Z", "X-Amz-Expires=3600", "X-Amz-Signature="} {
		if !strings.Contains(u, p) {
			t.Errorf("S3URL() = %q; want it to hold %s", u, p)
		}
	}
	key, q := splitS3(t, u)
	got, err := s.CheckS3("PUT", key, q)
	if err != nil {
		t.Fatalf("CheckS3(own URL) error = %v", err)
	}
	if diff := cmp.Diff(grant(), got); diff != "" {
		t.Errorf("CheckS3() mismatch (-want +got):\n%s", diff)
	}
}

func TestS3Tampered(t *testing.T) {
	s := NewSigner(KeyFromSeed(1))
	key, q := splitS3(t, s.S3URL(grant()))
	// set is the PUT of key with one parameter of its query set to v.
	set := func(p, v string) func() (string, string, url.Values) {
		return func() (string, string, url.Values) { c := clone(q); c.Set(p, v); return "PUT", key, c }
	}
	tamper := map[string]func() (string, string, url.Values){
		"method":            func() (string, string, url.Values) { return "GET", key, q },
		"key":               func() (string, string, url.Values) { return "PUT", key + "x", q },
		"expires":           set(amzExpires, "7200"),
		"date":              set(amzDate, "20260312T100001Z"),
		"signed headers":    set(amzSigned, "host;content-type"),
		"a parameter added": set("response-content-type", "text/html"),
		"signature":         set(amzSignature, strings.Repeat("0", 64)),
		"tenant": func() (string, string, url.Values) {
			c := clone(q)
			cred := c.Get(amzCredential)
			flip := "0"
			if cred[0] == '0' {
				flip = "1"
			}
			c.Set(amzCredential, flip+cred[1:])
			return "PUT", key, c
		},
	}
	for name, f := range tamper {
		t.Run(name, func(t *testing.T) {
			m, k, qq := f()
			if _, err := s.CheckS3(m, k, qq); !errors.Is(err, ErrSignature) {
				t.Errorf("CheckS3(tampered %s) error = %v; want ErrSignature", name, err)
			}
		})
	}
	other := NewSigner(KeyFromSeed(2))
	if _, err := other.CheckS3("PUT", key, q); !errors.Is(err, ErrSignature) {
		t.Errorf("CheckS3 with another key error = %v; want ErrSignature", err)
	}
}

func TestS3Malformed(t *testing.T) {
	s := NewSigner(KeyFromSeed(1))
	key, q := splitS3(t, s.S3URL(grant()))
	for _, p := range []string{amzAlgorithm, amzCredential, amzDate, amzExpires, amzSigned, amzSignature} {
		c := clone(q)
		c.Del(p)
		if _, err := s.CheckS3("PUT", key, c); !errors.Is(err, ErrMalformed) {
			t.Errorf("CheckS3(without %s) error = %v; want ErrMalformed", p, err)
		}
	}
}

func TestTestUploadRoundTrip(t *testing.T) {
	s := NewSigner(KeyFromSeed(1))
	u := s.TestUploadURL(grant())
	tok, ok := strings.CutPrefix(u, TestUploadsPath)
	if !ok {
		t.Fatalf("TestUploadURL() = %q; want it under %s", u, TestUploadsPath)
	}
	got, err := s.CheckTestUpload(tok)
	if err != nil {
		t.Fatalf("CheckTestUpload(own token) error = %v", err)
	}
	if diff := cmp.Diff(grant(), got); diff != "" {
		t.Errorf("CheckTestUpload() mismatch (-want +got):\n%s", diff)
	}
	bad := tok[:len(tok)-1] + "0"
	if bad == tok {
		bad = tok[:len(tok)-1] + "1"
	}
	if _, err := s.CheckTestUpload(bad); !errors.Is(err, ErrSignature) {
		t.Errorf("CheckTestUpload(tampered) error = %v; want ErrSignature", err)
	}
	if _, err := s.CheckTestUpload("nonsense"); !errors.Is(err, ErrMalformed) {
		t.Errorf("CheckTestUpload(nonsense) error = %v; want ErrMalformed", err)
	}
}

func TestExpired(t *testing.T) {
	g := grant()
	for _, tc := range []struct {
		at   time.Duration
		want bool
	}{{0, false}, {time.Hour - time.Second, false}, {time.Hour, true}, {2 * time.Hour, true}} {
		if got := g.Expired(issued.Add(tc.at)); got != tc.want {
			t.Errorf("Expired(issued+%s) = %v; want %v", tc.at, got, tc.want)
		}
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(k1, k2); diff != "" {
		t.Errorf("LoadOrCreateKey() twice mismatch (-want +got):\n%s", diff)
	}
}

func clone(q url.Values) url.Values {
	c := url.Values{}
	for k, v := range q {
		c[k] = append([]string(nil), v...)
	}
	return c
}

// FuzzCheck feeds the URL and token parsers anything: they answer a grant or an error,
// never a crash, and a grant only for what this signer signed.
func FuzzCheck(f *testing.F) {
	s := NewSigner(KeyFromSeed(1))
	u := s.S3URL(grant())
	f.Add(u)
	f.Add(s.TestUploadURL(grant()))
	f.Add("v2.a.1.1.00.00")
	f.Add(FilesPath + "x?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=-1")
	f.Fuzz(func(t *testing.T, raw string) {
		if tok, ok := strings.CutPrefix(raw, TestUploadsPath); ok {
			if g, err := s.CheckTestUpload(tok); err == nil && (g.Method != "PUT" || g.Key == "" || g.Expired(g.Issued)) {
				t.Errorf("CheckTestUpload(%q) = %+v; want a PUT grant with a key and a lifetime", raw, g)
			}
			return
		}
		p, err := url.Parse(raw)
		if err != nil {
			return
		}
		key, _ := strings.CutPrefix(p.Path, FilesPath)
		q, err := url.ParseQuery(p.RawQuery)
		if err != nil {
			return
		}
		if g, err := s.CheckS3("PUT", key, q); err == nil {
			if g.Expired(g.Issued) || g.Method != "PUT" || g.Key != key {
				t.Errorf("CheckS3(%q) = %+v; a grant must be for what was asked", raw, g)
			}
		}
		s.CheckTestUpload(raw)
	})
}

// TestURLsHideTheTenant: the tenant digest is a fast hash of a bearer token, so a URL
// that carried it would let whoever holds the URL guess a weak token offline. Every
// URL carries it sealed under the signing key instead; a signer with the same key (a
// restart with --state-dir, another replica on Redis) reads it back, another refuses.
func TestURLsHideTheTenant(t *testing.T) {
	s := NewSigner(KeyFromSeed(1))
	g := grant()
	g.Tenant = "5e884898da28047151d0e56f8dc62927" // a 16-byte digest, as the sandbox's
	s3 := s.S3URL(g)
	g.Method = "PUT"
	test := s.TestUploadURL(g)
	for _, u := range []string{s3, test} {
		if strings.Contains(u, g.Tenant) {
			t.Errorf("URL %q carries the tenant digest %s", u, g.Tenant)
		}
	}
	same := NewSigner(KeyFromSeed(1))
	key, q := splitS3(t, s3)
	if got, err := same.CheckS3("PUT", key, q); err != nil || got.Tenant != g.Tenant {
		t.Errorf("CheckS3() by a signer with the same key = %q, %v; want tenant %q", got.Tenant, err, g.Tenant)
	}
	tok := strings.TrimPrefix(test, TestUploadsPath)
	if got, err := same.CheckTestUpload(tok); err != nil || got.Tenant != g.Tenant {
		t.Errorf("CheckTestUpload() by a signer with the same key = %q, %v; want tenant %q", got.Tenant, err, g.Tenant)
	}
	other := NewSigner(KeyFromSeed(2))
	if _, err := other.CheckS3("PUT", key, q); !errors.Is(err, ErrSignature) {
		t.Errorf("CheckS3() by another key error = %v; want ErrSignature", err)
	}
	if _, err := other.CheckTestUpload(tok); !errors.Is(err, ErrSignature) {
		t.Errorf("CheckTestUpload() by another key error = %v; want ErrSignature", err)
	}
	// One tenant, one access key: the sealed credential is the same on every URL.
	g2 := g
	g2.Key, g2.Issued = "other/1/0/b.jpg", issued.Add(time.Minute)
	_, q2 := splitS3(t, s.S3URL(g2))
	a1, _, _ := strings.Cut(q.Get(amzCredential), "/")
	a2, _, _ := strings.Cut(q2.Get(amzCredential), "/")
	if a1 != a2 {
		t.Errorf("access keys of one tenant differ: %q and %q", a1, a2)
	}
}
