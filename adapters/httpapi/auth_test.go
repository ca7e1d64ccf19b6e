package httpapi

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseTokens(t *testing.T) {
	file := strings.Join([]string{
		"# operator's tokens",
		"",
		"admin-token-0123456789\tadmin",
		"finance-token-0123456789 finance - fin-team",
		HashToken("auditor-token-0123456789") + "\tauditor\t-\taudit-firm",
		"merchant-a-token-0123456789\tmerchant\t270212122\tshop-a",
		"  " + HashToken("merchant-b-token-0123456789") + "  merchant  123456789  ",
	}, "\n")
	tk, err := ParseTokens(strings.NewReader(file), "tokens")
	if err != nil {
		t.Fatal(err)
	}
	if tk.Len() != 5 || tk.Plaintext != 3 {
		t.Fatalf("Len %d Plaintext %d, want 5 and 3", tk.Len(), tk.Plaintext)
	}
	cases := []struct {
		token string
		ok    bool
		want  Principal
	}{
		{"admin-token-0123456789", true, Principal{Role: RoleAdmin, Name: "admin:3"}},
		{"finance-token-0123456789", true, Principal{Role: RoleFinance, Name: "fin-team"}},
		{"auditor-token-0123456789", true, Principal{Role: RoleAuditor, Name: "audit-firm"}},
		{"merchant-a-token-0123456789", true, Principal{Role: RoleMerchant, Merchant: "270212122", Name: "shop-a"}},
		{"merchant-b-token-0123456789", true, Principal{Role: RoleMerchant, Merchant: "123456789", Name: "merchant:7"}},
		{"admin-token-012345678", false, Principal{}},
		{"admin-token-01234567890", false, Principal{}},
		{"", false, Principal{}},
		{HashToken("auditor-token-0123456789"), false, Principal{}}, // the hash is not the token
	}
	for _, c := range cases {
		p, ok := tk.Authenticate(c.token)
		if ok != c.ok || p != c.want {
			t.Errorf("Authenticate(%q) = %+v, %v; want %+v, %v", c.token, p, ok, c.want, c.ok)
		}
	}
}

func TestParseTokensErrors(t *testing.T) {
	cases := map[string]string{
		"short":            "short-token admin",
		"one field":        "admin-token-0123456789",
		"five fields":      "admin-token-0123456789 admin - name extra",
		"bad role":         "admin-token-0123456789 root",
		"merchant missing": "merchant-token-0123456789 merchant",
		"merchant bad":     "merchant-token-0123456789 merchant 12345",
		"admin merchant":   "admin-token-0123456789 admin 270212122",
		"bad hash":         "sha256:abcd admin",
		"bad hash hex":     "sha256:" + strings.Repeat("zz", 32) + " admin",
		"duplicate":        "admin-token-0123456789 admin\nadmin-token-0123456789 finance",
		"duplicate hashed": "admin-token-0123456789 admin\n" + HashToken("admin-token-0123456789") + " finance",
		"control char":     "admin-token-0123456789\x01 admin",
		"invalid utf8":     "admin-token-\xff0123456789 admin",
	}
	for name, file := range cases {
		_, err := ParseTokens(strings.NewReader(file), "f")
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !strings.Contains(err.Error(), "U1009") || !strings.Contains(err.Error(), "line") {
			t.Errorf("%s: error %q lacks code or line", name, err)
		}
	}
}

func TestLoadTokens(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(p, []byte("admin-token-0123456789 admin\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tk, err := LoadTokens(p)
	if err != nil || tk.Len() != 1 {
		t.Fatalf("LoadTokens: %v, %v", tk, err)
	}
	if _, err := LoadTokens(p + ".missing"); err == nil {
		t.Error("missing file: no error")
	}
}

func TestBearer(t *testing.T) {
	for h, want := range map[string]string{
		"Bearer abc":   "abc",
		"bearer abc":   "abc",
		"BEARER  abc ": "abc",
		"Basic abc":    "",
		"Bearer":       "",
		"Bearer ":      "",
		"":             "",
	} {
		got, ok := bearer(h)
		if got != want || ok != (want != "") {
			t.Errorf("bearer(%q) = %q, %v; want %q", h, got, ok, want)
		}
	}
}
