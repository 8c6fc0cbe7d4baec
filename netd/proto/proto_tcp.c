/*
 * SUMMARY
 *      proto_tcp - the stream transport: TCP (build/lib/proto_tcp.so),
 *      and the same code under TLS (build/lib/proto_tls.so)
 * DESCRIPTION
 *      Loaded by netd only when a listen line is tcp (netd_proto.h). All
 *      I/O is non-blocking, in netd's one reactor thread. The outgoing
 *      side (write queues, connects, hold-down, hand-back to sipd) is in
 *      proto_tcp_out.c; both share proto_tcp.h. Bytes move through
 *      struct proto_tcp_io: plain read/send in proto_tcp.so
 *      (proto_tcp_mod.c), OpenSSL in proto_tls.so (proto_tls.c), which
 *      links these two files as they are. A TLS connection sits in the
 *      one connection table under the same limits, timers and framer;
 *      until its handshake is over it is in NETD_CONN_HANDSHAKE (only
 *      the handshake's bytes move, messages wait in the write queue,
 *      [tls] handshake_timeout_ms bounds it: tls:handshake_timeouts).
 *
 *       - accept4() on every tcp listen socket, at most 64 per wake-up.
 *         A new connection is closed at once (tcp:connections_refused)
 *         when inbound connections would take one of the last
 *         proto_tcp_reserve() slots of [net] tcp_max_connections (kept
 *         for outgoing connections: one peer that fills the table must
 *         not stop us from forwarding over TCP), or when its source IP
 *         already holds tcp_max_connections_per_ip connections (also
 *         tcp:connections_refused_per_ip). EMFILE is survived with a
 *         spare descriptor (close it, accept, close, reopen).
 *       - read() into the connection's buffer (allocated at the first
 *         byte, grown by need up to tcp_max_size + 4: never more), then
 *         framed by netd_frame.c: every whole message goes to sipd with
 *         MSG_F_FRAMED, hdr_len and body_len, so sipd does not scan the
 *         stream again. A double-CRLF ping is answered with one CRLF
 *         (RFC 5626 3.5.1).
 *       - send() straight from ring memory while the connection's write
 *         queue is empty; what the kernel did not take is copied to the
 *         queue (grown by need, bounded by NETD_TCP_WQ_FACTOR x
 *         tcp_max_size). A message that would pass the bound closes the
 *         connection (tcp:write_queue_drops): one peer that never reads
 *         costs a bounded amount of memory and nobody else anything.
 *       - an outgoing record goes to the connection named by conn_id
 *         (the one a request came in on, for its response: RFC 3261
 *         18.2.2), else to the connection registered under the
 *         destination address (a peer's own connection, or an RFC 5923
 *         alias), else to a new connection: connect() non-blocking, from
 *         the address of the listen socket sipd chose (so it matches the
 *         Via), with a NETD_TCP_CONNECT_MS timeout. Messages wait in the
 *         write queue meanwhile. A connect refused or timed out, or a
 *         reset before the first byte was written, hands the forwarded
 *         requests queued (up to NETD_CONN_BACK_N, recorded in c->back
 *         with the sipd ring each came from) back to their sipd with
 *         MSG_F_SEND_FAILED (netd_send_failed()), which tries the next
 *         target or answers 503; the rest is dropped (tcp:snd_drops,
 *         logged). A destination whose connect failed is not tried
 *         again for NETD_TCP_HOLD_MS: a request for it meanwhile is
 *         handed back at once, anything else dropped, so a dead peer
 *         costs one connect per NETD_TCP_HOLD_MS, not one per message.
 *       - core:fwd_requests / core:fwd_replies count a record sipd
 *         marked MSG_F_FWD_* when its last byte went to the kernel;
 *         net:send_failed counts each message handed back or dropped.
 *       - a response whose connection (conn_id) is gone is not sent to
 *         the address that connection came from: its source port was
 *         ephemeral. RFC 3261 18.2.2 (and RFC 3581 4 for rport): a new
 *         connection goes to the received IP and the sent-by port of the
 *         top Via (5060 when absent). The Via is parsed only then.
 *       - tcp:snd_messages counts a message when its last byte went to
 *         the kernel; messages still queued when a connection ends
 *         (connect failed, error, write queue bound) count as
 *         tcp:snd_drops.
 *       - [net] tcp_via_alias: the first request on an accepted
 *         connection whose top Via carries ;alias and whose sent-by is the
 *         peer's own IP registers the connection under that sent-by
 *         address (RFC 5923 section 5), so requests to the peer reuse it.
 *         Only the peer's own IP is believed: a peer cannot hijack
 *         traffic meant for another host.
 *       - limits, checked every NETD_TICK_MS: a connection that carried
 *         no SIP message, either way, for tcp_lifetime s is closed
 *         (tcp:closed_idle): CRLF keep-alives are answered but do not
 *         make it live longer, so a peer cannot hold slots with pings
 *         alone. A connection the peer closes counts tcp:closed_by_peer.
 *         A partial message
 *         not complete within min(tcp_lifetime, NETD_TCP_MSG_S) s is a
 *         slowloris (tcp:closed_slow); a header block longer than
 *         tcp_max_size (tcp:closed_oversize), a message whose headers
 *         and Content-Length pass tcp_max_size (the header block goes to
 *         sipd with MSG_F_OVERSIZE for a 513, then the connection is
 *         closed: tcp:closed_oversize) and a message without a usable
 *         Content-Length (tcp:closed_bad_frame) end the connection.
 * PROTOCOL
 *      netd -> sipd[i]: MSG_T_SIP_IN (proto TCP, conn_id, MSG_F_FRAMED,
 *      MSG_F_OVERSIZE; MSG_F_SEND_FAILED: a request handed back);
 *      sipd[i] -> netd: MSG_T_SIP_OUT (conn_id or 0, MSG_F_FWD_*).
 * DIAGNOSTICS
 *      Every line names the connection ("conn ID (PEER)") and the reason;
 *      everything a peer can trigger is rate-limited and counted under
 *      tcp:. Nothing a peer does is fatal. init fails (netd exits) only
 *      when a listen socket cannot be registered.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../netd.h"
#include "../netd_frame.h"
#include "../netd_proto.h"
#include "log.h"

#include "proto_tcp.h"

struct proto_tcp proto_tcp_g;


static void proto_tcp_on_conn(struct ev *ev, struct ev_io *io, uint32_t e);

/* proto_tcp_name - "conn ID (PEER)" ("tls conn ..."), for log lines */
const char *proto_tcp_name(const struct netd_conn *c, char *buf,
                           size_t cap)
{
    char a[80];

    snprintf(buf, cap, "%sconn %llu (%s)",
             c->proto == MSG_PROTO_TLS ? "tls " : "",
             (unsigned long long)c->id,
             netd_addr_fmt(&c->peer, a, sizeof(a)));
    return buf;
}

