/*
 * SUMMARY
 *      dbd - the database stage: asynchronous queries for every sipd
 * DESCRIPTION
 *      main() is srv_main() (common/srv.h). mid starts dbd only when
 *      [db] url is set. init loads the backend module of the URLs'
 *      scheme ([modules] path, common/mod_dir.c), starts [db] pool
 *      connections per URL (dbd_pool.c: they connect in the loop) and
 *      attaches dbd's ends of the DB rings of every running sipd (more
 *      when mid scales sipd up). The URLs, password included, come from
 *      the config text in the shared segment, as every stage reads its
 *      config: never from the command line or the environment, so no
 *      /proc/PID/cmdline or environ shows them.
 *
 *      run is the loop, one thread:
 *
 *        1. pop up to DBD_BATCH queries from each sipd -> dbd ring: each
 *           is answered at once (unknown, too old, every URL down, queue
 *           full), runs on an idle connection, or waits in the queue;
 *           release the ring space;
 *        2. flush every link: held answers first, then commit;
 *        3. if a ring gave work, poll the ev loop without waiting;
 *           else announce sleep on every input ring and block in the ev
 *           loop only if all of them are still empty (at most
 *           DBD_RETRY_MS while answers are held for a full ring). The
 *           loop wakes for ring eventfds, the connections' sockets (a
 *           query's rows arrive, a connect progresses, an idle
 *           connection is closed by the server), their timers (connect
 *           and query deadlines, back-off) and the queue's deadline;
 *        4. flush again: connection events made answers.
 *
 *      At stop, queries already taken from the rings get up to
 *      SRV_DRAIN_MS to finish; what is left is answered MSG_DB_ERROR.
 *      Queries still in the rings stay there for the next dbd.
 * PROTOCOL
 *      sipd[i] -> dbd  MSG_T_DB_QUERY; dbd -> sipd[i] MSG_T_DB_ROWS
 *      (msg.h, db_clnt.h, dbd_link.c).
 *      ctl from mid: "db_status ID"; the reply: "mi dbd ..." (dbd_mi.c).
 *      The database's own protocol, through the backend module.
 * DIAGNOSTICS
 *      Fatal at init (mid restarts dbd with back-off): a ring that does
 *      not attach, a URL that does not parse, URLs of two schemes, a
 *      backend module that does not load. An epoll failure in the loop
 *      is fatal. A database that is slow, down or refusing is only
 *      logged and counted (db:*): dbd keeps running and reconnects.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dbd.h"
#include "log.h"
#include "mod_dir.h"
#include "shm.h"
#include "srv.h"

static struct dbd dbd_state;

/* dbd_attach - dbd's ends of sipd[i]'s DB rings; 0 or -errno */
static int dbd_attach(struct dbd *d, struct srv *s, int i)
{
    struct ring in, out;
    int err;

    memset(&in, 0, sizeof(in));
    memset(&out, 0, sizeof(out));
    if ((err = shm_ring_attach(&s->shm, SHM_RING(i, SHM_R_SIPD_DBD),
                               RING_CONSUMER, &in)) < 0
        || (err = shm_ring_attach(&s->shm, SHM_RING(i, SHM_R_DBD_SIPD),
                                  RING_PRODUCER, &out)) < 0) {
        log_error("sipd.%d db rings: attach: %s", i, strerror(-err));
        return err;
    }
    return dbd_link_setup(d, i, &in, &out);
}

/* dbd_attach_new - attach the links of sipd instances mid added */
static void dbd_attach_new(struct dbd *d, struct srv *s)
{
    int n = __atomic_load_n(&s->shm.hdr->nsipd, __ATOMIC_ACQUIRE);
    int err;

    if (n > CFG_MAX_SIPD)
        n = CFG_MAX_SIPD;
    while (d->nlinks < n) {
        if ((err = dbd_attach(d, s, d->nlinks)) < 0)
            log_fatal("sipd.%d: cannot attach: %s", d->nlinks,
                      strerror(-err));
        log_info("sipd.%d: db rings attached", d->nlinks);
        d->nlinks++;
    }
}

static void dbd_run(struct srv *s)
{
    struct dbd *d = s->ctx;
    int busy, held, wait, err;

    while (!s->stop) {
        dbd_attach_new(d, s);
        busy = dbd_link_pop(d);
        held = dbd_link_flush_all(d);
        if (busy || !dbd_link_may_sleep(d))
            wait = 0;
        else
            wait = held ? DBD_RETRY_MS : -1;
        if ((err = ev_run_once(&s->ev, wait)) < 0)
            log_fatal("event loop: %s", strerror(-err));
        dbd_link_flush_all(d);
    }
}

/* dbd_libdir - where the backend modules are ([modules] path) */
static int dbd_libdir(const struct cfg *cfg, char *dir, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t len;
    int err;

    if ((len = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0) {
        err = -errno;
        log_error("/proc/self/exe: %s", strerror(errno));
        return err;
    }
    exe[len] = 0;
    if ((err = mod_dir(cfg->mod_path, exe, dir, cap)) < 0)
        log_error("[modules] path %s: %s", cfg->mod_path, strerror(-err));
    return err;
}

static int dbd_init(struct srv *s)
{
    struct dbd *d = &dbd_state;
    char dir[PATH_MAX];
    int err;

    s->ctx = d;
    if ((err = dbd_libdir(&s->cfg, dir, sizeof(dir))) < 0
        || (err = dbd_pool_init(d, &s->ev, &s->cfg,
                                shm_stats(&s->shm, s->proc, SHM_TH_MAIN),
                                dir)) < 0)
        return err;
    dbd_attach_new(d, s);
    log_info("%d URL%s, %d connections each, queue_max %d, timeout %d ms, "
             "%d sipd", d->npools, d->npools == 1 ? "" : "s",
             s->cfg.db_pool, s->cfg.db_queue_max, s->cfg.db_timeout_ms,
             d->nlinks);
    return 0;
}

static void dbd_fini(struct srv *s)
{
    struct dbd *d = s->ctx;
    int i;

    dbd_pool_drain(d, SRV_DRAIN_MS);
    dbd_pool_fini(d);
    for (i = 0; i < d->nlinks; i++)
        dbd_link_fini(&d->links[i]);
}

/* dbd_ctl - a broadcast from mid: "COMMAND [ID]"; others' are ignored */
static void dbd_ctl(struct srv *s, const char *msg)
{
    char cmd[32];
    unsigned id = 0;

    if (sscanf(msg, "%31s %u", cmd, &id) == 2
        && strcmp(cmd, "db_status") == 0)
        dbd_mi_status(s->ctx, s->ctl_push, id);
}

static const struct srv_ops dbd_ops = {
    .name = "dbd",
    .stage = STAGE_DBD,
    .init = dbd_init,
    .run = dbd_run,
    .fini = dbd_fini,
    .ctl = dbd_ctl,
};

int main(int argc, char **argv)
{
    return srv_main(argc, argv, &dbd_ops);
}
