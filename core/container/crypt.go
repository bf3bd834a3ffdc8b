package container

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// saltedMagic opens every file written by "openssl enc -salt". It is
// followed by an 8-byte salt and then the AES-256-CBC ciphertext. Neither the
// KDF nor the iteration count is recorded in the file.
var saltedMagic = []byte("Salted__")

const (
	headerLen = 16 // "Salted__" + 8-byte salt
	blockSize = aes.BlockSize

	// cryptChunk is how much ciphertext is decrypted or encrypted per call to
	// CryptBlocks. Large chunks keep the per-call overhead negligible and let
	// the file system read ahead; the buffer is the only per-stream
	// allocation, so memory stays constant.
	cryptChunk = 1 << 20

	// probeBlocks is how much of the ciphertext KDF auto-detection decrypts
	// with each candidate: 32 blocks = 512 bytes, enough to see the "ustar"
	// magic at offset 257 of a tar header.
	probeBlocks = 32
)

// errBadPadding is what a wrong key looks like at the end of CBC data: the
// last block does not end in valid PKCS#7 padding. A truncated or damaged
// file looks the same, so the message mentions both.
var errBadPadding = fmt.Errorf("%w (the end of the encrypted data does not decrypt to valid padding: wrong passphrase, or the archive is damaged)", ErrWrongPassphrase)

var errCipherTruncated = fmt.Errorf("%w: the encrypted data is not a whole number of 16-byte AES blocks", ErrTruncated)

var errNoCiphertext = fmt.Errorf("%w: the encrypted file has a header but no data", ErrTruncated)

// NewDecryptReader returns a reader of the plaintext of an openssl enc salted
// file ("Salted__", 8-byte salt, AES-256-CBC with PKCS#7 padding) read from r.
//
// kdf and iter say how the key was derived; iter only applies to KDFPBKDF2
// (0 means openssl's default of 10000). If kdf is "", the first 512 bytes are
// decrypted with each of md5, sha256 and pbkdf2 and the first whose plaintext
// begins like a known format (gzip, zstd, zip, tar, JSON or other text) is
// used; if none does, the error is ErrWrongPassphrase.
//
// The reader streams with a fixed 1 MiB buffer. The last block is held back
// until the end of the input is seen, so the padding can be checked and
// removed: a bad padding yields an error matching ErrWrongPassphrase, a
// ciphertext that is not a whole number of blocks one matching ErrTruncated.
func NewDecryptReader(r io.Reader, passphrase []byte, kdf KDF, iter int) (io.Reader, error) {
	var check func([]byte) bool
	if kdf == "" {
		check = plausiblePlaintext
	}
	d, _, _, err := openDecrypt(r, passphrase, kdf, iter, check)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// openDecrypt reads the salted header from r and sets up decryption.
//
// When check is nil, kdf (defaulting to md5) is used as given. Otherwise the
// candidates (kdf alone if set, else md5, sha256, pbkdf2) are tried on the
// first probeBlocks of ciphertext and the first whose plaintext satisfies
// check wins. The probe is then replayed in front of the rest of r, so
// nothing is read twice from r.
func openDecrypt(r io.Reader, pass []byte, kdf KDF, iter int, check func([]byte) bool) (*decryptReader, KDF, int, error) {
	var hdr [headerLen]byte
	if n, err := io.ReadFull(r, hdr[:]); err != nil {
		if err != io.EOF && err != io.ErrUnexpectedEOF {
			return nil, "", 0, err
		}
		if n > 0 && bytes.HasPrefix(hdr[:n], saltedMagic[:min(n, len(saltedMagic))]) {
			return nil, "", 0, fmt.Errorf("%w: the file ends inside the openssl header", ErrTruncated)
		}
		return nil, "", 0, errors.New("not an openssl enc salted file (too short)")
	}
	if !bytes.Equal(hdr[:len(saltedMagic)], saltedMagic) {
		return nil, "", 0, errors.New(`not an openssl enc salted file (no "Salted__" header; was it encrypted with -nosalt, or base64-encoded with -a?)`)
	}
	salt := hdr[len(saltedMagic):]

	if check == nil {
		k, it, err := normalizeKDF(kdf, iter, KDFMD5)
		if err != nil {
			return nil, "", 0, err
		}
		key, iv, err := deriveKeyIV(pass, salt, k, it)
		if err != nil {
			return nil, "", 0, err
		}
		return newDecryptReader(r, key, iv), k, it, nil
	}

	type candidate struct {
		kdf  KDF
		iter int
	}
	var cands []candidate
	if kdf != "" {
		k, it, err := normalizeKDF(kdf, iter, "")
		if err != nil {
			return nil, "", 0, err
		}
		cands = []candidate{{k, it}}
	} else {
		if iter < 0 {
			return nil, "", 0, fmt.Errorf("iteration count %d is negative", iter)
		}
		// An iteration count without a KDF can only mean pbkdf2 (openssl's
		// -iter implies -pbkdf2); it still makes sense to try the
		// EVP_BytesToKey variants first because they cost nothing.
		pit := iter
		if pit == 0 {
			pit = DefaultPBKDF2Iter
		}
		cands = []candidate{{KDFMD5, 0}, {KDFSHA256, 0}, {KDFPBKDF2, pit}}
	}

	// Read one block more than we decrypt, to learn whether the probe holds
	// the whole ciphertext (and so ends with the padding block).
	probe := make([]byte, (probeBlocks+1)*blockSize)
	n, err := io.ReadFull(r, probe)
	whole := false
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		whole = true
		probe = probe[:n]
		if n == 0 {
			return nil, "", 0, errNoCiphertext
		}
		if n%blockSize != 0 {
			return nil, "", 0, errCipherTruncated
		}
	case err != nil:
		return nil, "", 0, err
	}
	plain := make([]byte, len(probe))
	badPadding := false
	for _, c := range cands {
		key, iv, err := deriveKeyIV(pass, salt, c.kdf, c.iter)
		if err != nil {
			return nil, "", 0, err
		}
		block, _ := aes.NewCipher(key) // key is always 32 bytes
		cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, probe)
		p := plain
		if whole {
			var ok bool
			if p, ok = unpad(plain); !ok {
				// Right start, wrong end: the key is probably right and
				// the file damaged or cut at a block boundary.
				if len(plain) > blockSize && sniff(plain[:len(plain)-blockSize]) != fmtPlain {
					badPadding = true
				}
				continue
			}
		} else {
			p = p[:probeBlocks*blockSize]
		}
		if check(p) {
			src := io.MultiReader(bytes.NewReader(probe), r)
			return newDecryptReader(src, key, iv), c.kdf, c.iter, nil
		}
	}
	if badPadding {
		return nil, "", 0, errBadPadding
	}
	return nil, "", 0, ErrWrongPassphrase
}

