package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cyclecore/mlmforge/schemas"
)

func newCatalogCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "Browse the SLM-Bench task catalogs (EdgeJSON schemas, EdgeIntent taxonomies, EdgeFuncCall functions)",
	}
	cmd.AddCommand(newCatalogLsCmd(a), newCatalogShowCmd(a))
	return cmd
}

func newCatalogLsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "ls [TASK]",
		Short: "List catalog entries with counts per task, level and domain",
		Long: `ls prints the counts of every catalog and one line per entry. With TASK
(edgejson, edgeintent, edgefunccall) it lists only that task's entries.`,
		Example: `  mlmforge catalog ls
  mlmforge catalog ls edgefunccall`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var only schemas.Task
			if len(args) == 1 {
				t, err := schemas.ParseTask(args[0])
				if err != nil {
					return &usageError{err}
				}
				only = t
			}
			cat, err := schemas.Load()
			if err != nil {
				return err
			}
			printCatalog(a.out, cat, only)
			return nil
		},
	}
}

func printCatalog(out io.Writer, cat *schemas.Catalog, only schemas.Task) {
	sum := cat.Summary()
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if only == "" || only == schemas.EdgeJSON {
		fmt.Fprintf(tw, "EdgeJSON: %d schemas in %d domains (simple %d, medium %d, complex %d)\n",
			len(cat.Schemas), len(sum.SchemasByDomain), sum.SchemasByLevel[schemas.Simple],
			sum.SchemasByLevel[schemas.Medium], sum.SchemasByLevel[schemas.Complex])
		fmt.Fprintln(tw, "  ID\tLEVEL\tFIELDS\tNESTING\tTITLE")
		for _, s := range cat.Schemas {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%s\n", s.ID, s.Complexity, s.Fields, s.Nesting, s.Title)
		}
		fmt.Fprintln(tw)
	}
	if only == "" || only == schemas.EdgeIntent {
		fmt.Fprintf(tw, "EdgeIntent: %d taxonomies\n", len(cat.Taxonomies))
		fmt.Fprintln(tw, "  ID\tCLASSES\tPATTERNS\tDESCRIPTION")
		for _, t := range cat.Taxonomies {
			n := 0
			for _, c := range t.Classes {
				n += len(c.Patterns)
			}
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\n", t.ID, len(t.Classes), n, t.Description)
		}
		fmt.Fprintln(tw)
	}
	if only == "" || only == schemas.EdgeFuncCall {
		fmt.Fprintf(tw, "EdgeFuncCall: %d functions in %d domains, %d irrelevant requests\n",
			len(cat.Functions), len(cat.Domains), sum.Irrelevant)
		fmt.Fprintf(tw, "  parameter types: %s\n", formatCounts(sum.ParamTypes))
		fmt.Fprintln(tw, "  DOMAIN\tFUNCTIONS\tNAMES")
		for _, d := range cat.Domains {
			names := make([]string, len(d.Functions))
			for i, f := range d.Functions {
				names[i] = f.Name
			}
			fmt.Fprintf(tw, "  %s\t%d\t%s\n", d.Domain, len(d.Functions), strings.Join(names, " "))
		}
	}
	tw.Flush()
}

func formatCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func newCatalogShowCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Print one catalog entry in full (a schema id, a taxonomy id or size, TAXONOMY/CLASS, or a function name)",
		Example: `  mlmforge catalog show ecommerce.order_summary
  mlmforge catalog show assistant-50
  mlmforge catalog show 50/set_timer
  mlmforge catalog show lights_set_brightness`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := schemas.Load()
			if err != nil {
				return err
			}
			v, err := lookupEntry(cat, args[0])
			if err != nil {
				return err
			}
			enc := json.NewEncoder(a.out)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			return enc.Encode(v)
		},
	}
}

// lookupEntry finds an entry by id across the three catalogs.
func lookupEntry(cat *schemas.Catalog, id string) (any, error) {
	if tax, class, ok := strings.Cut(id, "/"); ok {
		t, err := cat.Taxonomy(tax)
		if err != nil {
			return nil, err
		}
		for i := range t.Classes {
			if t.Classes[i].ID == class {
				return t.Classes[i], nil
			}
		}
		return nil, fmt.Errorf("taxonomy %s has no class %q (see 'mlmforge catalog show %s')", t.ID, class, t.ID)
	}
	if s, err := cat.Schema(id); err == nil {
		return s, nil
	}
	if f, err := cat.Function(id); err == nil {
		return struct {
			Domain string `json:"domain"`
			*schemas.Function
		}{f.Domain, f}, nil
	}
	if t, err := cat.Taxonomy(id); err == nil {
		return t, nil
	}
	return nil, fmt.Errorf("no catalog entry %q: give a schema id, a taxonomy id or size, TAXONOMY/CLASS, or a function name (see 'mlmforge catalog ls')", id)
}
