package lora

import (
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/cyclecore/mlmforge/distill/model"
)

// Merge folds the adapters into their base for export and inference:
//
//	W' = W + (Alpha/R) B A      for every adapted W [out, in], B [out, R], A [R, in]
//
// Each product element is summed in float64 and added once, so the merged model
// computes the base + adapter forward pass to float32 rounding. Adapted tensors are
// new; every other tensor of the result is the base's own (shared, not copied), so
// the caller must not modify the result's untouched tensors in place if it wants to
// keep the base.
func Merge(mc model.Config, base model.Weights, c Config, adapters model.Weights) (model.Weights, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	if err := base.Check(mc); err != nil {
		return nil, fmt.Errorf("merge: base: %w", err)
	}
	if err := c.Check(mc, adapters); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	out := model.Weights{}
	for name, t := range base {
		out[name] = t
	}
	scale := c.Scale()
	for _, a := range c.Adapters(mc) {
		w := base[a.Base]
		merged := &model.Tensor{Shape: slices.Clone(w.Shape), Data: slices.Clone(w.Data)}
		addBA(merged.Data, adapters[a.B].Data, adapters[a.A].Data, a.Out, c.R, a.In, scale)
		out[a.Base] = merged
	}
	return out, nil
}

// addBA is w[o, i] += scale * sum_k b[o, k] a[k, i], rows split across the CPUs.
func addBA(w, b, a []float32, out, r, in int, scale float64) {
	workers := max(1, min(runtime.GOMAXPROCS(0), out/16))
	var wg sync.WaitGroup
	chunk := (out + workers - 1) / workers
	for lo := 0; lo < out; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			acc := make([]float64, in)
			for o := lo; o < hi; o++ {
				clear(acc)
				for k := 0; k < r; k++ {
					bk := float64(b[o*r+k])
					for i, av := range a[k*in : (k+1)*in] {
						acc[i] += bk * float64(av)
					}
				}
				row := w[o*in : (o+1)*in]
				for i := range row {
					row[i] = float32(float64(row[i]) + scale*acc[i])
				}
			}
		}(lo, min(out, lo+chunk))
	}
	wg.Wait()
}
