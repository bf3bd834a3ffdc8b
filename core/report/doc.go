// Package report is the account of one migration run: whether it
// succeeded, succeeded with warnings or failed; every warning and error, in
// the words HipChat Server used for its import e-mail where HipChat had
// words for it; and, for each record kind, an account that closes — records
// in = records written + records not imported, each record not imported
// listed with its reason.
//
// A Report is written three ways: as JSON (WriteJSON, validated by
// schema/json/report.schema.json), as a short terminal summary (WriteText)
// and as a self-contained HTML page (WriteHTML) in the spirit of the e-mail
// HipChat sent when an import finished.
//
// Memory stays bounded however many records are lost: each list (the
// records not imported of one kind, and the notices) keeps its first
// Options.Limit entries in memory and spills the rest, as JSON lines, to a
// temporary file in Options.SpillDir. WriteJSON streams the full lists back
// out, so the JSON report is always complete; the text and HTML forms show
// the first entries and say how many more the JSON report holds. Close
// removes the temporary files.
package report
