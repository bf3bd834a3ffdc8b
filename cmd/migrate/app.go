package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/migrate-chat/migrate/sdk"
)

// Exit codes, documented in the README.
const (
	exitOK       = 0
	exitWarnings = 1
	exitFailed   = 2
	exitUsage    = 64
)

// version is set at build time with -ldflags "-X main.version=…"; a plain
// build reports the module version Go recorded, or "devel".
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// usageError marks errors that are the caller's to fix on the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// exitError carries an exit code chosen by a command (for example "succeeded
// with warnings") without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return "exit " + strconv.Itoa(e.code) }

type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	logLevel, logFormat string
	tempDir             string
	passFile, passFlag  string
	outPassFile         string
	log                 zerolog.Logger
	pass                *passphraseSource
}

func newApp(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *app {
	return &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
}

func (a *app) run(ctx context.Context, args []string) int {
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(ctx)
	if a.pass != nil {
		a.pass.Wipe()
	}
	if err == nil {
		return exitOK
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		fmt.Fprintf(a.stderr, "migrate: %v\nRun 'migrate --help' for usage.\n", err)
		return exitUsage
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(a.stderr, "migrate: interrupted; nothing was written")
		return exitFailed
	}
	fmt.Fprintf(a.stderr, "migrate: %v\n", err)
	return exitFailed
}

// isCobraUsage recognises the flag and argument errors cobra returns, which
// are usage errors too.
func isCobraUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "unknown command", "accepts ", "requires at least", "required flag"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func (a *app) rootCommand() *cobra.Command {
	conv := &convertFlags{}
	root := &cobra.Command{
		Use:   "migrate --from SRC --to DST INPUT... -o OUT",
		Short: "Move a team's chat history from one chat system to another",
		Long: `migrate converts a chat workspace's export from one system into another
system's import format: users, rooms, private rooms, one-to-one and group
conversations, threads, edits, mentions, files, avatars and custom emoji.

Encrypted inputs are decrypted natively (HipChat's openssl archives); the
passphrase comes from --passphrase-file, $MIGRATE_PASSPHRASE, or a prompt.

Exit codes: 0 success, 1 success with warnings, 2 failure, 64 bad usage.`,
		Example: `  migrate --from gitter --to pixtoome gitter_data.json -o converted/
  migrate --from hipchat-server --to pixtoome hipchat.tar.gz.aes --passphrase-file pw -o converted/
  migrate --from archive --to archive testdata/sample-archive -o copy/`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(a.stderr, a.logLevel, a.logFormat)
			if err != nil {
				return usageError{err.Error()}
			}
			a.log = log
			a.pass = &passphraseSource{
				file: a.passFile, flag: a.passFlag, flagSet: cmd.Flags().Changed("passphrase"),
				env: a.getenv, stdin: a.stdin, stderr: a.stderr,
				warn: func(m string) { a.log.Warn().Msg(m) },
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && conv.from == "" && conv.to == "" {
				return cmd.Help()
			}
			return a.convert(cmd, conv, args)
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err.Error()} })
	pf := root.PersistentFlags()
	pf.StringVar(&a.logLevel, "log-level", "info", "log level: trace, debug, info, warn, error")
	pf.StringVar(&a.logFormat, "log-format", "auto", "log format: auto (console on a terminal, JSON otherwise), console, json")
	pf.StringVar(&a.tempDir, "temp-dir", "", "where to unpack inputs and stage outputs (default: the system's temporary directory)")
	pf.StringVar(&a.passFile, "passphrase-file", "", "read the archive passphrase from this file (also: $"+passphraseEnv+")")
	pf.StringVarP(&a.passFlag, "passphrase", "p", "", "the archive passphrase (visible in the process list: prefer --passphrase-file)")
	pf.StringVar(&a.outPassFile, "output-passphrase-file", "", "passphrase for an encrypted output, when it differs from the input's")
	registerPluginFlags(pf)

	conv.register(root, true, true)
	root.AddCommand(
		a.exportCommand(),
		a.importCommand(),
		a.validateCommand(),
		a.inspectCommand(),
		a.adaptersCommand(),
		a.serveCommand(),
		a.jobsCommand(),
		&cobra.Command{
			Use:   "version",
			Short: "Print the version",
			Args:  cobra.NoArgs,
			Run:   func(cmd *cobra.Command, _ []string) { fmt.Fprintln(a.stdout, "migrate", versionString()) },
		},
	)
	return root
}

