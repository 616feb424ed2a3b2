#pragma once

// SQL fragments every store shares, so an instant looks the same in every answer.

// An instant as the API writes it: RFC 3339, UTC, milliseconds ("2026-12-01T09:30:00.123Z").
#define CLINICORE_SQL_INSTANT(column) "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

// A keyset position at the column's full precision (microseconds), for cursors of lists sorted
// by an instant: the answer's milliseconds would repeat or skip rows of the same millisecond.
// Compare with `column > $n::timestamptz`.
#define CLINICORE_SQL_SORT_KEY(column) "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
