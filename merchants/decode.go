package merchants

import (
	"bytes"
	"encoding/json"

	"upay/domain"
)

func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return domain.Wrap(domain.CodeMalformed, err, "decoding %T", v)
	}
	return nil
}
