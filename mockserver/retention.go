package mockserver

import (
	"context"
	"time"
)

// Sweep forgets, every interval until ctx ends, the orders (with their files) that are
// older than the retention window. It measures age on the server's clock: a tenant
// whose clock runs ahead sees its old orders gone at once (reads apply the window on
// the tenant's clock), and their storage is freed when the server's clock catches up.
// It returns when ctx is done.
func (s *Server) Sweep(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.sweepOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) sweepOnce(ctx context.Context) {
	if s.cfg.Store == nil && !s.sbOpen.Load() {
		return // nothing was ever stored
	}
	sb, err := s.sandbox(ctx)
	if err != nil {
		return
	}
	if n, err := sb.store.DeleteOrdersBefore(ctx, s.now().Add(-s.cfg.Retention)); err != nil {
		s.log.Warn("retention sweep failed", "err", err)
	} else if n > 0 {
		s.log.Info("retention sweep", "forgotten", n)
	}
}
