/*
 * SUMMARY
 *      proto_udp - the UDP transport library (build/lib/proto_udp.so)
 * DESCRIPTION
 *      Receive: a readable socket is drained with recvmmsg, NETD_BATCH
 *      datagrams at a time, at most NETD_RECV_ROUNDS batches per turn so
 *      one busy socket cannot starve the others or the send side. Each
 *      datagram is copied once, into the ring of its sipd
 *      (netd_to_sipd()); rings are published once per batch.
 *
 *      Send: records are sent straight from ring memory (no copy) with
 *      sendmmsg, consecutive records for the same socket in one call;
 *      netd releases them after flush.
 *
 *      Datagrams shorter than [net] udp_min_size are dropped (counted).
 *      Loaded by netd only when a listen line is udp (netd_proto.h).
 *
 *      Kernel drops: what the kernel threw away because a socket's
 *      receive buffer was full (netd or sipd stalled) is counted as
 *      net:udp_kernel_drops. Each socket has SO_RXQ_OVFL on, so every
 *      datagram received after a drop carries the socket's running total
 *      of drops (a cmsg, no extra syscall); the statistic grows by the
 *      difference to the last total seen on that socket. The total at
 *      start is read with SO_MEMINFO, so a restarted netd does not count
 *      again what its predecessor counted. Drops show once the socket
 *      receives again.
 *
 *      Receive buffer: mid sets SO_RCVBUF to [net] udp_maxbuffer, which
 *      the kernel caps at net.core.rmem_max. At init each socket is
 *      checked; when it got less, SO_RCVBUFFORCE is tried (needs
 *      CAP_NET_ADMIN), and what was obtained is logged.
 * PROTOCOL
 *      netd -> sipd[i]: MSG_T_SIP_IN; sipd[i] -> netd: MSG_T_SIP_OUT.
 * DIAGNOSTICS
 *      Receive errors other than EAGAIN, send errors, full rings: counted
 *      and logged with rate limits, never fatal. A receive buffer smaller
 *      than udp_maxbuffer is a warning at start, naming the socket.
 *      init fails (netd exits) when a socket cannot be registered or the
 *      buffers allocated.
 */
#include <errno.h>
#include <linux/sock_diag.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../netd.h"
#include "../netd_proto.h"
#include "log.h"

/* The library's state: one netd, one reactor thread. */
struct proto_udp {
    char (*rbuf)[NETD_DGRAM_MAX + 1];   /* receive batch, reused */
    struct sockaddr_storage raddr[NETD_BATCH];
    union {                             /* SO_RXQ_OVFL: drops so far */
        char buf[CMSG_SPACE(sizeof(uint32_t))];
        struct cmsghdr align;
    } rctl[NETD_BATCH];
    uint32_t drops[CFG_MAX_LISTEN];     /* last running total seen */
    /* send batch: records for one fd, gathered until flush */
    struct mmsghdr mm[NETD_BATCH];
    struct iovec iov[NETD_BATCH];
    struct sockaddr_storage to[NETD_BATCH];
    int cnt;
    int fd;
};

static struct proto_udp proto_udp_g;

/* proto_udp_drops - the kernel's drop total in one datagram's cmsg;
 * 1 when it carries one */
