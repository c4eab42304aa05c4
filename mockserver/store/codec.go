package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/morimock/morimock/order"
)

// The embedded store keeps records in a compact binary form rather than JSON: a list
// page filtered by status reads every order of the tenant, and decoding JSON made a
// page of a tenant with 100,000 orders take seconds. The first byte is the version;
// a change of Record gets a new version and decodeRecord keeps reading the old ones.
//
// Version 1: strings as uvarint length + bytes, integers as varints, instants as
// varint Unix seconds + uvarint nanoseconds (read back in UTC), optional instants
// behind a 0/1 byte, flags as bit sets.
// Version 2: version 1 followed by Record.ConfirmKey.
// Version 3: version 2 followed by Record.AwaitsOutputs (a 0/1 byte) and
// Record.OutputsAt (an optional instant).
// Version 4: version 3 followed by each file's Blob (a count, then the strings).
const (
	codecV1 = 1
	codecV2 = 2
	codecV3 = 3
	codecV4 = 4
)

func encodeRecord(r *order.Record) []byte {
	b := make([]byte, 0, 256)
	b = append(b, codecV4)
	b = appendString(b, r.ID)
	b = appendString(b, r.Tenant)
	b = appendString(b, string(r.Type))
	b = appendString(b, r.Name)
	b = appendString(b, string(r.Channel))
	b = appendBool(b, r.Test)
	b = appendString(b, r.IdempotencyKey)
	b = appendTime(b, r.CreatedAt)
	b = binary.AppendUvarint(b, uint64(len(r.Files)))
	for i := range r.Files {
		f := &r.Files[i]
		b = binary.AppendVarint(b, f.ID)
		b = appendString(b, f.Name)
		b = appendString(b, f.Key)
		b = appendString(b, f.Format)
		b = appendString(b, f.FileType)
		b = appendString(b, f.Role)
		b = binary.AppendVarint(b, int64(f.Sequence))
		b = appendString(b, f.SourceURL)
		b = binary.AppendUvarint(b, uint64(len(f.Watermarks)))
		for _, w := range f.Watermarks {
			b = appendString(b, w)
		}
		b = appendTimePtr(b, f.UploadedAt)
		b = binary.AppendVarint(b, f.Size)
		b = appendString(b, f.ContentType)
	}
	var opts byte
	if o := r.Options; o != nil {
		opts = 1 | bit(o.GenerateHeatmap, 2) | bit(o.GenerateOverlay, 4) | bit(o.GenerateThumbnail, 8)
	}
	b = append(b, opts)
	b = appendString(b, r.Strength)
	b = appendTimePtr(b, r.ConfirmedAt)
	b = appendTimePtr(b, r.StartedAt)
	b = binary.AppendVarint(b, int64(r.ProcessFor))
	o := &r.Outcome
	b = append(b, bit(o.Fail, 1)|bit(o.Detected, 2))
	b = appendString(b, o.ErrorCode)
	b = appendString(b, o.ErrorMessage)
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(o.Probability))
	b = appendString(b, o.WatermarkText)
	b = appendString(b, r.ConfirmKey)
	b = appendBool(b, r.AwaitsOutputs)
	b = appendTimePtr(b, r.OutputsAt)
	b = binary.AppendUvarint(b, uint64(len(r.Files)))
	for i := range r.Files {
		b = appendString(b, r.Files[i].Blob)
	}
	return b
}

func bit(v bool, mask byte) byte {
	if v {
		return mask
	}
	return 0
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte { return append(b, bit(v, 1)) }

func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

func appendTimePtr(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, 0)
	}
	return appendTime(append(b, 1), *t)
}

// decoder reads a record, remembering the first error so the code reads straight.
type decoder struct {
	b   []byte
	err error
}

var errTruncated = errors.New("truncated")

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail(errTruncated)
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errTruncated)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(errTruncated)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length that must fit in what is left (each item takes a byte at least).
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail(errTruncated)
		return 0
	}
	return int(n)
}

