package pdfnotice

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// Per-document font subsetting.
//
// gopdf embeds a subset of the font it is given, but its subset keeps the
// font's full glyph numbering: the loca and hmtx tables of all 12,239
// IPAex glyphs (about 100 KB) go into every PDF and are deflated for every
// document, which was two thirds of the time a notice took. So each
// notice gets its own small TrueType font first: only the glyphs of the
// characters it prints, renumbered 1..n (0 stays .notdef), with the
// tables gopdf reads (head, hhea, maxp, hmtx, cmap, name, OS/2, post,
// loca, glyf) and the hinting tables it copies (cvt, fpgm, prep). gopdf
// then subsets and embeds that font as usual. Outlines and metrics are the
// original font's, byte for byte; the glyphs' hinting instructions are
// dropped (appendUnhinted), the font-wide hinting tables kept.

// baseFont is a parsed TrueType font (glyf outlines), read once.
type baseFont struct {
	tables     map[string][]byte
	numGlyphs  int
	unitsPerEm int
	loca       []uint32 // numGlyphs+1 byte offsets into glyf
	advance    []uint16 // per glyph
	lsb        []int16  // per glyph
	cmap       map[rune]uint16
}

var errFont = errors.New("not a TrueType font with glyf outlines and a Unicode cmap")

func parseFont(data []byte) (*baseFont, error) {
	if len(data) < 12 || binary.BigEndian.Uint32(data) != 0x00010000 {
		return nil, errFont
	}
	n := int(binary.BigEndian.Uint16(data[4:]))
	f := &baseFont{tables: map[string][]byte{}}
	for i := range n {
		e := 12 + 16*i
		if e+16 > len(data) {
			return nil, errFont
		}
		tag := string(data[e : e+4])
		off, ln := binary.BigEndian.Uint32(data[e+8:]), binary.BigEndian.Uint32(data[e+12:])
		if uint64(off)+uint64(ln) > uint64(len(data)) {
			return nil, fmt.Errorf("%w: table %q out of bounds", errFont, tag)
		}
		f.tables[tag] = data[off : off+ln]
	}
	for _, t := range []string{"head", "hhea", "maxp", "hmtx", "cmap", "name", "OS/2", "post", "loca", "glyf"} {
		if f.tables[t] == nil {
			return nil, fmt.Errorf("%w: no %q table", errFont, t)
		}
	}
	head, hhea, maxp := f.tables["head"], f.tables["hhea"], f.tables["maxp"]
	if len(head) < 54 || len(hhea) < 36 || len(maxp) < 6 || len(f.tables["post"]) < 32 {
		return nil, errFont
	}
	f.numGlyphs = int(binary.BigEndian.Uint16(maxp[4:]))
	if f.unitsPerEm = int(binary.BigEndian.Uint16(head[18:])); f.unitsPerEm == 0 {
		return nil, fmt.Errorf("%w: unitsPerEm 0", errFont)
	}
	longLoca := binary.BigEndian.Uint16(head[50:]) == 1
	loca := f.tables["loca"]
	f.loca = make([]uint32, f.numGlyphs+1)
	for i := range f.loca {
		switch {
		case longLoca && 4*i+4 <= len(loca):
			f.loca[i] = binary.BigEndian.Uint32(loca[4*i:])
		case !longLoca && 2*i+2 <= len(loca):
			f.loca[i] = 2 * uint32(binary.BigEndian.Uint16(loca[2*i:]))
		default:
			return nil, fmt.Errorf("%w: short loca", errFont)
		}
		if i > 0 && (f.loca[i] < f.loca[i-1] || int(f.loca[i]) > len(f.tables["glyf"])) {
			return nil, fmt.Errorf("%w: bad loca", errFont)
		}
	}
	nh := int(binary.BigEndian.Uint16(hhea[34:]))
	hmtx := f.tables["hmtx"]
	if nh == 0 || nh > f.numGlyphs || len(hmtx) < 4*nh+2*(f.numGlyphs-nh) {
		return nil, fmt.Errorf("%w: bad hmtx", errFont)
	}
	f.advance, f.lsb = make([]uint16, f.numGlyphs), make([]int16, f.numGlyphs)
	for g := range f.numGlyphs {
		if g < nh {
			f.advance[g], f.lsb[g] = binary.BigEndian.Uint16(hmtx[4*g:]), int16(binary.BigEndian.Uint16(hmtx[4*g+2:]))
		} else {
			f.advance[g], f.lsb[g] = f.advance[nh-1], int16(binary.BigEndian.Uint16(hmtx[4*nh+2*(g-nh):]))
		}
	}
	if err := f.parseCmap(); err != nil {
		return nil, err
	}
	return f, nil
}

