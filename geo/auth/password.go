package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters. They travel inside every stored
// hash (the PHC string), so raising them later only changes new hashes:
// old ones still verify with their own parameters, and are re-hashed with
// the new ones at the user's next sign-in.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// DefaultParams are OWASP's argon2id recommendation (19 MiB, two passes,
// one lane): about 30 ms a hash on this project's machine, slow enough to
// make guessing expensive and fast enough for a sign-in.
var DefaultParams = Params{Memory: 19456, Time: 2, Threads: 1}

// saltLen and keyLen are the salt and hash lengths of new hashes, in bytes.
const (
	saltLen = 16
	keyLen  = 32
)

// Limits on what a stored hash may ask for, so that a corrupt or hostile
// row cannot make a sign-in allocate gigabytes or spin for minutes.
const (
	maxMemory  = 1 << 20 // 1 GiB
	maxTime    = 16
	maxThreads = 16
)

// Password length limits. The minimum is for passwords people set; the
// maximum bounds the work a sign-in attempt can cause.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 1024
)

// ErrBadHash is returned for a stored password hash that is not a PHC
// argon2id string this package can verify.
var ErrBadHash = errors.New("not an argon2id PHC hash")

// phc is a parsed PHC string.
type phc struct {
	params Params
	salt   []byte
	key    []byte
}

// b64 is the PHC string format's base64: standard alphabet, no padding.
// Strict, so one hash has exactly one spelling.
var b64 = base64.RawStdEncoding.Strict()

// Hash returns the argon2id PHC string of password with DefaultParams and
// a fresh 16-byte random salt:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func Hash(password string) (string, error) {
	return hashWith(password, DefaultParams)
}

func hashWith(password string, p Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	return phc{params: p, salt: salt, key: key}.String(), nil
}

// String formats the hash as a PHC string.
func (h phc) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.Memory, h.params.Time, h.params.Threads, b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// parsePHC parses an argon2id PHC string strictly: the version must be 19,
// the parameters in the order m, t, p as plain decimal numbers within the
// limits above, and salt and hash canonical base64 of sensible lengths.
func parsePHC(s string) (phc, error) {
	var h phc
	if len(s) > 512 {
		return h, ErrBadHash
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v=19" {
		return h, ErrBadHash
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return h, ErrBadHash
	}
	var vals [3]uint64
	for i, key := range []string{"m", "t", "p"} {
		name, num, ok := strings.Cut(kv[i], "=")
		if !ok || name != key || num == "" || len(num) > 10 || (len(num) > 1 && num[0] == '0') {
			return h, ErrBadHash
		}
		for _, c := range num {
			if c < '0' || c > '9' {
				return h, ErrBadHash
			}
		}
		v, err := strconv.ParseUint(num, 10, 32)
		if err != nil {
			return h, ErrBadHash
		}
		vals[i] = v
	}
	m, t, p := vals[0], vals[1], vals[2]
	if t < 1 || t > maxTime || p < 1 || p > maxThreads || m < 8*p || m > maxMemory {
		return h, ErrBadHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return h, ErrBadHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return h, ErrBadHash
	}
	h.params = Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(p)}
	h.salt, h.key = salt, key
	return h, nil
}

// Verify reports whether password matches the PHC string stored. The
// comparison takes the same time wherever the first differing byte is.
func Verify(stored, password string) (bool, error) {
	h, err := parsePHC(stored)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.params.Time, h.params.Memory, h.params.Threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// needsRehash reports whether a stored hash was made with parameters other
// than DefaultParams, so that a sign-in can upgrade it.
func needsRehash(stored string) bool {
	h, err := parsePHC(stored)
	return err != nil || h.params != DefaultParams || len(h.salt) != saltLen || len(h.key) != keyLen
}

// CheckPassword says why a password a person chose is not acceptable, or
// returns nil. Only length is checked: long passphrases are what we want,
// and composition rules make them worse, not better.
func CheckPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return errors.New("the password is not valid UTF-8")
	case n < MinPasswordLen:
		return fmt.Errorf("the password is %d characters long; it must have at least %d", n, MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("the password is longer than %d bytes", MaxPasswordLen)
	}
	return nil
}

// GeneratePassword returns a new random password of 26 base32 characters
// (128 bits), for the command line to print once.
func GeneratePassword() string {
	return rand.Text()
}
