/* Unit tests of buf: integers and JSON string escaping. */
#include <stdint.h>
#include <string.h>

#include "../../src/buf.h"
#include "unit.h"

static void expect_int(int64_t v, const char *want)
{
    struct buf b;
    buf_init(&b);
    buf_int(&b, v);
    CHECK(strcmp(buf_cstr(&b), want) == 0, "got %s, want %s", b.data, want);
    buf_free(&b);
}

static void expect_json(const char *s, size_t n, const char *want)
{
    struct buf b;
    buf_init(&b);
    buf_json_string(&b, s, n);
    CHECK(strcmp(buf_cstr(&b), want) == 0, "got %s, want %s", b.data, want);
    buf_free(&b);
}

int main(void)
{
    expect_int(0, "0");
    expect_int(7, "7");
    expect_int(-1, "-1");
    expect_int(1234567890123, "1234567890123");
    expect_int(INT64_MAX, "9223372036854775807");
    expect_int(INT64_MIN, "-9223372036854775808");

    expect_json("", 0, "\"\"");
    expect_json("plain", 5, "\"plain\"");
    expect_json("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
    expect_json("\n\r\t", 3, "\"\\n\\r\\t\"");
    expect_json("\x01\x1f", 2, "\"\\u0001\\u001f\"");
    expect_json("a\0b", 3, "\"a\\u0000b\"");
    expect_json("caf\xC3\xA9 \xF0\x9F\x98\x80 </", 13, "\"caf\xC3\xA9 \xF0\x9F\x98\x80 </\"");

    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 10000; i++)
        buf_puts(&b, "0123456789");
    CHECK(b.len == 100000 && memcmp(b.data + 99990, "0123456789", 10) == 0, "grows");
    buf_reset(&b);
    CHECK(b.len == 0 && b.cap == 0, "a buffer past BUF_KEEP is given back on reset (cap %zu)",
          b.cap);
    buf_puts(&b, "small");
    size_t cap = b.cap;
    buf_reset(&b);
    CHECK(b.len == 0 && b.cap == cap && cap > 0 && cap <= BUF_KEEP, "a small buffer is kept");
    CHECK(strcmp(buf_cstr(&b), "") == 0, "empty after reset");
    buf_free(&b);
    return unit_report("test_buf");
}
