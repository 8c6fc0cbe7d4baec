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
 *      Overload (netd/netd_flow.c): netd takes the sockets out of epoll
 *      while sipd's output waits (then only EPOLLERR is handled here),
 *      and a socket on which the kernel dropped datagrams sheds new
 *      requests (netd_to_sipd()) until it has been read empty: netd is
 *      behind, and reading on while dropping new work is cheaper than
 *      letting the kernel drop blind.
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
 *      Receive buffer: mid sizes it to [net] udp_maxbuffer (with
 *      SO_RCVBUFFORCE while privileged; plain SO_RCVBUF is capped at
 *      net.core.rmem_max). At init each socket's size is logged, and a
 *      short one is a warning.
 *
 *      Failed destinations: every socket has IP_RECVERR (IPV6_RECVERR),
 *      so an ICMP port or host unreachable for a datagram we sent is
 *      queued on the socket's error queue and raises EPOLLERR; it is read
 *      with MSG_ERRQUEUE and reported to sipd as a MSG_F_SEND_FAILED
 *      record naming only the destination (netd keeps no datagrams), so
 *      dnsd learns the target is down and the UAC's retransmission goes
 *      to the next one. With IP_RECVERR a pending error also fails the
 *      next send on the socket (whatever its destination): that datagram
 *      is sent again once.
 *
 *      Statistics: core:fwd_requests / core:fwd_replies count a record
 *      sipd marked MSG_F_FWD_* when sendmmsg took it; net:send_failed a
 *      datagram sendmmsg refused and every ICMP error reported.
 * PROTOCOL
 *      netd -> sipd[i]: MSG_T_SIP_IN (MSG_F_SEND_FAILED: destination
 *      only, len 0); sipd[i] -> netd: MSG_T_SIP_OUT.
 * DIAGNOSTICS
 *      Receive errors other than EAGAIN, send errors, full rings: counted
 *      and logged with rate limits, never fatal. A receive buffer smaller
 *      than udp_maxbuffer is a warning at start, naming the socket.
 *      init fails (netd exits) when a socket cannot be registered or the
 *      buffers allocated.
 */
#include <errno.h>
#include <time.h>                      /* before linux/errqueue.h */
#include <linux/errqueue.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
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
    uint8_t fl[NETD_BATCH];             /* the records' MSG_F_FWD_* */
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
                        "(receive buffer full; %u in all): shedding new "
                        "requests until it is read empty; raise "
                        "udp_maxbuffer, or see what stalls", sk->idx,
                        total - *last, total);
            *last = total;
            sk->shed = 1;               /* netd is behind (netd_flow.c) */
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

/* proto_udp_icmp_reason - MSG_FAIL_* for an ICMP error's errno, or 0
 * when e is not one that names the peer as unreachable */
static uint32_t proto_udp_icmp_reason(int e)
{
    if (e == ECONNREFUSED)
        return MSG_FAIL_REFUSED;
    if (e == EHOSTUNREACH || e == ENETUNREACH || e == EHOSTDOWN)
        return MSG_FAIL_UNREACH;
    return 0;
}

/* proto_udp_icmp_report - one error-queue entry: sipd learns the target */
static void proto_udp_icmp_report(struct netd *n, struct netd_sock *sk,
                                  const struct sockaddr_storage *to,
                                  const struct sock_extended_err *ee)
{
    struct msg_sip hdr;
    uint32_t reason;
    char a[80];

    if (ee->ee_origin != SO_EE_ORIGIN_ICMP
        && ee->ee_origin != SO_EE_ORIGIN_ICMP6)
        return;                         /* local (EMSGSIZE...): not a peer */
    if ((reason = proto_udp_icmp_reason((int)ee->ee_errno)) == 0)
        return;
    memset(&hdr, 0, sizeof(hdr));
    hdr.proto = MSG_PROTO_UDP;
    hdr.sock = (uint16_t)sk->idx;
    netd_addr_from_sa(&hdr.peer, to);
    hdr.hash = netd_addr_hash(&hdr.peer, 0);    /* spread over workers */
    log_info_rl("udp %d: %s: %s (ICMP): sipd told", sk->idx,
                netd_addr_fmt(&hdr.peer, a, sizeof(a)),
                strerror((int)ee->ee_errno));
    if (netd_send_failed(n, -1, &hdr, NULL, 0, reason) < 0)
        log_warn_rl("udp %d: sipd ring full: failure of %s not reported",
                    sk->idx, a);
}

/*
 * proto_udp_errqueue - EPOLLERR: read the socket's error queue (IP_RECVERR)
 *      and report each ICMP unreachable to sipd; at most NETD_BATCH per
 *      turn, the rest raises EPOLLERR again.
 */
