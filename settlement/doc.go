// Package settlement holds the settlement engine's pure, exact calculations:
// the bank business-day calendar, the settlement periods and their paydays,
// and the payout of a merchant on a payday.
//
// # Bank business days (金融機関の営業日)
//
// A Calendar closes Saturdays, Sundays, every national holiday of Japan in
// its holiday list (国民の祝日 with substitute 振替休日 and citizens' 国民の休日
// holidays, exactly as the Cabinet Office publishes them), December 31,
// January 2 and January 3 (bank holidays by law), and any extra closure of
// the operator. Every other day is a business day.
//
// The holidays are data, not code: DefaultCalendar reads the Cabinet Office
// list embedded from data/jp-national-holidays.csv (1955..2027), and
// LoadCalendar takes a replacement list and an extra-closure file, both CSV
// with the header "date,name" and one YYYY-MM-DD,name a line. When the
// Cabinet Office publishes the next year's list (each February), replace the
// file, or pass it with `upay calendar --holidays FILE`; no code changes.
// The calendar covers the years from the first to the last of its list; a
// date outside them is an error (U1009, its cause a *YearError naming the
// year), never a guess.
//
// # Settlement periods and paydays
//
//   - Card period A: day 1..15, closes on the 15th, paid on the last day of
//     the month; a closed payday moves back to the previous business day.
//   - Card period B: day 16..month end, closes on the last day, paid on the
//     15th of the next month; a closed payday moves forward to the next
//     business day.
//   - E-money: the calendar month, paid on the last day of the next month;
//     a closed payday moves back to the previous business day.
//
// The payout notice is sent NoticeBusinessDays (2) business days before the
// moved payday. Card period A and the previous month's e-money period always
// share their payday (the month end, moved back alike).
//
// A period belongs to the sale's business date (Asia/Tokyo, see
// domain.BusinessDate): Calendar.PeriodFor. The payout batch of a payday
// pays Calendar.PeriodsPaidOn(payday). Calendar.PeriodsStarting lists the
// schedule (`upay calendar paydays`). See docs/settlement-calendar.md.
package settlement
