/*
 * SUMMARY
 *    mid_spawn - the process table: fork+exec, reap, restart
 * DESCRIPTION
 *    The table is built from the config, like Postfix's master.cf: one
 *    netd, [stages] sipd instances of sipd, one dnsd, and one dbd when
 *    [db] url is set (a reload that sets or removes the URL starts or
 *    retires it: mid_spawn_dbd). Each row is mirrored to the shared
 *    directory for "ps".
 *
 *    A stage that dies is restarted while the others keep running; what
 *    arrives meanwhile waits in its rings and in the kernel's socket
 *    buffers. Back-off: a stage that dies before it said "ready" doubles
 *    its delay (MID_BACKOFF_MIN_MS .. MID_BACKOFF_MAX_MS), as Postfix
 *    throttles a service whose child dies before its first use; one that
 *    ran MID_STABLE_MS or longer restarts after the minimum. At most
 *    MID_RESTART_MAX starts per MID_RESTART_WINDOW_MS: past that the next
 *    start waits until the oldest leaves the window. Only crashes count:
 *    a stage that mid itself asked to exit (reload, stage_restart:
 *    mid_spawn_bounce) restarts after the minimum delay and outside the
 *    window (ps still counts it in "restarts"), so no number of operator
 *    restarts can put a stage into back-off.
 *
 *    A start mid did not plan (the first, a crash restart) first checks
 *    that the binary on disk still fits the segment (mid_probe_start: a
 *    stat, and "BIN --layout" only when the file changed): one that does
 *    not is left down with one error naming both layouts, instead of
 *    failing to attach over and over; MI stage_restart starts it again
 *    once the binary is fixed (mid_spawn_start).
 *
 *    Liveness: a stage answers mid's pings (mid_ctl.c). One silent for
 *    MID_STALL_MS is "stalled"; one silent for [stages] hang_ms (a
 *    SIGSTOP, a deadlock, an endless loop) is killed with SIGKILL and
 *    restarted as a crash. The set of sipd instances that are running
 *    and not stalled is published in the segment (sipd_live) for netd,
 *    which hashes a Call-ID whose instance is not in it over the live
 *    ones instead, so a hung, dead or crash-looping sipd gets no traffic.
 *
 *    Children get PR_SET_PDEATHSIG(SIGTERM): if mid is killed outright,
 *    no stage is left behind holding the ports' rings.
 * PROTOCOL
 *    None; readiness comes over ctl (mid_ctl.c).
 * DIAGNOSTICS
 *    A failing fork or exec is logged and retried with back-off. A
 *    stage's death is a warning naming stage, instance, pid and the
 *    exit status or signal.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mid.h"
#include "srv.h"

static const char *const mid_spawn_states[] = {
    "down", "starting", "running", "backoff", "stopping"};

const char *mid_spawn_state_name(int state)
{
    return state >= 0 && state <= PROC_S_STOPPING ? mid_spawn_states[state]
                                                   : "?";
}

static void mid_spawn_mirror(struct mid *m, struct mid_proc *p)
{
    struct shm_proc *sp = &m->shm.hdr->procs[p - m->procs];

    sp->stage = p->stage;
    sp->instance = p->instance;
    sp->pid = p->pid;
    sp->state = p->state;
    sp->restarts = p->restarts;
    if (p->state == PROC_S_STARTING || sp->started == 0)
        sp->started = (int64_t)time(NULL);
    if (p->stage == STAGE_SIPD)
        mid_spawn_live(m);
}

/* mid_spawn_stalled - running, but silent to pings for MID_STALL_MS */
int mid_spawn_stalled(const struct mid_proc *p, int64_t now)
{
    return p->pid > 0 && p->state == PROC_S_RUNNING
           && now - p->last_pong_ms > MID_STALL_MS;
}

/*
 * mid_spawn_live - publish which sipd instances netd may hash to: those
 * running (said ready) and not stalled, below the live count. One
 * release store; netd reads it per message with a relaxed load.
 */
void mid_spawn_live(struct mid *m)
{
    int64_t now = ev_now_ms();
    uint32_t live = 0;
    int i;

    for (i = 0; i < CFG_MAX_SIPD && i < m->shm.hdr->nsipd; i++) {
        const struct mid_proc *p = &m->procs[SHM_PROC_SIPD(i)];

        if (p->used && !p->retire && p->state == PROC_S_RUNNING
            && !mid_spawn_stalled(p, now))
            live |= 1u << i;
    }
    if (live != m->shm.hdr->sipd_live)
        __atomic_store_n(&m->shm.hdr->sipd_live, live, __ATOMIC_RELEASE);
}

