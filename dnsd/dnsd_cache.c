/*
 * SUMMARY
 *      dnsd_cache - what lookups found, by query key, honouring TTLs
 * DESCRIPTION
 *      A hash table of entries {key, records, expiry} threaded on an LRU
 *      list. An entry keeps the targets a lookup found with their SRV
 *      priority and weight (struct dnsd_rec), not an ordered answer: the
 *      RFC 2782 order is drawn per query from its Call-ID seed
 *      (dnsd_3263_order). A hit answers a query without c-ares and
 *      carries the remaining TTL. Lifetimes (dnsd_cache_lifetime()):
 *
 *        OK          the smallest TTL of the records used, at most
 *                    DNSD_POS_TTL_MAX (1 h); TTL 0 is not cached.
 *        NXDOMAIN    (no such name, or no records: RFC 2308 negative
 *                    answers) the SOA value of the negative answer,
 *                    min(SOA TTL, SOA MINIMUM), when c-ares handed the
 *                    authority section over (it does for NXDOMAIN and
 *                    NODATA); DNSD_NEG_TTL (30 s) without a SOA; never
 *                    more than DNSD_NEG_TTL_MAX (300 s), so a record
 *                    added to the zone is seen within 5 minutes.
 *        ERROR       (SERVFAIL, REFUSED, ... from every step)
 *                    DNSD_ERR_TTL (5 s): a failing server is not asked
 *                    again for every request (RFC 2308 7.1 allows up to
 *                    5 minutes).
 *        TIMEOUT     not cached: the servers may be back for the next
 *                    query, and a timeout already costs sipd a wait.
 *
 *      The table holds at most "max" entries: inserting into a full table
 *      drops the least recently used one (an expired entry is dropped
 *      when a lookup meets it). Keys are compared whole (name, port,
 *      transport, sips), so "example.com" and "example.com:5080" are two
 *      entries, as the answers differ.
 * PROTOCOL
 *      None.
 * DIAGNOSTICS
 *      dnsd_cache_init() returns -ENOMEM; a failed insert only means the
 *      answer is not cached (-ENOMEM, the caller counts nothing).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dnsd.h"

struct dnsd_cache_ent {
    struct dnsd_cache_ent *hnext;       /* bucket chain */
    struct dnsd_cache_ent *prev;        /* LRU, towards the head */
    struct dnsd_cache_ent *next;        /* LRU, towards the tail */
    uint32_t hash;
    int64_t expires;                    /* CLOCK_MONOTONIC ms */
    struct dnsd_key key;
    struct dnsd_rec res;
};

/*
 * dnsd_cache_init - an empty cache of at most max entries (max >= 1).
 *      Returns 0 or -ENOMEM / -EINVAL.
 */
int dnsd_cache_init(struct dnsd_cache *c, size_t max)
{
    size_t nb = 16;

    memset(c, 0, sizeof(*c));
    if (max == 0)
        return -EINVAL;
    while (nb < max && nb < ((size_t)1 << 20))
        nb <<= 1;
    if ((c->tab = calloc(nb, sizeof(c->tab[0]))) == NULL)
        return -ENOMEM;
    c->nbuckets = nb;
    c->max = max;
    return 0;
}

/* dnsd_cache_lru_unlink - take e off the LRU list */
static void dnsd_cache_lru_unlink(struct dnsd_cache *c,
                                  struct dnsd_cache_ent *e)
{
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        c->lru_head = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        c->lru_tail = e->prev;
    e->prev = e->next = NULL;
}

/* dnsd_cache_lru_front - put e at the head (most recently used) */
static void dnsd_cache_lru_front(struct dnsd_cache *c,
                                 struct dnsd_cache_ent *e)
{
    e->prev = NULL;
    e->next = c->lru_head;
    if (c->lru_head != NULL)
        c->lru_head->prev = e;
    c->lru_head = e;
    if (c->lru_tail == NULL)
        c->lru_tail = e;
}

/* dnsd_cache_slot - the link that points at the entry for k (or NULL) */
static struct dnsd_cache_ent **dnsd_cache_slot(struct dnsd_cache *c,
                                               const struct dnsd_key *k,
                                               uint32_t h)
{
    struct dnsd_cache_ent **pp = &c->tab[h & (c->nbuckets - 1)];

    for (; *pp != NULL; pp = &(*pp)->hnext)
        if ((*pp)->hash == h && dnsd_3263_key_eq(&(*pp)->key, k))
            break;
    return pp;
}

/* dnsd_cache_drop - unlink e (found through *pp) and free it */
static void dnsd_cache_drop(struct dnsd_cache *c, struct dnsd_cache_ent **pp)
{
    struct dnsd_cache_ent *e = *pp;

    *pp = e->hnext;
    dnsd_cache_lru_unlink(c, e);
    c->n--;
    free(e);
}

