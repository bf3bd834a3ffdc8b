package hipchat

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

func historyArray(n int, tail string) string {
	var b strings.Builder
	b.WriteString("[")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"UserMessage":{"id":"m%d","message":"hi %d"}}`, i, i)
	}
	b.WriteString(tail)
	return b.String()
}

// Elements decoded ahead arrive in order, each decoded, and a syntax error
// comes after every element before it, as a single goroutine would give.
func TestHistoryElementsOrderAndErrors(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      int
		err       string
	}{
		{"whole", historyArray(1000, "]"), 1000, ""},
		{"truncated", historyArray(700, ",{\"UserMessage\":"), 700, "record 700"},
		{"bad element kept going", `[{"UserMessage":{"id":"a"}},{"UserMessage":5},[{"UserMessage":{"id":"b"}}]]`, 3, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStream("h.json", strings.NewReader(tc.doc))
			if _, err := s.first(); err != nil {
				t.Fatal(err)
			}
			n := 0
			err := s.historyElements(func(d *decoded) error {
				if d.i != n {
					t.Fatalf("element %d arrived as number %d", d.i, n)
				}
				if d.raw[0] == '{' && d.e == nil {
					t.Errorf("element %d was not decoded ahead", d.i)
				}
				if tc.name == "whole" && (d.err != nil || d.e.UserMessage == nil || string(d.e.UserMessage.ID) != fmt.Sprintf("m%d", d.i)) {
					t.Errorf("element %d decoded as %+v (%v)", d.i, d.e, d.err)
				}
				n++
				return nil
			})
			if n != tc.want {
				t.Errorf("%d elements handled, want %d", n, tc.want)
			}
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("error %v, want one naming %q", err, tc.err)
			}
		})
	}
}

// When the caller fails, the decoding goroutine stops and nothing leaks.
func TestHistoryElementsStopsOnCallerError(t *testing.T) {
	before := runtime.NumGoroutine()
	stopHere := errors.New("stop here")
	for range 20 {
		s := newStream("h.json", strings.NewReader(historyArray(5000, "]")))
		if _, err := s.first(); err != nil {
			t.Fatal(err)
		}
		n := 0
		err := s.historyElements(func(d *decoded) error {
			if n++; n == 300 {
				return stopHere
			}
			return nil
		})
		if !errors.Is(err, stopHere) || n != 300 {
			t.Fatalf("got %v after %d elements", err, n)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines left running, %d before", g, before)
	}
}