// convertFlags are the flags of a conversion, shared by the root command,
// export and import.
type convertFlags struct {
	from, to, output, into, report, admin string
	dryRun, overwrite, noValidate         bool
	download, downloadAvatars             bool
	kdf                                   string
	maxUnpacked, maxFileBytes             int64
	maxRatio                              float64
	maxFiles                              int
	generic                               []string
	flags                                 *pflag.FlagSet
}

func (c *convertFlags) register(cmd *cobra.Command, from, to bool) {
	f := cmd.Flags()
	c.flags = f
	if from {
		f.StringVar(&c.from, "from", "", "source system (see 'migrate adapters')")
	}
	if to {
		f.StringVar(&c.to, "to", "", "target system (see 'migrate adapters')")
	}
	f.StringVarP(&c.output, "output", "o", "", "output: a directory, or an archive (.tar.gz, .tar.zst, .tar.gz.aes) where the target makes one")
	f.StringVar(&c.into, "into", "", "an existing target export to merge into (read back through the target system's source adapter)")
	f.StringVar(&c.report, "report", "", "where to write the JSON report (default: OUTPUT.report.json beside the output)")
	f.StringVar(&c.admin, "admin", "", "the user who owns rooms whose owner was not imported (default: the first owner or admin)")
	f.BoolVar(&c.dryRun, "dry-run", false, "compute and print the report without writing any output")
	f.BoolVar(&c.overwrite, "overwrite", false, "replace an existing output")
	f.BoolVar(&c.noValidate, "no-validate", false, "skip schema validation of records from trusted in-tree adapters (faster; never for plugins)")
	f.BoolVar(&c.download, "download-attachments", false, "download files the export only links to (attachments on files.gitter.im and the like) so they live on in the target")
	f.BoolVar(&c.downloadAvatars, "download-avatars", false, "download avatar images the export only links to")
	f.StringVar(&c.kdf, "output-kdf", "", "key derivation for an encrypted output: md5 (HipChat's), sha256 or pbkdf2 (default: the target's)")
	f.Int64Var(&c.maxUnpacked, "max-total-bytes", 0, "refuse archives that unpack to more than this many bytes (default 200 GiB)")
	f.Int64Var(&c.maxFileBytes, "max-file-bytes", 0, "refuse archive entries larger than this many bytes (default 100 GiB)")
	f.IntVar(&c.maxFiles, "max-files", 0, "refuse archives with more than this many entries (default 5,000,000)")
	f.Float64Var(&c.maxRatio, "max-ratio", 0, "refuse archives that expand more than this many times their compressed size (default 1000)")
	f.StringArrayVarP(&c.generic, "option", "O", nil, "adapter option as name=value, for options without a flag of their own (repeatable)")
	registerAdapterFlags(f)
}

// registerAdapterFlags gives every option of every registered adapter a
// flag of its own. Adapters that share an option name must agree on its
// type; that is checked by a test over the shipped adapters.
func registerAdapterFlags(f *pflag.FlagSet) {
	seen := map[string]sdk.OptionType{}
	for _, ad := range sdk.Registered() {
		for _, o := range ad.Manifest().Options {
			if t, ok := seen[o.Name]; ok {
				if t != o.Type {
					panic(fmt.Sprintf("adapter option --%s is declared with two types (%s and %s)", o.Name, t, o.Type))
				}
				continue
			}
			if fl := f.Lookup(o.Name); fl != nil {
				// An adapter may declare a host feature it relies on (for
				// example --download-attachments) so that its help
				// shows it; the host's flag then serves both.
				if fl.Value.Type() == string(o.Type) {
					continue
				}
				panic(fmt.Sprintf("adapter %s: option --%s collides with a built-in flag", ad.Manifest().Name, o.Name))
			}
			seen[o.Name] = o.Type
			usage := o.Description + " [" + ad.Manifest().Name + "]"
			switch o.Type {
			case sdk.OptionBool:
				def, _ := o.Default.(bool)
				f.Bool(o.Name, def, usage)
			case sdk.OptionInt:
				def, _ := o.Default.(int64)
				f.Int64(o.Name, def, usage)
			case sdk.OptionStrings:
				def, _ := o.Default.([]string)
				f.StringSlice(o.Name, def, usage)
			case sdk.OptionFile:
				f.String(o.Name, "", usage+" (a file)")
			default:
				def, _ := o.Default.(string)
				f.String(o.Name, def, usage)
			}
		}
	}
}