static void proto_udp_errqueue(struct netd *n, struct netd_sock *sk)
{
    union {
        char buf[CMSG_SPACE(sizeof(struct sock_extended_err)
                            + sizeof(struct sockaddr_in6))];
        struct cmsghdr align;
    } ctl;
    struct sockaddr_storage to;
    struct cmsghdr *cm;
    struct msghdr h;
    struct iovec iov;
    char data[64];
    int i;

    for (i = 0; i < NETD_BATCH; i++) {
        memset(&h, 0, sizeof(h));
        memset(&to, 0, sizeof(to));
        iov.iov_base = data;
        iov.iov_len = sizeof(data);
        h.msg_name = &to;
        h.msg_namelen = sizeof(to);
        h.msg_iov = &iov;
        h.msg_iovlen = 1;
        h.msg_control = ctl.buf;
        h.msg_controllen = sizeof(ctl.buf);
        if (recvmsg(sk->fd, &h, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
            if (errno != EAGAIN && errno != EINTR)
                log_warn_rl("udp %d: error queue: %s", sk->idx,
                            strerror(errno));
            break;
        }
        for (cm = CMSG_FIRSTHDR(&h); cm != NULL; cm = CMSG_NXTHDR(&h, cm))
            if ((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR)
                || (cm->cmsg_level == SOL_IPV6
                    && cm->cmsg_type == IPV6_RECVERR))
                proto_udp_icmp_report(
                    n, sk, &to,
                    (const struct sock_extended_err *)CMSG_DATA(cm));
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
    if (e & EPOLLERR)
        proto_udp_errqueue(sk->netd, sk);
    if (sk->netd->in_paused)
        return;                         /* only EPOLLERR: input paused */
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
        if (cnt < 0 && proto_udp_icmp_reason(errno) != 0) {
            proto_udp_errqueue(sk->netd, sk);   /* IP_RECVERR's sk_err */
            continue;
        }
        if (cnt < 0) {
            if (errno == EAGAIN)
                sk->shed = 0;           /* read empty */
            else if (errno != EINTR)
                log_warn_rl("udp %d: recvmmsg: %s", sk->idx,
                            strerror(errno));
            return;
        }
        proto_udp_kernel_drops(sk->netd, sk, mm, cnt);
        proto_udp_batch(sk->netd, sk, mm, cnt);
        if (cnt < NETD_BATCH) {
            sk->shed = 0;               /* read empty */
            return;
        }
    }
}

/*
 * proto_udp_rcvbuf - log the receive buffer sk got, and warn when it is
 *      short of udp_maxbuffer: mid sized it (SO_RCVBUFFORCE while it was
 *      privileged, else SO_RCVBUF, capped by net.core.rmem_max). Linux
 *      reports twice the size asked (bookkeeping overhead).
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
    log_warn("udp %d: receive buffer %d bytes, not udp_maxbuffer %d: "
             "capped by net.core.rmem_max (mid was not privileged): raise "
             "the sysctl", sk->idx, got / 2, want);
}

/* proto_udp_recverr - ICMP errors to sk's error queue (IP_RECVERR) */
static void proto_udp_recverr(struct netd *n, const struct netd_sock *sk)
{
    int v6 = n->srv->cfg.listen[sk->idx].addr.ss_family == AF_INET6;
    int one = 1;

    if (setsockopt(sk->fd, v6 ? SOL_IPV6 : SOL_IP,
                   v6 ? IPV6_RECVERR : IP_RECVERR, &one, sizeof(one)) < 0)
        log_warn("udp %d: %s: %s: unreachable targets not reported",
                 sk->idx, v6 ? "IPV6_RECVERR" : "IP_RECVERR",
                 strerror(errno));
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
        proto_udp_recverr(n, &n->socks[i]);
    }
    return netd_socks_watch(n, CFG_PROTO_UDP, proto_udp_on_read);
}

static void proto_udp_fini(struct netd *n)
{
    (void)n;
    free(proto_udp_g.rbuf);
    proto_udp_g.rbuf = NULL;
}

/* proto_udp_sent - count datagrams [from, to) that the kernel took */
static void proto_udp_sent(struct netd *n, int from, int to)
{
    const uint8_t *fl = proto_udp_g.fl;
    int i;

    stats_add(n->st, STAT_NET_UDP_SND, (uint64_t)(to - from));
    for (i = from; i < to; i++)
        if (fl[i] & MSG_F_FWD_REQUEST)
            stats_inc(n->st, STAT_CORE_FWD_REQUESTS);
        else if (fl[i] & MSG_F_FWD_REPLY)
            stats_inc(n->st, STAT_CORE_FWD_REPLIES);
}

/* proto_udp_flush - sendmmsg what was gathered for one socket */
static void proto_udp_flush(struct netd *n)
{
    struct proto_udp *u = &proto_udp_g;
    int done = 0, again = -1, r;

    while (done < u->cnt) {
        r = sendmmsg(u->fd, u->mm + done, (unsigned)(u->cnt - done),
                     MSG_DONTWAIT);
        if (r > 0) {
            proto_udp_sent(n, done, done + r);
            done += r;
            continue;
        }
        /* IP_RECVERR: the error of an earlier datagram (its ICMP is on
         * the error queue) failed this one; it was not sent: once more. */
        if (r < 0 && proto_udp_icmp_reason(errno) != 0 && again != done) {
            again = done;
            continue;
        }
        /* The first datagram failed: count it, go on with the rest. */
        stats_inc(n->st, STAT_NET_UDP_SND_ERR);
        stats_inc(n->st, STAT_NET_SEND_FAILED);
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
    u->fl[i] = m->flags;
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