/* proto_tcp_close - end c; stat (or -1) counts why */
void proto_tcp_close(struct netd *n, struct netd_conn *c, int stat)
{
    if (stat >= 0)
        stats_inc(n->st, (enum stats_id)stat);
    if (c->wq_msgs > 0) {               /* never (wholly) written */
        stats_add(n->st, STAT_TCP_SND_DROPS, c->wq_msgs);
        stats_add(n->st, STAT_NET_SEND_FAILED, c->wq_msgs);
    }
    free(c->back);
    c->back = NULL;
    if (proto_tcp_g.io->end != NULL)
        proto_tcp_g.io->end(n, c);      /* close_notify, free c->tls */
    if (c->events != 0 || c->fd >= 0)
        (void)ev_del(&n->srv->ev, &c->io);
    if (c->fd >= 0 && close(c->fd) < 0)
        log_warn_rl("conn %llu: close: %s", (unsigned long long)c->id,
                    strerror(errno));
    netd_gauge_add(n, STAT_TCP_OPEN, -1);
    netd_conn_del(&n->conns, c);
}

/* proto_tcp_events - keep c's epoll interest in step with its state */
void proto_tcp_events(struct netd *n, struct netd_conn *c)
{
    uint32_t want = 0;
    int err;

    if (c->state == NETD_CONN_HANDSHAKE)
        want = c->hs_want;              /* what the handshake waits for */
    else if (c->state == NETD_CONN_OPEN)
        want |= EPOLLIN;
    if (c->state == NETD_CONN_CONNECTING
        || (c->state != NETD_CONN_HANDSHAKE && c->wlen > c->woff))
        want |= EPOLLOUT;
    if (want == c->events)
        return;
    if ((err = ev_mod(&n->srv->ev, &c->io, want)) < 0)
        log_warn_rl("conn %llu: epoll: %s", (unsigned long long)c->id,
                    strerror(-err));
    c->events = want;
}

