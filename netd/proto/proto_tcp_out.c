/*
 * SUMMARY
 *    proto_tcp_out - the TCP transport's outgoing side
 * DESCRIPTION
 *    What sipd asks netd to send over TCP: the bounded write queue of a
 *    connection, asynchronous connects (bound to the listen socket's IP),
 *    a short hold-down of destinations whose connect failed, and handing
 *    requests that never left back to the sipd they came from
 *    (MSG_F_SEND_FAILED) so it can fail over. Split from proto_tcp.c,
 *    which keeps accepting, reading, framing and the timers.
 * PROTOCOL
 *    netd -> sipd[i]: MSG_T_SIP_IN with MSG_F_SEND_FAILED (netd_io.c).
 * DIAGNOSTICS
 *    Failed connects and full write queues are counted and logged,
 *    rate-limited, naming the connection and the destination.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto_tcp.h"
#include "../netd_frame.h"
#include "../netd_proto.h"
#include "log.h"

/* proto_tcp_reason - MSG_FAIL_* for a connect's errno */
static uint32_t proto_tcp_reason(int err)
{
    switch (err) {
    case ECONNREFUSED:
        return MSG_FAIL_REFUSED;
    case ETIMEDOUT:
        return MSG_FAIL_TIMEOUT;
    case ECONNRESET:
    case EPIPE:
        return MSG_FAIL_RESET;
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
        return MSG_FAIL_UNREACH;
    default:
        return MSG_FAIL_OTHER;
    }
}

/*
 * proto_tcp_back_one - hand request m, not written, back to the sipd it
 *      came from (netd_send_failed()); 1 when handed back, 0 when it is
 *      not a forwarded request (the caller drops it as before).
 */
int proto_tcp_back_one(struct netd *n, const struct msg_sip *m,
                              uint32_t reason)
{
    if (!(m->flags & MSG_F_FWD_REQUEST))
        return 0;
    if (netd_send_failed(n, n->from_ring, m, m->data, m->len, reason) < 0)
        log_warn_rl("%s: sipd ring full: failed request not handed back",
                    proto_tcp_g.io->name);
    return 1;
}

/*
 * proto_tcp_back_all - c failed before a byte of its queue was written:
 *      hand every request recorded in c->back back to its sipd. They
 *      leave the queue's count (they are not dropped: sipd tries the
 *      next target); the rest is dropped by proto_tcp_close().
 */
void proto_tcp_back_all(struct netd *n, struct netd_conn *c,
                               uint32_t reason)
{
    struct msg_sip hdr;
    uint32_t i, ok = 0;

    for (i = 0; c->back != NULL && i < c->nback; i++) {
        const struct netd_conn_back *b = &c->back[i];

        if ((size_t)b->off + b->len > c->wlen)
            continue;                   /* cannot happen: woff is 0 */
        memset(&hdr, 0, sizeof(hdr));
        hdr.proto = (uint8_t)proto_tcp_g.io->proto;
        hdr.flags = b->flags;
        hdr.sock = b->sock;
        hdr.hash = b->hash;
        hdr.peer = c->peer;
        hdr.fail = b->fail;
        if (netd_send_failed(n, b->ring, &hdr, c->wbuf + b->off, b->len,
                             reason) == 0)
            ok++;
        c->wq_msgs--;                   /* never left: counted here */
        c->wq_fwd[0]--;
        stats_inc(n->st, STAT_TCP_SND_DROPS);
    }
    if (i > ok)
        log_warn_rl("conn %llu: sipd ring full: %u failed requests not "
                    "handed back", (unsigned long long)c->id, i - ok);
    netd_commit(n);
    free(c->back);
    c->back = NULL;
    c->nback = 0;
}

