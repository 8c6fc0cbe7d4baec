/*
 * SUMMARY
 *    mid_mi - the management commands, dispatched from a table
 * DESCRIPTION
 *    Each command fills a struct mid_mi_reply: a status code and reason
 *    and "NAME:: VALUE" lines, in the OpenSIPS 1.x style. The transport
 *    (mid_fifo.c) frames and delivers it. Commands about a stage's own
 *    state (dns_cache_dump, dns_blacklist_dump, dns_blacklist_flush;
 *    db_status) are asked of that stage and answered when it replies
 *    (mid_relay.c); db_cache_flush and address_reload are asked of
 *    every running sipd instance and answered with each one's count
 *    and the total. Those two answer 404 when the config has no cache
 *    or table for them ([db] url, [route] db_aliases, db_allow), as
 *    db_status does without a [db] url. Every command of the contract
 *    is built; none answers 501.
 * PROTOCOL
 *    See README.md "Management interface" for every command's reply.
 * DIAGNOSTICS
 *    Wrong arguments: 400. Unknown command: 500 "command 'X' not
 *    available" (as OpenSIPS says).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "mid.h"

struct mid_mi_cmd {
    const char *name;
    void (*fn)(struct mid *m, char **args, int nargs,
               struct mid_mi_reply *r);
    int min_args;
    int max_args;
};

static void mid_mi_time(char *buf, size_t cap, time_t t)
{
    struct tm tm;

    localtime_r(&t, &tm);
    strftime(buf, cap, "%a %b %e %H:%M:%S %Y", &tm);
}

static void mid_mi_uptime(struct mid *m, char **a, int n,
                          struct mid_mi_reply *r)
{
    char now[64], since[64];
    time_t t = time(NULL);

    (void)a;
    (void)n;
    mid_mi_time(now, sizeof(now), t);
    mid_mi_time(since, sizeof(since), (time_t)m->start_time);
    mid_reply_line(r, "Now", "%s", now);
    mid_reply_line(r, "Up since", "%s", since);
    mid_reply_line(r, "Up time", "%lld [sec]",
                (long long)(t - (time_t)m->start_time));
}

static void mid_mi_version(struct mid *m, char **a, int n,
                           struct mid_mi_reply *r)
{
    struct utsname u;
    int i;

    (void)a;
    (void)n;
    uname(&u);
    mid_reply_line(r, "Server", "sipstage %s (%s/%s)", MID_VERSION, u.machine,
                u.sysname);
    mid_reply_line(r, "Build", "mid %s", build_id());
    for (i = 1; i < SHM_MAX_PROCS; i++) {
        const struct mid_proc *p = &m->procs[i];

        if (p->used && p->build[0])
            mid_reply_line(r, "Build", "%s/%d %s", shm_stage_name(p->stage),
                           p->instance, p->build);
    }
}

static void mid_mi_pwd(struct mid *m, char **a, int n,
                       struct mid_mi_reply *r)
{
    char wd[PATH_MAX];

    (void)m;
    (void)a;
    (void)n;
    if (getcwd(wd, sizeof(wd)) == NULL) {
        mid_reply_status(r, 500, "getcwd: %s", strerror(errno));
        return;
    }
    mid_reply_line(r, "WD", "%s", wd);
}

static void mid_mi_arg(struct mid *m, char **a, int n,
                       struct mid_mi_reply *r)
{
    int i;

    (void)a;
    (void)n;
    for (i = 0; i < m->argc; i++)
        mid_reply_line(r, "", "%s", m->argv[i]);
}

static void mid_mi_ps(struct mid *m, char **a, int n,
                      struct mid_mi_reply *r)
{
    int64_t now = ev_now_ms();
    int i;

    (void)a;
    (void)n;
    mid_spawn_live(m);                  /* netd routes by what ps says */
    for (i = 0; i < SHM_MAX_PROCS; i++) {
        struct mid_proc *p = &m->procs[i];
        const char *state = mid_spawn_state_name(p->state);

        if (!p->used)
            continue;
        if (i != SHM_PROC_MID && mid_spawn_stalled(p, now))
            state = "stalled";
        mid_reply_line(r, "Process",
                    "ID=%d PID=%d Type=%s Instance=%d State=%s Restarts=%d "
                    "Build=%s", i, (int)p->pid, shm_stage_name(p->stage),
                    p->instance, state, p->restarts,
                    i == SHM_PROC_MID ? build_id()
                    : p->build[0] ? p->build : "-");
    }
}

