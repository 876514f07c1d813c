/*
 * problem: the one way to send an error answer, an RFC 9457 problem
 * document of one shape for every status. It owns the headers that belong
 * to a status (WWW-Authenticate on 401, Retry-After on 503, X-Request-Id on
 * 500); callers give the detail, the field errors of a 400, and any header
 * only they know (Allow on 405).
 */
#ifndef PROBLEM_H
#define PROBLEM_H

#include "field_error.h"
#include "request.h"

/* errors and extra_headers may be NULL. */
void problem_send(struct request *r, int status, const char *detail,
                  const struct field_errors *errors, const char *extra_headers);

#endif
