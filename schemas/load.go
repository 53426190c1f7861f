package schemas

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// irrelevantFile is the one EdgeFuncCall file that is not a function domain.
const irrelevantFile = "irrelevant.json"

// catalogPrefix is prepended to paths in problems so that they read like the
// repository's schemas/catalog layout that people edit.
const catalogPrefix = "catalog/"

var (
	snakeRe    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	schemaIDRe = regexp.MustCompile(`^([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)$`)
	taxIDRe    = regexp.MustCompile(`^([a-z][a-z0-9_]*)-([0-9]+)$`)
)

// taxonomySizes are the EdgeIntent variants SLM-Bench defines.
var taxonomySizes = []int{50, 100, 200}

// LoadFS loads and validates a catalog whose root holds the directories
// edgejson/, edgeintent/ and edgefunccall/. It reports every problem of every
// file at once (see Problem), so a broken catalog can be fixed in one pass.
func LoadFS(fsys fs.FS) (*Catalog, error) {
	l := &loader{
		fsys:        fsys,
		comp:        newCompiler(),
		cat:         newCatalog(),
		funcFiles:   map[string]string{},
		schemaFiles: map[string]string{},
		sizeFiles:   map[int]string{},
	}
	l.scan()
	if err := l.ps.err(); err != nil {
		return nil, err
	}
	l.cat.index()
	sort.Strings(l.fileHashes)
	sum := sha256.Sum256([]byte(strings.Join(l.fileHashes, "\n")))
	l.cat.Hash = hex.EncodeToString(sum[:])
	return l.cat, nil
}

// loader carries the state of one LoadFS call.
type loader struct {
	fsys fs.FS
	ps   problems
	comp *jsonschema.Compiler
	cat  *Catalog
	// schemaFiles maps a schema id to the file that defined it first.
	schemaFiles map[string]string
	// funcFiles maps a function name to where it was first defined, for uniqueness across files.
	funcFiles map[string]string
	// sawIrrelevant is set once edgefunccall/irrelevant.json was read, even if broken.
	sawIrrelevant bool
	// sizeFiles maps a taxonomy size to its file: one taxonomy per size, so Taxonomy("50") is unambiguous.
	sizeFiles map[int]string
	// fileHashes are "path sha256" lines of every file read, for Catalog.Hash.
	fileHashes []string
}

// taskDirs maps each catalog directory to the loader of its files.
func (l *loader) taskDirs() map[string]func(file string, data []byte) {
	return map[string]func(string, []byte){
		string(EdgeJSON):     l.loadSchema,
		string(EdgeIntent):   l.loadTaxonomy,
		string(EdgeFuncCall): l.loadFuncFile,
	}
}

// scan walks the catalog layout, reports anything out of place and loads every file.
func (l *loader) scan() {
	entries, err := fs.ReadDir(l.fsys, ".")
	if err != nil {
		l.ps.add("catalog", "", "read catalog root: %v", err)
		return
	}
	dirs := l.taskDirs()
	found := map[string]bool{}
	for _, e := range entries {
		if _, ok := dirs[e.Name()]; ok && e.IsDir() {
			found[e.Name()] = true
			continue
		}
		l.ps.add(catalogPrefix+e.Name(), "", "unexpected %s: the catalog root holds only the directories edgejson/, edgeintent/ and edgefunccall/", entryKind(e))
	}
	for _, t := range Tasks {
		dir := string(t)
		if !found[dir] {
			l.ps.add(catalogPrefix+dir, "", "missing directory")
			continue
		}
		l.scanDir(dir, dirs[dir])
	}
	if found[string(EdgeFuncCall)] && !l.sawIrrelevant {
		l.ps.add(catalogPrefix+path.Join(string(EdgeFuncCall), irrelevantFile), "", "missing file (the irrelevant requests of EdgeFuncCall)")
	}
}

