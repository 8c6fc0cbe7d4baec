/*
 * SUMMARY
 *    mid_metrics - every statistic in Prometheus' text format
 * DESCRIPTION
 *    mid_metrics_text() writes what "GET /metrics" (mid_http.c) answers:
 *    the text exposition format 0.0.4, one family per statistic, named
 *    sipstage_GROUP_NAME (core:rcv_requests -> sipstage_core_rcv_requests)
 *    with the MI name as HELP. Statistics are counters except the
 *    gauges of mid_metrics_gauges[] (tcp:connections_open,
 *    dns:blacklist_size, db:queue_len, db:cache_entries,
 *    db:allow_rows). Counters are the raw sums over every slot:
 *    MI reset_statistics moves the MI's baseline only, so what
 *    Prometheus sees never goes down.
 *
 *    Then the process table, one series per process labelled
 *    stage="netd",instance="0": sipstage_process_restarts (counter),
 *    sipstage_process_state{...,state="running"} (1 for the current
 *    state, 0 for the others: starting, running, stalled, backoff,
 *    stopping, down), and for a process that runs
 *    sipstage_process_rss_bytes (/proc/PID/statm) and
 *    sipstage_process_cpu_seconds (utime + stime of /proc/PID/stat);
 *    sipstage_ring_backlog{ring="netd>sipd.0"}, bytes waiting in each
 *    ring (a gauge), and sipstage_uptime_seconds.
 * PROTOCOL
 *    https://prometheus.io/docs/instrumenting/exposition_formats/ (text,
 *    version 0.0.4): "# HELP", "# TYPE" and the samples of a family
 *    together, LF line ends.
 * DIAGNOSTICS
 *    Nothing is logged. A /proc file that cannot be read (the process
 *    just died) leaves its samples out. Out of memory: NULL.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mid.h"

#define MID_METRICS_MAX (4 << 20)       /* bytes: a bug, not a client */

struct mid_metrics_buf {
    char *s;
    size_t len;
    size_t cap;
    int oom;
};

static const int mid_metrics_gauges[] = {STAT_TCP_OPEN, STAT_DNS_BL_SIZE,
                                         STAT_DB_QUEUE_LEN,
                                         STAT_DB_CACHE_ENTRIES,
                                         STAT_DB_ALLOW_ROWS};

static void mid_metrics_put(struct mid_metrics_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* mid_metrics_put - append printf-style; sets b->oom on failure */
static void mid_metrics_put(struct mid_metrics_buf *b, const char *fmt, ...)
{
    va_list ap;
    size_t cap;
    char *ns;
    int n;

    if (b->oom)
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < b->cap - b->len) {
        b->len += (size_t)n;
        return;
    }
    for (cap = b->cap * 2; n >= 0 && cap - b->len <= (size_t)n; cap *= 2)
        ;
    if (n < 0 || cap > MID_METRICS_MAX || (ns = realloc(b->s, cap)) == NULL) {
        b->oom = 1;
        return;
    }
    b->s = ns;
    b->cap = cap;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static int mid_metrics_is_gauge(int id)
{
    size_t i;

    for (i = 0; i < sizeof(mid_metrics_gauges) / sizeof(int); i++)
        if (mid_metrics_gauges[i] == id)
            return 1;
    return 0;
}

/* mid_metrics_stats - one family per statistic */
static void mid_metrics_stats(struct mid *m, struct mid_metrics_buf *b)
{
    const struct stats_def *d;
    uint64_t v;
    int id;

    for (id = 0; id < STAT__N; id++) {
        d = &stats_defs[id];
        v = stats_sum(shm_stats_base(&m->shm), SHM_MAX_PROCS * SHM_THREADS,
                      (enum stats_id)id);
        mid_metrics_put(b, "# HELP sipstage_%s_%s %s:%s\n"
                           "# TYPE sipstage_%s_%s %s\n",
                        d->group, d->name, d->group, d->name, d->group,
                        d->name,
                        mid_metrics_is_gauge(id) ? "gauge" : "counter");
        /* gauges are sums of signed per-thread steps */
        if (mid_metrics_is_gauge(id))
            mid_metrics_put(b, "sipstage_%s_%s %lld\n", d->group, d->name,
                            (long long)v);
        else
            mid_metrics_put(b, "sipstage_%s_%s %llu\n", d->group, d->name,
                            (unsigned long long)v);
    }
}

/* mid_metrics_proc_stat - CPU seconds and RSS bytes of pid; 0 or -1 */
static int mid_metrics_proc_stat(pid_t pid, double *cpu, double *rss)
{
    char path[64], buf[1024], *p;
    unsigned long ut, st;
    long pages;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    /* the name in parentheses may hold blanks: fields after the last ) */
    if ((p = strrchr(buf, ')')) == NULL
        || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                  &ut, &st) != 2)
        return -1;
    *cpu = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    n = (size_t)fscanf(f, "%*d %ld", &pages);
    fclose(f);
    if (n != 1)
        return -1;
    *rss = (double)pages * (double)sysconf(_SC_PAGESIZE);
    return 0;
}