static void mid_spawn_on_timer(struct ev *ev, struct ev_timer *t)
{
    struct mid_proc *p = t->arg;

    (void)ev;
    if (!p->mid->stopping && p->pid == 0)
        mid_spawn_restart(p->mid, p);
}

static uint64_t mid_spawn_inflight(struct mid *m, const struct mid_proc *p)
{
    int slot = (int)(p - m->procs), t;
    uint64_t taken = 0, done = 0;

    for (t = 0; t < SHM_THREADS; t++) {
        const struct stats_slot *s = shm_stats(&m->shm, slot, t);

        taken += __atomic_load_n(&s->v[STAT_SIPD_TAKEN], __ATOMIC_RELAXED);
        done += __atomic_load_n(&s->v[STAT_SIPD_DONE], __ATOMIC_RELAXED);
    }
    return taken > done ? taken - done : 0;
}

static void mid_spawn_row(struct mid *m, int slot, int stage, int inst)
{
    struct mid_proc *p = &m->procs[slot];

    memset(p, 0, sizeof(*p));
    p->used = 1;
    p->stage = stage;
    p->instance = inst;
    p->backoff_ms = MID_BACKOFF_MIN_MS;
    p->timer.fn = mid_spawn_on_timer;
    p->timer.arg = p;
    p->mid = m;
    if (stage == STAGE_SIPD)            /* counters outlive the row */
        p->lost_charged = mid_spawn_inflight(m, p);
    mid_spawn_mirror(m, p);
}

void mid_spawn_init(struct mid *m)
{
    char self[PATH_MAX];
    ssize_t n;
    int i;

    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        log_fatal("/proc/self/exe: %s", strerror(errno));
    self[n] = 0;
    *strrchr(self, '/') = 0;
    snprintf(m->bin_dir, sizeof(m->bin_dir), "%s", self);

    m->procs[SHM_PROC_MID].used = 1;
    m->procs[SHM_PROC_MID].stage = STAGE_MID;
    m->procs[SHM_PROC_MID].pid = getpid();
    m->procs[SHM_PROC_MID].state = PROC_S_RUNNING;
    m->procs[SHM_PROC_MID].mid = m;
    mid_spawn_mirror(m, &m->procs[SHM_PROC_MID]);
    mid_spawn_row(m, SHM_PROC_NETD, STAGE_NETD, 0);
    mid_spawn_row(m, SHM_PROC_DNSD, STAGE_DNSD, 0);
    for (i = 0; i < m->cfg.stages_sipd; i++)
        mid_spawn_row(m, SHM_PROC_SIPD(i), STAGE_SIPD, i);
    if (m->cfg.ndb_url > 0)
        mid_spawn_row(m, SHM_PROC_DBD, STAGE_DBD, 0);
}

/* mid_spawn_exec - child side: only async-signal-safe calls until exec */
static void mid_spawn_exec(const char *path, char *const argv[],
                           pid_t parent)
{
    ev_signals_unblock();
    signal(SIGPIPE, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)            /* mid died before prctl */
        _exit(1);
    execv(path, argv);
    _exit(127);
}

static int mid_spawn_fork(struct mid *m, struct mid_proc *p)
{
    char path[PATH_MAX + 16], fdbuf[16], instbuf[16];
    char *argv[16];
    int argc = 0, i;
    pid_t pid, self = getpid();

    /* A sipd with more workers than its instance had ([core] children
     * raised by a reload): their rings, and netd's count, first. */
    if (p->stage == STAGE_SIPD
        && shm_workers(&m->shm, p->instance, m->cfg.children) < 0)
        return -EINVAL;
    snprintf(path, sizeof(path), "%s/%s", m->bin_dir,
             shm_stage_name(p->stage));
    snprintf(fdbuf, sizeof(fdbuf), "%d", m->shm.fd);
    snprintf(instbuf, sizeof(instbuf), "%d", p->instance);
    argv[argc++] = (char *)shm_stage_name(p->stage);
    argv[argc++] = "-S";
    argv[argc++] = fdbuf;
    argv[argc++] = "-i";
    argv[argc++] = instbuf;
    for (i = 0; i < m->verbose && argc < 15; i++)
        argv[argc++] = "-v";
    argv[argc] = NULL;
    if ((pid = fork()) < 0)
        return -errno;
    if (pid == 0)
        mid_spawn_exec(path, argv, self);
    mid_files_note(m, p->stage);        /* what it will read: for reload */
    return (int)pid;
}

