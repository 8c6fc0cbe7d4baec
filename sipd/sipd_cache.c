/*
 * SUMMARY
 *    sipd_cache - the alias answers a sipd process keeps ([db] cache_ttl)
 * DESCRIPTION
 *    One table per sipd process, shared by its worker threads: liburcu's
 *    lock-free resizable hash table (rculfhash) under the urcu-memb
 *    flavour. A reader (a worker routing a request) takes no lock: it
 *    looks the key up inside urcu_memb_read_lock()/unlock() and copies
 *    the answer out. Writers (a worker that got an answer from dbd, the
 *    dispatcher sweeping or flushing) add with cds_lfht_add_replace()
 *    and remove with cds_lfht_del(); a removed entry is freed by
 *    call_rcu once every reader that may still see it has left its
 *    read-side section. Every thread that calls in here must be
 *    registered (urcu_memb_register_thread()).
 *
 *    Key: the Request-URI's user as written and its host lower-cased,
 *    hashed with SipHash-2-4 under a key drawn at start (the user part
 *    is chosen by whoever sends us a request: a fixed hash would let
 *    them pile every entry into one bucket). Value: SIPD_ALIAS_KEEP (no
 *    row: negative answers are kept too) or SIPD_ALIAS_SET and the new
 *    Request-URI. Errors and timeouts are never kept.
 *
 *    Lifetime: [db] cache_ttl seconds from the answer. An expired entry
 *    is a miss at once (and is replaced by the next answer); the
 *    dispatcher removes expired entries every second (sipd_cache_sweep).
 *
 *    Bound: at most SIPD_CACHE_MAX entries per process (about 100 bytes
 *    each plus the alias URI, so a few MiB at most). A full table keeps
 *    no new answer until the sweep makes room; lookups still work, they
 *    just go to dbd.
 * PROTOCOL
 *    None: memory of one process. MI db_cache_flush (sipd_mi.c) empties
 *    it.
 * DIAGNOSTICS
 *    Nothing logs; the callers count db:cache_hits, db:cache_misses and
 *    keep the db:cache_entries gauge.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <urcu/rculfhash.h>

#include "sipd.h"
#include "sipd_rcu.h"

struct sipd_cache {
    struct cds_lfht *ht;
    int64_t ttl_ms;
    long max;
    long n;                             /* entries in ht (atomic) */
    uint64_t k0, k1;                    /* SipHash key */
};

struct sipd_cache_ent {
    struct cds_lfht_node node;
    struct rcu_head rcu;
    int64_t expires_ms;
    int state;                          /* SIPD_ALIAS_KEEP or _SET */
    uint16_t ulen, hlen, alen;
    char data[];                        /* user, host, alias URI */
};

/* The key a lookup compares with (cds_lfht_match_fct's "key"). */
struct sipd_cache_key {
    struct str user;
    struct str host;
};

#define SIPD_CACHE_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

