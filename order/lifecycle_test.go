package order_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/morimock/morimock/order"
)

// The tables below are written from the API's docs (status meanings, the order
// lifecycle, the aiDetection options), one row per status, not from the functions.

func TestCanMove(t *testing.T) {
	// Every legal step; every other pair of statuses, staying put included, is not.
	legal := map[[2]order.Status]bool{
		{order.Pending, order.InProgress}:  true,
		{order.InProgress, order.Complete}: true,
		{order.InProgress, order.Failed}:   true,
		{order.Pending, order.Expired}:     true,
		{order.InProgress, order.Expired}:  true,
		{order.Complete, order.Expired}:    true,
		{order.Failed, order.Expired}:      true,
	}
	for _, from := range order.Statuses() {
		for _, to := range order.Statuses() {
			if got, want := order.CanMove(from, to), legal[[2]order.Status{from, to}]; got != want {
				t.Errorf("CanMove(%s, %s) = %v; want %v", from, to, got, want)
			}
		}
	}
	if order.CanMove("", order.Pending) || order.CanMove(order.Pending, "detected") {
		t.Errorf("CanMove allows a move to or from a status that does not exist")
	}
}

// TestCanMoveNeverBackwards walks every path the relation allows and checks that no
// status is visited twice, so no sequence of legal moves returns anywhere.
func TestCanMoveNeverBackwards(t *testing.T) {
	var walk func(path []order.Status)
	walk = func(path []order.Status) {
		last := path[len(path)-1]
		for _, next := range order.Statuses() {
			if !order.CanMove(last, next) {
				continue
			}
			for _, seen := range path {
				if seen == next {
					t.Fatalf("CanMove allows the cycle %v -> %s", path, next)
				}
			}
			walk(append(append([]order.Status(nil), path...), next))
		}
	}
	walk([]order.Status{order.Pending})
}

func TestExpiresAt(t *testing.T) {
	created := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	if got, want := order.ExpiresAt(created), time.Date(2026, 3, 8, 9, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("ExpiresAt(%v) = %v; want %v", created, got, want)
	}
}

func TestStatusRules(t *testing.T) {
	type row struct{ uploaded, urlsNull, hasErrors, settled bool }
	want := map[order.Status]row{
		order.Pending:    {uploaded: false, urlsNull: true, hasErrors: false, settled: false},
		order.InProgress: {uploaded: true, urlsNull: false, hasErrors: false, settled: false},
		order.Complete:   {uploaded: true, urlsNull: false, hasErrors: false, settled: true},
		order.Failed:     {uploaded: true, urlsNull: false, hasErrors: true, settled: false},
		order.Expired:    {uploaded: true, urlsNull: true, hasErrors: false, settled: false},
	}
	for _, st := range order.Statuses() {
		got := row{order.Uploaded(st), order.URLsNull(st), order.HasErrors(st), order.Settled(st)}
		if diff := cmp.Diff(want[st], got, cmp.AllowUnexported(row{})); diff != "" {
			t.Errorf("rules for %s mismatch (-want +got):\n%s", st, diff)
		}
	}
}

func TestHasResult(t *testing.T) {
	// Only the two types with a result carry it, once complete and after expiring.
	withResult := map[order.Status]bool{order.Complete: true, order.Expired: true}
	for _, typ := range order.Types() {
		for _, st := range order.Statuses() {
			want := (typ == order.WatermarkExtract || typ == order.AIDetection) && withResult[st]
			if got := order.HasResult(typ, st); got != want {
				t.Errorf("HasResult(%s, %s) = %v; want %v", typ, st, got, want)
			}
		}
	}
}

func TestStatusCodes(t *testing.T) {
	tests := map[order.Type][]order.StatusCode{
		order.AntiAI:           nil,
		order.WatermarkEmbed:   nil,
		order.WatermarkExtract: {"detected", "undetected"},
		order.AIDetection:      {"likely_real", "uncertain_real", "uncertain_ai", "likely_ai"},
	}
	for typ, want := range tests {
		if diff := cmp.Diff(want, order.StatusCodes(typ)); diff != "" {
			t.Errorf("StatusCodes(%s) mismatch (-want +got):\n%s", typ, diff)
		}
	}
	if !order.WatermarkTextSet(order.Detected) || order.WatermarkTextSet(order.Undetected) {
		t.Errorf("WatermarkTextSet: want true for detected only")
	}
}

