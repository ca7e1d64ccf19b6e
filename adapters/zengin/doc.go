// Package zengin writes and reads the 全銀協 総合振込 (general transfer)
// file: the fixed-length file a company hands its bank to pay many
// accounts by bank transfer. It is a pure package: bytes in, bytes out, no
// I/O, no clock.
//
// # File
//
// A file is one header record, one data record per transfer, one trailer
// record and one end record. Every record is exactly 120 bytes. Records are
// followed by CR LF by default (122 bytes a line); Options.NoCRLF writes
// them back to back. Decode accepts both, and a file whose last record
// lacks its CR LF; it rejects CR alone and LF alone.
//
// Records are numbered from 1 in errors: record 1 is the header,
// File.Transfers[i] is record i+2, then the trailer and the end record.
//
// Characters are JIS X 0201, written with the Shift_JIS encoder of
// golang.org/x/text/encoding/japanese: every character the format allows
// is one byte, half-width katakana are 0xA1-0xDF. コード区分 is 0 (JIS).
//
// # Layout
//
// N fields are digits, right-aligned and zero-filled. C fields are 全銀
// characters, left-aligned and space-filled. Pos is the 1-based byte
// position the bank manuals print; Go offsets are Pos-1.
//
// Header record (ヘッダー・レコード), データ区分 1:
//
//	Pos  Len  Field            Written
//	  1    1  データ区分       N  "1"
//	  2    2  種別コード       N  "21" (総合振込)
//	  4    1  コード区分       N  "0" (JIS; 1 = EBCDIC is rejected)
//	  5   10  委託者コード     N  Remitter.Code, the code the bank assigned
//	 15   40  委託者名         C  Remitter.Name
//	 55    4  振込指定日       N  File.TransferDate, MMDD
//	 59    4  仕向銀行番号     N  Remitter.BankCode
//	 63   15  仕向銀行名       C  Remitter.BankName (may be blank)
//	 78    3  仕向支店番号     N  Remitter.BranchCode
//	 81   15  仕向支店名       C  Remitter.BranchName (may be blank)
//	 96    1  預金種目         N  Remitter.AccountType: 1 普通, 2 当座, 9 その他
//	 97    7  口座番号         N  Remitter.AccountNumber
//	104   17  ダミー           C  spaces
//	          total 1+2+1+10+40+4+4+15+3+15+1+7+17 = 120
//
// Data record (データ・レコード), データ区分 2, one per transfer:
//
//	Pos  Len  Field            Written
//	  1    1  データ区分       N  "2"
//	  2    4  被仕向銀行番号   N  Transfer.BankCode
//	  6   15  被仕向銀行名     C  Transfer.BankName (may be blank)
//	 21    3  被仕向支店番号   N  Transfer.BranchCode
//	 24   15  被仕向支店名     C  Transfer.BranchName (may be blank)
//	 39    4  手形交換所番号   N  spaces (unused; Decode also accepts digits)
//	 43    1  預金種目         N  Transfer.AccountType: 1 普通, 2 当座, 4 貯蓄, 9 その他
//	 44    7  口座番号         N  Transfer.AccountNumber
//	 51   30  受取人名         C  Transfer.HolderName
//	 81   10  振込金額         N  Transfer.Amount, 1..9,999,999,999 yen
//	 91    1  新規コード       N  "0" (その他; Decode accepts 0, 1, 2 or space)
//	 92   10  顧客コード1      N  Transfer.CustomerCode1, spaces when empty
//	102   10  顧客コード2      N  Transfer.CustomerCode2, spaces when empty
//	112    1  振込指定区分     N  "7" (電信; Decode accepts 7, 8 文書, or space)
//	113    1  識別表示         C  space (Y = EDI information is rejected)
//	114    7  ダミー           C  spaces
//	          total 1+4+15+3+15+4+1+7+30+10+1+10+10+1+1+7 = 120
//
// Trailer record (トレーラー・レコード), データ区分 8:
//
//	Pos  Len  Field            Written
//	  1    1  データ区分       N  "8"
//	  2    6  合計件数         N  number of data records
//	  8   12  合計金額         N  sum of 振込金額
//	 20  101  ダミー           C  spaces
//	          total 1+6+12+101 = 120
//
// End record (エンド・レコード), データ区分 9:
//
//	Pos  Len  Field            Written
//	  1    1  データ区分       N  "9"
//	  2  119  ダミー           C  spaces
//	          total 1+119 = 120
//
// The field widths above sum to 120 in every source consulted; the
// package checks the sums when it starts and the tests check every
// position against hand-built records.
//
// # Characters
//
// C fields accept only: space, 0-9, A-Z, half-width katakana ｱ-ﾝ, the
// separate voicing marks ﾞ ﾟ, and the symbols ( ) - . / , \ ｢ ｣. Byte
// 0x5C is the yen sign in JIS X 0201: Encode accepts both '\' and '¥' for
// it, and Decode returns '\' (what x/text's Shift_JIS decoder yields).
// Rejected: small kana ｧｨｩｪｫｬｭｮｯ, the long vowel mark ｰ, ｦ, the middle dot
// ･, lowercase letters, and anything full-width (kanji, hiragana,
// full-width katakana). Nothing is truncated or replaced silently: a name
// that does not fit its field or holds a rejected character is an error.
// NormalizeKana converts what can be converted (full-width and hiragana to
// half-width katakana, small kana to large, a-z to A-Z, ー to -, ｦ to ｵ)
// before a name is stored.
//
// # Dates
//
// File.TransferDate is the MMDD string the file carries, not a time.Time:
// the file has no year, so Decode could only invent one, and a string
// round-trips exactly. TransferDateOf(t) builds it from a time. Encode
// checks it is a real month and day (0229 is accepted, the year being
// unknown); whether it is a bank business day is the caller's concern.
//
// # Sources, and where they disagree
//
//   - 全銀協制定ファイルフォーマット【総合振込】 (a bank's published
//     layout, https://expydoc.com/doc/11700435/): every header and data
//     field and width above; N right-aligned zero-filled, C left-aligned
//     space-filled; 120 bytes, 122 with CR LF.
//   - Gulliver FBデータの仕様
//     (https://gulliver-webhelp.askids-cloud.jp/help/gyoumu/99sonota/case_sonota02):
//     the same start positions (header 1,2,4,5,15,55,59,63,78,81,96,97,104;
//     data 2,6,21,24,39,43,44,51,81,91,92,...).
//   - 宮崎銀行 全銀ファイル help (https://www.miyagin.co.jp/kfkdown-zengin-help):
//     records are 120 bytes with no separator or CR+LF; CR alone or LF
//     alone is an error.
//   - SMBC Web21 総合振込 layout (https://happylibus.com/doc/455113/):
//     新規コード 0/1/2, 振込指定区分 7 電信 / 8 文書, 識別表示 (Y = EDI).
//   - Trailer 合計件数 N(6), 合計金額 N(12), ダミー C(101) and end ダミー
//     C(119): the same in every layout seen (including public generators);
//     no bank page in the search index printed them as a table.
//   - Character set: PCA 全銀協使用可能文字
//     (https://pca.jp/area_support/manual/kk/Z1sanko/z1_zengin.html), the
//     持続化給付金 form message quoted at https://no-braking.com/ ("半角カナ
//     大文字、半角大文字英数、半角スペース、゙゚-()./「」\のみ可能"), and
//     jinjer's 全銀協 list (no small kana, no ー, no comma).
//
// Disagreements, and what this package does:
//
//   - 手形交換所番号: one bank says 未使用 (0とする) and Gulliver writes
//     0000; other generators write spaces. Encode writes spaces (the field
//     is unused); Decode accepts spaces or four digits and ignores them.
//   - Symbols in names: PCA allows only ( ) - . in names and keeps ¥ ｢ ｣
//     and ｦ for EDI information; the 持続化給付金 list adds / ｢ ｣ \;
//     jinjer forbids the comma. This package accepts the union ( ) - . / ,
//     \ ｢ ｣ (the full 全銀 set) but not ｦ; a strict bank may still refuse
//     , / \ ｢ ｣ in 受取人名.
//   - 顧客コード1/2 are N(10) in the 総合振込 layout but become one C(20)
//     EDI field when 識別表示 is Y. Only the N form is supported; an
//     empty code is written as spaces (several generators do) rather than
//     zeros, so that Decode can tell "absent" from "0000000000". A shorter
//     code is zero-filled on the left and Decode returns all 10 digits.
//   - 新規コード and 振込指定区分 are written 0 and 7 (電信); some
//     generators leave them blank or write 1. They are not in Transfer.
//   - Header 預金種目 lists 1, 2, 9 (no 4 貯蓄) in the bank layout; the data
//     record adds 4. Both are enforced as listed.
package zengin