// parseCmap reads the Windows Unicode subtables: (3,1) format 4 for the
// BMP and (3,10) format 12 for all planes.
func (f *baseFont) parseCmap() error {
	c := f.tables["cmap"]
	if len(c) < 4 {
		return errFont
	}
	f.cmap = map[rune]uint16{}
	found := false
	for i := range int(binary.BigEndian.Uint16(c[2:])) {
		e := 4 + 8*i
		if e+8 > len(c) {
			return errFont
		}
		pid, eid, off := binary.BigEndian.Uint16(c[e:]), binary.BigEndian.Uint16(c[e+2:]), int(binary.BigEndian.Uint32(c[e+4:]))
		if pid != 3 || (eid != 1 && eid != 10) || off+4 > len(c) {
			continue
		}
		sub := c[off:]
		switch binary.BigEndian.Uint16(sub) {
		case 4:
			if err := f.cmap4(sub); err != nil {
				return err
			}
			found = true
		case 12:
			if err := f.cmap12(sub); err != nil {
				return err
			}
			found = true
		}
	}
	if !found {
		return fmt.Errorf("%w: no Unicode cmap", errFont)
	}
	return nil
}

func (f *baseFont) cmap4(s []byte) error {
	if len(s) < 14 {
		return errFont
	}
	segs := int(binary.BigEndian.Uint16(s[6:])) / 2
	if len(s) < 16+8*segs {
		return errFont
	}
	ends, starts, deltas, ranges := s[14:], s[16+2*segs:], s[16+4*segs:], s[16+6*segs:]
	for i := range segs {
		end, start := binary.BigEndian.Uint16(ends[2*i:]), binary.BigEndian.Uint16(starts[2*i:])
		delta, ro := binary.BigEndian.Uint16(deltas[2*i:]), int(binary.BigEndian.Uint16(ranges[2*i:]))
		for c := int(start); c <= int(end) && c != 0xFFFF; c++ {
			var g uint16
			if ro == 0 {
				g = uint16(c) + delta
			} else {
				p := 16 + 6*segs + 2*i + ro + 2*(c-int(start))
				if p+2 > len(s) {
					return errFont
				}
				if g = binary.BigEndian.Uint16(s[p:]); g != 0 {
					g += delta
				}
			}
			if g != 0 && int(g) < f.numGlyphs {
				f.cmap[rune(c)] = g
			}
		}
	}
	return nil
}

func (f *baseFont) cmap12(s []byte) error {
	if len(s) < 16 {
		return errFont
	}
	n := int(binary.BigEndian.Uint32(s[12:]))
	if n > (len(s)-16)/12 {
		return errFont
	}
	for i := range n {
		g := s[16+12*i:]
		start, end, gid := binary.BigEndian.Uint32(g), binary.BigEndian.Uint32(g[4:]), binary.BigEndian.Uint32(g[8:])
		if end < start || end > 0x10FFFF {
			return errFont
		}
		for c := start; c <= end; c++ {
			if id := gid + (c - start); id != 0 && int(id) < f.numGlyphs {
				f.cmap[rune(c)] = uint16(id)
			}
		}
	}
	return nil
}

// measure is the advance width of s at size points (characters the font
// lacks count as nothing).
func (f *baseFont) measure(s string, size float64) float64 {
	var units int
	for _, c := range s {
		if g, ok := f.cmap[c]; ok {
			units += int(f.advance[g])
		}
	}
	return float64(units) * size / float64(f.unitsPerEm)
}

