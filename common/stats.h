#ifndef STATS_H
#define STATS_H
/*
 * SUMMARY
 *    stats - lock-free counters in shared memory
 * DESCRIPTION
 *    Every thread of every stage owns one struct stats_slot in the
 *    shared segment and is its only writer (relaxed atomic stores), so
 *    counting costs no lock and no shared cache line. mid sums the slots
 *    of all processes when the MI asks; reset is a baseline kept by mid,
 *    so no writer is ever disturbed. Slots live in shm, so the counts of
 *    a stage survive its restart.
 *
 *    Names follow OpenSIPS where a counter exists there
 *    (core:rcv_requests ...); the rest are grouped net:, tcp:, dns:,
 *    db:, ring:, tls:. A TLS connection is a TCP connection too: the
 *    tcp: counters count it (accepts, limits, messages), and tls: counts
 *    what TLS adds (handshakes, certificates, renegotiation).
 *
 *    APPEND ONLY. A counter is its index in STATS_LIST, and a row has
 *    room for STATS_CAP of them, more than STAT__N. The segment's layout
 *    fingerprint (SHM_LAYOUT) holds STATS_CAP, not STAT__N, so a stage
 *    rebuilt with more counters still attaches to a running segment
 *    and can be restarted alone (live upgrade). That only works when
 *    the new counters come after the old ones: never reorder, remove or
 *    insert in the middle (retire a counter by leaving it, unused, in
 *    place). mid sums and names the counters of its own build (its
 *    STAT__N); counters a newer stage added are counted in the row but
 *    not shown until mid itself runs the new build.
 */
#include <stdint.h>

#define STATS_LIST(X)                                              \
    X(CORE_RCV_REQUESTS, "core", "rcv_requests")                   \
    X(CORE_RCV_REPLIES, "core", "rcv_replies")                     \
    X(CORE_FWD_REQUESTS, "core", "fwd_requests")                   \
    X(CORE_FWD_REPLIES, "core", "fwd_replies")                     \
    X(CORE_DROP_REQUESTS, "core", "drop_requests")                 \
    X(CORE_DROP_REPLIES, "core", "drop_replies")                   \
    X(CORE_ERR_REQUESTS, "core", "err_requests")                   \
    X(CORE_ERR_REPLIES, "core", "err_replies")                     \
    X(CORE_BAD_URIS_RCVD, "core", "bad_URIs_rcvd")                 \
    X(CORE_BAD_MSG_HDR, "core", "bad_msg_hdr")                     \
    X(CORE_SENT_REPLIES, "core", "sent_replies")                   \
    X(NET_UDP_RCV, "net", "udp_rcv_datagrams")                     \
    X(NET_UDP_SND, "net", "udp_snd_datagrams")                     \
    X(NET_UDP_SND_ERR, "net", "udp_snd_errors")                    \
    X(NET_UDP_TOO_SMALL, "net", "udp_too_small")                   \
    X(NET_RING_FULL, "net", "ring_full_drops")                     \
    X(NET_UDP_KERNEL_DROPS, "net", "udp_kernel_drops")             \
    X(NET_SEND_FAILED, "net", "send_failed")                       \
    X(DNS_QUERIES, "dns", "queries")                               \
    X(DNS_ANSWERS, "dns", "answers")                               \
    X(DNS_FAILURES, "dns", "failures")                             \
    X(DNS_PENDING_DROPS, "dns", "pending_drops")                   \
    X(DNS_CACHE_HITS, "dns", "cache_hits")                         \
    X(DNS_COALESCED, "dns", "coalesced")                           \
    X(DNS_BAD_QUERIES, "dns", "bad_queries")                       \
    X(DNS_BACKLOGGED, "dns", "backlogged")                         \
    X(DNS_BL_ADDED, "dns", "blacklist_added")                      \
    X(DNS_BL_SKIPPED, "dns", "blacklist_skipped")                  \
    X(DNS_BL_SIZE, "dns", "blacklist_size")                        \
    X(RING_OUT_FULL, "ring", "out_full_drops")                     \
    X(SIPD_QUEUE_DROPS, "sipd", "queue_drops")                     \
    X(SIPD_STALE_DROPS, "sipd", "stale_drops")                     \
    X(SIPD_TAKEN, "sipd", "taken")                                 \
    X(SIPD_DONE, "sipd", "done")                                   \
    X(SIPD_CRASH_LOST, "sipd", "crash_lost")                       \
    X(SIPD_DNS_PARKED, "sipd", "dns_parked")                       \
    X(SIPD_DNS_EXPIRED, "sipd", "dns_expired")                     \
    X(SIPD_FAILOVERS, "sipd", "failovers")                         \
    X(TCP_ACCEPTED, "tcp", "connections_accepted")                 \
    X(TCP_OPEN, "tcp", "connections_open")                         \
    X(TCP_REFUSED, "tcp", "connections_refused")                   \
    X(TCP_REFUSED_PER_IP, "tcp", "connections_refused_per_ip")     \
    X(TCP_CONNECTED, "tcp", "connections_connected")               \
    X(TCP_CONNECT_FAILED, "tcp", "connect_failed")                 \
    X(TCP_CLOSED_IDLE, "tcp", "closed_idle")                       \
    X(TCP_CLOSED_SLOW, "tcp", "closed_slow")                       \
    X(TCP_CLOSED_OVERSIZE, "tcp", "closed_oversize")               \
    X(TCP_CLOSED_BAD, "tcp", "closed_bad_frame")                   \
    X(TCP_CLOSED_ERROR, "tcp", "closed_error")                     \
    X(TCP_CLOSED_BY_PEER, "tcp", "closed_by_peer")                 \
    X(TCP_WQ_DROPS, "tcp", "write_queue_drops")                    \
    X(TCP_RCV_MSGS, "tcp", "rcv_messages")                         \
    X(TCP_SND_MSGS, "tcp", "snd_messages")                         \
    X(TCP_SND_DROPS, "tcp", "snd_drops")                           \
    X(TCP_KEEPALIVES, "tcp", "keepalives")                         \
    X(TCP_ALIASES, "tcp", "aliases")                               \
    X(DB_QUERIES, "db", "queries")                                 \
    X(DB_ERRORS, "db", "errors")                                   \
    X(DB_TIMEOUTS, "db", "timeouts")                               \
    X(DB_QUEUE_LEN, "db", "queue_len")                             \
    X(DB_QUEUE_FULL, "db", "queue_full")                           \
    X(DB_RECONNECTS, "db", "reconnects")                           \
    X(DB_FAILOVERS, "db", "failovers")                             \
    X(DB_BACKLOGGED, "db", "backlogged")                           \
    X(DB_CACHE_HITS, "db", "cache_hits")                           \
    X(DB_CACHE_MISSES, "db", "cache_misses")                       \
    X(DB_CACHE_ENTRIES, "db", "cache_entries")                     \
    X(DB_ALIASED, "db", "aliased")                                 \
    X(DB_UNAVAILABLE, "db", "unavailable_replies")                 \
    X(DB_ALLOW_DENIED, "db", "allow_denied")                       \
    X(DB_ALLOW_ROWS, "db", "allow_rows")                           \
    X(SIPD_DB_PARKED, "sipd", "db_parked")                         \
    X(SIPD_DB_EXPIRED, "sipd", "db_expired")                       \
    X(TLS_HANDSHAKES, "tls", "handshakes")                         \
    X(TLS_HANDSHAKE_FAILED, "tls", "handshake_failed")             \
    X(TLS_HANDSHAKE_TIMEOUTS, "tls", "handshake_timeouts")         \
    X(TLS_VERIFY_FAILED, "tls", "verify_failed")                   \
    X(TLS_RENEGOTIATIONS, "tls", "renegotiations_refused")         \
    X(TLS_CLOSED_ERROR, "tls", "closed_error")                     \
    X(SIPD_SIPS_REFUSED, "sipd", "sips_refused")                   \
    X(NET_OVERLOAD_SHED, "net", "overload_shed")                   \
    X(NET_RING_FULL_NEW, "net", "ring_full_new_drops")             \
    X(NET_RING_FULL_DIALOG, "net", "ring_full_dialog_drops")       \
    X(NET_RING_FULL_REPLY, "net", "ring_full_reply_drops")         \
    X(NET_INPUT_PAUSES, "net", "input_pauses")