static void mid_mi_kill(struct mid *m, char **a, int n,
                        struct mid_mi_reply *r)
{
    (void)a;
    (void)n;
    (void)r;
    mid_spawn_shutdown(m, "MI kill");
}

static void mid_mi_debug(struct mid *m, char **a, int n,
                         struct mid_mi_reply *r)
{
    char *end;
    long v;

    if (n == 1) {
        v = strtol(a[0], &end, 10);
        if (*a[0] == 0 || *end != 0 || v < LOG_L_ALERT || v > LOG_L_DBG) {
            mid_reply_status(r, 400, "Bad debug level (%d..%d)", LOG_L_ALERT,
                          LOG_L_DBG);
            return;
        }
        __atomic_store_n(&m->shm.hdr->log_level, (int32_t)v,
                         __ATOMIC_RELAXED);
    }
    mid_reply_line(r, "DEBUG", "%d",
                __atomic_load_n(&m->shm.hdr->log_level, __ATOMIC_RELAXED));
}

/* mid_mi_stat_value - the counter as the MI shows it (after a reset) */
static uint64_t mid_mi_stat_value(struct mid *m, int id)
{
    return stats_sum(shm_stats_base(&m->shm), SHM_MAX_PROCS * SHM_THREADS,
                     (enum stats_id)id) - m->stats_base[id];
}

/*
 * mid_mi_ring_backlog - bytes waiting in ring idx (SHM_RING()) of the
 *    segment; a bare handle that only reads positions: attaching would
 *    claim a side of a ring that a stage owns.
 */
uint64_t mid_mi_ring_backlog(struct mid *m, int idx)
{
    struct ring rg;

    memset(&rg, 0, sizeof(rg));
    rg.shm = (struct ring_shm *)((char *)m->shm.hdr
                                 + m->shm.hdr->rings[idx].off);
    return ring_used(&rg);
}

/*
 * mid_mi_rings - the rings of the running sipd instances, in order:
 *    per instance, those of each worker (requests in, replies in, out)
 *    then those to and from dnsd and dbd. Fills idx[] (cap entries at
 *    least SHM_MAX_RINGS), returns how many.
 */
int mid_mi_rings(struct mid *m, int *idx)
{
    int i, w, k, n = 0, nw;

    for (i = 0; i < m->shm.hdr->nsipd && i < CFG_MAX_SIPD; i++) {
        nw = __atomic_load_n(&m->shm.hdr->children[i], __ATOMIC_ACQUIRE);
        for (w = 0; w < nw && w < CFG_MAX_CHILDREN; w++)
            for (k = 0; k < SHM_W_PER; k++)
                idx[n++] = SHM_WRING(i, w, k);
        for (k = 0; k < SHM_R_PER_SIPD; k++)
            idx[n++] = SHM_RING(i, k);
    }
    return n;
}

/* mid_mi_ring_gauges - bytes waiting in each sipd's rings */
static void mid_mi_ring_gauges(struct mid *m, struct mid_mi_reply *r)
{
    static int idx[SHM_MAX_RINGS];      /* mid's one thread */
    char name[64];
    int i, n = mid_mi_rings(m, idx);

    for (i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "ring:%s_backlog",
                 m->shm.hdr->rings[idx[i]].name);
        mid_reply_line(r, name, "%llu",
                       (unsigned long long)mid_mi_ring_backlog(m, idx[i]));
    }
}

static int mid_mi_stat_match(const char *arg, int id)
{
    size_t glen = strlen(stats_defs[id].group);

    if (strcmp(arg, "all") == 0)
        return 1;
    if (strncmp(arg, stats_defs[id].group, glen) == 0 && arg[glen] == ':')
        return arg[glen + 1] == 0
               || strcmp(arg + glen + 1, stats_defs[id].name) == 0;
    return 0;
}

