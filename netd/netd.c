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
 *      Each message goes straight to one worker thread of one sipd:
 *      instance hash(Call-ID) % nsipd, worker (a second hash of it) %
 *      that instance's children, so one call always meets the same
 *      worker and leaves in the order it arrived. Each worker has its
 *      own rings to and from netd (shm.h); every ring to netd wakes
 *      netd on one shared eventfd.
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
 *      netd -> sipd.i.w: MSG_T_SIP_IN; sipd.i.w -> netd: MSG_T_SIP_OUT.
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

/*
 * netd_on_wake - any sipd worker's output ring: one eventfd for all,
 * edge-triggered, so it is never read: every write is an edge (an
 * eventfd wakes its pollers at each write, whatever its count), and the
 * count, never reset, would take 2^64 wake-ups to overflow. One syscall
 * per wake-up saved (make bench-wakeups: "read").
 */
static void netd_on_wake(struct ev *ev, struct ev_io *io, uint32_t e)
{
    struct netd *n = io->arg;
    int k;

    (void)ev;
    (void)e;
    for (k = 0; k < n->nslots; k++)
        ring_awake(&n->w[n->slots[k]].out);
}

/* netd_attach - the three rings of worker w of sipd/i */
static int netd_attach(struct netd *n, int i, int w)
{
    struct shm *shm = &n->srv->shm;
    int slot = SHM_WORKER(i, w), err;
    struct netd_wring *wr = &n->w[slot];

    if ((err = shm_ring_attach(shm, SHM_WRING(i, w, SHM_W_REQ),
                               RING_PRODUCER, &wr->req)) < 0
        || (err = shm_ring_attach(shm, SHM_WRING(i, w, SHM_W_REPLY),
                                  RING_PRODUCER, &wr->reply)) < 0
        || (err = shm_ring_attach(shm, SHM_WRING(i, w, SHM_W_OUT),
                                  RING_CONSUMER, &wr->out)) < 0) {
        log_error("rings of sipd/%d worker %d: attach: %s", i, w,
                  strerror(-err));
        return err;
    }
    n->slots[n->nslots++] = (uint16_t)slot;
    return 0;
}

/*
 * netd_rings - follow [stages] sipd and [core] children as mid changes
 * them (MI stage_scale, reload): attach the rings of instances and
 * workers added since the last look, and hash over the live counts.
 * Rings of instances scaled away, and of workers a restarted sipd no
 * longer has, stay attached, so what they still send is drained;
 * nothing new is pushed to them. Runs at start and at every tick; the
 * loads are relaxed reads of the directory.
 */
static int netd_rings(struct netd *n)
{
    struct srv *s = n->srv;
    int live = __atomic_load_n(&s->shm.hdr->nsipd, __ATOMIC_ACQUIRE);
    int i, w, nw, err;

    if (live < 1 || live > CFG_MAX_SIPD)
        return -EINVAL;
    for (i = 0; i < live; i++) {
        nw = __atomic_load_n(&s->shm.hdr->children[i], __ATOMIC_ACQUIRE);
        if (nw < 1 || nw > CFG_MAX_CHILDREN)
            return -EINVAL;
        for (w = n->nwa[i]; w < nw; w++) {
            if ((err = netd_attach(n, i, w)) < 0)
                return err;
            n->nwa[i] = w + 1;
        }
        if (i >= n->nrings) {
            n->nrings = i + 1;
            netd_flow_ring(n, i);
        }
        if (nw != n->nw[i] && n->nw[i] != 0)
            log_notice("sipd/%d workers: %d -> %d", i, n->nw[i], nw);
        n->nw[i] = nw;
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
    n->w = calloc(SHM_MAX_WORKERS, sizeof(*n->w));
    n->slots = calloc(SHM_MAX_WORKERS, sizeof(*n->slots));
    n->dirty = calloc(SHM_MAX_WORKERS, sizeof(*n->dirty));
    if (n->w == NULL || n->slots == NULL || n->dirty == NULL)
        return -ENOMEM;
    if ((err = netd_rings(n)) < 0)
        return err;
    n->wake_io = (struct ev_io){s->shm.hdr->netd_efd, netd_on_wake, n};
    if ((err = ev_add(&s->ev, &n->wake_io, EPOLLIN | EPOLLET)) < 0)
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
    int k;

    for (k = 0; k < n->nslots; k++)
        if (ring_sleep_prepare(&n->w[n->slots[k]].out))
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