// unpad strips PKCS#7 padding from the final plaintext, reporting whether it
// was well formed.
func unpad(p []byte) ([]byte, bool) {
	if len(p) == 0 || len(p)%blockSize != 0 {
		return nil, false
	}
	pad := int(p[len(p)-1])
	if pad == 0 || pad > blockSize {
		return nil, false
	}
	for _, b := range p[len(p)-pad:] {
		if int(b) != pad {
			return nil, false
		}
	}
	return p[:len(p)-pad], true
}

// decryptReader decrypts AES-256-CBC in place in one fixed buffer.
//
// buf[0:16] is reserved for the block withheld from the previous chunk;
// ciphertext is read into buf[16:]. Every chunk but the last is a whole
// number of blocks, because the buffer is and io.ReadFull only returns short
// at the end of the input.
type decryptReader struct {
	src   io.Reader
	block cipher.Block
	iv    [blockSize]byte // ciphertext block preceding the next chunk
	par   int             // most parts a chunk is decrypted in at once
	buf   []byte
	out   []byte // decrypted bytes not yet returned; aliases buf
	tail  [blockSize]byte
	// haveTail is false only before the first chunk.
	haveTail bool
	err      error
}

func newDecryptReader(src io.Reader, key, iv []byte) *decryptReader {
	block, _ := aes.NewCipher(key) // key is always 32 bytes
	d := &decryptReader{
		src:   src,
		block: block,
		buf:   make([]byte, blockSize+cryptChunk),
		par:   min(runtime.GOMAXPROCS(0), maxParallelParts),
	}
	copy(d.iv[:], iv)
	return d
}

// minParallelPart is the smallest share of a chunk worth a goroutine.
const minParallelPart = 128 << 10

// decrypt decrypts b (a whole number of blocks) in place.
//
// CBC decryption of a block needs only that block and the ciphertext block
// before it, so a chunk can be cut into parts decrypted at the same time,
// each starting from the ciphertext block that precedes it. This matters
// because the standard library's CBC decrypter on amd64 handles one block
// at a time, while openssl interleaves several; spreading the work over the
// cores narrows the gap.
func (d *decryptReader) decrypt(b []byte) {
	n := len(b)
	if n == 0 {
		return
	}
	var next [blockSize]byte
	copy(next[:], b[n-blockSize:])
	parts := min(d.par, n/minParallelPart)
	if parts <= 1 {
		cipher.NewCBCDecrypter(d.block, d.iv[:]).CryptBlocks(b, b)
		d.iv = next
		return
	}
	size := n / blockSize / parts * blockSize
	// Save every part's IV before any part is overwritten.
	var ivs [maxParallelParts][blockSize]byte
	ivs[0] = d.iv
	for k := 1; k < parts; k++ {
		copy(ivs[k][:], b[k*size-blockSize:k*size])
	}
	var wg sync.WaitGroup
	for k := 1; k < parts; k++ {
		part := b[k*size : min((k+1)*size, n)]
		if k == parts-1 {
			part = b[k*size:]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cipher.NewCBCDecrypter(d.block, ivs[k][:]).CryptBlocks(part, part)
		}()
	}
	cipher.NewCBCDecrypter(d.block, ivs[0][:]).CryptBlocks(b[:size], b[:size])
	wg.Wait()
	d.iv = next
}

