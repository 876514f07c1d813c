/* Unit tests of web_servers: FCGI_WEB_SERVER_ADDRS parsed, and peers
 * allowed or refused by it; loopback only when it is unset. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/un.h>

#include "../../src/web_servers.h"
#include "unit.h"

static bool allows(const struct web_servers *w, const char *addr)
{
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    if (inet_pton(AF_INET, addr, &v4.sin_addr) == 1)
        return web_servers_allow(w, (struct sockaddr *)&v4);
    if (inet_pton(AF_INET6, addr, &v6.sin6_addr) == 1)
        return web_servers_allow(w, (struct sockaddr *)&v6);
    return false;
}

int main(void)
{
    struct web_servers w;
    char err[128];

    CHECK(web_servers_parse(&w, NULL, err, sizeof err) == 0 && w.count == 0, "unset");
    CHECK(allows(&w, "127.0.0.1") && allows(&w, "127.5.6.7") && allows(&w, "::1") &&
              allows(&w, "::ffff:127.0.0.1"),
          "unset: loopback peers are served");
    CHECK(!allows(&w, "10.0.0.1") && !allows(&w, "::ffff:10.0.0.1") && !allows(&w, "fe80::1"),
          "unset: no other peer");
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    CHECK(web_servers_allow(&w, (struct sockaddr *)&un), "a unix socket's peer: its mode decides");

    CHECK(web_servers_parse(&w, "10.0.0.5, 2001:db8::7,192.168.1.1", err, sizeof err) == 0 &&
              w.count == 3,
          "a list: %s", err);
    CHECK(allows(&w, "10.0.0.5") && allows(&w, "::ffff:10.0.0.5") && allows(&w, "2001:db8::7") &&
              allows(&w, "192.168.1.1"),
          "listed peers are served, IPv4 mapped or not");
    CHECK(!allows(&w, "10.0.0.6") && !allows(&w, "127.0.0.1") && !allows(&w, "2001:db8::8"),
          "a list replaces loopback: nothing else is served");

    CHECK(web_servers_parse(&w, "10.0.0.5,nginx.local", err, sizeof err) < 0 &&
              strstr(err, "nginx.local") != NULL,
          "a host name is refused, by name: %s", err);
    CHECK(web_servers_parse(&w, "10.0.0.0/8", err, sizeof err) < 0, "a network is refused");
    char many[33 * 10 + 1] = "";
    for (int i = 0; i < 33; i++)
        strcat(many, "10.0.0.1,");
    CHECK(web_servers_parse(&w, many, err, sizeof err) < 0, "33 addresses are too many");
    return unit_report("test_web_servers");
}
