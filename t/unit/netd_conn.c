/*
 * SUMMARY
 *      netd_conn unit tests: the TCP connection table
 * DESCRIPTION
 *      Ids never 0 and never reused for a slot's next tenant; lookup by
 *      address survives growth and deletion (backward shift); the newest
 *      connection to an address wins; aliases; per-IP counts (port
 *      ignored, held connections only, survive growth and deletion);
 *      netd_addr_hash, the hash under both tables: port in or out,
 *      never 0, and spread (the worker an ICMP report goes to).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "netd.h"
#include "tap.h"

static struct msg_addr addr(unsigned ip, unsigned port)
{
    struct msg_addr a;

    memset(&a, 0, sizeof(a));
    a.family = AF_INET;
    a.port = htons((uint16_t)port);
    ip = htonl(ip);
    memcpy(a.ip, &ip, 4);
    return a;
}

#define N 5000
#define NIP 300                         /* IPs: the per-IP table grows */

/* ip_counts - tcp_max_connections_per_ip's bookkeeping */
static void ip_counts(void)
{
    static struct netd_conn *c[NIP * 3];
    struct netd_conn_tab t;
    struct msg_addr a;
    int i, bad = 0;

    is_int(netd_conn_tab_init(&t), 0, "per-IP: init");
    for (i = 0; i < NIP * 3; i++) {     /* 3 connections per IP */
        c[i] = netd_conn_new(&t);
        c[i]->peer = addr(0x0a000000 + (unsigned)(i % NIP),
                          2000 + (unsigned)i);
        if (netd_conn_ip_hold(&t, c[i]) < 0
            || netd_conn_ip_hold(&t, c[i]) < 0)   /* twice: counted once */
            bad++;
    }
    is_int(bad, 0, "per-IP: 900 connections held");
    for (i = 0; i < NIP; i++) {
        a = addr(0x0a000000 + (unsigned)i, 1);
        if (netd_conn_ip_count(&t, &a) != 3)
            bad++;
    }
    is_int(bad, 0, "per-IP: 3 per IP, whatever the port");
    a = addr(0x0b000001, 1);
    is_int((int)netd_conn_ip_count(&t, &a), 0, "per-IP: unknown IP is 0");
    for (i = 0; i < NIP * 3; i++)       /* drop 2 of the 3 of odd IPs */
        if (i % NIP % 2 == 1 && i < NIP * 2)
            netd_conn_del(&t, c[i]);
    for (i = 0; i < NIP; i++) {
        a = addr(0x0a000000 + (unsigned)i, 1);
        if (netd_conn_ip_count(&t, &a) != (i % 2 == 1 ? 1u : 3u))
            bad++;
    }
    is_int(bad, 0, "per-IP: counts follow deletions");
    for (i = 0; i < NIP * 3; i++)
        if (!(i % NIP % 2 == 1 && i < NIP * 2))
            netd_conn_del(&t, c[i]);
    is_int((int)t.ipcount, 0, "per-IP: no IP left after every delete");
    c[0] = netd_conn_new(&t);           /* not held: not counted */
    c[0]->peer = addr(0x0a000001, 5060);
    is_int((int)netd_conn_ip_count(&t, &c[0]->peer), 0,
           "per-IP: a connection not held is not counted");
    netd_conn_tab_fini(&t);
}

/* addr_hash - netd_addr_hash: what the tables and the ICMP report need */
static void addr_hash(void)
{
    struct msg_addr a = addr(0x7f000001, 5060), b = addr(0x7f000001, 5061);
    unsigned seen[8] = {0};
    int i, zero = 0, empty = 0;

    ok(netd_addr_hash(&a, 0) == netd_addr_hash(&b, 0),
       "addr hash without the port: same IP, same hash");
    ok(netd_addr_hash(&a, 1) != netd_addr_hash(&b, 1),
       "addr hash with the port: ports differ, hashes differ");
    b.family = AF_INET6;
    ok(netd_addr_hash(&a, 0) != netd_addr_hash(&b, 0),
       "addr hash: the family counts");
    for (i = 0; i < 4096; i++) {
        a = addr(0x0a000000 + (unsigned)i, 5060);
        if (netd_addr_hash(&a, 0) == 0 || netd_addr_hash(&a, 1) == 0)
            zero++;
        seen[(netd_addr_hash(&a, 0) * 0x9e3779b1u) >> 29]++;
    }
    for (i = 0; i < 8; i++)
        if (seen[i] < 4096 / 8 / 2)
            empty++;
    is_int(zero, 0, "addr hash: never 0 over 4096 addresses");
    is_int(empty, 0, "addr hash: 4096 IPs spread over 8 slots, none under "
           "half its share");
}