static void mid_mi_get_statistics(struct mid *m, char **a, int n,
                                  struct mid_mi_reply *r)
{
    char name[96];
    int i, id, hit;

    for (i = 0; i < n; i++) {
        hit = 0;
        for (id = 0; id < STAT__N; id++) {
            if (!mid_mi_stat_match(a[i], id))
                continue;
            snprintf(name, sizeof(name), "%s:%s", stats_defs[id].group,
                     stats_defs[id].name);
            mid_reply_line(r, name, "%llu",
                        (unsigned long long)mid_mi_stat_value(m, id));
            hit = 1;
        }
        if (strcmp(a[i], "all") == 0 || strcmp(a[i], "ring:") == 0) {
            mid_mi_ring_gauges(m, r);
            hit = 1;
        }
        if (!hit) {
            mid_reply_status(r, 404, "Statistics %.64s not found", a[i]);
            return;
        }
    }
}

static void mid_mi_reset_statistics(struct mid *m, char **a, int n,
                                    struct mid_mi_reply *r)
{
    int i, id;

    for (i = 0; i < n; i++) {
        if ((id = stats_find(a[i])) < 0) {
            mid_reply_status(r, 404, "Statistics %.64s not found", a[i]);
            return;
        }
        m->stats_base[id] += mid_mi_stat_value(m, id);
    }
}

/* mid_mi_parse_stage - "sipd", "sipd/1" -> stage, instance (default 0);
 * -1 for an unknown stage or an instance that is not a number */
static int mid_mi_parse_stage(const char *arg, int *stage, int *inst)
{
    char name[16], *end;
    const char *slash = strchr(arg, '/');
    size_t len = slash ? (size_t)(slash - arg) : strlen(arg);
    long v = 0;
    int s;

    if (len == 0 || len >= sizeof(name))
        return -1;
    memcpy(name, arg, len);
    name[len] = 0;
    if (slash != NULL) {
        v = strtol(slash + 1, &end, 10);
        if (slash[1] == 0 || *end != 0 || v < 0 || v >= CFG_MAX_SIPD)
            return -1;
    }
    *inst = (int)v;
    for (s = STAGE_NETD; s < STAGE__N; s++)
        if (strcmp(name, shm_stage_name(s)) == 0) {
            *stage = s;
            return 0;
        }
    return -1;
}

static void mid_mi_stage_restart(struct mid *m, char **a, int n,
                                 struct mid_mi_reply *r)
{
    struct mid_proc *p;
    char why[256];
    int stage, inst;

    (void)n;
    if (mid_mi_parse_stage(a[0], &stage, &inst) < 0
        || (p = mid_spawn_find(m, stage, inst)) == NULL) {
        mid_reply_status(r, 404, "No such stage %.32s", a[0]);
        return;
    }
    /* A stage left down (its binary did not fit at a crash restart) may
     * be started; one in back-off restarts by itself. */
    if (p->pid <= 0
        && (p->state != PROC_S_DOWN || p->retire || m->stopping)) {
        mid_reply_status(r, 409, "Stage %.32s is not running", a[0]);
        return;
    }
    if (m->roll_n > 0) {
        mid_reply_status(r, 409, "reload in progress: try again when ps "
                      "shows every stage running");
        return;
    }
    if (mid_probe(m, stage, why, sizeof(why)) < 0) {
        log_warn("stage_restart %s refused: %s", a[0], why);
        mid_reply_status(r, 409, "%.120s", why);
        return;
    }
    if (p->pid <= 0) {
        int pid = mid_spawn_start(m, p, "MI stage_restart");

        if (pid < 0) {
            mid_reply_status(r, 500, "Stage %.32s: fork: %s", a[0],
                             strerror(-pid));
            return;
        }
        mid_reply_line(r, "Process", "%s/%d PID=%d starting",
                       shm_stage_name(stage), inst, pid);
        return;
    }
    mid_spawn_bounce(m, p, "MI stage_restart");
    mid_reply_line(r, "Process", "%s/%d PID=%d stopping",
                shm_stage_name(stage), inst, (int)p->pid);
}

