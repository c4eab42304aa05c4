package order

import "time"

// Clone returns a deep copy of r: changing the copy's files, options or instants never
// changes r. Stores hand out clones so that a caller holding a Record cannot change
// what another caller reads.
func (r Record) Clone() Record {
	c := r
	c.ConfirmedAt = cloneTime(r.ConfirmedAt)
	c.StartedAt = cloneTime(r.StartedAt)
	if r.Options != nil {
		o := *r.Options
		c.Options = &o
	}
	if r.Files != nil {
		c.Files = make([]File, len(r.Files))
		for i, f := range r.Files {
			f.UploadedAt = cloneTime(f.UploadedAt)
			if f.Watermarks != nil {
				f.Watermarks = append([]string(nil), f.Watermarks...)
			}
			c.Files[i] = f
		}
	}
	return c
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}
