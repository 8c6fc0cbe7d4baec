#ifndef NETD_H
#define NETD_H
/*
 * SUMMARY
 *      netd - private interfaces of the network stage
 * DESCRIPTION
 *      netd proper is the reactor, the rings and the services a transport
 *      library uses (netd_io.c, netd_addr.c, netd_conn.c, netd_frame.c);
 *      the transports themselves are the shared libraries of netd/proto/
 *      (proto_udp.so, proto_tcp.so), loaded by netd_proto.c. netd is
 *      linked with -rdynamic, so a library calls these functions (and
 *      libcommon's log_*, ev_*, sip_msg_frame) directly.
 */
#include <stdint.h>

#include "msg.h"
#include "netd_conn.h"
#include "ring.h"
#include "srv.h"
#include "stats.h"

#define NETD_BATCH 32                   /* datagrams per recvmmsg/sendmmsg */
#define NETD_RECV_ROUNDS 8              /* batches per socket per turn */
#define NETD_SEND_ROUNDS 8              /* batches per sipd worker's ring
                                         * per turn: as many as one
                                         * socket's input (netd_flow.c) */
#define NETD_DGRAM_MAX 65535
#define NETD_TICK_MS 250                /* transport ticks (idle sweeps) */
#define NETD_PROTO_N 4                  /* MSG_PROTO_* + 1 */

struct netd;
struct netd_proto;
struct msg_addr;

struct netd_sock {
    int fd;
    int idx;                            /* cfg listen index */
    int proto;
    int shed;                           /* UDP: the kernel dropped on it
                                         * and it was not drained since:
                                         * new work is shed (netd_flow.c) */
    struct ev_io io;
    struct netd *netd;
};

/* The rings of one sipd worker, netd's sides (slot SHM_WORKER(i, w)). */
struct netd_wring {
    struct ring req;                    /* netd>sipd.i.w: requests */
    struct ring reply;                  /* netd>sipd.i.w.r: responses */
    struct ring out;                    /* sipd.i.w>netd */
    uint8_t dirty;                      /* req or reply: not committed */
    uint8_t shedding;                   /* req above high-water */
};

struct netd {
    struct srv *srv;
    struct stats_slot *st;
    int nsipd;                          /* live count: hash(Call-ID) % it */
    int nrings;                         /* sipd instances attached (>= nsipd
                                         * after a scale-down: their last
                                         * output is still drained) */
    int nw[CFG_MAX_SIPD];               /* workers of sipd/i hashed over */
    int nwa[CFG_MAX_SIPD];              /* worker slots attached (>= nw[i]
                                         * after [core] children shrank) */
    struct netd_wring *w;               /* SHM_MAX_WORKERS, by slot */
    uint16_t *slots;                    /* attached slots, in order */
    int nslots;
    uint16_t *dirty;                    /* slots written, not committed */
    int ndirty;
    struct ev_io wake_io;               /* hdr->netd_efd: every out ring */
    struct netd_sock socks[CFG_MAX_LISTEN];
    int nsocks;
    /* transports by MSG_PROTO_*: NULL = not loaded (no listen line) */
    const struct netd_proto *proto[NETD_PROTO_N];
    void *proto_dl[NETD_PROTO_N];
    struct ev_timer tick;
    int from_ring;                      /* worker slot of the record being
                                         * sent (netd_send_failed()) */
    /* overload (netd_flow.c) */
    int in_paused;                      /* UDP sockets out of epoll */
    int64_t paused_ms;                  /* when they were taken out */
    /* TCP connections (netd_conn.c); empty without a tcp listen line */
    struct netd_conn_tab conns;
};

/* netd_io.c: services for the transports */

/*
 * netd_to_sipd - copy one received message into the ring of the sipd
 *      worker its Call-ID hashes to (a response into that worker's
 *      reply ring, a request into its request ring). hdr gives proto,
 *      sock, conn_id, peer and framing (flags, hdr_len, body_len); its
 *      hash and len are set here. Published at the next netd_commit().
 *      0 (also when a UDP datagram of new work was shed under overload:
 *      counted
 *      net:overload_shed and logged by netd_flow.c), or -ENOSPC (ring
 *      full: counted net:ring_full_drops and by class, the caller logs).
 */
extern int netd_to_sipd(struct netd *n, const struct msg_sip *hdr,
                        const char *data, size_t len);

