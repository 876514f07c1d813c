/* Unit tests of timestamp: binary timestamptz and date -> RFC 3339, against
 * gmtime; the full-date check. */
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

static void test_date_is_valid(void)
{
    static const char *const valid[] = {
        "2026-12-31", "2024-02-29", "2000-02-29", "1600-02-29", "0001-01-01", "9999-12-31",
        "2026-01-31", "2026-03-31", "2026-04-30", "2026-06-30", "2026-09-30", "2026-11-30",
    };
    static const char *const invalid[] = {
        "2026-02-29",
        "1900-02-29",
        "2100-02-29",
        "2026-02-30",
        "2026-04-31",
        "2026-06-31",
        "2026-09-31",
        "2026-11-31",
        "2026-01-32",
        "2026-13-01",
        "2026-00-10",
        "2026-01-00",
        "0000-00-00",
        "0000-01-01",
        "",
        "2026-1-01",
        "2026-01-1",
        "26-01-01",
        "20260101",
        " 2026-01-01",
        "2026-01-01 ",
        "2026-01-01\n",
        "2026/01/01",
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00",
        "+2026-01-01",
        "-2026-01-01",
        "2026-0a-01",
        "2026--1-01",
        "\xD9\xA2"
        "026-01-01",
        "12026-01-01",
    };
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
        CHECK(date_is_valid(valid[i], strlen(valid[i])), "'%s' should be valid", valid[i]);
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        CHECK(!date_is_valid(invalid[i], strlen(invalid[i])), "'%s' should be invalid", invalid[i]);
    CHECK(!date_is_valid("2026-12-31", 9), "a length short of the text");
}

static void expect_date(int32_t pg_days, const char *want)
{
    char got[DATE_TEXT_LEN + 1];
    int n = date_format(pg_days, got);
    CHECK(n == DATE_TEXT_LEN && strcmp(got, want) == 0, "%d: got %s, want %s", (int)pg_days, got,
          want);
}

/* Every day from 1900 to 2200 through date_format and back through
 * date_is_valid, against gmtime. */
static void test_date_format(void)
{
    expect_date(0, "2000-01-01");
    expect_date(-1, "1999-12-31");
    expect_date(59, "2000-02-29");
    expect_date(9861, "2026-12-31");
    expect_date(-730119, "0001-01-01");
    expect_date(2921939, "9999-12-31");
    int bad = 0, total = 0;
    for (int64_t unix_s = -2208988800LL; unix_s < 7258118400LL; unix_s += 86400) {
        time_t t = (time_t)unix_s;
        struct tm tm;
        char want[32], got[DATE_TEXT_LEN + 1];
        gmtime_r(&t, &tm);
        strftime(want, sizeof want, "%Y-%m-%d", &tm);
        date_format((int32_t)((unix_s - EPOCH_2000) / 86400), got);
        bad += strcmp(got, want) != 0 || !date_is_valid(got, DATE_TEXT_LEN);
        total++;
    }
    CHECK(bad == 0, "%d of %d days differ from gmtime or are refused", bad, total);
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
    test_date_is_valid();
    test_date_format();
    return unit_report("test_timestamp");
}
