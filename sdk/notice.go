package sdk

// Level is a notice's severity.
type Level string

// Notice levels.
const (
	LevelWarning Level = "warning"
	LevelError   Level = "error"
)

// Notice is a warning or error about one record or file. Notices end up in
// the run's report. When Skipped is true the record named by Kind and
// Record was not imported, and the report counts it as such.
type Notice struct {
	Level Level `json:"level"`
	// Code is a stable identifier for the kind of notice
	// ("user-mapped", "sender-unknown"), for machines and tests.
	Code string `json:"code"`
	// Message is for people: what happened, where, and what to do.
	Message string `json:"message"`
	Kind    Kind   `json:"kind,omitempty"`
	Record  string `json:"record,omitempty"`
	// Detail adds what Message leaves out (Message keeps HipChat's exact
	// wording where there is one).
	Detail string `json:"detail,omitempty"`
	// File is the input file the notice is about, when there is one.
	File    string `json:"file,omitempty"`
	Skipped bool   `json:"skipped,omitempty"`
}
