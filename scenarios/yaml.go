package scenarios

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"upay/domain"
)

// Error is a malformed scenario: the file, the position (line and column,
// 1-based; 0 when the file as a whole is at fault), the field as a path
// (steps[3].capture.payment) and a catalogue code. errors.As to
// domain.Error works too, so domain.CodeOf reads the code.
type Error struct {
	File   string
	Line   int
	Column int
	Path   string
	Code   string
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Code)
	if e.Path != "" {
		b.WriteString(" ")
		b.WriteString(e.Path)
		b.WriteString(":")
	}
	b.WriteString(" ")
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap exposes the code as a domain.Error.
func (e *Error) Unwrap() error { return domain.Err(e.Code, "%s", e.Msg) }

// nodeError is what a leaf value reports while the YAML decoder runs; Parse
// turns it into an Error with the file and the path.
type nodeError struct {
	tok  *token.Token
	code string
	msg  string
}

func (e *nodeError) Error() string { return e.code + " " + e.msg }

func errAt(n ast.Node, code, format string, args ...any) error {
	return &nodeError{tok: n.GetToken(), code: code, msg: fmt.Sprintf(format, args...)}
}

// position of a leaf, for errors found after decoding.
type position struct{ tok *token.Token }

func (p position) token() *token.Token { return p.tok }

// yamlString is a YAML string scalar. Numbers, booleans and the like are refused
// rather than converted: an unquoted 0010 or 3.10 would not mean what the
// file says (a bank code, a rate), so such values must be quoted.
type yamlString struct {
	position
	Value string
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (s *yamlString) UnmarshalYAML(n ast.Node) error {
	sn, ok := n.(*ast.StringNode)
	if !ok {
		if raw := n.GetToken(); raw != nil && isScalar(n) {
			return errAt(n, domain.CodeInvalidField, "must be a string: write %q with quotes", raw.Value)
		}
		return errAt(n, domain.CodeInvalidField, "must be a string, not %s", kind(n))
	}
	s.tok, s.Value = n.GetToken(), sn.Value
	return nil
}

// yamlInt is a YAML integer written in decimal digits (5000, -200): not 5e3,
// 0x10, 1_000, 5000.0 or "5000".
type yamlInt struct {
	position
	Value int64
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (i *yamlInt) UnmarshalYAML(n ast.Node) error {
	if _, ok := n.(*ast.IntegerNode); !ok {
		if n.Type() == ast.StringType {
			return errAt(n, domain.CodeInvalidField, "must be a whole number without quotes, not the string %q", n.GetToken().Value)
		}
		return errAt(n, domain.CodeInvalidField, "must be a whole number, not %s", kind(n))
	}
	raw := n.GetToken().Value
	digits := strings.TrimPrefix(raw, "-")
	if digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return errAt(n, domain.CodeInvalidField, "%s must be written in decimal digits", raw)
	}
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return errAt(n, domain.CodeInvalidField, "%s is out of range", raw)
	}
	i.tok, i.Value = n.GetToken(), v
	return nil
}

