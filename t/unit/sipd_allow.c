/*
 * SUMMARY
 *      sipd_allow - unit tests of the address table ([route] db_allow)
 * DESCRIPTION
 *      sipd_allow_parse(): rows as dbd sends them (text values), good
 *      and bad - IPv4, IPv6, brackets, masks 0..32 / 0..128, host bits
 *      cleared, ports 0..65535, NULL values, names, garbage. Then
 *      tables built from rows and the matcher: one host with any port
 *      or one port, several ports of one host, networks of every
 *      length, IPv6, an IPv4-mapped IPv6 source, families never mixed,
 *      an empty table, and a large table checked against a brute-force
 *      scan of its rows (the binary search over host rows). Cases are
 *      tables.
 * PROTOCOL
 *      TAP on stdout.
 * DIAGNOSTICS
 *      Exit status: number of failed tests.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd.h"
#include "tap.h"

/* t_val - "NULL" is SQL NULL, anything else text */
static struct db_val t_val(const char *s)
{
    struct db_val v;

    memset(&v, 0, sizeof(v));
    if (strcmp(s, "NULL") == 0) {
        v.type = DB_NULL;
        return v;
    }
    v.type = DB_STR;
    v.s = s;
    v.len = strlen(s);
    return v;
}

/* t_row - parse one row; 0 or -EINVAL */
static int t_row(const char *ip, const char *mask, const char *port,
                 struct sipd_allow_row *r, const char **why)
{
    struct db_val a = t_val(ip), m = t_val(mask), p = t_val(port);

    *why = NULL;
    return sipd_allow_parse(&a, &m, &p, r, why);
}

/* t_src - "1.2.3.4" / "2001:db8::1" and a port as netd gives them */
static struct msg_addr t_src(const char *ip, int port)
{
    struct msg_addr a;

    memset(&a, 0, sizeof(a));
    a.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(a.family, ip, a.ip) != 1)
        abort();
    a.port = htons((uint16_t)port);
    return a;
}

