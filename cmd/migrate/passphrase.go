package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// passphraseSource finds the passphrase the way the documentation promises,
// most private first: a file, the environment, an interactive prompt, and
// only then the command line (accepted for HipChat habits, with a warning,
// since argv shows in the process list).
type passphraseSource struct {
	file     string
	flag     string
	flagSet  bool
	env      func(string) string
	stdin    io.Reader
	stderr   io.Writer
	warn     func(string)
	cached   []byte
	resolved bool
}

const passphraseEnv = "MIGRATE_PASSPHRASE"

var errNoPassphrase = errors.New("this input is encrypted and no passphrase was given: pass --passphrase-file FILE, set " + passphraseEnv + ", or run on a terminal to be asked")

// Get returns the passphrase, asking for it at most once.
func (p *passphraseSource) Get() ([]byte, error) {
	if p.resolved {
		if p.cached == nil {
			return nil, errNoPassphrase
		}
		return p.cached, nil
	}
	p.resolved = true
	switch {
	case p.file != "":
		b, err := os.ReadFile(p.file)
		if err != nil {
			return nil, fmt.Errorf("--passphrase-file: %w", err)
		}
		// Files written by editors and echo end with a newline that is
		// not part of the passphrase.
		b = bytes.TrimRight(b, "\r\n")
		if len(b) == 0 {
			return nil, fmt.Errorf("--passphrase-file %s is empty", p.file)
		}
		p.cached = b
	case p.env != nil && p.env(passphraseEnv) != "":
		p.cached = []byte(p.env(passphraseEnv))
	case p.flagSet:
		if p.warn != nil {
			p.warn("--passphrase on the command line is visible to other users in the process list; prefer --passphrase-file or " + passphraseEnv)
		}
		p.cached = []byte(p.flag)
	default:
		f, ok := p.stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return nil, errNoPassphrase
		}
		fmt.Fprint(p.stderr, "Passphrase: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(p.stderr)
		if err != nil {
			return nil, fmt.Errorf("reading the passphrase: %w", err)
		}
		if len(b) == 0 {
			return nil, errNoPassphrase
		}
		p.cached = b
	}
	return p.cached, nil
}

// Wipe overwrites the passphrase in memory once it is no longer needed.
func (p *passphraseSource) Wipe() {
	for i := range p.cached {
		p.cached[i] = 0
	}
}
