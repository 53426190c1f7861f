package activities

import (
	"context"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
)

// batchHeartbeat is GenerateBatch's heartbeat detail: the checkpoint and the
// partial shard holding its records, so a retry on any worker (sharing the
// home) resumes instead of asking the teacher again.
type batchHeartbeat struct {
	Checkpoint generator.Checkpoint `json:"checkpoint"`
	// Partial is the Parquet file with the checkpoint's records.
	Partial string `json:"partial"`
	// Records is how many records Partial must hold.
	Records int `json:"records"`
}

// batchBeat heartbeats on a ticker (so a dead worker is noticed within the
// heartbeat timeout even while a model is slow to answer) and saves a
// checkpoint at most every `every`.
type batchBeat struct {
	ctx     context.Context
	partial string
	every   time.Duration

	mu      sync.Mutex
	details *batchHeartbeat
	saved   time.Time
}

// resume returns the checkpoint of an earlier attempt of this activity, or
// nil to start from scratch (none, or its partial shard is unreadable).
func (b *batchBeat) resume() *generator.Checkpoint {
	if !activity.HasHeartbeatDetails(b.ctx) {
		return nil
	}
	var hb batchHeartbeat
	if err := activity.GetHeartbeatDetails(b.ctx, &hb); err != nil || hb.Partial == "" {
		return nil
	}
	recs, err := datasets.ReadShard(hb.Partial)
	if err != nil || len(recs) < hb.Records {
		activity.GetLogger(b.ctx).Warn("batch checkpoint unusable, starting over", "partial", hb.Partial, "error", err)
		return nil
	}
	// The SDK throttles heartbeats, so the partial file may have been saved
	// again after the detail the server kept; records only ever append, so
	// the detail's prefix of the file is exactly its checkpoint.
	cp := hb.Checkpoint
	cp.Records = recs[:hb.Records]
	b.details = &hb
	return &cp
}

// update is the runner's checkpoint callback: it saves the records and the
// heartbeat detail when the last save is older than `every`.
func (b *batchBeat) update(cp generator.Checkpoint) {
	if time.Since(b.saved) < b.every {
		return
	}
	b.saved = time.Now()
	if err := datasets.WriteShard(b.partial, cp.Records); err != nil {
		activity.GetLogger(b.ctx).Warn("save batch checkpoint", "partial", b.partial, "error", err)
		return
	}
	hb := &batchHeartbeat{Partial: b.partial, Records: len(cp.Records)}
	hb.Checkpoint.Done = append([]generator.ItemResult(nil), cp.Done...)
	if cp.Current != nil {
		cur := *cp.Current
		hb.Checkpoint.Current = &cur
	}
	hb.Checkpoint.Stats = cp.Stats.Clone()
	b.mu.Lock()
	b.details = hb
	b.mu.Unlock()
	activity.RecordHeartbeat(b.ctx, *hb)
}

// start heartbeats the latest detail every interval until stopped.
func (b *batchBeat) start(interval time.Duration) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-b.ctx.Done():
				return
			case <-t.C:
				b.mu.Lock()
				d := b.details
				b.mu.Unlock()
				if d != nil {
					activity.RecordHeartbeat(b.ctx, *d)
				} else {
					activity.RecordHeartbeat(b.ctx)
				}
			}
		}
	}()
	return func() { close(done) }
}
