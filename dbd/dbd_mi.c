/*
 * SUMMARY
 *      dbd_mi - MI db_status, answered to mid over ctl
 * DESCRIPTION
 *      mid publishes "db_status ID" (mid_relay.c); dbd answers one line
 *      per [db] url, in config order:
 *
 *        URL:: postgres://sip:***@127.0.0.1:5432/sipstage state=up
 *              role=serving conns=4/4 busy=1 queued=0 latency_ms=0.4
 *              queries=N errors=N
 *
 *      state is connecting (first attempt not over), up or down; role
 *      is serving for the URL queries go to, standby for the others;
 *      conns is open/[db] pool; queued counts the queries waiting for a
 *      connection (on the serving line; 0 elsewhere); latency_ms is a
 *      moving average of the time a query takes on that URL; queries
 *      and errors count what ran there (errors: failed queries and
 *      connections lost under a query). A URL that is not up is
 *      followed by "Reason:: N TEXT", its last failure as the client
 *      library said it (N: the URL's number, from 1). The password is
 *      always "***" (db_url_mask()).
 * PROTOCOL
 *      dbd -> mid (PUSH): "mi dbd 0 PID ID SEQ more|end ..." (ctl_mi.h).
 * DIAGNOSTICS
 *      As ctl_mi.h.
 */
#include <stdio.h>
#include <string.h>

#include "ctl_mi.h"
#include "dbd.h"

/* dbd_mi_clean - one line: control characters become spaces */
static void dbd_mi_clean(char *s)
{
    for (; *s != 0; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

void dbd_mi_url(const struct dbd *d, int i, char *buf, size_t cap)
{
    const struct dbd_pool *p = &d->pools[i];

    snprintf(buf, cap, "%s state=%s role=%s conns=%d/%d busy=%d queued=%zu "
             "latency_ms=%.1f queries=%llu errors=%llu", p->shown,
             dbd_pool_state_name(p->state),
             i == d->serving ? "serving" : "standby", p->nup, p->nconns,
             p->nbusy, i == d->serving ? d->queue.n : (size_t)0,
             p->latency_ms, (unsigned long long)p->queries,
             (unsigned long long)p->errors);
}

int dbd_mi_reason(const struct dbd *d, int i, char *buf, size_t cap)
{
    const struct dbd_pool *p = &d->pools[i];

    if (p->state == DBD_U_UP || p->why[0] == 0 || cap == 0)
        return 0;
    snprintf(buf, cap, "%d %s", i + 1, p->why);
    dbd_mi_clean(buf);
    return 1;
}

void dbd_mi_status(struct dbd *d, int push, uint32_t id)
{
    struct ctl_mi mi;
    char line[DBD_URL_SHOWN + 200];
    int i;

    ctl_mi_start(&mi, push, "dbd", 0, id);
    for (i = 0; i < d->npools; i++) {
        dbd_mi_url(d, i, line, sizeof(line));
        ctl_mi_line(&mi, "URL", "%s", line);
        if (dbd_mi_reason(d, i, line, sizeof(line)))
            ctl_mi_line(&mi, "Reason", "%s", line);
    }
    ctl_mi_end(&mi, 200, "OK");
}
