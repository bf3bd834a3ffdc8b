package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/migrate-chat/migrate/core/pipeline"
	"github.com/migrate-chat/migrate/sdk"
)

func (a *app) adaptersCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "adapters",
		Short: "List the systems migrate can read and write, with their options",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resolver, err := pluginResolver(cmd, newSlog(a.log, "plugins"))
			if err != nil {
				return err
			}
			list, err := pipeline.ListAdapters(cmd.Context(), resolver)
			if err != nil {
				a.log.Warn().Err(err).Msg("some plugins could not be listed")
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLES\tVERSION\tTRANSPORT\tFROM\tDESCRIPTION")
			for _, ad := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ad.Manifest.Name, roles(ad.Manifest), ad.Manifest.Version, ad.Transport, ad.Origin, ad.Manifest.Title)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, ad := range list {
				if len(ad.Manifest.Options) == 0 {
					continue
				}
				fmt.Fprintf(a.stdout, "\n%s options:\n", ad.Manifest.Name)
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				for _, o := range ad.Manifest.Options {
					def := ""
					if o.Default != nil {
						def = fmt.Sprintf(" (default %v)", o.Default)
					}
					role := ""
					if o.Role != "" {
						role = " [" + o.Role + "]"
					}
					fmt.Fprintf(tw, "  --%s %s\t%s%s%s\n", o.Name, o.Type, o.Description, def, role)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the full manifests as JSON")
	return cmd
}

func roles(m sdk.Manifest) string {
	var r []string
	if m.Source {
		r = append(r, "source")
	}
	if m.Target {
		r = append(r, "target")
	}
	return strings.Join(r, ",")
}
