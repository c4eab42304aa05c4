package mockserver

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/morimock/morimock/order"
)

func TestParseScenario(t *testing.T) {
	tests := []struct {
		name    string
		prefer  []string
		query   string
		want    Scenario
		wantErr string
	}{
		{name: "nothing", want: Scenario{}},
		{name: "type and status", prefer: []string{"type=aiDetection, status=complete"}, want: Scenario{Type: order.AIDetection, Status: order.Complete}},
		{name: "quoted values, spaces, case of key", prefer: []string{` Type="watermarkExtract" ,STATUS=failed `}, want: Scenario{Type: order.WatermarkExtract, Status: order.Failed}},
		{name: "two headers", prefer: []string{"type=antiAi", "status=expired"}, want: Scenario{Type: order.AntiAI, Status: order.Expired}},
		{name: "code", prefer: []string{"code=404"}, want: Scenario{Code: 404}},
		{name: "code 200 with type", prefer: []string{"code=200, type=antiAi"}, want: Scenario{Code: 200, Type: order.AntiAI}},
		{name: "example", prefer: []string{"example=antiAi"}, want: Scenario{Example: "antiAi"}},
		{name: "seed", prefer: []string{"seed=-42"}, want: Scenario{Seed: -42, HasSeed: true}},
		{name: "delay duration", prefer: []string{"delay=200ms"}, want: Scenario{Delay: 200 * time.Millisecond}},
		{name: "delay milliseconds", prefer: []string{"delay=150"}, want: Scenario{Delay: 150 * time.Millisecond}},
		{name: "rfc7240 parameter ignored", prefer: []string{"status=pending; foo=bar"}, want: Scenario{Status: order.Pending}},
		{name: "query", query: "__type=watermarkEmbed&__status=inProgress&__seed=7", want: Scenario{Type: order.WatermarkEmbed, Status: order.InProgress, Seed: 7, HasSeed: true}},
		{name: "query and header agree", prefer: []string{"type=antiAi"}, query: "__type=antiAi", want: Scenario{Type: order.AntiAI}},
		{name: "other query ignored", query: "page=2", want: Scenario{}},
		{name: "return=minimal ignored", prefer: []string{"return=minimal"}, want: Scenario{}},
		{name: "registered preferences ignored", prefer: []string{"respond-async, wait=10, handling=lenient", "Return=representation; x=y, status=failed"}, want: Scenario{Status: order.Failed}},
		{name: "registered preference with an odd value", prefer: []string{"return=whatever"}, want: Scenario{}},

		{name: "unknown key", prefer: []string{"dynamic=true"}, wantErr: `unknown scenario key "dynamic" in Prefer`},
		{name: "unknown query key", query: "__color=red", wantErr: `unknown scenario key "color" in the query`},
		{name: "registered preference as a query key", query: "__return=minimal", wantErr: `unknown scenario key "return" in the query`},
		{name: "our key without a value beside a registered one", prefer: []string{"respond-async, delay"}, wantErr: `"delay" has no value`},
		{name: "no value", prefer: []string{"type"}, wantErr: `"type" has no value`},
		{name: "empty value", prefer: []string{"type="}, wantErr: `has no value`},
		{name: "bad type", prefer: []string{"type=antiAI"}, wantErr: `unknown order type "antiAI"`},
		{name: "bad status", prefer: []string{"status=detected"}, wantErr: `unknown order status "detected"`},
		{name: "bad code", prefer: []string{"code=abc"}, wantErr: `scenario code "abc" is not an HTTP status`},
		{name: "code out of range", prefer: []string{"code=1000"}, wantErr: `not an HTTP status`},
		{name: "bad seed", prefer: []string{"seed=1.5"}, wantErr: `scenario seed "1.5"`},
		{name: "bad delay", prefer: []string{"delay=soon"}, wantErr: `"soon" is not a duration`},
		{name: "delay too long", prefer: []string{"delay=1h"}, wantErr: `outside 0..30s`},
		{name: "negative delay", prefer: []string{"delay=-1s"}, wantErr: `outside`},
		{name: "conflict", prefer: []string{"type=antiAi, type=aiDetection"}, wantErr: `given twice`},
		{name: "header query conflict", prefer: []string{"status=failed"}, query: "__status=complete", wantErr: `given twice`},
		{name: "example with type", prefer: []string{"example=antiAi, type=antiAi"}, wantErr: `cannot be combined`},
		{name: "error code with status", prefer: []string{"code=404, status=complete"}, wantErr: `cannot be combined`},
		{name: "control characters are quoted", prefer: []string{"type=a\x01b"}, wantErr: `"a\x01b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseScenario(tt.prefer, q)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseScenario(%q, %q) error = %v; want it to contain %q", tt.prefer, tt.query, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseScenario(%q, %q) error = %v", tt.prefer, tt.query, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseScenario(%q, %q) mismatch (-want +got):\n%s", tt.prefer, tt.query, diff)
			}
		})
	}
}

func FuzzParseScenario(f *testing.F) {
	f.Add("type=aiDetection, status=complete", "__code=404")
	f.Add(`example="antiAi"; x=y`, "__delay=1s&__seed=9")
	f.Add("code=200,,type=antiAi", "")
	f.Add("\x00=\xff", "__=%00")
	f.Fuzz(func(t *testing.T, prefer, rawQuery string) {
		q, _ := url.ParseQuery(rawQuery)
		sc, err := ParseScenario([]string{prefer}, q)
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\r\n\x00") {
				t.Fatalf("error %q holds characters unsafe in a header", msg)
			}
			return
		}
		if sc.Delay < 0 || sc.Delay > MaxDelay {
			t.Fatalf("ParseScenario accepted delay %s", sc.Delay)
		}
		if sc.Type != "" {
			if _, err := order.ParseType(string(sc.Type)); err != nil {
				t.Fatalf("ParseScenario accepted type %q", sc.Type)
			}
		}
		if sc.Status != "" {
			if _, err := order.ParseStatus(string(sc.Status)); err != nil {
				t.Fatalf("ParseScenario accepted status %q", sc.Status)
			}
		}
	})
}
