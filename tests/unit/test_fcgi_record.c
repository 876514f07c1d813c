/* Unit tests of fcgi_record: requests as nginx sends them are READY, at
 * every cut short of whole they are MORE, and what libfcgi must not see
 * (lengths beyond what was sent or the cap, other records, other roles)
 * is BAD at once, before the rest could arrive. */
#include <string.h>

#include "../../src/fcgi_record.h"
#include "unit.h"

static unsigned char req[FCGI_WINDOW + 65536];
static size_t len;

static void record(int type, unsigned id, const void *content, size_t n, unsigned padding)
{
    unsigned char h[8] = {1,
                          (unsigned char)type,
                          (unsigned char)(id >> 8),
                          (unsigned char)id,
                          (unsigned char)(n >> 8),
                          (unsigned char)n,
                          (unsigned char)padding,
                          0};
    memcpy(req + len, h, 8);
    if (n)
        memcpy(req + len + 8, content, n);
    memset(req + len + 8 + n, 0, padding);
    len += 8 + n + padding;
}

static void begin(unsigned id, unsigned role)
{
    unsigned char body[8] = {(unsigned char)(role >> 8), (unsigned char)role, 1, 0, 0, 0, 0, 0};
    len = 0;
    record(1, id, body, 8, 0);
}

/* One name-value pair's bytes, long form lengths when asked. */
static size_t pair(unsigned char *out, const char *name, const char *value, int long_form)
{
    size_t n = strlen(name), v = strlen(value), k = 0;
    size_t lens[2] = {n, v};
    for (int i = 0; i < 2; i++) {
        if (long_form) {
            out[k++] = (unsigned char)(0x80 | lens[i] >> 24);
            out[k++] = (unsigned char)(lens[i] >> 16);
            out[k++] = (unsigned char)(lens[i] >> 8);
        }
        out[k++] = (unsigned char)lens[i];
    }
    memcpy(out + k, name, n);
    memcpy(out + k + n, value, v);
    return k + n + v;
}

/* A GET as nginx sends it: begin, params, empty params, empty stdin. */
static void nginx_get(void)
{
    unsigned char p[256];
    size_t n = pair(p, "REQUEST_METHOD", "GET", 0);
    n += pair(p + n, "REQUEST_URI", "/api/u1/tasks", 1);
    begin(1, 1);
    record(4, 1, p, n, 3);
    record(4, 1, NULL, 0, 0);
    record(5, 1, NULL, 0, 0);
}

static void whole_requests(void)
{
    nginx_get();
    CHECK(fcgi_record_scan(req, len) == FCGI_READY, "a GET");
    int cuts_more = 1;
    for (size_t cut = 1; cut < len; cut++)
        cuts_more &= fcgi_record_scan(req, cut) == FCGI_MORE;
    CHECK(cuts_more, "every prefix of it waits for more");

    /* A body in two records, then the end. */
    static unsigned char body[40000];
    memset(body, 'x', sizeof body);
    nginx_get();
    len -= 8;
    record(5, 1, body, 30000, 0);
    record(5, 1, body, 10000, 7);
    size_t before_end = len;
    record(5, 1, NULL, 0, 0);
    CHECK(fcgi_record_scan(req, len) == FCGI_READY, "a POST with its body");
    CHECK(fcgi_record_scan(req, before_end) == FCGI_MORE, "the body's end not seen yet");

    /* More body than the API takes: handed on once that much is seen. */
    nginx_get();
    len -= 8;
    for (int i = 0; i < 3; i++)
        record(5, 1, body, 30000, 0);
    CHECK(fcgi_record_scan(req, len) == FCGI_READY, "a body past FCGI_STDIN_SEEN");
}