/* proto_tcp_add - a connected/connecting fd into the table and epoll */
struct netd_conn *proto_tcp_add(struct netd *n, int fd, int sock,
                                       const struct msg_addr *peer,
                                       int state)
{
    struct netd_conn *c = netd_conn_new(&n->conns);
    int one = 1, err;

    if (c == NULL) {
        log_warn_rl("tcp: out of memory for a connection: closed");
        close(fd);
        return NULL;
    }
    c->fd = fd;
    c->sock = sock;
    c->proto = proto_tcp_g.io->proto;
    c->peer = *peer;
    c->state = state;
    c->last_ms = ev_now_ms();
    c->io.fd = fd;
    c->io.fn = proto_tcp_on_conn;
    c->io.arg = c;
    c->events = state == NETD_CONN_OPEN ? EPOLLIN : EPOLLOUT;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    netd_gauge_add(n, STAT_TCP_OPEN, 1);
    if ((err = ev_add(&n->srv->ev, &c->io, c->events)) < 0
        || (err = netd_conn_key(&n->conns, c, 0)) < 0) {
        log_warn_rl("conn %llu: register: %s", (unsigned long long)c->id,
                    strerror(-err));
        c->events = 0;
        proto_tcp_close(n, c, STAT_TCP_CLOSED_ERROR);
        return NULL;
    }
    return c;
}

/* -------------------------------------------------------------------
 * Failed sends: what was not written goes back to sipd
 */

/* proto_tcp_alias - RFC 5923: register c under its Via's sent-by */
static void proto_tcp_alias(struct netd *n, struct netd_conn *c,
                            const char *hdr, size_t len)
{
    struct msg_addr a;
    char name[128], as[80];

    if (!netd_frame_via_alias(hdr, len, &a) || a.family != c->peer.family
        || memcmp(a.ip, c->peer.ip, a.family == AF_INET ? 4 : 16) != 0
        || netd_addr_eq(&a, &c->peer))
        return;
    c->alias = a;
    if (netd_conn_key(&n->conns, c, 1) < 0) {
        c->alias.family = 0;
        return;
    }
    stats_inc(n->st, STAT_TCP_ALIASES);
    log_debug("%s: alias %s (RFC 5923)",
              proto_tcp_name(c, name, sizeof(name)),
              netd_addr_fmt(&a, as, sizeof(as)));
}

