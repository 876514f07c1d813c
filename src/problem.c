/*
 * problem: problem+json error answers. See problem.h.
 */
#include "problem.h"

#include <string.h>

#include "buf.h"

static void status_headers(struct buf *h, const struct request *r, int status,
                           const char *extra_headers)
{
    if (status == 401)
        buf_puts(h, "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n");
    else if (status == 503)
        buf_printf(h, "Retry-After: %d\r\n", r->retry_after);
    else if (status == 500)
        buf_printf(h, "X-Request-Id: %s\r\n", r->id);
    if (extra_headers)
        buf_puts(h, extra_headers);
}

void problem_send(struct request *r, int status, const char *detail,
                  const struct field_errors *errors, const char *extra_headers)
{
    struct buf body, headers;
    const char *title = http_reason(status);

    buf_init(&body);
    buf_init(&headers);
    buf_printf(&body, "{\"type\":\"about:blank\",\"title\":\"%s\",\"status\":%d,\"detail\":", title,
               status);
    buf_json_string(&body, detail, strlen(detail));
    if (errors && errors->count > 0) {
        buf_puts(&body, ",\"errors\":[");
        for (int i = 0; i < errors->count; i++) {
            buf_puts(&body, i ? ",{\"field\":" : "{\"field\":");
            buf_json_string(&body, errors->items[i].field, strlen(errors->items[i].field));
            buf_puts(&body, ",\"message\":");
            buf_json_string(&body, errors->items[i].message, strlen(errors->items[i].message));
            buf_puts(&body, "}");
        }
        buf_puts(&body, "]");
    }
    buf_puts(&body, "}");
    status_headers(&headers, r, status, extra_headers);
    response_send(r, status, buf_cstr(&headers), "application/problem+json", body.data, body.len);
    buf_free(&body);
    buf_free(&headers);
}
