/*
 * SUMMARY
 *      dnsd_bl - the blacklist of targets sipd could not reach
 * DESCRIPTION
 *      sipd reports a send that failed (TCP refused or timed out, ICMP
 *      unreachable...) with a MSG_T_DNS_FAILED record naming the target:
 *      address, port and transport. dnsd keeps it for [dns] blacklist_s
 *      seconds (0: off) and leaves it out of every answer meanwhile, so
 *      the next request (or the CANCEL of an INVITE that went elsewhere)
 *      goes to the next target at once instead of failing on the same
 *      one. dnsd is one process for every sipd, so a failure seen by one
 *      sipd instance spares the others.
 *
 *      A fixed table of DNSD_BL_MAX entries, hashed on the target into
 *      DNSD_BL_BUCKETS chains of indices (no allocation after init).
 *      A report for a listed target extends its expiry. Expired entries
 *      are dropped when a lookup or a walk meets them; a report that
 *      finds the table full drops the entry that would expire soonest.
 * PROTOCOL
 *      None here: dnsd.c feeds MSG_T_DNS_FAILED records in.
 * DIAGNOSTICS
 *      None: return values only.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "dnsd.h"

#define DNSD_BL_NIL (-1)

/* dnsd_bl_iplen - bytes of ip[] that a family uses */
static size_t dnsd_bl_iplen(uint16_t family)
{
    return family == AF_INET ? 4 : 16;
}

