package merchants_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/adapters/secretfile"
	"upay/adapters/sqlite"
	"upay/domain"
	"upay/merchants"
)

type clock struct{ t time.Time }

func (c clock) Now() time.Time { return c.t }

func service(t *testing.T) *merchants.Service {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(filepath.Join(dir, "upay.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sec, err := secretfile.Open(filepath.Join(dir, "secrets"))
	if err != nil {
		t.Fatal(err)
	}
	return &merchants.Service{Store: st, Secrets: sec, Clock: clock{time.Date(2019, 10, 10, 1, 0, 0, 0, time.UTC)}}
}

func reg(id, holder string) domain.RegisterMerchant {
	return domain.RegisterMerchant{MerchantRegistered: domain.MerchantRegistered{Merchant: domain.MerchantID(id), Name: "テスト商店", Contact: "平 次郎", Email: "owner@example.jp",
		Bank:  domain.BankAccount{BankCode: "0010", BankName: "りそな銀行", BranchCode: "101", BranchName: "本店", Type: domain.AccountOrdinary, Number: "1234567", Holder: holder},
		Rates: domain.Rates{VisaMaster: "3.24", JCBOther: "3.24", Emoney: "3.24"}}}
}

func TestRegisterListChange(t *testing.T) {
	ctx := context.Background()
	s := service(t)
	for _, id := range []string{"270000002", "270000001"} {
		if _, err := s.Handle(ctx, reg(id, "ﾃｽﾄｼﾖｳﾃﾝ")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Handle(ctx, reg("270000001", "ﾃｽﾄｼﾖｳﾃﾝ")); domain.CodeOf(err) != domain.CodeMerchantExists {
		t.Fatalf("second registration: %v", err)
	}
	if _, err := s.Handle(ctx, reg("270000003", "ﾃｽﾄｼｮｳﾃﾝ")); domain.CodeOf(err) != domain.CodeBankFileChars {
		t.Fatalf("small kana holder: %v", err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "270000001" || list[1].ID != "270000002" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if _, err := s.Handle(ctx, domain.SetRates{Merchant: "270000001", Rates: domain.Rates{VisaMaster: "3.00"}, Effective: date.MustParseISO("2019-10-16")}); err != nil {
		t.Fatal(err)
	}
	m, rev, err := s.Get(ctx, "270000001")
	if err != nil || rev != 1 || m.RateOn(domain.GroupVisaMaster, date.MustParseISO("2019-10-31")).String() != "3" {
		t.Fatalf("after set-rates: %+v rev %d %v", m, rev, err)
	}
	if _, _, err := s.Get(ctx, "270000009"); domain.CodeOf(err) != domain.CodeMerchantUnknown {
		t.Fatalf("unknown merchant: %v", err)
	}
	if err := s.SetNoticePassword(ctx, "270000001", "12345678"); domain.CodeOf(err) != domain.CodeInvalidField {
		t.Fatalf("8-digit password: %v", err)
	}
	if err := s.SetNoticePassword(ctx, "270000001", "123456789"); err != nil {
		t.Fatal(err)
	}
	if pw, err := s.Secrets.Get(ctx, merchants.PasswordSecret("270000001")); err != nil || string(pw) != "123456789" {
		t.Fatalf("password %q %v", pw, err)
	}
	// The password is in no event.
	evs, _ := s.Store.ReadAll(ctx, domain.Start, domain.ReadOptions{})
	for _, e := range evs {
		if strings.Contains(string(e.Data), "123456789") {
			t.Fatalf("password in event %s", e.Type)
		}
	}
}

// Concurrent changes of one merchant all land, in some order, each decided
// on the state the one before left.
func TestConcurrentChanges(t *testing.T) {
	ctx := context.Background()
	s := service(t)
	if _, err := s.Handle(ctx, reg("270000001", "ﾃｽﾄ")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := domain.SetContact{Merchant: "270000001", Contact: "担当" + string(rune('A'+i)), Email: "a@example.jp"}
			if _, err := s.Handle(ctx, c); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, rev, err := s.Get(ctx, "270000001"); err != nil || rev != 8 {
		t.Fatalf("revision %d after 8 changes, %v", rev, err)
	}
}
