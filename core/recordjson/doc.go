// Package recordjson encodes and decodes the canonical message and
// attachment records without reflection.
//
// Messages are the bulk of every archive: the archive writer encodes each
// one once, and a conversion reads the message stream several times. With
// encoding/json those passes cost several microseconds per message, most
// of the pipeline's time. The functions here do the same work directly on
// the sdk types and are several times faster.
//
// They are exact, not approximate:
//
//   - AppendMessage and AppendAttachment write the very bytes that a
//     json.Encoder writes for the record (without its final newline): the
//     same field order and omitempty rules, the same escaping of <, > and
//     &, of U+2028 and U+2029 and of control characters, invalid UTF-8
//     replaced by U+FFFD, map keys sorted, times as time.Time.MarshalJSON
//     writes them (and refused where it refuses them). The canonical
//     archive depends on this: its bytes, and so its hashes, must not
//     depend on which encoder wrote it.
//
//   - DecodeMessage and DecodeAttachment give the result of json.Unmarshal
//     into a zero record, for every input. A hand-written scanner handles
//     the shapes that the encoders write, and the usual variations
//     (whitespace, escapes, any field order); on anything else (an unknown
//     or differently cased key, a null, a number where a string belongs, a
//     repeated field, a syntax error) it starts again with json.Unmarshal,
//     which then decides the value and the error.
//
// Other record kinds are few per archive and stay on encoding/json.
package recordjson
