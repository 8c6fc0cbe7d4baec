#ifndef DNSD_H
#define DNSD_H
/*
 * SUMMARY
 *      dnsd - private interfaces of the DNS stage
 * DESCRIPTION
 *      dnsd answers MSG_T_DNS_QUERY records from every sipd with
 *      MSG_T_DNS_ANSWER records: the targets of a SIP URI in the order
 *      RFC 3263 section 4 says to try them. The modules, leaves first:
 *
 *        dnsd_3263.c     pure RFC 3263 / RFC 2782 selection: the query
 *                        key, IP literals, NAPTR filtering and ordering,
 *                        target assembly, and the per-query SRV weighted
 *                        order drawn from the query's Call-ID seed. No
 *                        I/O, so t/unit/dns_cache.c tests it offline.
 *        dnsd_cache.c    what lookups found (struct dnsd_rec), by key,
 *                        with TTLs, LRU-bounded.
 *        dnsd_bl.c       the blacklist of targets sipd failed to reach.
 *        dnsd_mi.c       the MI dumps, answered to mid over ctl.
 *        dnsd_ares.c     the only file that includes ares.h: the c-ares
 *                        channel in the stage's ev loop, and the record
 *                        parsers (into the structs below).
 *        dnsd_resolve.c  one lookup per key in flight (duplicates wait on
 *                        it), stepping NAPTR -> SRV -> A/AAAA.
 *        dnsd_link.c     the two rings of one sipd instance: decode
 *                        queries and failed-target reports, encode
 *                        answers, the full-ring backlog.
 *        dnsd.c          main() and the loop.
 *
 *      Everything runs in the one thread of the stage's ev loop.
 */
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "ev.h"
#include "msg.h"
#include "ring.h"
#include "stats.h"

#define DNSD_NAME_MAX 255               /* presentation form, no dot */
#define DNSD_MAX_RR 32                  /* records kept of one answer */
#define DNSD_MAX_SETS 4                 /* SRV names tried per lookup */
#define DNSD_MAX_HOSTS 16               /* address lookups per lookup */
#define DNSD_HOST_ADDRS 8               /* addresses kept per family */

#define DNSD_PORT_SIP 5060
#define DNSD_PORT_SIPS 5061

#define DNSD_TTL_NONE UINT32_MAX        /* no TTL seen yet */
#define DNSD_NEG_TTL 30                 /* negative answer without SOA */
#define DNSD_NEG_TTL_MAX 300            /* negative answers, at most */
#define DNSD_ERR_TTL 5                  /* SERVFAIL/REFUSED answers */
#define DNSD_POS_TTL_MAX 3600           /* positive answers, at most */
#define DNSD_MAX_CAND 32                /* targets kept before ordering */

/* DNS RR types, as on the wire */
#define DNSD_T_A 1
#define DNSD_T_AAAA 28
#define DNSD_T_SRV 33
#define DNSD_T_NAPTR 35

/* What one query asks; the cache and the in-flight table key on it. */
struct dnsd_key {
    char name[DNSD_NAME_MAX + 1];       /* lower case, no final dot, NUL */
    uint16_t name_len;
    uint16_t port;                      /* host order, 0 = none */
    uint8_t proto;                      /* MSG_PROTO_*, 0 = none */
    uint8_t secure;                     /* sips: */
};

/* What one query gets back (the payload of MSG_T_DNS_ANSWER). */
struct dnsd_result {
    uint16_t status;                    /* MSG_DNS_* */
    uint16_t ntargets;
    uint32_t ttl;                       /* seconds; smallest seen */
    struct msg_dns_target targets[MSG_DNS_MAX_ADDRS];
};

/*
 * One target as a lookup found it, with what the per-query order needs:
 * the SRV name it came from (NAPTR order), its SRV record (host) and
 * that record's priority and weight.
 */
struct dnsd_cand {
    struct msg_dns_target t;
    uint8_t set;                        /* index of its SRV name */
    uint8_t host;                       /* index of its host (SRV RR) */
    uint16_t prio;
    uint16_t weight;
    uint16_t pad;
};