// wrap splits s into lines no wider than w at size points, breaking
// between any two characters (Japanese text has no spaces to break at).
func (f *baseFont) wrap(s string, w, size float64) []string {
	var lines []string
	start, width := 0, 0.0
	for i, c := range s {
		cw := f.measure(string(c), size)
		if width+cw > w && i > start {
			lines = append(lines, s[start:i])
			start, width = i, 0
		}
		width += cw
	}
	return append(lines, s[start:])
}

// has reports whether the font maps r to a glyph.
func (f *baseFont) has(r rune) bool { _, ok := f.cmap[r]; return ok }

func (f *baseFont) glyph(g int) []byte { return f.tables["glyf"][f.loca[g]:f.loca[g+1]] }

// Composite glyph flags (TrueType glyf table).
const (
	argsAreWords       = 0x0001
	weHaveAScale       = 0x0008
	moreComponents     = 0x0020
	weHaveXYScale      = 0x0040
	weHaveTwoByTwo     = 0x0080
	weHaveInstructions = 0x0100
	compositeHeader    = 10
)

// components walks a composite glyph, calling fn with the byte offset of
// each component's glyph index.
func components(g []byte, fn func(at int)) error {
	if len(g) < compositeHeader || int16(binary.BigEndian.Uint16(g)) >= 0 {
		return nil // empty or simple glyph
	}
	p := compositeHeader
	for {
		if p+4 > len(g) {
			return errFont
		}
		flags := binary.BigEndian.Uint16(g[p:])
		fn(p + 2)
		p += 4
		if flags&argsAreWords != 0 {
			p += 4
		} else {
			p += 2
		}
		switch {
		case flags&weHaveAScale != 0:
			p += 2
		case flags&weHaveXYScale != 0:
			p += 4
		case flags&weHaveTwoByTwo != 0:
			p += 8
		}
		if flags&moreComponents == 0 {
			return nil
		}
	}
}

// appendUnhinted appends a glyph without its hinting instructions
// (instructionLength 0; for a composite glyph, WE_HAVE_INSTRUCTIONS
// cleared): the outline is unchanged, only grid-fitting for low-resolution
// rasterizers is lost. IPAex's instructions are ~45% of its glyph bytes,
// so dropping them makes every notice's font stream half as long to
// deflate. Malformed glyph data is appended unchanged.
func appendUnhinted(dst, g []byte) []byte {
	if len(g) < compositeHeader {
		return append(dst, g...)
	}
	nc := int(int16(binary.BigEndian.Uint16(g)))
	if nc >= 0 {
		at := compositeHeader + 2*nc // instructionLength
		if at+2 > len(g) {
			return append(dst, g...)
		}
		il := int(binary.BigEndian.Uint16(g[at:]))
		if at+2+il > len(g) {
			return append(dst, g...)
		}
		dst = append(dst, g[:at]...)
		dst = append(dst, 0, 0)
		return append(dst, g[at+2+il:]...)
	}
	start := len(dst)
	dst = append(dst, g...)
	last, end := -1, compositeHeader
	if err := components(g, func(at int) { last = at - 2 }); err != nil || last < 0 {
		return dst
	}
	// Find the end of the last component to cut the instructions after it.
	flags := binary.BigEndian.Uint16(g[last:])
	end = last + 4
	if flags&argsAreWords != 0 {
		end += 4
	} else {
		end += 2
	}
	switch {
	case flags&weHaveAScale != 0:
		end += 2
	case flags&weHaveXYScale != 0:
		end += 4
	case flags&weHaveTwoByTwo != 0:
		end += 8
	}
	if flags&weHaveInstructions == 0 || end > len(g) {
		return dst
	}
	binary.BigEndian.PutUint16(dst[start+last:], flags&^weHaveInstructions)
	return dst[:start+end]
}

