// Package pdfnotice renders a payout notice (notice.Notice) as an A4 PDF
// laid out like the manual's sample (お支払通知書), with a TrueType subset
// of IPAex Gothic embedded, so that every reader shows the Japanese text
// and copies it out as Unicode (gopdf writes a ToUnicode map).
//
// The library is github.com/signintech/gopdf: maintained, pure Go, and it
// embeds a subset of a TrueType font (only the glyphs used) with a
// ToUnicode CMap. The other candidate, github.com/go-pdf/fpdf, subsets
// UTF-8 fonts as well but is archived (read-only, no more fixes).
//
// Each notice is drawn twice: a dry pass collects the characters it
// prints (and refuses one the font lacks), then a small font with just
// those glyphs is made (subset.go) and the real pass draws with it. A
// notice PDF is about 43 KB.
//
// A Renderer parses the font once; Render may be called from several
// goroutines at once.
package pdfnotice

import (
	"bytes"
	"compress/flate"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/signintech/gopdf"

	"upay/domain"
	"upay/notice"
)

// DefaultFont is where Debian's fonts-ipaexfont-gothic installs IPAex Gothic.
const DefaultFont = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"

// FontPackage is the Debian package that holds DefaultFont.
const FontPackage = "fonts-ipaexfont-gothic"

const family = "ipaexg"

// Renderer renders notices with one parsed font.
type Renderer struct {
	font *baseFont
	path string
}

// New parses the TrueType font at path ("" means DefaultFont). A missing
// or unreadable font is U1009 naming the path and the Debian package.
func New(path string) (*Renderer, error) {
	if path == "" {
		path = DefaultFont
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, domain.Wrap(domain.CodeInvalidField, err, "notice font %s cannot be read (install the Debian package %s or give the path of a TrueType font)", path, FontPackage)
	}
	f, err := parseFont(data)
	if err == nil {
		// gopdf must accept the subsets we will give it.
		var sub []byte
		if sub, err = f.subset([]rune("0")); err == nil {
			pdf := &gopdf.GoPdf{}
			pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT})
			err = pdf.AddTTFFontData(family, sub)
		}
	}
	if err != nil {
		return nil, domain.Wrap(domain.CodeInvalidField, err, "notice font %s is not a TrueType font that can be embedded", path)
	}
	return &Renderer{font: f, path: path}, nil
}

// FontPath is the font file the Renderer embeds.
func (r *Renderer) FontPath() string { return r.path }

// Page geometry, in points (A4 is 595.28 x 841.89).
const (
	left   = 42.0
	right  = 553.0
	width  = right - left
	bottom = 800.0
	rowH   = 20.0
	pad    = 4.0
)

// table columns: カード種類, 取扱期間, 取引件数, 売上金額, 料率, 決済手数料, 金額.
var colW = [7]float64{92, 64, 52, 82, 50, 80, 91}

// Render returns the PDF of n. A character the font has no glyph for
// (an emoji in a name, say) is an error (U1009) naming the merchant and
// the character, rather than a blank in the merchant's document.
func (r *Renderer) Render(n notice.Notice) ([]byte, error) {
	// Dry pass: which characters does the notice print?
	dry := &doc{n: n, font: r.font, runes: map[rune]bool{}}
	dry.layout()
	if dry.err != nil {
		return nil, dry.err
	}
	runes := make([]rune, 0, len(dry.runes))
	for c := range dry.runes {
		runes = append(runes, c)
	}
	sub, err := r.font.subset(runes)
	if err != nil {
		return nil, fmt.Errorf("pdfnotice: %s: %w", n.No, err)
	}

	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT})
	pdf.SetCompressLevel(flate.BestSpeed)
	pdf.SetInfo(gopdf.PdfInfo{
		Title:        notice.Title + " " + n.No,
		Author:       n.Issuer.Name,
		Subject:      n.Name + " " + notice.Honorific,
		Creator:      "upay",
		CreationDate: time.Date(n.IssueDate.Year(), n.IssueDate.Month(), n.IssueDate.Day(), 0, 0, 0, 0, domain.Tokyo),
	})
	if err := pdf.AddTTFFontData(family, sub); err != nil {
		return nil, fmt.Errorf("pdfnotice: %s: font: %w", n.No, err)
	}
	pdf.AddPage()
	d := &doc{pdf: pdf, n: n, font: r.font}
	d.layout()
	if d.err != nil {
		return nil, d.err
	}
	var buf bytes.Buffer
	buf.Grow(64 << 10)
	if err := pdf.Write(&buf); err != nil {
		return nil, fmt.Errorf("pdfnotice: %s: %w", n.No, err)
	}
	return buf.Bytes(), nil
}

// doc draws one notice; the first error sticks. With pdf nil it is the
// dry pass: it draws nothing and collects the characters into runes.
type doc struct {
	pdf   *gopdf.GoPdf
	n     notice.Notice
	font  *baseFont
	runes map[rune]bool
	err   error
	size  float64
}

