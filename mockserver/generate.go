package mockserver

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/brianvoe/gofakeit/v7"
	"github.com/morimock/morimock/order"
)

// ComboFor returns the type and status an id stands for when the client chooses
// neither: the id's last two digits modulo 20, five statuses per type in the order
// of order.Types and order.Statuses. Ids ending 00-04 are antiAi pending..expired,
// 05-09 watermarkEmbed, 10-14 watermarkExtract, 15-19 aiDetection, and so on.
func ComboFor(id string) (order.Type, order.Status) {
	n := 0
	if len(id) >= 2 {
		n = int(id[len(id)-2]-'0')*10 + int(id[len(id)-1]-'0')
	} else if len(id) == 1 {
		n = int(id[0] - '0')
	}
	n %= 20
	return order.Types()[n/5], order.Statuses()[n%5]
}

// Generate returns the order for id: a pure function of the seed, the id, the chosen
// type and status and the clock, so every replica with the same seed answers the
// same, across restarts. id must satisfy order.ValidID.
func Generate(seed int64, id string, t order.Type, st order.Status, now time.Time) order.Order {
	f := newFaker(seed, id, t, st)
	g := generator{f: f, id: id, now: now.UTC()}
	return g.order(t, st)
}

// newFaker seeds a faker from everything the order depends on but the clock. It is
// never shared, so it needs no lock.
func newFaker(seed int64, id string, t order.Type, st order.Status) *gofakeit.Faker {
	h := fnv.New128a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write([]byte(t))
	h.Write([]byte{0})
	h.Write([]byte(st))
	sum := h.Sum(nil)
	return gofakeit.NewFaker(rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:])), false)
}

type generator struct {
	f   *gofakeit.Faker
	id  string
	now time.Time
}

const s3Host = "https://bizmori-prod.s3.ap-northeast-2.amazonaws.com/"

func (g *generator) order(t order.Type, st order.Status) order.Order {
	f := g.f
	o := order.Order{
		OrderID:   g.id,
		Type:      t,
		Status:    st,
		Channel:   order.ChannelAPI,
		FileCount: 1,
	}
	if f.IntRange(1, 10) <= 3 {
		o.Channel = order.ChannelWeb
	}
	// Timestamps hang off the current hour, so an order stays the same for an hour
	// of a running clock and forever under a frozen one.
	base := g.now.Truncate(time.Hour)
	if st == order.Expired {
		o.CreatedAt = base.Add(-order.ExpiresAfter - time.Duration(f.IntRange(1, 60*24*30))*time.Minute)
	} else {
		o.CreatedAt = base.Add(-time.Duration(f.IntRange(0, 6*24*60))*time.Minute - time.Duration(f.IntRange(0, 59999))*time.Millisecond)
	}
	o.CreatedAt = o.CreatedAt.Truncate(time.Millisecond)
	o.UpdatedAt = o.CreatedAt
	switch st {
	case order.InProgress:
		o.UpdatedAt = o.CreatedAt.Add(time.Duration(f.IntRange(200, 20000)) * time.Millisecond)
	case order.Complete, order.Failed:
		o.UpdatedAt = o.CreatedAt.Add(time.Duration(f.IntRange(2000, 600000)) * time.Millisecond)
	case order.Expired:
		o.UpdatedAt = order.ExpiresAt(o.CreatedAt).Add(time.Duration(f.IntRange(0, 3599999)) * time.Millisecond)
	}
	if o.UpdatedAt.After(g.now) {
		o.UpdatedAt = g.now.Truncate(time.Millisecond)
	}
	o.OrderName = g.orderName(t, o.CreatedAt)

	// What each field holds in st is order's rule (order/lifecycle.go); this only
	// draws the values. The draws keep their order, so a seed gives the same body.
	input := !order.URLsNull(st)
	if order.HasErrors(st) {
		o.Errors = ptr(g.failure(t))
	}
	if !order.SingleFile(t) {
		o.FileCount = g.fileCount(maxFiles(t))
	}
	switch t {
	case order.AntiAI:
		if input {
			o.ThumbnailImageURL = ptr(g.url(0, "anti-ai/", g.id, "/thumbnails/1/", g.fileName()))
		}
	case order.WatermarkEmbed:
		n := f.IntRange(1, 3)
		for i := 0; i < n; i++ {
			o.Watermarks = append(o.Watermarks, g.watermark(i))
		}
		if input {
			o.ThumbnailImageURL = ptr(g.url(0, "wtr-embed/", g.id, "/thumbnails/1/", g.fileName()))
		}
	case order.WatermarkExtract:
		if input {
			o.ThumbnailImageURL = ptr(g.url(0, "wtr-extract/", g.id, "/thumbnails/1/", g.fileName()))
		}
		if order.HasResult(t, st) {
			code := order.Undetected
			if f.IntRange(1, 10) <= 6 {
				code = order.Detected
			}
			if order.WatermarkTextSet(code) {
				o.WatermarkText = ptr(g.watermark(f.IntRange(0, 3)))
			}
			o.StatusCode = &code
		}
	case order.AIDetection:
		opts := order.Options{GenerateHeatmap: f.Bool(), GenerateOverlay: f.Bool(), GenerateThumbnail: f.Bool()}
		o.Options = &opts
		file := g.fileName()
		if input {
			o.OriginalImageURL = ptr(g.url(1, "ai-detection/", g.id, "/1/", file))
		}
		if order.OutputSet(order.FieldThumbnailImageURL, st, opts) {
			o.ThumbnailImageURL = ptr(g.url(2, "ai-detection/", g.id, "/1/thumbnail.jpg"))
		}
		if order.HasResult(t, st) {
			p := g.probability()
			code := order.StatusCodeFor(p)
			o.Probability, o.StatusCode = &p, &code
		}
		if order.OutputSet(order.FieldHeatmapURL, st, opts) {
			o.HeatmapURL = ptr(g.url(3, "ai-detection/", g.id, "/1/heatmap.png"))
		}
		if order.OutputSet(order.FieldOverlayURL, st, opts) {
			o.OverlayURL = ptr(g.url(4, "ai-detection/", g.id, "/1/overlay.png"))
		}
	}
	return o
}

