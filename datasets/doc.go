// Package datasets is the versioned Parquet dataset store of mlmforge.
//
// A dataset version is an immutable directory
//
//	<root>/<task>/<version>/
//	    train.parquet   one zstd-compressed Parquet file per split
//	    test.parquet
//	    manifest.json   row counts per split and quota cell, sha256 of every file, provenance
//
// where <root> is <home>/datasets, <task> one of schemas.Tasks and <version> "v1", "v2", ...
// (chosen automatically) or a name the caller picks. Every split file has the columns of
// Record; the same type serves EdgeJSON, EdgeIntent and EdgeFuncCall so that DuckDB, pyarrow
// and our own readers see one schema.
//
// Writing is atomic: a Writer streams rows into <root>/<task>/.tmp-<version>-<random>/ and
// Commit fsyncs the files and the manifest, then renames the directory into place with a
// rename that refuses to replace an existing version (RENAME_NOREPLACE on Linux). A crash
// at any point leaves either no version or a complete one; leftover .tmp-* directories are
// never listed as versions.
//
// Leftover temp directories are removed by Open when they are abandoned: each live Writer
// holds an flock on its temp directory, and Open removes a .tmp-* directory only when that
// lock is free (its writer died; the kernel drops the lock even on SIGKILL) and the
// directory is more than an hour old (the hour covers the instant between creating the
// directory and locking it). Age alone is not used, because a generation run may keep a
// Writer open for many hours. On systems without flock nothing is removed automatically.
//
// Nothing in a committed version changes afterwards, except the manifest's review field,
// which Version.SetReview replaces atomically once the review step has finished.
package datasets
