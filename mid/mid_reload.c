/*
 * SUMMARY
 *    mid_reload - reload the config: validate, swap, restart what reads it
 * DESCRIPTION
 *    MI "reload" or SIGHUP. mid reads the file again and parses it into a
 *    new struct (nginx's ngx_init_cycle(): on any error the old config
 *    stays and nothing changes). cfg_diff() lists the keys whose values
 *    differ from the running ones. Settings that only mid applies, at its
 *    own start (the CFG_RESTART rows of the key table, common/cfg_keys.c),
 *    refuse the reload by name, since they need a full restart (listen
 *    sockets are bound by mid; the FIFO, run_dir, pid files and mid's own
 *    logging are mid's).
 *
 *    Otherwise the new text goes into the segment (shm_cfg_set: the other
 *    slot, then a switch, so a stage starting meanwhile reads one whole
 *    text), mid takes the new struct (what only mid reads, such as [mi]
 *    http_allow or [stages] hang_ms, applies at once), the live log level
 *    follows, and so does the sipd count ([stages] sipd, as stage_scale)
 *    when the file changed it: a count set with MI stage_scale is kept
 *    across reloads of a file whose [stages] sipd is unchanged. A [db] url
 *    that appears starts dbd, one that goes stops it (mid_spawn_dbd).
 *
 *    Then only the stages that read a changed key (the key table's
 *    stages column, CFG_S_*), or a file the config names whose contents
 *    changed since the stage started (a renewed [tls] certificate under
 *    the same path, /etc/resolv.conf: mid_files.c), restart, one at a
 *    time, in the order dnsd, dbd, every sipd, netd, each only after the
 *    previous one is running again. Each reads the new text as it
 *    starts. The rings hold the traffic of a stage while it restarts, so
 *    nothing is dropped (the same path as a crash, without the
 *    back-off). A stage that reads no changed key keeps running: a
 *    reload that changes only [dns] keys leaves netd, and with it every
 *    TCP and TLS connection, alone. A file that changes nothing a stage
 *    reads restarts nothing. Every stage binary about to start (those
 *    restarted, and sipd when the count grows) is probed first
 *    (mid_probe.c); one that does not fit refuses the reload before
 *    anything changes.
 *
 *    mid_reload() writes no reply: it returns the number of stages that
 *    restart, their names and the changed keys, or -errno and the reason,
 *    and the MI layer (mid_mi.c) and the SIGHUP handler (mid.c) each
 *    make of it what they need.
 * PROTOCOL
 *    None here: the caller's MI reply is "200 OK" + "Reload:: N stages
 *    restart one at a time", "Stages:: dnsd sipd/0 ..." (or "none") and
 *    "Changed:: [dns] blacklist_s, ..." (or "none"); 400 with the config
 *    error (FILE:LINE: [section] key: reason); 409 "KEY changed: needs a
 *    full restart", "reload in progress", or a stage binary on disk that
 *    does not fit the running segment ("sipd binary layout X does not
 *    match the running segment Y: full restart needed", mid_probe.c),
 *    checked before any stage stops.
 * DIAGNOSTICS
 *    A stage that does not come back within MID_RELOAD_WAIT_MS stops the
 *    rolling restart with a warning; the stages not reached keep running
 *    the old settings until their next restart (which reads the new text).
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mid.h"

#define MID_RELOAD_POLL_MS 50
#define MID_RELOAD_WAIT_MS 10000

#define MID_RELOAD_NCHANGE 128         /* keys that may differ, listed */

/*
 * mid_reload_keys - the keys of ch[0..n-1] whose apply is "apply", as
 * "[net] listen, [core] run_dir" into buf (cut short at cap, never
 * unterminated); returns how many there are
 */
static int mid_reload_keys(const struct cfg_change *ch, int n,
                           enum cfg_apply apply, char *buf, size_t cap)
{
    size_t off = 0;
    int i, k = 0;

