package schema

import (
	"strings"
	"testing"
)

const sampleMessage = `{"id":"5f3a1b2c3d4e5f6a7b8c9d0e","kind":"normal","room":"r1","sender":"u1","sent_at":"2018-08-08T14:23:54.626267Z","body":"see @**Jane Roe** and the file","original":"see @JaneRoe and the file","original_format":"text","mentions":[{"kind":"user","user":"u2","text":"JaneRoe"}],"attachments":["a1"]}`

func TestEverySchemaCompiles(t *testing.T) {
	if err := Check(); err != nil {
		t.Fatal(err)
	}
	for _, n := range Names {
		if _, err := Raw(n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}

func TestValidateReportsEveryViolation(t *testing.T) {
	err := Validate("message", []byte(`{"id":"m","kind":"loud","room":"r","conversation":"c","sent_at":"nope","body":"x"}`))
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("got %T %v, want *Error", err, err)
	}
	got := e.Error()
	for _, want := range []string{"message m", "/kind", "/sent_at", "sender", "exactly one of room and conversation"} {
		if !strings.Contains(got, want) {
			t.Errorf("error %q does not mention %q", got, want)
		}
	}
	if err := Validate("message", []byte(sampleMessage)); err != nil {
		t.Fatalf("valid message rejected: %v", err)
	}
	if err := Validate("message", []byte(`{"id":`)); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Fatalf("truncated JSON: got %v", err)
	}
	if err := Validate("gizmo", []byte(`{}`)); err == nil {
		t.Fatal("an unknown kind was accepted")
	}
}

func BenchmarkValidateMessage(b *testing.B) {
	if err := Check(); err != nil {
		b.Fatal(err)
	}
	data := []byte(sampleMessage)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := Validate("message", data); err != nil {
			b.Fatal(err)
		}
	}
}
