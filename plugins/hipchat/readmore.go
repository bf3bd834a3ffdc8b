package hipchat

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/migrate-chat/migrate/sdk"
)

// readEmoticonsInTree reads emoticons.json beside users.json, when there is
// one: HipChat Server 2.2.9 exports often have none.
func (r *reader) readEmoticonsInTree() error {
	name := r.join("emoticons.json")
	if !r.exists(name) {
		r.notice(sdk.Notice{Code: "emoticons-absent", File: "emoticons.json",
			Message: "emoticons.json is not in the export: no custom emoticons are imported, and (shortcut) tokens that are not HipChat built-ins stay as text"})
		return nil
	}
	return r.readEmoticonsFile(name)
}

// readEmoticonsFile reads the three shapes of emoticon lists: the export's
// [{"Emoticon": {...}}], hc-migrate's {"Emoticons": [...]} and API v2's
// {"items": [...]}.
func (r *reader) readEmoticonsFile(name string) error {
	s, closeFn, err := r.openStream(name)
	if err != nil {
		return err
	}
	defer closeFn()
	tok, err := s.first()
	if err != nil {
		return err
	}
	each := func(i int, raw json.RawMessage) error { return r.emoticonRecord(s.name, i, raw) }
	switch tok {
	case json.Delim('['):
		if err := s.elements(each); err != nil {
			return err
		}
	case json.Delim('{'):
		if err := s.fields(func(key string) error {
			if key != "Emoticons" && key != "items" && key != "emoticons" {
				return s.skip()
			}
			t, err := s.dec.Token()
			if err != nil {
				return s.syntaxErr(key, err)
			}
			if t != json.Delim('[') {
				return fmt.Errorf("%s: %q is %s, want an array of emoticons", s.name, key, delimName(t))
			}
			return s.elements(each)
		}); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%s: want a list of emoticons, found %s", s.name, delimName(tok))
	}
	return s.end()
}

func (r *reader) emoticonRecord(file string, i int, raw json.RawMessage) error {
	var e hcEmoticon
	if err := json.Unmarshal(unwrap(raw, "Emoticon"), &e); err != nil {
		r.skipRecord(file, i, sdk.KindEmoji, "", fmt.Sprintf("not an emoticon: %v", err))
		return nil
	}
	short := strings.TrimSpace(e.Shortcut)
	if short == "" {
		r.skipRecord(file, i, sdk.KindEmoji, string(e.ID), "the emoticon has no shortcut")
		return nil
	}
	lower := strings.ToLower(short)
	if e.Type == "global" {
		// HipChat's own emoticons: those with a standard emoji are not
		// custom emoji at all.
		if _, ok := builtinEmoticons[lower]; ok {
			return nil
		}
	}
	id := string(e.ID)
	if id == "" {
		id = short
	}
	if r.emojiSeen[id] {
		r.notice(sdk.Notice{Code: "emoticon-duplicate", File: file, Kind: sdk.KindEmoji, Record: id, Skipped: true,
			Message: fmt.Sprintf("%s: record %d: emoticon %s (%s) appears twice; the first one is kept", file, i, id, short)})
		return nil
	}
	r.emojiSeen[id] = true
	rec := &sdk.Emoji{ID: id, Shortcode: short, ImageURL: e.URL}
	if e.Type == "global" {
		rec.Extra = map[string]string{extraEmojiType: "global"}
	}
	if e.Path != "" {
		if rec.Extra == nil {
			rec.Extra = map[string]string{}
		}
		rec.Extra[extraPath] = e.Path
		clean := path.Clean(strings.TrimPrefix(e.Path, "/"))
		f, err := r.fsys.Open(r.join(clean))
		if err == nil && fs.ValidPath(clean) {
			ref, perr := r.out.PutBlob(f, contentTypeOf(clean))
			f.Close()
			if perr != nil {
				return fmt.Errorf("%s: emoticon %s: copying %s: %w", file, short, e.Path, perr)
			}
			rec.Image = &ref
		} else {
			if f != nil {
				f.Close()
			}
			r.notice(sdk.Notice{Code: "emoticon-image-missing", File: file, Kind: sdk.KindEmoji, Record: id,
				Message: fmt.Sprintf("%s: record %d: the image of (%s), %q, is not in the export; the emoticon is kept without it", file, i, short, e.Path)})
		}
	}
	if _, taken := r.custom[lower]; !taken {
		r.custom[lower] = short
	}
	return r.emit(rec)
}

