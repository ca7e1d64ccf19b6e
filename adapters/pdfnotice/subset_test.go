package pdfnotice

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
)

func ipaex(t *testing.T) *baseFont {
	t.Helper()
	data, err := os.ReadFile(DefaultFont)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v, but CI=true: run `make deps` (Debian package %s)", err, FontPackage)
		}
		t.Skipf("%v: skipped; install the Debian package %s (`make deps`)", err, FontPackage)
	}
	f, err := parseFont(data)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The subset keeps every glyph's outline and metrics byte for byte under
// its new number, maps exactly the requested characters (a non-BMP one
// through format 12), and its tables check out.
func TestSubsetOfIPAex(t *testing.T) {
	f := ipaex(t)
	runes := []rune("お支払通知書¥0123456789,-ｼﾝﾍﾟｲ②\U0002000B 様")
	data, err := f.subset(runes)
	if err != nil {
		t.Fatal(err)
	}
	s, err := parseFont(data)
	if err != nil {
		t.Fatalf("the subset does not parse: %v", err)
	}
	if len(s.cmap) != len(dedupe(runes)) || s.numGlyphs != len(dedupe(runes))+1 {
		t.Fatalf("subset maps %d characters with %d glyphs, want %d", len(s.cmap), s.numGlyphs, len(dedupe(runes)))
	}
	for _, r := range runes {
		og, ng := f.cmap[r], s.cmap[r]
		if ng == 0 {
			t.Fatalf("%q not mapped", r)
		}
		got, orig := s.glyph(int(ng)), f.glyph(int(og))
		if !bytes.Equal(bytes.TrimRight(got, "\x00"), bytes.TrimRight(appendUnhinted(nil, orig), "\x00")) {
			t.Errorf("%q: outline differs", r)
		}
		// Same contours and points, no instructions.
		if len(orig) < 12 {
			continue
		}
		if nc := int(int16(binary.BigEndian.Uint16(orig))); nc > 0 {
			if !bytes.Equal(got[:10+2*nc], orig[:10+2*nc]) || binary.BigEndian.Uint16(got[10+2*nc:]) != 0 {
				t.Errorf("%q: header or instructions", r)
			}
			il := int(binary.BigEndian.Uint16(orig[10+2*nc:]))
			if !bytes.Equal(bytes.TrimRight(got[12+2*nc:], "\x00"), bytes.TrimRight(orig[12+2*nc+il:], "\x00")) {
				t.Errorf("%q: points differ", r)
			}
		}
		if s.advance[ng] != f.advance[og] || s.lsb[ng] != f.lsb[og] {
			t.Errorf("%q: metrics differ", r)
		}
	}
	if len(data) > 64<<10 {
		t.Errorf("subset of %d characters is %d bytes", len(runes), len(data))
	}
	// sfnt checksums: every table's, and the whole file's via head.
	n := int(binary.BigEndian.Uint16(data[4:]))
	for i := range n {
		e := data[12+16*i:]
		off, ln := binary.BigEndian.Uint32(e[8:]), binary.BigEndian.Uint32(e[12:])
		want := binary.BigEndian.Uint32(e[4:])
		tb := bytes.Clone(data[off : off+ln])
		if string(e[:4]) == "head" {
			binary.BigEndian.PutUint32(tb[8:], 0)
		}
		if got := checksum(tb); got != want {
			t.Errorf("table %s checksum %x, want %x", e[:4], got, want)
		}
	}
	if checksum(data) != 0xB1B0AFBA {
		t.Errorf("file checksum %x", checksum(data))
	}
	if _, err := f.subset([]rune{0x1F600}); err == nil {
		t.Error("subset of a character the font lacks")
	}
}

func dedupe(rs []rune) map[rune]bool {
	m := map[rune]bool{}
	for _, r := range rs {
		m[r] = true
	}
	return m
}