/* proto_tcp_back_add - remember request m, queued while c connects */
void proto_tcp_back_add(struct netd *n, struct netd_conn *c,
                               const struct msg_sip *m)
{
    struct netd_conn_back *b;

    if (c->back == NULL || c->nback >= NETD_CONN_BACK_N
        || !(m->flags & MSG_F_FWD_REQUEST) || c->wlen < m->len)
        return;
    b = &c->back[c->nback++];
    b->off = (uint32_t)(c->wlen - m->len);
    b->len = m->len;
    b->hash = m->hash;
    b->fail = m->fail;
    b->sock = m->sock;
    b->ring = (uint16_t)n->from_ring;
    b->flags = m->flags;
}

/* proto_tcp_fwd_count - core:fwd_* for a message written (flags) */
void proto_tcp_fwd_count(struct netd *n, uint8_t flags)
{
    if (flags & MSG_F_FWD_REQUEST)
        stats_inc(n->st, STAT_CORE_FWD_REQUESTS);
    else if (flags & MSG_F_FWD_REPLY)
        stats_inc(n->st, STAT_CORE_FWD_REPLIES);
}

/* -------------------------------------------------------------------
 * Writing
 */

/* proto_tcp_wq_room - room for len more bytes in c's queue; 0 or -1 */
static int proto_tcp_wq_room(struct netd_conn *c, size_t len)
{
    size_t cap = c->wcap ? c->wcap : NETD_TCP_WBUF_MIN;
    char *b;

    if (c->woff > 0) {
        memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
        c->wlen -= c->woff;
        c->woff = 0;
    }
    while (cap < c->wlen + len)
        cap *= 2;
    if (cap == c->wcap)
        return 0;
    if ((b = realloc(c->wbuf, cap)) == NULL)
        return -1;
    c->wbuf = b;
    c->wcap = cap;
    return 0;
}

/*
 * proto_tcp_write - send or queue len bytes: 1 when all of it went to
 *      the kernel now, 0 when (some of it) is queued, -1 when c closed
 *      (-2: closed by a send error before any of these bytes was sent).
 *      Does not touch c->last_ms: only SIP messages do (the caller).
 */
int proto_tcp_write(struct netd *n, struct netd_conn *c,
                           const char *data, size_t len)
{
    struct proto_tcp *t = &proto_tcp_g;
    char name[128];
    ssize_t w;

    if (c->state != NETD_CONN_CONNECTING && c->state != NETD_CONN_HANDSHAKE
        && c->woff == c->wlen) {
        w = t->io->write(c, data, len);
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK
            && errno != EINTR) {
            log_warn_rl("%s: send: %s: closed",
                        proto_tcp_name(c, name, sizeof(name)),
                        strerror(errno));
            proto_tcp_close(n, c, STAT_TCP_CLOSED_ERROR);
            return -2;
        }
        w = w < 0 ? 0 : w;
        if (w > 0 && c->back != NULL) { /* written: no hand-back now */
            free(c->back);
            c->back = NULL;
            c->nback = 0;
        }
        data += w;
        len -= (size_t)w;
        if (len == 0 && c->state == NETD_CONN_DRAIN)
            proto_tcp_close(n, c, -1);  /* its last words are out */
        if (len == 0)
            return 1;
    }
    if (c->wlen - c->woff + len > t->wq_max
        || proto_tcp_wq_room(c, len) < 0) {
        log_warn_rl("%s: write queue full (%zu bytes queued, bound %zu): "
                    "peer does not read: closed",
                    proto_tcp_name(c, name, sizeof(name)),
                    c->wlen - c->woff, t->wq_max);
        proto_tcp_close(n, c, STAT_TCP_WQ_DROPS);
        return -1;
    }
    memcpy(c->wbuf + c->wlen, data, len);
    c->wlen += len;
    proto_tcp_events(n, c);
    return 0;
}

