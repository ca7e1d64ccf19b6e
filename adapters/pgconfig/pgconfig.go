// Package pgconfig reads a PostgreSQL store URL into a pgx pool
// configuration and names the server in messages, for every PostgreSQL
// adapter (adapters/postgres, adapters/pgmodels) and the admin commands.
//
// A message never shows the URL: a password may hold characters that no
// pattern reliably finds in a malformed URL (/, @, %), so a URL that cannot
// be parsed is reported with a hint only, and a parsed one by user, host,
// port and database, with the parsed password removed from any cause the
// driver reports.
package pgconfig

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"upay/domain"
)

// Parse reads a postgres:// (or postgresql://) URL. Errors: U1009 saying
// what form is expected, with nothing of the URL.
func Parse(dbURL string) (*pgxpool.Config, error) {
	if !strings.HasPrefix(dbURL, "postgres://") && !strings.HasPrefix(dbURL, "postgresql://") {
		return nil, domain.Err(domain.CodeInvalidField, "postgres: the store is not a postgres:// URL")
	}
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		detail := "check its form"
		var ue *url.Error
		if errors.As(err, &ue) {
			detail = ue.Err.Error() // what is wrong, without the URL it quotes
		}
		return nil, domain.Err(domain.CodeInvalidField, "postgres: cannot read the database URL (%s): want postgres://user:password@host:port/database?option=value, "+
			"with reserved characters such as / @ : %% in the password percent-encoded", scrub(detail, dbURL, nil))
	}
	// An unencoded @ in the password leaves its tail in the host name,
	// where no message may show it.
	if strings.Contains(cfg.ConnConfig.Host, "@") {
		return nil, domain.Err(domain.CodeInvalidField, "postgres: cannot read the database URL: its password holds an unencoded @; percent-encode reserved characters (/ @ : %%) in the password")
	}
	return cfg, nil
}

// Describe names the server and database of cfg for a message.
func Describe(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// ConnectError is U3003 for a failure to reach or log in to the server
// of cfg, with the driver's reason and never the password.
func ConnectError(cfg *pgxpool.Config, dbURL string, err error) error {
	return domain.Err(domain.CodeStoreFailure, "postgres: cannot connect to PostgreSQL at %s: %s", Describe(cfg), scrub(err.Error(), dbURL, cfg))
}

// scrub removes from msg every form of the password that dbURL or cfg
// hold. The cause is dropped, not wrapped, so that %+v cannot show it.
func scrub(msg, dbURL string, cfg *pgxpool.Config) string {
	var pws []string
	if cfg != nil && cfg.ConnConfig.Password != "" {
		pw := cfg.ConnConfig.Password
		pws = append(pws, pw, url.QueryEscape(pw), url.PathEscape(pw))
	}
	if u, err := url.Parse(dbURL); err == nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			pws = append(pws, pw)
		}
		for _, k := range []string{"password", "sslpassword"} {
			if pw := u.Query().Get(k); pw != "" {
				pws = append(pws, pw, url.QueryEscape(pw))
			}
		}
	}
	for _, pw := range pws {
		if pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return msg
}