/* mid_spawn_window - starts in the last window; drops older ones */
static int mid_spawn_window(struct mid_proc *p, int64_t now)
{
    int i, n = 0;

    for (i = 0; i < p->nrecent; i++)
        if (now - p->recent[i] < MID_RESTART_WINDOW_MS)
            p->recent[n++] = p->recent[i];
    p->nrecent = n;
    return n;
}

/*
 * mid_spawn_fits - before a start mid did not plan: a binary on disk
 * that does not fit the segment (replaced by another build) is not
 * started, and the stage is left down with one error, rather than
 * crash-looping through the back-off. 1 when p may start.
 */
static int mid_spawn_fits(struct mid *m, struct mid_proc *p)
{
    const char *name = shm_stage_name(p->stage);
    char why[256];

    if (p->planned || mid_probe_start(m, p->stage, why, sizeof(why)) == 0)
        return 1;
    log_error("%s/%d: not started: %s; left down until MI stage_restart "
              "%s/%d", name, p->instance, why, name, p->instance);
    p->state = PROC_S_DOWN;
    mid_spawn_mirror(m, p);
    return 0;
}

void mid_spawn_restart(struct mid *m, struct mid_proc *p)
{
    int64_t now = ev_now_ms();
    int pid;

    if (!p->planned && mid_spawn_window(p, now) >= MID_RESTART_MAX) {
        int64_t wait = MID_RESTART_WINDOW_MS - (now - p->recent[0]);

        log_warn("%s/%d: %d starts in %d s: next start in %lld ms",
                 shm_stage_name(p->stage), p->instance, MID_RESTART_MAX,
                 MID_RESTART_WINDOW_MS / 1000, (long long)wait);
        p->state = PROC_S_BACKOFF;
        mid_spawn_mirror(m, p);
        ev_timer_start(&m->ev, &p->timer, wait);
        return;
    }
    if (!mid_spawn_fits(m, p))
        return;
    if ((pid = mid_spawn_fork(m, p)) < 0) {
        log_error("%s/%d: fork: %s", shm_stage_name(p->stage), p->instance,
                  strerror(-pid));
        p->state = PROC_S_BACKOFF;
        ev_timer_start(&m->ev, &p->timer, p->backoff_ms);
        mid_spawn_mirror(m, p);
        return;
    }
    if (!p->planned)
        p->recent[p->nrecent++] = now;
    p->planned = 0;
    p->hung = 0;
    p->pid = pid;
    p->ready = 0;
    p->build[0] = 0;                    /* until its "ready" says */
    p->forked_ms = now;
    p->last_pong_ms = now;
    p->state = PROC_S_STARTING;
    mid_spawn_mirror(m, p);
    log_info("%s/%d: started, pid %d", shm_stage_name(p->stage),
             p->instance, pid);
}

void mid_spawn_all(struct mid *m)
{
    int i;

    for (i = 1; i < SHM_MAX_PROCS; i++)
        if (m->procs[i].used)
            mid_spawn_restart(m, &m->procs[i]);
}

/*
 * mid_spawn_lost - a sipd died: what its dispatcher had taken from netd's
 * ring (and released: at-most-once) but no worker had finished is lost
 * with it. Its counters survive in the segment; the difference not yet
 * charged goes to sipd:crash_lost in mid's own slot.
 */
static void mid_spawn_lost(struct mid *m, struct mid_proc *p)
{
    uint64_t lost = mid_spawn_inflight(m, p);

    if (lost <= p->lost_charged)
        return;
    log_warn("%s/%d: %llu messages in flight were lost with it",
             shm_stage_name(p->stage), p->instance,
             (unsigned long long)(lost - p->lost_charged));
    stats_add(shm_stats(&m->shm, SHM_PROC_MID, SHM_TH_MAIN),
              STAT_SIPD_CRASH_LOST, lost - p->lost_charged);
    p->lost_charged = lost;
}

static int mid_spawn_sipd_alive(struct mid *m);

