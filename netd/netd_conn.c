/*
 * SUMMARY
 *      netd_conn - the TCP connection table: by id and by remote address
 * DESCRIPTION
 *      Connections live in a slot array. An id is (generation << 32) |
 *      (slot + 1): lookup by id is one array index and one compare, and
 *      an id whose connection closed never matches the slot's next
 *      tenant (the generation moved on). Ids are never 0 (0 means UDP).
 *
 *      Lookup by remote address is an open-addressing hash (linear
 *      probing, backward-shift deletion, no tombstones), grown to keep
 *      the load under one half. The key is the transport (TCP or TLS:
 *      both live in this one table, under one set of limits) and the
 *      address, so a TLS destination never gets a plain TCP connection.
 *      An entry points at a connection and says which of its keys it
 *      is: the peer address, or the RFC 5923 alias (the sent-by of a Via
 *      with ;alias, when [net] tcp_via_alias is on). A newer connection
 *      to an address replaces the older one's entry; deleting a
 *      connection removes only entries that are its own.
 *
 *      A third table counts connections per remote IP, port ignored
 *      ([net] tcp_max_connections_per_ip): the same open addressing,
 *      keyed by family and address, an entry removed when its count
 *      drops to zero. Only connections the transport asks to count
 *      (netd_conn_ip_hold(): accepted ones) are in it.
 *
 *      Why not liburcu's rculfhash: netd's reactor is one thread and
 *      the only reader and writer of the table, so RCU buys nothing and
 *      costs an allocation per node and a grace-period machinery. A
 *      plain table is smaller, allocation-free per lookup and easy to
 *      test (t/unit/netd_conn.c).
 * PROTOCOL
 *      None: a data structure of netd's reactor thread.
 * DIAGNOSTICS
 *      Nothing is logged; allocation failures return NULL / -ENOMEM.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netd.h"

#define NETD_CONN_MIN_SLOTS 64u
#define NETD_CONN_MIN_HASH 128u
#define NETD_CONN_MIN_IPS 64u

static uint32_t netd_conn_hash(int proto, const struct msg_addr *a)
{
    uint32_t h = (netd_addr_hash(a, 1) ^ (uint32_t)proto) * 16777619u;

    return h ? h : 1;
}

/* netd_conn_ip_hash - of family and address, never 0 */
static uint32_t netd_conn_ip_hash(const struct msg_addr *a)
{
    return netd_addr_hash(a, 0);
}

static const struct msg_addr *netd_conn_hkey(const struct netd_conn_hent *e)
{
    return e->alias ? &e->c->alias : &e->c->peer;
}

int netd_conn_tab_init(struct netd_conn_tab *t)
{
    memset(t, 0, sizeof(*t));
    t->ht = calloc(NETD_CONN_MIN_HASH, sizeof(*t->ht));
    if (t->ht == NULL)
        return -ENOMEM;
    t->hcap = NETD_CONN_MIN_HASH;
    t->ipt = calloc(NETD_CONN_MIN_IPS, sizeof(*t->ipt));
    if (t->ipt == NULL) {
        free(t->ht);
        return -ENOMEM;
    }
    t->ipcap = NETD_CONN_MIN_IPS;
    return 0;
}

void netd_conn_tab_fini(struct netd_conn_tab *t)
{
    uint32_t i;

    for (i = 0; i < t->nslot; i++)
        if (t->slot[i] != NULL)
            netd_conn_del(t, t->slot[i]);
    free(t->slot);
    free(t->gen);
    free(t->freel);
    free(t->ht);
    free(t->ipt);
    memset(t, 0, sizeof(*t));
}

/* netd_conn_grow_slots - room for one more slot; 0 or -ENOMEM */
static int netd_conn_grow_slots(struct netd_conn_tab *t)
{
    uint32_t cap = t->cap ? t->cap * 2 : NETD_CONN_MIN_SLOTS;
    struct netd_conn **s;
    uint32_t *g, *f;

    if ((s = realloc(t->slot, cap * sizeof(*s))) == NULL)
        return -ENOMEM;
    t->slot = s;
    if ((g = realloc(t->gen, cap * sizeof(*g))) == NULL)
        return -ENOMEM;
    t->gen = g;
    if ((f = realloc(t->freel, cap * sizeof(*f))) == NULL)
        return -ENOMEM;
    t->freel = f;
    memset(s + t->cap, 0, (cap - t->cap) * sizeof(*s));
    memset(g + t->cap, 0, (cap - t->cap) * sizeof(*g));
    t->cap = cap;
    return 0;
}

