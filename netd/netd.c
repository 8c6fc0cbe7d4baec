/*
 * SUMMARY
 *	netd - the network stage: every socket of the proxy
 * DESCRIPTION
 *	netd owns the listening sockets (inherited from mid) and moves SIP
 *	messages between them and the sipd processes. One epoll reactor:
 *	a readable socket is drained in batches (recvmmsg) into the
 *	netd->sipd rings; the sipd->netd rings are drained in batches into
 *	sendmmsg. Each datagram goes to sipd number hash(Call-ID) % nsipd,
 *	so one call always meets the same sipd and leaves in the order it
 *	arrived.
 *
 *	The loop only blocks after every outgoing ring said it is empty
 *	(ring_sleep_prepare); under load it never sleeps and makes no
 *	syscall per message beyond the batched recv/send.
 * PROTOCOL
 *	netd -> sipd[i]: MSG_T_SIP_IN; sipd[i] -> netd: MSG_T_SIP_OUT.
 *	ctl: "ready", "pong" (srv.c).
 * DIAGNOSTICS
 *	Fatal: rings or sockets missing from the shared directory. Send
 *	errors, full rings and short datagrams are counted and logged
 *	with rate limits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "netd.h"

static struct netd netd_state;

void netd_addr_from_sa(struct msg_addr *a, const struct sockaddr_storage *ss)
{
    memset(a, 0, sizeof(*a));
    a->family = ss->ss_family;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

        a->port = in->sin_port;
        memcpy(a->ip, &in->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

        a->port = in6->sin6_port;
        a->scope = in6->sin6_scope_id;
        memcpy(a->ip, &in6->sin6_addr, 16);
    }
}

socklen_t netd_addr_to_sa(const struct msg_addr *a,
                          struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (a->family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;

        in->sin_family = AF_INET;
        in->sin_port = a->port;
        memcpy(&in->sin_addr, a->ip, 4);
        return sizeof(*in);
    }
    if (a->family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

        in6->sin6_family = AF_INET6;
        in6->sin6_port = a->port;
        in6->sin6_scope_id = a->scope;
        memcpy(&in6->sin6_addr, a->ip, 16);
        return sizeof(*in6);
    }
    return 0;
}

static void netd_on_wake(struct ev *ev, struct ev_io *io, uint32_t e)
{
    (void)ev;
    (void)e;
    ring_wake_clear(io->arg);
}

static int netd_rings(struct netd *n)
{
    struct srv *s = n->srv;
    int i, err;

    n->nsipd = s->shm.hdr->nsipd;
    for (i = 0; i < n->nsipd; i++) {
        err = shm_ring_attach(&s->shm, SHM_RING(i, SHM_R_NETD_SIPD),
                              RING_PRODUCER, &n->to_sipd[i]);
        if (err == 0)
            err = shm_ring_attach(&s->shm, SHM_RING(i, SHM_R_SIPD_NETD),
                                  RING_CONSUMER, &n->from_sipd[i]);
        if (err < 0) {
            log_error("rings of sipd/%d: attach: %s", i, strerror(-err));
            return err;
        }
        n->wake_io[i].fd = n->from_sipd[i].efd;
        n->wake_io[i].fn = netd_on_wake;
        n->wake_io[i].arg = &n->from_sipd[i];
        if ((err = ev_add(&s->ev, &n->wake_io[i], EPOLLIN)) < 0)
            return err;
    }
    return 0;
}

static int netd_init(struct srv *s)
{
    struct netd *n = &netd_state;
    int err;

    n->srv = s;
    s->ctx = n;
    n->st = shm_stats(&s->shm, s->proc, SHM_TH_MAIN);
    if ((err = netd_rings(n)) < 0)
        return err;
    return netd_udp_init(n);
}

/* netd_may_sleep - announce sleep on every outgoing ring; 0 if any
 * ring got data meanwhile (then the loop must not block) */
static int netd_may_sleep(struct netd *n)
{
    int i;

    for (i = 0; i < n->nsipd; i++)
        if (ring_sleep_prepare(&n->from_sipd[i]))
            return 0;
    return 1;
}

static void netd_run(struct srv *s)
{
    struct netd *n = s->ctx;
    int busy = 0, rc;

    while (!s->stop) {
        rc = ev_run_once(&s->ev, busy ? 0 : (netd_may_sleep(n) ? -1 : 0));
        if (rc < 0)
            log_fatal("epoll: %s", strerror(-rc));
        /* Events handled may have more behind them (batches are
         * bounded): look again without blocking. */
        busy = netd_udp_send_all(n) > 0 || rc > 0;
    }
}

static void netd_fini(struct srv *s)
{
    netd_udp_fini(s->ctx);
}

static const struct srv_ops netd_ops = {
    .name = "netd",
    .stage = STAGE_NETD,
    .init = netd_init,
    .run = netd_run,
    .fini = netd_fini,
};

int main(int argc, char **argv)
{
    return srv_main(argc, argv, &netd_ops);
}
