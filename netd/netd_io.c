/*
 * SUMMARY
 *      netd_io - the rings as the transports see them
 * DESCRIPTION
 *      In: netd_to_sipd() copies one received message (a datagram, or a
 *      TCP message framed by proto_tcp) into a ring of one worker thread
 *      of sipd number hash(Call-ID) % nsipd: worker number (the hash
 *      scrambled) % that sipd's children, its reply ring for a response
 *      and its request ring for a request, so every message of a call
 *      meets the same worker, which empties its reply ring first. When
 *      that instance is not live (mid's sipd_live: down, in
 *      back-off, starting or not answering pings) the Call-ID goes to
 *      live instance number hash % (live count) instead, so order per
 *      Call-ID holds among live instances and no traffic waits on a dead
 *      one; with none live it waits in its own ring. Each record carries
 *      its receipt time (ev_stamp_ms) so sipd can drop what waited too
 *      long. The Call-ID is found with the parser's light
 *      sip_msg_peek_callid(), not a parse. Rings touched are published
 *      once per batch by netd_commit() (one futex wake at most per ring
 *      and batch, none while the worker is busy).
 *
 *      Under overload (netd_flow.c) a UDP datagram that is new work is
 *      shed instead (net:overload_shed) when its ring is past its
 *      high-water mark or its socket overflowed; what a full ring drops
 *      is counted by class as well.
 *
 *      Out: netd_send_all() pops up to NETD_SEND_ROUNDS batches from
 *      each worker's ring to netd and hands every MSG_T_SIP_OUT record to the
 *      transport of the listen socket it names; records stay in ring
 *      memory (no copy) until every loaded transport flushed, then each
 *      batch is released. Then netd_flow_check() pauses or resumes UDP
 *      input by how much output is still waiting.
 *
 *      netd_sent_by() reads the top Via of a response for the TCP
 *      transport, when the response's connection is gone (RFC 3261
 *      18.2.2); it lives here, in netd proper, because the parser is in
 *      libcommon.a and a transport library only sees what netd links.
 *
 *      netd_send_failed() writes what a transport could not send back to
 *      the worker it came from (MSG_F_SEND_FAILED, msg.h): the message
 *      itself (TCP: connect refused or timed out, reset before the write)
 *      or only its destination (UDP: ICMP unreachable).
 * PROTOCOL
 *      netd -> sipd.i.w: MSG_T_SIP_IN, also with MSG_F_SEND_FAILED;
 *      sipd.i.w -> netd: MSG_T_SIP_OUT.
 * DIAGNOSTICS
 *      A full ring is counted (net:ring_full_drops, and by class); the
 *      caller logs, naming the socket or connection. Shedding is counted
 *      and logged by netd_flow.c. A record for a socket whose
 *      transport is not loaded, or malformed, is counted and dropped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "netd.h"
#include "netd_proto.h"
#include "sip_msg.h"

uint32_t netd_hash_callid(const char *buf, size_t len)
{
    struct str cid;
    uint32_t h = 2166136261u;           /* FNV-1a */
    size_t i;

    if (sip_msg_peek_callid(buf, len, &cid) < 0)
        return 0;
    for (i = 0; i < cid.len; i++) {
        h ^= (unsigned char)cid.s[i];
        h *= 16777619u;
    }
    return h;
}

void netd_sent_by(const struct msg_sip *m, struct msg_addr *to)
{
    static struct sip_msg *pm;          /* reactor thread only */

    *to = m->peer;
    if (pm == NULL) {
        if ((pm = malloc(sizeof(*pm))) == NULL)
            return;
        sip_msg_init(pm);
    }
    if (sip_msg_parse(pm, m->data, m->len, 0) < 0 || pm->is_request
        || pm->via1.hdr < 0)
        return;
    to->port = htons((uint16_t)(pm->via1.port ? pm->via1.port : 5060));
}

/* netd_pick - the sipd instance for hash h (see DESCRIPTION) */
static int netd_pick(const struct netd *n, uint32_t h)
{
    uint32_t all = (1u << n->nsipd) - 1;
    uint32_t live = __atomic_load_n(&n->srv->shm.hdr->sipd_live,
                                    __ATOMIC_RELAXED) & all;
    int i = (int)(h % (uint32_t)n->nsipd), k;

    if (live == 0 || (live & (1u << i)))
        return i;
    for (k = (int)(h % (uint32_t)__builtin_popcount(live)); k > 0; k--)
        live &= live - 1;               /* drop the lowest set bit */
    return __builtin_ctz(live);
}

/*
 * netd_slot - the worker slot of hash h in sipd/i: h scrambled (a
 * multiplicative hash, so the worker does not follow from the instance
 * when both counts share a factor) and scaled to the count without a
 * division.
 */
static int netd_slot(const struct netd *n, int i, uint32_t h)
{
    uint32_t x = h * 0x9e3779b1u;

    return SHM_WORKER(i, (int)(((uint64_t)x * (uint32_t)n->nw[i]) >> 32));
}

/* netd_mark - slot written: committed at the next netd_commit() */
static void netd_mark(struct netd *n, int slot)
{
    struct netd_wring *wr = &n->w[slot];

    if (!wr->dirty) {
        wr->dirty = 1;
        n->dirty[n->ndirty++] = (uint16_t)slot;
    }
}

/* netd_is_reply - a response starts with "SIP/", a request with its
 * method */
static int netd_is_reply(const char *data, size_t len)
{
    return len >= 4 && memcmp(data, "SIP/", 4) == 0;
}