struct netd_conn *netd_conn_new(struct netd_conn_tab *t)
{
    struct netd_conn *c;
    uint32_t i;

    if (t->nfree == 0 && t->nslot == t->cap && netd_conn_grow_slots(t) < 0)
        return NULL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return NULL;
    i = t->nfree > 0 ? t->freel[--t->nfree] : t->nslot++;
    t->gen[i]++;
    c->id = (uint64_t)t->gen[i] << 32 | (uint64_t)(i + 1);
    c->fd = -1;
    t->slot[i] = c;
    t->count++;
    return c;
}

struct netd_conn *netd_conn_by_id(const struct netd_conn_tab *t, uint64_t id)
{
    uint32_t i = (uint32_t)(id & 0xffffffffu);
    struct netd_conn *c;

    if (i == 0 || i > t->nslot)
        return NULL;
    c = t->slot[i - 1];
    return c != NULL && c->id == id ? c : NULL;
}

static uint32_t netd_conn_find(const struct netd_conn_tab *t, int proto,
                               const struct msg_addr *a, uint32_t h)
{
    uint32_t mask = t->hcap - 1;
    uint32_t i = h & mask;

    while (t->ht[i].c != NULL) {
        if (t->ht[i].h == h && t->ht[i].c->proto == proto
            && netd_addr_eq(netd_conn_hkey(&t->ht[i]), a))
            return i;
        i = (i + 1) & mask;
    }
    return i;                           /* the empty slot ending the run */
}

struct netd_conn *netd_conn_by_addr(const struct netd_conn_tab *t,
                                    int proto, const struct msg_addr *a)
{
    uint32_t i = netd_conn_find(t, proto, a, netd_conn_hash(proto, a));

    return t->ht[i].c;
}

/* netd_conn_rehash - double the hash table; 0 or -ENOMEM */
static int netd_conn_rehash(struct netd_conn_tab *t)
{
    struct netd_conn_hent *old = t->ht;
    uint32_t ocap = t->hcap, i, j;

    if ((t->ht = calloc((size_t)ocap * 2, sizeof(*t->ht))) == NULL) {
        t->ht = old;
        return -ENOMEM;
    }
    t->hcap = ocap * 2;
    for (i = 0; i < ocap; i++) {
        if (old[i].c == NULL)
            continue;
        for (j = old[i].h & (t->hcap - 1); t->ht[j].c != NULL;
             j = (j + 1) & (t->hcap - 1))
            ;
        t->ht[j] = old[i];
    }
    free(old);
    return 0;
}

int netd_conn_key(struct netd_conn_tab *t, struct netd_conn *c, int alias)
{
    const struct msg_addr *a = alias ? &c->alias : &c->peer;
    uint32_t h = netd_conn_hash(c->proto, a);
    uint32_t i;

    if ((t->hcount + 1) * 2 > t->hcap && netd_conn_rehash(t) < 0)
        return -ENOMEM;
    i = netd_conn_find(t, c->proto, a, h);
    if (t->ht[i].c == NULL)
        t->hcount++;
    t->ht[i] = (struct netd_conn_hent){c, h, (uint32_t)(alias != 0)};
    return 0;
}

/* netd_conn_unkey - remove the entry for a if it belongs to c */
static void netd_conn_unkey(struct netd_conn_tab *t, struct netd_conn *c,
                            const struct msg_addr *a)
{
    uint32_t mask = t->hcap - 1;
    uint32_t i = netd_conn_find(t, c->proto, a, netd_conn_hash(c->proto, a));
    uint32_t j, k;

    if (t->ht[i].c != c)
        return;
    /* Backward-shift: move later members of the run into the hole. */
    for (j = (i + 1) & mask; t->ht[j].c != NULL; j = (j + 1) & mask) {
        k = t->ht[j].h & mask;          /* its home slot */
        if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
            t->ht[i] = t->ht[j];
            i = j;
        }
    }
    t->ht[i].c = NULL;
    t->hcount--;
}

