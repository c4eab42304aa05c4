package order

import "time"

// Transition is one change of an order's status: from At on, the order is in Status.
type Transition struct {
	Status Status
	At     time.Time
}

// life returns the order's whole life, whatever the clock says: the status it was
// created in (at CreatedAt), then each change, in time order, ending with expired.
// Two transitions may share an instant (a zero ProcessFor starts and ends the work at
// once); the later one in the list wins. An order that expires before its work ends
// goes straight to expired. A fixed array: list pages compute this for every order.
func (r *Record) life() ([4]Transition, int) {
	var t [4]Transition
	n := 0
	add := func(s Status, at time.Time) { t[n] = Transition{s, at}; n++ }
	expires := r.CreatedAt.Add(ExpiresAfter)
	started := r.StartedAt != nil && r.StartedAt.Before(expires)
	start := r.CreatedAt
	if started && !r.StartedAt.After(r.CreatedAt) {
		add(InProgress, r.CreatedAt)
	} else {
		add(Pending, r.CreatedAt)
		if started {
			start = *r.StartedAt
			add(InProgress, start)
		}
	}
	if end, ok := r.workEnds(start); started && ok && end.Before(expires) {
		add(r.endStatus(), end)
	}
	add(Expired, expires)
	return t, n
}

// workEnds returns when the work that started at start ends: ProcessFor later, or
// when the outputs were stored if that is later; false while outputs are awaited.
func (r *Record) workEnds(start time.Time) (time.Time, bool) {
	end := start.Add(max(r.ProcessFor, 0))
	if !r.AwaitsOutputs {
		return end, true
	}
	if r.OutputsAt == nil {
		return time.Time{}, false
	}
	if r.OutputsAt.After(end) {
		end = *r.OutputsAt
	}
	return end, true
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
	all, total := r.life()
	n := 1
	for n < total && !all[n].At.After(now) {
		n++
	}
	return append([]Transition(nil), all[:n]...)
}

// StatusAt returns the order's status at now: pending until it starts, inProgress for
// ProcessFor after StartedAt (and, when it AwaitsOutputs, until OutputsAt), then
// complete or failed as Outcome says, and expired
// from CreatedAt + ExpiresAfter on, whatever it was doing.
func (r *Record) StatusAt(now time.Time) Status {
	return r.lastAt(now).Status
}

// lastAt is the last transition at or before now (the creation when now is before it).
func (r *Record) lastAt(now time.Time) Transition {
	all, total := r.life()
	n := 1
	for n < total && !all[n].At.After(now) {
		n++
	}
	return all[n-1]
}

// NextChange returns the instant of the order's next transition after now, and false
// when it will not change again (it has expired).
func (r *Record) NextChange(now time.Time) (time.Time, bool) {
	// The first entry is the creation, which a clock set before it already sees.
	all, n := r.life()
	for _, t := range all[1:n] {
		if t.At.After(now) {
			return t.At, true
		}
	}
	return time.Time{}, false
}

// UpdatedAt returns the instant of the order's last change by now: its last
// transition, confirmation or upload, never before CreatedAt.
func (r *Record) UpdatedAt(now time.Time) time.Time {
	last := r.lastAt(now).At
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
