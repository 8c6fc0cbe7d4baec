/*
 * SUMMARY
 *      addr - IP address text to struct msg_addr
 * DESCRIPTION
 *      See addr.h. inet_pton() does the work: it wants a NUL-terminated
 *      string of one family, so the text is copied into a stack buffer
 *      and tried as IPv4, then, when it has a colon, as IPv6. Brackets
 *      are only taken off an IPv6 address (RFC 3986 IP-literal, RFC 3261
 *      IPv6reference); "[192.0.2.1]" is not an address.
 * PROTOCOL
 *      None: struct msg_addr is the address form the rings carry (msg.h).
 * DIAGNOSTICS
 *      Return values only; nothing is logged.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "addr.h"

int addr_parse(struct msg_addr *a, const char *s, size_t len, int port)
{
    char buf[INET6_ADDRSTRLEN];

    memset(a, 0, sizeof(*a));
    if (s == NULL || port < 0 || port > 65535)
        return -EINVAL;
    if (len < sizeof(buf)) {            /* longer: no IPv4 text either */
        memcpy(buf, s, len);
        buf[len] = '\0';
        if (inet_pton(AF_INET, buf, a->ip) == 1) {
            a->family = AF_INET;
            a->port = htons((uint16_t)port);
            return 0;
        }
    }
    if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
        s++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof(buf) || memchr(s, ':', len) == NULL)
        return -EINVAL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET6, buf, a->ip) != 1) {
        memset(a, 0, sizeof(*a));
        return -EINVAL;
    }
    a->family = AF_INET6;
    a->port = htons((uint16_t)port);
    return 0;
}
