package sqlmodels

import (
	"context"

	"upay/projections"
)

// Within runs fn in a new write transaction of w (Reset and Ready run in
// one), committing it when fn succeeds and rolling it back otherwise.
func Within(ctx context.Context, w projections.Writer, fn func(tx projections.WriteTx) error) (err error) {
	tx, err := w.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
