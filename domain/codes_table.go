package domain

// catalogue is the code table. Manual entries are transcribed from the
// operator's manual (shared/seed); ledger entries (Uxxxx) are this project's.
var catalogue = []Code{
	{Code: CodeConcurrency, Category: "ledger", Source: "ledger", Message: "他の処理と競合しました。", Remedy: "最新の状態を読み直して、再度実行してください。", Note: "expected revision did not hold"},
}
