/*
 * SUMMARY
 *    srv - the skeleton every stage daemon runs in
 * DESCRIPTION
 *    See srv.h. The order matters: the segment and the config come
 *    first (nothing can be logged sensibly before the log settings are
 *    known), then signals (blocked before any thread is created so that
 *    every thread inherits the mask and only the loop sees them), then
 *    the daemon's init, then privileges are dropped, then "ready".
 *    "BIN --layout" alone prints the segment layout and build id this
 *    binary expects and exits, before any of that (mid's upgrade check).
 * PROTOCOL
 *    See ctl.h; "ready" carries the build id: "ready STAGE I PID BUILD".
 * DIAGNOSTICS
 *    Fatal: bad options, shm_attach() or cfg_load_buf() failure, init()
 *    failure, setuid failure. A lost control socket only warns: the data
 *    plane does not depend on it.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "build.h"
#include "ctl.h"
#include "log.h"
#include "priv.h"
#include "srv.h"

int srv_proc_slot(int stage, int instance)
{
    switch (stage) {
    case STAGE_NETD:
        return SHM_PROC_NETD;
    case STAGE_DNSD:
        return SHM_PROC_DNSD;
    case STAGE_DBD:
        return SHM_PROC_DBD;
    case STAGE_SIPD:
        return SHM_PROC_SIPD(instance);
    default:
        return SHM_PROC_MID;
    }
}

static void srv_usage(const char *name)
{
    log_fatal("usage: %s -S SHMFD [-i INSTANCE] [-v] (started by mid)",
              name);
}

static void srv_opts(struct srv *s, int argc, char **argv, int *shmfd)
{
    int c;

    *shmfd = -1;
    while ((c = getopt(argc, argv, "S:i:v")) != -1) {
        switch (c) {
        case 'S':
            *shmfd = atoi(optarg);
            break;
        case 'i':
            s->instance = atoi(optarg);
            break;
        case 'v':
            s->verbose++;
            break;
        default:
            srv_usage(s->ops->name);
        }
    }
    if (*shmfd < 0 || s->instance < 0 || s->instance >= CFG_MAX_SIPD)
        srv_usage(s->ops->name);
}

static void srv_config(struct srv *s)
{
    char err[512];
    const char *text;
    size_t len;

    text = shm_cfg_text(&s->shm, &len);
    if (cfg_load_buf(&s->cfg, "(config copy)", text, len, err,
                     sizeof(err)) < 0)
        log_fatal("config: %s", err);
}

static void srv_on_signal(struct ev *ev, int signo, void *arg)
{
    struct srv *s = arg;

    (void)ev;
    log_info("signal %d: stopping", signo);
    s->stop = 1;
}

static void srv_on_ctl(struct ev *ev, struct ev_io *io, uint32_t events)
{
    struct srv *s = io->arg;
    char msg[CTL_MSG_MAX];
    int n;

    (void)ev;
    (void)events;
    while ((n = ctl_recv(s->ctl_sub, msg, sizeof(msg))) >= 0) {
        if (strncmp(msg, "ping", 4) == 0)
            ctl_send(s->ctl_push, "pong %s %d %d", s->ops->name,
                     s->instance, (int)getpid());
        else if (s->ops->ctl != NULL)
            s->ops->ctl(s, msg);
    }
}

static void srv_ctl_open(struct srv *s)
{
    int fd;

    s->ctl_push = ctl_dial_push(s->cfg.run_dir);
    s->ctl_sub = ctl_dial_sub(s->cfg.run_dir);
    if (s->ctl_push < 0 || s->ctl_sub < 0) {
        log_warn("ctl %s: connect: %s", s->cfg.run_dir,
                 strerror(-(s->ctl_push < 0 ? s->ctl_push : s->ctl_sub)));
        return;
    }
    if ((fd = ctl_rcvfd(s->ctl_sub)) < 0)
        return;
    s->sub_io.fd = fd;
    s->sub_io.fn = srv_on_ctl;
    s->sub_io.arg = s;
    ev_add(&s->ev, &s->sub_io, EPOLLIN);
}

/*
 * srv_privs - chroot and change user and group, as [core] says; root
 * only (mid warns at start when it is not root). mid checked the names
 * when it loaded the config; this runs after init(), so sockets, rings,
 * transports and resolv.conf are already open when the root changes.
 */
