package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/migrate-chat/migrate/core/container"
	"github.com/migrate-chat/migrate/core/pipeline"
	"github.com/migrate-chat/migrate/core/report"
	"github.com/migrate-chat/migrate/sdk"
)

func (a *app) exportCommand() *cobra.Command {
	c := &convertFlags{}
	cmd := &cobra.Command{
		Use:   "export --from SRC INPUT... -o ARCHIVE",
		Short: "Convert an export into a canonical archive",
		Long: `export reads a system's export and writes the canonical archive: a directory,
or one .tar.gz / .tar.zst file when the output is named so. The archive can be
checked with 'migrate validate' and imported later with 'migrate import'.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c.to = pipeline.ArchiveName
			return a.convert(cmd, c, args)
		},
	}
	c.register(cmd, true, false)
	return cmd
}

func (a *app) importCommand() *cobra.Command {
	c := &convertFlags{}
	cmd := &cobra.Command{
		Use:   "import --to DST ARCHIVE -o OUT",
		Short: "Write a canonical archive in a system's import format",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c.from = pipeline.ArchiveName
			return a.convert(cmd, c, args)
		},
	}
	c.register(cmd, false, true)
	return cmd
}

// convert runs one conversion and prints its summary.
func (a *app) convert(cmd *cobra.Command, c *convertFlags, inputs []string) error {
	if c.from == "" {
		return usagef("--from is required: which system is the input from? (see 'migrate adapters')")
	}
	if c.to == "" {
		return usagef("--to is required: which system should the output be for? (see 'migrate adapters')")
	}
	if len(inputs) == 0 {
		return usagef("no input given: name the export file or directory to convert")
	}
	if c.output == "" && !c.dryRun {
		return usagef("-o OUTPUT is required (or --dry-run to only compute the report)")
	}
	resolver, err := pluginResolver(cmd, newSlog(a.log, "plugins"))
	if err != nil {
		return err
	}
	once := &resolvedOnce{Resolver: resolver, done: map[string]*pipeline.Resolved{}}
	srcM, err := a.resolveManifest(cmd, once, c.from, true)
	if err != nil {
		return err
	}
	tgtM, err := a.resolveManifest(cmd, once, c.to, false)
	if err != nil {
		return err
	}
	defer func() {
		for _, r := range once.done {
			if r.Close != nil {
				_ = r.Close()
			}
		}
	}()
	if !srcM.Source {
		return usagef("%s can only be written, not read", c.from)
	}
	if !tgtM.Target {
		return usagef("%s can only be read, not written; targets: %s", c.to, knownNames(false))
	}
	if err := c.checkStrayOptions(srcM, tgtM); err != nil {
		return err
	}
	srcOpts, err := c.adapterOptions(srcM, "source")
	if err != nil {
		return err
	}
	tgtOpts, err := c.adapterOptions(tgtM, "target")
	if err != nil {
		return err
	}
	for _, in := range inputs {
		if _, err := os.Stat(in); err != nil {
			return usagef("input %s: %v", in, errors.Unwrap(err))
		}
	}

	outPass := a.pass.Get
	if a.outPassFile != "" {
		op := &passphraseSource{file: a.outPassFile}
		outPass = op.Get
		defer op.Wipe()
	}
	limits := container.DefaultLimits()
	if c.maxUnpacked > 0 {
		limits.MaxTotalBytes = c.maxUnpacked
	}
	if c.maxFiles > 0 {
		limits.MaxFiles = c.maxFiles
	}
	if c.maxFileBytes > 0 {
		limits.MaxFileBytes = c.maxFileBytes
	}
	if c.maxRatio > 0 {
		limits.MaxRatio = c.maxRatio
	}
	prog := newProgress(a.stderr, a.log, isTerminal(a.stderr))
	a.log.Info().Str("from", c.from).Str("to", c.to).Strs("inputs", inputs).Str("output", c.output).Msg("converting")
	res, runErr := pipeline.Run(cmd.Context(), pipeline.Request{
		From: c.from, To: c.to, Inputs: inputs, Output: c.output, Into: c.into,
		SourceOptions: srcOpts, TargetOptions: tgtOpts,
		Passphrase: a.pass.Get, OutputPassphrase: outPass, OutputKDF: c.kdf,
		Admin: c.admin, DryRun: c.dryRun, Overwrite: c.overwrite,
		Download: c.download || c.downloadAvatars, DownloadAvatars: c.downloadAvatars,
		Validate: !c.noValidate, Limits: limits, TempDir: a.tempDir,
		Log: a.log, Slog: func(name string) *slog.Logger { return newSlog(a.log, name) }, Progress: prog,
		Resolver: once,
	})
	rep := res.Report
	defer rep.Close()

	if err := a.writeReports(c, rep); err != nil {
		a.log.Error().Err(err).Msg("could not write the report")
	}
	if err := rep.WriteText(a.stdout); err != nil {
		return err
	}
	if runErr != nil {
		if errors.Is(runErr, container.ErrWrongPassphrase) {
			return runErr
		}
		return fmt.Errorf("conversion failed: %w", runErr)
	}
	if res.Output != "" {
		fmt.Fprintf(a.stdout, "\nOutput written to %s\n", res.Output)
		if len(res.NextSteps) > 0 {
			fmt.Fprintln(a.stdout, "\nNext steps:")
			for i, step := range res.NextSteps {
				fmt.Fprintf(a.stdout, "  %d. %s\n", i+1, step)
			}
		}
	}
	if code := rep.ExitCode(); code != exitOK {
		return exitError{code}
	}
	return nil
}

// writeReports writes the JSON and HTML reports beside the output (or where
// --report says), unless this is a dry run without --report.
func (a *app) writeReports(c *convertFlags, rep *report.Report) error {
	jsonPath := c.report
	if jsonPath == "" {
		if c.dryRun || c.output == "" {
			return nil
		}
		jsonPath = strings.TrimSuffix(c.output, string(filepath.Separator)) + ".report.json"
	}
	htmlPath := strings.TrimSuffix(jsonPath, ".json") + ".html"
	for _, w := range []struct {
		path  string
		write func(w io.Writer) error
	}{
		{jsonPath, rep.WriteJSON},
		{htmlPath, rep.WriteHTML},
	} {
		af, err := container.NewAtomicFile(w.path, true)
		if err != nil {
			return err
		}
		if err := w.write(af); err != nil {
			_ = af.Abort()
			return err
		}
		if err := af.Commit(); err != nil {
			return err
		}
	}
	a.log.Info().Str("report", jsonPath).Str("html", htmlPath).Msg("report written")
	return nil
}

// resolveManifest finds an adapter (built in, in a plugin directory, or a
// plugin file named by path) and returns its manifest; the adapter stays
// resolved for the run.
func (a *app) resolveManifest(cmd *cobra.Command, once *resolvedOnce, name string, source bool) (sdk.Manifest, error) {
	if name == pipeline.ArchiveName {
		return pipeline.ArchiveManifest, nil
	}
	res, err := once.Resolve(cmd.Context(), name)
	if err != nil {
		role := "target"
		if source {
			role = "source"
		}
		return sdk.Manifest{}, usagef("%s %q: %v; known: %s", role, name, err, knownNames(source))
	}
	once.done[name] = res
	return res.Info.Manifest, nil
}

func lookupManifest(name string) (sdk.Manifest, bool) {
	for _, ad := range pipeline.Adapters() {
		if ad.Manifest.Name == name {
			return ad.Manifest, true
		}
	}
	return sdk.Manifest{}, false
}

func knownNames(source bool) string {
	var names []string
	for _, ad := range pipeline.Adapters() {
		if (source && ad.Manifest.Source) || (!source && ad.Manifest.Target) {
			names = append(names, ad.Manifest.Name)
		}
	}
	return strings.Join(names, ", ")
}