// readLegacy reads the Cloud export that came as a zip before 2018:
// hipchat_export/users/list.json, rooms/list.json and
// rooms/<Room Name>/<YYYY-MM-DD>.json day files.
func (r *reader) readLegacy() error {
	if err := r.readListFile(r.join("users", "list.json"), "users", func(file string, i int, raw json.RawMessage) error {
		return r.userRecord(file, i, raw, "")
	}); err != nil {
		return err
	}
	r.haveUsers = true
	if err := r.readListFile(r.join("rooms", "list.json"), "rooms", func(file string, i int, raw json.RawMessage) error {
		return r.roomRecord(file, i, raw, "")
	}); err != nil {
		return err
	}
	// The legacy export has no membership at all.
	byDir := map[string]*roomState{}
	for _, st := range r.rooms {
		st.infer = true
		st.dir = legacyDirName(st.rec.Name)
		byDir[st.rec.Name] = st
		if _, taken := byDir[st.dir]; !taken {
			byDir[st.dir] = st
		}
	}
	roomsDir := r.join("rooms")
	entries, err := fs.ReadDir(r.fsys, roomsDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", r.rel(roomsDir), err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		st := byDir[e.Name()]
		if st == nil {
			st = r.unknownRoom("legacy:"+e.Name(), r.rel(path.Join(roomsDir, e.Name())))
			st.rec.Name = e.Name()
		}
		days, err := fs.ReadDir(r.fsys, path.Join(roomsDir, e.Name()))
		if err != nil {
			return fmt.Errorf("%s: %w", r.rel(path.Join(roomsDir, e.Name())), err)
		}
		for _, d := range days {
			if d.IsDir() || !strings.HasSuffix(d.Name(), ".json") {
				continue
			}
			hc := &histCtx{room: st, day: strings.TrimSuffix(d.Name(), ".json")}
			if err := r.readHistoryFile(path.Join(roomsDir, e.Name(), d.Name()), hc); err != nil {
				return err
			}
		}
	}
	r.notice(sdk.Notice{Code: "legacy-export",
		Message: "legacy HipChat Cloud export: it has no room membership, no one-to-one history, no files and no avatars (photo URLs are kept)"})
	return nil
}

// legacyDirName is the folder name the legacy export gave a room: its
// name with the characters that file systems refuse replaced by "_"
// ("Mesan: Old" → "Mesan_ Old").
func legacyDirName(name string) string {
	return strings.Map(func(c rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, c) {
			return '_'
		}
		return c
	}, name)
}

// readListFile streams {"<key>": [...]} or a bare array.
func (r *reader) readListFile(name, key string, fn func(file string, i int, raw json.RawMessage) error) error {
	s, closeFn, err := r.openStream(name)
	if err != nil {
		return err
	}
	defer closeFn()
	tok, err := s.first()
	if err != nil {
		return err
	}
	each := func(i int, raw json.RawMessage) error { return fn(s.name, i, raw) }
	switch tok {
	case json.Delim('['):
		if err := s.elements(each); err != nil {
			return err
		}
	case json.Delim('{'):
		found := false
		if err := s.fields(func(k string) error {
			if k != key && k != "items" {
				return s.skip()
			}
			found = true
			t, err := s.dec.Token()
			if err != nil {
				return s.syntaxErr(k, err)
			}
			if t != json.Delim('[') {
				return fmt.Errorf("%s: %q is %s, want an array", s.name, k, delimName(t))
			}
			return s.elements(each)
		}); err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("%s: want {%q: [...]}, found an object without it", s.name, key)
		}
	default:
		return fmt.Errorf("%s: want {%q: [...]}, found %s", s.name, key, delimName(tok))
	}
	return s.end()
}

// Kinds of lone files, in the order they are read: users and rooms first,
// so that messages find them.
const (
	fileUsers = iota
	fileUser
	fileRooms
	fileEmoticons
	fileHistory
	filePrivate
)

