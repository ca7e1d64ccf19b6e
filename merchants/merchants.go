// Package merchants is the application service for merchants and their
// contracts: load a merchant's stream, let the domain decide, append with
// the expected revision. Registration also appends to the "merchants" index
// stream in the same transaction, so listing merchants reads one stream on
// every store instead of scanning the log.
//
// The 9-digit notice password goes to the secret store, never to an event.
package merchants

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"upay/adapters/zengin"
	"upay/domain"
)

// IndexStream lists every registered merchant, one event each.
const IndexStream domain.StreamID = "merchants"

// TypeListed is the index stream's event type.
const TypeListed = "merchant.listed"

// Listed is the index stream's payload.
type Listed struct {
	Merchant domain.MerchantID `json:"merchant"`
}

func (Listed) EventType() string { return TypeListed }
func (Listed) EventVersion() int { return 1 }

func init() {
	domain.RegisterEvent(TypeListed, 1, func(b []byte) (domain.Event, error) {
		var l Listed
		if err := decodeStrict(b, &l); err != nil {
			return nil, err
		}
		return l, nil
	})
}

// PasswordSecret names a merchant's notice password in the secret store.
func PasswordSecret(m domain.MerchantID) string { return "notice-password-" + string(m) }

// Service handles merchant commands.
type Service struct {
	Store   domain.EventStore
	Secrets domain.Secrets
	Clock   domain.Clock
}

// Get folds a merchant's stream; U2302 when it is not registered.
func (s *Service) Get(ctx context.Context, id domain.MerchantID) (domain.Merchant, uint64, error) {
	evs, err := s.Store.ReadStream(ctx, id.Stream(), 0, domain.ReadOptions{})
	if err != nil {
		return domain.Merchant{}, 0, err
	}
	var m domain.Merchant
	var rev uint64
	for _, r := range evs {
		e, err := domain.DecodeEvent(r.Type, r.Version, r.Data)
		if err != nil {
			return domain.Merchant{}, 0, fmt.Errorf("stream %s revision %d: %w", r.Stream, r.Revision, err)
		}
		m.Evolve(e)
		rev = r.Revision
	}
	if !m.Exists {
		return m, 0, domain.Err(domain.CodeMerchantUnknown, "merchant %s is not registered", id)
	}
	return m, rev, nil
}

// List returns every registered merchant, by id.
func (s *Service) List(ctx context.Context) ([]domain.Merchant, error) {
	idx, err := s.Store.ReadStream(ctx, IndexStream, 0, domain.ReadOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]domain.Merchant, 0, len(idx))
	for _, r := range idx {
		e, err := domain.DecodeEvent(r.Type, r.Version, r.Data)
		if err != nil {
			return nil, err
		}
		m, _, err := s.Get(ctx, e.(Listed).Merchant)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Handle decides and records a merchant command. A notice password, when
// given with a registration, is stored first (a 9-digit string).
func (s *Service) Handle(ctx context.Context, c domain.MerchantCommand) ([]domain.Event, error) {
	if err := checkHolder(c); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		m, rev, err := s.Get(ctx, c.MerchantID())
		if err != nil && domain.CodeOf(err) != domain.CodeMerchantUnknown {
			return nil, err
		}
		at := c.Meta().At
		if at.IsZero() {
			at = s.clock().Now()
		}
		evs, err := m.Decide(c, at)
		if err != nil {
			return nil, err
		}
		req := domain.AppendRequest{Stream: c.MerchantID().Stream(), RequestID: c.Meta().RequestID, Expected: domain.Exact(rev)}
		if !m.Exists {
			req.Expected = domain.NoStream()
		}
		for _, e := range evs {
			if req.Events, err = appendEvent(req.Events, e, at); err != nil {
				return nil, err
			}
		}
		reqs := []domain.AppendRequest{req}
		if !m.Exists {
			idx := domain.AppendRequest{Stream: IndexStream, Expected: domain.Any()}
			if idx.Events, err = appendEvent(nil, Listed{Merchant: c.MerchantID()}, at); err != nil {
				return nil, err
			}
			reqs = append(reqs, idx)
		}
		_, err = s.Store.AppendBatch(ctx, reqs)
		var be *domain.BatchError
		if errors.As(err, &be) && errors.Is(be.Err, domain.ErrConcurrency) && attempt < 8 {
			continue // someone else changed the merchant: decide again
		}
		if errors.As(err, &be) {
			return nil, be.Err
		}
		return evs, err
	}
}

// SetNoticePassword stores the 9-digit password that opens the merchant's
// payout notices.
func (s *Service) SetNoticePassword(ctx context.Context, id domain.MerchantID, password string) error {
	if !ValidPassword(password) {
		return domain.Err(domain.CodeInvalidField, "the notice password must be 9 digits")
	}
	return s.Secrets.Put(ctx, PasswordSecret(id), []byte(password))
}

func (s *Service) clock() domain.Clock {
	if s.Clock == nil {
		return domain.SystemClock{}
	}
	return s.Clock
}

// checkHolder refuses a holder name the bank transfer file cannot carry,
// when it is entered rather than on payday.
func checkHolder(c domain.MerchantCommand) error {
	var holder string
	switch c := c.(type) {
	case domain.RegisterMerchant:
		holder = c.Bank.Holder
	case domain.SetBank:
		holder = c.Bank.Holder
	default:
		return nil
	}
	if holder == "" {
		return nil // the domain reports the missing field
	}
	if err := zengin.CheckName("holder", holder, zengin.HolderWidth); err != nil {
		return domain.Wrap(domain.CodeBankFileChars, err, "account holder %q cannot be written to a bank transfer file", holder)
	}
	return nil
}

func appendEvent(list []domain.ProposedEvent, e domain.Event, at time.Time) ([]domain.ProposedEvent, error) {
	data, err := domain.EncodeEvent(e)
	if err != nil {
		return nil, err
	}
	return append(list, domain.ProposedEvent{Type: e.EventType(), Version: e.EventVersion(), Time: at.UTC(), Data: data}), nil
}

// ValidPassword reports whether p is a notice password: exactly 9 digits.
func ValidPassword(p string) bool {
	if len(p) != 9 {
		return false
	}
	for _, r := range p {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