    buf[0] = '\0';
    for (i = 0; i < n; i++) {
        if (ch[i].apply != apply)
            continue;
        if (off < cap)
            off += (size_t)snprintf(buf + off, cap - off, "%s[%s] %s",
                                    k ? ", " : "", ch[i].sect, ch[i].key);
        k++;
    }
    return k;
}

/*
 * mid_reload_diff - what changed from a to b: the keys that need a full
 * restart into fixed, the others into changed (each "" when none), and
 * the stages that read a changed key into *stages (CFG_S_*). Returns the
 * count of full-restart keys. More changes than MID_RELOAD_NCHANGE (a
 * file rewritten whole) restart every stage: no stage may keep an old
 * setting because a list was too short.
 */
static int mid_reload_diff(const struct cfg *a, const struct cfg *b,
                           char *fixed, size_t fcap, char *changed,
                           size_t ccap, unsigned *stages)
{
    struct cfg_change ch[MID_RELOAD_NCHANGE];
    int i, n;

    n = cfg_diff(a, b, ch, MID_RELOAD_NCHANGE);
    *stages = n > MID_RELOAD_NCHANGE ? CFG_S_ALL : 0;
    if (n > MID_RELOAD_NCHANGE)
        n = MID_RELOAD_NCHANGE;
    for (i = 0; i < n; i++)
        if (ch[i].apply == CFG_RELOAD)
            *stages |= ch[i].stages;
    mid_reload_keys(ch, n, CFG_RELOAD, changed, ccap);
    return mid_reload_keys(ch, n, CFG_RESTART, fixed, fcap);
}

/* mid_reload_step - restart the next stage once the last one is back */
static void mid_reload_step(struct ev *ev, struct ev_timer *t)
{
    struct mid *m = t->arg;

    while (m->roll_next < m->roll_n && !m->stopping) {
        struct mid_proc *p = &m->procs[m->roll[m->roll_next]];

        if (m->roll_pid == 0) {
            if (!p->used || p->pid <= 0 || p->retire) {
                m->roll_next++;         /* gone or going: nothing to do */
                continue;
            }
            m->roll_pid = p->pid;
            m->roll_deadline = ev_now_ms() + MID_RELOAD_WAIT_MS;
            mid_spawn_bounce(m, p, "reload");
        } else if (p->pid > 0 && p->pid != m->roll_pid
                   && p->state == PROC_S_RUNNING) {
            m->roll_pid = 0;            /* back, on the new text */
            m->roll_next++;
            continue;
        } else if (ev_now_ms() > m->roll_deadline) {
            log_warn("reload: %s/%d not running again after %d ms: "
                     "rolling restart stopped", shm_stage_name(p->stage),
                     p->instance, MID_RELOAD_WAIT_MS);
            m->roll_n = 0;
            return;
        }
        ev_timer_start(ev, t, MID_RELOAD_POLL_MS);
        return;
    }
    if (m->roll_n > 0)
        log_notice("reload: done, %d stages on the new config", m->roll_n);
    m->roll_n = 0;
}

/* mid_reload_add - queue proc slot i when it runs; its name into res */
static void mid_reload_add(struct mid *m, int i, struct mid_reload_res *res)
{
    const struct mid_proc *p = &m->procs[i];
    size_t off = strlen(res->stages);

    if (!p->used || p->retire || p->pid <= 0)
        return;                         /* not running: when it starts, it
                                         * reads the new text anyway */
    m->roll[m->roll_n++] = i;
    if (off >= sizeof(res->stages))
        return;
    if (p->stage == STAGE_SIPD)
        snprintf(res->stages + off, sizeof(res->stages) - off, "%s%s/%d",
                 off ? " " : "", shm_stage_name(p->stage), p->instance);
    else
        snprintf(res->stages + off, sizeof(res->stages) - off, "%s%s",
                 off ? " " : "", shm_stage_name(p->stage));
}

