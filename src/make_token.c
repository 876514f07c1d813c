/*
 * make-token: prints an HS256 token for a user, signed with
 * BETTER_AUTH_SECRET, for the local stack, tests and curl. Not part of the
 * server.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwt.h>

static int usage(void)
{
    fputs("usage: make-token USER_ID [TTL_SECONDS]\n"
          "Prints an HS256 token with sub=USER_ID, iat=now and exp=now+TTL (default 3600),\n"
          "signed with BETTER_AUTH_SECRET (JWT_ISSUER / JWT_AUDIENCE added when set).\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    const char *secret = getenv("BETTER_AUTH_SECRET");
    const char *issuer = getenv("JWT_ISSUER"), *audience = getenv("JWT_AUDIENCE");
    long ttl = argc > 2 ? strtol(argv[2], NULL, 10) : 3600;
    jwt_t *jwt = NULL;
    char *token = NULL;
    time_t now = time(NULL);

    if (argc < 2 || argc > 3 || argv[1][0] == '\0' || ttl <= 0)
        return usage();
    if (secret == NULL || *secret == '\0') {
        fputs("make-token: BETTER_AUTH_SECRET is not set\n", stderr);
        return 1;
    }
    int rc = jwt_new(&jwt);
    if (rc == 0)
        rc = jwt_add_grant(jwt, "sub", argv[1]);
    if (rc == 0)
        rc = jwt_add_grant_int(jwt, "iat", (long)now);
    if (rc == 0)
        rc = jwt_add_grant_int(jwt, "exp", (long)now + ttl);
    if (rc == 0 && issuer && *issuer)
        rc = jwt_add_grant(jwt, "iss", issuer);
    if (rc == 0 && audience && *audience)
        rc = jwt_add_grant(jwt, "aud", audience);
    if (rc == 0)
        rc = jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret));
    if (rc == 0 && (token = jwt_encode_str(jwt)) == NULL)
        rc = errno ? errno : ENOMEM;
    if (rc != 0) {
        fprintf(stderr, "make-token: cannot make a token: %s\n", strerror(rc));
        jwt_free(jwt);
        return 1;
    }
    puts(token);
    free(token);
    jwt_free(jwt);
    return 0;
}
