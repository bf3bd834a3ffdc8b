package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/migrate-chat/migrate/core/archive"
	"github.com/migrate-chat/migrate/core/container"
)

// targetCheckers validate a target system's output directory; the files
// that know each target fill it in.
var targetCheckers = map[string]func(cmd *cobra.Command, dir string) ([]string, error){}

func (a *app) validateCommand() *cobra.Command {
	var target string
	cmd := &cobra.Command{
		Use:   "validate ARCHIVE | validate --target SYSTEM DIR",
		Short: "Check a canonical archive, or a target system's import directory",
		Long: `validate checks a canonical archive: the manifest, the SHA-256 and record
count of every file, every record against the canonical schema, and every
reference between records. With --target it checks an output directory
against the rules of that system's importer instead.

It prints every problem with its file, line and record, and exits 2 when it
finds any.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if target != "" {
				check, ok := targetCheckers[target]
				if !ok {
					return usagef("--target %s: no checker for that system (have: %s)", target, checkerNames())
				}
				problems, err := check(cmd, args[0])
				if err != nil {
					return err
				}
				return a.printProblems(args[0], problems)
			}
			u, err := container.Unwrap(cmd.Context(), args[0], container.Options{Passphrase: a.pass.Get, TempDir: a.tempDir})
			if err != nil {
				return err
			}
			defer u.Close()
			if u.Entry != "" {
				return fmt.Errorf("%s: not a canonical archive (expected a directory, .tar.gz or .tar.zst holding manifest.json)", args[0])
			}
			r, err := archive.Open(u.Dir, archive.ReadOptions{})
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			errs := r.VerifyAll(cmd.Context())
			var problems []string
			for _, e := range errs {
				problems = append(problems, e.Error())
			}
			return a.printProblems(args[0], problems)
		},
	}
	cmd.Flags().StringVar(&target, "target", "", "check DIR as an import directory of this system (e.g. pixtoome)")
	cmd.Flags().String("profile", "", profileFlagHelp)
	return cmd
}

func (a *app) printProblems(what string, problems []string) error {
	if len(problems) == 0 {
		fmt.Fprintf(a.stdout, "%s: valid\n", filepath.Clean(what))
		return nil
	}
	for _, p := range problems {
		fmt.Fprintln(a.stdout, p)
	}
	fmt.Fprintf(a.stdout, "%s: %d problem(s)\n", filepath.Clean(what), len(problems))
	return errors.New("validation failed")
}

func checkerNames() string {
	s := ""
	for n := range targetCheckers {
		if s != "" {
			s += ", "
		}
		s += n
	}
	if s == "" {
		return "none"
	}
	return s
}
