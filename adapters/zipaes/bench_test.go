package zipaes

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// benchNotice is a typical payout notice: a ~50 KB PDF (random bytes after
// a PDF header, so it does not compress, like the embedded fonts and
// images of a real one) and a ~2 KB CSV.
func benchNotice() (pdf, csv []byte) {
	rng := rand.New(rand.NewPCG(7, 7))
	pdf = make([]byte, 50*1024)
	for i := range pdf {
		pdf[i] = byte(rng.Uint32())
	}
	copy(pdf, "%PDF-1.7\n")
	var b strings.Builder
	b.WriteString("merchant,booking_date,reference,amount,currency\n")
	for i := 0; b.Len() < 2048; i++ {
		fmt.Fprintf(&b, "m001,2024-03-%02d,ref-%06d,%d.%02d,EUR\n", i%28+1, i, i*7919%10000, i%100)
	}
	return pdf, []byte(b.String())
}

// BenchmarkWriteNotice writes one two-file AES-256 archive per iteration.
// Each entry runs PBKDF2-HMAC-SHA1 with 1000 iterations (4000 HMACs for the
// 66 key bytes), which dominates at this size: compare with
// BenchmarkDeriveKeys (two of those per notice).
func BenchmarkWriteNotice(b *testing.B) {
	pdf, csv := benchNotice()
	for _, mode := range []struct {
		name string
		opts []Option
	}{
		{"AES256", nil},
		{"ZipCrypto", []Option{WithLegacyZipCrypto()}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			var buf bytes.Buffer
			b.SetBytes(int64(len(pdf) + len(csv)))
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				w, err := NewWriter(&buf, []byte("bench-password"), mode.opts...)
				if err != nil {
					b.Fatal(err)
				}
				if err := w.Add("notice.pdf", testModified, pdf); err != nil {
					b.Fatal(err)
				}
				if err := w.Add("notice.csv", testModified, csv); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "zips/s")
		})
	}
}

func BenchmarkDeriveKeys(b *testing.B) {
	salt := make([]byte, 16)
	for b.Loop() {
		if _, err := deriveKeys([]byte("bench-password"), salt, 32); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenNotice reads the same archive back (PBKDF2, HMAC check,
// decryption, inflate).
func BenchmarkOpenNotice(b *testing.B) {
	pdf, csv := benchNotice()
	z := buildArchive(b, "bench-password", []testFile{{"notice.pdf", pdf}, {"notice.csv", csv}})
	b.SetBytes(int64(len(pdf) + len(csv)))
	for b.Loop() {
		if _, err := Open(z, []byte("bench-password")); err != nil {
			b.Fatal(err)
		}
	}
}
