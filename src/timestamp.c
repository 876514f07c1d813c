/*
 * timestamp: binary timestamptz -> RFC 3339. See timestamp.h.
 *
 * civil_from_days is Howard Hinnant's algorithm
 * (https://howardhinnant.github.io/date_algorithms.html), exact for every
 * day of the proleptic Gregorian calendar.
 */
#include "timestamp.h"

#include <stdio.h>

#define USEC_PER_DAY INT64_C(86400000000)
#define DAYS_1970_TO_2000 10957

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Writes v as exactly width decimal digits, most significant first. */
static char *digits(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

int timestamp_format(int64_t t, char out[TIMESTAMP_TEXT_MAX])
{
    int64_t days = t / USEC_PER_DAY, rest = t % USEC_PER_DAY;
    if (rest < 0) {
        rest += USEC_PER_DAY;
        days--;
    }
    int64_t year;
    unsigned month, day;
    civil_from_days(days + DAYS_1970_TO_2000, &year, &month, &day);
    if (year < 0 || year > 9999) /* never from our tables; still printed right */
        return snprintf(out, TIMESTAMP_TEXT_MAX, "%05lld-%02u-%02uT%02u:%02u:%02u.%06uZ",
                        (long long)year, month, day, (unsigned)(rest / 3600000000),
                        (unsigned)(rest / 60000000 % 60), (unsigned)(rest / 1000000 % 60),
                        (unsigned)(rest % 1000000));
    /* The hot path: every task has two timestamps; snprintf would be most
     * of the cost of writing a task. */
    char *p = digits(out, (unsigned)year, 4);
    *p++ = '-';
    p = digits(p, month, 2);
    *p++ = '-';
    p = digits(p, day, 2);
    *p++ = 'T';
    p = digits(p, (unsigned)(rest / 3600000000), 2);
    *p++ = ':';
    p = digits(p, (unsigned)(rest / 60000000 % 60), 2);
    *p++ = ':';
    p = digits(p, (unsigned)(rest / 1000000 % 60), 2);
    *p++ = '.';
    p = digits(p, (unsigned)(rest % 1000000), 6);
    *p++ = 'Z';
    *p = '\0';
    return (int)(p - out);
}
