package projections

import "upay/domain"

// Decode decodes a recorded payload for the folds, with exactly the result
// of domain.DecodeEvent (value or error) for every input.
//
// Why not just domain.DecodeEvent: a rebuild decodes every payment event
// of the log, and encoding/json (reflection, a Decoder per call) costs
// about 2 µs an event, as much as reading it from the store. The payloads
// are flat objects of strings, integers and booleans that the ledger
// writes itself, so a scanner that accepts only the plainest form (known
// keys spelt exactly, strings of printable ASCII without escapes, integers
// without fraction or exponent, nothing after the object) decodes them in
// a few hundred nanoseconds. Anything else (an escape, a key in other
// case, a type mismatch, a version it does not know) goes to
// domain.DecodeEvent, so that case decides the result. A fuzz test holds
// the two to the same answers.
func Decode(typ string, version int, data []byte) (domain.Event, error) {
	if version == 1 {
		var (
			e  domain.Event
			ok bool
		)
		switch typ {
		case domain.TypeCardAuthorized:
			e, ok = fastAuthorized(data)
		case domain.TypeCardDeclined:
			e, ok = fastDeclined(data)
		case domain.TypeCardCaptured:
			e, ok = fastCaptured(data)
		case domain.TypeCardVoided:
			var v domain.CardVoided
			ok = scanObject(data, func(s *scanner, k []byte) bool {
				return card4(s, k, &v.Payment, &v.Merchant, &v.Brand, &v.Amount) || string(k) == "result" && str(s, &v.Result)
			})
			e = v
		case domain.TypeCardRefunded:
			var v domain.CardRefunded
			ok = scanObject(data, func(s *scanner, k []byte) bool {
				return card4(s, k, &v.Payment, &v.Merchant, &v.Brand, &v.Amount) || string(k) == "result" && str(s, &v.Result)
			})
			e = v
		case domain.TypeEmoneySucceeded, domain.TypeEmoneyFailed, domain.TypeEmoneyUnknown, domain.TypeEmoneyTrainingOK:
			e, ok = fastDebit(data)
		case domain.TypeEmoneyResolved:
			e, ok = fastResolved(data)
		}
		if ok {
			return e, nil
		}
	}
	return domain.DecodeEvent(typ, version, data)
}

func fastAuthorized(data []byte) (domain.Event, bool) {
	var v domain.CardAuthorized
	ok := scanObject(data, func(s *scanner, k []byte) bool {
		if card4(s, k, &v.Payment, &v.Merchant, &v.Brand, &v.Amount) {
			return true
		}
		return attempt(s, k, &v.Installments, &v.CardLast4, &v.CardFingerprint, &v.Terminal, &v.Result)
	})
	return v, ok
}

// attempt reads the fields an authorization and a decline share.
func attempt(s *scanner, k []byte, installments *int, last4, fingerprint, terminal, result *string) bool {
	switch string(k) {
	case "installments":
		return integer(s, installments)
	case "card_last4":
		return str(s, last4)
	case "card_fingerprint":
		return str(s, fingerprint)
	case "terminal":
		return str(s, terminal)
	case "result":
		return str(s, result)
	}
	return false
}

func fastDeclined(data []byte) (domain.Event, bool) {
	var v domain.CardDeclined
	ok := scanObject(data, func(s *scanner, k []byte) bool {
		if card4(s, k, &v.Payment, &v.Merchant, &v.Brand, &v.Amount) {
			return true
		}
		if k := string(k); k == "card_company_code" {
			return str(s, &v.CardCompanyCode)
		}
		return attempt(s, k, &v.Installments, &v.CardLast4, &v.CardFingerprint, &v.Terminal, &v.Result)
	})
	return v, ok
}

func fastCaptured(data []byte) (domain.Event, bool) {
	var v domain.CardCaptured
	ok := scanObject(data, func(s *scanner, k []byte) bool {
		return card4(s, k, &v.Payment, &v.Merchant, &v.Brand, &v.Amount)
	})
	return v, ok
}

