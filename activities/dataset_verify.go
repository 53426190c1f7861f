package activities

import "fmt"

// verifyDatasets checks the files of every dataset reference against their
// manifests (size, sha256, rows) before an activity reads them: a version
// changed or damaged on disk fails at once with an error that wraps
// datasets.ErrCorrupt and names the file, which the worker makes
// non-retryable, instead of training on it or being retried for minutes.
// Verification is cached per process (datasets.Version.VerifyCached).
func (a *Activities) verifyDatasets(refs ...string) error {
	for _, ref := range refs {
		if ref == "" {
			continue
		}
		ver, err := a.openDataset(ref)
		if err != nil {
			return err
		}
		if err := ver.VerifyCached(); err != nil {
			return fmt.Errorf("dataset %s does not match its manifest (re-generate or re-import it): %w", ref, err)
		}
	}
	return nil
}
