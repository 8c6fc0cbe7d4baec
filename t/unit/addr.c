/*
 * SUMMARY
 *      addr unit test - IP address text to struct msg_addr
 * DESCRIPTION
 *      One table: text (with its length, so text that is not
 *      NUL-terminated is covered too), port, and the address expected
 *      back as "ip:port" / "[v6]:port" text, or NULL for -EINVAL.
 * PROTOCOL
 *      None.
 * DIAGNOSTICS
 *      TAP on stdout; exit status is the number of failures.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "tap.h"

struct t_addr_case {
    const char *text;
    size_t len;                         /* 0: strlen(text) */
    int port;
    const char *want;                   /* NULL: -EINVAL */
};

static const struct t_addr_case t_cases[] = {
    /* IPv4 */
    {"192.0.2.1", 0, 5060, "192.0.2.1:5060"},
    {"127.0.0.1", 0, 0, "127.0.0.1:0"},
    {"255.255.255.255", 0, 65535, "255.255.255.255:65535"},
    {"0.0.0.0", 0, 1, "0.0.0.0:1"},
    {"10.0.0.2:5080", 8, 5080, "10.0.0.2:5080"},   /* len stops at ':' */
    /* IPv6 */
    {"::1", 0, 5060, "[::1]:5060"},
    {"2001:db8::9", 0, 5062, "[2001:db8::9]:5062"},
    {"2001:DB8:0:0:0:0:0:1", 0, 5061, "[2001:db8::1]:5061"},
    {"::ffff:192.0.2.1", 0, 5060, "[::ffff:192.0.2.1]:5060"},
    {"::", 0, 5060, "[::]:5060"},
    {"1:2:3:4:5:6:7:8", 0, 5060, "[1:2:3:4:5:6:7:8]:5060"},
    /* bracketed IPv6 */
    {"[::1]", 0, 5060, "[::1]:5060"},
    {"[2001:db8::9]", 0, 7, "[2001:db8::9]:7"},
    {"[2001:db8::9]:5062", 13, 5062, "[2001:db8::9]:5062"},
    /* ports */
    {"192.0.2.1", 0, 65536, NULL},
    {"192.0.2.1", 0, -1, NULL},
    {"::1", 0, 100000, NULL},
    /* bad input */
    {"", 0, 5060, NULL},
    {"[]", 0, 5060, NULL},
    {"[", 0, 5060, NULL},
    {"[::1", 0, 5060, NULL},
    {"::1]", 0, 5060, NULL},
    {"[192.0.2.1]", 0, 5060, NULL},
    {"example.com", 0, 5060, NULL},
    {"192.0.2", 0, 5060, NULL},
    {"192.0.2.256", 0, 5060, NULL},
    {"192.0.2.1.5", 0, 5060, NULL},
    {" 192.0.2.1", 0, 5060, NULL},
    {"192.0.2.1 ", 0, 5060, NULL},
    {"192.0.2.1:5060", 0, 5060, NULL},
    {"2001:db8::1::2", 0, 5060, NULL},
    {"2001:db8::g", 0, 5060, NULL},
    {"fe80::1%eth0", 0, 5060, NULL},
    {"1:2:3:4:5:6:7:8:9", 0, 5060, NULL},
    {"0000:0000:0000:0000:0000:0000:0000:0000:0000:0000", 0, 5060, NULL},
    {"[[::1]]", 0, 5060, NULL},
};

/* t_text - a msg_addr as "ip:port" / "[v6]:port" */
static const char *t_text(const struct msg_addr *a, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];

    if ((a->family != AF_INET && a->family != AF_INET6)
        || inet_ntop(a->family, a->ip, ip, sizeof(ip)) == NULL)
        snprintf(ip, sizeof(ip), "family %u", a->family);
    snprintf(buf, cap, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
             (unsigned)ntohs(a->port));
    return buf;
}

static void t_case(const struct t_addr_case *c)
{
    static const struct msg_addr zero;
    struct msg_addr a;
    size_t len = c->len ? c->len : strlen(c->text);
    char got[80];
    int r;

    memset(&a, 0x5a, sizeof(a));
    r = addr_parse(&a, c->text, len, c->port);
    if (c->want == NULL) {
        is_int(r, -EINVAL, "\"%.*s\" port %d: -EINVAL", (int)len, c->text,
               c->port);
        ok(memcmp(&a, &zero, sizeof(a)) == 0, "\"%.*s\": zeroed", (int)len,
           c->text);
        return;
    }
    is_int(r, 0, "\"%.*s\" port %d: parsed", (int)len, c->text, c->port);
    is_str(t_text(&a, got, sizeof(got)), c->want, "\"%.*s\": %s", (int)len,
           c->text, c->want);
    is_int(a.scope, 0, "\"%.*s\": scope 0", (int)len, c->text);
}

int main(void)
{
    struct msg_addr a;
    size_t i;

    for (i = 0; i < sizeof(t_cases) / sizeof(t_cases[0]); i++)
        t_case(&t_cases[i]);
    is_int(addr_parse(&a, NULL, 0, 5060), -EINVAL, "NULL text: -EINVAL");
    is_int(addr_parse(&a, "192.0.2.1", 9, 5060), 0, "network order: parsed");
    ok(a.family == AF_INET && a.port == htons(5060)
           && memcmp(a.ip, "\xc0\x00\x02\x01", 4) == 0,
       "network order: port and IP bytes");
    return done_testing();
}