/* netd_conn_ip_find - a's entry, or the empty slot ending its run */
static uint32_t netd_conn_ip_find(const struct netd_conn_tab *t,
                                  const struct msg_addr *a, uint32_t h)
{
    uint32_t mask = t->ipcap - 1;
    uint32_t i = h & mask;
    size_t n = a->family == AF_INET6 ? 16 : 4;
    const struct netd_conn_ipent *e;

    for (; (e = &t->ipt[i])->n != 0; i = (i + 1) & mask)
        if (e->h == h && e->family == a->family
            && memcmp(e->ip, a->ip, n) == 0)
            return i;
    return i;
}

uint32_t netd_conn_ip_count(const struct netd_conn_tab *t,
                            const struct msg_addr *a)
{
    return t->ipt[netd_conn_ip_find(t, a, netd_conn_ip_hash(a))].n;
}

/* netd_conn_ip_grow - double the per-IP table; 0 or -ENOMEM */
static int netd_conn_ip_grow(struct netd_conn_tab *t)
{
    struct netd_conn_ipent *old = t->ipt;
    uint32_t ocap = t->ipcap, i, j;

    if ((t->ipt = calloc((size_t)ocap * 2, sizeof(*t->ipt))) == NULL) {
        t->ipt = old;
        return -ENOMEM;
    }
    t->ipcap = ocap * 2;
    for (i = 0; i < ocap; i++) {
        if (old[i].n == 0)
            continue;
        for (j = old[i].h & (t->ipcap - 1); t->ipt[j].n != 0;
             j = (j + 1) & (t->ipcap - 1))
            ;
        t->ipt[j] = old[i];
    }
    free(old);
    return 0;
}

int netd_conn_ip_hold(struct netd_conn_tab *t, struct netd_conn *c)
{
    uint32_t h = netd_conn_ip_hash(&c->peer);
    struct netd_conn_ipent *e;

    if (c->ip_held)
        return 0;
    if ((t->ipcount + 1) * 2 > t->ipcap && netd_conn_ip_grow(t) < 0)
        return -ENOMEM;
    e = &t->ipt[netd_conn_ip_find(t, &c->peer, h)];
    if (e->n == 0) {
        memset(e, 0, sizeof(*e));
        e->h = h;
        e->family = c->peer.family;
        memcpy(e->ip, c->peer.ip, c->peer.family == AF_INET6 ? 16 : 4);
        t->ipcount++;
    }
    e->n++;
    c->ip_held = 1;
    return 0;
}

/* netd_conn_ip_release - c no longer counts under its IP */
static void netd_conn_ip_release(struct netd_conn_tab *t, struct netd_conn *c)
{
    uint32_t mask = t->ipcap - 1;
    uint32_t i = netd_conn_ip_find(t, &c->peer, netd_conn_ip_hash(&c->peer));
    uint32_t j, k;

    if (t->ipt[i].n == 0 || --t->ipt[i].n > 0)
        return;
    /* The last one: backward-shift the run into the hole. */
    for (j = (i + 1) & mask; t->ipt[j].n != 0; j = (j + 1) & mask) {
        k = t->ipt[j].h & mask;
        if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
            t->ipt[i] = t->ipt[j];
            i = j;
        }
    }
    t->ipt[i].n = 0;
    t->ipcount--;
}

void netd_conn_del(struct netd_conn_tab *t, struct netd_conn *c)
{
    uint32_t i = (uint32_t)(c->id & 0xffffffffu) - 1;

    if (c->peer.family != 0)
        netd_conn_unkey(t, c, &c->peer);
    if (c->alias.family != 0)
        netd_conn_unkey(t, c, &c->alias);
    if (c->ip_held)
        netd_conn_ip_release(t, c);
    if (i < t->nslot && t->slot[i] == c) {
        t->slot[i] = NULL;
        t->freel[t->nfree++] = i;
        t->count--;
    }
    free(c->fr.buf);
    free(c->wbuf);
    free(c);
}