static void mid_spawn_died(struct mid *m, struct mid_proc *p, int status)
{
    int64_t now = ev_now_ms(), delay;
    const char *name = shm_stage_name(p->stage);

    if (p->hung)
        log_warn("%s/%d: pid %d killed: it answered no ping for %d ms",
                 name, p->instance, p->pid, m->cfg.stages_hang_ms);
    else if (WIFSIGNALED(status))
        log_warn("%s/%d: pid %d killed by signal %d%s", name, p->instance,
                 p->pid, WTERMSIG(status),
                 WCOREDUMP(status) ? " (core dumped)" : "");
    else if (WEXITSTATUS(status) != 0)
        log_warn("%s/%d: pid %d exited with status %d", name, p->instance,
                 p->pid, WEXITSTATUS(status));
    else if (!m->stopping)              /* asked to: reload, restart, scale */
        log_notice("%s/%d: pid %d exited", name, p->instance, p->pid);
    p->pid = 0;
    if (p->stage == STAGE_SIPD)
        mid_spawn_lost(m, p);
    if (p->retire) {                    /* scaled away: leave the table */
        log_notice("%s/%d: retired", name, p->instance);
        ev_timer_stop(&m->ev, &p->retire_timer);
        p->state = PROC_S_DOWN;
        mid_spawn_mirror(m, p);
        p->used = 0;
        return;
    }
    if (m->stopping || p->state == PROC_S_DOWN) {
        p->state = PROC_S_DOWN;
        mid_spawn_mirror(m, p);
        if (m->stopping && p->stage == STAGE_SIPD
            && mid_spawn_sipd_alive(m) == 0)
            mid_spawn_stop_all(m, SIGTERM); /* sipd drained: the rest */
        return;
    }
    if (p->planned) {                   /* asked to: not a crash */
        p->restarts++;
        p->state = PROC_S_BACKOFF;
        mid_spawn_mirror(m, p);
        ev_timer_start(&m->ev, &p->timer, MID_BACKOFF_MIN_MS);
        return;
    }
    if (!p->ready)                      /* died before it could work */
        p->backoff_ms = p->backoff_ms * 2 > MID_BACKOFF_MAX_MS
                            ? MID_BACKOFF_MAX_MS
                            : p->backoff_ms * 2;
    else if (now - p->forked_ms >= MID_STABLE_MS)
        p->backoff_ms = MID_BACKOFF_MIN_MS;
    delay = p->ready ? MID_BACKOFF_MIN_MS : p->backoff_ms;
    p->restarts++;
    p->state = PROC_S_BACKOFF;
    mid_spawn_mirror(m, p);
    log_notice("%s/%d: restart %d in %lld ms", name, p->instance,
               p->restarts, (long long)delay);
    ev_timer_start(&m->ev, &p->timer, delay);
}

void mid_spawn_reap(struct mid *m)
{
    struct mid_proc *p;
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if ((p = mid_spawn_by_pid(m, pid)) == NULL)
            continue;
        mid_spawn_died(m, p, status);
    }
}

/* mid_spawn_stop_stage - sig to every row of stage (-1: any), none
 * restarts; returns how many were signalled */
static int mid_spawn_stop_stage(struct mid *m, int stage, int sig)
{
    int i, n = 0;

    for (i = 1; i < SHM_MAX_PROCS; i++) {
        struct mid_proc *p = &m->procs[i];

        if (!p->used || (stage >= 0 && p->stage != stage))
            continue;
        ev_timer_stop(&m->ev, &p->timer);
        if (p->pid > 0) {
            kill(p->pid, sig);
            p->state = PROC_S_STOPPING;
            n++;
        } else {
            p->state = PROC_S_DOWN;
        }
        mid_spawn_mirror(m, p);
    }
    return n;
}

/*
 * mid_spawn_shutdown - begin mid's own exit (SIGTERM, SIGINT, MI kill),
 * restarting none. In pipeline order, so that what was accepted is
 * forwarded: first every sipd (each drains its input ring, srv_loop());
 * once none is left (mid_spawn_died) netd, which sends what they wrote,
 * and dnsd. The loop ends when all are gone; mid.c's stop timer
 * SIGKILLs what is left after MID_STOP_GRACE_MS. why is only logged. A
 * second call does nothing.
 */
void mid_spawn_shutdown(struct mid *m, const char *why)
{
    if (m->stopping)
        return;
    log_notice("stopping: %s", why);
    m->stopping = 1;
    if (mid_spawn_stop_stage(m, STAGE_SIPD, SIGTERM) == 0)
        mid_spawn_stop_all(m, SIGTERM);
}

