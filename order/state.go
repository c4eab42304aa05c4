package order

import "time"

// Transition is one change of an order's status: from At on, the order is in Status.
type Transition struct {
	Status Status
	At     time.Time
}

// life returns the order's whole life, whatever the clock says: the status it
// was created in (at CreatedAt), then each change, in time order, ending with
// expired. Two transitions may share an instant (a zero ProcessFor starts and ends
// the work at once); the later one in the list wins. An order that expires before its
// work ends goes straight to expired.
func (r *Record) life() []Transition {
	expires := r.CreatedAt.Add(ExpiresAfter)
	t := make([]Transition, 0, 4)
	started := r.StartedAt != nil && r.StartedAt.Before(expires)
	if started && !r.StartedAt.After(r.CreatedAt) {
		t = append(t, Transition{InProgress, r.CreatedAt})
	} else {
		t = append(t, Transition{Pending, r.CreatedAt})
		if started {
			t = append(t, Transition{InProgress, *r.StartedAt})
		}
	}
	if started {
		start := t[len(t)-1].At
		if end := start.Add(max(r.ProcessFor, 0)); end.Before(expires) {
			t = append(t, Transition{r.endStatus(), end})
		}
	}
	return append(t, Transition{Expired, expires})
}

func (r *Record) endStatus() Status {
	if r.Outcome.Fail {
		return Failed
	}
	return Complete
}

// Transitions returns the transitions that have happened by now (at or before it),
// oldest first; the first is the status the order was created in, at CreatedAt. A
// clock set before CreatedAt reads the order as it was created.
func (r *Record) Transitions(now time.Time) []Transition {
	all := r.life()
	n := 1
	for n < len(all) && !all[n].At.After(now) {
		n++
	}
	return all[:n]
}

// StatusAt returns the order's status at now: pending until it starts, inProgress for
// ProcessFor after StartedAt, then complete or failed as Outcome says, and expired
// from CreatedAt + ExpiresAfter on, whatever it was doing.
func (r *Record) StatusAt(now time.Time) Status {
	t := r.Transitions(now)
	return t[len(t)-1].Status
}

// NextChange returns the instant of the order's next transition after now, and false
// when it will not change again (it has expired).
func (r *Record) NextChange(now time.Time) (time.Time, bool) {
	// The first entry is the creation, which a clock set before it already sees.
	for _, t := range r.life()[1:] {
		if t.At.After(now) {
			return t.At, true
		}
	}
	return time.Time{}, false
}

// UpdatedAt returns the instant of the order's last change by now: its last
// transition, confirmation or upload, never before CreatedAt.
func (r *Record) UpdatedAt(now time.Time) time.Time {
	t := r.Transitions(now)
	last := t[len(t)-1].At
	later := func(at *time.Time) {
		if at != nil && at.After(last) && !at.After(now) {
			last = *at
		}
	}
	later(r.ConfirmedAt)
	for i := range r.Files {
		later(r.Files[i].UploadedAt)
	}
	return last
}