static void bad_lengths(void)
{
    /* Finding 1 of issue 9: lengths of 0x40000000 in one small record. */
    unsigned char p[8] = {0xc0, 0, 0, 0, 0xc0, 0, 0, 0};
    begin(1, 1);
    record(4, 1, p, sizeof p, 0);
    CHECK(fcgi_record_scan(req, len) == FCGI_BAD, "1 GiB lengths are refused before more comes");

    unsigned char q[80000];
    pair(q, "HTTP_X", "", 1);
    q[4] = 0x80, q[5] = 0, q[6] = 0xfd, q[7] = 0xe8; /* value of 65000: within the cap */
    begin(1, 1);
    record(4, 1, q, 8 + 6, 0); /* the value is not all sent */
    CHECK(fcgi_record_scan(req, len) == FCGI_MORE, "a long value on its way waits");
    record(4, 1, NULL, 0, 0);
    CHECK(fcgi_record_scan(req, len) == FCGI_BAD, "a value longer than the params sent");
    q[6] = 0xff, q[7] = 0xfa; /* 65530: with its lengths and name, over the cap */
    begin(1, 1);
    record(4, 1, q, 8 + 6, 0);
    CHECK(fcgi_record_scan(req, len) == FCGI_BAD, "a pair that cannot fit in the cap, at once");

    /* Parameters over the cap, in full records. */
    memset(q, 'a', sizeof q);
    q[0] = 0x80, q[1] = 0, q[2] = 0xff, q[3] = 0x00; /* name of 65280 */
    q[4] = 0x00;                                     /* value of 0 */
    begin(1, 1);
    record(4, 1, q, 60000, 0);
    CHECK(fcgi_record_scan(req, len) == FCGI_MORE, "60000 bytes of a 65280-byte name: wait");
    record(4, 1, q + 60000, 5285, 0);
    record(4, 1, q, 600, 0);
    CHECK(fcgi_record_scan(req, len) == FCGI_BAD, "more than FCGI_PARAMS_MAX of params");

    unsigned char short_pair[3] = {5, 1, 'a'};
    begin(1, 1);
    record(4, 1, short_pair, sizeof short_pair, 0);
    record(4, 1, NULL, 0, 0);
    CHECK(fcgi_record_scan(req, len) == FCGI_BAD, "params that end inside a pair");
}

static void bad_records(void)
{
    unsigned char p[64];
    size_t n = pair(p, "A", "b", 0);

    begin(1, 2); /* authorizer */
    CHECK(fcgi_record_scan(req, len) == FCGI_BAD, "a role other than responder");
    begin(0, 1);
    CHECK(fcgi_record_scan(req, len) == FCGI_BAD, "request id 0 (management)");
    len = 0;
    record(9, 0, p, n, 0); /* FCGI_GET_VALUES, which libfcgi parses as params */
    CHECK(fcgi_record_scan(req, len) == FCGI_BAD, "a management record first");
    nginx_get();
    req[0] = 2;
    CHECK(fcgi_record_scan(req, len) == FCGI_BAD, "version 2");
    begin(1, 1);
    record(4, 2, p, n, 0);
    CHECK(fcgi_record_scan(req, len) == FCGI_BAD, "params of another request");
    begin(1, 1);
    record(5, 1, p, n, 0);
    CHECK(fcgi_record_scan(req, len) == FCGI_BAD, "stdin before the params' end");
    begin(1, 1);
    record(4, 1, p, n, 0);
    record(4, 1, NULL, 0, 0);
    record(4, 1, p, n, 0);
    CHECK(fcgi_record_scan(req, len) == FCGI_BAD, "params after their end");
    begin(1, 1);
    record(4, 1, NULL, 0, 0);
    record(8, 1, p, n, 0); /* FCGI_DATA: the filter role's */
    CHECK(fcgi_record_scan(req, len) == FCGI_BAD, "a data record");

    /* A request spread over more records than the window holds. */
    begin(1, 1);
    record(4, 1, NULL, 0, 0);
    while (len < FCGI_WINDOW + 16)
        record(5, 1, "x", 1, 0);
    CHECK(fcgi_record_scan(req, FCGI_WINDOW) == FCGI_BAD, "a full window that is not ready");
}

int main(void)
{
    whole_requests();
    bad_lengths();
    bad_records();
    return unit_report("test_fcgi_record");
}
