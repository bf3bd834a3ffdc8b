package pixtoome

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/migrate-chat/migrate/sdk"
)

// ParseEmailMap reads the --email-map file: a JSON object mapping
// usernames to e-mail addresses, or CSV lines "username,email" (a header
// line naming the columns is allowed). Keys are matched without regard to
// case against a user's username, id or mention name.
func ParseEmailMap(b []byte) (map[string]string, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	out := map[string]string{}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var m map[string]string
		if err := json.Unmarshal(t, &m); err != nil {
			return nil, fmt.Errorf("the JSON form must be an object of \"username\": \"email\": %w", err)
		}
		for k, v := range m {
			if !validEmail(strings.TrimSpace(v)) {
				return nil, fmt.Errorf("%q: %q is not a valid e-mail address", k, v)
			}
			out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
		return out, nil
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.Comment = '#'
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if len(rec) < 2 {
			return nil, fmt.Errorf("line %d: want \"username,email\"", line)
		}
		k, v := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if line == 1 && strings.EqualFold(v, "email") {
			continue
		}
		if !validEmail(v) {
			return nil, fmt.Errorf("line %d: %q is not a valid e-mail address", line, v)
		}
		out[strings.ToLower(k)] = v
	}
	return out, nil
}

// Summary is what NextSteps needs to know about a conversion.
type Summary struct {
	// SourceSystem is the workspace's source system ("gitter", ...).
	SourceSystem string
	// Profile is the profile the output was written for.
	Profile string
	// Users is the number of users written, and Owners how many of them
	// are organization owners.
	Users  int
	Owners int
}

// Summarize works out a Summary from the dataset and options a conversion
// ran with.
func Summarize(ds sdk.Dataset, opts sdk.Options) Summary {
	s := Summary{Profile: opts.String("profile")}
	if s.Profile == "" {
		s.Profile = DefaultProfile
	}
	if ws := ds.Workspace(); ws != nil {
		s.SourceSystem = ws.SourceSystem
	}
	owners := map[string]bool{}
	for _, o := range opts.Strings("owner") {
		owners[strings.ToLower(o)] = true
	}
	for u, err := range ds.Users() {
		if err != nil {
			break
		}
		s.Users++
		if u.Role == sdk.RoleOwner || owners[strings.ToLower(u.Username)] || owners[strings.ToLower(u.Email)] {
			s.Owners++
		}
	}
	return s
}

// NextSteps tells an administrator what to do with the output on the
// Pixtoome server, one line (or command) per element.
func NextSteps(outDir string, s Summary) []string {
	dir := "/tmp/" + baseName(outDir)
	steps := []string{
		fmt.Sprintf("Copy %s to the Pixtoome server, e.g.: scp -r %s pixtoome-server:%s", outDir, outDir, dir),
		"On the server, as the pixtoome user: cd /home/pixtoome/deployments/current",
		"Stop the server: ./scripts/stop-server",
		fmt.Sprintf("Import into the root domain: ./manage.py import '' %s   (or into a subdomain: ./manage.py import <subdomain> %s)", dir, dir),
		"Start the server: ./scripts/start-server",
	}
	if s.Profile == "latest" {
		steps = append(steps[:3], append([]string{"The server must run the same major version as the migration_status.json the output was made with."}, steps[3:]...)...)
	}
	if s.SourceSystem == "gitter" {
		steps = append(steps, "Users have GitHub no-reply addresses and sign in with GitHub (enable GitHub authentication on the server).")
	} else {
		steps = append(steps,
			"Passwords are never exported. Send yourself a reset first: ./manage.py send_password_reset_email -u you@example.com",
			"Then everyone: ./manage.py send_password_reset_email -r '' --all-users   (replace '' with your subdomain)")
	}
	if s.Owners == 0 {
		steps = append(steps, "No user is an organization owner yet. Make one: ./manage.py change_user_role -r '' <email> owner   (admins: ... <email> admin)")
	} else {
		steps = append(steps, "Make further administrators with: ./manage.py change_user_role -r '' <email> admin")
	}
	return steps
}

func baseName(p string) string {
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		p = p[i+1:]
	}
	if p == "" || p == "." {
		return "converted"
	}
	return p
}

var _ sdk.Guide = (*Adapter)(nil)

// NextSteps implements sdk.Guide.
func (a *Adapter) NextSteps(output string, data sdk.Dataset, opts sdk.Options) []string {
	return NextSteps(output, Summarize(data, opts))
}
