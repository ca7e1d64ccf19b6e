package httpapi

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"upay/domain"
)

// Role is what a token may read.
type Role string

// The roles. Admin, finance and auditor read everything this read-only API
// serves; a merchant token reads only its own merchant's transactions and
// balance.
const (
	RoleAdmin    Role = "admin"
	RoleFinance  Role = "finance"
	RoleAuditor  Role = "auditor"
	RoleMerchant Role = "merchant"
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleFinance, RoleAuditor, RoleMerchant}

func parseRole(s string) (Role, bool) {
	for _, r := range Roles {
		if string(r) == s {
			return r, true
		}
	}
	return "", false
}

// Principal is who a request authenticated as.
type Principal struct {
	Role     Role
	Merchant domain.MerchantID // set only for RoleMerchant
	Name     string            // label for logs; never the token
}

// MinTokenLength is the shortest plaintext token the file may hold.
const MinTokenLength = 16

// hashPrefix marks a token field that holds the SHA-256 of the token
// instead of the token itself.
const hashPrefix = "sha256:"

type tokenEntry struct {
	hash [sha256.Size]byte
	p    Principal
}

// Tokens is the operator's token table, held as SHA-256 hashes only. It is
// immutable and safe for concurrent use.
type Tokens struct {
	entries   []tokenEntry
	Plaintext int // how many entries the file held as plaintext tokens
}

// LoadTokens reads a token file (see ParseTokens).
func LoadTokens(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, domain.Wrap(domain.CodeInvalidField, err, "token file")
	}
	defer f.Close()
	return ParseTokens(f, path)
}

// ParseTokens reads the token file format (docs/http-api.md): one token a
// line, fields separated by tabs or spaces:
//
//	TOKEN  ROLE  [MERCHANT|-]  [NAME]
//
// TOKEN is the bearer token itself (at least 16 characters of printable
// ASCII) or "sha256:" followed by the 64 hex digits of its SHA-256, so that
// the file need not hold secrets. ROLE is admin, finance, auditor or
// merchant. MERCHANT is the 9-digit merchant id a merchant token may see,
// required for merchant tokens and "-" (or absent) for the others. NAME is
// an optional label for the access log. Blank lines and lines starting with
// # are ignored. A token listed twice is an error. Errors are U1009 naming
// the file and line.
func ParseTokens(r io.Reader, name string) (*Tokens, error) {
	t := &Tokens{}
	seen := map[[sha256.Size]byte]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		bad := func(format string, args ...any) error {
			return domain.Err(domain.CodeInvalidField, "token file %s line %d: %s", name, line, fmt.Sprintf(format, args...))
		}
		if !utf8.ValidString(text) {
			return nil, bad("not valid UTF-8")
		}
		f := strings.Fields(text)
		if len(f) < 2 || len(f) > 4 {
			return nil, bad("want TOKEN ROLE [MERCHANT|-] [NAME], got %d fields", len(f))
		}
		var e tokenEntry
		if hx, ok := strings.CutPrefix(f[0], hashPrefix); ok {
			b, err := hex.DecodeString(hx)
			if err != nil || len(b) != sha256.Size {
				return nil, bad("%s must be followed by 64 hex digits", hashPrefix)
			}
			copy(e.hash[:], b)
		} else {
			if len(f[0]) < MinTokenLength {
				return nil, bad("token shorter than %d characters", MinTokenLength)
			}
			if !validToken(f[0]) {
				return nil, bad("token holds characters outside printable ASCII")
			}
			e.hash = sha256.Sum256([]byte(f[0]))
			t.Plaintext++
		}
		role, ok := parseRole(f[1])
		if !ok {
			return nil, bad("role %q is not admin, finance, auditor or merchant", f[1])
		}
		e.p.Role = role
		merchant := "-"
		if len(f) >= 3 {
			merchant = f[2]
		}
		switch {
		case role == RoleMerchant:
			m, err := domain.ParseMerchantID(merchant)
			if err != nil {
				return nil, bad("a merchant token needs its 9-digit merchant id, got %q", merchant)
			}
			e.p.Merchant = m
		case merchant != "-":
			return nil, bad("only merchant tokens name a merchant; write - for a %s token", role)
		}
		if len(f) == 4 {
			e.p.Name = f[3]
		} else {
			e.p.Name = fmt.Sprintf("%s:%d", role, line)
		}
		if prev, dup := seen[e.hash]; dup {
			return nil, bad("same token as line %d", prev)
		}
		seen[e.hash] = line
		t.entries = append(t.entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, domain.Wrap(domain.CodeInvalidField, err, "token file %s line %d", name, line+1)
	}
	return t, nil
}

// validToken accepts printable ASCII without spaces: the characters a
// bearer token (RFC 6750 b64token) and our file format can carry.
func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return s != ""
}

// Len returns how many tokens the table holds.
func (t *Tokens) Len() int { return len(t.entries) }

// Authenticate finds the principal of a presented token. It hashes the
// token and compares the hash with every entry in constant time, so the
// time taken tells nothing about which entry, if any, matched.
func (t *Tokens) Authenticate(token string) (Principal, bool) {
	if t == nil || token == "" || len(token) > 4096 {
		return Principal{}, false
	}
	h := sha256.Sum256([]byte(token))
	found := -1
	for i := range t.entries {
		if subtle.ConstantTimeCompare(h[:], t.entries[i].hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Principal{}, false
	}
	return t.entries[found].p, true
}

// HashToken returns the file form of a token's hash ("sha256:<hex>"), for
// operators who keep only hashes in the token file.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hashPrefix + hex.EncodeToString(h[:])
}

// bearer extracts the token of an "Authorization: Bearer <token>" header
// (the scheme is case-insensitive).
func bearer(header string) (string, bool) {
	scheme, tok, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