/* mid_mi_reload - the reload's result or refusal as an MI reply */
static void mid_mi_reload(struct mid *m, char **a, int n,
                          struct mid_mi_reply *r)
{
    struct mid_reload_res res;
    char why[512];
    int rc;

    (void)a;
    (void)n;
    if ((rc = mid_reload(m, &res, why, sizeof(why))) >= 0) {
        mid_reply_line(r, "Reload", "%d stages restart one at a time", rc);
        mid_reply_line(r, "Stages", "%s", rc > 0 ? res.stages : "none");
        mid_reply_line(r, "Changed", "%s",
                       res.changed[0] ? res.changed : "none");
        return;
    }
    mid_reply_status(r, rc == -EINVAL ? 400 : rc == -ENOMEM ? 500 : 409,
                  "%.120s", why);
}

/* mid_mi_stage_scale - "sipd N": only sipd runs as several processes */
static void mid_mi_stage_scale(struct mid *m, char **a, int n,
                               struct mid_mi_reply *r)
{
    char *end;
    long v;
    int err;

    (void)n;
    if (strcmp(a[0], "sipd") != 0) {
        mid_reply_status(r, 400, "Only sipd scales (%.16s is one process)",
                      a[0]);
        return;
    }
    v = strtol(a[1], &end, 10);
    if (*a[1] == 0 || *end != 0 || v < 1 || v > CFG_MAX_SIPD) {
        mid_reply_status(r, 400, "Bad count (1..%d)", CFG_MAX_SIPD);
        return;
    }
    if ((err = mid_spawn_scale(m, (int)v)) < 0) {
        mid_reply_status(r, 409, "Cannot scale: %s", strerror(-err));
        return;
    }
    mid_reply_line(r, "sipd", "%ld", v);
}

/* mid_mi_dns_cache_flush - a broadcast: dnsd empties its cache */
static void mid_mi_dns_cache_flush(struct mid *m, char **a, int n,
                                   struct mid_mi_reply *r)
{
    int err;

    (void)a;
    (void)n;
    if ((err = ctl_send(m->ctl_pub, "dns_cache_flush")) < 0)
        mid_reply_status(r, 500, "broadcast: %s", strerror(-err));
}

/* mid_mi_dns_ask - dnsd answers this one (mid_relay.c) */
static void mid_mi_dns_ask(struct mid_mi_reply *r, struct mid *m,
                           const char *cmd)
{
    mid_relay_ask(m, STAGE_DNSD, cmd, r);
}

static void mid_mi_dns_cache_dump(struct mid *m, char **a, int n,
                                  struct mid_mi_reply *r)
{
    (void)a;
    (void)n;
    mid_mi_dns_ask(r, m, "dns_cache_dump");
}

static void mid_mi_dns_blacklist_dump(struct mid *m, char **a, int n,
                                      struct mid_mi_reply *r)
{
    (void)a;
    (void)n;
    mid_mi_dns_ask(r, m, "dns_blacklist_dump");
}

static void mid_mi_dns_blacklist_flush(struct mid *m, char **a, int n,
                                       struct mid_mi_reply *r)
{
    (void)a;
    (void)n;
    mid_mi_dns_ask(r, m, "dns_blacklist_flush");
}

/*
 * mid_mi_db_status - dbd answers, one line per [db] url (dbd_mi.c).
 *      Without a [db] url there is no dbd to ask: 404, which says the
 *      thing asked about does not exist here, rather than 501 (the
 *      command is built) or 500 (nothing failed).
 */
static void mid_mi_db_status(struct mid *m, char **a, int n,
                             struct mid_mi_reply *r)
{
    (void)a;
    (void)n;
    if (m->cfg.ndb_url == 0 || !m->procs[SHM_PROC_DBD].used) {
        mid_reply_status(r, 404, "No database: [db] url is not set");
        return;
    }
    mid_relay_ask(m, STAGE_DBD, "db_status", r);
}

/*
 * mid_mi_db_cache_flush - every sipd empties its alias cache:
 *    "sipd/I:: Flushed=N" per instance and "Flushed:: TOTAL"
 */