static int proto_udp_drops(struct msghdr *h, uint32_t *total)
{
    struct cmsghdr *cm;

    for (cm = CMSG_FIRSTHDR(h); cm != NULL; cm = CMSG_NXTHDR(h, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL
            && cm->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
            memcpy(total, CMSG_DATA(cm), sizeof(*total));
            return 1;
        }
    return 0;
}

/*
 * proto_udp_kernel_drops - net:udp_kernel_drops from a batch: the last
 *      datagram that carries a total has the newest; add what is new
 *      since the last total seen on this socket (modulo 2^32).
 */
static void proto_udp_kernel_drops(struct netd *n, struct netd_sock *sk,
                                   struct mmsghdr *mm, int cnt)
{
    uint32_t *last = &proto_udp_g.drops[sk->idx];
    uint32_t total;
    int i;

    for (i = cnt - 1; i >= 0; i--) {
        if (mm[i].msg_hdr.msg_controllen == 0
            || !proto_udp_drops(&mm[i].msg_hdr, &total))
            continue;
        if (total != *last) {
            stats_add(n->st, STAT_NET_UDP_KERNEL_DROPS,
                      (uint64_t)(uint32_t)(total - *last));
            log_warn_rl("udp %d: the kernel dropped %u datagrams "
                        "(receive buffer full; %u in all): raise "
                        "udp_maxbuffer, or see what stalls", sk->idx,
                        total - *last, total);
            *last = total;
        }
        return;
    }
}

static void proto_udp_batch(struct netd *n, struct netd_sock *sk,
                            struct mmsghdr *mm, int cnt)
{
    struct proto_udp *u = &proto_udp_g;
    struct msg_sip hdr;
    int i;

    for (i = 0; i < cnt; i++) {
        size_t len = mm[i].msg_len;

        stats_inc(n->st, STAT_NET_UDP_RCV);
        if ((mm[i].msg_hdr.msg_flags & MSG_TRUNC) || len == 0
            || len < (size_t)n->srv->cfg.udp_min_size) {
            stats_inc(n->st, STAT_NET_UDP_TOO_SMALL);
            continue;
        }
        memset(&hdr, 0, sizeof(hdr));
        hdr.proto = MSG_PROTO_UDP;
        hdr.sock = (uint16_t)sk->idx;
        netd_addr_from_sa(&hdr.peer, &u->raddr[i]);
        if (netd_to_sipd(n, &hdr, u->rbuf[i], len) < 0)
            log_warn_rl("udp %d: sipd ring full: datagram dropped",
                        sk->idx);
    }
    netd_commit(n);
}

static void proto_udp_on_read(struct ev *ev, struct ev_io *io, uint32_t e)
{
    struct netd_sock *sk = io->arg;
    struct proto_udp *u = &proto_udp_g;
    struct mmsghdr mm[NETD_BATCH];
    struct iovec iov[NETD_BATCH];
    int i, r, cnt;

    (void)ev;
    (void)e;
    for (r = 0; r < NETD_RECV_ROUNDS; r++) {
        memset(mm, 0, sizeof(mm));
        for (i = 0; i < NETD_BATCH; i++) {
            iov[i].iov_base = u->rbuf[i];
            iov[i].iov_len = NETD_DGRAM_MAX;
            mm[i].msg_hdr.msg_iov = &iov[i];
            mm[i].msg_hdr.msg_iovlen = 1;
            mm[i].msg_hdr.msg_name = &u->raddr[i];
            mm[i].msg_hdr.msg_namelen = sizeof(u->raddr[i]);
            mm[i].msg_hdr.msg_control = u->rctl[i].buf;
            mm[i].msg_hdr.msg_controllen = sizeof(u->rctl[i].buf);
        }
        cnt = recvmmsg(sk->fd, mm, NETD_BATCH, MSG_DONTWAIT, NULL);
        if (cnt < 0) {
            if (errno != EAGAIN && errno != EINTR)
                log_warn_rl("udp %d: recvmmsg: %s", sk->idx,
                            strerror(errno));
            return;
        }
        proto_udp_kernel_drops(sk->netd, sk, mm, cnt);
        proto_udp_batch(sk->netd, sk, mm, cnt);
        if (cnt < NETD_BATCH)
            return;
    }
}

/*
 * proto_udp_rcvbuf - see that sk got udp_maxbuffer bytes of receive
 *      buffer (mid asked with SO_RCVBUF, capped by net.core.rmem_max);
 *      if not, try SO_RCVBUFFORCE (CAP_NET_ADMIN), and log what it got.
 *      Linux reports twice the size asked (bookkeeping overhead).
 */
static void proto_udp_rcvbuf(struct netd *n, const struct netd_sock *sk)
{
    int want = n->srv->cfg.udp_maxbuffer, got = 0;
    socklen_t len = sizeof(got);

    if (getsockopt(sk->fd, SOL_SOCKET, SO_RCVBUF, &got, &len) < 0) {
        log_warn("udp %d: SO_RCVBUF: %s", sk->idx, strerror(errno));
        return;
    }
    if (got / 2 >= want) {
        log_notice("udp %d: receive buffer %d bytes (udp_maxbuffer %d)",
                   sk->idx, got / 2, want);
        return;
    }
    if (setsockopt(sk->fd, SOL_SOCKET, SO_RCVBUFFORCE, &want,
                   sizeof(want)) == 0) {
        len = sizeof(got);
        (void)getsockopt(sk->fd, SOL_SOCKET, SO_RCVBUF, &got, &len);
        log_notice("udp %d: receive buffer %d bytes (udp_maxbuffer %d, "
                   "past net.core.rmem_max with SO_RCVBUFFORCE)", sk->idx,
                   got / 2, want);
        return;
    }
    log_warn("udp %d: receive buffer %d bytes, not udp_maxbuffer %d: "
             "capped by net.core.rmem_max and SO_RCVBUFFORCE: %s; raise "
             "the sysctl", sk->idx, got / 2, want, strerror(errno));
}

/* proto_udp_ovfl - SO_RXQ_OVFL on sk, and its drop total so far */
static void proto_udp_ovfl(struct proto_udp *u, const struct netd_sock *sk)
{
    uint32_t mem[SK_MEMINFO_VARS];
    socklen_t len = sizeof(mem);
    int one = 1;

    if (setsockopt(sk->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) < 0)
        log_warn("udp %d: SO_RXQ_OVFL: %s: kernel drops not counted",
                 sk->idx, strerror(errno));
    memset(mem, 0, sizeof(mem));
    if (getsockopt(sk->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0
        && len > SK_MEMINFO_DROPS * sizeof(mem[0]))
        u->drops[sk->idx] = mem[SK_MEMINFO_DROPS];
}

static int proto_udp_init(struct netd *n)
{
    struct proto_udp *u = &proto_udp_g;
    int i;

    memset(u, 0, sizeof(*u));
    u->fd = -1;
    u->rbuf = malloc(sizeof(*u->rbuf) * NETD_BATCH);
    if (u->rbuf == NULL)
        return -ENOMEM;
    for (i = 0; i < n->nsocks; i++) {
        if (n->socks[i].proto != CFG_PROTO_UDP)
            continue;
        proto_udp_rcvbuf(n, &n->socks[i]);
        proto_udp_ovfl(u, &n->socks[i]);
    }
    return netd_socks_watch(n, CFG_PROTO_UDP, proto_udp_on_read);
}

static void proto_udp_fini(struct netd *n)
{
    (void)n;
    free(proto_udp_g.rbuf);
    proto_udp_g.rbuf = NULL;
}

/* proto_udp_flush - sendmmsg what was gathered for one socket */
static void proto_udp_flush(struct netd *n)
{
    struct proto_udp *u = &proto_udp_g;
    int done = 0, r;

    while (done < u->cnt) {
        r = sendmmsg(u->fd, u->mm + done, (unsigned)(u->cnt - done),
                     MSG_DONTWAIT);
        if (r > 0) {
            stats_add(n->st, STAT_NET_UDP_SND, (uint64_t)r);
            done += r;
            continue;
        }
        /* The first datagram failed: count it, go on with the rest. */
        stats_inc(n->st, STAT_NET_UDP_SND_ERR);
        log_warn_rl("udp fd %d: sendmmsg: %s", u->fd,
                    r < 0 ? strerror(errno) : "nothing sent");
        done++;
    }
    u->cnt = 0;
}

static void proto_udp_send(struct netd *n, const struct msg_sip *m)
{
    struct proto_udp *u = &proto_udp_g;
    struct netd_sock *sk = &n->socks[m->sock];
    int i;

    if (u->cnt > 0 && (sk->fd != u->fd || u->cnt == NETD_BATCH))
        proto_udp_flush(n);
    u->fd = sk->fd;
    i = u->cnt++;
    memset(&u->mm[i], 0, sizeof(u->mm[i]));
    u->iov[i].iov_base = (void *)m->data;
    u->iov[i].iov_len = m->len;
    u->mm[i].msg_hdr.msg_iov = &u->iov[i];
    u->mm[i].msg_hdr.msg_iovlen = 1;
    u->mm[i].msg_hdr.msg_name = &u->to[i];
    u->mm[i].msg_hdr.msg_namelen = netd_addr_to_sa(&m->peer, &u->to[i]);
}

/* The transport interface netd looks up (netd_proto.h). */
const struct netd_proto netd_proto = {
    .version = NETD_PROTO_VERSION,
    .proto = MSG_PROTO_UDP,
    .name = "udp",
    .init = proto_udp_init,
    .send = proto_udp_send,
    .flush = proto_udp_flush,
    .tick = NULL,
    .fini = proto_udp_fini,
};
