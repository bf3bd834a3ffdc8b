// Package service is the hosted side of migrate: an HTTP JSON API over the
// job queue (documented in api/openapi.yaml), authenticated with bearer
// tokens, and a plain web page for support staff, embedded in the binary.
package service

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/migrate-chat/migrate/core/jobs"
)

//go:embed web
var webFS embed.FS

// Server answers the API and serves the web page.
type Server struct {
	Queue *jobs.Queue
	// Tokens authenticates callers; nil lets every caller in as the owner
	// "local" (only for a server listening on loopback).
	Tokens *Tokens
	// MaxInputBytes bounds an upload; it should match the queue's.
	MaxInputBytes int64
	Version       string
	Log           zerolog.Logger
}

// maxFormField bounds each non-file multipart field and a JSON body.
const maxFormField = 1 << 20

// Handler returns the HTTP handler of the API and the page.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/info", s.info)
	mux.HandleFunc("GET /api/v1/adapters", s.auth(s.adapters))
	mux.HandleFunc("POST /api/v1/jobs", s.auth(s.submit))
	mux.HandleFunc("GET /api/v1/jobs", s.auth(s.list))
	mux.HandleFunc("GET /api/v1/jobs/{id}", s.auth(s.get))
	mux.HandleFunc("POST /api/v1/jobs/{id}/cancel", s.auth(s.cancel))
	mux.HandleFunc("GET /api/v1/jobs/{id}/output", s.auth(s.output))
	mux.HandleFunc("GET /api/v1/jobs/{id}/report", s.auth(s.report))
	mux.HandleFunc("GET /api/v1/jobs/{id}/log", s.auth(s.log))
	mux.HandleFunc("POST /api/v1/jobs/{id}/link", s.auth(s.link))
	mux.HandleFunc("GET /dl/{id}/{file}", s.signedDownload)
	mux.HandleFunc("POST /api/v1/purge", s.auth(s.purge))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	static, _ := fs.Sub(webFS, "web")
	files := http.FileServerFS(static)
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-src blob:; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		files.ServeHTTP(w, r)
	})
	return s.logged(mux)
}

func (s *Server) logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &statusWriter{ResponseWriter: w, status: 200}
		h.ServeHTTP(rw, r)
		// The path only: queries and bodies may carry secrets.
		s.Log.Debug().Str("method", r.Method).Str("path", r.URL.Path).Int("status", rw.status).Dur("took", time.Since(start)).Msg("http")
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type authedHandler func(w http.ResponseWriter, r *http.Request, owner string)