/* mid_metrics_state - the name ps shows for p */
static const char *mid_metrics_state(struct mid *m, struct mid_proc *p)
{
    if (p - m->procs != SHM_PROC_MID && mid_spawn_stalled(p, ev_now_ms()))
        return "stalled";
    return mid_spawn_state_name(p->state);
}

/* mid_metrics_procs - the families of the process table */
static void mid_metrics_procs(struct mid *m, struct mid_metrics_buf *b)
{
    static const char *const states[] = {"starting", "running", "stalled",
                                         "backoff", "stopping", "down"};
    static const char *const fam[][3] = {
        {"restarts", "counter", "restarts by mid"},
        {"state", "gauge", "1 for the state ps shows"},
        {"rss_bytes", "gauge", "resident set size"},
        {"cpu_seconds", "counter", "user and system CPU time"},
    };
    struct mid_proc *p;
    double v[2];
    size_t f, k;
    int i;

    for (f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
        mid_metrics_put(b, "# HELP sipstage_process_%s %s\n"
                           "# TYPE sipstage_process_%s %s\n",
                        fam[f][0], fam[f][2], fam[f][0], fam[f][1]);
        for (i = 0; i < SHM_MAX_PROCS; i++) {
            p = &m->procs[i];
            if (!p->used)
                continue;
            if (f == 0)
                mid_metrics_put(b, "sipstage_process_restarts{stage=\"%s\","
                                   "instance=\"%d\"} %d\n",
                                shm_stage_name(p->stage), p->instance,
                                p->restarts);
            for (k = 0; f == 1 && k < sizeof(states) / sizeof(states[0]); k++)
                mid_metrics_put(b, "sipstage_process_state{stage=\"%s\","
                                   "instance=\"%d\",state=\"%s\"} %d\n",
                                shm_stage_name(p->stage), p->instance,
                                states[k],
                                strcmp(states[k], mid_metrics_state(m, p))
                                    == 0);
            if (f >= 2 && p->pid > 0
                && mid_metrics_proc_stat(p->pid, &v[1], &v[0]) == 0)
                mid_metrics_put(b, "sipstage_process_%s{stage=\"%s\","
                                   "instance=\"%d\"} %.17g\n",
                                fam[f][0], shm_stage_name(p->stage),
                                p->instance, v[f - 2]);
        }
    }
}

/* mid_metrics_rings - bytes waiting in each ring of each sipd */
static void mid_metrics_rings(struct mid *m, struct mid_metrics_buf *b)
{
    static int idx[SHM_MAX_RINGS];      /* mid's one thread */
    int i, n = mid_mi_rings(m, idx);

    mid_metrics_put(b, "# HELP sipstage_ring_backlog bytes waiting in a "
                       "ring\n# TYPE sipstage_ring_backlog gauge\n");
    for (i = 0; i < n; i++)
        mid_metrics_put(b, "sipstage_ring_backlog{ring=\"%s\"} %llu\n",
                        m->shm.hdr->rings[idx[i]].name,
                        (unsigned long long)mid_mi_ring_backlog(m, idx[i]));
}

/*
 * mid_metrics_text - the whole exposition, malloc'ed (the caller frees
 *    it), its length in *len; NULL when out of memory.
 */
char *mid_metrics_text(struct mid *m, size_t *len)
{
    struct mid_metrics_buf b = {0};

    if ((b.s = malloc(16384)) == NULL)
        return NULL;
    b.cap = 16384;
    mid_metrics_stats(m, &b);
    mid_metrics_procs(m, &b);
    mid_metrics_rings(m, &b);
    mid_metrics_put(&b, "# HELP sipstage_uptime_seconds since mid started\n"
                        "# TYPE sipstage_uptime_seconds gauge\n"
                        "sipstage_uptime_seconds %lld\n",
                    (long long)(time(NULL) - m->start_time));
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    *len = b.len;
    return b.s;
}