/*
 * What one lookup found, before ordering: what the cache keeps. The
 * candidates are in canonical order (SRV name, priority, target name
 * and port, address family, address), so two lookups of the same
 * records give the same list whatever order the server sent them in.
 */
struct dnsd_rec {
    uint16_t status;                    /* MSG_DNS_* */
    uint16_t n;
    uint32_t ttl;                       /* seconds */
    struct dnsd_cand c[DNSD_MAX_CAND];
};

struct dnsd_naptr {
    uint16_t order;
    uint16_t pref;
    char flags[16];
    char service[32];
    char replacement[DNSD_NAME_MAX + 1];
};

struct dnsd_srv {
    uint16_t prio;
    uint16_t weight;
    uint16_t port;
    char target[DNSD_NAME_MAX + 1];
};

/* One SRV name to look up, and the transport its targets use. */
struct dnsd_srvname {
    char name[DNSD_NAME_MAX + 1];
    uint8_t proto;
};

/* One host name to find addresses for, and where its targets go. */
struct dnsd_host {
    char name[DNSD_NAME_MAX + 1];
    uint16_t port;
    uint8_t proto;
    uint8_t set;                        /* SRV name it came from */
    uint16_t prio;                      /* of its SRV record */
    uint16_t weight;
    uint8_t naddr[2];                   /* [0] IPv4, [1] IPv6 */
    struct msg_addr addr[2][DNSD_HOST_ADDRS];
};

/* ---- dnsd_3263.c: pure selection ---------------------------------- */

#define DNSD_STEP_NAPTR 1
#define DNSD_STEP_SRV 2
#define DNSD_STEP_ADDR 3

/* Outcomes seen during one step (dnsd_3263_status). */
#define DNSD_SEEN_NX 0x1                /* NXDOMAIN or no data */
#define DNSD_SEEN_TIMEOUT 0x2           /* no server answered */
#define DNSD_SEEN_ERROR 0x4             /* SERVFAIL, REFUSED, ... */

extern int dnsd_3263_key(struct dnsd_key *k, const char *name, size_t len,
                         uint16_t port, uint8_t proto, uint8_t secure);
extern uint32_t dnsd_3263_key_hash(const struct dnsd_key *k);
extern int dnsd_3263_key_eq(const struct dnsd_key *a,
                            const struct dnsd_key *b);
extern uint8_t dnsd_3263_proto(const struct dnsd_key *k);
extern uint16_t dnsd_3263_port(const struct dnsd_key *k);
extern int dnsd_3263_literal(const struct dnsd_key *k,
                             struct dnsd_result *out);
extern int dnsd_3263_first_step(const struct dnsd_key *k, int naptr,
                                int srv);
extern size_t dnsd_3263_naptr_select(const struct dnsd_naptr *in, size_t n,
                                     int secure, struct dnsd_srvname *out,
                                     size_t max);
extern size_t dnsd_3263_srv_names(const struct dnsd_key *k,
                                  struct dnsd_srvname *out, size_t max);
extern uint32_t dnsd_3263_rand(uint64_t *seed);
extern void dnsd_3263_srv_order(struct dnsd_srv *v, size_t n);
extern size_t dnsd_3263_srv_hosts(const struct dnsd_srv *v, size_t n,
                                  uint8_t proto, struct dnsd_host *out,
                                  size_t max);
extern void dnsd_3263_host_default(const struct dnsd_key *k,
                                   struct dnsd_host *h);
extern void dnsd_3263_targets(const struct dnsd_host *h, size_t n,
                              struct dnsd_rec *out);
extern size_t dnsd_3263_order(const struct dnsd_rec *in, uint16_t seed,
                              struct msg_dns_target *out, size_t max);
extern uint16_t dnsd_3263_status(unsigned seen);

/* ---- dnsd_cache.c -------------------------------------------------- */

struct dnsd_cache_ent;

struct dnsd_cache {
    struct dnsd_cache_ent **tab;        /* hash buckets */
    size_t nbuckets;                    /* power of two */
    struct dnsd_cache_ent *lru_head;    /* most recently used */
    struct dnsd_cache_ent *lru_tail;    /* evicted first */
    size_t n;
    size_t max;
    uint64_t evictions;
};

