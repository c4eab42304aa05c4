package mockserver

import (
	"context"
	"log/slog"
	"time"

	"github.com/morimock/morimock/order"
)

// Sweep applies the passage of time to the stored orders every interval until ctx
// ends: each tenant on its own clock, the files of its orders are deleted once they
// expire (order.ExpiresAfter after createdAt) and its orders are forgotten once they
// leave the retention window, so the storage kept follows what reads show. Moving a
// tenant's clock sweeps that tenant at once (see handleClock). It returns when ctx is
// done.
func (s *Server) Sweep(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.sweepOnce(ctx, "")
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepOnce sweeps tenant, or every tenant when tenant is "".
func (s *Server) sweepOnce(ctx context.Context, tenant string) {
	if s.cfg.Store == nil && !s.sbOpen.Load() {
		return // nothing was ever stored
	}
	sb, err := s.sandbox(ctx)
	if err != nil {
		return
	}
	if n, err := sb.store.Expire(ctx, tenant, s.now(), order.ExpiresAfter, s.cfg.Retention); err != nil {
		s.log.Warn("retention sweep failed", "err", err)
	} else if n > 0 {
		// The hourly sweep of every tenant says what it forgot; a clock move's sweep of
		// its own tenant is the caller's doing (and its request is in the access log),
		// so it is a debug line: a suite whose keys each move past retention would
		// otherwise print one line per key even under --quiet.
		level := slog.LevelInfo
		if tenant != "" {
			level = slog.LevelDebug
		}
		s.log.Log(ctx, level, "retention sweep", "forgotten", n)
	}
}
