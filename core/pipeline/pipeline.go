// Package pipeline runs one conversion end to end: it unwraps the inputs,
// runs the source adapter into a validated canonical spool, merges it with
// what the target already holds, runs the target adapter and puts the
// output in place atomically, accounting for every record in the report.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"

	"github.com/migrate-chat/migrate/core/archive"
	"github.com/migrate-chat/migrate/core/container"
	"github.com/migrate-chat/migrate/core/engine"
	"github.com/migrate-chat/migrate/core/fetch"
	"github.com/migrate-chat/migrate/core/report"
	"github.com/migrate-chat/migrate/sdk"
)

// Progress receives progress of the steps of a run.
type Progress interface {
	Begin(step, unit string)
	Update(done, total int64)
	End()
}

type noProgress struct{}

func (noProgress) Begin(string, string) {}
func (noProgress) Update(int64, int64)  {}
func (noProgress) End()                 {}

// Request describes one conversion.
type Request struct {
	From, To string
	Inputs   []string
	// Output is a directory or an archive file name; its suffix chooses the
	// form (.tar.gz, .tar.zst, .tar.gz.aes, …).
	Output string
	// Into names an existing target export to merge into.
	Into string

	SourceOptions, TargetOptions sdk.Options

	// Passphrase is asked for lazily, only when an input is encrypted.
	Passphrase func() ([]byte, error)
	// OutputPassphrase is asked for only when the output is encrypted.
	OutputPassphrase func() ([]byte, error)
	// OutputKDF overrides the target's key derivation ("md5", "sha256",
	// "pbkdf2").
	OutputKDF string

	Admin string
	// Download fetches files that the export only links to; with
	// DownloadAvatars, linked avatars too.
	Download, DownloadAvatars bool
	DryRun                    bool
	Overwrite                 bool
	// Validate checks every record a source emits against the canonical
	// schema. It is forced on for anything that is not a shipped adapter.
	Validate bool
	Limits   container.Limits
	TempDir  string

	// Resolver finds adapters by name; nil means the built-in ones.
	Resolver Resolver

	Log      zerolog.Logger
	Slog     func(adapter string) *slog.Logger
	Progress Progress
}

// Result is what a run produced.
type Result struct {
	Report *report.Report
	// Output is where the output was put; "" on a dry run or a failure.
	Output string
	// Dataset statistics of the converted workspace, for summaries.
	Counts map[sdk.Kind]int64
	// NextSteps is what the target says the user should do next.
	NextSteps []string

	sourceInfo *archive.SourceInfo
}

// Run performs the conversion. The report is returned even when the run
// fails, so that the caller can show what happened.
func Run(ctx context.Context, req Request) (*Result, error) {
	if req.Progress == nil {
		req.Progress = noProgress{}
	}
	if req.Slog == nil {
		req.Slog = func(string) *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
	}
	rep := report.New(req.From, req.To, report.Options{SpillDir: req.TempDir})
	res := &Result{Report: rep}
	err := run(ctx, &req, res)
	rep.Finish(err)
	return res, err
}