/*
 * netd_send_failed - tell sipd that a send of m (a MSG_T_SIP_OUT record,
 *      or a header naming only proto and peer) to m->peer failed for
 *      reason (MSG_FAIL_*): a MSG_T_SIP_IN record with MSG_F_SEND_FAILED,
 *      fail = reason | tries << 8 (MSG_FAIL_TRIES), and data/len (the
 *      message to hand back; len 0 for a UDP destination). It goes to
 *      sipd ring "ring" (the one m came from) while that instance is live,
 *      else where a new message of its Call-ID would go (any sipd can
 *      re-route it: the message carries all it needs), stamped like a
 *      received message. Counts net:send_failed. Published at the
 *      next netd_commit(). 0, or -ENOSPC (ring full: counted
 *      net:ring_full_drops, the caller logs).
 */
extern int netd_send_failed(struct netd *n, int ring, const struct msg_sip *m,
                            const char *data, size_t len, uint32_t reason);

/* netd_commit - publish what netd_to_sipd() wrote (once per batch) */
extern void netd_commit(struct netd *n);

/*
 * netd_send_all - drain up to NETD_SEND_ROUNDS batches from every
 *      sipd->netd ring through the transports' send and flush, then
 *      pause or resume UDP input (netd_flow_check()); returns the
 *      records taken.
 */
extern int netd_send_all(struct netd *n);

extern uint32_t netd_hash_callid(const char *buf, size_t len);

/*
 * netd_sent_by - where a response goes whose TCP connection is gone
 *      (RFC 3261 18.2.2, RFC 3581 section 4): the IP of m->peer (sipd
 *      put the received IP there) and the port of the top Via's sent-by,
 *      5060 when absent; never m->peer's port, which for rport or a
 *      generated reply is the gone connection's ephemeral source port.
 *      A request, or a message that does not parse, gets m->peer. Parses
 *      m (one message struct, allocated at the first call and kept):
 *      for the rare path only. *to is always set.
 */
extern void netd_sent_by(const struct msg_sip *m, struct msg_addr *to);

/* netd_gauge_add - a gauge counter up (d > 0) or down (d < 0) */
extern void netd_gauge_add(struct netd *n, enum stats_id id, int d);

/* netd_flow.c: overload (see there) */

/* netd_flow_ring - log the marks once, when sipd/0's rings are attached */
extern void netd_flow_ring(struct netd *n, int i);

/*
 * netd_flow_high - 1 when the request ring of worker rings wr holds at
 *      least half its size (the high-water mark): new work for it is
 *      shed. Logs, rate limited, when a ring passes the mark and when it
 *      falls below.
 */
extern int netd_flow_high(struct netd *n, struct netd_wring *wr);

/*
 * netd_flow_shed - under overload: 1 when the message data/len is new
 *      work (netd_class.c), counted net:overload_shed, and must be
 *      dropped; 0 when it is a response or in-dialog and goes on.
 */
extern int netd_flow_shed(struct netd *n, const char *data, size_t len);

/* netd_flow_full - a message a full ring dropped: count it by class */
extern void netd_flow_full(struct netd *n, const char *data, size_t len);

/*
 * netd_flow_check - after the output drain: pause UDP input while a
 *      sipd worker's ring to netd is backed up, resume it when they drained or
 *      after NETD_PAUSE_MS.
 */
extern void netd_flow_check(struct netd *n);

/* netd_addr.c */
extern void netd_addr_from_sa(struct msg_addr *a,
                              const struct sockaddr_storage *ss);
extern socklen_t netd_addr_to_sa(const struct msg_addr *a,
                                 struct sockaddr_storage *ss);
/* netd_addr_fmt - "IP:port" / "[IP6]:port" into buf (>= 64 bytes) */
extern const char *netd_addr_fmt(const struct msg_addr *a, char *buf,
                                 size_t cap);
extern int netd_addr_eq(const struct msg_addr *a, const struct msg_addr *b);
/* netd_addr_hash - FNV-1a of family, IP and, with_port, port; never 0 */
extern uint32_t netd_addr_hash(const struct msg_addr *a, int with_port);

/* netd_proto.c */
/*
 * netd_socks_watch - register every listen socket of transport proto in
 * the loop with callback fn (arg: the struct netd_sock). For the
 * transport libraries' init. 0 or -errno.
 */
extern int netd_socks_watch(struct netd *n, int proto, ev_io_fn fn);
extern int netd_proto_load_all(struct netd *n);
extern void netd_proto_unload_all(struct netd *n);
extern int netd_proto_dir(const char *mod_path, const char *exe, char *out,
                          size_t cap);

#endif