func ptr[T any](v T) *T { return &v }

// maxFiles bounds the generated fileCount of the multi-file types (a generator
// choice, not a rule of the API).
func maxFiles(t order.Type) int {
	if t == order.AntiAI {
		return 100
	}
	return 10
}

func (g *generator) fileCount(limit int) int {
	// Most orders hold a handful of files; a few are large batches.
	if g.f.IntRange(1, 10) == 1 {
		return g.f.IntRange(1, limit)
	}
	return g.f.IntRange(1, min(limit, 5))
}

// orderName follows the docs' auto-generated names, with a client's own name now and then
// (antiAi and aiDetection accept one).
func (g *generator) orderName(t order.Type, created time.Time) string {
	f := g.f
	if (t == order.AntiAI || t == order.AIDetection) && f.IntRange(1, 10) <= 2 {
		name := strings.ToLower(f.Adjective() + "-" + f.Noun() + "-" + f.DigitN(3))
		return strings.ReplaceAll(name, " ", "-")
	}
	var buf [40]byte
	if t == order.WatermarkEmbed && !f.Bool() {
		// The docs show embed names with a date too, as the other types have.
		return string(created.AppendFormat(append(buf[:0], "wtr_embed_"...), "2006-01-02"))
	}
	return string(order.AppendDefaultName(buf[:0], t, created))
}

func (g *generator) fileName() string {
	f := g.f
	stems := []string{"photo", "IMG_" + f.DigitN(4), "product-" + strings.ToLower(f.Noun()), "artwork_" + f.DigitN(2), "DSC" + f.DigitN(5), "banner-" + strings.ToLower(f.Adjective())}
	return strings.ReplaceAll(f.RandomString(stems), " ", "-") + "." + f.RandomString([]string{"jpg", "jpeg", "png", "webp"})
}

