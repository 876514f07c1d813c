/*
 * web_servers: the FastCGI peer allow-list. See web_servers.h.
 */
#include "web_servers.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static void map_v4(const struct in_addr *v4, struct in6_addr *out)
{
    memset(out, 0, sizeof *out);
    out->s6_addr[10] = out->s6_addr[11] = 0xff;
    memcpy(&out->s6_addr[12], v4, 4);
}

/* s as an IPv6 address, IPv4 mapped; false if it is neither. */
static bool parse_address(const char *s, struct in6_addr *out)
{
    struct in_addr v4;
    if (inet_pton(AF_INET, s, &v4) == 1) {
        map_v4(&v4, out);
        return true;
    }
    return inet_pton(AF_INET6, s, out) == 1;
}

int web_servers_parse(struct web_servers *w, const char *list, char *err, size_t errlen)
{
    char item[INET6_ADDRSTRLEN];

    w->count = 0;
    for (const char *p = list ? list : ""; *p;) {
        p += strspn(p, ", \t");
        size_t len = strcspn(p, ", \t");
        if (len == 0)
            break;
        if (len >= sizeof item || w->count == WEB_SERVERS_MAX) {
            snprintf(err, errlen, "FCGI_WEB_SERVER_ADDRS must be at most %d IP addresses",
                     WEB_SERVERS_MAX);
            return -1;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        if (!parse_address(item, &w->addr[w->count])) {
            snprintf(err, errlen, "FCGI_WEB_SERVER_ADDRS: %s is not an IP address", item);
            return -1;
        }
        w->count++;
        p += len;
    }
    return 0;
}

static bool is_loopback(const struct in6_addr *a)
{
    return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

bool web_servers_is_loopback(const char *address)
{
    struct in6_addr a;
    return parse_address(address, &a) && is_loopback(&a);
}

bool web_servers_allow(const struct web_servers *w, const struct sockaddr *sa)
{
    struct in6_addr peer;

    if (sa->sa_family == AF_INET)
        map_v4(&((const struct sockaddr_in *)(const void *)sa)->sin_addr, &peer);
    else if (sa->sa_family == AF_INET6)
        peer = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    else
        return sa->sa_family == AF_UNIX;
    if (w->count == 0)
        return is_loopback(&peer);
    for (int i = 0; i < w->count; i++)
        if (memcmp(&w->addr[i], &peer, sizeof peer) == 0)
            return true;
    return false;
}
