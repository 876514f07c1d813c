/*
 * fcgi_record: the records of one FastCGI request, checked before libfcgi
 * reads any of them. It owns the limits of what a peer may send (the
 * record sequence nginx sends, parameter lengths that fit in what was
 * sent, a cap on their total); reading the socket is connections', and
 * turning records into parameters and a body is libfcgi's.
 *
 * Why: libfcgi trusts what a record declares. A name-value pair that
 * claims 1 GiB makes it allocate 1 GiB and abort when that fails, and a
 * request that stops halfway blocks its read forever. Checked here first,
 * such a request is refused before libfcgi sees a byte of it, and one that
 * does not arrive whole in time is dropped.
 */
#ifndef FCGI_RECORD_H
#define FCGI_RECORD_H

#include <stddef.h>

/* Name and value bytes of all parameters together. nginx's own cap on a
 * request's headers (large_client_header_buffers 4 16k) is below it. */
#define FCGI_PARAMS_MAX 65536
/* Body bytes that must be seen before the request is handed on: the API's
 * cap on a body. A longer one is refused by its Content-Length, and what
 * is left of it is read by libfcgi. */
#define FCGI_STDIN_SEEN 65536
/* Bytes of records that can hold the above, headers and padding included;
 * a request that needs more to get there is refused. */
#define FCGI_WINDOW (2 * 65536 + 4096)

enum fcgi_scan {
    FCGI_READY, /* safe to hand to libfcgi */
    FCGI_MORE,  /* valid so far: wait for more */
    FCGI_BAD    /* refuse: close the connection */
};

/* Checks the n bytes that start a connection's next request. */
enum fcgi_scan fcgi_record_scan(const unsigned char *p, size_t n);

#endif