// maxOptionFile bounds what a file option may hold: these are mapping and
// status files, never data.
const maxOptionFile = 64 << 20

// adapterOptions collects the options that belong to one adapter from the
// flags the user set, in the adapter's declared types.
func (c *convertFlags) adapterOptions(m sdk.Manifest, role string) (sdk.Options, error) {
	opts := sdk.Options{}
	generic := map[string]string{}
	for _, kv := range c.generic {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, usagef("--option %q: write name=value", kv)
		}
		generic[k] = v
	}
	for _, o := range m.Options {
		if o.Role != "" && o.Role != role {
			continue
		}
		var raw string
		var set bool
		if fl := c.flags.Lookup(o.Name); fl != nil && fl.Changed {
			raw, set = fl.Value.String(), true
			if o.Type == sdk.OptionStrings {
				v, _ := c.flags.GetStringSlice(o.Name)
				opts[o.Name] = v
				continue
			}
		}
		if v, ok := generic[o.Name]; ok {
			raw, set = v, true
		}
		if !set {
			continue
		}
		v, err := parseOption(o, raw)
		if err != nil {
			return nil, err
		}
		opts[o.Name] = v
	}
	return opts, nil
}

func parseOption(o sdk.Option, raw string) (any, error) {
	switch o.Type {
	case sdk.OptionBool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return nil, usagef("--%s %q: want true or false", o.Name, raw)
		}
		return b, nil
	case sdk.OptionInt:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, usagef("--%s %q: want a whole number", o.Name, raw)
		}
		return n, nil
	case sdk.OptionStrings:
		if raw == "" {
			return []string{}, nil
		}
		parts := strings.Split(raw, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts, nil
	case sdk.OptionFile:
		f, err := os.Open(raw)
		if err != nil {
			return nil, usagef("--%s: %v", o.Name, err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxOptionFile+1))
		if err != nil {
			return nil, fmt.Errorf("--%s %s: %w", o.Name, raw, err)
		}
		if len(b) > maxOptionFile {
			return nil, usagef("--%s %s: larger than %d MiB; this option takes a small mapping file", o.Name, raw, maxOptionFile>>20)
		}
		return b, nil
	}
	return raw, nil
}

// checkStrayOptions refuses adapter flags that neither chosen adapter
// declares, so that a typo'd or misplaced option is not silently ignored.
func (c *convertFlags) checkStrayOptions(used ...sdk.Manifest) error {
	declared := map[string]bool{}
	for _, m := range used {
		for _, o := range m.Options {
			declared[o.Name] = true
		}
	}
	owners := map[string][]string{}
	for _, ad := range sdk.Registered() {
		for _, o := range ad.Manifest().Options {
			owners[o.Name] = append(owners[o.Name], ad.Manifest().Name)
		}
	}
	var stray []string
	c.flags.Visit(func(fl *pflag.Flag) {
		if _, isAdapter := owners[fl.Name]; isAdapter && !declared[fl.Name] {
			stray = append(stray, fmt.Sprintf("--%s (an option of %s)", fl.Name, strings.Join(owners[fl.Name], ", ")))
		}
	})
	for _, kv := range c.generic {
		k, _, _ := strings.Cut(kv, "=")
		if !declared[k] {
			stray = append(stray, fmt.Sprintf("-O %s (no chosen adapter declares it)", k))
		}
	}
	sort.Strings(stray)
	if len(stray) > 0 {
		names := make([]string, len(used))
		for i, m := range used {
			names[i] = m.Name
		}
		return usagef("%s: not an option of %s", strings.Join(stray, ", "), strings.Join(names, " or "))
	}
	return nil
}