/* proto_tcp_deliver - one framed message (or header block) to sipd */
static void proto_tcp_deliver(struct netd *n, struct netd_conn *c,
                              const struct netd_frame_msg *fm, int flags)
{
    const char *p = c->fr.buf + fm->start;
    struct msg_sip hdr;
    char name[128];
    size_t len = fm->hdr_len + (flags & MSG_F_OVERSIZE ? 0 : fm->body_len);

    memset(&hdr, 0, sizeof(hdr));
    hdr.proto = (uint8_t)proto_tcp_g.io->proto;
    hdr.flags = (uint8_t)(MSG_F_FRAMED | flags);
    hdr.sock = (uint16_t)c->sock;
    hdr.conn_id = c->id;
    hdr.peer = c->peer;
    hdr.hdr_len = (uint32_t)fm->hdr_len;
    hdr.body_len = flags & MSG_F_OVERSIZE ? 0 : (uint32_t)fm->body_len;
    stats_inc(n->st, STAT_TCP_RCV_MSGS);
    c->last_ms = ev_now_ms();           /* a SIP message: still in use */
    if (netd_to_sipd(n, &hdr, p, len) < 0)
        log_warn_rl("%s: sipd ring full: message dropped",
                    proto_tcp_name(c, name, sizeof(name)));
    if (n->srv->cfg.tcp_via_alias && !c->outgoing && c->alias.family == 0)
        proto_tcp_alias(n, c, p, fm->hdr_len);
}

/* proto_tcp_refuse - hostile or broken input: log, count, close */
static void proto_tcp_refuse(struct netd *n, struct netd_conn *c, int stat,
                             const char *why)
{
    char name[128];

    log_warn_rl("%s: %s: closed", proto_tcp_name(c, name, sizeof(name)),
                why);
    proto_tcp_close(n, c, stat);
}

/* proto_tcp_frames - every event in c's buffer; -1 when c closed */
static int proto_tcp_frames(struct netd *n, struct netd_conn *c)
{
    struct proto_tcp *t = &proto_tcp_g;
    struct netd_frame_msg fm;
    char name[128];
    int r, got = 0;

    while (c->state == NETD_CONN_OPEN
           && (r = netd_frame_next(&c->fr, t->max, &fm)) != NETD_FR_AGAIN) {
        switch (r) {
        case NETD_FR_MSG:
            proto_tcp_deliver(n, c, &fm, 0);
            got = 1;
            break;
        case NETD_FR_PING:
            stats_inc(n->st, STAT_TCP_KEEPALIVES);
            if (proto_tcp_write(n, c, "\r\n", 2) < 0)
                return -1;
            break;
        case NETD_FR_OVERSIZE:
            log_warn_rl("%s: message of %zu bytes (headers %zu + "
                        "Content-Length %zu) over tcp_max_size %zu: "
                        "513, then closed",
                        proto_tcp_name(c, name, sizeof(name)),
                        fm.hdr_len + fm.body_len, fm.hdr_len, fm.body_len,
                        t->max);
            stats_inc(n->st, STAT_TCP_CLOSED_OVERSIZE);
            proto_tcp_deliver(n, c, &fm, MSG_F_OVERSIZE);
            c->state = NETD_CONN_DRAIN;
            c->deadline_ms = ev_now_ms() + NETD_TCP_DRAIN_MS;
            proto_tcp_events(n, c);
            return 0;
        case NETD_FR_ENDLESS:
            proto_tcp_refuse(n, c, STAT_TCP_CLOSED_OVERSIZE,
                             "header block longer than tcp_max_size");
            return -1;
        default:
            proto_tcp_refuse(n, c, STAT_TCP_CLOSED_BAD,
                             "cannot frame: no or bad Content-Length");
            return -1;
        }
    }
    netd_frame_compact(&c->fr);
    if (netd_frame_pending(&c->fr) == 0)
        c->msg_ms = 0;
    else if (got || c->msg_ms == 0)
        c->msg_ms = ev_now_ms();
    return 0;
}

/* proto_tcp_rbuf - room to read into; 0, or -1 (full, or ENOMEM) */
static int proto_tcp_rbuf(struct netd_conn *c)
{
    struct netd_frame *f = &c->fr;
    size_t limit = proto_tcp_g.max + 4;
    size_t cap;
    char *b;

    if (f->len < f->cap)
        return 0;
    if (f->cap >= limit)
        return -1;
    cap = f->cap ? f->cap * 2 : NETD_TCP_RBUF_MIN;
    if (cap > limit)
        cap = limit;
    if ((b = realloc(f->buf, cap)) == NULL)
        return -1;
    f->buf = b;
    f->cap = cap;
    return 0;
}

