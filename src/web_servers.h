/*
 * web_servers: which peers may talk FastCGI to the pool over TCP, from
 * FCGI_WEB_SERVER_ADDRS as libfcgi reads it (a comma-separated list of
 * addresses, IPv4 or IPv6 here). Unset, only loopback peers may: a pool
 * listening on a public address is not open to the network by accident.
 * It owns the list and the check; accepting is connections'.
 */
#ifndef WEB_SERVERS_H
#define WEB_SERVERS_H

#include <stdbool.h>
#include <stddef.h>

#include <netinet/in.h>
#include <sys/socket.h>

#define WEB_SERVERS_MAX 32

struct web_servers {
    int count;                             /* 0: loopback only */
    struct in6_addr addr[WEB_SERVERS_MAX]; /* IPv4 as ::ffff:a.b.c.d */
};

/* Parses list (NULL or "": loopback only). -1 with a message in err on a
 * bad address or too many. */
int web_servers_parse(struct web_servers *w, const char *list, char *err, size_t errlen);

/* Whether the peer at sa may talk to the pool: any peer of a unix socket
 * (its file mode decides), a listed address, or loopback when none is. */
bool web_servers_allow(const struct web_servers *w, const struct sockaddr *sa);

/* Whether address, an IPv4 or IPv6 literal, is a loopback one (127.0.0.0/8,
 * ::1, ::ffff:127.x.y.z): the one test of it, for peers and for JWKS_URL. */
bool web_servers_is_loopback(const char *address);

#endif