// A composite glyph brings its components, renumbered.
func TestSubsetComposite(t *testing.T) {
	simple := []byte{0, 1, 0, 0, 0, 0, 0, 10, 0, 10, 0, 0, 0, 0, 1, 0, 0} // 1 contour, made-up points
	for len(simple)%4 != 0 {
		simple = append(simple, 0)
	}
	composite := []byte{0xFF, 0xFF, 0, 0, 0, 0, 0, 10, 0, 10, // header, numberOfContours -1
		0x01, 0x02, 0, 2, 0, 0, // flags ARGS_ARE_XY_VALUES | WE_HAVE_INSTRUCTIONS (byte args), glyph 2, dx 0, dy 0
		0, 2, 0xB0, 0x01} // 2 bytes of instructions
	for len(composite)%4 != 0 {
		composite = append(composite, 0)
	}
	filler := bytes.Repeat([]byte{0}, 4)
	glyf := append(append(append([]byte{}, filler...), composite...), simple...) // glyph 0 filler, 1 composite, 2 simple
	loca := []uint32{0, 4, uint32(4 + len(composite)), uint32(len(glyf))}
	var locaB []byte
	for _, o := range loca {
		locaB = binary.BigEndian.AppendUint32(locaB, o)
	}
	head := make([]byte, 54)
	binary.BigEndian.PutUint32(head[12:], 0x5F0F3CF5)
	binary.BigEndian.PutUint16(head[18:], 1000)
	binary.BigEndian.PutUint16(head[50:], 1)
	hhea := make([]byte, 36)
	binary.BigEndian.PutUint16(hhea[34:], 3)
	maxp := make([]byte, 6)
	binary.BigEndian.PutUint16(maxp[4:], 3)
	var hmtx []byte
	for i := range 3 {
		hmtx = binary.BigEndian.AppendUint16(hmtx, uint16(500+i))
		hmtx = binary.BigEndian.AppendUint16(hmtx, uint16(i))
	}
	font := assemble(map[string][]byte{"head": head, "hhea": hhea, "maxp": maxp, "hmtx": hmtx, "cmap": buildCmap([][2]uint32{{'A', 1}, {'B', 2}}),
		"name": {0}, "OS/2": {0}, "post": make([]byte, 32), "loca": locaB, "glyf": glyf})
	f, err := parseFont(font)
	if err != nil {
		t.Fatal(err)
	}
	data, err := f.subset([]rune("A"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := parseFont(data)
	if err != nil {
		t.Fatal(err)
	}
	if s.numGlyphs != 3 || s.cmap['A'] != 1 || s.cmap['B'] != 0 {
		t.Fatalf("glyphs %d, cmap %v", s.numGlyphs, s.cmap)
	}
	comp := s.glyph(1)
	if got := binary.BigEndian.Uint16(comp[12:]); got != 2 || !bytes.Equal(bytes.TrimRight(s.glyph(2), "\x00"), bytes.TrimRight(simple, "\x00")) || s.advance[2] != 502 {
		t.Fatalf("component renumbered to %d", got)
	}
	if flags := binary.BigEndian.Uint16(comp[10:]); flags != 0x0002 || len(bytes.TrimRight(comp, "\x00")) > 16 {
		t.Fatalf("composite instructions kept: flags %#x, %x", flags, comp)
	}
	// B's glyph is the component: mapped once, shared.
	data, _ = f.subset([]rune("BA"))
	s, _ = parseFont(data)
	if s.numGlyphs != 3 || s.cmap['A'] != 1 || s.cmap['B'] != 2 || binary.BigEndian.Uint16(s.glyph(1)[12:]) != 2 {
		t.Fatalf("BA: %d glyphs, cmap %v", s.numGlyphs, s.cmap)
	}
}

func TestParseFontRejects(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("OTTO\x00\x01"), []byte("\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00head\x00\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00\x10")} {
		if _, err := parseFont(b); err == nil {
			t.Errorf("parsed %q", b)
		}
	}
}
