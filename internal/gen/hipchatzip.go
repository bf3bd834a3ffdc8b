package gen

import (
	"archive/zip"
	"compress/flate"
	"context"
	"io"
	"strings"
)

func init() {
	register("hipchat-cloud-zip", false, "legacy HipChat Cloud zip (before 2018): hipchat_export/users/list.json, rooms/list.json, rooms/<Room Name>/<YYYY-MM-DD>.json", genHipChatZip)
}

// zipRoomDir spells a room's folder the way the legacy export did: the
// room name with characters unsafe in paths replaced ("Mesan: Old" ->
// "Mesan_ Old").
func zipRoomDir(name string) string {
	return strings.NewReplacer("/", "_", ":", "_", "\\", "_", "*", "_", "?", "_", "\"", "_", "<", "_", ">", "_", "|", "_").Replace(name)
}

func genHipChatZip(ctx context.Context, g *generator, out string) (string, error) {
	path := outputPath(out, "hipchat_export.zip")
	return path, writeFile(path, func(w io.Writer) error {
		zw := zip.NewWriter(w)
		// One compressor and one JSON buffer serve every entry: the zip
		// writer closes an entry before it opens the next, and a flate
		// writer costs about a megabyte to allocate.
		var fw *flate.Writer
		zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
			if fw == nil {
				var err error
				fw, err = flate.NewWriter(w, flate.BestSpeed)
				return fw, err
			}
			fw.Reset(w)
			return fw, nil
		})
		shared := newJW(nil)
		mod := g.exportTime
		create := func(name string) (*jw, error) {
			f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mod})
			if err != nil {
				return nil, err
			}
			shared.reset(f)
			return shared, nil
		}
		users := len(g.users)

		j, err := create("hipchat_export/users/list.json")
		if err != nil {
			return err
		}
		j.objStart()
		j.key("users")
		j.arrStart()
		for u := range g.users {
			us := &g.users[u]
			j.objStart()
			j.kInt("user_id", g.hcUserID(u))
			if us.guest {
				j.kNull("email")
			} else {
				j.kStr("email", strings.ToLower(us.handle())+"@example.com")
			}
			j.kInt("is_deleted", b2i(us.deleted))
			j.kInt("is_group_admin", b2i(us.admin))
			j.kStr("name", us.displayName())
			j.kStr("mention_name", us.mentionName())
			j.kStr("photo_url", "https://s3.amazonaws.com/uploads.hipchat.com/photos/"+itoa(int(g.hcUserID(u)))+"/"+token(uint64(u)+7, 10)+"_125.jpg")
			j.kInt("last_active", g.exportTime.Unix()-int64(u)*3607)
			j.kInt("created", us.created.Unix())
			j.kStr("status", "offline")
			j.kStr("status_message", "")
			j.kStr("timezone", us.tz)
			j.kStr("title", titles[u%len(titles)])
			j.objEnd()
		}
		j.arrEnd()
		j.objEnd()
		if err := j.flush(); err != nil {
			return err
		}

		j, err = create("hipchat_export/rooms/list.json")
		if err != nil {
			return err
		}
		j.objStart()
		j.key("rooms")
		j.arrStart()
		for _, s := range g.rooms {
			j.objStart()
			j.kInt("room_id", g.hcRoomID(s))
			j.kStr("name", s.name)
			j.kStr("topic", s.topic)
			j.kInt("last_active", wallTime(fromActive(s.tauEnd)).Unix())
			j.kInt("created", s.created.Unix())
			j.kInt("owner_user_id", g.hcUserID(s.member(0, users)))
			j.kBool("is_archived", s.archived)
			j.kBool("is_private", s.private)
			if s.guest {
				j.kStr("guest_access_url", "https://www.hipchat.com/g"+token(uint64(g.hcRoomID(s)), 9))
			} else {
				j.kNull("guest_access_url")
			}
			j.kStr("xmpp_jid", itoa(hipchatGroupID)+"_"+slug(s.name, s.room)+"@conf.hipchat.com")
			j.objEnd()
		}
		j.arrEnd()
		j.objEnd()
		if err := j.flush(); err != nil {
			return err
		}

		// One file per room and day, oldest first within the day.
		var scratch []byte
		for _, s := range g.rooms {
			dir := "hipchat_export/rooms/" + zipRoomDir(s.name) + "/"
			day := ""
			j = nil
			err := g.eachRoomMessage(ctx, s, func(m *Msg) {
				if err != nil {
					return
				}
				t := m.Sent()
				if d := t.Format("2006-01-02"); d != day {
					if j != nil {
						j.arrEnd()
						if err = j.flush(); err != nil {
							return
						}
					}
					day = d
					if j, err = create(dir + d + ".json"); err != nil {
						return
					}
					j.arrStart()
				}
				j.objStart()
				scratch = t.AppendFormat(scratch[:0], "2006-01-02T15:04:05-0700")
				j.key("date")
				j.strB(scratch)
				j.key("from")
				j.objStart()
				if m.Kind == kindNotification {
					j.kStr("name", m.Integration)
					j.kStr("user_id", "api")
				} else {
					j.kStr("name", g.users[m.Sender].displayName())
					j.kInt("user_id", g.hcUserID(m.Sender))
				}
				j.objEnd()
				if a := m.Attach; a != nil {
					j.key("file")
					j.objStart()
					j.kStr("name", a.Name)
					j.kInt("size", a.Size)
					j.kStr("url", "https://s3.amazonaws.com/uploads.hipchat.com/"+itoa(hipchatGroupID)+"/"+a.Dir+"/"+a.Name)
					j.objEnd()
				}
				j.key("message")
				j.strB(g.appendText(scratch[:0], m, dHipChat))
				j.objEnd()
			})
			if err != nil {
				return err
			}
			if j != nil {
				j.arrEnd()
				if err := j.flush(); err != nil {
					return err
				}
			}
		}
		return zw.Close()
	})
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
