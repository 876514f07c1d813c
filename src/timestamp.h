/*
 * timestamp: the calendar. PostgreSQL's binary timestamptz (microseconds
 * since 2000-01-01T00:00:00Z) -> RFC 3339 text in UTC with six fractional
 * digits, as the contract spells every timestamp; its binary date (days
 * since 2000-01-01) -> RFC 3339 full-date; and the check that a full-date a
 * client sent names a real day. Pure arithmetic: no time zone database, no
 * locale, no allocation.
 */
#ifndef TIMESTAMP_H
#define TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

#define TIMESTAMP_TEXT_MAX 40

/* Writes "YYYY-MM-DDTHH:MM:SS.ffffffZ" into out; returns its length. Years
 * outside 0..9999 (PostgreSQL allows them) are written as printf would. */
int timestamp_format(int64_t pg_microseconds, char out[TIMESTAMP_TEXT_MAX]);

#define DATE_TEXT_LEN 10 /* YYYY-MM-DD */

/* Is s[0..n) exactly "YYYY-MM-DD", a day of the Gregorian calendar from
 * 0001-01-01 to 9999-12-31? No white space, no time, no other form. */
int date_is_valid(const char *s, size_t n);
/* Writes pg_days (PostgreSQL's binary date) as "YYYY-MM-DD" and a NUL;
 * returns DATE_TEXT_LEN. Only dates date_is_valid accepts are stored. */
int date_format(int32_t pg_days, char out[DATE_TEXT_LEN + 1]);

#endif
