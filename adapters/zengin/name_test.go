package zengin

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"ﾃｽﾄｼﾖｳﾃﾝ", "ﾍﾟｲｼﾞ ｶﾌﾞｼｷｶﾞｲｼﾔ", "ABC(ｶ", strings.Repeat("ｱ", HolderWidth)} {
		if err := CheckName("受取人名", ok, HolderWidth); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, tc := range []struct {
		s    string
		kind Kind
	}{
		{"", KindValue}, {"ﾃｽﾄｼｮｳﾃﾝ", KindCharset}, {"テスト", KindCharset}, {"test", KindCharset},
		{"山田", KindCharset}, {"ｺｰﾋｰ", KindCharset}, {strings.Repeat("ｱ", HolderWidth+1), KindTooLong},
	} {
		var fe *FieldError
		if err := CheckName("受取人名", tc.s, HolderWidth); !errors.As(err, &fe) || fe.Kind != tc.kind {
			t.Errorf("%q: %v, want kind %v", tc.s, err, tc.kind)
		}
	}
}
