package jobs

import (
	"context"
	"encoding/json"
	"io"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	smtp "github.com/emersion/go-smtp"
)

// mailbox is a real SMTP server (go-smtp) on loopback that keeps what it
// receives.
type mailbox struct {
	mu   sync.Mutex
	msgs []received
	addr string
}

type received struct {
	from string
	to   []string
	data []byte
}

func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{box: m}, nil }

type mailSession struct {
	box  *mailbox
	from string
	to   []string
}

func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }
func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	s.box.msgs = append(s.box.msgs, received{from: s.from, to: s.to, data: b})
	s.box.mu.Unlock()
	return nil
}

func startMailbox(t *testing.T) *mailbox {
	box := &mailbox{}
	srv := smtp.NewServer(box)
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	box.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return box
}

func (m *mailbox) messages() []received {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]received(nil), m.msgs...)
}

func TestNotifyByMailAndWebhook(t *testing.T) {
	box := startMailbox(t)
	var hookCalls atomic.Int32
	var hookBody []byte
	var hookSig string
	var mu sync.Mutex
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The first delivery fails: the notifier must try again.
		if hookCalls.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hookBody, hookSig = b, r.Header.Get("X-Migrate-Signature")
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()

	cfg := testConfig(t, t.TempDir())
	cfg.Notify = &Notifier{SMTPAddr: box.addr, From: "migrate@example.com", BaseURL: "https://migrate.example.com",
		WebhookBackoff: 50 * time.Millisecond, WebhookSecret: []byte("hook secret")}
	q := openQueue(t, cfg)
	ctx := context.Background()
	j, err := q.Submit(ctx, "alice", Spec{From: "archive", To: "archive",
		Notify: []string{"her@example.com", "him@example.com"}, Webhook: hook.URL + "/done"}, nil, stage(t, q, "s.tar.gz", packSample(t)))
	if err != nil {
		t.Fatal(err)
	}
	j = waitFinal(t, q, j.ID, 60*time.Second)
	if j.State != StateSucceeded {
		t.Fatalf("state %s: %s", j.State, j.Error)
	}
	waitFor(t, 10*time.Second, "the notification to be recorded", func() bool {
		j, _ = q.Get(ctx, "", j.ID)
		return j.Notified != ""
	})
	if !strings.Contains(j.Notified, "mailed her@example.com, him@example.com") || !strings.Contains(j.Notified, "webhook answered 204") {
		t.Fatalf("notified: %q", j.Notified)
	}

	msgs := box.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d mails, want 1", len(msgs))
	}
	m := msgs[0]
	if m.from != "migrate@example.com" || strings.Join(m.to, ",") != "her@example.com,him@example.com" {
		t.Fatalf("envelope from %q to %v", m.from, m.to)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(m.data)))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mimeDecoder).decode(msg.Header.Get("Subject"))
	if !strings.Contains(subject, "succeeded") || !strings.Contains(subject, j.ID) {
		t.Errorf("subject %q", subject)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	// The body carries the report's summary, as HipChat's mail did.
	report, _ := q.Report(ctx, "", j.ID, "txt")
	want := mustRead(t, report.Path)
	if !strings.Contains(strings.ReplaceAll(string(body), "\r\n", "\n"), strings.TrimSpace(want)) {
		t.Errorf("the mail does not carry the report:\n%s\n--- report:\n%s", body, want)
	}
	if !strings.Contains(string(body), "https://migrate.example.com/#job="+j.ID) {
		t.Errorf("the mail has no link to the job:\n%s", body)
	}

	if hookCalls.Load() != 2 {
		t.Errorf("%d webhook calls, want 2 (one failure, one retry)", hookCalls.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	var p WebhookPayload
	if err := json.Unmarshal(hookBody, &p); err != nil {
		t.Fatal(err)
	}
	if p.Event != "job.ended" || p.Job.ID != j.ID || p.Job.State != StateSucceeded || p.Job.Result == nil || p.Job.Result.Output == "" {
		t.Errorf("webhook payload %+v", p)
	}
	if !strings.HasPrefix(hookSig, "sha256=") || len(hookSig) != 7+64 {
		t.Errorf("signature header %q", hookSig)
	}
}

func TestNotifyFailureIsRecorded(t *testing.T) {
	// A mail server that is not there, and a webhook that refuses: the job
	// still succeeds and says what went wrong with the notices.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer hook.Close()
	cfg := testConfig(t, t.TempDir())
	cfg.Notify = &Notifier{SMTPAddr: dead, From: "migrate@example.com", WebhookBackoff: 10 * time.Millisecond}
	q := openQueue(t, cfg)
	ctx := context.Background()
	j, err := q.Submit(ctx, "alice", Spec{From: "archive", To: "archive", Notify: []string{"her@example.com"}, Webhook: hook.URL}, nil, stage(t, q, "s.tar.gz", packSample(t)))
	if err != nil {
		t.Fatal(err)
	}
	waitFinal(t, q, j.ID, 60*time.Second)
	waitFor(t, 10*time.Second, "the notification to be recorded", func() bool {
		j, _ = q.Get(ctx, "", j.ID)
		return j.Notified != ""
	})
	if j.State != StateSucceeded || !strings.Contains(j.Notified, "mail failed") || !strings.Contains(j.Notified, "403") || !strings.Contains(j.Notified, "not retried") {
		t.Fatalf("state %s, notified %q", j.State, j.Notified)
	}
}