// subset returns a TrueType font with the glyphs of runes (which the font
// must map) renumbered from 1, and a cmap for exactly those runes.
func (f *baseFont) subset(runes []rune) ([]byte, error) {
	runes = slices.Clone(runes)
	slices.Sort(runes)
	runes = slices.Compact(runes)
	newID := map[uint16]uint16{0: 0}
	order := []uint16{0}
	add := func(g uint16) uint16 {
		if id, ok := newID[g]; ok {
			return id
		}
		id := uint16(len(order))
		newID[g] = id
		order = append(order, g)
		return id
	}
	cmap := make([][2]uint32, 0, len(runes)) // rune, new glyph id
	for _, r := range runes {
		g, ok := f.cmap[r]
		if !ok {
			return nil, fmt.Errorf("pdfnotice: the font has no glyph for %q", r)
		}
		cmap = append(cmap, [2]uint32{uint32(r), uint32(add(g))})
	}
	// Components of composite glyphs come along (the loop sees appended ones).
	for i := 0; i < len(order); i++ {
		var err error
		cerr := components(f.glyph(int(order[i])), func(at int) {
			g := binary.BigEndian.Uint16(f.glyph(int(order[i]))[at:])
			if int(g) >= f.numGlyphs {
				err = errFont
				return
			}
			add(g)
		})
		if err = errors.Join(err, cerr); err != nil {
			return nil, err
		}
	}
	if len(order) > 0xFFFF {
		return nil, errFont
	}

	// glyf and loca.
	var glyf []byte
	offsets := make([]uint32, 0, len(order)+1)
	for _, g := range order {
		offsets = append(offsets, uint32(len(glyf)))
		start := len(glyf)
		glyf = appendUnhinted(glyf, f.glyph(int(g)))
		components(glyf[start:], func(at int) {
			old := binary.BigEndian.Uint16(glyf[start+at:])
			binary.BigEndian.PutUint16(glyf[start+at:], newID[old])
		})
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
	}
	offsets = append(offsets, uint32(len(glyf)))
	short := len(glyf) < 0x20000
	var loca []byte
	for _, o := range offsets {
		if short {
			loca = binary.BigEndian.AppendUint16(loca, uint16(o/2))
		} else {
			loca = binary.BigEndian.AppendUint32(loca, o)
		}
	}

	// Metrics: one full record per glyph.
	hmtx := make([]byte, 0, 4*len(order))
	for _, g := range order {
		hmtx = binary.BigEndian.AppendUint16(hmtx, f.advance[g])
		hmtx = binary.BigEndian.AppendUint16(hmtx, uint16(f.lsb[g]))
	}
	head := slices.Clone(f.tables["head"][:54])
	binary.BigEndian.PutUint32(head[8:], 0) // checkSumAdjustment, set below
	if short {
		binary.BigEndian.PutUint16(head[50:], 0)
	} else {
		binary.BigEndian.PutUint16(head[50:], 1)
	}
	hhea := slices.Clone(f.tables["hhea"][:36])
	binary.BigEndian.PutUint16(hhea[34:], uint16(len(order)))
	maxp := slices.Clone(f.tables["maxp"])
	binary.BigEndian.PutUint16(maxp[4:], uint16(len(order)))
	post := slices.Clone(f.tables["post"][:32])
	binary.BigEndian.PutUint32(post, 0x00030000) // no glyph names

	tables := map[string][]byte{
		"head": head, "hhea": hhea, "maxp": maxp, "hmtx": hmtx, "cmap": buildCmap(cmap),
		"name": f.tables["name"], "OS/2": f.tables["OS/2"], "post": post, "loca": loca, "glyf": glyf,
	}
	for _, t := range []string{"cvt ", "fpgm", "prep"} {
		if b := f.tables[t]; b != nil {
			tables[t] = b
		}
	}
	return assemble(tables), nil
}

