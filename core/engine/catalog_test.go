package engine

import (
	"os"
	"strings"
	"testing"
)

// TestCatalogMatchesHipChat checks every message constant, word for word,
// against the table HipChat published.
func TestCatalogMatchesHipChat(t *testing.T) {
	b, err := os.ReadFile("testdata/hipchat-import-messages.txt")
	if err != nil {
		t.Fatal(err)
	}
	published := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		published[l] = true
	}
	consts := []string{MsgDecryptFailed, MsgUserMapped, MsgRoomMapped, MsgRoomOwnerMissing, MsgRoomCreateFailed,
		MsgMemberAddFailed, MsgRoomPopulateIssues, MsgUserDeleteFailed, MsgMemberNotImported, MsgFileUploadFailed,
		MsgPhotoUploadFailed, MsgSomethingWrong}
	if len(consts) != len(published) {
		t.Fatalf("%d constants for %d published messages", len(consts), len(published))
	}
	for _, c := range consts {
		want := strings.ReplaceAll(c, "%s", "{}")
		if c == MsgPhotoUploadFailed {
			// The guide lost the placeholder of this one.
			want = strings.Replace(c, " %s.", " .", 1)
		}
		if !published[want] {
			t.Errorf("%q is not in HipChat's table", want)
		}
	}
}
