package engine

// The error and warning messages HipChat Server's import reported, word
// for word (curly apostrophes included) as its guide "Troubleshooting the
// import" lists them; "{}" in the guide is %s here. The engine words every
// notice it shares with HipChat this way, so that people who know HipChat's
// import e-mail recognise them.
const (
	// MsgDecryptFailed belongs to the container layer, which decrypts
	// archives; it is listed so that the catalogue is complete.
	MsgDecryptFailed = "Couldn’t decrypt the archive file. Make sure you’re entering the correct password."
	// MsgUserMapped: the user had a username, e-mail address or @mention
	// name that already exists; their data is mapped onto the existing user.
	MsgUserMapped = "A user you’re importing already exists. The user %s is now mapped to %s."
	// MsgRoomMapped: a room with the same name already exists; the room's
	// data is mapped onto it.
	MsgRoomMapped = "A room you’re importing already exists. The room %s is now mapped to %s."
	// MsgRoomOwnerMissing: the room's owner was not imported, so the group
	// admin owns it now.
	MsgRoomOwnerMissing = "The room %s’s owner, %s, is missing. The new owner is %s."
	// MsgRoomCreateFailed: the room could not be created.
	MsgRoomCreateFailed = "Failed to create room %s: %s"
	// MsgMemberAddFailed: a member could not be added to a private room.
	MsgMemberAddFailed = "Failed to add member %s: %s"
	// MsgRoomPopulateIssues: a private room lists a deleted user among its
	// members; a deleted user cannot be a member, but their messages stay.
	MsgRoomPopulateIssues = "Issues found when populating the room"
	// MsgUserDeleteFailed: related to guest access; messages still import.
	MsgUserDeleteFailed = "Couldn't delete user"
	// MsgMemberNotImported: a private room's member was not imported.
	MsgMemberNotImported = "The user, %s, is missing from the list of room members because the user wasn't imported."
	// MsgFileUploadFailed: a file could not be carried over.
	MsgFileUploadFailed = "Failed to upload file: %s"
	// MsgPhotoUploadFailed: a user's photo could not be carried over. The
	// guide prints the sentence with the username left out ("for username
	// ."); the engine puts it where the gap is.
	MsgPhotoUploadFailed = "Couldn’t upload the photo for username %s."
	// MsgSomethingWrong: the run failed for a reason the user cannot act on
	// directly; the report's error says what it was.
	MsgSomethingWrong = "Something went wrong. Try again in a few minutes."
)

// Notice codes, stable for machines and tests.
const (
	CodeUserMapped         = "user-mapped"
	CodeRoomMapped         = "room-mapped"
	CodeEmojiMapped        = "emoji-mapped"
	CodeRoomOwnerMissing   = "room-owner-missing"
	CodeRoomCreateFailed   = "room-create-failed"
	CodeMemberAddFailed    = "member-add-failed"
	CodeRoomPopulateIssues = "room-populate-issues"
	CodeUserDeleteFailed   = "user-delete-failed"
	CodeMemberNotImported  = "member-not-imported"
	CodeFileUploadFailed   = "file-upload-failed"
	CodePhotoUploadFailed  = "photo-upload-failed"
	CodeInternal           = "internal-error"
	CodeUserCreateFailed   = "user-create-failed"
	CodeUserRenamed        = "user-renamed"
	CodeEmailFilled        = "email-filled"
	CodeRoomRenamed        = "room-renamed"
	CodeEmojiCreateFailed  = "emoji-create-failed"
	CodeConversationLost   = "conversation-not-imported"
	CodeParticipantLost    = "participant-not-imported"
)