#define DNSD_CACHE_MAX 4096             /* entries (about 850 bytes each) */

extern int dnsd_cache_init(struct dnsd_cache *c, size_t max);
extern void dnsd_cache_fini(struct dnsd_cache *c);
typedef void (*dnsd_cache_fn)(void *arg, const struct dnsd_key *k,
                              const struct dnsd_rec *r, uint32_t left_s);

extern uint32_t dnsd_cache_lifetime(const struct dnsd_rec *r);
extern int dnsd_cache_get(struct dnsd_cache *c, const struct dnsd_key *k,
                          int64_t now_ms, struct dnsd_rec *out);
extern int dnsd_cache_put(struct dnsd_cache *c, const struct dnsd_key *k,
                          const struct dnsd_rec *r, int64_t now_ms);
extern void dnsd_cache_flush(struct dnsd_cache *c);
extern void dnsd_cache_walk(struct dnsd_cache *c, int64_t now_ms,
                            dnsd_cache_fn fn, void *arg);

/* ---- dnsd_bl.c ----------------------------------------------------- */

#define DNSD_BL_MAX 1024                /* entries; the soonest to expire
                                         * goes when full */
#define DNSD_BL_BUCKETS 256

struct dnsd_bl_ent {
    struct msg_addr addr;               /* port filled in */
    uint8_t proto;
    uint8_t used;
    uint16_t pad;
    uint32_t reason;                    /* MSG_FAIL_* */
    int32_t next;                       /* bucket chain or free list */
    int64_t expires;                    /* CLOCK_MONOTONIC ms */
};

struct dnsd_bl {
    int64_t life_ms;                    /* 0: off */
    size_t n;
    int32_t free;                       /* free list head, -1 none */
    int32_t tab[DNSD_BL_BUCKETS];       /* chain heads, -1 none */
    struct dnsd_bl_ent e[DNSD_BL_MAX];
};

typedef void (*dnsd_bl_fn)(void *arg, const struct dnsd_bl_ent *e,
                           uint32_t left_s);

extern void dnsd_bl_init(struct dnsd_bl *b, int seconds);
extern int dnsd_bl_add(struct dnsd_bl *b, const struct msg_addr *a,
                       uint8_t proto, uint32_t reason, int64_t now_ms);
extern int dnsd_bl_has(struct dnsd_bl *b, const struct msg_dns_target *t,
                       int64_t now_ms);
extern size_t dnsd_bl_filter(struct dnsd_bl *b, struct msg_dns_target *v,
                             size_t n, int64_t now_ms);
extern void dnsd_bl_flush(struct dnsd_bl *b);
extern void dnsd_bl_walk(struct dnsd_bl *b, int64_t now_ms, dnsd_bl_fn fn,
                         void *arg);

/* ---- dnsd_ares.c --------------------------------------------------- */

/* One parsed answer, handed to the caller's dnsd_ares_fn. */
struct dnsd_rrset {
    int type;                           /* DNSD_T_* asked for */
    int status;                         /* MSG_DNS_OK/NXDOMAIN/TIMEOUT/
                                         * ERROR; no data is NXDOMAIN */
    const char *why;                    /* c-ares' words, for logs */
    int rcode;                          /* of the answer; -1: none came
                                         * (timeout, or c-ares tried
                                         * every server) */
    uint32_t ttl;                       /* smallest TTL in the answer
                                         * section or, negative, from
                                         * the SOA (RFC 2308); or
                                         * DNSD_TTL_NONE */
    size_t n;                           /* records below */
    union {
        struct dnsd_naptr naptr[DNSD_MAX_RR];
        struct dnsd_srv srv[DNSD_MAX_RR];
        struct msg_addr addr[DNSD_MAX_RR];
    };
};

typedef void (*dnsd_ares_fn)(void *arg, int tag, const struct dnsd_rrset *rs);

struct dnsd_ares;