/* proto_tcp_flush_wq - EPOLLOUT: send what is queued; -1 if closed */
int proto_tcp_flush_wq(struct netd *n, struct netd_conn *c)
{
    char name[128];
    ssize_t w;

    while (c->woff < c->wlen) {
        w = proto_tcp_g.io->write(c, c->wbuf + c->woff, c->wlen - c->woff);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            log_warn_rl("%s: send: %s: closed",
                        proto_tcp_name(c, name, sizeof(name)),
                        strerror(errno));
            if (c->back != NULL && c->woff == 0)    /* reset before */
                proto_tcp_back_all(n, c, proto_tcp_reason(errno));
            proto_tcp_close(n, c, STAT_TCP_CLOSED_ERROR);
            return -1;
        }
        c->woff += (size_t)w;
        if (c->back != NULL) {          /* written: no hand-back now */
            free(c->back);
            c->back = NULL;
            c->nback = 0;
        }
    }
    if (c->woff == c->wlen) {
        c->woff = c->wlen = 0;
        stats_add(n->st, STAT_TCP_SND_MSGS, c->wq_msgs);
        stats_add(n->st, STAT_CORE_FWD_REQUESTS, c->wq_fwd[0]);
        stats_add(n->st, STAT_CORE_FWD_REPLIES, c->wq_fwd[1]);
        c->wq_msgs = 0;
        c->wq_fwd[0] = c->wq_fwd[1] = 0;
        if (c->wcap > 16 * NETD_TCP_WBUF_MIN) {   /* a burst is over */
            free(c->wbuf);
            c->wbuf = NULL;
            c->wcap = 0;
        }
        if (c->state == NETD_CONN_DRAIN) {
            proto_tcp_close(n, c, -1);
            return -1;
        }
    }
    proto_tcp_events(n, c);
    return 0;
}

/* -------------------------------------------------------------------
 * Connecting
 */

/* proto_tcp_bind_src - bind fd to listen socket sock's IP, port 0 */
static void proto_tcp_bind_src(struct netd *n, int fd, int sock, int family)
{
    const struct cfg_listen *l = &n->srv->cfg.listen[sock];
    struct sockaddr_storage ss = l->addr;
    static const unsigned char any6[16];

    if (l->addr.ss_family != family)
        return;
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;

        if (in->sin_addr.s_addr == htonl(INADDR_ANY))
            return;
        in->sin_port = 0;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

        if (memcmp(&in6->sin6_addr, any6, 16) == 0)
            return;
        in6->sin6_port = 0;
    }
    if (bind(fd, (struct sockaddr *)&ss, l->addrlen) < 0)
        log_warn_rl("listen %d: bind source %s: %s", sock, l->host,
                    strerror(errno));
}

/* proto_tcp_hold_slot - where destination a is remembered */
static struct proto_tcp_hold *proto_tcp_hold_slot(const struct msg_addr *a)
{
    return &proto_tcp_g.hold[netd_addr_hash(a, 1) % NETD_TCP_HOLD_N];
}

/* proto_tcp_hold_add - a connect to a failed: hold it down a while */
void proto_tcp_hold_add(const struct msg_addr *a)
{
    struct proto_tcp_hold *h = proto_tcp_hold_slot(a);

    h->a = *a;
    h->until_ms = ev_now_ms() + NETD_TCP_HOLD_MS;
}

/* proto_tcp_held - true while a connect to a failed lately */
static int proto_tcp_held(const struct msg_addr *a)
{
    const struct proto_tcp_hold *h = proto_tcp_hold_slot(a);

    return h->until_ms != 0 && ev_now_ms() < h->until_ms
           && netd_addr_eq(&h->a, a);
}

/*
 * proto_tcp_connect - a new connection to *to from listen socket sock;
 *      NULL when none is possible (counted and logged here), with *why
 *      MSG_FAIL_* when the destination is to blame (refused now or held
 *      down), else 0.
 */
