package builtin

import (
	"context"
	"errors"
	"fmt"

	"github.com/cyclecore/mlmforge/generator/softlabel"
	"github.com/cyclecore/mlmforge/schemas"
)

var _ softlabel.Labeler = (*Teacher)(nil)

// SoftLabels answers the gold label with probability 1: the builtin teacher
// writes utterances for a known class and has no opinion on other classes.
func (b *Teacher) SoftLabels(_ context.Context, req softlabel.Request) (map[string]float64, error) {
	if req.Taxonomy == nil {
		return nil, errors.New("builtin soft labels: no taxonomy")
	}
	if !hasClass(req.Taxonomy, req.Gold) {
		return nil, fmt.Errorf("builtin soft labels: gold label %q is not a class of taxonomy %s", req.Gold, req.Taxonomy.ID)
	}
	return map[string]float64{req.Gold: 1}, nil
}

// hasClass reports whether id is a class of tax.
func hasClass(tax *schemas.Taxonomy, id string) bool {
	for _, c := range tax.Classes {
		if c.ID == id {
			return true
		}
	}
	return false
}