func (d *doc) dry() bool { return d.pdf == nil }

func (d *doc) setFont(size float64) {
	if d.err == nil && !d.dry() && size != d.size {
		d.err = d.pdf.SetFont(family, "", size)
		d.size = size
	}
}

// use checks that the font has every character of s (dry pass: and
// records them); false when the document cannot be drawn.
func (d *doc) use(s string) bool {
	if d.err != nil {
		return false
	}
	if !d.dry() {
		return true
	}
	for _, c := range s {
		if c > 0xFFFF {
			// gopdf writes ToUnicode entries as 4 hex digits: such a
			// character would be drawn but lost to copy, search and pdftotext.
			d.err = domain.Err(domain.CodeInvalidField, "merchant %s: notice %s: character %q (U+%04X) in %q lies outside the Basic Multilingual Plane, which the notice PDF cannot carry as text", d.n.Merchant, d.n.No, c, c, s)
			return false
		}
		if !d.font.has(c) {
			d.err = domain.Err(domain.CodeInvalidField, "merchant %s: notice %s: character %q (U+%04X) in %q is not in the notice font", d.n.Merchant, d.n.No, c, c, s)
			return false
		}
		d.runes[c] = true
	}
	return true
}

// text writes s with its top-left corner at (x, y).
func (d *doc) text(x, y, size float64, s string) {
	d.setFont(size)
	if s == "" || !d.use(s) || d.dry() {
		return
	}
	d.pdf.SetXY(x, y)
	d.err = d.pdf.Cell(nil, s)
}

// box writes s inside the rectangle (x, y, w, h), aligned (gopdf.Left,
// Right or Center, always vertically centred) with a padding.
func (d *doc) box(x, y, w, h, size float64, s string, align int) {
	d.setFont(size)
	if s == "" || !d.use(s) || d.dry() {
		return
	}
	d.pdf.SetXY(x+pad, y)
	d.err = d.pdf.CellWithOption(&gopdf.Rect{W: w - 2*pad, H: h}, s, gopdf.CellOption{Align: align | gopdf.Middle})
}

// width is the width of s at size, in points, from the font's metrics
// (the same advance widths gopdf positions the glyphs with).
func (d *doc) width(s string, size float64) float64 { return d.font.measure(s, size) }

// fit is size, or the size at which s is w wide when it would be wider
// (never below 6 points).
func (d *doc) fit(s string, size, w float64) float64 {
	if full := d.width(s, size); full > w {
		return max(6, size*w/full)
	}
	return size
}

// textRight writes s ending at x.
func (d *doc) textRight(x, y, size float64, s string) {
	d.text(x-d.width(s, size), y, size, s)
}

// line strokes a line.
func (d *doc) line(x1, y1, x2, y2 float64) {
	if !d.dry() {
		d.pdf.Line(x1, y1, x2, y2)
	}
}

// rect strokes a rectangle, filled light grey when fill.
func (d *doc) rect(x, y, w, h float64, fill bool) {
	if d.dry() {
		return
	}
	if fill {
		d.pdf.SetFillColor(235, 235, 235)
		d.pdf.RectFromUpperLeftWithStyle(x, y, w, h, "FD")
		return
	}
	d.pdf.RectFromUpperLeftWithStyle(x, y, w, h, "D")
}

// paragraph writes s wrapped to width and returns the y after it.
func (d *doc) paragraph(x, y, w, size float64, s string) float64 {
	d.setFont(size)
	if !d.use(s) {
		return y
	}
	for _, l := range kinsoku(d.font.wrap(s, w, size)) {
		d.text(x, y, size, l)
		y += size * 1.45
	}
	return y
}

// newPageIfBelow starts a new page when y+h would cross the bottom margin.
func (d *doc) newPageIfBelow(y, h float64) float64 {
	if y+h <= bottom {
		return y
	}
	if !d.dry() {
		d.pdf.AddPage()
		d.size = 0 // set the font again on the new page
	}
	return 50
}

