package jobs

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/smtp"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Notifier tells people and systems that a job has ended: an e-mail with
// the report's summary to the job's notify addresses (as HipChat mailed
// its import report), and the job as JSON POSTed to its webhook.
type Notifier struct {
	// SMTPAddr is the mail server's host:port; empty sends no mail.
	SMTPAddr string
	// From is the sender's address.
	From string
	// Username and Password log in to the mail server (AUTH PLAIN, over
	// TLS unless the server is on this machine); empty sends anonymously.
	Username, Password string
	// BaseURL, when set, is the web page's address, for a link in the mail.
	BaseURL string
	// WebhookAttempts is how many times a webhook is tried (default 4);
	// WebhookBackoff is the wait before the first retry, doubled for each
	// further one (default 2s).
	WebhookAttempts int
	WebhookBackoff  time.Duration
	// WebhookSecret, when set, signs each webhook body: the header
	// X-Migrate-Signature carries sha256=HEX(HMAC-SHA256(secret, body)).
	WebhookSecret []byte
	// Client posts webhooks; nil means a client with a 30 s timeout.
	Client *http.Client
	Log    zerolog.Logger
}

// Send delivers the notifications of a finished job and returns a line
// saying how each went.
func (n *Notifier) Send(ctx context.Context, j *Job, reportText []byte) string {
	var parts []string
	if len(j.Spec.Notify) > 0 {
		if n.SMTPAddr == "" {
			parts = append(parts, "mail not sent: this server has no --smtp configured")
		} else if err := n.mail(ctx, j, reportText); err != nil {
			n.Log.Error().Err(err).Str("job", j.ID).Msg("sending the notification mail")
			parts = append(parts, "mail failed: "+err.Error())
		} else {
			parts = append(parts, "mailed "+strings.Join(j.Spec.Notify, ", "))
		}
	}
	if j.Spec.Webhook != "" {
		if status, err := n.webhook(ctx, j); err != nil {
			n.Log.Error().Err(err).Str("job", j.ID).Msg("calling the webhook")
			parts = append(parts, "webhook failed: "+err.Error())
		} else {
			parts = append(parts, "webhook answered "+status)
		}
	}
	return strings.Join(parts, "; ")
}

func statusText(s State) string {
	switch s {
	case StateSucceeded:
		return "succeeded"
	case StateWithWarnings:
		return "succeeded with warnings"
	case StateCancelled:
		return "was cancelled"
	}
	return "failed"
}

// Message builds the notification mail of a job: headers and a
// quoted-printable plain-text body.
func (n *Notifier) Message(j *Job, reportText []byte) []byte {
	subject := fmt.Sprintf("migrate: the conversion %s (job %s)", statusText(j.State), j.ID)
	var body strings.Builder
	fmt.Fprintf(&body, "The conversion from %s to %s %s.\n", j.Spec.From, j.Spec.To, statusText(j.State))
	if j.Error != "" {
		fmt.Fprintf(&body, "\n%s\n", j.Error)
	}
	if len(reportText) > 0 {
		body.WriteString("\n")
		body.Write(reportText)
		if !bytes.HasSuffix(reportText, []byte("\n")) {
			body.WriteString("\n")
		}
	}
	if n.BaseURL != "" {
		fmt.Fprintf(&body, "\nThe full report and the output: %s/#job=%s\n", strings.TrimRight(n.BaseURL, "/"), j.ID)
	}
	var msg bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&msg, "%s: %s\r\n", k, v) }
	hdr("From", n.From)
	hdr("To", strings.Join(j.Spec.Notify, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", subject))
	hdr("Date", time.Now().Format(time.RFC1123Z))
	hdr("Message-ID", fmt.Sprintf("<%s.%s@migrate>", j.ID, randomID(6)))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	msg.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&msg)
	_, _ = qp.Write([]byte(strings.ReplaceAll(body.String(), "\n", "\r\n")))
	_ = qp.Close()
	return msg.Bytes()
}

func (n *Notifier) mail(ctx context.Context, j *Job, reportText []byte) error {
	host, _, err := net.SplitHostPort(n.SMTPAddr)
	if err != nil {
		return fmt.Errorf("--smtp %q: want host:port", n.SMTPAddr)
	}
	d := net.Dialer{Timeout: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", n.SMTPAddr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return err
		}
	}
	if n.Username != "" {
		// PlainAuth itself refuses to send the password in the clear to
		// anything but this machine.
		if err := c.Auth(smtp.PlainAuth("", n.Username, n.Password, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(n.From); err != nil {
		return err
	}
	for _, to := range j.Spec.Notify {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("recipient %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(n.Message(j, reportText)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// WebhookPayload is the body POSTed to a job's webhook.
type WebhookPayload struct {
	Event string `json:"event"`
	Job   *Job   `json:"job"`
}

func (n *Notifier) webhook(ctx context.Context, j *Job) (string, error) {
	body, err := json.Marshal(WebhookPayload{Event: "job.ended", Job: j})
	if err != nil {
		return "", err
	}
	attempts := n.WebhookAttempts
	if attempts <= 0 {
		attempts = 4
	}
	wait := n.WebhookBackoff
	if wait <= 0 {
		wait = 2 * time.Second
	}
	client := n.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	var last error
	for i := range attempts {
		if i > 0 {
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(wait):
			}
			wait *= 2
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.Spec.Webhook, bytes.NewReader(body))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "migrate")
		req.Header.Set("X-Migrate-Delivery", fmt.Sprintf("%s/%d", j.ID, i+1))
		if len(n.WebhookSecret) > 0 {
			m := hmac.New(sha256.New, n.WebhookSecret)
			m.Write(body)
			req.Header.Set("X-Migrate-Signature", "sha256="+hex.EncodeToString(m.Sum(nil)))
		}
		resp, err := client.Do(req)
		if err != nil {
			last = err
			continue
		}
		resp.Body.Close()
		switch {
		case resp.StatusCode/100 == 2:
			return resp.Status, nil
		case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout:
			last = fmt.Errorf("HTTP %s", resp.Status)
		default:
			return "", fmt.Errorf("HTTP %s (not retried)", resp.Status)
		}
	}
	return "", fmt.Errorf("%d attempts, the last: %w", attempts, last)
}
