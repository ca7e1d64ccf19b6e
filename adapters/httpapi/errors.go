package httpapi

import (
	"context"
	"errors"
	"net/http"

	"upay/domain"
)

// HTTP-level codes this package defines for conditions that belong to HTTP
// and not to the ledger, so they are not in the domain catalogue. Every
// other error carries a catalogue code (U1009, U1004, U3003, ...).
// docs/http-api.md lists them; never renumber one.
const (
	CodeUnauthorized     = "H401" // no bearer token, or one the token file does not hold
	CodeNotFound         = "H404" // no such route, or one the token may not see
	CodeMethodNotAllowed = "H405" // the route exists for GET/HEAD only
	CodeQueryTooLong     = "H414" // query string longer than MaxQueryBytes
	CodeUnavailable      = "H503" // not ready, or the request ran out of time
)

// httpCodes holds the messages of the H-codes, in the catalogue's style:
// a Japanese message and remedy.
var httpCodes = map[string]domain.Code{
	CodeUnauthorized: {Code: CodeUnauthorized, Message: "認証に失敗しました",
		Remedy: "有効なアクセストークンを Authorization: Bearer ヘッダーで指定してください。"},
	CodeNotFound: {Code: CodeNotFound, Message: "指定されたページは見つかりません",
		Remedy: "URL をご確認ください。"},
	CodeMethodNotAllowed: {Code: CodeMethodNotAllowed, Message: "このメソッドは使用できません",
		Remedy: "GET で再度お試しください。"},
	CodeQueryTooLong: {Code: CodeQueryTooLong, Message: "検索条件が長すぎます",
		Remedy: "条件を減らして、再検索を実施してください。"},
	CodeUnavailable: {Code: CodeUnavailable, Message: "ただいまサービスを利用できません",
		Remedy: "しばらく時間を空けてから、改めてお試しください。"},
}

// lookup finds a code among the H-codes, then in the domain catalogue.
func lookup(code string) (domain.Code, bool) {
	if c, ok := httpCodes[code]; ok {
		return c, true
	}
	return domain.LookupCode(code)
}

// apiError is an error with its HTTP status and code.
type apiError struct {
	Status int
	Code   string
	Detail string
	Cause  error // logged, never sent
}

func (e *apiError) Error() string { return e.Code + ": " + e.Detail }

func errf(status int, code, detail string) *apiError {
	return &apiError{Status: status, Code: code, Detail: detail}
}

// errorBody is the JSON of every error response.
type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Remedy  string `json:"remedy,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

func (e *apiError) body() errorBody {
	c, _ := lookup(e.Code)
	return errorBody{Error: errorJSON{Code: e.Code, Message: c.Message, Remedy: c.Remedy, Detail: e.Detail}}
}

var (
	errNotFound  = errf(http.StatusNotFound, CodeNotFound, "no such resource")
	errNoPayment = errf(http.StatusNotFound, domain.CodePaymentNotFound, "no such payment")
)

// toAPIError maps an error from a port to a response. Input errors (U1xxx)
// are the client's: 400 with their code. No such payment or stream is 404.
// Time-outs are 503. Anything else is the server's: 500 U3003, with the
// cause kept for the log and not sent.
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &apiError{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Detail: "the request ran out of time", Cause: err}
	case errors.Is(err, context.Canceled):
		return &apiError{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Detail: "the request was cancelled", Cause: err}
	}
	var de domain.Error
	if errors.As(err, &de) {
		switch {
		case len(de.Code) == 5 && de.Code[:2] == "U1":
			return &apiError{Status: http.StatusBadRequest, Code: de.Code, Detail: de.Detail, Cause: err}
		case de.Code == domain.CodePaymentNotFound || de.Code == domain.CodeStreamNotFound:
			return &apiError{Status: http.StatusNotFound, Code: de.Code, Detail: de.Detail, Cause: err}
		}
	}
	return &apiError{Status: http.StatusInternalServerError, Code: domain.CodeStoreFailure,
		Detail: "reading the read models failed; the server log has the cause", Cause: err}
}
