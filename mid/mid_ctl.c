/*
 * SUMMARY
 *    mid_ctl - mid's side of the control plane
 * DESCRIPTION
 *    Binds ctl.pub (PUB) and ctl.pull (PULL) under run_dir before any
 *    stage starts. A stage's "ready" moves its row to running; "pong"
 *    answers the ping mid publishes every MID_PING_MS, and "ps" shows a
 *    running stage that has not answered for MID_STALL_MS as stalled.
 *    What stages report is gossip: a pid that is not in the table, or a
 *    report for another row, is ignored.
 * PROTOCOL
 *    ctl.h.
 * DIAGNOSTICS
 *    Failure to bind is fatal at start. A malformed report is logged
 *    (rate-limited) and dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "mid.h"

static void mid_ctl_report(struct mid *m, const char *msg)
{
    char what[16], stage[16], bid[BUILD_ID_MAX];
    int inst, pid;
    struct mid_proc *p;

    if (strncmp(msg, "mi ", 3) == 0) {  /* a stage answers the MI */
        mid_relay_chunk(m, msg);
        return;
    }
    bid[0] = 0;
    if (sscanf(msg, "%15s %15s %d %d %63s", what, stage, &inst, &pid,
               bid) < 4) {
        log_warn_rl("ctl: malformed report \"%.64s\"", msg);
        return;
    }
    if ((p = mid_spawn_by_pid(m, pid)) == NULL
        || strcmp(shm_stage_name(p->stage), stage) != 0
        || p->instance != inst)
        return;
    p->last_pong_ms = ev_now_ms();
    if (p->stage == STAGE_SIPD)         /* a stalled one may be back */
        mid_spawn_live(m);
    if (strcmp(what, "ready") == 0 && !p->ready) {
        p->ready = 1;
        snprintf(p->build, sizeof(p->build), "%s", bid);
        if (p->state == PROC_S_STARTING)
            p->state = PROC_S_RUNNING;
        m->shm.hdr->procs[p - m->procs].state = p->state;
        log_info("%s/%d: pid %d ready, build %s", stage, inst, pid,
                 bid[0] ? bid : "unknown");
        mid_spawn_live(m);
        mid_reload_kick(m);
    }
}

/* mid_ctl_drain - every report waiting on the PULL socket */
static void mid_ctl_drain(struct mid *m)
{
    char msg[CTL_MSG_MAX];

    while (ctl_recv(m->ctl_pull, msg, sizeof(msg)) >= 0)
        mid_ctl_report(m, msg);
}

static void mid_ctl_on_pull(struct ev *ev, struct ev_io *io, uint32_t e)
{
    (void)ev;
    (void)e;
    mid_ctl_drain(io->arg);
}

/*
 * mid_ctl_excuse - the ping timer ran late by gap ms: mid itself was busy
 * (a layout probe, a stall of the host), so no ping went out meanwhile.
 * A stage is not blamed for silence mid caused: its last pong moves on
 * by the gap.
 */
static void mid_ctl_excuse(struct mid *m, int64_t gap)
{
    int i;

    log_notice("mid's loop was busy for %lld ms: ping deadlines moved",
               (long long)gap);
    for (i = 1; i < SHM_MAX_PROCS; i++)
        if (m->procs[i].used && m->procs[i].pid > 0)
            m->procs[i].last_pong_ms += gap;
}

static void mid_ctl_on_ping(struct ev *ev, struct ev_timer *t)
{
    struct mid *m = t->arg;
    int64_t now = ev_now_ms();

    if (now - m->ping_last_ms > 2 * MID_PING_MS)
        mid_ctl_excuse(m, now - m->ping_last_ms - MID_PING_MS);
    m->ping_last_ms = now;
    if (!m->stopping)
        ctl_send(m->ctl_pub, "ping %llu", (unsigned long long)++m->ping_seq);
    /* Pongs that arrived while mid's own loop was busy (a layout probe
     * waits up to 2 s per binary) count before anyone is judged hung. */
    mid_ctl_drain(m);
    mid_spawn_watch(m);
    ev_timer_start(ev, t, MID_PING_MS);
}

int mid_ctl_open(struct mid *m)
{
    int fd;

    m->ctl_pub = ctl_listen_pub(m->cfg.run_dir);
    if (m->ctl_pub < 0)
        return m->ctl_pub;
    m->ctl_pull = ctl_listen_pull(m->cfg.run_dir);
    if (m->ctl_pull < 0)
        return m->ctl_pull;
    if ((fd = ctl_rcvfd(m->ctl_pull)) < 0)
        return fd;
    m->pull_io.fd = fd;
    m->pull_io.fn = mid_ctl_on_pull;
    m->pull_io.arg = m;
    m->ping_timer.fn = mid_ctl_on_ping;
    m->ping_timer.arg = m;
    m->ping_last_ms = ev_now_ms();
    ev_timer_start(&m->ev, &m->ping_timer, MID_PING_MS);
    return ev_add(&m->ev, &m->pull_io, EPOLLIN);
}

void mid_ctl_close(struct mid *m)
{
    ctl_close(m->ctl_pub);
    ctl_close(m->ctl_pull);
    ctl_unlink(m->cfg.run_dir);
}