func run(ctx context.Context, req *Request, res *Result) error {
	src, err := resolve(ctx, req.Resolver, req.From)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	defer src.close()
	if !src.Info.Manifest.Source {
		return fmt.Errorf("%s cannot be read, only written", req.From)
	}
	tgt, err := resolve(ctx, req.Resolver, req.To)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	defer tgt.close()
	tgtM := tgt.Info.Manifest
	if !tgtM.Target {
		return fmt.Errorf("%s can be read but not written: choose another target", req.To)
	}
	if len(req.Inputs) == 0 {
		return errors.New("no input given")
	}
	if !req.DryRun {
		if req.Output == "" {
			return errors.New("no output given: use -o OUTPUT")
		}
		if err := checkOutputForm(tgtM, req.Output); err != nil {
			return err
		}
		if !req.Overwrite {
			if err := refuseExisting(req.Output); err != nil {
				return err
			}
		}
	}

	work, err := os.MkdirTemp(req.TempDir, "migrate-run-")
	if err != nil {
		return fmt.Errorf("making a working directory: %w", err)
	}
	defer os.RemoveAll(work)

	incoming, closeIn, err := readSide(ctx, req, src, req.SourceOptions, req.Inputs, filepath.Join(work, "incoming"), "reading", res.Report.SourceNotice)
	defer closeIn()
	if err != nil {
		return err
	}
	if r, ok := incoming.(*archive.Reader); ok && req.From == ArchiveName {
		info := r.Manifest().Source
		res.sourceInfo = &info
	}
	var existing sdk.Dataset
	if req.Into != "" {
		if !tgtM.Source {
			return fmt.Errorf("--into: %s cannot be read back, so there is nothing to merge into", req.To)
		}
		ex, closeEx, err := readSide(ctx, req, tgt, nil, []string{req.Into}, filepath.Join(work, "existing"), "reading the existing export", res.Report.Notify)
		defer closeEx()
		if err != nil {
			return fmt.Errorf("--into %s: %w", req.Into, err)
		}
		existing = ex
	}

	merged, _, err := engine.Merge(ctx, engine.Request{
		Incoming:    []sdk.Dataset{incoming},
		Existing:    existing,
		Constraints: tgtM.Constraints,
		Admin:       req.Admin,
		DryRun:      req.DryRun,
		Report:      res.Report,
	})
	if err != nil {
		return err
	}
	if req.DryRun {
		return nil
	}
	res.Counts = merged.Counts()
	if err := writeSide(ctx, req, tgt, merged, work, res); err != nil {
		return err
	}
	return nil
}

// readSide turns inputs into a validated canonical dataset: the canonical
// archive is opened (and verified) as it is; anything else goes through
// its source adapter into a spool archive.
func readSide(ctx context.Context, req *Request, ad *Resolved, opts sdk.Options, inputs []string, spool string, step string, notice func(sdk.Notice)) (sdk.Dataset, func(), error) {
	var closers []func() error
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			_ = closers[i]()
		}
	}
	unwrapped := make([]*container.Unwrapped, 0, len(inputs))
	for _, in := range inputs {
		req.Progress.Begin("unpacking "+filepath.Base(in), "bytes")
		u, err := container.Unwrap(ctx, in, container.Options{
			Passphrase: req.Passphrase,
			Limits:     req.Limits,
			TempDir:    req.TempDir,
			Progress:   req.Progress.Update,
		})
		req.Progress.End()
		if err != nil {
			return nil, closeAll, err
		}
		closers = append(closers, u.Close)
		req.Log.Debug().Str("input", in).Strs("layers", u.Layers).Msg("input unwrapped")
		unwrapped = append(unwrapped, u)
	}

	from := ad.Info.Manifest.Name
	if from == ArchiveName {
		if len(unwrapped) != 1 {
			return nil, closeAll, errors.New("the canonical archive source reads one archive at a time")
		}
		u := unwrapped[0]
		dir := u.Dir
		if u.Entry != "" {
			return nil, closeAll, fmt.Errorf("%s: not a canonical archive (expected a directory or a .tar.gz/.tar.zst of one)", inputs[0])
		}
		r, err := archive.Open(dir, archive.ReadOptions{})
		if err != nil {
			return nil, closeAll, err
		}
		req.Progress.Begin("verifying "+filepath.Base(inputs[0]), "messages")
		err = r.Verify(ctx)
		req.Progress.End()
		if err != nil {
			return nil, closeAll, err
		}
		return r, closeAll, nil
	}

	src, ok := ad.Adapter.(sdk.Source)
	if !ok {
		return nil, closeAll, fmt.Errorf("%s cannot be read", from)
	}
	sdkInputs := make([]sdk.Input, 0, len(unwrapped))
	for i, u := range unwrapped {
		root, err := os.OpenRoot(u.Dir)
		if err != nil {
			return nil, closeAll, err
		}
		closers = append(closers, root.Close)
		sdkInputs = append(sdkInputs, sdk.Input{Name: filepath.Base(inputs[i]), FS: root.FS(), Entry: u.Entry})
	}
	w, err := archive.Create(spool, archive.WriterOptions{
		Source: archive.SourceInfo{Adapter: from, AdapterVersion: ad.Info.Manifest.Version},
		// Records from anything but a shipped adapter cross a trust
		// boundary and are always checked.
		Validate:   req.Validate || ad.Info.Transport != "native" || ad.Info.Origin != "built-in",
		OnProgress: req.Progress.Update,
		TempDir:    req.TempDir,
		// A repeated message is a reported skip, found on disk, so that
		// sources need not hold every id in memory.
		OnDuplicate:         notice,
		OnDanglingReference: notice,
	})
	if err != nil {
		return nil, closeAll, err
	}
	var sink sdk.Sink = noticeSink{Sink: w, notice: notice}
	var fetcher *fetch.Fetcher
	if req.Download {
		fetcher = fetch.New(ctx, sink, fetch.Options{TempDir: req.TempDir, Avatars: req.DownloadAvatars,
			OnProgress: func(done, total int64) {
				req.Log.Debug().Int64("downloaded", done).Int64("of", total).Msg("downloading linked files")
			}})
		sink = fetcher
	}
	req.Progress.Begin(step+" "+from, "bytes")
	err = src.Read(ctx, &sdk.ReadRequest{
		Inputs:  sdkInputs,
		Options: opts.WithDefaults(ad.Info.Manifest.Options),
		Log:     req.Slog(from),
	}, sink)
	if fetcher != nil {
		if ferr := fetcher.Close(); err == nil {
			err = ferr
		}
	}
	req.Progress.End()
	if err != nil {
		w.Abort()
		return nil, closeAll, fmt.Errorf("%s: %w", from, err)
	}
	if _, err := w.Close(); err != nil {
		return nil, closeAll, err
	}
	r, err := archive.Open(spool, archive.ReadOptions{})
	if err != nil {
		return nil, closeAll, err
	}
	return r, closeAll, nil
}