static void test_parse(void)
{
    static const struct {
        const char *ip, *mask, *port;
        int ok;
        int family, prefix, portv;
        const char *addr;               /* after masking */
    } t[] = {
        {"192.0.2.1", "32", "0", 1, AF_INET, 32, 0, "192.0.2.1"},
        {"192.0.2.1", "32", "5060", 1, AF_INET, 32, 5060, "192.0.2.1"},
        {"192.0.2.77", "24", "0", 1, AF_INET, 24, 0, "192.0.2.0"},
        {"192.0.2.77", "25", "0", 1, AF_INET, 25, 0, "192.0.2.0"},
        {"192.0.2.200", "25", "0", 1, AF_INET, 25, 0, "192.0.2.128"},
        {"10.1.2.3", "0", "0", 1, AF_INET, 0, 0, "0.0.0.0"},
        {"10.1.2.3", "7", "65535", 1, AF_INET, 7, 65535, "10.0.0.0"},
        {"2001:db8::1", "128", "0", 1, AF_INET6, 128, 0, "2001:db8::1"},
        {"[2001:db8::1]", "128", "0", 1, AF_INET6, 128, 0, "2001:db8::1"},
        {"2001:db8:1:2::5", "64", "0", 1, AF_INET6, 64, 0, "2001:db8:1:2::"},
        {"2001:db8:ffff::", "33", "0", 1, AF_INET6, 33, 0, "2001:db8:8000::"},
        {"::1", "128", "5062", 1, AF_INET6, 128, 5062, "::1"},
        {"::ffff:192.0.2.1", "128", "0", 1, AF_INET6, 128, 0,
         "::ffff:192.0.2.1"},
        {"192.0.2.1", "33", "0", 0, 0, 0, 0, NULL},
        {"2001:db8::1", "129", "0", 0, 0, 0, 0, NULL},
        {"192.0.2.1", "-1", "0", 0, 0, 0, 0, NULL},
        {"192.0.2.1", "", "0", 0, 0, 0, 0, NULL},
        {"192.0.2.1", "3 2", "0", 0, 0, 0, 0, NULL},
        {"192.0.2.1", "32", "65536", 0, 0, 0, 0, NULL},
        {"192.0.2.1", "32", "-5", 0, 0, 0, 0, NULL},
        {"192.0.2.1", "32", "5060x", 0, 0, 0, 0, NULL},
        {"192.0.2.1", "NULL", "0", 0, 0, 0, 0, NULL},
        {"192.0.2.1", "32", "NULL", 0, 0, 0, 0, NULL},
        {"NULL", "32", "0", 0, 0, 0, 0, NULL},
        {"", "32", "0", 0, 0, 0, 0, NULL},
        {"sip.example.com", "32", "0", 0, 0, 0, 0, NULL},
        {"192.0.2.1/24", "24", "0", 0, 0, 0, 0, NULL},
        {"192.0.2.256", "32", "0", 0, 0, 0, 0, NULL},
        {" 192.0.2.1", "32", "0", 0, 0, 0, 0, NULL},
        {"192.0.2.1:5060", "32", "0", 0, 0, 0, 0, NULL},
        {"'; DROP TABLE address; --", "32", "0", 0, 0, 0, 0, NULL},
        {"fe80::1%eth0", "128", "0", 0, 0, 0, 0, NULL},
    };
    struct sipd_allow_row r;
    const char *why;
    unsigned char want[16];
    size_t i;
    int got;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        got = t_row(t[i].ip, t[i].mask, t[i].port, &r, &why);
        if (!t[i].ok) {
            ok(got < 0 && why != NULL, "parse %s/%s port %s: refused (%s)",
               t[i].ip, t[i].mask, t[i].port, why ? why : "no reason");
            continue;
        }
        memset(want, 0, sizeof(want));
        inet_pton(t[i].family, t[i].addr, want);
        ok(got == 0 && r.family == t[i].family && r.prefix == t[i].prefix
               && r.port == t[i].portv && memcmp(r.addr, want, 16) == 0,
           "parse %s/%s port %s: family %d prefix %d port %d addr %s",
           t[i].ip, t[i].mask, t[i].port, t[i].family, t[i].prefix,
           t[i].portv, t[i].addr);
    }
}

/* The table of test_match, as rows of the address table. */
static const struct {
    const char *ip, *mask, *port;
} t_rows[] = {
    {"192.0.2.1", "32", "0"},           /* one host, any port */
    {"192.0.2.2", "32", "5060"},        /* one host, one port */
    {"192.0.2.2", "32", "5070"},        /* ... and another */
    {"198.51.100.0", "24", "0"},        /* a network */
    {"203.0.113.128", "25", "5080"},    /* a network, one port */
    {"2001:db8::10", "128", "0"},
    {"2001:db8:1::", "48", "0"},
    {"10.0.0.0", "8", "0"},
};

