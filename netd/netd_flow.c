/*
 * SUMMARY
 *      netd_flow - overload: finish done work first, shed new work first
 * DESCRIPTION
 *      Two rules keep an overloaded netd from throwing away work that
 *      sipd already did, and make it throw away new work before work
 *      that finishes a call.
 *
 *      1. Output before input. Every turn of netd's loop drains each
 *      worker's ring to netd (sipd.i.w>netd) by up to NETD_SEND_ROUNDS
 *      batches of NETD_BATCH records (netd_send_all()), as many as one
 *      turn reads from one socket (NETD_RECV_ROUNDS batches). It used to
 *      send one batch per ring per turn and read up to eight per socket:
 *      under overload netd
 *      took in eight messages for each it sent out, the output ring
 *      filled, and sipd dropped messages it had already routed
 *      (ring:out_full_drops: CPU spent for nothing).
 *
 *      When a ring to netd still holds more than 1/NETD_OUT_PAUSE_DIV
 *      of its size after the drain (256 KiB of 2 MiB: about 400 routed
 *      messages, more than a turn's worth), sipd has routed more than netd
 *      could send, and netd_flow_check() stops reading the UDP sockets
 *      (EPOLLIN off, one epoll_ctl per socket and change of state): new
 *      datagrams wait in the kernel's socket buffer ([net]
 *      udp_maxbuffer), and if that overflows the kernel drops them
 *      before anybody worked on them (net:udp_kernel_drops), which is
 *      where Kamailio drops too. Input resumes when every such ring is
 *      below 1/NETD_OUT_RESUME_DIV (64 KiB), or NETD_PAUSE_MS after it
 *      stopped, whatever the rings hold: then netd reads one full turn
 *      of input before the next check may stop it again. So input is
 *      never starved: it gets a turn at least every NETD_PAUSE_MS (20
 *      ms) plus one drain, even if some sipd kept its ring full for
 *      ever. Each stop is counted (net:input_pauses) and logged, rate
 *      limited, naming the ring and how full it is. TCP and TLS
 *      connections are not paused: each is flow-controlled by its own
 *      window, and pausing them would cost an epoll_ctl per connection.
 *
 *      2. New work shed first. For every UDP datagram, before it is
 *      copied into its worker's request ring (netd>sipd.i.w,
 *      netd_to_sipd()):
 *
 *        - when that ring is at or above its high-water mark, half its
 *          size (netd_flow_high()), or
 *        - when the datagram's socket overflowed (the kernel reported
 *          drops on it: netd itself is behind) and has not been read
 *          empty since (struct netd_sock.shed, proto_udp.c),
 *
 *      the datagram is classified without a parse (netd_class.c) and
 *      new work (a request without a To tag that is not ACK, BYE,
 *      CANCEL, PRACK, UPDATE or INFO; garbage) is dropped and counted
 *      (net:overload_shed). Responses and in-dialog requests go on into
 *      the ring until it is really full. A full ring drops whatever
 *      comes, as before (net:ring_full_drops), now also counted by class
 *      (net:ring_full_new_drops, net:ring_full_dialog_drops,
 *      net:ring_full_reply_drops).
 *
 *      Why half: the upper half of the ring (1 MiB, about 1,500 typical
 *      messages) is kept for the in-dialog requests of calls already
 *      admitted (responses have a ring of their own, which the worker
 *      empties first); the lower half absorbs bursts of new calls while
 *      the worker was briefly descheduled (at 10,000 messages/s for one
 *      worker it is 150 ms of traffic), so shedding starts only when sipd has
 *      been behind for longer than a scheduler hiccup, never at normal
 *      load. A higher mark would leave too little room for what finishes
 *      calls; a lower one would shed at every hiccup of a busy machine.
 *
 *      Why the socket: a request ring fills when its worker is the
 *      bottleneck (or stopped, hung, starved of CPU). When netd is the
 *      bottleneck (it is, at saturation: docs/PERFORMANCE.md) the rings
 *      stay near empty
 *      and the overflow happens in the kernel, blind to classes; reading
 *      on and shedding new work there is cheaper (a shed datagram costs
 *      its recvmmsg share and the classification, no Call-ID hash, no
 *      copy, no sipd work, no send, and its answers never come) and
 *      leaves the socket buffer to the calls already admitted.
 *
 *      Why silent: a shed UDP request gets no answer. Its sender
 *      retransmits it (RFC 3261 17.1.1.2, 17.1.2.2: after 500 ms, 1 s,
 *      2 s, ...), and a retransmission that arrives when the overload is
 *      over gets through: shedding delays a call, it does not fail it.
 *      A 503 would cost more than it saves: netd would have to build it
 *      (copy every Via, From, To, Call-ID and CSeq: the parse it is
 *      avoiding) and send it on the socket that is already too busy, a
 *      datagram out for every datagram shed; a 503 to an INVITE brings
 *      an ACK back in (RFC 3261 17.1.1.3); and a UAC that gets 503 gives
 *      up the call at once or tries the next server straight away,
 *      which under a general overload brings the same load back sooner
 *      (RFC 5390 summarizes the problems of 503 as overload control).
 *      TCP and TLS messages are never shed at the high-water mark: a
 *      stream sender does not retransmit, so a dropped request would
 *      cost its caller a 32 s timeout; they drop only when the ring is
 *      full, as before.
 * PROTOCOL
 *      None of its own: it decides what netd_io.c writes to the netd>
 *      sipd rings and when the UDP transport reads.
 * DIAGNOSTICS
 *      Rate-limited warnings when a ring passes its high-water mark (its
 *      name and how full it is) and when UDP input pauses (the output
 *      ring and how full it is); a rate-limited notice when a ring falls
 *      below the mark again. An epoll_ctl that fails is warned; a socket
 *      that cannot be paused is read on (proto_udp.c returns at once
 *      while paused, so the loop spins for the pause's 20 ms), one that
 *      cannot be resumed is tried again at every turn.
 */