// url returns an S3 presigned GET URL for the object key made of keyParts, signed at
// the current hour, valid for an hour. salt keeps the URLs of one order distinct.
func (g *generator) url(salt int, keyParts ...string) string {
	f := g.f
	signed := g.now.Truncate(time.Hour)
	b := make([]byte, 0, 512) // a URL is about 400 bytes, the key included
	b = append(b, s3Host...)
	for _, k := range keyParts {
		b = append(b, k...)
	}
	b = append(b, "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA"...)
	// An access key id's base32 tail. This draws from f exactly as
	// f.Regex("[A-Z2-7]{16}") does, one IntN(32) per character over the class in
	// sorted order, so the URLs (and the goldens) are unchanged, without parsing a
	// regular expression for every URL.
	const base32 = "234567ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for i := 0; i < 16; i++ {
		b = append(b, base32[f.IntN(len(base32))])
	}
	b = append(b, "%2F"...)
	b = signed.AppendFormat(b, "20060102")
	b = append(b, "%2Fap-northeast-2%2Fs3%2Faws4_request&X-Amz-Date="...)
	b = signed.AppendFormat(b, "20060102T150405Z")
	b = append(b, "&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature="...)
	for i := 0; i < 4; i++ {
		b = appendHex16(b, f.Uint64()^uint64(salt))
	}
	return string(b)
}

func appendHex16(dst []byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	var out [16]byte
	for i := 15; i >= 0; i-- {
		out[i] = digits[v&0xF]
		v >>= 4
	}
	return append(dst, out[:]...)
}

// watermark returns a text a person would embed: an ownership line, a tracking code
// or a licence notice.
func (g *generator) watermark(i int) string {
	f := g.f
	switch f.IntRange(0, 4) {
	case 0:
		return "MORI-WTR-" + f.Numerify("###")
	case 1:
		return "© " + g.now.Format("2006") + " " + f.Company()
	case 2:
		return strings.ToUpper(f.LetterN(4)) + "-CONFIDENTIAL-" + f.DigitN(4)
	case 3:
		return "Licensed to " + f.FirstName() + " " + f.LastName()
	default:
		return "ASSET-" + g.id[max(0, len(g.id)-6):] + "-" + string(rune('A'+i))
	}
}

// failure returns a failure message a person would believe for an order of type t: a
// failure of its processing, which starts only once its files are in (so never "not
// uploaded").
func (g *generator) failure(t order.Type) string {
	switch t {
	case order.AntiAI:
		return g.f.RandomString([]string{
			"The uploaded file could not be decoded as an image.",
			"Image resolution exceeds the 8192 x 8192 pixel limit.",
			"Processing timed out after 600 seconds.",
			"The image's color profile is not supported (16-bit CMYK).",
		})
	case order.WatermarkEmbed:
		return g.f.RandomString([]string{
			"The image is too small to hold a watermark (minimum 256 x 256 pixels).",
			"The PDF is password-protected and cannot be watermarked.",
			"The uploaded file could not be decoded.",
			"Processing timed out after 600 seconds.",
		})
	case order.WatermarkExtract:
		return g.f.RandomString([]string{
			"The uploaded file could not be decoded as an image.",
			"The original file does not match the watermarked file's dimensions.",
			"Processing timed out after 600 seconds.",
		})
	default:
		return g.f.RandomString([]string{
			"The uploaded file could not be decoded as an image.",
			"The image is too small for detection (minimum 64 x 64 pixels).",
			"The image's color profile is not supported (16-bit CMYK).",
			"Detection timed out after 120 seconds.",
		})
	}
}

// probability spreads over all four bands evenly and lands on the exact band edges
// (0, 0.25, 0.5, 0.75, 1) one time in eight.
func (g *generator) probability() float64 {
	f := g.f
	if f.IntRange(1, 8) == 1 {
		return []float64{0, order.UncertainRealFrom, order.UncertainAIFrom, order.LikelyAIFrom, 1}[f.IntRange(0, 4)]
	}
	band := float64(f.IntRange(0, 3)) * 0.25
	p := band + f.Float64Range(0, 0.25)
	digits := float64(f.IntRange(2, 4))
	scale := math.Pow(10, digits)
	p = math.Floor(p*scale) / scale // floor keeps p inside its band
	return p
}
