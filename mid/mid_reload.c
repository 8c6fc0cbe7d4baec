/*
 * SUMMARY
 *    mid_reload - reload the config: validate, swap, restart stage by stage
 * DESCRIPTION
 *    MI "reload" or SIGHUP. mid reads the file again and parses it into a
 *    new struct (nginx's ngx_init_cycle(): on any error the old config
 *    stays and nothing changes). Settings that only mid applies, at its
 *    own start (the CFG_RESTART rows of the key table, common/cfg_keys.c)
 *    are compared with the running ones by cfg_diff(): if one differs the
 *    reload is refused by name, since it needs a full restart (listen
 *    sockets are bound by mid; the FIFO, run_dir, pid files and mid's own
 *    logging are mid's).
 *
 *    Otherwise the new text goes into the segment (shm_cfg_set: the other
 *    slot, then a switch, so a stage starting meanwhile reads one whole
 *    text), mid takes the new struct, the live log level follows, and so
 *    does the sipd count ([stages] sipd, as stage_scale) when the file
 *    changed it: a count set with MI stage_scale is kept across reloads
 *    of a file whose [stages] sipd is unchanged. A [db] url that appears
 *    starts dbd, one that goes stops it (mid_spawn_dbd). Then the stages
 *    are restarted one at a time: dnsd, dbd, every sipd, netd, each only
 *    after the previous one is running again. Each reads the new text as
 *    it starts. The rings hold the traffic of a stage while it restarts,
 *    so nothing is dropped (the same path as a crash, without the
 *    back-off).
 *
 *    mid_reload() writes no reply: it returns the number of stages that
 *    restart, or -errno and the reason, and the MI layer (mid_mi.c) and
 *    the SIGHUP handler (mid.c) each make of it what they need.
 * PROTOCOL
 *    None here: the caller's MI reply is "200 OK" + "Reload:: N stages
 *    restart one at a time"; 400 with the config error (FILE:LINE:
 *    [section] key: reason); 409 "KEY changed: needs a full restart",
 *    "reload in progress", or a stage binary on disk that does not fit
 *    the running segment ("sipd binary layout X does not match the
 *    running segment Y: full restart needed", mid_probe.c), checked
 *    before any stage stops.
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

#define MID_RELOAD_NCHANGE 64          /* keys that may differ, at most */

/*
 * mid_reload_fixed - the keys that differ and need a full restart, as
 * "[net] listen, [core] run_dir" into buf; 0 when there are none
 */
static int mid_reload_fixed(const struct cfg *a, const struct cfg *b,
                            char *buf, size_t cap)
{
    struct cfg_change ch[MID_RELOAD_NCHANGE];
    size_t off = 0;
    int i, n, nfixed = 0;

    n = cfg_diff(a, b, ch, MID_RELOAD_NCHANGE);
    buf[0] = '\0';
    for (i = 0; i < n && i < MID_RELOAD_NCHANGE; i++) {
        if (ch[i].apply != CFG_RESTART)
            continue;
        if (off < cap)
            off += (size_t)snprintf(buf + off, cap - off, "%s[%s] %s",
                                    nfixed ? ", " : "", ch[i].sect,
                                    ch[i].key);
        nfixed++;
    }
    return nfixed;
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

/* mid_reload_roll - queue dnsd, dbd, sipd/0..N-1, netd and start */
static int mid_reload_roll(struct mid *m)
{
    int i, n = 0;

    m->roll[n++] = SHM_PROC_DNSD;
    if (m->procs[SHM_PROC_DBD].used && !m->procs[SHM_PROC_DBD].retire)
        m->roll[n++] = SHM_PROC_DBD;
    for (i = 0; i < CFG_MAX_SIPD; i++)
        if (m->procs[SHM_PROC_SIPD(i)].used)
            m->roll[n++] = SHM_PROC_SIPD(i);
    m->roll[n++] = SHM_PROC_NETD;
    m->roll_n = n;
    m->roll_next = 0;
    m->roll_pid = 0;
    m->roll_timer.fn = mid_reload_step;
    m->roll_timer.arg = m;
    ev_timer_start(&m->ev, &m->roll_timer, 0);
    return n;
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
 * mid_reload_probe - every stage binary the rolling restart will start
 * must fit the running segment (mid_probe.c): one that does not is
 * refused before any stage stops. 0, or -1 with why.
 */
static int mid_reload_probe(struct mid *m, const struct cfg *nc, char *why,
                            size_t whylen)
{
    static const int stages[] = {STAGE_DNSD, STAGE_SIPD, STAGE_NETD,
                                 STAGE_DBD};
    size_t i;

    for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++)
        if ((stages[i] != STAGE_DBD || nc->ndb_url > 0)
            && mid_probe(m, stages[i], why, whylen) < 0)
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

/*
 * mid_reload - read and check the file again and, when it loads and
 * changes nothing that needs a full restart, swap it in and start the
 * rolling restart. Returns the number of stages that restart one at a
 * time, or -errno with the reason in why[whylen] (whylen > 0): -EINVAL
 * the file does not load (its first error), -EBUSY a reload is in
 * progress or mid is stopping, -EPERM a key that needs a full restart
 * changed, -ENOMEM. A refusal changes nothing; it is logged here (as a
 * SIGHUP has no one else to tell), except -EBUSY.
 */
int mid_reload(struct mid *m, char *why, size_t whylen)
{
    struct cfg *nc;
    char keys[256], *text = NULL;
    size_t len;
    int n, rc, file_sipd = m->cfg.stages_sipd;

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
    if (mid_reload_fixed(&m->cfg, nc, keys, sizeof(keys)) > 0) {
        snprintf(why, whylen, "%s changed: needs a full restart", keys);
        log_warn("reload refused, config unchanged: %s (scripts/sipctl "
                 "restart)", why);
        rc = -EPERM;
        goto out;
    }
    if (mid_reload_probe(m, nc, why, whylen) < 0) {
        log_warn("reload refused, config unchanged: %s", why);
        rc = -EPERM;
        goto out;
    }
    shm_cfg_set(&m->shm, text, len);   /* size checked by mid_conf_read */
    free(m->cfg_text);
    m->cfg_text = text;
    m->cfg_len = len;
    m->cfg = *nc;
    free(nc);
    __atomic_store_n(&m->shm.hdr->log_level,
                     m->verbose ? LOG_L_INFO + m->verbose - 1 : m->cfg.debug,
                     __ATOMIC_RELAXED);
    /* The file's count wins only when the file changed it: a count an
     * operator set with stage_scale survives reloads of the same file. */
    if (m->cfg.stages_sipd != file_sipd
        && m->cfg.stages_sipd != m->shm.hdr->nsipd)
        mid_spawn_scale(m, m->cfg.stages_sipd);
    n = mid_reload_roll(m);
    mid_spawn_dbd(m);                   /* after the roll: a new dbd
                                         * already reads the new text */
    log_notice("reload: config %s accepted; restarting %d stages one at "
               "a time", m->cfg_path, n);
    return n;
out:
    free(text);                         /* NULL when the parse failed */
    free(nc);
    return rc;
}