func (d *doc) layout() {
	n := d.n
	if !d.dry() {
		d.pdf.SetLineWidth(0.6)
		d.pdf.SetStrokeColor(0, 0, 0)
		d.pdf.SetTextColor(0, 0, 0)
	}

	// Title, centred.
	d.text(left+(width-d.width(notice.Title, 18))/2, 40, 18, notice.Title)

	// Issue date and notice number, top right.
	d.textRight(right, 78, 9, notice.LabelIssueDate+"： "+notice.JapaneseDate(n.IssueDate))
	d.textRight(right, 92, 9, notice.LabelNoticeNo+"： "+n.No)

	// Addressee, left (a long name is set smaller to stay clear of the
	// issuer block).
	addressee := n.Name + " " + notice.Honorific
	d.text(left, 118, d.fit(addressee, 13, 330), addressee)
	d.line(left, 136, left+270, 136)
	if n.Contact != "" {
		d.text(left, 144, 10, notice.LabelContact+"： "+n.Contact+" "+notice.Honorific)
	}

	// Issuer block, right.
	y := 118.0
	for i, l := range n.IssuerLines() {
		size := 9.0
		if i == 0 {
			size = 11
		}
		d.text(380, y, size, l)
		y += size * 1.5
	}

	// Greeting.
	y = max(y+8, 196)
	for _, g := range n.Greeting() {
		d.text(left, y, 9.5, g)
		y += 14
	}

	// Table of lines.
	y += 10
	heads := []string{notice.LabelCardType, notice.LabelPeriod, notice.LabelCount, notice.LabelSales, notice.LabelRate, notice.LabelFee, notice.LabelAmount}
	d.row(y, heads, true, true)
	y += rowH
	for _, l := range n.Lines {
		y = d.newPageIfBelow(y, rowH)
		d.row(y, []string{l.CardType, l.Period(), fmt.Sprint(l.Count), notice.Yen(l.Sales), l.RateText(), notice.Yen(l.Fee), notice.Yen(l.Amount)}, false, false)
		y += rowH
	}

	// Totals: label over the first three columns, value under 売上金額,
	// as in the sample; 単位：円 beside the first one.
	y += 8
	labelW := colW[0] + colW[1] + colW[2]
	for i, t := range n.Totals() {
		y = d.newPageIfBelow(y, rowH)
		net := t.Label == notice.LabelNet
		d.rect(left, y, labelW, rowH, true)
		d.rect(left+labelW, y, colW[3], rowH, false)
		label := t.Label
		if t.Mark != "" {
			label += " " + t.Mark
		}
		size := 9.0
		if net && !d.dry() {
			d.pdf.SetLineWidth(1.2)
			d.pdf.RectFromUpperLeftWithStyle(left, y, labelW+colW[3], rowH, "D")
			d.pdf.SetLineWidth(0.6)
		}
		if net {
			size = 10
		}
		d.box(left, y, labelW, rowH, size, label, gopdf.Left)
		d.box(left+labelW, y, colW[3], rowH, size, notice.Yen(t.Value), gopdf.Right)
		if i == 0 {
			d.box(right-90, y, 90, rowH, 8, notice.LabelUnit, gopdf.Right)
		}
		y += rowH
	}

	// Notes under the table.
	y += 6
	for _, s := range n.TableNotes() {
		y = d.newPageIfBelow(y, 12)
		y = d.paragraph(left, y, width, 7.5, s)
	}

	// Bank block.
	y += 12
	const labW, valW = 110.0, 290.0
	for _, f := range n.BankFields() {
		y = d.newPageIfBelow(y, rowH)
		d.rect(left, y, labW, rowH, true)
		d.rect(left+labW, y, valW, rowH, false)
		d.box(left, y, labW, rowH, 9, f.Label, gopdf.Left)
		d.box(left+labW, y, valW, rowH, d.fit(f.Value, 10, valW-2*pad), f.Value, gopdf.Left)
		y += rowH
	}

	// Closing notes.
	y += 12
	for _, s := range n.ClosingNotes() {
		y = d.newPageIfBelow(y, 12)
		y = d.paragraph(left, y, width, 7.5, s)
	}
}

// row draws one table row: cells with borders, text left in the first two
// columns and right in the figures.
func (d *doc) row(y float64, cells []string, fill, head bool) {
	x := left
	for i, s := range cells {
		d.rect(x, y, colW[i], rowH, fill)
		align := gopdf.Right
		switch {
		case head:
			align = gopdf.Center
		case i < 2:
			align = gopdf.Left
		}
		d.box(x, y, colW[i], rowH, 9, s, align)
		x += colW[i]
	}
}

// FontInstalled reports whether path ("" for DefaultFont) exists.
func FontInstalled(path string) bool {
	if path == "" {
		path = DefaultFont
	}
	_, err := os.Stat(path)
	return err == nil
}

// noLineStart are characters Japanese typesetting never puts at the start
// of a line (行頭禁則): closing brackets and punctuation.
const noLineStart = "、。，．,.」』）)］】〕！？!?ー・：；:;"

// kinsoku moves a character that may not start a line to the end of the
// line before it (ぶら下げ, hanging punctuation: it may overrun the
// measure by one character, which the margin absorbs).
func kinsoku(lines []string) []string {
	for i := 1; i < len(lines); i++ {
		for lines[i] != "" {
			r, size := utf8.DecodeRuneInString(lines[i])
			if !strings.ContainsRune(noLineStart, r) {
				break
			}
			lines[i-1] += lines[i][:size]
			lines[i] = lines[i][size:]
		}
	}
	out := lines[:0]
	for _, l := range lines {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
