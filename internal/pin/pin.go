// Package pin keeps pinned module versions in go.mod while the packages that
// use them are being written; it is removed once they import these directly.
package pin

import (
	_ "github.com/ollama/ollama/api"
	_ "github.com/parquet-go/parquet-go"
	_ "github.com/santhosh-tekuri/jsonschema/v6"
)