/* dnsd_cache_evict - drop the least recently used entry */
static void dnsd_cache_evict(struct dnsd_cache *c)
{
    struct dnsd_cache_ent *e = c->lru_tail;

    if (e == NULL)
        return;
    dnsd_cache_drop(c, dnsd_cache_slot(c, &e->key, e->hash));
    c->evictions++;
}

/*
 * dnsd_cache_lifetime - seconds result r may be kept (see DESCRIPTION);
 *      0 means do not cache it.
 */
uint32_t dnsd_cache_lifetime(const struct dnsd_rec *r)
{
    switch (r->status) {
    case MSG_DNS_OK:
        if (r->n == 0)
            return 0;
        return r->ttl < DNSD_POS_TTL_MAX ? r->ttl : DNSD_POS_TTL_MAX;
    case MSG_DNS_NXDOMAIN:
        if (r->ttl == DNSD_TTL_NONE)
            return DNSD_NEG_TTL;
        return r->ttl < DNSD_NEG_TTL_MAX ? r->ttl : DNSD_NEG_TTL_MAX;
    case MSG_DNS_ERROR:
        return DNSD_ERR_TTL;
    default:
        return 0;
    }
}

/*
 * dnsd_cache_get - look k up at time now_ms. On a hit, copies the
 *      result to *out with ttl set to the seconds left (at least 1) and
 *      returns 1; returns 0 on a miss (an expired entry is dropped).
 */
int dnsd_cache_get(struct dnsd_cache *c, const struct dnsd_key *k,
                   int64_t now_ms, struct dnsd_rec *out)
{
    uint32_t h = dnsd_3263_key_hash(k);
    struct dnsd_cache_ent **pp = dnsd_cache_slot(c, k, h);
    struct dnsd_cache_ent *e = *pp;

    if (e == NULL)
        return 0;
    if (e->expires <= now_ms) {
        dnsd_cache_drop(c, pp);
        return 0;
    }
    dnsd_cache_lru_unlink(c, e);
    dnsd_cache_lru_front(c, e);
    *out = e->res;
    out->ttl = (uint32_t)((e->expires - now_ms + 999) / 1000);
    return 1;
}

/*
 * dnsd_cache_put - remember r for k from now_ms on, for
 *      dnsd_cache_lifetime(r) seconds; replaces an entry for the same
 *      key. Returns 1 when stored, 0 when r is not cacheable, -ENOMEM.
 */
int dnsd_cache_put(struct dnsd_cache *c, const struct dnsd_key *k,
                   const struct dnsd_rec *r, int64_t now_ms)
{
    uint32_t life = dnsd_cache_lifetime(r);
    uint32_t h = dnsd_3263_key_hash(k);
    struct dnsd_cache_ent **pp, *e;

    if (life == 0)
        return 0;
    pp = dnsd_cache_slot(c, k, h);
    if ((e = *pp) != NULL) {
        dnsd_cache_lru_unlink(c, e);
    } else {
        if (c->n >= c->max) {
            dnsd_cache_evict(c);
            pp = dnsd_cache_slot(c, k, h);  /* the chain may have moved */
        }
        if ((e = calloc(1, sizeof(*e))) == NULL)
            return -ENOMEM;
        e->hash = h;
        e->key = *k;
        e->hnext = NULL;
        *pp = e;
        c->n++;
    }
    e->res = *r;
    e->expires = now_ms + (int64_t)life * 1000;
    dnsd_cache_lru_front(c, e);
    return 1;
}

/* dnsd_cache_flush - drop every entry (MI dns_cache_flush) */
void dnsd_cache_flush(struct dnsd_cache *c)
{
    while (c->lru_tail != NULL) {
        struct dnsd_cache_ent *e = c->lru_tail;

        dnsd_cache_drop(c, dnsd_cache_slot(c, &e->key, e->hash));
    }
}

/*
 * dnsd_cache_walk - fn(arg, key, records, seconds left) for every entry
 *      alive at now_ms, most recently used first (MI dns_cache_dump).
 *      fn must not change the cache.
 */
void dnsd_cache_walk(struct dnsd_cache *c, int64_t now_ms, dnsd_cache_fn fn,
                     void *arg)
{
    const struct dnsd_cache_ent *e;

    for (e = c->lru_head; e != NULL; e = e->next)
        if (e->expires > now_ms)
            fn(arg, &e->key, &e->res,
               (uint32_t)((e->expires - now_ms + 999) / 1000));
}

/* dnsd_cache_fini - flush and free the table; c may be re-initialised */
void dnsd_cache_fini(struct dnsd_cache *c)
{
    if (c->tab != NULL)
        dnsd_cache_flush(c);
    free(c->tab);
    memset(c, 0, sizeof(*c));
}