// scanDir loads the .json files of one task directory and reports anything else.
func (l *loader) scanDir(dir string, load func(file string, data []byte)) {
	entries, err := fs.ReadDir(l.fsys, dir)
	if err != nil {
		l.ps.add(catalogPrefix+dir, "", "read directory: %v", err)
		return
	}
	for _, e := range entries {
		rel := path.Join(dir, e.Name())
		file := catalogPrefix + rel
		if e.IsDir() || path.Ext(e.Name()) != ".json" || !e.Type().IsRegular() {
			l.ps.add(file, "", "unexpected %s: %s/ holds only .json catalog files, one level deep", entryKind(e), catalogPrefix+dir)
			continue
		}
		data, err := fs.ReadFile(l.fsys, rel)
		if err != nil {
			l.ps.add(file, "", "read: %v", err)
			continue
		}
		sum := sha256.Sum256(data)
		l.fileHashes = append(l.fileHashes, rel+" "+hex.EncodeToString(sum[:]))
		load(file, data)
	}
}

// entryKind names a directory entry for messages.
func entryKind(e fs.DirEntry) string {
	if e.IsDir() {
		return "directory"
	}
	return "file"
}

// stem returns a catalog file's base name without ".json".
func stem(file string) string {
	return strings.TrimSuffix(path.Base(file), ".json")
}

// requireText reports an empty (or blank) required metadata string.
func (l *loader) requireText(file, p, field, v string) {
	if strings.TrimSpace(v) == "" {
		l.ps.add(file, jkey(p, field), "%q is required and must not be empty", field)
	}
}

// requireSnake reports a required identifier that is not lower snake case.
func (l *loader) requireSnake(file, p, field, v string) bool {
	if snakeRe.MatchString(v) {
		return true
	}
	if v == "" {
		l.ps.add(file, jkey(p, field), "%q is required and must not be empty", field)
	} else {
		l.ps.add(file, jkey(p, field), "%s %q must be lower snake case (^[a-z][a-z0-9_]*$)", field, v)
	}
	return false
}

// compileInto compiles a schema and reports its compile issues under path p.
func (l *loader) compileInto(file, p, url string, doc any) *jsonschema.Schema {
	sch, issues := compile(l.comp, url, doc)
	for _, is := range issues {
		l.ps.add(file, p+is.path, "%s", is.msg)
	}
	return sch
}

// loadIrrelevant loads catalog/edgefunccall/irrelevant.json.
func (l *loader) loadIrrelevant(file string, data []byte) {
	l.sawIrrelevant = true
	doc, ok := parseJSON(&l.ps, file, data)
	var ir IrrelevantRequests
	if !ok || !decodeStrict(&l.ps, file, data, doc, &ir) {
		return
	}
	seen := map[string]int{}
	for i, r := range ir.Requests {
		p := jidx("$.requests", i)
		n := normalize(r)
		if n == "" {
			l.ps.add(file, p, "request must not be empty")
			continue
		}
		if j, dup := seen[n]; dup {
			l.ps.add(file, p, "request %q repeats $.requests[%d]", r, j)
			continue
		}
		seen[n] = i
	}
	if len(seen) < 30 {
		l.ps.add(file, "$.requests", "needs at least 30 unique requests, has %d", len(seen))
	}
	l.cat.Irrelevant = ir.Requests
}

// normalize lowercases s, collapses white space and drops trailing sentence
// punctuation, so that near-identical utterances compare equal.
func normalize(s string) string {
	s = strings.Join(strings.Fields(strings.ToLower(s)), " ")
	return strings.TrimRight(s, ".?! ")
}

// sizeOf parses a taxonomy id's size suffix; ok is false for sizes SLM-Bench does not define.
func sizeOf(id string) (domain string, size int, ok bool) {
	m := taxIDRe.FindStringSubmatch(id)
	if m == nil {
		return "", 0, false
	}
	n, err := strconv.Atoi(m[2])
	if err != nil {
		return m[1], 0, false
	}
	i := sort.SearchInts(taxonomySizes, n)
	return m[1], n, i < len(taxonomySizes) && taxonomySizes[i] == n
}

// schemaURL is the in-memory URL a catalog schema is compiled under.
func schemaURL(file string, parts ...string) string {
	return fmt.Sprintf("mem:///%s", path.Join(append([]string{file}, parts...)...))
}