/*
 * proto_tcp_read - EPOLLIN: read, frame, deliver. Past NETD_TCP_READS
 *      rounds only what the transport already holds is read (TLS data
 *      decrypted with the last record: epoll would not report it).
 */
static void proto_tcp_read(struct netd *n, struct netd_conn *c)
{
    const struct proto_tcp_io *io = proto_tcp_g.io;
    struct netd_frame *f = &c->fr;
    char name[128];
    int i, eof = 0;
    ssize_t r;

    for (i = 0; (i < NETD_TCP_READS || io->pending(c) > 0)
                && proto_tcp_rbuf(c) == 0;
         i++) {
        r = io->read(c, f->buf + f->len, f->cap - f->len);
        if (r > 0) {
            f->len += (size_t)r;
            if (proto_tcp_frames(n, c) < 0)
                goto out;
            continue;
        }
        if (r == 0)
            eof = 1;
        else if (errno == EINTR)
            continue;
        else if (errno != EAGAIN && errno != EWOULDBLOCK) {
            log_info_rl("%s: read: %s: closed",
                        proto_tcp_name(c, name, sizeof(name)),
                        strerror(errno));
            proto_tcp_close(n, c, STAT_TCP_CLOSED_ERROR);
            goto out;
        }
        break;
    }
    if (eof) {
        log_debug("%s: closed by the peer",
                  proto_tcp_name(c, name, sizeof(name)));
        proto_tcp_close(n, c, STAT_TCP_CLOSED_BY_PEER);
    }
out:
    netd_commit(n);
}