void mid_spawn_stop_all(struct mid *m, int sig)
{
    mid_spawn_stop_stage(m, -1, sig);
}

/* mid_spawn_sipd_alive - sipd processes not yet reaped */
static int mid_spawn_sipd_alive(struct mid *m)
{
    int i, n = 0;

    for (i = 0; i < CFG_MAX_SIPD; i++)
        if (m->procs[SHM_PROC_SIPD(i)].used
            && m->procs[SHM_PROC_SIPD(i)].pid > 0)
            n++;
    return n;
}

int mid_spawn_alive(struct mid *m)
{
    int i, n = 0;

    for (i = 1; i < SHM_MAX_PROCS; i++)
        if (m->procs[i].used && m->procs[i].pid > 0)
            n++;
    return n;
}

struct mid_proc *mid_spawn_find(struct mid *m, int stage, int instance)
{
    int i;

    for (i = 0; i < SHM_MAX_PROCS; i++)
        if (m->procs[i].used && m->procs[i].stage == stage
            && m->procs[i].instance == instance)
            return &m->procs[i];
    return NULL;
}

struct mid_proc *mid_spawn_by_pid(struct mid *m, pid_t pid)
{
    int i;

    for (i = 1; i < SHM_MAX_PROCS; i++)
        if (m->procs[i].used && m->procs[i].pid == pid)
            return &m->procs[i];
    return NULL;
}

static void mid_spawn_on_retire(struct ev *ev, struct ev_timer *t)
{
    struct mid_proc *p = t->arg;

    (void)ev;
    if (p->retire && p->pid > 0) {
        kill(p->pid, SIGTERM);
        p->state = PROC_S_STOPPING;
        mid_spawn_mirror(p->mid, p);
    }
}

/*
 * mid_spawn_retire - row p leaves the table and is not restarted: at
 * once when no process runs (0), else once it has exited (1: the
 * caller tells it to go)
 */
static int mid_spawn_retire(struct mid *m, struct mid_proc *p)
{
    p->retire = 1;
    ev_timer_stop(&m->ev, &p->timer);   /* a pending restart, too */
    if (p->pid > 0)
        return 1;
    p->state = PROC_S_DOWN;
    mid_spawn_mirror(m, p);
    p->used = 0;
    return 0;
}

/*
 * mid_spawn_scale - [stages] sipd at run time (MI stage_scale sipd N).
 * Up: rows and processes for the new instances; their rings already
 * exist (laid out for CFG_MAX_SIPD), so netd may push to them before
 * they are ready: records wait there. Down: the live count drops first,
 * netd stops hashing to the instances within a tick, and they are
 * stopped MID_SCALE_GRACE_MS later and leave the table. Calls in
 * progress move to another instance, which for a stateless proxy only
 * risks reordering their messages during that second. Returns 0 or
 * -EINVAL (n out of 1..CFG_MAX_SIPD), -EBUSY (stopping).
 */
int mid_spawn_scale(struct mid *m, int n)
{
    int cur = m->shm.hdr->nsipd, i;

    if (n < 1 || n > CFG_MAX_SIPD)
        return -EINVAL;
    if (m->stopping)
        return -EBUSY;
    /* Their worker rings before the count: netd attaches what the
     * count covers. */
    for (i = cur; i < n; i++)
        if (shm_workers(&m->shm, i, m->cfg.children) < 0)
            return -EINVAL;
    /* The count first: a new sipd refuses an instance number past it
     * (sipd_rings()), and the first ones forked reach that check while
     * mid is still forking the rest. */
    __atomic_store_n(&m->shm.hdr->nsipd, n, __ATOMIC_RELEASE);
    for (i = cur; i < n; i++) {
        struct mid_proc *p = &m->procs[SHM_PROC_SIPD(i)];

        if (p->used && p->retire && p->pid > 0) {
            p->retire = 0;              /* scaled back before it stopped */
            ev_timer_stop(&m->ev, &p->retire_timer);
            continue;
        }
        if (p->used && p->pid > 0)
            continue;                   /* still stopping: restarts below */
        mid_spawn_row(m, SHM_PROC_SIPD(i), STAGE_SIPD, i);
        mid_spawn_restart(m, p);
    }
    for (i = n; i < cur; i++) {
        struct mid_proc *p = &m->procs[SHM_PROC_SIPD(i)];

        if (!p->used || !mid_spawn_retire(m, p))
            continue;
        p->retire_timer.fn = mid_spawn_on_retire;
        p->retire_timer.arg = p;
        ev_timer_start(&m->ev, &p->retire_timer, MID_SCALE_GRACE_MS);
    }
    if (n != cur)
        log_notice("sipd: %d -> %d instances", cur, n);
    return 0;
}