struct netd_conn *proto_tcp_connect(struct netd *n,
                                    const struct msg_sip *m,
                                    const struct msg_addr *to,
                                    uint32_t *why)
{
    struct proto_tcp *t = &proto_tcp_g;
    struct sockaddr_storage ss;
    socklen_t len = netd_addr_to_sa(to, &ss);
    struct netd_conn *c;
    int sock = m->sock;
    char a[80];
    int fd, r;

    *why = 0;
    if (len == 0)
        return NULL;
    if (proto_tcp_held(to)) {
        log_info_rl("%s: connect to %s failed less than %d ms ago: "
                    "not retried yet", t->io->name,
                    netd_addr_fmt(to, a, sizeof(a)), NETD_TCP_HOLD_MS);
        *why = MSG_FAIL_REFUSED;
        return NULL;
    }
    if (n->conns.count >= t->max_conns) {
        stats_inc(n->st, STAT_TCP_REFUSED);
        log_warn_rl("%s: %u connections open (tcp_max_connections): "
                    "no new connection to %s", t->io->name, n->conns.count,
                    netd_addr_fmt(to, a, sizeof(a)));
        return NULL;
    }
    fd = socket(to->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_warn_rl("tcp: socket for %s: %s",
                    netd_addr_fmt(to, a, sizeof(a)), strerror(errno));
        return NULL;
    }
    proto_tcp_bind_src(n, fd, sock, to->family);
    r = connect(fd, (struct sockaddr *)&ss, len);
    if (r < 0 && errno != EINPROGRESS) {
        stats_inc(n->st, STAT_TCP_CONNECT_FAILED);
        log_warn_rl("tcp: connect to %s: %s",
                    netd_addr_fmt(to, a, sizeof(a)), strerror(errno));
        *why = proto_tcp_reason(errno);
        close(fd);
        proto_tcp_hold_add(to);
        return NULL;
    }
    /* Connected at once (loopback) or not: EPOLLOUT reports it, and
     * proto_tcp_connected() starts the transport's handshake. */
    c = proto_tcp_add(n, fd, sock, to, NETD_CONN_CONNECTING);
    if (c == NULL)
        return NULL;
    c->outgoing = 1;
    c->deadline_ms = c->last_ms + NETD_TCP_CONNECT_MS;
    /* NULL: nothing handed back */
    c->back = calloc(NETD_CONN_BACK_N, sizeof(*c->back));
    if (t->io->dial != NULL && t->io->dial(n, c, m) < 0) {
        proto_tcp_close(n, c, STAT_TCP_CLOSED_ERROR);
        return NULL;
    }
    log_debug("%s: connecting from listen %d", proto_tcp_name(c, a,
              sizeof(a)), sock);
    return c;
}

void proto_tcp_fail_out(struct netd *n, struct netd_conn *c,
                        uint32_t reason, int stat)
{
    proto_tcp_back_all(n, c, reason);
    proto_tcp_hold_add(&c->peer);
    proto_tcp_close(n, c, stat);
}

/* proto_tcp_connected - EPOLLOUT on a connecting socket */
void proto_tcp_connected(struct netd *n, struct netd_conn *c)
{
    char name[128];
    socklen_t len = sizeof(int);
    int err = 0;

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err != 0) {
        log_warn_rl("%s: connect: %s: %u requests handed back to sipd, "
                    "%u messages (%zu bytes) queued dropped",
                    proto_tcp_name(c, name, sizeof(name)), strerror(err),
                    c->nback, c->wq_msgs - c->nback, c->wlen - c->woff);
        proto_tcp_fail_out(n, c, proto_tcp_reason(err),
                           STAT_TCP_CONNECT_FAILED);
        return;
    }
    stats_inc(n->st, STAT_TCP_CONNECTED);
    c->last_ms = ev_now_ms();           /* its lifetime starts now */
    if (proto_tcp_g.io->start == NULL) {
        (void)proto_tcp_ready(n, c);
        return;
    }
    if (proto_tcp_g.io->start(n, c) < 0) {  /* handshake cannot start */
        proto_tcp_fail_out(n, c, MSG_FAIL_OTHER, STAT_TLS_HANDSHAKE_FAILED);
        return;
    }
    c->state = NETD_CONN_HANDSHAKE;
    proto_tcp_events(n, c);
}

/* -------------------------------------------------------------------
 * Reading and framing
 */
