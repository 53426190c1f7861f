package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/review"
)

// chromiumEnv names the Chromium binary the browser test drives; .ci/run
// installs Debian's chromium and sets it. screenshotsEnv, if set, keeps the
// screenshots in that directory.
const (
	chromiumEnv    = "MLMFORGE_CHROMIUM"
	screenshotsEnv = "MLMFORGE_SCREENSHOTS"
)

// TestBrowserReview drives the reviewer UI in real headless Chromium: sign in,
// approve with a, reject with r and a reason, edit a record, watch the progress
// bar move, and check that a teacher's <script> shows as text.
func TestBrowserReview(t *testing.T) {
	bin := os.Getenv(chromiumEnv)
	if bin == "" {
		t.Skipf("set %s to a Chromium binary (Debian: apt-get install chromium; %s=/usr/bin/chromium) to run the browser test", chromiumEnv, chromiumEnv)
	}
	shots := os.Getenv(screenshotsEnv)
	if shots == "" {
		shots = t.TempDir()
	}
	var recs []datasets.Record
	for i, in := range []string{
		`<script>alert(1)</script> what's the weather like in Oslo right now`,
		"is it raining in Lisbon at the moment",
		"how cold is it outside in Denver now",
		"current conditions in Nairobi please",
	} {
		recs = append(recs, datasets.Record{ID: fmt.Sprintf("r%d", i), Task: "edgeintent", Split: "test", Input: in,
			Target: `{"intent":"weather_current"}`, Cell: "weather_current", Variant: "assistant-50", Intent: "weather_current"})
	}
	q := review.NewQueue(review.Config{}, recs)
	gate := NewMemoryGate(nil, func(rec datasets.Record, input string, target json.RawMessage) error {
		if len(input) < 8 {
			return errors.New("input too short")
		}
		return nil
	})
	if err := gate.Add(QueueInfo{ID: "edgeintent-v1", Task: "edgeintent", Version: "v1", Policy: "required",
		Guidelines: "## EdgeIntent\n- **Approve** clear utterances of the intent.\n- **Reject** the rest."}, q); err != nil {
		t.Fatal(err)
	}
	revs, err := review.OpenReviewers(filepath.Join(t.TempDir(), "reviewers.json"))
	if err != nil {
		t.Fatal(err)
	}
	token, err := revs.Add("alice")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewServer(Config{Gate: gate, Reviewers: revs}))
	defer srv.Close()

	// Chromium may still write its profile while exiting: a directory of our
	// own, removed best-effort, keeps t.TempDir's strict cleanup out of it.
	profile, err := os.MkdirTemp("", "mlmforge-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(profile)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(profile), chromedp.WindowSize(1200, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			// Right after a navigation the page may not be laid out yet
			// ("0 width"): retry briefly.
			var png []byte
			var err error
			for i := 0; i < 50; i++ {
				if err = chromedp.FullScreenshot(&png, 100).Do(ctx); err == nil {
					return os.WriteFile(filepath.Join(shots, name), png, 0o644)
				}
				time.Sleep(100 * time.Millisecond)
			}
			return fmt.Errorf("screenshot %s: %w", name, err)
		})
	}
	// progressAt waits for the next page's progress bar to show n decisions;
	// evaluation errors while the page navigates are retried.
	progressAt := func(n int) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			deadline := time.Now().Add(15 * time.Second)
			for {
				var v int
				err := chromedp.Evaluate(`(function(){var p=document.getElementById("progress");return p?Number(p.value):-1})()`, &v).Do(ctx)
				if err == nil && v == n {
					return nil
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("progress bar never showed %d decided (last %d, %v)", n, v, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	// until waits (retrying through navigations) for a JavaScript condition.
	until := func(what, cond string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			deadline := time.Now().Add(15 * time.Second)
			for {
				var ok bool
				err := chromedp.Evaluate(cond, &ok).Do(ctx)
				if err == nil && ok {
					return nil
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("waiting for %s: %v", what, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	// press types a key the way a keyboard does: one keyDown carrying the
	// text (so the page's preventDefault suppresses the character, as for a
	// person typing), then keyUp. The page navigating away under the key (a
	// submitted form) is the expected outcome, not an error.
	press := func(key string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			code := "Key" + strings.ToUpper(key)
			vk := int64(strings.ToUpper(key)[0])
			down := input.DispatchKeyEvent(input.KeyDown).WithKey(key).WithCode(code).WithText(key).
				WithUnmodifiedText(key).WithWindowsVirtualKeyCode(vk).WithNativeVirtualKeyCode(vk)
			if err := down.Do(ctx); err != nil && !strings.Contains(err.Error(), "navigated or closed") {
				return err
			}
			up := input.DispatchKeyEvent(input.KeyUp).WithKey(key).WithCode(code).WithWindowsVirtualKeyCode(vk).WithNativeVirtualKeyCode(vk)
			if err := up.Do(ctx); err != nil && !strings.Contains(err.Error(), "navigated or closed") &&
				!strings.Contains(err.Error(), "context") {
				return err
			}
			return nil
		})
	}
	var inputText string
	var alerted bool
	err = chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible("#token", chromedp.ByID),
		chromedp.SendKeys("#token", token+kb.Enter, chromedp.ByID),
		until("the signed-in index page", `location.pathname === "/" && document.readyState === "complete"`),
		chromedp.Navigate(srv.URL+"/q/edgeintent-v1"),
		chromedp.WaitVisible("#input", chromedp.ByID),
		progressAt(0),
		chromedp.Text("#input", &inputText, chromedp.ByID),
		chromedp.Evaluate(`window.__alerted === true`, &alerted),
		shot("1-focus.png"),
		// a approves.
		press("a"),
		progressAt(1),
		until("record r1", `document.body.innerText.includes("Record r1")`),
		shot("2-after-approve.png"),
		// r focuses the reason; pick one and submit the reject form.
		press("r"),
		until("the reason list to take the focus", `document.activeElement && document.activeElement.id === "reason"`),
		chromedp.SetValue("#reason", "unnatural_text", chromedp.ByID),
		chromedp.Submit("#reject-form", chromedp.ByID),
		progressAt(2),
		until("record r2", `document.body.innerText.includes("Record r2")`),
		shot("3-after-reject.png"),
		// e opens the edit form; correct the input and submit.
		press("e"),
		until("the edit form to open", `document.getElementById("edit-details").open && document.activeElement.id === "edit-target"`),
		chromedp.SetValue("#edit-target", `{"intent": "weather_current", "slots": {"city": "Denver"}}`, chromedp.ByID),
		shot("4-editing.png"),
		chromedp.Submit("#edit-form", chromedp.ByID),
		progressAt(3),
		shot("5-after-edit.png"),
	)
	if err != nil {
		_ = chromedp.Run(ctx, shot("failure.png"))
		t.Fatalf("browser: %v (screenshots in %s)", err, shots)
	}
	t.Logf("screenshots in %s", shots)
	if want := "<script>alert(1)</script>"; len(inputText) == 0 || !strings.Contains(inputText, want) || alerted {
		t.Errorf("teacher text not shown as text: %q (alerted %v)", inputText, alerted)
	}
	if err := gate.Snapshot("edgeintent-v1", func(q *review.Queue) {
		final := q.Final()
		got := []review.Kind{final["r0"].Kind, final["r1"].Kind, final["r2"].Kind}
		if got[0] != review.Approve || got[1] != review.Reject || got[2] != review.Edit || !strings.Contains(string(final["r2"].Target), "Denver") {
			t.Errorf("decisions %v (%+v)", got, final)
		}
	}); err != nil {
		t.Fatal(err)
	}
}