func TestOutputSet(t *testing.T) {
	all := order.Options{GenerateHeatmap: true, GenerateOverlay: true, GenerateThumbnail: true}
	tests := []struct {
		field  string
		st     order.Status
		opts   order.Options
		wantIt bool
	}{
		{order.FieldThumbnailImageURL, order.Pending, all, false},
		{order.FieldThumbnailImageURL, order.InProgress, all, true},
		{order.FieldThumbnailImageURL, order.Complete, all, true},
		{order.FieldThumbnailImageURL, order.Failed, all, true},
		{order.FieldThumbnailImageURL, order.Expired, all, false},
		{order.FieldThumbnailImageURL, order.Complete, order.Options{GenerateHeatmap: true, GenerateOverlay: true}, false},
		{order.FieldHeatmapURL, order.InProgress, all, false},
		{order.FieldHeatmapURL, order.Complete, all, true},
		{order.FieldHeatmapURL, order.Failed, all, false},
		{order.FieldHeatmapURL, order.Expired, all, false},
		{order.FieldHeatmapURL, order.Complete, order.Options{GenerateOverlay: true, GenerateThumbnail: true}, false},
		{order.FieldOverlayURL, order.Complete, all, true},
		{order.FieldOverlayURL, order.Failed, all, false},
		{order.FieldOverlayURL, order.Complete, order.Options{GenerateHeatmap: true, GenerateThumbnail: true}, false},
		{order.FieldOriginalImageURL, order.Complete, all, false},
		{"nope", order.Complete, all, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s/%+v", tt.field, tt.st, tt.opts), func(t *testing.T) {
			if got := order.OutputSet(tt.field, tt.st, tt.opts); got != tt.wantIt {
				t.Errorf("OutputSet(%q, %s, %+v) = %v; want %v", tt.field, tt.st, tt.opts, got, tt.wantIt)
			}
		})
	}
}

func TestSingleFile(t *testing.T) {
	want := map[order.Type]bool{order.AntiAI: false, order.WatermarkEmbed: false, order.WatermarkExtract: true, order.AIDetection: true}
	for typ, w := range want {
		if got := order.SingleFile(typ); got != w {
			t.Errorf("SingleFile(%s) = %v; want %v", typ, got, w)
		}
	}
}

// TestConfirmOf is the vendor's confirm rules (errors page, confirm operations): a
// wrong type first, then an order confirmed already (the same key answers again,
// another is refused), then one no longer pending, then one with a file missing.
func TestConfirmOf(t *testing.T) {
	created := time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)
	up := created.Add(time.Minute)
	conf := created.Add(2 * time.Minute)
	pending := func() *order.Record {
		return &order.Record{ID: "1", Type: order.AntiAI, CreatedAt: created, ProcessFor: time.Minute,
			Files: []order.File{{ID: 1, UploadedAt: &up}, {ID: 2, UploadedAt: &up}}}
	}
	confirmed := func() *order.Record {
		r := pending()
		r.ConfirmedAt, r.StartedAt, r.ConfirmKey = &conf, &conf, "k1"
		return r
	}
	missing := pending()
	missing.Files[1].UploadedAt = nil
	tests := []struct {
		name string
		rec  *order.Record
		t    order.Type
		key  string
		now  time.Time
		want order.Confirm
	}{
		{"pending, every file uploaded", pending(), order.AntiAI, "k1", conf, order.ConfirmStarts},
		{"another type's confirm", pending(), order.AIDetection, "k1", conf, order.ConfirmWrongType},
		{"a file not uploaded", missing, order.AntiAI, "k1", conf, order.ConfirmFilesMissing},
		{"the same confirm again", confirmed(), order.AntiAI, "k1", conf.Add(time.Second), order.ConfirmRepeat},
		{"the same confirm after completing", confirmed(), order.AntiAI, "k1", conf.Add(time.Hour), order.ConfirmRepeat},
		{"another key after confirm", confirmed(), order.AntiAI, "k2", conf.Add(time.Second), order.ConfirmAlreadyConfirmed},
		{"wrong type beats confirmed", confirmed(), order.AIDetection, "k1", conf, order.ConfirmWrongType},
		{"expired, never confirmed", pending(), order.AntiAI, "k1", order.ExpiresAt(created).Add(time.Second), order.ConfirmNotPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := order.ConfirmOf(tt.rec, tt.t, tt.key, tt.now); got != tt.want {
				t.Errorf("ConfirmOf() = %d; want %d", got, tt.want)
			}
		})
	}
}
