/*
 * timecol.h — time stamps for a time column: ISO 8601 date-times and Unix seconds to seconds
 * since 1970-01-01 00:00:00 UTC (a double: exact to the microsecond for this era), formatting
 * back, durations ("5m"), and the sampling period of a series with its gaps and backward steps.
 *
 * Pure functions: no I/O, no globals, no locale (the decimal point is always '.'), no timegm;
 * civil dates are converted with the proleptic Gregorian calendar (years 0000-9999). Leap seconds
 * are not counted (POSIX time): "23:59:60" reads as the next day's "00:00:00".
 */
#ifndef LSTMSRC_TIMECOL_H
#define LSTMSRC_TIMECOL_H

#include <stddef.h>

/* Parses an ISO 8601 date-time, strictly, to Unix seconds (UTC):
 *   2014-09-01 00:00:00   2014-09-01T00:00:00   2014-09-01T00:00:00Z   2014-09-01T00:00
 *   2014-09-01T01:00:00+01:00   ...+0100   ...-05   2014-09-01 00:00:00.5   2014-09-01
 * Date YYYY-MM-DD (4-digit year, 2-digit month and day), then nothing (midnight) or 'T' or one
 * space and HH:MM, optional :SS, optional fraction ('.' or ',' and 1+ digits, kept to 9), then
 * optional 'Z' or an offset +HH, +HHMM or +HH:MM (or '-'; HH 0-23, MM 0-59) that is subtracted.
 * Validates month 1-12, day within the month (leap years: 2016-02-29 yes, 2015-02-29 no), hour
 * 0-23 (24:00 is refused), minute 0-59, second 0-60. Blanks (space, tab) around the whole are
 * allowed, nothing else. Returns 1 and sets *t, or 0 (t untouched). s[len] need not be NUL. */
int time_parse(const char *s, size_t len, double *t);

/* A plain decimal number of seconds: optional '-', digits with an optional fraction ("1409529600",
 * "1409529600.25", ".5"), blanks around allowed; no exponent, hex, inf or nan. 1 on success. */
int time_parse_unix(const char *s, size_t len, double *t);

/* Writes t as "YYYY-MM-DD HH:MM:SS" (UTC; seconds rounded down), or with with_fraction and a
 * value that has milliseconds "YYYY-MM-DD HH:MM:SS.fff" (rounded to the nearest millisecond).
 * time_parse reads it back to t (to the millisecond with a fraction). A t that is not finite or
 * outside years 0000-9999 writes "invalid time". Truncated to cap - 1 bytes, NUL-terminated
 * (cap 24 always suffices). */
void time_format(double t, int with_fraction, char *buf, size_t cap);

/* A positive duration: a number (digits, optional fraction) and an optional unit, "ms", "s"
 * (the default), "m" or "min", "h", "d": "60", "60s", "5m", "1h", "1d", "500ms", "1.5s". Blanks
 * around allowed. Rejects zero, negatives, a result that is not finite, and anything else.
 * Returns 1 and sets *seconds, or 0. s is NUL-terminated. */
int time_parse_duration(const char *s, double *seconds);

/* Seconds: two time steps at most this far apart count as the same step. */
#define TIME_STEP_TOL 1e-3

/* The sampling period of times t[0..n): the most common positive step t[i+1] - t[i], where steps
 * within TIME_STEP_TOL (1 ms) of each other count as one (the densest 1 ms window of the sorted
 * steps; ties go to the smaller step), as the median of that window. *irregular (may be NULL):
 * the positive steps more than 1 ms away from the period, shorter or longer (gaps), plus the
 * steps that are not finite (a NaN time); *backwards (may be NULL): the steps <= 0 (time going
 * back or repeating), not counted as irregular. So regular + irregular + backwards = n - 1.
 * O(n) time (a radix sort of the positive steps) and 16 bytes of scratch memory per step.
 * Returns 1; or 0 with *period 0 when n < 2, when no step is positive, or when out of memory
 * (*irregular then counts only the non-finite steps; *backwards is right in every case). */
int time_period(const double *t, size_t n, double *period, size_t *irregular, size_t *backwards);

#endif
