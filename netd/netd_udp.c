/*
 * SUMMARY
 *	netd_udp - UDP receive and send, batched
 * DESCRIPTION
 *	Receive: a readable socket is drained with recvmmsg, NETD_BATCH
 *	datagrams at a time, at most NETD_RECV_ROUNDS batches per turn so
 *	one busy socket cannot starve the others or the send side. Each
 *	datagram is copied once, into the ring of the sipd its Call-ID
 *	hashes to; the rings touched are committed once per batch (one
 *	eventfd write at most per ring and batch, none while sipd is busy).
 *
 *	Send: records are sent straight from ring memory (no copy) with
 *	sendmmsg, consecutive records for the same socket in one call, and
 *	released after the call.
 *
 *	Datagrams shorter than [net] udp_min_size are dropped (counted).
 *	Call-ID lookup is the parser's light peek, not a parse: sipd parses.
 * PROTOCOL
 *	netd -> sipd[i]: MSG_T_SIP_IN; sipd[i] -> netd: MSG_T_SIP_OUT.
 * DIAGNOSTICS
 *	Receive errors other than EAGAIN, send errors, full rings: counted
 *	and logged with rate limits, never fatal.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "netd.h"
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

/* netd_udp_push - one datagram into its sipd ring; 0 or -ENOSPC */
static int netd_udp_push(struct netd *n, struct netd_sock *sk,
                         const char *data, size_t len,
                         const struct sockaddr_storage *from)
{
    uint32_t h = netd_hash_callid(data, len);
    int i = (int)(h % (uint32_t)n->nsipd);
    struct msg_sip *m;

    m = ring_reserve(&n->to_sipd[i], MSG_T_SIP_IN,
                     (uint32_t)(sizeof(*m) + len));
    if (m == NULL)
        return -ENOSPC;
    memset(m, 0, sizeof(*m));
    m->proto = MSG_PROTO_UDP;
    m->sock = (uint16_t)sk->idx;
    m->hash = h;
    netd_addr_from_sa(&m->peer, from);
    m->len = (uint32_t)len;
    memcpy(m->data, data, len);
    n->dirty |= 1u << i;
    return 0;
}

static void netd_udp_commit(struct netd *n)
{
    int i;

    for (i = 0; n->dirty != 0 && i < n->nsipd; i++)
        if (n->dirty & (1u << i)) {
            ring_commit(&n->to_sipd[i]);
            n->dirty &= ~(1u << i);
        }
}

static void netd_udp_batch(struct netd *n, struct netd_sock *sk,
                           struct mmsghdr *mm, int cnt)
{
    int i;

    for (i = 0; i < cnt; i++) {
        size_t len = mm[i].msg_len;

        stats_inc(n->st, STAT_NET_UDP_RCV);
        if ((mm[i].msg_hdr.msg_flags & MSG_TRUNC) || len == 0
            || len < (size_t)n->srv->cfg.udp_min_size) {
            stats_inc(n->st, STAT_NET_UDP_TOO_SMALL);
            continue;
        }
        if (netd_udp_push(n, sk, n->rbuf[i], len, &n->raddr[i]) < 0) {
            stats_inc(n->st, STAT_NET_RING_FULL);
            log_warn_rl("udp %d: sipd ring full: datagram dropped",
                        sk->idx);
        }
    }
    netd_udp_commit(n);
}

static void netd_udp_on_read(struct ev *ev, struct ev_io *io, uint32_t e)
{
    struct netd_sock *sk = io->arg;
    struct netd *n = sk->netd;
    struct mmsghdr mm[NETD_BATCH];
    struct iovec iov[NETD_BATCH];
    int i, r, cnt;

    (void)ev;
    (void)e;
    for (r = 0; r < NETD_RECV_ROUNDS; r++) {
        memset(mm, 0, sizeof(mm));
        for (i = 0; i < NETD_BATCH; i++) {
            iov[i].iov_base = n->rbuf[i];
            iov[i].iov_len = NETD_DGRAM_MAX;
            mm[i].msg_hdr.msg_iov = &iov[i];
            mm[i].msg_hdr.msg_iovlen = 1;
            mm[i].msg_hdr.msg_name = &n->raddr[i];
            mm[i].msg_hdr.msg_namelen = sizeof(n->raddr[i]);
        }
        cnt = recvmmsg(sk->fd, mm, NETD_BATCH, MSG_DONTWAIT, NULL);
        if (cnt < 0) {
            if (errno != EAGAIN && errno != EINTR)
                log_warn_rl("udp %d: recvmmsg: %s", sk->idx,
                            strerror(errno));
            return;
        }
        netd_udp_batch(n, sk, mm, cnt);
        if (cnt < NETD_BATCH)
            return;
    }
}