/*
 * mid_reload_roll - queue the running stages of the set in the order
 * dnsd, dbd, sipd/0..N-1, netd and start; how many were queued
 */
static int mid_reload_roll(struct mid *m, unsigned stages,
                           struct mid_reload_res *res)
{
    int i;

    m->roll_n = 0;
    res->stages[0] = '\0';
    if (stages & CFG_S_DNSD)
        mid_reload_add(m, SHM_PROC_DNSD, res);
    if (stages & CFG_S_DBD)
        mid_reload_add(m, SHM_PROC_DBD, res);
    for (i = 0; i < CFG_MAX_SIPD && (stages & CFG_S_SIPD); i++)
        mid_reload_add(m, SHM_PROC_SIPD(i), res);
    if (stages & CFG_S_NETD)
        mid_reload_add(m, SHM_PROC_NETD, res);
    m->roll_next = 0;
    m->roll_pid = 0;
    if (m->roll_n > 0) {
        m->roll_timer.fn = mid_reload_step;
        m->roll_timer.arg = m;
        ev_timer_start(&m->ev, &m->roll_timer, 0);
    }
    return m->roll_n;
}

/* mid_reload_parse - the file into *nc and its text; -1 with err */
static int mid_reload_parse(struct mid *m, struct cfg *nc, char **text,
                            size_t *len, char *err, size_t errlen)
{
    int rc;

    if ((rc = mid_conf_read(m->cfg_path, text, len)) < 0) {
        snprintf(err, errlen, "%.400s: cannot open: %s", m->cfg_path,
                 strerror(-rc));
        return -1;
    }
    if (cfg_load_buf(nc, m->cfg_path, *text, *len, err, errlen) < 0
        || mid_conf_check(nc, *text, m->cfg_path, err, errlen) < 0) {
        free(*text);
        *text = NULL;
        return -1;
    }
    return 0;
}

/*
 * mid_reload_probe - every stage binary the reload will start must fit
 * the running segment (mid_probe.c): those of the stages restarted, and
 * sipd's when the count grows; dbd's only with a [db] url. One that does
 * not fit is refused before any stage stops. 0, or -1 with why.
 */
static int mid_reload_probe(struct mid *m, const struct cfg *nc,
                            unsigned stages, int grow, char *why,
                            size_t whylen)
{
    static const struct {
        int stage;
        unsigned bit;
    } all[] = {{STAGE_DNSD, CFG_S_DNSD},
               {STAGE_DBD, CFG_S_DBD},
               {STAGE_SIPD, CFG_S_SIPD},
               {STAGE_NETD, CFG_S_NETD}};
    size_t i;

    if (grow)
        stages |= CFG_S_SIPD;
    if (nc->ndb_url == 0)
        stages &= ~CFG_S_DBD;
    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if ((stages & all[i].bit)
            && mid_probe(m, all[i].stage, why, whylen) < 0)
            return -1;
    return 0;
}

/*
 * mid_reload_kick - a stage said "ready": move the rolling restart on now
 * rather than at the next poll, so that once "ps" shows every stage
 * running again the reload is over and another one may start.
 */
void mid_reload_kick(struct mid *m)
{
    if (m->roll_n > 0) {
        ev_timer_stop(&m->ev, &m->roll_timer);
        mid_reload_step(&m->ev, &m->roll_timer);
    }
}

/* mid_reload_log - say what the accepted reload does */
static void mid_reload_log(struct mid *m, const struct mid_reload_res *res)
{
    if (res->changed[0] == '\0' && res->nstages == 0)
        log_notice("reload: config %s accepted, nothing changed: no stage "
                   "restarts", m->cfg_path);
    else if (res->nstages == 0)
        log_notice("reload: config %s accepted; changed %s: no stage "
                   "reads it, none restarts", m->cfg_path, res->changed);
    else
        log_notice("reload: config %s accepted; restarting %d stages one "
                   "at a time: %s (changed %s)", m->cfg_path, res->nstages,
                   res->stages, res->changed);
}