func (s *Server) auth(h authedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Tokens == nil {
			h(w, r, "local")
			return
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		owner := ""
		if ok {
			owner = s.Tokens.Owner(strings.TrimSpace(tok))
		}
		if owner == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="migrate"`)
			writeError(w, http.StatusUnauthorized, "missing or unknown API token: send Authorization: Bearer TOKEN (tokens are made with 'migrate serve --new-token OWNER')")
			return
		}
		h(w, r, owner)
	}
}

// Error is the body of every error answer.
type Error struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, Error{Error: msg})
}

// jobError answers with the status that fits a queue error.
func (s *Server) jobError(w http.ResponseWriter, err error) {
	var se *jobs.SpecError
	var le *jobs.LimitError
	var mb *http.MaxBytesError
	switch {
	case errors.Is(err, jobs.ErrNotFound):
		writeError(w, http.StatusNotFound, "no such job")
	case errors.Is(err, jobs.ErrPurged):
		writeError(w, http.StatusGone, err.Error())
	case errors.Is(err, jobs.ErrFinal):
		writeError(w, http.StatusConflict, err.Error())
	case errors.As(err, &se):
		writeError(w, http.StatusBadRequest, se.Msg)
	case errors.As(err, &le):
		writeError(w, http.StatusRequestEntityTooLarge, le.Error())
	case errors.As(err, &mb):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the upload is larger than this server accepts (%d bytes)", mb.Limit))
	default:
		s.Log.Error().Err(err).Msg("request failed")
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

// Info is what the page needs before it has a token.
type Info struct {
	Version       string `json:"version"`
	Auth          bool   `json:"auth"`
	MaxInputBytes int64  `json:"max_input_bytes"`
}

func (s *Server) info(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, Info{Version: s.Version, Auth: s.Tokens != nil, MaxInputBytes: s.MaxInputBytes})
}

func (s *Server) adapters(w http.ResponseWriter, _ *http.Request, _ string) {
	writeJSON(w, http.StatusOK, map[string]any{"adapters": s.Queue.Adapters()})
}

// Submission is the JSON form of a submission: the spec and the secrets.
type Submission struct {
	jobs.Spec
	Passphrase       string `json:"passphrase,omitempty"`
	OutputPassphrase string `json:"output_passphrase,omitempty"`
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request, owner string) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var sub Submission
	var st *jobs.Staging
	switch ct {
	case "application/json":
		dec := json.NewDecoder(io.LimitReader(r.Body, maxFormField))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sub); err != nil {
			writeError(w, http.StatusBadRequest, "reading the submission: "+err.Error())
			return
		}
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, s.MaxInputBytes+16*maxFormField)
		var err error
		st, err = s.Queue.NewStaging()
		if err != nil {
			s.jobError(w, err)
			return
		}
		defer st.Discard()
		if err := readMultipart(r, &sub, st); err != nil {
			var he *httpError
			if errors.As(err, &he) {
				writeError(w, he.status, he.msg)
				return
			}
			s.jobError(w, err)
			return
		}
	default:
		writeError(w, http.StatusUnsupportedMediaType, "send multipart/form-data (a 'spec' JSON field and 'input' files) or application/json with 'urls'")
		return
	}
	sec := &jobs.Secrets{Passphrase: []byte(sub.Passphrase), OutputPassphrase: []byte(sub.OutputPassphrase)}
	j, err := s.Queue.Submit(r.Context(), owner, sub.Spec, sec, st)
	clear(sec.Passphrase)
	clear(sec.OutputPassphrase)
	if err != nil {
		s.jobError(w, err)
		return
	}
	w.Header().Set("Location", "/api/v1/jobs/"+j.ID)
	writeJSON(w, http.StatusCreated, j)
}

type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// readMultipart streams a multipart submission: file parts named "input"
// go straight to the staging area; "spec" is the JSON spec; "passphrase"
// and "output_passphrase" are the secrets.
func readMultipart(r *http.Request, sub *Submission, st *jobs.Staging) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return &httpError{http.StatusBadRequest, "reading the upload: " + err.Error()}
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := p.FormName()
		if name == "input" {
			if p.FileName() == "" {
				return &httpError{http.StatusBadRequest, "an 'input' part must carry a file name"}
			}
			if err := st.Add(p.FileName(), p); err != nil {
				return err
			}
			continue
		}
		val, err := io.ReadAll(io.LimitReader(p, maxFormField+1))
		if err != nil {
			return err
		}
		if len(val) > maxFormField {
			return &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the field %q is larger than 1 MiB", name)}
		}
		switch name {
		case "spec":
			dec := json.NewDecoder(strings.NewReader(string(val)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&sub.Spec); err != nil {
				return &httpError{http.StatusBadRequest, "the 'spec' field: " + err.Error()}
			}
		case "passphrase":
			sub.Passphrase = string(val)
		case "output_passphrase":
			sub.OutputPassphrase = string(val)
		default:
			return &httpError{http.StatusBadRequest, fmt.Sprintf("unknown field %q: send spec, passphrase, output_passphrase and input files", name)}
		}
	}
}

// JobList is the answer of the list call.
type JobList struct {
	Jobs []*jobs.Job `json:"jobs"`
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, owner string) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	l, err := s.Queue.List(r.Context(), owner, limit)
	if err != nil {
		s.jobError(w, err)
		return
	}
	if l == nil {
		l = []*jobs.Job{}
	}
	writeJSON(w, http.StatusOK, JobList{Jobs: l})
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, owner string) {
	j, err := s.Queue.Get(r.Context(), owner, r.PathValue("id"))
	if err != nil {
		s.jobError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, j)
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request, owner string) {
	j, err := s.Queue.Cancel(r.Context(), owner, r.PathValue("id"))
	if err != nil {
		s.jobError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, j)
}

func (s *Server) output(w http.ResponseWriter, r *http.Request, owner string) {
	f, err := s.Queue.Output(r.Context(), owner, r.PathValue("id"))
	if err != nil {
		if !errors.Is(err, jobs.ErrNotFound) && !errors.Is(err, jobs.ErrPurged) {
			writeError(w, http.StatusConflict, err.Error())
			return
		}
		s.jobError(w, err)
		return
	}
	serveFile(w, r, f, "application/octet-stream", true)
}

func (s *Server) report(w http.ResponseWriter, r *http.Request, owner string) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	f, err := s.Queue.Report(r.Context(), owner, r.PathValue("id"), format)
	if err != nil {
		if !errors.Is(err, jobs.ErrNotFound) && !errors.Is(err, jobs.ErrPurged) {
			writeError(w, http.StatusConflict, err.Error())
			return
		}
		s.jobError(w, err)
		return
	}
	ctype := map[string]string{"json": "application/json", "html": "text/html; charset=utf-8", "txt": "text/plain; charset=utf-8"}[format]
	if format == "html" {
		// The report quotes the customer's data: let it neither run
		// scripts nor load anything.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	}
	serveFile(w, r, f, ctype, r.URL.Query().Get("download") != "")
}

func (s *Server) log(w http.ResponseWriter, r *http.Request, owner string) {
	f, err := s.Queue.Log(r.Context(), owner, r.PathValue("id"))
	if err != nil {
		s.jobError(w, err)
		return
	}
	serveFile(w, r, f, "application/x-ndjson", false)
}

func serveFile(w http.ResponseWriter, r *http.Request, f *jobs.File, ctype string, attachment bool) {
	fh, err := os.Open(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		writeError(w, http.StatusNotFound, "the file is not there (yet)")
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, no-store")
	if attachment {
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	}
	http.ServeContent(w, r, "", fi.ModTime(), fh)
}

// PurgeRequest asks to purge the caller's jobs older than an age.
type PurgeRequest struct {
	// OlderThan is days ("7") or an age with a unit ("7d", "36h").
	OlderThan string `json:"older_than"`
}

// PurgeResult lists the purged jobs.
type PurgeResult struct {
	Purged []string `json:"purged"`
}

func (s *Server) purge(w http.ResponseWriter, r *http.Request, owner string) {
	var req PurgeRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, maxFormField)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "reading the purge request: "+err.Error())
		return
	}
	age, err := jobs.ParseAge(req.OlderThan)
	if err != nil {
		writeError(w, http.StatusBadRequest, "older_than: "+err.Error())
		return
	}
	ids, err := s.Queue.Purge(r.Context(), owner, age)
	if err != nil {
		s.jobError(w, err)
		return
	}
	if ids == nil {
		ids = []string{}
	}
	writeJSON(w, http.StatusOK, PurgeResult{Purged: ids})
}

// linkLife is how long a download link works.
const linkLife = 10 * time.Minute

// Link is a download link that needs no token.
type Link struct {
	URL     string    `json:"url"`
	Expires time.Time `json:"expires_at"`
}

var linkFiles = map[string]bool{"output": true, "report.json": true, "report.html": true, "report.txt": true, "log": true}

func (s *Server) link(w http.ResponseWriter, r *http.Request, owner string) {
	id, file := r.PathValue("id"), r.URL.Query().Get("file")
	if file == "" {
		file = "output"
	}
	if !linkFiles[file] {
		writeError(w, http.StatusBadRequest, "file: want output, report.json, report.html, report.txt or log")
		return
	}
	if _, err := s.Queue.Get(r.Context(), owner, id); err != nil {
		s.jobError(w, err)
		return
	}
	exp := time.Now().Add(linkLife).Truncate(time.Second)
	e := strconv.FormatInt(exp.Unix(), 10)
	u := "/dl/" + url.PathEscape(id) + "/" + file + "?" + url.Values{"owner": {owner}, "exp": {e}, "sig": {s.Queue.SignLink(id, file, owner, e)}}.Encode()
	writeJSON(w, http.StatusOK, Link{URL: u, Expires: exp.UTC()})
}

func (s *Server) signedDownload(w http.ResponseWriter, r *http.Request) {
	id, file := r.PathValue("id"), r.PathValue("file")
	q := r.URL.Query()
	owner, e, sig := q.Get("owner"), q.Get("exp"), q.Get("sig")
	exp, err := strconv.ParseInt(e, 10, 64)
	if err != nil || !linkFiles[file] || !s.Queue.VerifyLink(sig, id, file, owner, e) {
		writeError(w, http.StatusForbidden, "this download link is not valid: ask the API for a new one")
		return
	}
	if time.Now().Unix() > exp {
		writeError(w, http.StatusForbidden, "this download link has expired: ask the API for a new one")
		return
	}
	var f *jobs.File
	ctype := "application/octet-stream"
	switch file {
	case "output":
		f, err = s.Queue.Output(r.Context(), owner, id)
	case "log":
		f, err = s.Queue.Log(r.Context(), owner, id)
		ctype = "application/x-ndjson"
	default:
		format := strings.TrimPrefix(file, "report.")
		f, err = s.Queue.Report(r.Context(), owner, id, format)
		ctype = map[string]string{"json": "application/json", "html": "text/html; charset=utf-8", "txt": "text/plain; charset=utf-8"}[format]
	}
	if err != nil {
		s.jobError(w, err)
		return
	}
	serveFile(w, r, f, ctype, true)
}
