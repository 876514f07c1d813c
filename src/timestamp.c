/*
 * timestamp: binary timestamptz and date <-> RFC 3339. See timestamp.h.
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

static int is_leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The number of s[0..width), or -1 unless they are all ASCII digits. */
static int number(const char *s, int width)
{
    int v = 0;
    for (int i = 0; i < width; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int date_is_valid(const char *s, size_t n)
{
    static const unsigned char month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (n != DATE_TEXT_LEN || s[4] != '-' || s[7] != '-')
        return 0;
    int year = number(s, 4), month = number(s + 5, 2), day = number(s + 8, 2);
    /* PostgreSQL has no year 0 (it would be 1 BC), nor has RFC 3339 a use for it */
    if (year < 1 || month < 1 || month > 12 || day < 1)
        return 0;
    int last = month_days[month - 1] + (month == 2 && is_leap((unsigned)year));
    return day <= last;
}

int date_format(int32_t pg_days, char out[DATE_TEXT_LEN + 1])
{
    int64_t year;
    unsigned month, day;
    civil_from_days((int64_t)pg_days + DAYS_1970_TO_2000, &year, &month, &day);
    char *p = digits(out, (unsigned)(year < 0 ? 0 : year % 10000), 4);
    *p++ = '-';
    p = digits(p, month, 2);
    *p++ = '-';
    p = digits(p, day, 2);
    *p = '\0';
    return DATE_TEXT_LEN;
}
