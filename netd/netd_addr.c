/*
 * SUMMARY
 *      netd_addr - struct msg_addr to and from sockaddr, compare, print
 * DESCRIPTION
 *      struct msg_addr (msg.h) is the address form that crosses the
 *      rings: family, port and scope in network order as in a sockaddr,
 *      and 4 or 16 bytes of IP. These helpers convert it for the socket
 *      calls, compare two (the connection table's key), hash one (the
 *      connection tables, the TCP hold-down slots, the worker an ICMP
 *      report goes to) and print one for log lines ("127.0.0.1:5060",
 *      "[::1]:5060").
 * PROTOCOL
 *      None.
 * DIAGNOSTICS
 *      None: an address of an unknown family converts to length 0 and
 *      prints as "?".
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "netd.h"

void netd_addr_from_sa(struct msg_addr *a, const struct sockaddr_storage *ss)
{
    memset(a, 0, sizeof(*a));
    a->family = ss->ss_family;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

        a->port = in->sin_port;
        memcpy(a->ip, &in->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

        a->port = in6->sin6_port;
        a->scope = in6->sin6_scope_id;
        memcpy(a->ip, &in6->sin6_addr, 16);
    }
}

socklen_t netd_addr_to_sa(const struct msg_addr *a,
                          struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (a->family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;

        in->sin_family = AF_INET;
        in->sin_port = a->port;
        memcpy(&in->sin_addr, a->ip, 4);
        return sizeof(*in);
    }
    if (a->family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

        in6->sin6_family = AF_INET6;
        in6->sin6_port = a->port;
        in6->sin6_scope_id = a->scope;
        memcpy(&in6->sin6_addr, a->ip, 16);
        return sizeof(*in6);
    }
    return 0;
}

/* netd_addr_eq - same family, port and IP (the scope is not compared) */
int netd_addr_eq(const struct msg_addr *a, const struct msg_addr *b)
{
    return a->family == b->family && a->port == b->port
           && memcmp(a->ip, b->ip, a->family == AF_INET6 ? 16 : 4) == 0;
}

/* netd_addr_hash - FNV-1a of family, IP and, with_port, port; never 0 */
uint32_t netd_addr_hash(const struct msg_addr *a, int with_port)
{
    const unsigned char *p = a->ip;
    size_t n = a->family == AF_INET6 ? 16 : 4;
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    if (with_port) {
        h = (h ^ (a->port & 0xff)) * 16777619u;
        h = (h ^ (a->port >> 8)) * 16777619u;
    }
    h = (h ^ a->family) * 16777619u;
    return h ? h : 1;
}

const char *netd_addr_fmt(const struct msg_addr *a, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];

    if ((a->family != AF_INET && a->family != AF_INET6)
        || inet_ntop(a->family, a->ip, ip, sizeof(ip)) == NULL) {
        snprintf(buf, cap, "?");
        return buf;
    }
    snprintf(buf, cap, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
             (unsigned)ntohs(a->port));
    return buf;
}
