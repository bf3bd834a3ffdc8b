package pixtoome

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/adaptertest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenResult is a small workspace: two users, a room with a thread, a
// private room, a direct message, an attachment and a reaction.
func goldenResult() *adaptertest.Result {
	res := &adaptertest.Result{Blobs: map[string][]byte{}}
	exported := at(60)
	res.Workspace = &sdk.Workspace{ID: "g", Name: "Golden", SourceSystem: "gitter", ExportedAt: &exported}
	res.Users = []*sdk.User{
		{ID: "1", Username: "ada", DisplayName: "Ada Lovelace", Role: sdk.RoleMember},
		{ID: "2", Username: "alan", DisplayName: "Alan Turing", Role: sdk.RoleMember},
	}
	res.Rooms = []*sdk.Room{
		{ID: "r", Name: "engine", Description: "Analytical engine", Members: []string{"1", "2"}},
		{ID: "p", Name: "private", Private: true, Members: []string{"1"}},
	}
	res.Conversations = []*sdk.Conversation{{ID: "d", Participants: []string{"1", "2"}}}
	f := blob(res, []byte("notes"), "text/plain")
	res.Attachments = []*sdk.Attachment{{ID: "n", Message: "m2", Name: "notes.txt", Size: f.Size, ContentType: "text/plain", SHA256: f.SHA256, Uploader: "2"}}
	res.Messages = []*sdk.Message{
		{ID: "m1", Room: "r", Sender: "1", Body: "Note G: computing Bernoulli numbers"},
		{ID: "m2", Room: "r", Sender: "2", ThreadRoot: "m1", Body: "@ada impressive", Attachments: []string{"n"},
			Mentions:  []sdk.Mention{{Kind: sdk.MentionUser, User: "1", Text: "ada"}},
			Reactions: []sdk.Reaction{{Emoji: "heart", Users: []string{"1"}}}},
		{ID: "m3", Room: "p", Sender: "1", Body: "just me"},
		{ID: "m4", Conversation: "d", Sender: "2", Body: "tea?"},
	}
	for i, m := range res.Messages {
		m.Kind = sdk.MessageNormal
		m.SentAt = at(i)
	}
	return res
}

func TestGolden(t *testing.T) {
	for _, profile := range []string{"gitter-final", "latest"} {
		t.Run(profile, func(t *testing.T) {
			opts := sdk.Options{"profile": profile}
			if profile == "latest" {
				opts = latestOptions(t)
			}
			dir, _ := adaptertest.RunTarget(t, &Adapter{Now: fixedNow}, goldenResult().Dataset(), opts)
			mustCheck(t, dir, profile)
			golden := filepath.Join("testdata", "golden", profile)
			if *update {
				os.RemoveAll(golden)
				if err := os.CopyFS(golden, os.DirFS(dir)); err != nil {
					t.Fatal(err)
				}
			}
			var got, want []string
			fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					got = append(got, p)
				}
				return nil
			})
			fs.WalkDir(os.DirFS(golden), ".", func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					want = append(want, p)
				}
				return nil
			})
			if len(got) != len(want) {
				t.Fatalf("files %v, golden %v (run go test -update after checking the change)", got, want)
			}
			for _, p := range want {
				g, _ := os.ReadFile(filepath.Join(dir, p))
				w, _ := os.ReadFile(filepath.Join(golden, p))
				if !bytes.Equal(g, w) {
					t.Errorf("%s differs from testdata/golden/%s/%s:\n%s", p, profile, p, g)
				}
			}
		})
	}
}
