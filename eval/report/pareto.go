package report

import (
	"cmp"
	"math"
	"slices"
)

// Point is a model on the accuracy/size plane.
type Point struct {
	// Params is the parameter count; smaller is better.
	Params float64
	// Score is the headline metric; higher is better.
	Score float64
}

// ParetoFront returns the indices of the points that no other point
// dominates, where q dominates p when q has at most p's parameters and at
// least p's score, and is strictly better in one of them. Identical points
// are all kept. Points with Params <= 0 or a NaN take no part. The indices
// are ordered by parameters, then by index.
func ParetoFront(pts []Point) []int {
	valid := func(p Point) bool { return p.Params > 0 && !math.IsNaN(p.Params) && !math.IsNaN(p.Score) }
	var front []int
	for i, p := range pts {
		if !valid(p) {
			continue
		}
		dominated := false
		for _, q := range pts {
			if valid(q) && q.Params <= p.Params && q.Score >= p.Score && (q.Params < p.Params || q.Score > p.Score) {
				dominated = true
				break
			}
		}
		if !dominated {
			front = append(front, i)
		}
	}
	slices.SortStableFunc(front, func(a, b int) int { return cmp.Compare(pts[a].Params, pts[b].Params) })
	return front
}

// taskPoints returns the jobs of a task that have a parameter count, and
// their points.
func taskPoints(jobs []Job, task string) ([]*Job, []Point) {
	var sel []*Job
	var pts []Point
	for i := range jobs {
		j := &jobs[i]
		if j.Dataset.Task == task && j.Model.Params > 0 {
			sel = append(sel, j)
			pts = append(pts, Point{Params: float64(j.Model.Params), Score: j.Headline})
		}
	}
	return sel, pts
}

// paretoKeys returns the keys of the task's jobs on its Pareto front.
func paretoKeys(jobs []Job, task string) []string {
	sel, pts := taskPoints(jobs, task)
	var keys []string
	for _, i := range ParetoFront(pts) {
		keys = append(keys, sel[i].Key)
	}
	return keys
}