// maxParallelParts bounds the goroutines one decrypting reader uses.
const maxParallelParts = 4

func (d *decryptReader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		d.fill()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

// fill decrypts the next chunk into d.out, or sets d.err.
func (d *decryptReader) fill() {
	data := d.buf[blockSize:]
	n, err := io.ReadFull(d.src, data)
	last := false
	switch err {
	case nil:
	case io.EOF, io.ErrUnexpectedEOF:
		last = true
	default:
		d.err = err
		return
	}
	if n%blockSize != 0 {
		d.err = errCipherTruncated
		return
	}
	d.decrypt(data[:n])
	start := blockSize
	if d.haveTail {
		copy(d.buf[:blockSize], d.tail[:])
		start = 0
	}
	plain := d.buf[start : blockSize+n]
	if !last {
		// Hold back the final block: only the end of the input tells
		// whether it carries the padding.
		copy(d.tail[:], plain[len(plain)-blockSize:])
		d.haveTail = true
		d.out = plain[:len(plain)-blockSize]
		return
	}
	if len(plain) == 0 {
		d.err = errNoCiphertext
		return
	}
	p, ok := unpad(plain)
	if !ok {
		d.err = errBadPadding
		return
	}
	d.out = p
	d.err = io.EOF
}

// NewEncryptWriter returns a writer that encrypts what is written to it into
// w in the openssl enc salted format: "Salted__", a random 8-byte salt, then
// AES-256-CBC with PKCS#7 padding. kdf "" means md5, the derivation HipChat
// uses; iter only applies to pbkdf2 (0 means 10000). The result decrypts
// with "openssl enc -d -aes-256-cbc" given the matching -md md5, -md sha256 or
// -pbkdf2 [-iter N].
//
// Close writes the final padded block; it does not close w. Nothing is
// written to w before the header and then only whole 1 MiB chunks, so w
// needs no buffering of its own.
func NewEncryptWriter(w io.Writer, passphrase []byte, kdf KDF, iter int) (io.WriteCloser, error) {
	k, it, err := normalizeKDF(kdf, iter, KDFMD5)
	if err != nil {
		return nil, err
	}
	var hdr [headerLen]byte
	copy(hdr[:], saltedMagic)
	if _, err := rand.Read(hdr[len(saltedMagic):]); err != nil {
		return nil, err
	}
	key, iv, err := deriveKeyIV(passphrase, hdr[len(saltedMagic):], k, it)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(hdr[:]); err != nil {
		return nil, err
	}
	block, _ := aes.NewCipher(key)
	return &encryptWriter{
		w:    w,
		mode: cipher.NewCBCEncrypter(block, iv),
		buf:  make([]byte, cryptChunk),
	}, nil
}

// encryptWriter collects plaintext in buf and encrypts it a full buffer at a
// time; since cryptChunk is a multiple of the block size, only Close has to
// deal with a partial block.
type encryptWriter struct {
	w      io.Writer
	mode   cipher.BlockMode
	buf    []byte
	n      int
	err    error
	closed bool
}

var errWriterClosed = errors.New("write to a closed encrypting writer")

func (e *encryptWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if e.closed {
		return 0, errWriterClosed
	}
	written := 0
	for len(p) > 0 {
		c := copy(e.buf[e.n:], p)
		e.n += c
		p = p[c:]
		written += c
		if e.n == len(e.buf) {
			e.mode.CryptBlocks(e.buf, e.buf)
			if _, err := e.w.Write(e.buf); err != nil {
				e.err = err
				return written, err
			}
			e.n = 0
		}
	}
	return written, nil
}

// Close pads and writes the last block. Calling it again does nothing.
func (e *encryptWriter) Close() error {
	if e.closed || e.err != nil {
		return e.err
	}
	e.closed = true
	// e.n < len(e.buf) here, and len(e.buf) is a multiple of the block size,
	// so the padding always fits.
	pad := blockSize - e.n%blockSize
	for i := 0; i < pad; i++ {
		e.buf[e.n+i] = byte(pad)
	}
	end := e.n + pad
	e.mode.CryptBlocks(e.buf[:end], e.buf[:end])
	_, err := e.w.Write(e.buf[:end])
	e.err = err
	return err
}
