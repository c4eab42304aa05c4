package contract

import (
	"bytes"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/morimock/morimock/fixtures"
	"github.com/morimock/morimock/internal/spectest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenReport is a small fixed run: one order that keeps the contract, one that
// breaks a probability band, one that drifts as the watermark-extract quickstart
// does; a 404 with the spec example's code; the server's clock frozen.
func goldenReport(t *testing.T) *Report {
	t.Helper()
	broken, err := fixtures.Invalid()
	if err != nil {
		t.Fatal(err)
	}
	api := &fakeAPI{
		Orders:       map[string][]byte{validID: []byte(validAntiAI)},
		NotFoundBody: `{"code":"RESOURCE_NOT_FOUND"}`,
		Date:         "Thu, 01 Oct 2026 00:00:00 GMT",
	}
	ids := []string{validID}
	for _, b := range broken {
		if b.Name == "probability_band" || b.Name == "drift_extract_status_detected" {
			api.Orders[b.ID] = b.Body
			ids = append(ids, b.ID)
		}
	}
	rep, err := Run(t.Context(), spectest.Load(t), Config{
		BaseURL:    "http://127.0.0.1:8080",
		Token:      "sk_test_golden",
		OrderIDs:   ids,
		HTTPClient: &http.Client{Transport: handlerTransport{api}},
	})
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	return rep
}

// stoppedReport is a run that stops before it checks an order (none was given):
// its reports must not read as a pass.
func stoppedReport(t *testing.T) *Report {
	t.Helper()
	api := &fakeAPI{NotFoundBody: `{"code":"RESOURCE_NOT_FOUND"}`, Date: "Thu, 01 Oct 2026 00:00:00 GMT"}
	rep, err := Run(t.Context(), spectest.Load(t), Config{
		BaseURL:    "http://127.0.0.1:8080",
		Token:      "sk_test_golden",
		HTTPClient: &http.Client{Transport: handlerTransport{api}},
	})
	if err == nil || rep == nil || rep.Stopped == "" {
		t.Fatalf("Run() without orders = %v, %v; want a stopped report and an error", rep, err)
	}
	return rep
}

func TestGoldenReports(t *testing.T) {
	rep := goldenReport(t)
	stopped := stoppedReport(t)
	tests := []struct {
		file  string
		write func(*bytes.Buffer) error
	}{
		{"report.txt", func(b *bytes.Buffer) error { return rep.WriteText(b) }},
		{"report.json", func(b *bytes.Buffer) error { return rep.WriteJSON(b) }},
		{"report.junit.xml", func(b *bytes.Buffer) error { return rep.WriteJUnit(b) }},
		{"stopped.txt", func(b *bytes.Buffer) error { return stopped.WriteText(b) }},
		{"stopped.junit.xml", func(b *bytes.Buffer) error { return stopped.WriteJUnit(b) }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var got bytes.Buffer
			if err := tt.write(&got); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got.String()); diff != "" {
				t.Errorf("%s mismatch (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}