int main(void)
{
    static struct netd_conn *c[N];
    struct netd_conn_tab t;
    struct netd_conn *x, *y;
    struct msg_addr a;
    uint64_t old;
    int i, bad = 0;

    is_int(netd_conn_tab_init(&t), 0, "init");
    for (i = 0; i < N; i++) {
        c[i] = netd_conn_new(&t);
        c[i]->peer = addr(0x7f000001, 1000 + (unsigned)i);
        if (c[i]->id == 0 || netd_conn_key(&t, c[i], 0) < 0)
            bad++;
    }
    is_int(bad, 0, "5000 connections keyed, no id 0");
    is_int(t.count, N, "count");
    for (bad = 0, i = 0; i < N; i++) {
        a = addr(0x7f000001, 1000 + (unsigned)i);
        if (netd_conn_by_addr(&t, 0, &a) != c[i]
            || netd_conn_by_id(&t, c[i]->id) != c[i])
            bad++;
    }
    is_int(bad, 0, "every connection found by address and by id");
    for (i = 0; i < N; i += 2)
        netd_conn_del(&t, c[i]);
    for (bad = 0, i = 0; i < N; i++) {
        a = addr(0x7f000001, 1000 + (unsigned)i);
        if ((netd_conn_by_addr(&t, 0, &a) != NULL) != (i % 2 == 1))
            bad++;
    }
    is_int(bad, 0, "after deleting every other one: the rest still found");
    old = c[0]->id;                     /* freed; only its id is read */
    (void)old;
    x = netd_conn_new(&t);
    ok(x->id != 0 && netd_conn_by_id(&t, c[1]->id) == c[1],
       "a new connection reuses a slot");
    for (bad = 0, i = 0; i < N; i += 2)
        if (netd_conn_by_id(&t, (uint64_t)0) != NULL)
            bad++;
    is_int(bad, 0, "id 0 is never found");

    /* newest connection to an address wins; deleting the old keeps it */
    x->peer = addr(0x0a000001, 5060);
    netd_conn_key(&t, x, 0);
    y = netd_conn_new(&t);
    y->peer = x->peer;
    netd_conn_key(&t, y, 0);
    ok(netd_conn_by_addr(&t, 0, &x->peer) == y, "newest connection wins");
    old = x->id;
    netd_conn_del(&t, x);
    ok(netd_conn_by_addr(&t, 0, &y->peer) == y, "deleting the older keeps it");
    ok(netd_conn_by_id(&t, old) == NULL, "a deleted id is not found");

    /* alias */
    y->alias = addr(0x0a000001, 5070);
    netd_conn_key(&t, y, 1);
    a = addr(0x0a000001, 5070);
    ok(netd_conn_by_addr(&t, 0, &a) == y, "found by alias");
    netd_conn_del(&t, y);
    ok(netd_conn_by_addr(&t, 0, &a) == NULL, "alias gone with the connection");

    /* TCP and TLS to one address: two keys, neither stands in */
    x = netd_conn_new(&t);
    x->proto = MSG_PROTO_TCP;
    x->peer = addr(0x0a000002, 5061);
    netd_conn_key(&t, x, 0);
    ok(netd_conn_by_addr(&t, MSG_PROTO_TLS, &x->peer) == NULL,
       "a TCP connection is not found as TLS");
    y = netd_conn_new(&t);
    y->proto = MSG_PROTO_TLS;
    y->peer = x->peer;
    netd_conn_key(&t, y, 0);
    ok(netd_conn_by_addr(&t, MSG_PROTO_TLS, &x->peer) == y
       && netd_conn_by_addr(&t, MSG_PROTO_TCP, &x->peer) == x,
       "TCP and TLS to one address: each found under its transport");
    netd_conn_del(&t, x);
    ok(netd_conn_by_addr(&t, MSG_PROTO_TLS, &y->peer) == y
       && netd_conn_by_addr(&t, MSG_PROTO_TCP, &y->peer) == NULL,
       "deleting the TCP one leaves the TLS one");
    netd_conn_tab_fini(&t);
    ip_counts();
    addr_hash();
    return done_testing();
}