// yamlBool is true or false.
type yamlBool struct {
	position
	Value bool
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (b *yamlBool) UnmarshalYAML(n ast.Node) error {
	bn, ok := n.(*ast.BoolNode)
	if !ok {
		return errAt(n, domain.CodeInvalidField, "must be true or false, not %s", kind(n))
	}
	b.tok, b.Value = n.GetToken(), bn.Value
	return nil
}

func isScalar(n ast.Node) bool {
	switch n.Type() {
	case ast.IntegerType, ast.FloatType, ast.BoolType, ast.InfinityType, ast.NanType:
		return true
	}
	return false
}

func kind(n ast.Node) string {
	switch n.Type() {
	case ast.MappingType:
		return "a mapping"
	case ast.SequenceType:
		return "a list"
	case ast.StringType:
		return "a string"
	case ast.IntegerType:
		return "an integer"
	case ast.FloatType, ast.InfinityType, ast.NanType:
		return "a decimal number"
	case ast.BoolType:
		return "a boolean"
	case ast.LiteralType:
		return "a block scalar"
	}
	return "a " + strings.ToLower(n.Type().String())
}

// tree indexes a document: the node at each path and the path of each
// token, so that errors name the field and the line.
type tree struct {
	nodes map[string]ast.Node     // path -> value node
	paths map[*token.Token]string // token of a key or value -> path
}

// walk indexes n at path and refuses what the format does not use: null
// values, anchors, aliases, tags, merge keys and non-string keys.
func (t *tree) walk(n ast.Node, path string) error {
	t.nodes[path] = n
	if tok := n.GetToken(); tok != nil {
		if _, ok := t.paths[tok]; !ok {
			t.paths[tok] = path
		}
	}
	switch n := n.(type) {
	case *ast.NullNode:
		return errAt(n, domain.CodeMissingField, "has no value: give one, or leave the key out")
	case *ast.AnchorNode, *ast.AliasNode:
		return errAt(n, domain.CodeInvalidField, "anchors and aliases (& and *) are not supported: write the value out")
	case *ast.TagNode:
		return errAt(n, domain.CodeInvalidField, "tags (!!) are not supported")
	case *ast.MappingNode:
		for _, mv := range n.Values {
			if err := t.entry(mv, path); err != nil {
				return err
			}
		}
	case *ast.MappingValueNode:
		return t.entry(n, path)
	case *ast.SequenceNode:
		for i, v := range n.Values {
			p := fmt.Sprintf("%s[%d]", path, i)
			if v == nil {
				return &nodeError{tok: n.GetToken(), code: domain.CodeMissingField, msg: fmt.Sprintf("%s has no value", p)}
			}
			if err := t.walk(v, p); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *tree) entry(mv *ast.MappingValueNode, path string) error {
	if mv.Key == nil || mv.Key.IsMergeKey() {
		return errAt(mv, domain.CodeInvalidField, "merge keys (<<) are not supported")
	}
	k, ok := mv.Key.(*ast.StringNode)
	if !ok {
		return errAt(mv.Key, domain.CodeInvalidField, "a key must be a name, not %s", kind(mv.Key))
	}
	p := k.Value
	if path != "" {
		p = path + "." + k.Value
	}
	t.paths[k.GetToken()] = p
	if mv.Value == nil {
		return errAt(mv.Key, domain.CodeMissingField, "has no value: give one, or leave the key out")
	}
	return t.walk(mv.Value, p)
}

// has reports whether the document holds a value at path.
func (t *tree) has(path string) bool {
	_, ok := t.nodes[path]
	return ok
}

// fail builds an Error at a token (or, without one, at the node of path).
func (p *parser) fail(tok *token.Token, path, code, format string, args ...any) *Error {
	e := &Error{File: p.file, Path: path, Code: code, Msg: fmt.Sprintf(format, args...)}
	if tok == nil {
		if n, ok := p.t.nodes[path]; ok {
			tok = n.GetToken()
		}
	}
	if tok != nil {
		e.Line, e.Column = tok.Position.Line, tok.Position.Column
		if e.Path == "" {
			e.Path = p.t.paths[tok]
		}
	}
	return e
}

// decodeError turns what the YAML decoder returned into an Error.
func (p *parser) decodeError(err error) *Error {
	var ne *nodeError
	if errors.As(err, &ne) {
		return p.fail(ne.tok, "", ne.code, "%s", ne.msg)
	}
	var ye yaml.Error
	if errors.As(err, &ye) {
		msg := ye.GetMessage()
		var uf *yaml.UnknownFieldError
		if errors.As(err, &uf) {
			path := p.t.paths[ye.GetToken()]
			e := p.fail(ye.GetToken(), path, domain.CodeInvalidField, "unknown key %s", strings.TrimPrefix(msg, "unknown field "))
			return e
		}
		return p.fail(ye.GetToken(), "", domain.CodeInvalidField, "%s", msg)
	}
	return &Error{File: p.file, Code: domain.CodeInvalidField, Msg: err.Error()}
}
