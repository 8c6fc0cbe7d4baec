/*
 * SUMMARY
 *      dns_bl - unit tests of dnsd's blacklist of failed targets
 * DESCRIPTION
 *      dnsd_bl.c without a network: a reported target is skipped by the
 *      filter (others keep their order), its expiry ([dns] blacklist_s),
 *      a second report extends it, address, port and transport are all
 *      part of the key, IPv6, the bound (the soonest to expire goes when
 *      full), flush, the walk the MI dump uses, and blacklist_s = 0.
 *      Cases are tables.
 *
 *      This file is named for its topic, so it compiles the module it
 *      tests itself (as t/unit/dns_cache.c does).
 * PROTOCOL
 *      TAP on stdout.
 * DIAGNOSTICS
 *      Exit status: number of failed tests.
 */
#include <arpa/inet.h>
#include <stdio.h>

#include "../../dnsd/dnsd_bl.c"

#include "tap.h"

/* t_target - "1.2.3.4" or "2001:db8::1", port, transport */
static struct msg_dns_target t_target(const char *ip, uint16_t port,
                                      uint8_t proto)
{
    struct msg_dns_target t;

    memset(&t, 0, sizeof(t));
    t.addr.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
    inet_pton(t.addr.family, ip, t.addr.ip);
    t.addr.port = htons(port);
    t.proto = proto;
    return t;
}

static struct dnsd_bl bl;

static void t_count(void *arg, const struct dnsd_bl_ent *e, uint32_t left)
{
    int *n = arg;

    (void)e;
    (void)left;
    (*n)++;
}

static void test_skip(void)
{
    static const struct {
        const char *ip;
        uint16_t port;
        uint8_t proto;
        int listed;
    } t[] = {
        {"192.0.2.1", 5060, MSG_PROTO_UDP, 1},  /* the one reported */
        {"192.0.2.1", 5061, MSG_PROTO_UDP, 0},  /* other port */
        {"192.0.2.1", 5060, MSG_PROTO_TCP, 0},  /* other transport */
        {"192.0.2.2", 5060, MSG_PROTO_UDP, 0},  /* other address */
        {"2001:db8::1", 5060, MSG_PROTO_TCP, 1},
        {"2001:db8::2", 5060, MSG_PROTO_TCP, 0},
    };
    struct msg_dns_target v[8], f;
    int64_t now = 5000000;
    size_t i, n = sizeof(t) / sizeof(t[0]), k;

    dnsd_bl_init(&bl, 60);
    f = t_target("192.0.2.1", 5060, MSG_PROTO_UDP);
    is_int(dnsd_bl_add(&bl, &f.addr, f.proto, 1, now), 1, "add: new");
    f = t_target("2001:db8::1", 5060, MSG_PROTO_TCP);
    is_int(dnsd_bl_add(&bl, &f.addr, f.proto, 2, now), 1, "add: IPv6");
    for (i = 0; i < n; i++) {
        v[i] = t_target(t[i].ip, t[i].port, t[i].proto);
        is_int(dnsd_bl_has(&bl, &v[i], now + 1000), t[i].listed,
               "%s port %u proto %u: %s", t[i].ip, t[i].port, t[i].proto,
               t[i].listed ? "listed" : "not listed");
    }
    k = dnsd_bl_filter(&bl, v, n, now + 1000);
    ok(k == 4 && v[0].addr.port == htons(5061) && v[1].proto == MSG_PROTO_TCP
           && v[2].addr.ip[3] == 2 && v[3].addr.family == AF_INET6,
       "filter: the listed ones skipped, the others in their order");

    /* expiry: 60 s after the report; a second report extends it */
    v[0] = t_target("192.0.2.1", 5060, MSG_PROTO_UDP);
    ok(dnsd_bl_has(&bl, &v[0], now + 59999), "listed at 59.999 s");
    is_int(dnsd_bl_add(&bl, &v[0].addr, v[0].proto, 1, now + 30000), 0,
           "second report: refreshed, not new");
    ok(dnsd_bl_has(&bl, &v[0], now + 89999), "refreshed: listed at 89.999 s");
    ok(!dnsd_bl_has(&bl, &v[0], now + 90000), "refreshed: gone at 90 s");
    v[1] = t_target("2001:db8::1", 5060, MSG_PROTO_TCP);
    ok(!dnsd_bl_has(&bl, &v[1], now + 60000), "IPv6 one gone at 60 s");
    is_int((long long)bl.n, 0, "expired entries dropped when met");
}

static void test_bound(void)
{
    struct msg_dns_target t;
    char ip[32];
    int i, n = 0, first_gone, last_in;

    dnsd_bl_init(&bl, 60);
    for (i = 0; i < DNSD_BL_MAX + 10; i++) {
        snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 256, i % 256);
        t = t_target(ip, 5060, MSG_PROTO_UDP);
        dnsd_bl_add(&bl, &t.addr, t.proto, 1, (int64_t)i);
    }
    is_int((long long)bl.n, DNSD_BL_MAX, "bounded: %d entries", DNSD_BL_MAX);
    t = t_target("10.0.0.1", 5060, MSG_PROTO_UDP);
    first_gone = !dnsd_bl_has(&bl, &t, DNSD_BL_MAX + 10);
    snprintf(ip, sizeof(ip), "10.%d.%d.1", (DNSD_BL_MAX + 9) / 256,
             (DNSD_BL_MAX + 9) % 256);
    t = t_target(ip, 5060, MSG_PROTO_UDP);
    last_in = dnsd_bl_has(&bl, &t, DNSD_BL_MAX + 10);
    ok(first_gone && last_in, "full: the soonest to expire made room");
    dnsd_bl_walk(&bl, DNSD_BL_MAX + 10, t_count, &n);
    is_int(n, DNSD_BL_MAX, "walk: every live entry");
    dnsd_bl_flush(&bl);
    n = 0;
    dnsd_bl_walk(&bl, 0, t_count, &n);
    ok(bl.n == 0 && n == 0 && !dnsd_bl_has(&bl, &t, 0), "flush empties");
    is_int(dnsd_bl_add(&bl, &t.addr, t.proto, 1, 0), 1,
           "flushed table takes entries again");
}

static void test_off(void)
{
    struct msg_dns_target t = t_target("192.0.2.9", 5060, MSG_PROTO_UDP);
    struct msg_addr bad;

    dnsd_bl_init(&bl, 0);
    is_int(dnsd_bl_add(&bl, &t.addr, t.proto, 1, 0), -EINVAL,
           "blacklist_s 0: reports ignored");
    ok(!dnsd_bl_has(&bl, &t, 0) && dnsd_bl_filter(&bl, &t, 1, 0) == 1,
           "blacklist_s 0: nothing skipped");
    dnsd_bl_init(&bl, 60);
    memset(&bad, 0, sizeof(bad));
    bad.family = AF_UNIX;
    is_int(dnsd_bl_add(&bl, &bad, 1, 1, 0), -EINVAL, "bad family refused");
}

int main(void)
{
    test_skip();
    test_bound();
    test_off();
    return done_testing();
}
