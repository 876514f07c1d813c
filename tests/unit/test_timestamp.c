/* Unit tests of timestamp: binary timestamptz -> RFC 3339, against gmtime. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../src/timestamp.h"
#include "unit.h"

#define EPOCH_2000 INT64_C(946684800)

static void expect(int64_t pg, const char *want)
{
    char got[TIMESTAMP_TEXT_MAX];
    int n = timestamp_format(pg, got);
    CHECK(n == (int)strlen(want) && strcmp(got, want) == 0, "%lld: got %s, want %s", (long long)pg,
          got, want);
}

/* Every 7919 s from 1900 to 2200, against the C library. */
static void test_against_gmtime(void)
{
    int bad = 0, total = 0;
    for (int64_t unix_s = -2208988800LL; unix_s < 7258118400LL; unix_s += 7919 * 97) {
        time_t t = (time_t)unix_s;
        struct tm tm;
        char want[64], got[TIMESTAMP_TEXT_MAX];
        gmtime_r(&t, &tm);
        strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S.000123Z", &tm);
        timestamp_format((unix_s - EPOCH_2000) * 1000000 + 123, got);
        bad += strcmp(got, want) != 0;
        total++;
    }
    CHECK(bad == 0, "%d of %d instants differ from gmtime", bad, total);
}

int main(void)
{
    expect(0, "2000-01-01T00:00:00.000000Z");
    expect(-1, "1999-12-31T23:59:59.999999Z");
    expect(INT64_C(86400000000) * 59, "2000-02-29T00:00:00.000000Z");
    expect((INT64_C(1795683882) - EPOCH_2000) * 1000000 + 123456, "2026-11-26T09:04:42.123456Z");
    expect((INT64_C(951782400) - EPOCH_2000) * 1000000, "2000-02-29T00:00:00.000000Z");
    expect(-INT64_C(63113904000) * 1000000 - 1, "-0001-12-31T23:59:59.999999Z");
    expect(INT64_C(252455616000) * 1000000, "10000-01-01T00:00:00.000000Z");
    test_against_gmtime();
    return unit_report("test_timestamp");
}