// writeSide runs the target into a staging tree and moves the result into
// place: a directory by rename, an archive by packing to a temporary
// sibling first. A failure leaves nothing that looks like an output.
func writeSide(ctx context.Context, req *Request, ad *Resolved, data sdk.Dataset, work string, res *Result) error {
	tgtM := ad.Info.Manifest
	stage := filepath.Join(work, "output")
	if container.IsDirectoryOutput(req.Output) {
		// Stage a directory output beside it, so that it is renamed into
		// place rather than copied across file systems.
		dir, err := os.MkdirTemp(filepath.Dir(filepath.Clean(req.Output)), "."+filepath.Base(filepath.Clean(req.Output))+".staging-")
		if err != nil {
			return fmt.Errorf("cannot stage the output beside %s: %w", req.Output, err)
		}
		defer os.RemoveAll(dir)
		stage = filepath.Join(dir, "output")
	}
	if req.To == ArchiveName {
		// An archive copied to an archive keeps the provenance it had, so
		// the copy is byte for byte the original.
		info := archive.SourceInfo{System: data.Workspace().SourceSystem, Version: data.Workspace().SourceVersion, Adapter: req.From}
		if res.sourceInfo != nil {
			info = *res.sourceInfo
		}
		w, err := archive.Create(stage, archive.WriterOptions{Source: info, TempDir: req.TempDir})
		if err != nil {
			return err
		}
		req.Progress.Begin("writing the canonical archive", "messages")
		err = archive.Copy(ctx, data, w)
		req.Progress.End()
		if err != nil {
			w.Abort()
			return err
		}
		if _, err := w.Close(); err != nil {
			return err
		}
	} else {
		tgt, ok := ad.Adapter.(sdk.Target)
		if !ok {
			return fmt.Errorf("%s cannot be written", req.To)
		}
		if err := os.MkdirAll(stage, 0o755); err != nil {
			return err
		}
		root, err := os.OpenRoot(stage)
		if err != nil {
			return err
		}
		defer root.Close()
		total := data.Counts()[sdk.KindMessage]
		req.Progress.Begin("writing "+req.To, "messages")
		err = tgt.Write(ctx, &sdk.WriteRequest{
			Data:     data,
			Out:      rootOutput{root: root},
			Options:  req.TargetOptions.WithDefaults(tgtM.Options),
			Log:      req.Slog(req.To),
			Notice:   res.Report.TargetNotice,
			Progress: func(done, _ int64) { req.Progress.Update(done, total) },
		})
		req.Progress.End()
		if err != nil {
			return fmt.Errorf("%s: %w", req.To, err)
		}
		if g, ok := tgt.(sdk.Guide); ok {
			defer func() {
				if res.Output != "" {
					res.NextSteps = g.NextSteps(res.Output, data, req.TargetOptions.WithDefaults(tgtM.Options))
				}
			}()
		}
	}
	opt := container.OutputOptions{Overwrite: req.Overwrite}
	if isEncryptedName(req.Output) {
		if req.OutputPassphrase == nil {
			return errors.New("the output is encrypted but no passphrase was given: pass --passphrase-file or --output-passphrase-file")
		}
		pw, err := req.OutputPassphrase()
		if err != nil {
			return err
		}
		kdf := req.OutputKDF
		if kdf == "" {
			kdf = tgtM.Output.KDF
		}
		if kdf == "" {
			kdf = string(container.KDFMD5)
		}
		k, err := container.ParseKDF(kdf)
		if err != nil {
			return err
		}
		opt.Passphrase, opt.KDF = pw, k
	}
	req.Progress.Begin("writing "+filepath.Base(req.Output), "bytes")
	err := container.WriteOutput(ctx, stage, req.Output, opt)
	req.Progress.End()
	if err != nil {
		return err
	}
	res.Output = req.Output
	return nil
}