static void test_match(void)
{
    static const struct {
        const char *ip;
        int port;
        int want;
    } t[] = {
        {"192.0.2.1", 5060, 1},
        {"192.0.2.1", 1, 1},
        {"192.0.2.2", 5060, 1},
        {"192.0.2.2", 5070, 1},
        {"192.0.2.2", 5061, 0},         /* other port */
        {"192.0.2.3", 5060, 0},
        {"192.0.2.0", 5060, 0},
        {"198.51.100.0", 7, 1},
        {"198.51.100.255", 7, 1},
        {"198.51.101.1", 7, 0},
        {"198.51.99.255", 7, 0},
        {"203.0.113.128", 5080, 1},
        {"203.0.113.255", 5080, 1},
        {"203.0.113.127", 5080, 0},     /* below the /25 */
        {"203.0.113.200", 5081, 0},     /* right net, wrong port */
        {"10.255.255.255", 1, 1},
        {"11.0.0.0", 1, 0},
        {"2001:db8::10", 5060, 1},
        {"2001:db8::11", 5060, 0},
        {"2001:db8:1:ffff::1", 5060, 1},
        {"2001:db8:2::1", 5060, 0},
        {"::ffff:192.0.2.1", 5060, 1},  /* mapped: the IPv4 rows */
        {"::ffff:10.9.9.9", 5060, 1},
        {"::ffff:192.0.2.3", 5060, 0},
        {"::c000:201", 5060, 0},        /* 192.0.2.1 bits, not mapped */
        {"::1", 5060, 0},
    };
    struct sipd_allow_row rows[8];
    struct sipd_allow *tab, *empty;
    struct msg_addr a;
    const char *why;
    size_t i;

    for (i = 0; i < 8; i++)
        if (t_row(t_rows[i].ip, t_rows[i].mask, t_rows[i].port, &rows[i],
                  &why) < 0)
            abort();
    tab = sipd_allow_build(rows, 8);
    ok(tab != NULL && sipd_allow_rows(tab) == 8, "table of 8 rows built");
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        a = t_src(t[i].ip, t[i].port);
        is_int(sipd_allow_match(tab, &a), t[i].want, "match %s port %d: %s",
               t[i].ip, t[i].port, t[i].want ? "served" : "refused");
    }
    empty = sipd_allow_build(rows, 0);
    a = t_src("192.0.2.1", 5060);
    ok(empty != NULL && sipd_allow_rows(empty) == 0
           && sipd_allow_match(empty, &a) == 0,
       "a table of 0 rows serves nobody");
    a.family = 0;
    is_int(sipd_allow_match(tab, &a), 0, "no family: refused");
    sipd_allow_free(tab);
    sipd_allow_free(empty);
}

/* t_brute - the matcher's answer, the slow way */
static int t_brute(const struct sipd_allow_row *rows, int n,
                   const struct msg_addr *a)
{
    unsigned char ip[16];
    int i, b, bytes = a->family == AF_INET ? 4 : 16;

    for (i = 0; i < n; i++) {
        if (rows[i].family != a->family
            || (rows[i].port != 0 && rows[i].port != ntohs(a->port)))
            continue;
        memcpy(ip, a->ip, 16);
        for (b = rows[i].prefix; b < bytes * 8; b++)
            ip[b / 8] &= (unsigned char)~(0x80u >> (b % 8));
        if (memcmp(ip, rows[i].addr, (size_t)bytes) == 0)
            return 1;
    }
    return 0;
}

/* test_many - 5000 rows (hosts with ports, some nets) vs brute force */
static void test_many(void)
{
    enum { N = 5000, PROBES = 20000 };
    static struct sipd_allow_row rows[N];
    struct sipd_allow *tab;
    struct msg_addr a;
    char ip[64], mask[8], port[8];
    const char *why;
    unsigned seed = 7;
    int i, bad = 0, hits = 0;

    for (i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        snprintf(ip, sizeof(ip), "10.%u.%u.%u", (seed >> 8) % 4,
                 (seed >> 12) % 8, (seed >> 16) % 256);
        snprintf(mask, sizeof(mask), "%u", i % 50 == 0 ? 28 : 32);
        snprintf(port, sizeof(port), "%u",
                 (seed >> 24) % 3 == 0 ? 0 : 5060 + (seed >> 26) % 4);
        if (t_row(ip, mask, port, &rows[i], &why) < 0)
            abort();
    }
    tab = sipd_allow_build(rows, N);
    for (i = 0; i < PROBES && tab != NULL; i++) {
        seed = seed * 1103515245u + 12345u;
        snprintf(ip, sizeof(ip), "10.%u.%u.%u", (seed >> 8) % 4,
                 (seed >> 12) % 8, (seed >> 16) % 256);
        a = t_src(ip, 5059 + (int)((seed >> 24) % 6));
        if (sipd_allow_match(tab, &a) != t_brute(rows, N, &a))
            bad++;
        hits += t_brute(rows, N, &a);
    }
    ok(tab != NULL && bad == 0,
       "%d probes over %d rows: the matcher agrees with a full scan "
       "(%d served, %d disagreements)", PROBES, N, hits, bad);
    ok(hits > PROBES / 10 && hits < PROBES, "the probes hit and miss");
    sipd_allow_free(tab);
}

int main(void)
{
    test_parse();
    test_match();
    test_many();
    return done_testing();
}
