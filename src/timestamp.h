/*
 * timestamp: PostgreSQL's binary timestamptz (microseconds since
 * 2000-01-01T00:00:00Z) -> RFC 3339 text in UTC with six fractional digits,
 * as the contract spells every timestamp. Pure arithmetic: no time zone
 * database, no locale, no allocation.
 */
#ifndef TIMESTAMP_H
#define TIMESTAMP_H

#include <stdint.h>

#define TIMESTAMP_TEXT_MAX 40

/* Writes "YYYY-MM-DDTHH:MM:SS.ffffffZ" into out; returns its length. Years
 * outside 0..9999 (PostgreSQL allows them) are written as printf would. */
int timestamp_format(int64_t pg_microseconds, char out[TIMESTAMP_TEXT_MAX]);

#endif