func isEncryptedName(name string) bool { return strings.HasSuffix(strings.ToLower(name), ".aes") }

// checkOutputForm refuses an output name that the target cannot honour, so
// that the mistake shows before hours of work rather than after.
func checkOutputForm(m sdk.Manifest, out string) error {
	if m.Output.PassphraseRequired && !isEncryptedName(out) {
		return fmt.Errorf("%s writes an encrypted archive: name the output like %s.tar.gz.aes", m.Name, strings.TrimSuffix(filepath.Base(out), "/"))
	}
	return nil
}

func refuseExisting(out string) error {
	st, err := os.Stat(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.IsDir() {
		entries, err := os.ReadDir(out)
		if err == nil && len(entries) == 0 {
			return nil
		}
	}
	return fmt.Errorf("%s already exists: choose another output or pass --overwrite", out)
}

// rootOutput is the sdk.Output handed to targets: every path stays inside
// the staging directory, whatever the target asks for.
type rootOutput struct{ root *os.Root }

func (o rootOutput) Create(name string) (io.WriteCloser, error) {
	clean := path.Clean(name)
	if !filepath.IsLocal(filepath.FromSlash(clean)) {
		return nil, fmt.Errorf("the target tried to write %q, outside its output", name)
	}
	if dir := path.Dir(clean); dir != "." {
		if err := o.root.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	return o.root.Create(clean)
}

// Open reads req.Inputs through req.From into a validated dataset, without
// writing anything: for inspecting an export. The returned function
// releases the temporary files and must be called.
func Open(ctx context.Context, req Request) (sdk.Dataset, func(), error) {
	if req.Progress == nil {
		req.Progress = noProgress{}
	}
	if req.Slog == nil {
		req.Slog = func(string) *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
	}
	work, err := os.MkdirTemp(req.TempDir, "migrate-open-")
	if err != nil {
		return nil, func() {}, err
	}
	notice := func(n sdk.Notice) {
		req.Log.Warn().Str("code", n.Code).Str("record", n.Record).Str("file", n.File).Msg(n.Message)
	}
	src, err := resolve(ctx, req.Resolver, req.From)
	if err != nil {
		return nil, func() { os.RemoveAll(work) }, err
	}
	ds, closeIn, err := readSide(ctx, &req, src, req.SourceOptions, req.Inputs, filepath.Join(work, "incoming"), "reading", notice)
	return ds, func() { closeIn(); src.close(); os.RemoveAll(work) }, err
}

// noticeSink sends a source's notices straight to the report (whose lists
// spill to disk) instead of letting them pile up in memory.
type noticeSink struct {
	sdk.Sink
	notice func(sdk.Notice)
}

func (s noticeSink) Notice(n sdk.Notice) { s.notice(n) }