int netd_to_sipd(struct netd *n, const struct msg_sip *hdr, const char *data,
                 size_t len)
{
    int udp = hdr->proto == MSG_PROTO_UDP;
    int reply = netd_is_reply(data, len);
    struct netd_wring *wr;
    struct msg_sip *m;
    uint32_t h;
    int slot;

    /* netd is behind on this socket: shed before the Call-ID scan */
    if (udp && n->socks[hdr->sock].shed && netd_flow_shed(n, data, len))
        return 0;
    h = netd_hash_callid(data, len);
    slot = netd_slot(n, netd_pick(n, h), h);
    wr = &n->w[slot];
    if (udp && !reply && netd_flow_high(n, wr)
        && netd_flow_shed(n, data, len))
        return 0;
    m = ring_reserve(reply ? &wr->reply : &wr->req, MSG_T_SIP_IN,
                     (uint32_t)(sizeof(*m) + len));
    if (m == NULL) {
        stats_inc(n->st, STAT_NET_RING_FULL);
        netd_flow_full(n, data, len);
        return -ENOSPC;
    }
    *m = *hdr;
    m->hash = h;
    m->len = (uint32_t)len;
    m->stamp_ms = ev_stamp_ms();
    memcpy(m->data, data, len);
    netd_mark(n, slot);
    return 0;
}

/* netd_back_slot - where a failed send goes back (netd_send_failed) */
static int netd_back_slot(struct netd *n, int ring, uint32_t hash)
{
    uint32_t live = __atomic_load_n(&n->srv->shm.hdr->sipd_live,
                                    __ATOMIC_RELAXED);
    int i = ring / CFG_MAX_CHILDREN, w = ring % CFG_MAX_CHILDREN;

    if (ring >= 0 && i < n->nsipd && (live & (1u << i)) && w < n->nw[i])
        return ring;
    i = netd_pick(n, hash);
    return netd_slot(n, i, hash);
}

int netd_send_failed(struct netd *n, int ring, const struct msg_sip *m,
                     const char *data, size_t len, uint32_t reason)
{
    int slot = netd_back_slot(n, ring, m->hash);
    struct msg_sip *r;

    stats_inc(n->st, STAT_NET_SEND_FAILED);
    r = ring_reserve(&n->w[slot].reply, MSG_T_SIP_IN,
                     (uint32_t)(sizeof(*r) + len));
    if (r == NULL) {
        stats_inc(n->st, STAT_NET_RING_FULL);
        return -ENOSPC;
    }
    memset(r, 0, sizeof(*r));
    r->proto = m->proto;
    r->flags = (uint8_t)(MSG_F_SEND_FAILED | (m->flags & MSG_F_FWD_REQUEST));
    r->sock = m->sock;
    r->hash = m->hash;
    r->peer = m->peer;
    r->len = (uint32_t)len;
    r->fail = (m->fail & ~0xffu) | (reason & 0xffu);
    r->stamp_ms = ev_stamp_ms();
    if (len > 0)
        memcpy(r->data, data, len);
    netd_mark(n, slot);
    return 0;
}

void netd_commit(struct netd *n)
{
    struct netd_wring *wr;
    int k;

    for (k = 0; k < n->ndirty; k++) {
        wr = &n->w[n->dirty[k]];
        ring_commit(&wr->reply);        /* no-ops when nothing pends */
        ring_commit(&wr->req);
        wr->dirty = 0;
    }
    n->ndirty = 0;
}

void netd_gauge_add(struct netd *n, enum stats_id id, int d)
{
    stats_add(n->st, id, (uint64_t)(int64_t)d);
}

/* netd_send_one - one record to its transport; 0 when dropped */
static int netd_send_one(struct netd *n, const struct ring_rec *rec)
{
    const struct msg_sip *m = (const struct msg_sip *)rec->data;
    const struct netd_proto *p;

    if (rec->type != MSG_T_SIP_OUT || rec->len < sizeof(*m)
        || m->len > rec->len - sizeof(*m) || m->sock >= n->nsocks
        || m->name_len > rec->len - sizeof(*m) - m->len)
        return 0;                       /* name_len: TLS server name */
    p = n->proto[n->socks[m->sock].proto];
    if (p == NULL || m->proto != p->proto) {
        stats_inc(n->st, STAT_NET_UDP_SND_ERR);
        log_warn_rl("listen %u: no %s transport for this socket: "
                    "message dropped", m->sock, cfg_proto_name(m->proto));
        return 0;
    }
    p->send(n, m);
    return 1;
}

/* netd_send_ring - one batch from one sipd; returns records taken */
static int netd_send_ring(struct netd *n, struct ring *r)
{
    const struct ring_rec *rec;
    int taken = 0, i;

    while (taken < NETD_BATCH && (rec = ring_pop(r)) != NULL) {
        taken++;
        (void)netd_send_one(n, rec);
    }
    if (taken == 0)
        return 0;
    for (i = 0; i < NETD_PROTO_N; i++)
        if (n->proto[i] != NULL)
            n->proto[i]->flush(n);
    ring_release(r);
    return taken;
}

int netd_send_all(struct netd *n)
{
    int i, k, got, total = 0;

    for (i = 0; i < n->nslots; i++) {
        n->from_ring = n->slots[i];     /* netd_send_failed() */
        for (k = 0; k < NETD_SEND_ROUNDS; k++) {
            got = netd_send_ring(n, &n->w[n->slots[i]].out);
            total += got;
            if (got < NETD_BATCH)
                break;
        }
    }
    netd_flow_check(n);
    return total;
}