#define STATS_ENUM_(id, g, n) STAT_##id,
enum stats_id { STATS_LIST(STATS_ENUM_) STAT__N };
#undef STATS_ENUM_

struct stats_def {
    const char *group;
    const char *name;
};

extern const struct stats_def stats_defs[STAT__N];

#define STATS_CAP 128                   /* counters a row has room for */

_Static_assert(STAT__N <= STATS_CAP,
               "STATS_LIST outgrew STATS_CAP: raising it changes the "
               "segment layout (a full restart)");

struct stats_slot {
    uint64_t v[STATS_CAP];              /* [STAT__N, STATS_CAP): headroom */
} __attribute__((aligned(64)));

/* stats_inc / stats_add - single writer per slot */
static inline void stats_add(struct stats_slot *s, enum stats_id id,
                             uint64_t n)
{
    if (s != NULL)
        __atomic_store_n(&s->v[id],
                         __atomic_load_n(&s->v[id], __ATOMIC_RELAXED) + n,
                         __ATOMIC_RELAXED);
}

static inline void stats_inc(struct stats_slot *s, enum stats_id id)
{
    stats_add(s, id, 1);
}

/* stats_set - a gauge kept by one writer (e.g. a table's size) */
static inline void stats_set(struct stats_slot *s, enum stats_id id,
                             uint64_t v)
{
    if (s != NULL)
        __atomic_store_n(&s->v[id], v, __ATOMIC_RELAXED);
}

/* stats_find - index of "group:name", or -1 */
extern int stats_find(const char *full);

/* stats_sum - add up counter id over n slots */
extern uint64_t stats_sum(const struct stats_slot *slots, int n,
                          enum stats_id id);

#endif