static void srv_privs(struct srv *s)
{
    uid_t uid = 0;
    gid_t gid = 0, ugid = 0;
    const char *u = s->cfg.user, *g = s->cfg.group;

    if (geteuid() != 0)
        return;
    if (u[0] && priv_user(u, &uid, &ugid) < 0)
        log_fatal("[core] user %s: no such user", u);
    if (g[0] && priv_group(g, &gid) < 0)
        log_fatal("[core] group %s: no such group", g);
    if (s->cfg.chroot_dir[0]
        && (chroot(s->cfg.chroot_dir) < 0 || chdir("/") < 0))
        log_fatal("chroot %s: %s", s->cfg.chroot_dir, strerror(errno));
    if (g[0] && (setgroups(1, &gid) < 0 || setgid(gid) < 0))
        log_fatal("setgid %s: %s", g, strerror(errno));
    if (u[0]) {
        struct passwd *pw = getpwuid(uid);

        if (!g[0] && setgid(ugid) < 0)
            log_fatal("setgid %s: %s", u, strerror(errno));
        if ((pw != NULL && initgroups(pw->pw_name, g[0] ? gid : ugid) < 0)
            || setuid(uid) < 0)
            log_fatal("setuid %s: %s", u, strerror(errno));
    }
    /* A set-id change makes the process undumpable: do_coredump wants
     * its core all the same. */
    if (s->cfg.do_coredump)
        prctl(PR_SET_DUMPABLE, 1);
}

void srv_loop(struct srv *s, int (*work)(struct srv *s),
              int (*may_sleep)(struct srv *s))
{
    int64_t deadline;
    int busy = 0, rc;

    while (!s->stop) {
        rc = ev_run_once(&s->ev, busy ? 0 : (may_sleep(s) ? -1 : 0));
        if (rc < 0)
            log_fatal("epoll: %s", strerror(-rc));
        /* Only work left in the rings keeps the loop from sleeping. An
         * fd whose handler read a bounded batch and left more behind
         * stays ready (every fd is level-triggered), so the next
         * epoll_wait returns at once without a second, empty poll per
         * wake-up (make bench-wakeups counted two epoll_waits each). */
        busy = work(s) > 0;
    }
    /* Drain: what already waits in the input rings was accepted by the
     * stage before us; handle it (no new events: no new input) for at
     * most SRV_DRAIN_MS, so that a stop or a planned restart loses
     * nothing that was accepted. */
    deadline = ev_now_ms() + SRV_DRAIN_MS;
    while (work(s) > 0 && ev_now_ms() < deadline)
        ;
}

int srv_main(int argc, char **argv, const struct srv_ops *ops)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, 0};
    static struct srv s;
    int shmfd, err;

    build_layout_answer(argc, argv);   /* mid_probe.c asks */
    s.ops = ops;
    log_set_name(ops->name);
    signal(SIGPIPE, SIG_IGN);
    srv_opts(&s, argc, argv, &shmfd);
    if ((err = shm_attach(&s.shm, shmfd)) < 0)
        log_fatal("shm fd %d: attach: %s", shmfd,
                  err == -EPROTO ? "segment laid out by another build of "
                                   "sipstage (restart the whole proxy)"
                                 : strerror(-err));
    srv_config(&s);
    log_init(ops->name, s.cfg.log_syslog, s.cfg.log_facility);
    log_level_ptr((volatile int *)&s.shm.hdr->log_level);
    s.proc = srv_proc_slot(ops->stage, s.instance);
    s.me = &s.shm.hdr->procs[s.proc];
    if ((err = ev_init(&s.ev)) < 0
        || (err = ev_signals(&s.ev, sigs, srv_on_signal, &s)) < 0)
        log_fatal("event loop: %s", strerror(-err));
    srv_ctl_open(&s);
    if ((err = ops->init(&s)) < 0)
        log_fatal("init: %s", strerror(-err));
    srv_privs(&s);
    if (s.ctl_push >= 0)
        ctl_send(s.ctl_push, "ready %s %d %d %s", ops->name, s.instance,
                 (int)getpid(), build_id());
    log_info("%s/%d ready, build %s", ops->name, s.instance, build_id());
    ops->run(&s);
    if (ops->fini != NULL)
        ops->fini(&s);
    ctl_close(s.ctl_sub);
    ctl_close(s.ctl_push);
    ev_close(&s.ev);
    log_info("%s/%d stopped", ops->name, s.instance);
    return 0;
}