// classify peeks at the start of a lone JSON file to tell what it holds.
func classify(fsys fs.FS, name string) (int, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := newStream(name, f)
	tok, err := s.first()
	if err != nil {
		return 0, err
	}
	kindOf := func(raw json.RawMessage) int {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return fileHistory
		}
		switch {
		case m["User"] != nil:
			return fileUsers
		case m["Room"] != nil:
			return fileRooms
		case m["Emoticon"] != nil:
			return fileEmoticons
		case m["PrivateUserMessage"] != nil:
			return filePrivate
		case m["shortcut"] != nil:
			return fileEmoticons
		case m["room_id"] != nil || m["privacy"] != nil:
			return fileRooms
		case m["mention_name"] != nil && m["message"] == nil && m["date"] == nil:
			return fileUsers
		}
		return fileHistory
	}
	errDone := errors.New("done")
	switch tok {
	case json.Delim('['):
		if !s.dec.More() {
			return fileHistory, nil
		}
		var raw json.RawMessage
		if err := s.dec.Decode(&raw); err != nil {
			return 0, s.syntaxErr("record 0", err)
		}
		return kindOf(raw), nil
	case json.Delim('{'):
		kind := -1
		var keys []string
		err := s.fields(func(k string) error {
			keys = append(keys, k)
			switch k {
			case "users":
				kind = fileUsers
				return errDone
			case "rooms":
				kind = fileRooms
				return errDone
			case "Emoticons", "emoticons":
				kind = fileEmoticons
				return errDone
			case "items":
				t, err := s.dec.Token()
				if err != nil {
					return s.syntaxErr("items", err)
				}
				kind = fileHistory
				if t == json.Delim('[') && s.dec.More() {
					var raw json.RawMessage
					if err := s.dec.Decode(&raw); err != nil {
						return s.syntaxErr("items[0]", err)
					}
					kind = kindOf(raw)
				}
				return errDone
			}
			return s.skip()
		})
		if err != nil && !errors.Is(err, errDone) {
			return 0, err
		}
		if kind >= 0 {
			return kind, nil
		}
		if slices.Contains(keys, "mention_name") {
			return fileUser, nil
		}
		return 0, fmt.Errorf("%s: an object with keys %s: not a HipChat export or API v2 file", name, strings.Join(keys, ", "))
	}
	return 0, fmt.Errorf("%s: want a JSON array or object, found %s", name, delimName(tok))
}

// readSingles reads inputs that are lone files: API v2 pages, or single
// files taken from an export.
func (r *reader) readSingles(ins []sdk.Input) error {
	type single struct {
		in   sdk.Input
		kind int
	}
	var list []single
	for _, in := range ins {
		k, err := classify(in.FS, in.Entry)
		if err != nil {
			return fmt.Errorf("%s: %w", in.Name, err)
		}
		list = append(list, single{in, k})
	}
	slices.SortStableFunc(list, func(a, b single) int { return a.kind - b.kind })
	for _, sg := range list {
		r.fsys, r.root, r.in = sg.in.FS, ".", sg.in.Name
		name := sg.in.Entry
		var err error
		switch sg.kind {
		case fileUsers:
			r.haveUsers = true
			err = r.readListFile(name, "users", func(file string, i int, raw json.RawMessage) error {
				return r.userRecord(file, i, raw, "User")
			})
		case fileUser:
			var b []byte
			if b, err = fs.ReadFile(sg.in.FS, name); err == nil {
				err = r.userRecord(name, 0, b, "User")
			}
		case fileRooms:
			err = r.readListFile(name, "rooms", func(file string, i int, raw json.RawMessage) error {
				return r.roomRecord(file, i, raw, "Room")
			})
		case fileEmoticons:
			err = r.readEmoticonsFile(name)
		case filePrivate:
			err = r.readHistoryFile(name, &histCtx{})
		case fileHistory:
			id, rerr := r.pageRoom(name)
			if rerr != nil {
				return rerr
			}
			st := r.roomByID[id]
			if st == nil {
				st = r.unknownRoom(id, name)
			}
			err = r.readHistoryFile(name, &histCtx{room: st})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// pageRoom finds the room a lone history file belongs to: from an API v2
// page's links.self (".../v2/room/<id>/history"), else from the file name.
func (r *reader) pageRoom(name string) (string, error) {
	f, err := r.fsys.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := newStream(name, f)
	tok, err := s.first()
	if err != nil {
		return "", err
	}
	id := ""
	if tok == json.Delim('{') {
		err := s.fields(func(k string) error {
			if k != "links" {
				return s.skip()
			}
			var links struct {
				Self string `json:"self"`
			}
			if err := s.dec.Decode(&links); err != nil {
				return s.syntaxErr("links", err)
			}
			if _, rest, ok := strings.Cut(links.Self, "/room/"); ok {
				id, _, _ = strings.Cut(rest, "/")
			}
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	if id == "" {
		id = strings.TrimSuffix(path.Base(name), ".json")
	}
	return id, nil
}
