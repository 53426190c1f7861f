package schemas

import (
	"embed"
	"fmt"
	"io/fs"
	"sync"
)

// catalogFS holds the catalog data files, so that the binary carries its task
// definitions and cannot drift from the code that reads them.
//
//go:embed catalog
var catalogFS embed.FS

var (
	loadOnce sync.Once
	loaded   *Catalog
	loadErr  error
)

// Load returns the embedded catalog. It is parsed and validated once per
// process (validation compiles every JSON Schema, which is not free) and the
// same read-only *Catalog is returned to every caller.
func Load() (*Catalog, error) {
	loadOnce.Do(func() { loaded, loadErr = loadEmbedded() })
	return loaded, loadErr
}

// loadEmbedded loads the embedded catalog without the cache.
func loadEmbedded() (*Catalog, error) {
	sub, err := fs.Sub(catalogFS, "catalog")
	if err != nil {
		return nil, fmt.Errorf("open embedded catalog: %w", err)
	}
	c, err := LoadFS(sub)
	if err != nil {
		return nil, fmt.Errorf("load embedded catalog: %w", err)
	}
	return c, nil
}