static void proto_tcp_on_conn(struct ev *ev, struct ev_io *io, uint32_t e)
{
    struct netd_conn *c = io->arg;
    struct netd *n = proto_tcp_g.n;

    (void)ev;
    if (c->state == NETD_CONN_CONNECTING) {
        if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            proto_tcp_connected(n, c);
        return;
    }
    if (c->state == NETD_CONN_HANDSHAKE) {
        proto_tcp_g.io->handshake(n, c, e);
        return;
    }
    if ((e & EPOLLOUT) && proto_tcp_flush_wq(n, c) < 0)
        return;
    if (c->state == NETD_CONN_OPEN && (e & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        proto_tcp_read(n, c);
    else if (c->state == NETD_CONN_DRAIN && (e & (EPOLLHUP | EPOLLERR)))
        proto_tcp_close(n, c, -1);
}

/*
 * proto_tcp_start - a new connection (accepted, or its connect done)
 *      starts: the transport's handshake if it has one. 0 when c may
 *      carry messages now, 1 while a handshake runs, -1 when c was
 *      closed (the handshake could not start).
 */
int proto_tcp_start(struct netd *n, struct netd_conn *c)
{
    const struct proto_tcp_io *io = proto_tcp_g.io;
    int r = io->start != NULL ? io->start(n, c) : 0;

    if (r < 0) {
        proto_tcp_close(n, c, STAT_TLS_HANDSHAKE_FAILED);
        return -1;
    }
    c->state = r > 0 ? NETD_CONN_HANDSHAKE : NETD_CONN_OPEN;
    proto_tcp_events(n, c);
    return r;
}

int proto_tcp_ready(struct netd *n, struct netd_conn *c)
{
    c->state = NETD_CONN_OPEN;
    c->last_ms = ev_now_ms();           /* its lifetime starts now */
    if (proto_tcp_flush_wq(n, c) < 0)   /* what waited; events set */
        return -1;
    if (c->state == NETD_CONN_OPEN && proto_tcp_g.io->pending(c) > 0)
        proto_tcp_read(n, c);
    return 0;
}

/* -------------------------------------------------------------------
 * Accepting
 */

/* proto_tcp_emfile - out of descriptors: shed one connection attempt */
static void proto_tcp_emfile(struct netd_sock *sk)
{
    struct proto_tcp *t = &proto_tcp_g;
    int fd;

    log_warn_rl("listen %d: accept: %s: a connection refused", sk->idx,
                strerror(errno));
    stats_inc(t->n->st, STAT_TCP_REFUSED);
    if (t->spare_fd < 0)
        return;
    close(t->spare_fd);
    if ((fd = accept(sk->fd, NULL, NULL)) >= 0)
        close(fd);
    t->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/*
 * proto_tcp_admit - may a connection from peer, accepted on listen
 *      socket idx, stay? 1, or 0 (counted and logged: the caller closes
 *      it). Inbound connections leave the last slots to outgoing ones,
 *      and one source IP gets at most tcp_max_connections_per_ip.
 */
static int proto_tcp_admit(struct netd *n, int idx,
                           const struct msg_addr *peer)
{
    struct proto_tcp *t = &proto_tcp_g;
    char name[80], ip[INET6_ADDRSTRLEN];
    uint32_t held;

    if (n->conns.count >= t->max_in) {
        stats_inc(n->st, STAT_TCP_REFUSED);
        log_warn_rl("listen %d: %u connections open, the last %u slots "
                    "kept for outgoing ones (tcp_max_connections): %s "
                    "refused", idx, n->conns.count, t->max_conns - t->max_in,
                    netd_addr_fmt(peer, name, sizeof(name)));
        return 0;
    }
    if ((held = netd_conn_ip_count(&n->conns, peer)) >= t->max_per_ip) {
        stats_inc(n->st, STAT_TCP_REFUSED);
        stats_inc(n->st, STAT_TCP_REFUSED_PER_IP);
        if (inet_ntop(peer->family, peer->ip, ip, sizeof(ip)) == NULL)
            snprintf(ip, sizeof(ip), "?");
        log_warn_rl("listen %d: %s holds %u connections "
                    "(tcp_max_connections_per_ip): %s refused", idx, ip,
                    held, netd_addr_fmt(peer, name, sizeof(name)));
        return 0;
    }
    return 1;
}

static void proto_tcp_on_accept(struct ev *ev, struct ev_io *io, uint32_t e)
{
    struct netd_sock *sk = io->arg;
    struct netd *n = sk->netd;
    struct sockaddr_storage ss;
    struct msg_addr peer;
    struct netd_conn *c;
    socklen_t len;
    char name[128];
    int i, fd;

    (void)ev;
    (void)e;
    for (i = 0; i < NETD_TCP_ACCEPTS; i++) {
        len = sizeof(ss);
        fd = accept4(sk->fd, (struct sockaddr *)&ss, &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
            continue;
        if (fd < 0 && (errno == EMFILE || errno == ENFILE))
            proto_tcp_emfile(sk);
        else if (fd < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            log_warn_rl("listen %d: accept: %s", sk->idx, strerror(errno));
        if (fd < 0)
            return;
        netd_addr_from_sa(&peer, &ss);
        if (!proto_tcp_admit(n, sk->idx, &peer)) {
            close(fd);
            continue;
        }
        if ((c = proto_tcp_add(n, fd, sk->idx, &peer, NETD_CONN_OPEN))
            == NULL)
            continue;
        if (netd_conn_ip_hold(&n->conns, c) < 0) {
            log_warn_rl("%s: per-IP count: out of memory: closed",
                        proto_tcp_name(c, name, sizeof(name)));
            proto_tcp_close(n, c, STAT_TCP_CLOSED_ERROR);
            continue;
        }
        stats_inc(n->st, STAT_TCP_ACCEPTED);
        log_debug("%s: accepted on listen %d",
                  proto_tcp_name(c, name, sizeof(name)), sk->idx);
        (void)proto_tcp_start(n, c);
    }
}

/* -------------------------------------------------------------------
 * The transport interface
 */

/*
 * proto_tcp_reserve - slots of tcp_max_connections that inbound
 *      connections may not take: 1/16, rounded up (1 from 2 slots on;
 *      none with a single slot, which would leave no inbound at all).
 */
static uint32_t proto_tcp_reserve(uint32_t max_conns)
{
    if (max_conns < 2)
        return 0;
    return (max_conns + NETD_TCP_RESERVE_DIV - 1) / NETD_TCP_RESERVE_DIV;
}

/*
 * proto_tcp_init_io - the transport's init: limits from [net], every
 *      listen socket of io->proto watched. 0 or -errno.
 */
int proto_tcp_init_io(struct netd *n, const struct proto_tcp_io *io)
{
    struct proto_tcp *t = &proto_tcp_g;
    const struct cfg *cfg = &n->srv->cfg;

    memset(t, 0, sizeof(*t));
    t->n = n;
    t->io = io;
    t->max = (size_t)cfg->tcp_max_size;
    t->wq_max = NETD_TCP_WQ_FACTOR * t->max;
    t->lifetime_ms = (int64_t)cfg->tcp_lifetime * 1000;
    t->msg_ms = (int64_t)(cfg->tcp_lifetime < NETD_TCP_MSG_S
                              ? cfg->tcp_lifetime : NETD_TCP_MSG_S) * 1000;
    t->max_conns = (uint32_t)cfg->tcp_max_connections;
    t->max_in = t->max_conns - proto_tcp_reserve(t->max_conns);
    t->max_per_ip = (uint32_t)cfg->tcp_max_connections_per_ip;
    t->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return netd_socks_watch(n, io->proto, proto_tcp_on_accept);
}

void proto_tcp_send(struct netd *n, const struct msg_sip *m)
{
    int proto = proto_tcp_g.io->proto;
    struct netd_conn *c = NULL;
    struct msg_addr to = m->peer;
    uint32_t why = 0;
    char a[80];
    int r;

    /* A draining connection still takes writes: a 513 for the
     * message that made it drain is what it waits for. */
    if (m->conn_id != 0)
        c = netd_conn_by_id(&n->conns, m->conn_id);
    if (c != NULL && c->proto != proto)
        c = NULL;                       /* never TLS bytes over TCP */
    if (c == NULL)
        c = netd_conn_by_addr(&n->conns, proto, &m->peer);
    if (c == NULL && m->conn_id != 0) {
        /* Its connection is gone: not back to that connection's
         * (ephemeral) source port, but RFC 3261 18.2.2. Rare: a
         * client closed before its response. */
        netd_sent_by(m, &to);
        c = netd_conn_by_addr(&n->conns, proto, &to);
    }
    if (c == NULL
        && (c = proto_tcp_connect(n, m, &to, &why)) == NULL) {
        stats_inc(n->st, STAT_TCP_SND_DROPS);
        if (why != 0 && proto_tcp_back_one(n, m, why))
            return;                     /* sipd tries the next target */
        stats_inc(n->st, STAT_NET_SEND_FAILED);
        log_warn_rl("%s: no connection to %s: message of %u bytes "
                    "dropped", proto_tcp_g.io->name,
                    netd_addr_fmt(&to, a, sizeof(a)), m->len);
        return;
    }
    c->last_ms = ev_now_ms();           /* a SIP message: still in use */
    if ((r = proto_tcp_write(n, c, m->data, m->len)) > 0) {
        stats_inc(n->st, STAT_TCP_SND_MSGS);
        proto_tcp_fwd_count(n, m->flags);
    } else if (r == 0) {
        c->wq_msgs++;                   /* counted when written */
        c->wq_fwd[0] += !!(m->flags & MSG_F_FWD_REQUEST);
        c->wq_fwd[1] += !!(m->flags & MSG_F_FWD_REPLY);
        if (c->back != NULL)            /* nothing written yet */
            proto_tcp_back_add(n, c, m);
    } else {
        stats_inc(n->st, STAT_TCP_SND_DROPS);
        if (r != -2 || !proto_tcp_back_one(n, m, MSG_FAIL_RESET))
            stats_inc(n->st, STAT_NET_SEND_FAILED);
    }
}

/*
 * proto_tcp_flush - every send went out at once; what send handed back
 *      to sipd (a destination held down, a connect refused at once, a
 *      write that failed) is published now, not at netd's next received
 *      message.
 */
void proto_tcp_flush(struct netd *n)
{
    netd_commit(n);
}

/* proto_tcp_expire - c's deadlines at now; -1 when c was closed */
static void proto_tcp_expire(struct netd *n, struct netd_conn *c,
                             int64_t now)
{
    struct proto_tcp *t = &proto_tcp_g;
    char name[128];

    proto_tcp_name(c, name, sizeof(name));
    if (c->state == NETD_CONN_CONNECTING && now >= c->deadline_ms) {
        log_warn_rl("%s: connect: timed out after %d ms: %u requests "
                    "handed back to sipd, %u messages (%zu bytes) queued "
                    "dropped", name, NETD_TCP_CONNECT_MS, c->nback,
                    c->wq_msgs - c->nback, c->wlen - c->woff);
        proto_tcp_fail_out(n, c, MSG_FAIL_TIMEOUT, STAT_TCP_CONNECT_FAILED);
    } else if (c->state == NETD_CONN_HANDSHAKE && now >= c->deadline_ms) {
        log_warn_rl("%s: handshake not complete after %d ms "
                    "(handshake_timeout_ms): closed", name,
                    n->srv->cfg.tls_handshake_timeout_ms);
        if (c->outgoing)
            proto_tcp_fail_out(n, c, MSG_FAIL_TIMEOUT,
                               STAT_TLS_HANDSHAKE_TIMEOUTS);
        else
            proto_tcp_close(n, c, STAT_TLS_HANDSHAKE_TIMEOUTS);
    } else if (c->state == NETD_CONN_DRAIN && now >= c->deadline_ms) {
        proto_tcp_close(n, c, -1);
    } else if (c->state == NETD_CONN_OPEN && c->msg_ms != 0
               && now - c->msg_ms >= t->msg_ms) {
        log_warn_rl("%s: partial message (%zu bytes) not complete after "
                    "%lld s (slow sender): closed", name,
                    netd_frame_pending(&c->fr),
                    (long long)(t->msg_ms / 1000));
        proto_tcp_close(n, c, STAT_TCP_CLOSED_SLOW);
    } else if (c->state == NETD_CONN_OPEN && c->msg_ms == 0
               && now - c->last_ms >= t->lifetime_ms) {
        log_info_rl("%s: no SIP message for %d s (tcp_lifetime; "
                    "keep-alives do not count): closed", name,
                    n->srv->cfg.tcp_lifetime);
        proto_tcp_close(n, c, STAT_TCP_CLOSED_IDLE);
    }
}

/* proto_tcp_tick - the deadlines of this transport's connections */
void proto_tcp_tick(struct netd *n, int64_t now)
{
    uint32_t i;
    struct netd_conn *c;

    for (i = 0; i < n->conns.nslot; i++)
        if ((c = netd_conn_at(&n->conns, i)) != NULL
            && c->proto == proto_tcp_g.io->proto)
            proto_tcp_expire(n, c, now);
}

/* proto_tcp_fini - close this transport's connections (TLS: cleanly) */
void proto_tcp_fini(struct netd *n)
{
    struct proto_tcp *t = &proto_tcp_g;
    struct netd_conn *c;
    uint32_t i;

    for (i = 0; i < n->conns.nslot; i++)
        if ((c = netd_conn_at(&n->conns, i)) != NULL
            && c->proto == t->io->proto)
            proto_tcp_close(n, c, -1);
    if (t->spare_fd >= 0)
        close(t->spare_fd);
    t->spare_fd = -1;
}