/* sipd_cache_round - one SipRound */
static void sipd_cache_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = SIPD_CACHE_ROTL(v[1], 13);
    v[1] ^= v[0];
    v[0] = SIPD_CACHE_ROTL(v[0], 32);
    v[2] += v[3];
    v[3] = SIPD_CACHE_ROTL(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = SIPD_CACHE_ROTL(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = SIPD_CACHE_ROTL(v[1], 17);
    v[1] ^= v[2];
    v[2] = SIPD_CACHE_ROTL(v[2], 32);
}

/* sipd_cache_word - fold one 8-byte message word m in (2 rounds) */
static void sipd_cache_word(uint64_t v[4], uint64_t m)
{
    v[3] ^= m;
    sipd_cache_round(v);
    sipd_cache_round(v);
    v[0] ^= m;
}

/*
 * sipd_cache_hash - SipHash-2-4 of user, a 0xff byte (which no URI
 *    holds, so "ab"+"c" and "a"+"bc" differ) and host.
 */
static unsigned long sipd_cache_hash(const struct sipd_cache *c,
                                     struct str user, struct str host)
{
    uint64_t v[4] = {c->k0 ^ 0x736f6d6570736575ull,
                     c->k1 ^ 0x646f72616e646f6dull,
                     c->k0 ^ 0x6c7967656e657261ull,
                     c->k1 ^ 0x7465646279746573ull};
    uint64_t m = 0;
    size_t total = user.len + 1 + host.len, i, k = 0;
    unsigned char b;

    for (i = 0; i < total; i++) {
        b = i < user.len ? (unsigned char)user.s[i]
            : i == user.len ? 0xff : (unsigned char)host.s[i - user.len - 1];
        m |= (uint64_t)b << (8 * k);
        if (++k == 8) {
            sipd_cache_word(v, m);
            m = 0;
            k = 0;
        }
    }
    sipd_cache_word(v, m | (uint64_t)(total & 0xff) << 56);
    v[2] ^= 0xff;
    for (i = 0; i < 4; i++)
        sipd_cache_round(v);
    return (unsigned long)(v[0] ^ v[1] ^ v[2] ^ v[3]);
}

static int sipd_cache_match(struct cds_lfht_node *node, const void *key)
{
    const struct sipd_cache_ent *e =
        caa_container_of(node, struct sipd_cache_ent, node);
    const struct sipd_cache_key *k = key;
    int eq;

    SIPD_RCU_SEEN(e);
    eq = e->ulen == k->user.len && e->hlen == k->host.len
         && memcmp(e->data, k->user.s, k->user.len) == 0
         && memcmp(e->data + e->ulen, k->host.s, k->host.len) == 0;
    SIPD_RCU_LEFT(e);
    return eq;
}

static void sipd_cache_free_rcu(struct rcu_head *head)
{
    struct sipd_cache_ent *e = caa_container_of(head, struct sipd_cache_ent,
                                                rcu);

    SIPD_RCU_RECLAIM(e);
    free(e);
}

/*
 * sipd_cache_new - an empty cache whose answers live ttl_s seconds,
 *    max entries at most. NULL: out of memory.
 */
struct sipd_cache *sipd_cache_new(int ttl_s, long max)
{
    struct sipd_cache *c = calloc(1, sizeof(*c));
    uint64_t k[2];

    if (c == NULL)
        return NULL;
    if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k)) {
        k[0] = (uint64_t)ev_now_ms() * 0x9e3779b97f4a7c15ull;
        k[1] = (uint64_t)(uintptr_t)c ^ 0xc2b2ae3d27d4eb4full;
    }
    c->k0 = k[0];
    c->k1 = k[1];
    c->ttl_ms = (int64_t)ttl_s * 1000;
    c->max = max;
    c->ht = cds_lfht_new_flavor(1024, 1024, 0,
                                CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
                                &urcu_memb_flavor, NULL);
    if (c->ht == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

/*
 * sipd_cache_get - the answer kept for user@host (host lower-cased)
 *    and not expired at now_ms, into *a. 1: found; 0: not.
 */
int sipd_cache_get(struct sipd_cache *c, struct str user, struct str host,
                   int64_t now_ms, struct sipd_alias *a)
{
    struct sipd_cache_key k = {user, host};
    struct cds_lfht_iter it;
    struct cds_lfht_node *node;
    const struct sipd_cache_ent *e;
    int hit = 0;

    urcu_memb_read_lock();
    cds_lfht_lookup(c->ht, sipd_cache_hash(c, user, host), sipd_cache_match,
                    &k, &it);
    if ((node = cds_lfht_iter_get_node(&it)) != NULL) {
        e = caa_container_of(node, struct sipd_cache_ent, node);
        SIPD_RCU_SEEN(e);
        if (e->expires_ms > now_ms) {
            a->state = e->state;
            a->len = e->alen;
            memcpy(a->uri, e->data + e->ulen + e->hlen, e->alen);
            hit = 1;
        }
        SIPD_RCU_LEFT(e);
    }
    urcu_memb_read_unlock();
    return hit;
}

/*
 * sipd_cache_put - keep answer a (KEEP or SET) for user@host from now_ms
 *    on, replacing what was kept. Returns 0; -ENOSPC when the table is
 *    full; -E2BIG for a key over 64 KiB; -ENOMEM.
 */
int sipd_cache_put(struct sipd_cache *c, struct str user, struct str host,
                   const struct sipd_alias *a, int64_t now_ms)
{
    struct sipd_cache_key k = {user, host};
    struct sipd_cache_ent *e;
    struct cds_lfht_node *old;
    size_t alen = a->state == SIPD_ALIAS_SET ? a->len : 0;

    if (user.len > UINT16_MAX || host.len > UINT16_MAX
        || alen > SIPD_ALIAS_URI_MAX)
        return -E2BIG;
    if (__atomic_load_n(&c->n, __ATOMIC_RELAXED) >= c->max)
        return -ENOSPC;
    if ((e = malloc(sizeof(*e) + user.len + host.len + alen)) == NULL)
        return -ENOMEM;
    cds_lfht_node_init(&e->node);
    e->expires_ms = now_ms + c->ttl_ms;
    e->state = a->state;
    e->ulen = (uint16_t)user.len;
    e->hlen = (uint16_t)host.len;
    e->alen = (uint16_t)alen;
    memcpy(e->data, user.s, user.len);
    memcpy(e->data + user.len, host.s, host.len);
    memcpy(e->data + user.len + host.len, a->uri, alen);
    SIPD_RCU_PUBLISH(e);
    urcu_memb_read_lock();
    old = cds_lfht_add_replace(c->ht, sipd_cache_hash(c, user, host),
                               sipd_cache_match, &k, &e->node);
    urcu_memb_read_unlock();
    if (old != NULL)
        urcu_memb_call_rcu(&caa_container_of(old, struct sipd_cache_ent,
                                             node)->rcu,
                           sipd_cache_free_rcu);
    else
        __atomic_add_fetch(&c->n, 1, __ATOMIC_RELAXED);
    return 0;
}

/*
 * sipd_cache_drop - remove the entries expired at now_ms, or all when
 *    all is set. Returns how many this call removed.
 */
static long sipd_cache_drop(struct sipd_cache *c, int64_t now_ms, int all)
{
    struct cds_lfht_iter it;
    struct sipd_cache_ent *e;
    long n = 0;

    urcu_memb_read_lock();
    cds_lfht_for_each_entry(c->ht, &it, e, node) {
        SIPD_RCU_SEEN(e);
        if (!all && e->expires_ms > now_ms) {
            SIPD_RCU_LEFT(e);
            continue;
        }
        SIPD_RCU_LEFT(e);
        if (cds_lfht_del(c->ht, &e->node) != 0)
            continue;                   /* replaced or removed meanwhile */
        urcu_memb_call_rcu(&e->rcu, sipd_cache_free_rcu);
        n++;
    }
    urcu_memb_read_unlock();
    __atomic_sub_fetch(&c->n, n, __ATOMIC_RELAXED);
    return n;
}

/* sipd_cache_flush - empty the cache; returns the entries removed */
long sipd_cache_flush(struct sipd_cache *c)
{
    return sipd_cache_drop(c, 0, 1);
}

/* sipd_cache_sweep - remove what expired by now_ms; returns how many */
long sipd_cache_sweep(struct sipd_cache *c, int64_t now_ms)
{
    return sipd_cache_drop(c, now_ms, 0);
}

/* sipd_cache_count - entries in the table now */
long sipd_cache_count(const struct sipd_cache *c)
{
    return __atomic_load_n(&c->n, __ATOMIC_RELAXED);
}

/*
 * sipd_cache_free - destroy c (NULL: nothing). No thread may use it any
 *    more; the caller is a registered thread outside any read-side
 *    section. Waits for the entries already handed to call_rcu.
 */
void sipd_cache_free(struct sipd_cache *c)
{
    if (c == NULL)
        return;
    sipd_cache_flush(c);
    urcu_memb_barrier();                /* every call_rcu free has run */
    (void)cds_lfht_destroy(c->ht, NULL);
    free(c);
}
