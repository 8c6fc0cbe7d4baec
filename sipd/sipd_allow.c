/*
 * SUMMARY
 *    sipd_allow - the address table of [route] db_allow: rows, lookup
 * DESCRIPTION
 *    A row of table "address" (Kamailio's permissions layout) says that
 *    requests from ip_addr/mask, from source port "port" (0: any), are
 *    served. sipd_allow_parse() reads one row as dbd sent it (text
 *    values): ip_addr is an IPv4 or IPv6 address (addr_parse(), the one
 *    IP parser, which calls inet_pton); mask is the prefix length, 0..32
 *    or 0..128 as in Kamailio's permissions module (32 / 128: one
 *    host); port 0..65535. The host bits past the mask are cleared, as
 *    permissions does for its subnet table. The grp column is read
 *    over: sipstage serves every group.
 *
 *    sipd_allow_build() makes the table a request is checked against,
 *    in one allocation: rows of one host (full mask) sorted by family,
 *    address and port, found by binary search; rows of a network kept
 *    apart and scanned (a deployment has few of them). An IPv4-mapped
 *    IPv6 source (::ffff:a.b.c.d) is checked as the IPv4 address.
 *
 *    sipd_allow_match() reads a table and changes nothing, so any
 *    number of workers may run it at once. The table is published and
 *    retired by the dispatcher through RCU (sipd_allow_load.c): workers
 *    read the pointer with rcu_dereference() inside a read-side
 *    section, and a table is freed only after a grace period.
 * PROTOCOL
 *    None: pure functions over memory.
 * DIAGNOSTICS
 *    A row that does not parse is refused with the reason
 *    (sipd_allow_parse()); the caller warns and skips it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "sipd.h"
#include "sipd_rcu.h"

struct sipd_allow {
    struct rcu_head rcu;                /* freed after a grace period */
    int nhost;                          /* host[]: sorted, full mask */
    int nnet;                           /* net[]: the other rows */
    struct sipd_allow_row *host;
    struct sipd_allow_row *net;
    struct sipd_allow_row rows[];
};

/* sipd_allow_int - a decimal value 0..max; -1 when it is not one */
static long sipd_allow_int(const struct db_val *v, long max)
{
    long n = 0;
    size_t i;

    if (v->type != DB_STR || v->len == 0 || v->len > 10)
        return -1;
    for (i = 0; i < v->len; i++) {
        if (v->s[i] < '0' || v->s[i] > '9')
            return -1;
        n = n * 10 + (v->s[i] - '0');
    }
    return n <= max ? n : -1;
}

/* sipd_allow_mask - clear the bits of a past the first prefix bits */
static void sipd_allow_mask(unsigned char *a, int bytes, int prefix)
{
    int i;

    for (i = 0; i < bytes; i++) {
        if (prefix >= 8)
            prefix -= 8;
        else {
            a[i] &= (unsigned char)(0xff00u >> prefix);
            prefix = 0;
        }
    }
}

/*
 * sipd_allow_parse - one row (ip_addr, mask, port as dbd sent them)
 *    into *row. Returns 0, or -EINVAL with *why saying what is wrong.
 */
int sipd_allow_parse(const struct db_val *ip, const struct db_val *mask,
                     const struct db_val *port, struct sipd_allow_row *row,
                     const char **why)
{
    struct msg_addr a;
    long m, p;
    int bits;

    memset(row, 0, sizeof(*row));
    if (ip->type != DB_STR || addr_parse(&a, ip->s, ip->len, 0) < 0) {
        *why = "ip_addr is not an IPv4 or IPv6 address";
        return -EINVAL;
    }
    bits = a.family == AF_INET ? 32 : 128;
    if ((m = sipd_allow_int(mask, bits)) < 0) {
        *why = a.family == AF_INET ? "mask is not 0..32" : "mask is not 0..128";
        return -EINVAL;
    }
    if ((p = sipd_allow_int(port, 65535)) < 0) {
        *why = "port is not 0..65535";
        return -EINVAL;
    }
    row->family = (uint8_t)a.family;
    row->prefix = (uint8_t)m;
    row->port = (uint16_t)p;
    memcpy(row->addr, a.ip, 16);
    sipd_allow_mask(row->addr, bits / 8, (int)m);
    return 0;
}

/* sipd_allow_cmp - order of host rows: family, address, port */
static int sipd_allow_cmp(const void *x, const void *y)
{
    const struct sipd_allow_row *a = x, *b = y;
    int r;

    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    if ((r = memcmp(a->addr, b->addr, 16)) != 0)
        return r;
    return a->port < b->port ? -1 : a->port > b->port;
}