/*
 * mid_spawn_dbd - make the dbd row fit the config (a reload): a [db] url
 * that appeared gets a dbd, started now (it reads the new config text);
 * one that went away retires its dbd (SIGTERM: it answers what it holds,
 * then leaves the table, no restart). Returns 1 when dbd was started, -1
 * when it was told to go, 0 when nothing changed.
 */
int mid_spawn_dbd(struct mid *m)
{
    struct mid_proc *p = &m->procs[SHM_PROC_DBD];

    if (m->cfg.ndb_url > 0 && p->used && p->retire) {
        p->retire = 0;                  /* URL back before it stopped: */
        p->planned = 1;                 /* it restarts, as a bounce */
        return 0;
    }
    if (m->cfg.ndb_url > 0 && !p->used) {
        log_notice("[db] url set: starting dbd");
        mid_spawn_row(m, SHM_PROC_DBD, STAGE_DBD, 0);
        mid_spawn_restart(m, p);
        return 1;
    }
    if (m->cfg.ndb_url > 0 || !p->used || p->retire)
        return 0;
    log_notice("[db] url removed: stopping dbd");
    if (!mid_spawn_retire(m, p))
        return -1;
    kill(p->pid, SIGTERM);
    p->state = PROC_S_STOPPING;
    mid_spawn_mirror(m, p);
    return -1;
}

/*
 * mid_spawn_bounce - a planned restart (reload, MI stage_restart): ask
 * p to exit; it starts again after the minimum delay, and neither the
 * exit nor the start counts toward the crash limiter. p must be running.
 */
void mid_spawn_bounce(struct mid *m, struct mid_proc *p, const char *why)
{
    log_notice("%s/%d: pid %d: restarting (%s)", shm_stage_name(p->stage),
               p->instance, (int)p->pid, why);
    p->planned = 1;
    kill(p->pid, SIGTERM);
    p->state = PROC_S_STOPPING;
    mid_spawn_mirror(m, p);
}

/*
 * mid_spawn_start - a planned start of a stage that is down (MI
 * stage_restart of one left down because its binary did not fit; the
 * caller has probed the binary). It starts now, outside the crash
 * limiter, with the back-off reset. Returns the new pid, or -errno (the
 * fork failed: it is retried after the back-off).
 */
int mid_spawn_start(struct mid *m, struct mid_proc *p, const char *why)
{
    log_notice("%s/%d: starting (%s)", shm_stage_name(p->stage),
               p->instance, why);
    ev_timer_stop(&m->ev, &p->timer);
    p->planned = 1;
    p->backoff_ms = MID_BACKOFF_MIN_MS;
    mid_spawn_restart(m, p);
    return p->pid > 0 ? (int)p->pid : -EAGAIN;
}

/*
 * mid_spawn_watch - every ping period: kill a stage that has answered no
 * ping for [stages] hang_ms (one still starting counts from its fork;
 * one told to stop, a restart or a retirement, gets SRV_DRAIN_MS more,
 * the time it may spend on its rings after its loop stopped answering:
 * a hung stage would otherwise hold a rolling restart until it gives
 * up), and republish the live sipd set, since stalls begin and end with
 * time rather than with an event.
 */
void mid_spawn_watch(struct mid *m)
{
    int64_t now = ev_now_ms(), limit;
    int i;

    for (i = 1; i < SHM_MAX_PROCS && !m->stopping; i++) {
        struct mid_proc *p = &m->procs[i];

        limit = m->cfg.stages_hang_ms
                + (p->state == PROC_S_STOPPING ? SRV_DRAIN_MS : 0);
        if (!p->used || p->pid <= 0 || p->hung
            || (p->state != PROC_S_RUNNING && p->state != PROC_S_STARTING
                && p->state != PROC_S_STOPPING)
            || now - p->last_pong_ms <= limit)
            continue;
        log_warn("%s/%d: pid %d answered no ping for %lld ms: killing it",
                 shm_stage_name(p->stage), p->instance, (int)p->pid,
                 (long long)(now - p->last_pong_ms));
        p->hung = 1;
        kill(p->pid, SIGKILL);
    }
    mid_spawn_live(m);
}