func (d *decoder) string() string {
	n := d.count()
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail(errors.New("bad boolean"))
	return false
}

func (d *decoder) time() time.Time {
	sec := d.varint()
	nsec := d.uvarint()
	if nsec >= 1e9 {
		d.fail(errors.New("bad nanoseconds"))
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (d *decoder) timePtr() *time.Time {
	if !d.bool() {
		return nil
	}
	t := d.time()
	return &t
}

// decodeRecord reads a record encodeRecord wrote. Anything else (another version,
// bytes missing or left over, an order without id or tenant) is an error, never a
// panic: the file may have been damaged outside the store.
func decodeRecord(data []byte) (order.Record, error) {
	r, err := decodeFields(data)
	if err == nil && (r.ID == "" || r.Tenant == "") {
		return order.Record{}, errors.New("decode record: no id or tenant")
	}
	return r, err
}

// decodeFields is decodeRecord for a record whose ID and Tenant may be kept elsewhere
// (the in-memory store's).
func decodeFields(data []byte) (order.Record, error) {
	d := &decoder{b: data}
	v := d.byte()
	if d.err == nil && (v < codecV1 || v > codecV4) {
		return order.Record{}, fmt.Errorf("decode record: unknown version %d", v)
	}
	var r order.Record
	r.ID = d.string()
	r.Tenant = d.string()
	r.Type = order.Type(d.string())
	r.Name = d.string()
	r.Channel = order.Channel(d.string())
	r.Test = d.bool()
	r.IdempotencyKey = d.string()
	r.CreatedAt = d.time()
	if n := d.count(); n > 0 {
		r.Files = make([]order.File, n)
		for i := range r.Files {
			f := &r.Files[i]
			f.ID = d.varint()
			f.Name = d.string()
			f.Key = d.string()
			f.Format = d.string()
			f.FileType = d.string()
			f.Role = d.string()
			f.Sequence = int(d.varint())
			f.SourceURL = d.string()
			if n := d.count(); n > 0 {
				f.Watermarks = make([]string, n)
				for j := range f.Watermarks {
					f.Watermarks[j] = d.string()
				}
			}
			f.UploadedAt = d.timePtr()
			f.Size = d.varint()
			f.ContentType = d.string()
		}
	}
	if opts := d.byte(); opts&1 != 0 {
		r.Options = &order.Options{GenerateHeatmap: opts&2 != 0, GenerateOverlay: opts&4 != 0, GenerateThumbnail: opts&8 != 0}
	} else if opts != 0 {
		d.fail(errors.New("bad options"))
	}
	r.Strength = d.string()
	r.ConfirmedAt = d.timePtr()
	r.StartedAt = d.timePtr()
	r.ProcessFor = time.Duration(d.varint())
	flags := d.byte()
	r.Outcome.Fail, r.Outcome.Detected = flags&1 != 0, flags&2 != 0
	if flags&^3 != 0 {
		d.fail(errors.New("bad outcome flags"))
	}
	r.Outcome.ErrorCode = d.string()
	r.Outcome.ErrorMessage = d.string()
	if len(d.b) < 8 {
		d.fail(errTruncated)
	} else {
		r.Outcome.Probability = math.Float64frombits(binary.BigEndian.Uint64(d.b))
		d.b = d.b[8:]
	}
	r.Outcome.WatermarkText = d.string()
	if v >= codecV2 {
		r.ConfirmKey = d.string()
	}
	if v >= codecV3 {
		r.AwaitsOutputs = d.bool()
		r.OutputsAt = d.timePtr()
	}
	if v >= codecV4 {
		if n := d.count(); n != len(r.Files) && d.err == nil {
			d.fail(errors.New("blob count differs from file count"))
		}
		for i := range r.Files {
			if d.err != nil {
				break
			}
			r.Files[i].Blob = d.string()
		}
	}
	switch {
	case d.err != nil:
		return order.Record{}, fmt.Errorf("decode record: %w", d.err)
	case len(d.b) > 0:
		return order.Record{}, errors.New("decode record: bytes after the record")
	}
	return r, nil
}
