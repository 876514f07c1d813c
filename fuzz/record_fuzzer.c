/*
 * record_fuzzer: arbitrary bytes as the start of a FastCGI connection
 * (fcgi_record_scan). What arrives later can only turn MORE into READY or
 * BAD: a prefix of a request that is READY is never BAD, and a prefix
 * that is BAD makes the whole BAD. No input is read outside its bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/fcgi_record.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum fcgi_scan scan_copy(const uint8_t *data, size_t n)
{
    /* an exact-size copy, so that AddressSanitizer sees any read past n */
    unsigned char *p = malloc(n ? n : 1);
    REQUIRE(p != NULL);
    memcpy(p, data, n);
    enum fcgi_scan v = fcgi_record_scan(p, n);
    free(p);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > FCGI_WINDOW)
        return 0;
    enum fcgi_scan whole = scan_copy(data, size);
    REQUIRE(whole == FCGI_READY || whole == FCGI_MORE || whole == FCGI_BAD);
    for (size_t cut = 1; cut < size; cut += 1 + cut / 4) {
        enum fcgi_scan part = scan_copy(data, cut);
        if (part == FCGI_BAD)
            REQUIRE(whole == FCGI_BAD);
        if (whole == FCGI_READY)
            REQUIRE(part != FCGI_BAD);
    }
    return 0;
}
