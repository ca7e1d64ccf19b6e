package pgconfig

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"upay/domain"
)

// Passwords with the characters that defeated pattern-based masking: a
// message about their URL must never show them, however malformed.
func TestNoPasswordInMessages(t *testing.T) {
	for _, pw := range []string{"pa/ss9word", "s3cr@t!xyz", "p%zzq", "colon:pw", "plain-s3cret"} {
		for _, u := range []string{
			"postgres://upay:" + pw + "@127.0.0.1:5432/db",
			"postgres://upay:" + pw + "@127.0.0.1:notaport/db",
			"postgres://upay:" + pw + "@127.0.0.1/db?sslmode=sometimes",
			"postgres://upay@127.0.0.1/db?password=" + pw + "&sslmode=sometimes",
			"mysql://upay:" + pw + "@127.0.0.1/db",
		} {
			cfg, err := Parse(u)
			if err == nil {
				err = ConnectError(cfg, u, errors.New("failed to connect: password "+pw+" rejected"))
			}
			msg := fmt.Sprintf("%v %+v %#v", err, err, err)
			// Neither the password nor a piece of it between reserved characters.
			for _, piece := range append(strings.FieldsFunc(pw, func(r rune) bool { return strings.ContainsRune("/@:%", r) }), pw) {
				if len(piece) >= 4 && strings.Contains(msg, piece) {
					t.Errorf("%s: the message shows %q of the password: %v", u, piece, err)
				}
			}
			if c := domain.CodeOf(err); c != domain.CodeInvalidField && c != domain.CodeStoreFailure {
				t.Errorf("%s: code %q", u, c)
			}
		}
	}
}

func TestParseAndDescribe(t *testing.T) {
	cfg, err := Parse("postgres://upay:secret@db.example:6543/ledger?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	if got := Describe(cfg); got != "upay@db.example:6543/ledger" {
		t.Errorf("Describe = %q", got)
	}
	for _, u := range []string{"", "upay.db", "host=x password=y", "postgres://u:p@h:notaport/db"} {
		if _, err := Parse(u); domain.CodeOf(err) != domain.CodeInvalidField {
			t.Errorf("Parse(%q) = %v, want U1009", u, err)
		}
	}
}