static void mid_mi_db_cache_flush(struct mid *m, char **a, int n,
                                  struct mid_mi_reply *r)
{
    (void)a;
    (void)n;
    if (m->cfg.ndb_url == 0 || !m->cfg.db_aliases) {
        mid_reply_status(r, 404, "%s: no alias cache to flush",
                         m->cfg.ndb_url == 0 ? "no [db] url"
                                             : "[route] db_aliases is off");
        return;
    }
    mid_relay_ask_all(m, STAGE_SIPD, "db_cache_flush", r);
}

/*
 * mid_mi_address_reload - every sipd reads table address again:
 *    "sipd/I:: Rows=N" per instance and "Rows:: TOTAL"
 */
static void mid_mi_address_reload(struct mid *m, char **a, int n,
                                  struct mid_mi_reply *r)
{
    (void)a;
    (void)n;
    if (m->cfg.ndb_url == 0 || !m->cfg.db_allow) {
        mid_reply_status(r, 404, "%s: no address table to reload",
                         m->cfg.ndb_url == 0 ? "no [db] url"
                                             : "[route] db_allow is off");
        return;
    }
    mid_relay_ask_all(m, STAGE_SIPD, "address_reload", r);
}

static const struct mid_mi_cmd mid_mi_cmds[] = {
    {"address_reload", mid_mi_address_reload, 0, 0},
    {"arg", mid_mi_arg, 0, 0},
    {"db_cache_flush", mid_mi_db_cache_flush, 0, 0},
    {"db_status", mid_mi_db_status, 0, 0},
    {"debug", mid_mi_debug, 0, 1},
    {"dns_blacklist_dump", mid_mi_dns_blacklist_dump, 0, 0},
    {"dns_blacklist_flush", mid_mi_dns_blacklist_flush, 0, 0},
    {"dns_cache_dump", mid_mi_dns_cache_dump, 0, 0},
    {"dns_cache_flush", mid_mi_dns_cache_flush, 0, 0},
    {"get_statistics", mid_mi_get_statistics, 1, 16},
    {"kill", mid_mi_kill, 0, 0},
    {"ps", mid_mi_ps, 0, 0},
    {"pwd", mid_mi_pwd, 0, 0},
    {"reload", mid_mi_reload, 0, 0},
    {"reset_statistics", mid_mi_reset_statistics, 1, 16},
    {"stage_restart", mid_mi_stage_restart, 1, 1},
    {"stage_scale", mid_mi_stage_scale, 2, 2},
    {"uptime", mid_mi_uptime, 0, 0},
    {"version", mid_mi_version, 0, 0},
    {"which", NULL, 0, 0},
};

#define MID_MI_NCMDS (sizeof(mid_mi_cmds) / sizeof(mid_mi_cmds[0]))

/* mid_mi_exists - cmd is a command of the table (mid_mi_run knows it) */
int mid_mi_exists(const char *cmd)
{
    size_t i;

    for (i = 0; i < MID_MI_NCMDS; i++)
        if (strcmp(mid_mi_cmds[i].name, cmd) == 0)
            return 1;
    return 0;
}

void mid_mi_run(struct mid *m, const char *cmd, char **args, int nargs,
                struct mid_mi_reply *r)
{
    const struct mid_mi_cmd *c = NULL;
    size_t i;

    mid_reply_status(r, 200, "OK");
    for (i = 0; i < MID_MI_NCMDS; i++)
        if (strcmp(mid_mi_cmds[i].name, cmd) == 0)
            c = &mid_mi_cmds[i];
    if (c == NULL) {
        mid_reply_status(r, 500, "command '%.64s' not available", cmd);
        return;
    }
    if (nargs < c->min_args || nargs > c->max_args) {
        mid_reply_status(r, 400, "Too few or too many arguments");
        return;
    }
    if (c->fn == NULL) {                /* which */
        for (i = 0; i < MID_MI_NCMDS; i++)
            mid_reply_line(r, "", "%s", mid_mi_cmds[i].name);
        return;
    }
    log_debug("MI command %s with %d arguments", cmd, nargs);
    c->fn(m, args, nargs, r);
}