/* mid_reload_swap - the new text and struct become current (takes text) */
static void mid_reload_swap(struct mid *m, struct cfg *nc, char *text,
                            size_t len)
{
    shm_cfg_set(&m->shm, text, len);   /* size checked by mid_conf_read */
    free(m->cfg_text);
    m->cfg_text = text;
    m->cfg_len = len;
    m->cfg = *nc;
    __atomic_store_n(&m->shm.hdr->log_level,
                     m->verbose ? LOG_L_INFO + m->verbose - 1 : m->cfg.debug,
                     __ATOMIC_RELAXED);
}

/*
 * mid_reload - read and check the file again and, when it loads and
 * changes nothing that needs a full restart, swap it in and restart the
 * stages that read a changed key, one at a time. Returns the number of
 * stages that restart (0: none; an unchanged file, or changes only mid
 * reads), with their names and the changed keys in *res (NULL: not
 * wanted), or -errno with the reason in why[whylen] (whylen > 0):
 * -EINVAL the file does not load (its first error), -EBUSY a reload is
 * in progress or mid is stopping, -EPERM a key that needs a full restart
 * changed, or a stage binary to start does not fit, -ENOMEM. A refusal
 * changes nothing; it is logged here (as a SIGHUP has no one else to
 * tell), except -EBUSY.
 */
int mid_reload(struct mid *m, struct mid_reload_res *res, char *why,
               size_t whylen)
{
    struct mid_reload_res own;
    struct cfg *nc;
    char keys[256], *text = NULL;
    unsigned stages;
    size_t len;
    int rc, file_sipd = m->cfg.stages_sipd, scale = 0;

    if (res == NULL)
        res = &own;
    memset(res, 0, sizeof(*res));
    if ((nc = malloc(sizeof(*nc))) == NULL) {
        snprintf(why, whylen, "out of memory");
        return -ENOMEM;
    }
    if (mid_reload_parse(m, nc, &text, &len, why, whylen) < 0) {
        log_warn("reload refused, config unchanged: %s", why);
        rc = -EINVAL;
        goto out;
    }
    if (m->roll_n > 0 || m->stopping) {
        snprintf(why, whylen, "reload in progress: try again when ps "
                 "shows every stage running");
        rc = -EBUSY;
        goto out;
    }
    if (mid_reload_diff(&m->cfg, nc, keys, sizeof(keys), res->changed,
                        sizeof(res->changed), &stages) > 0) {
        snprintf(why, whylen, "%s changed: needs a full restart", keys);
        log_warn("reload refused, config unchanged: %s (scripts/sipctl "
                 "restart)", why);
        rc = -EPERM;
        goto out;
    }
    /* Files the config names but does not hold (a renewed certificate
     * under the same path) restart the stage that reads them. */
    stages |= mid_files_changed(m, nc, res->changed, sizeof(res->changed));
    /* The file's count wins only when the file changed it: a count an
     * operator set with stage_scale survives reloads of the same file. */
    if (nc->stages_sipd != file_sipd && nc->stages_sipd != m->shm.hdr->nsipd)
        scale = nc->stages_sipd;
    if (mid_reload_probe(m, nc, stages, scale > m->shm.hdr->nsipd, why,
                         whylen) < 0) {
        log_warn("reload refused, config unchanged: %s", why);
        rc = -EPERM;
        goto out;
    }
    mid_reload_swap(m, nc, text, len);
    free(nc);
    /* The instances running now restart; those a larger count adds start
     * on the new text already. */
    res->nstages = mid_reload_roll(m, stages, res);
    if (scale > 0)
        mid_spawn_scale(m, scale);
    mid_spawn_dbd(m);                   /* after the roll: a new dbd
                                         * already reads the new text */
    mid_reload_log(m, res);
    return res->nstages;
out:
    free(text);                         /* NULL when the parse failed */
    free(nc);
    return rc;
}