// buildCmap writes a cmap with a (3,1) format 4 subtable for the BMP
// characters, one segment each plus the final 0xFFFF one, and a (3,10)
// format 12 subtable for all of them when any lies beyond the BMP.
func buildCmap(m [][2]uint32) []byte {
	var bmp [][2]uint32
	for _, e := range m {
		if e[0] < 0xFFFF {
			bmp = append(bmp, e)
		}
	}
	segs := len(bmp) + 1
	f4 := make([]byte, 0, 16+8*segs)
	f4 = binary.BigEndian.AppendUint16(f4, 4)
	f4 = binary.BigEndian.AppendUint16(f4, uint16(16+8*segs))
	f4 = binary.BigEndian.AppendUint16(f4, 0) // language
	f4 = binary.BigEndian.AppendUint16(f4, uint16(2*segs))
	pow, sel := 1, 0
	for pow*2 <= segs {
		pow *= 2
		sel++
	}
	f4 = binary.BigEndian.AppendUint16(f4, uint16(2*pow)) // searchRange
	f4 = binary.BigEndian.AppendUint16(f4, uint16(sel))   // entrySelector
	f4 = binary.BigEndian.AppendUint16(f4, uint16(2*segs-2*pow))
	for _, e := range bmp {
		f4 = binary.BigEndian.AppendUint16(f4, uint16(e[0]))
	}
	f4 = binary.BigEndian.AppendUint16(f4, 0xFFFF)
	f4 = binary.BigEndian.AppendUint16(f4, 0) // reservedPad
	for _, e := range bmp {
		f4 = binary.BigEndian.AppendUint16(f4, uint16(e[0]))
	}
	f4 = binary.BigEndian.AppendUint16(f4, 0xFFFF)
	for _, e := range bmp {
		f4 = binary.BigEndian.AppendUint16(f4, uint16(e[1])-uint16(e[0]))
	}
	f4 = binary.BigEndian.AppendUint16(f4, 1)
	for range segs {
		f4 = binary.BigEndian.AppendUint16(f4, 0) // idRangeOffset
	}
	subs := [][]byte{f4}
	ids := [][2]uint16{{3, 1}}
	if len(bmp) < len(m) {
		f12 := make([]byte, 0, 16+12*len(m))
		f12 = binary.BigEndian.AppendUint16(f12, 12)
		f12 = binary.BigEndian.AppendUint16(f12, 0)
		f12 = binary.BigEndian.AppendUint32(f12, uint32(16+12*len(m)))
		f12 = binary.BigEndian.AppendUint32(f12, 0) // language
		f12 = binary.BigEndian.AppendUint32(f12, uint32(len(m)))
		for _, e := range m {
			f12 = binary.BigEndian.AppendUint32(f12, e[0])
			f12 = binary.BigEndian.AppendUint32(f12, e[0])
			f12 = binary.BigEndian.AppendUint32(f12, e[1])
		}
		subs, ids = append(subs, f12), append(ids, [2]uint16{3, 10})
	}
	out := binary.BigEndian.AppendUint16(nil, 0)
	out = binary.BigEndian.AppendUint16(out, uint16(len(subs)))
	off := 4 + 8*len(subs)
	for i, s := range subs {
		out = binary.BigEndian.AppendUint16(out, ids[i][0])
		out = binary.BigEndian.AppendUint16(out, ids[i][1])
		out = binary.BigEndian.AppendUint32(out, uint32(off))
		off += len(s)
	}
	for _, s := range subs {
		out = append(out, s...)
	}
	return out
}

func checksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}

// assemble writes an sfnt file: the table directory sorted by tag, each
// table 4-byte aligned with its checksum, and head's checkSumAdjustment.
func assemble(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for t := range tables {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	n := len(tags)
	sr, sel := 1, 0
	for sr*2 <= n {
		sr *= 2
		sel++
	}
	out := binary.BigEndian.AppendUint32(nil, 0x00010000)
	out = binary.BigEndian.AppendUint16(out, uint16(n))
	out = binary.BigEndian.AppendUint16(out, uint16(16*sr))
	out = binary.BigEndian.AppendUint16(out, uint16(sel))
	out = binary.BigEndian.AppendUint16(out, uint16(16*(n-sr)))
	off := 12 + 16*n
	headAt := 0
	for _, t := range tags {
		b := tables[t]
		out = append(out, t...)
		out = binary.BigEndian.AppendUint32(out, checksum(b))
		out = binary.BigEndian.AppendUint32(out, uint32(off))
		out = binary.BigEndian.AppendUint32(out, uint32(len(b)))
		if t == "head" {
			headAt = off
		}
		off += (len(b) + 3) &^ 3
	}
	for _, t := range tags {
		out = append(out, tables[t]...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	binary.BigEndian.PutUint32(out[headAt+8:], 0xB1B0AFBA-checksum(out))
	return out
}
