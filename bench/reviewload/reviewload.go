// Package reviewload drives the reviewer web UI's HTTP API the way a team of
// reviewers at full speed would: each reviewer logs in with its token, leases
// the next record (GET /q/{queue}) and decides it (POST /q/{queue}/decide)
// at once, until the queue has nothing left. It records which reviewer got
// which decision accepted and how long every request took, and checks the
// released review.parquet against that (issue 14's load test). The command
// in ./cmd runs it against a real mlmforge dev server and prints the latency
// percentiles; cmd/mlmforge's TestReviewLoad checks correctness the same way.
package reviewload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/review"
)

// Reviewer is one reviewer's login.
type Reviewer struct {
	Name  string
	Token string
}

// Config says where and how hard to load.
type Config struct {
	// BaseURL is the reviewer UI, e.g. http://127.0.0.1:8234.
	BaseURL string
	// Queue is the review queue (the dataset workflow id).
	Queue string
	// Reviewers work the queue concurrently, one goroutine each.
	Reviewers []Reviewer
	// RejectEvery makes every n-th decision of a reviewer a reject (0: none).
	RejectEvery int
	// Retries bounds the retries, 100 ms apart, of one request answered 5xx or
	// 503 (the gate moving to its next run): the retry carries the same request
	// id, so it can never record a decision twice. 0 takes defaultRetries.
	Retries int
}

// Result is what the reviewers saw.
type Result struct {
	// Accepted maps a record id to the reviewers whose decision on it was
	// answered 200: exactly one each when no reviewer got a record another
	// had decided.
	Accepted map[string][]string
	// Decide and Lease are the latencies of every successful request.
	Decide, Lease []time.Duration
	// Retried counts requests repeated after a 5xx answer.
	Retried int
	// Wall is the time from the first login to the last decision.
	Wall time.Duration
}

// Run works the queue with every reviewer at once until none gets a record.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Retries == 0 {
		cfg.Retries = defaultRetries
	}
	res := &Result{Accepted: map[string][]string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(cfg.Reviewers))
	start := time.Now()
	for i, r := range cfg.Reviewers {
		wg.Go(func() {
			errs[i] = work(ctx, cfg, r, res, &mu)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("reviewer %s: %w", r.Name, errs[i])
			}
		})
	}
	wg.Wait()
	res.Wall = time.Since(start)
	return res, errors.Join(errs...)
}

// queueListing is the part of GET / (web.QueueInfo) the load needs.
type queueListing struct {
	ID       string          `json:"id"`
	Progress review.Progress `json:"progress"`
}

// WaitQueue logs r in and waits until the UI lists queue (the dataset has
// reached its review gate) or ctx ends; it returns the queue's sample size.
func WaitQueue(ctx context.Context, base, queue string, r Reviewer) (int, error) {
	c, err := login(ctx, base, r)
	if err != nil {
		return 0, err
	}
	for {
		var qs []queueListing
		if _, err := c.do(ctx, http.MethodGet, "/", nil, &qs); err != nil {
			return 0, fmt.Errorf("list queues: %w", err)
		}
		if i := slices.IndexFunc(qs, func(q queueListing) bool { return q.ID == queue }); i >= 0 {
			return qs[i].Progress.Sampled, nil
		}
		if !sleep(ctx, 200*time.Millisecond) {
			return 0, fmt.Errorf("queue %s never reached the review gate: %w", queue, ctx.Err())
		}
	}
}

// client is one reviewer's logged-in HTTP session.
type client struct {
	http *http.Client
	base string
	csrf string
}

// work is one reviewer's loop: lease, decide, repeat.
func work(ctx context.Context, cfg Config, r Reviewer, res *Result, mu *sync.Mutex) error {
	c, err := login(ctx, cfg.BaseURL, r)
	if err != nil {
		return err
	}
	path := "/q/" + url.PathEscape(cfg.Queue)
	for n := 0; ; n++ {
		var lease struct {
			Record *datasets.Record `json:"record"`
		}
		t0 := time.Now()
		get := func() (int, error) { return c.do(ctx, http.MethodGet, path, nil, &lease) }
		code, err := c.retry(ctx, cfg.Retries, res, mu, get)
		for try := 0; code == http.StatusNotFound && try < goneTries; try++ {
			// The UI lists only queues whose status query answered: under
			// load one may miss a listing. Gone several times over: released.
			// A 5xx between two 404s is the same busy server (a CI run once
			// failed on a 500 here): it is retried like any other.
			if !sleep(ctx, 100*time.Millisecond) {
				break
			}
			code, err = c.retry(ctx, cfg.Retries, res, mu, get)
		}
		if code == http.StatusNotFound {
			return nil
		}
		if err != nil {
			return fmt.Errorf("lease: %w", err)
		}
		if lease.Record == nil { // the rest is decided or leased by the others
			return nil
		}
		leaseTook := time.Since(t0)
		d := map[string]string{"request_id": fmt.Sprintf("%s-%d", r.Name, n), "record_id": lease.Record.ID, "kind": string(review.Approve)}
		if cfg.RejectEvery > 0 && n%cfg.RejectEvery == cfg.RejectEvery-1 {
			d["kind"], d["reason"] = string(review.Reject), review.RejectReasons[0]
		}
		var out review.Outcome
		t0 = time.Now()
		if _, err := c.retry(ctx, cfg.Retries, res, mu, func() (int, error) { return c.do(ctx, http.MethodPost, path+"/decide", d, &out) }); err != nil {
			return fmt.Errorf("decide %s: %w", lease.Record.ID, err)
		}
		decideTook := time.Since(t0)
		mu.Lock()
		res.Lease = append(res.Lease, leaseTook)
		res.Decide = append(res.Decide, decideTook)
		// Request ids are unique per decision: a duplicate answer can only
		// be to a retry whose first attempt was applied, so it counts too.
		res.Accepted[lease.Record.ID] = append(res.Accepted[lease.Record.ID], r.Name)
		mu.Unlock()
	}
}