/* dnsd_bl_hash - FNV-1a over family, port, transport and address */
static uint32_t dnsd_bl_hash(const struct msg_addr *a, uint8_t proto)
{
    const unsigned char *p = a->ip;
    uint32_t h = 2166136261u;
    size_t i;

    h = (h ^ a->family) * 16777619u;
    h = (h ^ a->port) * 16777619u;
    h = (h ^ proto) * 16777619u;
    for (i = 0; i < dnsd_bl_iplen(a->family); i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* dnsd_bl_eq - the entry names this target */
static int dnsd_bl_eq(const struct dnsd_bl_ent *e, const struct msg_addr *a,
                      uint8_t proto)
{
    return e->proto == proto && e->addr.family == a->family
           && e->addr.port == a->port
           && memcmp(e->addr.ip, a->ip, dnsd_bl_iplen(a->family)) == 0;
}

/*
 * dnsd_bl_init - an empty blacklist keeping targets for seconds
 *      (0: off, every call below does nothing).
 */
void dnsd_bl_init(struct dnsd_bl *b, int seconds)
{
    memset(b, 0, sizeof(*b));
    b->life_ms = seconds > 0 ? (int64_t)seconds * 1000 : 0;
    dnsd_bl_flush(b);
}

/* dnsd_bl_flush - drop every entry (MI dns_blacklist_flush) */
void dnsd_bl_flush(struct dnsd_bl *b)
{
    int32_t i;

    for (i = 0; i < DNSD_BL_BUCKETS; i++)
        b->tab[i] = DNSD_BL_NIL;
    for (i = 0; i < DNSD_BL_MAX; i++) {
        b->e[i].used = 0;
        b->e[i].next = i + 1 < DNSD_BL_MAX ? i + 1 : DNSD_BL_NIL;
    }
    b->free = 0;
    b->n = 0;
}

/* dnsd_bl_unlink - take entry i off its chain (found via *pp) */
static void dnsd_bl_unlink(struct dnsd_bl *b, int32_t *pp)
{
    int32_t i = *pp;

    *pp = b->e[i].next;
    b->e[i].used = 0;
    b->e[i].next = b->free;
    b->free = i;
    b->n--;
}

/*
 * dnsd_bl_slot - the link that points at the live entry for (a, proto)
 *      or at DNSD_BL_NIL; expired entries met on the way are dropped.
 */
static int32_t *dnsd_bl_slot(struct dnsd_bl *b, const struct msg_addr *a,
                             uint8_t proto, int64_t now_ms)
{
    int32_t *pp = &b->tab[dnsd_bl_hash(a, proto) % DNSD_BL_BUCKETS];

    while (*pp != DNSD_BL_NIL) {
        struct dnsd_bl_ent *e = &b->e[*pp];

        if (e->expires <= now_ms)
            dnsd_bl_unlink(b, pp);
        else if (dnsd_bl_eq(e, a, proto))
            return pp;
        else
            pp = &e->next;
    }
    return pp;
}

/* dnsd_bl_evict - make room: drop the entry that expires soonest */
static void dnsd_bl_evict(struct dnsd_bl *b)
{
    int32_t i, victim = DNSD_BL_NIL, *pp;

    for (i = 0; i < DNSD_BL_MAX; i++)
        if (b->e[i].used
            && (victim == DNSD_BL_NIL
                || b->e[i].expires < b->e[victim].expires))
            victim = i;
    if (victim == DNSD_BL_NIL)
        return;
    pp = &b->tab[dnsd_bl_hash(&b->e[victim].addr, b->e[victim].proto)
                 % DNSD_BL_BUCKETS];
    while (*pp != victim)
        pp = &b->e[*pp].next;
    dnsd_bl_unlink(b, pp);
}

/*
 * dnsd_bl_add - list (a, proto) until now_ms + blacklist_s; a listed
 *      one gets the new expiry and reason. Returns 1 for a new entry, 0
 *      for a refreshed one, -EINVAL when the blacklist is off or a is
 *      not AF_INET/AF_INET6.
 */
int dnsd_bl_add(struct dnsd_bl *b, const struct msg_addr *a, uint8_t proto,
                uint32_t reason, int64_t now_ms)
{
    struct dnsd_bl_ent *e;
    int32_t *pp, i;

    if (b->life_ms == 0 || (a->family != AF_INET && a->family != AF_INET6))
        return -EINVAL;
    pp = dnsd_bl_slot(b, a, proto, now_ms);
    if (*pp != DNSD_BL_NIL) {
        e = &b->e[*pp];
        e->expires = now_ms + b->life_ms;
        e->reason = reason;
        return 0;
    }
    if (b->free == DNSD_BL_NIL) {
        dnsd_bl_evict(b);
        pp = dnsd_bl_slot(b, a, proto, now_ms); /* the chain may have moved */
    }
    i = b->free;
    e = &b->e[i];
    b->free = e->next;
    memset(e, 0, sizeof(*e));
    e->addr.family = a->family;
    e->addr.port = a->port;
    memcpy(e->addr.ip, a->ip, dnsd_bl_iplen(a->family));
    e->proto = proto;
    e->used = 1;
    e->reason = reason;
    e->expires = now_ms + b->life_ms;
    e->next = DNSD_BL_NIL;
    *pp = i;
    b->n++;
    return 1;
}

/* dnsd_bl_has - 1 when target t is listed at now_ms */
int dnsd_bl_has(struct dnsd_bl *b, const struct msg_dns_target *t,
                int64_t now_ms)
{
    if (b->n == 0)
        return 0;
    return *dnsd_bl_slot(b, &t->addr, t->proto, now_ms) != DNSD_BL_NIL;
}

/*
 * dnsd_bl_filter - remove the listed targets from v[0..n), keeping the
 *      order of the others. Returns how many are left.
 */
size_t dnsd_bl_filter(struct dnsd_bl *b, struct msg_dns_target *v, size_t n,
                      int64_t now_ms)
{
    size_t i, k = 0;

    if (b->n == 0)
        return n;
    for (i = 0; i < n; i++)
        if (!dnsd_bl_has(b, &v[i], now_ms))
            v[k++] = v[i];
    return k;
}

/*
 * dnsd_bl_walk - fn(arg, entry, seconds left) for every entry alive at
 *      now_ms (MI dns_blacklist_dump); expired ones are dropped first.
 *      fn NULL: only the sweep.
 */
void dnsd_bl_walk(struct dnsd_bl *b, int64_t now_ms, dnsd_bl_fn fn,
                  void *arg)
{
    int32_t i, *pp;

    for (i = 0; i < DNSD_BL_BUCKETS; i++) {
        pp = &b->tab[i];
        while (*pp != DNSD_BL_NIL) {
            struct dnsd_bl_ent *e = &b->e[*pp];

            if (e->expires <= now_ms) {
                dnsd_bl_unlink(b, pp);
                continue;
            }
            if (fn != NULL)
                fn(arg, e, (uint32_t)((e->expires - now_ms + 999) / 1000));
            pp = &e->next;
        }
    }
}