static int sipd_allow_full(const struct sipd_allow_row *r)
{
    return r->prefix == (r->family == AF_INET ? 32 : 128);
}

/*
 * sipd_allow_build - the table of the n rows (copied; the caller keeps
 *    rows). NULL: out of memory. A table of 0 rows is a table: it
 *    serves nobody.
 */
struct sipd_allow *sipd_allow_build(const struct sipd_allow_row *rows, int n)
{
    struct sipd_allow *t;
    int i, h = 0, k = 0, nhost = 0;

    for (i = 0; i < n; i++)
        nhost += sipd_allow_full(&rows[i]);
    t = malloc(sizeof(*t) + (size_t)n * sizeof(t->rows[0]));
    if (t == NULL)
        return NULL;
    t->nhost = nhost;
    t->nnet = n - nhost;
    t->host = t->rows;
    t->net = t->rows + nhost;
    for (i = 0; i < n; i++) {
        if (sipd_allow_full(&rows[i]))
            t->host[h++] = rows[i];
        else
            t->net[k++] = rows[i];
    }
    qsort(t->host, (size_t)nhost, sizeof(t->host[0]), sipd_allow_cmp);
    return t;
}

/* sipd_allow_rows - the rows t holds */
int sipd_allow_rows(const struct sipd_allow *t)
{
    return t->nhost + t->nnet;
}

/* sipd_allow_in_net - address ip (family fam) lies in row r's network */
static int sipd_allow_in_net(const struct sipd_allow_row *r, int fam,
                             const unsigned char *ip)
{
    unsigned char a[16];

    if (r->family != fam)
        return 0;
    memcpy(a, ip, 16);
    sipd_allow_mask(a, fam == AF_INET ? 4 : 16, r->prefix);
    return memcmp(a, r->addr, fam == AF_INET ? 4 : 16) == 0;
}

/*
 * sipd_allow_hosts - a host row for (fam, ip) with port 0 or port:
 *    binary search to the first row of that address, then its ports.
 */
static int sipd_allow_hosts(const struct sipd_allow *t, int fam,
                            const unsigned char *ip, uint16_t port)
{
    struct sipd_allow_row key;
    int lo = 0, hi = t->nhost, mid;

    memset(&key, 0, sizeof(key));
    key.family = (uint8_t)fam;
    memcpy(key.addr, ip, fam == AF_INET ? 4 : 16);
    while (lo < hi) {                   /* first row >= (fam, ip, 0) */
        mid = lo + (hi - lo) / 2;
        if (sipd_allow_cmp(&t->host[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < t->nhost && t->host[lo].family == fam
           && memcmp(t->host[lo].addr, key.addr, 16) == 0;
         lo++)
        if (t->host[lo].port == 0 || t->host[lo].port == port)
            return 1;
    return 0;
}

/*
 * sipd_allow_match - source src (address and port, as netd saw the
 *    packet) is served by table t: 1, else 0.
 */
int sipd_allow_match(const struct sipd_allow *t, const struct msg_addr *src)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0,
                                             0, 0, 0, 0, 0xff, 0xff};
    unsigned char ip[16];
    uint16_t port = ntohs(src->port);
    int fam = src->family;
    int i;

    memset(ip, 0, sizeof(ip));
    if (fam == AF_INET6 && memcmp(src->ip, mapped, 12) == 0) {
        fam = AF_INET;
        memcpy(ip, src->ip + 12, 4);
    } else if (fam == AF_INET) {
        memcpy(ip, src->ip, 4);
    } else if (fam == AF_INET6) {
        memcpy(ip, src->ip, 16);
    } else {
        return 0;
    }
    if (sipd_allow_hosts(t, fam, ip, port))
        return 1;
    for (i = 0; i < t->nnet; i++)
        if ((t->net[i].port == 0 || t->net[i].port == port)
            && sipd_allow_in_net(&t->net[i], fam, ip))
            return 1;
    return 0;
}

static void sipd_allow_free_rcu(struct rcu_head *head)
{
    struct sipd_allow *t = caa_container_of(head, struct sipd_allow, rcu);

    SIPD_RCU_RECLAIM(t);
    free(t);
}

/*
 * sipd_allow_retire - free t after a grace period (call_rcu): workers
 *    that read the pointer before it was replaced may still use it.
 *    NULL: nothing. The caller is a registered thread.
 */
void sipd_allow_retire(struct sipd_allow *t)
{
    if (t == NULL)
        return;
    SIPD_RCU_LEFT(t);                   /* the retiring thread read it too */
    urcu_memb_call_rcu(&t->rcu, sipd_allow_free_rcu);
}

/* sipd_allow_free - free t now: nobody can see it (tests, exit) */
void sipd_allow_free(struct sipd_allow *t)
{
    free(t);
}
