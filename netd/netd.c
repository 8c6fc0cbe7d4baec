/*
 * SUMMARY
 *      netd - the network stage: every socket of the proxy
 * DESCRIPTION
 *      netd owns the listening sockets (inherited from mid), every TCP
 *      connection, and moves SIP messages between them and the sipd
 *      processes. One epoll reactor. The transports are shared libraries
 *      loaded only when a listen line needs them (netd_proto.c:
 *      proto_udp.so, proto_tcp.so); netd proper is the rings
 *      (netd_io.c), the connection table (netd_conn.c), the stream framer
 *      (netd_frame.c) and a tick timer for the transports' timeouts.
 *      Each message goes to sipd number hash(Call-ID) % nsipd, so one
 *      call always meets the same sipd and leaves in the order it
 *      arrived.
 *
 *      The loop only blocks after every outgoing ring said it is empty
 *      (ring_sleep_prepare); under load it never sleeps and makes no
 *      syscall per message beyond the batched recv/send.
 *
 *      Overload (netd_flow.c): each turn drains the output rings as
 *      far as it reads input, stops reading UDP while sipd's output
 *      waits (for at most 20 ms at a time), and sheds new requests, not
 *      responses or in-dialog requests, when a sipd ring passes its
 *      high-water mark or a socket overflowed (netd_class.c sorts them
 *      without a parse).
 * PROTOCOL
 *      netd -> sipd[i]: MSG_T_SIP_IN; sipd[i] -> netd: MSG_T_SIP_OUT.
 *      ctl: "ready", "pong" (srv.c).
 * DIAGNOSTICS
 *      Fatal: rings or sockets missing from the shared directory, a
 *      transport library that is missing or not a transport. Send
 *      errors, full rings, short datagrams and TCP peers that misbehave
 *      are counted and logged with rate limits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "netd.h"
#include "netd_proto.h"

static struct netd netd_state;

static void netd_on_wake(struct ev *ev, struct ev_io *io, uint32_t e)
{
    (void)ev;
    (void)e;
    ring_wake_clear(io->arg);
}

/*
 * netd_rings - follow [stages] sipd as mid changes it (MI stage_scale):
 * attach the rings of instances added since the last look, and hash over
 * the live count. Rings of instances scaled away stay attached, so what
 * they still send is drained; nothing new is pushed to them. Runs at
 * start and at every tick; the load is one relaxed read.
 */
static int netd_rings(struct netd *n)
{
    struct srv *s = n->srv;
    int live = __atomic_load_n(&s->shm.hdr->nsipd, __ATOMIC_ACQUIRE);
    int i, err;

    if (live < 1 || live > CFG_MAX_SIPD)
        return -EINVAL;
    for (i = n->nrings; i < live; i++) {
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
        n->nrings = i + 1;
        netd_flow_ring(n, i);
    }
    if (live != n->nsipd && n->nsipd != 0)
        log_notice("sipd instances: %d -> %d", n->nsipd, live);
    n->nsipd = live;
    return 0;
}

/* netd_socks - the inherited listen sockets, in config order */
static void netd_socks(struct netd *n)
{
    struct srv *s = n->srv;
    int i;

    for (i = 0; i < s->shm.hdr->nlisten && i < CFG_MAX_LISTEN; i++) {
        struct netd_sock *sk = &n->socks[i];

        sk->fd = s->shm.hdr->listen_fd[i];
        sk->idx = i;
        sk->proto = s->cfg.listen[i].proto;
        sk->netd = n;
        n->nsocks = i + 1;
    }
}

/* netd_on_tick - the transports' timeouts and idle sweeps */
static void netd_on_tick(struct ev *ev, struct ev_timer *t)
{
    struct netd *n = t->arg;
    int64_t now = ev_now_ms();
    int i;

    for (i = 0; i < NETD_PROTO_N; i++)
        if (n->proto[i] != NULL && n->proto[i]->tick != NULL)
            n->proto[i]->tick(n, now);
    if (netd_rings(n) < 0)
        log_fatal("sipd rings: the shared directory is damaged");
    ev_timer_start(ev, t, NETD_TICK_MS);
}

static int netd_init(struct srv *s)
{
    struct netd *n = &netd_state;
    int err;

    n->srv = s;
    s->ctx = n;
    n->st = shm_stats(&s->shm, s->proc, SHM_TH_MAIN);
    /* A gauge: the connections of a previous netd died with it. */
    if (n->st != NULL)
        __atomic_store_n(&n->st->v[STAT_TCP_OPEN], 0, __ATOMIC_RELAXED);
    if ((err = netd_conn_tab_init(&n->conns)) < 0)
        return err;
    if ((err = netd_rings(n)) < 0)
        return err;
    netd_socks(n);
    if ((err = netd_proto_load_all(n)) < 0)
        return err;
    n->tick.fn = netd_on_tick;
    n->tick.arg = n;
    ev_timer_start(&s->ev, &n->tick, NETD_TICK_MS);
    return 0;
}

/* netd_may_sleep - announce sleep on every outgoing ring; 0 if any
 * ring got data meanwhile (then the loop must not block) */
static int netd_may_sleep(struct srv *s)
{
    struct netd *n = s->ctx;
    int i;

    for (i = 0; i < n->nrings; i++)
        if (ring_sleep_prepare(&n->from_sipd[i]))
            return 0;
    return 1;
}

static int netd_work(struct srv *s)
{
    return netd_send_all(s->ctx);
}

static void netd_run(struct srv *s)
{
    srv_loop(s, netd_work, netd_may_sleep);
}

static void netd_fini(struct srv *s)
{
    struct netd *n = s->ctx;

    ev_timer_stop(&s->ev, &n->tick);
    netd_proto_unload_all(n);
    netd_conn_tab_fini(&n->conns);
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