extern int dnsd_ares_init(struct dnsd_ares **ap, struct ev *ev,
                          const struct cfg *cfg);
extern void dnsd_ares_free(struct dnsd_ares *a);
extern void dnsd_ares_query(struct dnsd_ares *a, const char *name, int type,
                            dnsd_ares_fn fn, void *arg, int tag);
extern size_t dnsd_ares_pending(const struct dnsd_ares *a);
extern const char *dnsd_ares_servers(const struct dnsd_ares *a);

/* ---- dnsd_resolve.c ------------------------------------------------ */

/* Where a finished lookup's answer goes: (link, qid) of each waiter. */
typedef void (*dnsd_answer_fn)(void *arg, int link, uint64_t qid,
                               const struct dnsd_result *r);

#define DNSD_RESOLVE_BUCKETS 1024
#define DNSD_RESOLVE_MAX 4096           /* lookups in flight */
#define DNSD_RESOLVE_WAITERS 1024       /* queries waiting on one lookup */

struct dnsd_lookup;

struct dnsd_resolve {
    struct dnsd_ares *ares;
    struct dnsd_cache *cache;           /* NULL: [dns] cache = 0 */
    struct dnsd_bl *bl;                 /* NULL: no blacklist */
    struct stats_slot *st;              /* may be NULL */
    dnsd_answer_fn answer;
    void *answer_arg;
    int naptr;                          /* [dns] naptr */
    int srv;                            /* [dns] srv */
    int ipv6;                           /* [dns] try_ipv6 */
    size_t nlookups;
    struct dnsd_lookup *tab[DNSD_RESOLVE_BUCKETS];
};

extern void dnsd_resolve_init(struct dnsd_resolve *r, struct dnsd_ares *a,
                              struct dnsd_cache *cache,
                              const struct cfg *cfg, dnsd_answer_fn fn,
                              void *arg);
extern void dnsd_resolve_query(struct dnsd_resolve *r,
                               const struct dnsd_key *k, uint16_t seed,
                               int link, uint64_t qid);
extern void dnsd_resolve_fini(struct dnsd_resolve *r);

/* ---- dnsd_link.c --------------------------------------------------- */

#define DNSD_BACKLOG 128                /* answers held per full ring */

struct dnsd_pend {
    uint64_t qid;
    struct dnsd_result res;
};

struct dnsd_link {
    int idx;                            /* sipd instance */
    int up;                             /* rings attached */
    int dirty;                          /* reserved, not yet committed */
    struct ring in;                     /* sipd[idx] -> dnsd, consumer */
    struct ring out;                    /* dnsd -> sipd[idx], producer */
    struct ev_io io;                    /* in.efd */
    struct stats_slot *st;
    size_t bl_head;                     /* backlog ring of answers */
    size_t bl_n;
    struct dnsd_pend bl[DNSD_BACKLOG];
};

#define DNSD_Q_OK 0                     /* *k, *qid, *seed filled */
#define DNSD_Q_BAD (-1)                 /* malformed; *qid filled */
#define DNSD_Q_SKIP (-2)                /* not a query, or no qid */

extern int dnsd_link_decode(const struct ring_rec *rec, struct dnsd_key *k,
                            uint64_t *qid, uint16_t *seed);
extern const struct msg_dns_failed *dnsd_link_failed(
    const struct ring_rec *rec);
extern size_t dnsd_link_encode(void *buf, size_t cap, uint64_t qid,
                               const struct dnsd_result *r);
extern void dnsd_link_answer(struct dnsd_link *l, uint64_t qid,
                             const struct dnsd_result *r);
extern void dnsd_link_flush(struct dnsd_link *l);

/* ---- dnsd_mi.c ----------------------------------------------------- */

extern void dnsd_mi_cache_dump(int push, uint32_t id, struct dnsd_cache *c,
                               int64_t now_ms);
extern void dnsd_mi_bl_dump(int push, uint32_t id, struct dnsd_bl *b,
                            int64_t now_ms);
extern void dnsd_mi_done(int push, uint32_t id, int code,
                         const char *reason);

#endif