func fastDebit(data []byte) (domain.Event, bool) {
	var v domain.EmoneyDebit
	ok := scanObject(data, func(s *scanner, k []byte) bool {
		switch string(k) {
		case "payment":
			return str(s, &v.Payment)
		case "merchant":
			return str(s, &v.Merchant)
		case "amount":
			return integer(s, &v.Amount)
		case "card_last4":
			return str(s, &v.CardLast4)
		case "card_fingerprint":
			return str(s, &v.CardFingerprint)
		case "balance_before":
			return integer(s, &v.BalanceBefore)
		case "balance_after":
			if s.null() {
				v.BalanceAfter = nil
				return true
			}
			var y domain.Yen
			if !integer(s, &y) {
				return false
			}
			v.BalanceAfter = &y
			return true
		case "terminal":
			return str(s, &v.Terminal)
		case "training":
			return s.bool(&v.Training)
		case "outcome":
			return str(s, &v.Outcome)
		}
		return false
	})
	return v, ok
}

func fastResolved(data []byte) (domain.Event, bool) {
	var v domain.EmoneyResolved
	ok := scanObject(data, func(s *scanner, k []byte) bool {
		switch string(k) {
		case "payment":
			return str(s, &v.Payment)
		case "merchant":
			return str(s, &v.Merchant)
		case "amount":
			return integer(s, &v.Amount)
		case "outcome":
			return str(s, &v.Outcome)
		case "balance_after":
			return integer(s, &v.BalanceAfter)
		case "training":
			return s.bool(&v.Training)
		}
		return false
	})
	return v, ok
}

// card4 reads the four fields every card event starts with.
func card4(s *scanner, k []byte, p *domain.PaymentID, m *domain.MerchantID, b *domain.Brand, a *domain.Yen) bool {
	switch string(k) {
	case "payment":
		return str(s, p)
	case "merchant":
		return str(s, m)
	case "brand":
		return str(s, b)
	case "amount":
		return integer(s, a)
	}
	return false
}

// scanner reads the plain subset of JSON Decode accepts.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// scanObject reads one object, calling field for each key with the
// scanner at the value; field reads the value and reports success. It
// reports false at the first thing outside the plain subset.
func scanObject(data []byte, field func(s *scanner, key []byte) bool) bool {
	s := &scanner{b: data}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return false
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return s.end()
	}
	for {
		k, ok := s.rawString()
		if !ok {
			return false
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.ws()
		if !field(s, k) {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.ws()
		case '}':
			s.i++
			return s.end()
		default:
			return false
		}
	}
}

// end accepts only white space after the object: encoding/json's Decoder
// would ignore what follows, so such input is left to it.
func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// rawString reads a string of printable ASCII without escapes.
func (s *scanner) rawString() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	start := s.i + 1
	for j := start; j < len(s.b); j++ {
		c := s.b[j]
		switch {
		case c == '"':
			s.i = j + 1
			return s.b[start:j], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

func str[T ~string](s *scanner, dst *T) bool {
	b, ok := s.rawString()
	if ok {
		*dst = T(b)
	}
	return ok
}

// integer reads an integer of at most 18 digits (no overflow is possible) in
// JSON's grammar: no leading zeros, no fraction, no exponent.
func integer[T ~int | ~int64](s *scanner, dst *T) bool {
	j := s.i
	neg := j < len(s.b) && s.b[j] == '-'
	if neg {
		j++
	}
	start := j
	var n int64
	for j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9' {
		n = n*10 + int64(s.b[j]-'0')
		j++
	}
	digits := j - start
	if digits == 0 || digits > 18 || digits > 1 && s.b[start] == '0' {
		return false
	}
	if j < len(s.b) && (s.b[j] == '.' || s.b[j] == 'e' || s.b[j] == 'E') {
		return false
	}
	if neg {
		n = -n
	}
	*dst = T(n)
	s.i = j
	return true
}

func (s *scanner) lit(word string) bool {
	if len(s.b)-s.i >= len(word) && string(s.b[s.i:s.i+len(word)]) == word {
		s.i += len(word)
		return true
	}
	return false
}

func (s *scanner) bool(dst *bool) bool {
	switch {
	case s.lit("true"):
		*dst = true
	case s.lit("false"):
		*dst = false
	default:
		return false
	}
	return true
}

func (s *scanner) null() bool { return s.lit("null") }
