package main

import (
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/migrate-chat/migrate/core/inspect"
	"github.com/migrate-chat/migrate/core/pipeline"
)

func (a *app) inspectCommand() *cobra.Command {
	var from string
	var top int
	cmd := &cobra.Command{
		Use:   "inspect [--from SRC] INPUT...",
		Short: "Summarise an export: counts per kind, date range, biggest rooms, most active users",
		Long: `inspect reads an export (a canonical archive by default, or any system's export
with --from) and prints what it holds: records of each kind, the date range of
the messages, the rooms by size and the users by activity.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" {
				from = pipeline.ArchiveName
			}
			if _, ok := lookupManifest(from); !ok {
				return usagef("unknown source %q; known: %s", from, knownNames(true))
			}
			prog := newProgress(a.stderr, a.log, isTerminal(a.stderr))
			ds, done, err := pipeline.Open(cmd.Context(), pipeline.Request{
				From: from, Inputs: args, Passphrase: a.pass.Get, TempDir: a.tempDir, Validate: true,
				Log: a.log, Slog: func(name string) *slog.Logger { return newSlog(a.log, name) }, Progress: prog,
			})
			defer done()
			if err != nil {
				return err
			}
			st, err := inspect.Dataset(cmd.Context(), ds, top)
			if err != nil {
				return err
			}
			return st.WriteText(a.stdout)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the input's system (default: a canonical archive)")
	cmd.Flags().IntVar(&top, "top", 10, "how many rooms and users to list")
	return cmd
}