// login trades the reviewer's token for a session and its CSRF token.
func login(ctx context.Context, base string, r Reviewer) (*client, error) {
	jar, _ := cookiejar.New(nil)
	// Its own transport: the shared default keeps two idle connections per
	// host, so four reviewers would redial on every other request.
	c := &client{http: &http.Client{Jar: jar, Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 4}},
		base: strings.TrimRight(base, "/")}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/login", strings.NewReader(url.Values{"token": {r.Token}}.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	var who struct{ Reviewer, CSRF string }
	if _, err := c.send(req, &who); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	if who.Reviewer != r.Name || who.CSRF == "" {
		return nil, fmt.Errorf("login answered reviewer %q csrf %q", who.Reviewer, who.CSRF)
	}
	c.csrf = who.CSRF
	return c, nil
}

// do sends a JSON request (body nil: none) and decodes a 200 answer into out.
func (c *client) do(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	return c.send(req, out)
}

func (c *client) send(req *http.Request, out any) (int, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, bytes.TrimSpace(b))
	}
	return resp.StatusCode, json.Unmarshal(b, out)
}

// retry repeats f while it is answered 5xx (a moving or busy gate), at most
// n times, counting the repeats in res.
func (c *client) retry(ctx context.Context, n int, res *Result, mu *sync.Mutex, f func() (int, error)) (int, error) {
	for try := 0; ; try++ {
		code, err := f()
		if err == nil || code < 500 || try == n || ctx.Err() != nil {
			return code, err
		}
		mu.Lock()
		res.Retried++
		mu.Unlock()
		if !sleep(ctx, 100*time.Millisecond) {
			return code, err
		}
	}
}

// defaultRetries is 2 minutes of retries. The gate's move to its next run
// (continue-as-new) took over the old 5 s in a CI run beside other tests,
// while the embedded server's SQLite answered SQLITE_BUSY, and the load failed
// on a 503 that a real reviewer would simply have retried.
const defaultRetries = 1200

// goneTries is how many 404s in a row, 100 ms apart, tell a reviewer the queue
// is released: 30 s. A 404 also comes while the UI's status query of a live
// queue fails (the embedded server's SQLite answered SQLITE_BUSY for a minute
// in one CI run), and a reviewer that gave up after 2 s then held the lease a
// 5xx'd request had granted him: the last record stayed leased, undecided, and
// the dataset never released.
const goneTries = 300

// sleep waits d unless ctx ends first; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Verify checks the released decisions against what the reviewers saw:
// sampled records in all, each with exactly one row, by the one reviewer
// whose decision on it was accepted, and no record accepted twice.
func Verify(rows []review.DecisionRow, res *Result, sampled int) error {
	var problems []string
	for id, who := range res.Accepted {
		if len(who) != 1 {
			problems = append(problems, fmt.Sprintf("record %s accepted from %v", id, who))
		}
	}
	seen := map[string]int{}
	for _, r := range rows {
		seen[r.RecordID]++
		if who := res.Accepted[r.RecordID]; !slices.Contains(who, r.Reviewer) {
			problems = append(problems, fmt.Sprintf("review.parquet has %s deciding %s; accepted from %v", r.Reviewer, r.RecordID, who))
		}
	}
	for id, n := range seen {
		if n != 1 {
			problems = append(problems, fmt.Sprintf("record %s has %d rows", id, n))
		}
	}
	for id := range res.Accepted {
		if seen[id] == 0 {
			problems = append(problems, fmt.Sprintf("accepted decision on %s lost", id))
		}
	}
	if len(rows) != sampled || len(res.Accepted) != sampled {
		problems = append(problems, fmt.Sprintf("%d rows and %d accepted decisions, want %d each", len(rows), len(res.Accepted), sampled))
	}
	if len(problems) > 10 {
		problems = append(problems[:10], fmt.Sprintf("... %d more", len(problems)-10))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// Percentile is the p-th percentile (0 < p <= 100) of ds by nearest rank.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(len(s)-1, i))]
}
