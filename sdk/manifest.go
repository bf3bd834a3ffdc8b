package sdk

// Manifest describes an adapter: who it is, what it can do, which options
// it takes and what its input and output look like. The host builds its
// command-line flags, its `migrate adapters` listing and its checks from it.
type Manifest struct {
	// Name is the adapter's identifier on the command line ("gitter",
	// "hipchat-server"): lower case letters, digits and dashes.
	Name string `json:"name"`
	// Title is a human name ("HipChat Server").
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
	// Source and Target say which roles the adapter plays; they must agree
	// with the interfaces it implements.
	Source bool `json:"source"`
	Target bool `json:"target"`
	// Options the adapter accepts.
	Options []Option `json:"options,omitempty"`
	// Input describes what a source reads.
	Input InputSpec `json:"input,omitempty"`
	// Output describes what a target writes.
	Output OutputSpec `json:"output,omitempty"`
	// Constraints are the target system's rules that the import engine
	// must satisfy before records reach the target.
	Constraints Constraints `json:"constraints,omitempty"`
}

// InputSpec describes a source's input.
type InputSpec struct {
	// Description says in a line what to give the source, for help text.
	Description string `json:"description,omitempty"`
	// Containers lists the wrappings the host may have to peel, outermost
	// first ("openssl-enc", "gzip", "tar", "zip"); informative only, since
	// the host detects wrappings by content.
	Containers []string `json:"containers,omitempty"`
	// Encrypted is true when inputs are usually encrypted, so the host asks
	// for a passphrase up front.
	Encrypted bool `json:"encrypted,omitempty"`
	// MultipleInputs is true when several inputs make one workspace.
	MultipleInputs bool `json:"multiple_inputs,omitempty"`
}

// OutputSpec describes a target's output.
type OutputSpec struct {
	// Form is "directory" or an archive form: "tar", "tar.gz",
	// "tar.gz.aes". The host packs the tree the target wrote accordingly.
	Form string `json:"form,omitempty"`
	// PassphraseRequired is true when the output must be encrypted.
	PassphraseRequired bool `json:"passphrase_required,omitempty"`
	// KDF is the openssl key derivation the output uses: "md5", "sha256"
	// or "pbkdf2".
	KDF string `json:"kdf,omitempty"`
	// Description says in a line what the output is, for help text.
	Description string `json:"description,omitempty"`
}

// Constraints are rules of a target system the engine enforces by renaming
// or filling in, with a warning for each change.
type Constraints struct {
	// UserNameMax, RoomNameMax and MentionNameMax are maximum lengths in
	// characters; 0 means no limit.
	UserNameMax    int `json:"user_name_max,omitempty"`
	RoomNameMax    int `json:"room_name_max,omitempty"`
	MentionNameMax int `json:"mention_name_max,omitempty"`
	// RoomNameForbidden lists characters a room name may not contain.
	RoomNameForbidden string `json:"room_name_forbidden,omitempty"`
	// RoomNamesFold is true when room names must be unique ignoring case.
	RoomNamesFold bool `json:"room_names_fold,omitempty"`
	// EmailRequired is true when every user needs an e-mail address.
	EmailRequired bool `json:"email_required,omitempty"`
	// EmailDomain is used to fill in missing addresses
	// (<username>@EmailDomain) when EmailRequired is set.
	EmailDomain string `json:"email_domain,omitempty"`
	// EmailByTarget is true when the target fills in missing addresses
	// itself (for example from a mapping file, or with a placeholder that
	// depends on the source system); the engine then leaves them alone.
	EmailByTarget bool `json:"email_by_target,omitempty"`
}

// OptionType is the type of an option's value.
type OptionType string

// Option types. A file option names a file on the host; the host reads it
// (bounded in size) and passes its content, since adapters never open host
// paths.
const (
	OptionString  OptionType = "string"
	OptionBool    OptionType = "bool"
	OptionInt     OptionType = "int"
	OptionStrings OptionType = "strings" // comma-separated on the command line
	OptionFile    OptionType = "file"
)

// Option declares one option an adapter accepts.
type Option struct {
	// Name is the flag name without dashes ("gitter-repo").
	Name        string     `json:"name"`
	Type        OptionType `json:"type"`
	Description string     `json:"description"`
	// Default is the value used when the option is not given; its Go type
	// follows Type (string, bool, int64, []string; file options have none).
	Default any `json:"default,omitempty"`
	// Role is "source", "target" or "" for both.
	Role string `json:"role,omitempty"`
}