#include <string.h>

#include "log.h"
#include "netd.h"
#include "netd_class.h"

#define NETD_SHED_DIV 2                 /* netd>sipd high-water: 1/2 */
#define NETD_OUT_PAUSE_DIV 8            /* sipd>netd: pause input above */
#define NETD_OUT_RESUME_DIV 32          /* ... resume below */
#define NETD_PAUSE_MS 20                /* input paused at most this long */

void netd_flow_ring(struct netd *n, int i)
{
    struct netd_wring *wr = &n->w[SHM_WORKER(i, 0)];
    uint64_t in = ring_size(&wr->req);
    uint64_t out = ring_size(&wr->out);

    if (i != 0)                         /* every instance's rings alike */
        return;
    log_notice("netd>sipd.*.*: new UDP requests are shed above %llu of "
               "%llu bytes; UDP input pauses while a sipd.*.*>netd ring "
               "holds over %llu", (unsigned long long)(in / NETD_SHED_DIV),
               (unsigned long long)in,
               (unsigned long long)(out / NETD_OUT_PAUSE_DIV));
}

/* netd_flow_pct - how full ring r is, in per cent, for the logs */
static unsigned netd_flow_pct(uint64_t used, const struct ring *r)
{
    return (unsigned)(used * 100 / ring_size(r));
}

int netd_flow_high(struct netd *n, struct netd_wring *wr)
{
    struct ring *r = &wr->req;

    /* every UDP request asks: the consumer's tail is read only near
     * the mark (ring_fill_over), not once per message */
    if (ring_fill_over(r, ring_size(r) / NETD_SHED_DIV)) {
        if (!wr->shedding) {
            wr->shedding = 1;
            log_warn_rl("%s %u%% full (high-water %d%%): sipd is behind: "
                        "shedding new requests over UDP",
                        r->shm->name, netd_flow_pct(ring_fill(r), r),
                        100 / NETD_SHED_DIV);
        }
        return 1;
    }
    if (wr->shedding) {
        wr->shedding = 0;
        log_notice_rl("%s %u%% full: below high-water again: new requests "
                      "taken (net:overload_shed %llu)", r->shm->name,
                      netd_flow_pct(ring_fill(r), r),
                      (unsigned long long)(n->st != NULL
                              ? n->st->v[STAT_NET_OVERLOAD_SHED] : 0));
    }
    return 0;
}

int netd_flow_shed(struct netd *n, const char *data, size_t len)
{
    if (netd_class_of(data, len) != NETD_CLASS_NEW)
        return 0;
    stats_inc(n->st, STAT_NET_OVERLOAD_SHED);
    return 1;
}

void netd_flow_full(struct netd *n, const char *data, size_t len)
{
    static const enum stats_id ids[NETD_CLASS_N] = {
        [NETD_CLASS_NEW] = STAT_NET_RING_FULL_NEW,
        [NETD_CLASS_DIALOG] = STAT_NET_RING_FULL_DIALOG,
        [NETD_CLASS_REPLY] = STAT_NET_RING_FULL_REPLY,
    };

    stats_inc(n->st, ids[netd_class_of(data, len)]);
}

/*
 * netd_flow_input - UDP sockets in (on) or out of (!on) epoll. A socket
 *      that could not be put back keeps netd "paused", so the next
 *      check tries again: input must never stay off.
 */
static void netd_flow_input(struct netd *n, int on)
{
    int i, err, failed = 0;

    for (i = 0; i < n->nsocks; i++) {
        struct netd_sock *sk = &n->socks[i];

        if (sk->proto != CFG_PROTO_UDP || sk->io.fn == NULL)
            continue;
        if ((err = ev_mod(&n->srv->ev, &sk->io, on ? EPOLLIN : 0)) < 0) {
            log_warn_rl("udp %d: epoll: %s", i, strerror(-err));
            failed = 1;
        }
    }
    n->in_paused = !on || failed;
    if (!on)
        n->paused_ms = ev_now_ms();
}

/* netd_flow_backlog - the fullest ring to netd; returned in *worst */
static uint64_t netd_flow_backlog(struct netd *n, struct ring **worst)
{
    uint64_t max = 0, used;
    struct ring *r;
    int k;

    *worst = &n->w[n->slots[0]].out;
    for (k = 0; k < n->nslots; k++) {
        /* Compare as a share of its size: rings may differ. */
        r = &n->w[n->slots[k]].out;
        used = ring_used(r);
        if (used * ring_size(*worst) > max * ring_size(r)) {
            max = used;
            *worst = r;
        }
    }
    return max;
}

void netd_flow_check(struct netd *n)
{
    struct ring *r;
    uint64_t used = netd_flow_backlog(n, &r);

    if (!n->in_paused) {
        if (used <= ring_size(r) / NETD_OUT_PAUSE_DIV)
            return;
        netd_flow_input(n, 0);
        stats_inc(n->st, STAT_NET_INPUT_PAUSES);
        log_warn_rl("%s %u%% full: sipd routed more than netd sent: UDP "
                    "input paused (at most %d ms at a time)", r->shm->name,
                    netd_flow_pct(used, r), NETD_PAUSE_MS);
        return;
    }
    if (used < ring_size(r) / NETD_OUT_RESUME_DIV
        || ev_now_ms() - n->paused_ms >= NETD_PAUSE_MS)
        netd_flow_input(n, 1);
}