int netd_udp_init(struct netd *n)
{
    struct srv *s = n->srv;
    int i, err;

    n->rbuf = malloc(sizeof(*n->rbuf) * NETD_BATCH);
    if (n->rbuf == NULL)
        return -ENOMEM;
    for (i = 0; i < s->shm.hdr->nlisten && i < CFG_MAX_LISTEN; i++) {
        struct netd_sock *sk = &n->socks[i];

        sk->fd = s->shm.hdr->listen_fd[i];
        sk->idx = i;
        sk->proto = s->cfg.listen[i].proto;
        sk->netd = n;
        n->nsocks = i + 1;
        if (sk->proto != CFG_PROTO_UDP)
            continue;                   /* TCP: not built yet */
        sk->io.fd = sk->fd;
        sk->io.fn = netd_udp_on_read;
        sk->io.arg = sk;
        if ((err = ev_add(&s->ev, &sk->io, EPOLLIN)) < 0) {
            log_error("listen %d (fd %d): epoll: %s", i, sk->fd,
                      strerror(-err));
            return err;
        }
    }
    return 0;
}

void netd_udp_fini(struct netd *n)
{
    free(n->rbuf);
    n->rbuf = NULL;
}

/* netd_udp_flush - sendmmsg what was gathered for one socket */
static void netd_udp_flush(struct netd *n, int fd, struct mmsghdr *mm,
                           int cnt)
{
    int done = 0, r;

    while (done < cnt) {
        r = sendmmsg(fd, mm + done, (unsigned)(cnt - done), MSG_DONTWAIT);
        if (r > 0) {
            stats_add(n->st, STAT_NET_UDP_SND, (uint64_t)r);
            done += r;
            continue;
        }
        /* The first datagram failed: count it, go on with the rest. */
        stats_inc(n->st, STAT_NET_UDP_SND_ERR);
        log_warn_rl("udp fd %d: sendmmsg: %s", fd,
                    r < 0 ? strerror(errno) : "nothing sent");
        done++;
    }
}

/* netd_udp_send_ring - one batch from one sipd; returns records taken */
static int netd_udp_send_ring(struct netd *n, struct ring *r)
{
    struct mmsghdr mm[NETD_BATCH];
    struct iovec iov[NETD_BATCH];
    struct sockaddr_storage to[NETD_BATCH];
    const struct ring_rec *rec;
    int cnt = 0, taken = 0, fd = -1;

    memset(mm, 0, sizeof(mm));
    while (cnt < NETD_BATCH && (rec = ring_pop(r)) != NULL) {
        const struct msg_sip *m = (const struct msg_sip *)rec->data;
        struct netd_sock *sk;

        taken++;
        if (rec->type != MSG_T_SIP_OUT || rec->len < sizeof(*m)
            || m->len > rec->len - sizeof(*m) || m->sock >= n->nsocks)
            continue;
        sk = &n->socks[m->sock];
        if (sk->proto != CFG_PROTO_UDP) {
            log_warn_rl("listen %d: tcp send: not implemented", m->sock);
            stats_inc(n->st, STAT_NET_UDP_SND_ERR);
            continue;
        }
        if (fd >= 0 && sk->fd != fd) {
            netd_udp_flush(n, fd, mm, cnt);
            cnt = 0;
        }
        fd = sk->fd;
        iov[cnt].iov_base = (void *)m->data;
        iov[cnt].iov_len = m->len;
        mm[cnt].msg_hdr.msg_iov = &iov[cnt];
        mm[cnt].msg_hdr.msg_iovlen = 1;
        mm[cnt].msg_hdr.msg_name = &to[cnt];
        mm[cnt].msg_hdr.msg_namelen = netd_addr_to_sa(&m->peer, &to[cnt]);
        cnt++;
    }
    if (cnt > 0)
        netd_udp_flush(n, fd, mm, cnt);
    if (taken > 0)
        ring_release(r);
    return taken;
}

int netd_udp_send_all(struct netd *n)
{
    int i, total = 0;

    for (i = 0; i < n->nsipd; i++)
        total += netd_udp_send_ring(n, &n->from_sipd[i]);
    return total;
}
