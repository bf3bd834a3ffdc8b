package main

import (
	"github.com/spf13/cobra"

	"github.com/migrate-chat/migrate/plugins/pixtoome/check"
)

func init() {
	targetCheckers["pixtoome"] = func(cmd *cobra.Command, dir string) ([]string, error) {
		profile, _ := cmd.Flags().GetString("profile")
		var out []string
		for _, p := range check.Dir(cmd.Context(), dir, profile) {
			out = append(out, p.String())
		}
		return out, nil
	}
}

// profileFlagHelp documents --profile on the validate command.
const profileFlagHelp = "with --target pixtoome: the import format version to check against (gitter-final, the default, or latest)"
