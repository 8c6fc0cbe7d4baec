/*
 * SUMMARY
 *      dbd_loop - dbd's engine on rings of its own, driven from stdin
 * SYNOPSIS
 *      dbd_loop LIBDIR CONFIG
 * DESCRIPTION
 *      Runs dbd's own code (every file of dbd/ but dbd.c: the pools and
 *      connections of CONFIG's [db] urls, the queue, the link encoding)
 *      in dbd's loop, with the sipd side played by this program: one
 *      sipd -> dbd and one dbd -> sipd ring in private memory, with
 *      eventfds, as mid lays them out. t/710-dbd-loop.t drives it
 *      against a real PostgreSQL. LIBDIR holds db_SCHEME.so.
 *
 *      Commands, one per line, fields separated by tabs:
 *
 *        q QID QUERY AGE_MS [VALUE...]   push a MSG_T_DB_QUERY stamped
 *                                        AGE_MS ago; a VALUE \N is NULL
 *        raw QID NPARAMS                 a query whose values are cut
 *                                        short (malformed)
 *        status                          "url I LINE" per URL as MI
 *                                        db_status shows it, then
 *                                        "reason I TEXT" when not up
 *        stats                           "stat db:NAME VALUE" each
 *        hold / release                  stop / resume reading the
 *                                        dbd -> sipd ring (a slow sipd:
 *                                        dbd's backlog fills)
 *        quit
 *
 *      Output, one line each, as things happen:
 *
 *        ready                           the loop runs
 *        row QID V1<TAB>V2...            a row (\N: NULL), in order
 *        ans QID status=S records=R rows=N ncols=C seq_ok=B
 *            max_rec=BYTES ms=MS         the record without
 *                                        MSG_DB_F_MORE that ends an
 *                                        answer; seq_ok: seq 0, 1, 2...
 *                                        with no gap; max_rec: the
 *                                        longest record's payload; ms:
 *                                        since the query was pushed
 *        error TEXT                      e.g. a record after the last
 *        end                             after status/stats output
 * DIAGNOSTICS
 *      Exit 0 at quit or end of input; 2 for usage, config or init
 *      errors (on stderr). The URLs are only printed masked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "db_clnt.h"
#include "dbd.h"
#include "log.h"
#include "shm.h"

#define T_RING_BYTES SHM_RING_DNS_BYTES
#define T_TRACK 65536

struct t_ans {
    uint64_t qid;
    int64_t pushed_ms;
    unsigned records;
    unsigned rows;
    unsigned next_seq;
    unsigned max_rec;
    int seq_ok;
    int done;                           /* its last record came */
};

static struct dbd t_d;
static struct cfg t_cfg;
static struct stats_slot t_st;
static struct ev t_ev;
static struct ring t_qprod;             /* ours: sipd -> dbd */
static struct ring t_acons;             /* ours: dbd -> sipd */
static struct t_ans t_track[T_TRACK];
static char t_in[1 << 16];
static size_t t_inlen;
static int t_quit;
static int t_hold;                      /* not reading answers */

static void t_ring(const char *name, struct ring *dbd_side, int dside,
                   struct ring *our_side, int oside)
{
    size_t bytes = ring_shm_bytes(T_RING_BYTES);
    void *mem = aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
    int efd = eventfd(0, EFD_NONBLOCK);

    if (mem == NULL || efd < 0 || ring_format(mem, T_RING_BYTES, name) < 0
        || ring_attach(dbd_side, mem, efd, dside) < 0
        || ring_attach(our_side, mem, efd, oside) < 0) {
        fprintf(stderr, "dbd_loop: ring %s: setup failed\n", name);
        exit(2);
    }
}

/* t_unescape - "\N" is NULL; other text is taken as it is */
static struct db_val t_val(const char *s)
{
    struct db_val v = {DB_NULL, 0, NULL, 0};

    if (strcmp(s, "\\N") == 0)
        return v;
    return db_str(s, strlen(s));
}

static void t_query(char **f, int n)
{
    struct db_val p[MSG_DB_PARAMS_MAX];
    uint64_t qid;
    int i, np = n - 4, err;

    if (n < 4 || np > MSG_DB_PARAMS_MAX) {
        printf("error bad q line\n");
        return;
    }
    qid = strtoull(f[1], NULL, 10);
    for (i = 0; i < np; i++)
        p[i] = t_val(f[4 + i]);
    err = db_clnt_query(&t_qprod, qid, atoi(f[2]),
                        ev_stamp_ms() - (uint32_t)atoi(f[3]), np, p);
    if (err < 0) {
        printf("error push %llu: %s\n", (unsigned long long)qid,
               strerror(-err));
        return;
    }
    ring_commit(&t_qprod);
    memset(&t_track[qid % T_TRACK], 0, sizeof(t_track[0]));
    t_track[qid % T_TRACK].qid = qid;
    t_track[qid % T_TRACK].pushed_ms = ev_now_ms();
    t_track[qid % T_TRACK].seq_ok = 1;
}

/* t_raw - a query record that says NPARAMS values and holds none */
static void t_raw(char **f, int n)
{
    struct msg_db_query *q;
    uint64_t qid;

    if (n < 3)
        return;
    qid = strtoull(f[1], NULL, 10);
    q = ring_reserve(&t_qprod, MSG_T_DB_QUERY, sizeof(*q) + 1);
    if (q == NULL)
        return;
    memset(q, 0, sizeof(*q) + 1);
    q->qid = qid;
    q->query = MSG_DB_Q_ALIAS;
    q->nparams = (uint16_t)atoi(f[2]);
    q->stamp_ms = ev_stamp_ms();
    ring_commit(&t_qprod);
    memset(&t_track[qid % T_TRACK], 0, sizeof(t_track[0]));
    t_track[qid % T_TRACK].qid = qid;
    t_track[qid % T_TRACK].pushed_ms = ev_now_ms();
    t_track[qid % T_TRACK].seq_ok = 1;
}

static void t_status(void)
{
    char line[DBD_URL_SHOWN + 300];
    int i;

    for (i = 0; i < t_d.npools; i++) {
        dbd_mi_url(&t_d, i, line, sizeof(line));
        printf("url %d %s\n", i, line);
        if (dbd_mi_reason(&t_d, i, line, sizeof(line)))
            printf("reason %d %s\n", i, line);
    }
    printf("end\n");
}

static void t_stats(void)
{
    int id;

    for (id = 0; id < STAT__N; id++)
        if (strcmp(stats_defs[id].group, "db") == 0)
            printf("stat db:%s %llu\n", stats_defs[id].name,
                   (unsigned long long)t_st.v[id]);
    printf("end\n");
}

static void t_command(char *line)
{
    char *f[16];
    int n = 0;
    char *save = NULL, *tok;

    for (tok = strtok_r(line, "\t", &save); tok != NULL && n < 16;
         tok = strtok_r(NULL, "\t", &save))
        f[n++] = tok;
    if (n == 0)
        return;
    if (strcmp(f[0], "q") == 0)
        t_query(f, n);
    else if (strcmp(f[0], "raw") == 0)
        t_raw(f, n);
    else if (strcmp(f[0], "status") == 0)
        t_status();
    else if (strcmp(f[0], "stats") == 0)
        t_stats();
    else if (strcmp(f[0], "hold") == 0)
        t_hold = 1;
    else if (strcmp(f[0], "release") == 0)
        t_hold = 0;
    else if (strcmp(f[0], "quit") == 0)
        t_quit = 1;
    else
        printf("error unknown command %s\n", f[0]);
}

static void t_on_stdin(struct ev *ev, struct ev_io *io, uint32_t e)
{
    ssize_t n;
    char *nl;

    (void)ev;
    (void)e;
    n = read(io->fd, t_in + t_inlen, sizeof(t_in) - 1 - t_inlen);
    if (n <= 0) {
        t_quit = 1;
        return;
    }
    t_inlen += (size_t)n;
    while ((nl = memchr(t_in, '\n', t_inlen)) != NULL) {
        *nl = 0;
        t_command(t_in);
        t_inlen -= (size_t)(nl + 1 - t_in);
        memmove(t_in, nl + 1, t_inlen);
    }
    fflush(stdout);
}

static void t_on_answer_wake(struct ev *ev, struct ev_io *io, uint32_t e)
{
    (void)ev;
    (void)io;
    (void)e;
    ring_wake_clear(&t_acons);
}

static void t_print_val(const struct db_val *v)
{
    size_t i;

    if (v->type == DB_NULL) {
        fputs("\\N", stdout);
        return;
    }
    for (i = 0; i < v->len; i++)
        putchar(v->s[i] == '\t' || v->s[i] == '\n' ? ' ' : v->s[i]);
}

static void t_record(const struct ring_rec *rec)
{
    const struct msg_db_rows *h = db_clnt_rows(rec);
    const char *p, *end;
    struct t_ans *a;
    struct db_val v;
    unsigned r, c;

    if (h == NULL) {
        printf("error record type %u len %u\n", rec->type, rec->len);
        return;
    }
    a = &t_track[h->qid % T_TRACK];
    if (a->qid != h->qid || a->done) {
        printf("error %s qid %llu\n", a->done ? "record after the last for"
                                             : "answer to unknown",
               (unsigned long long)h->qid);
        return;
    }
    if (h->seq != a->next_seq)
        a->seq_ok = 0;
    a->next_seq = h->seq + 1;
    a->records++;
    if (rec->len > a->max_rec)
        a->max_rec = rec->len;
    p = h->data;
    end = (const char *)rec->data + rec->len;
    for (r = 0; r < h->nrows; r++) {
        printf("row %llu ", (unsigned long long)h->qid);
        for (c = 0; c < h->ncols; c++) {
            if (db_val_next(&p, end, &v) < 0) {
                printf("<cut>");
                break;
            }
            if (c > 0)
                putchar('\t');
            t_print_val(&v);
        }
        putchar('\n');
        a->rows++;
    }
    if (h->flags & MSG_DB_F_MORE)
        return;
    a->done = 1;
    printf("ans %llu status=%u records=%u rows=%u ncols=%u seq_ok=%d "
           "max_rec=%u ms=%lld\n", (unsigned long long)h->qid, h->status,
           a->records, a->rows, h->ncols, a->seq_ok, a->max_rec,
           (long long)(ev_now_ms() - a->pushed_ms));
}

/* t_answers - every record dbd wrote */
static int t_answers(void)
{
    const struct ring_rec *rec;
    int n = 0;

    while (!t_hold && (rec = ring_pop(&t_acons)) != NULL) {
        t_record(rec);
        n++;
    }
    if (n > 0) {
        ring_release(&t_acons);
        fflush(stdout);
    }
    return n;
}

int main(int argc, char **argv)
{
    struct ring din, dout;
    struct ev_io in_io, ans_io;
    char err[512];
    int busy, held, wait;

    if (argc != 3) {
        fprintf(stderr, "usage: dbd_loop LIBDIR CONFIG\n");
        return 2;
    }
    log_set_name("dbd_loop");
    if (cfg_load_file(&t_cfg, argv[2], err, sizeof(err)) < 0) {
        fprintf(stderr, "dbd_loop: %s\n", err);
        return 2;
    }
    if (ev_init(&t_ev) < 0)
        return 2;
    t_ring("sipd.0>dbd", &din, RING_CONSUMER, &t_qprod, RING_PRODUCER);
    t_ring("dbd>sipd.0", &dout, RING_PRODUCER, &t_acons, RING_CONSUMER);
    if (dbd_pool_init(&t_d, &t_ev, &t_cfg, &t_st, argv[1]) < 0
        || dbd_link_setup(&t_d, 0, &din, &dout) < 0) {
        fprintf(stderr, "dbd_loop: init failed\n");
        return 2;
    }
    t_d.nlinks = 1;
    in_io.fd = 0;
    in_io.fn = t_on_stdin;
    in_io.arg = NULL;
    ans_io.fd = t_acons.efd;
    ans_io.fn = t_on_answer_wake;
    ans_io.arg = NULL;
    if (ev_add(&t_ev, &in_io, EPOLLIN) < 0
        || ev_add(&t_ev, &ans_io, EPOLLIN) < 0)
        return 2;
    printf("ready\n");
    fflush(stdout);
    while (!t_quit) {
        /* dbd.c's loop, with the sipd side's reading in between */
        busy = dbd_link_pop(&t_d);
        held = dbd_link_flush_all(&t_d);
        busy += t_answers();
        if (busy || !dbd_link_may_sleep(&t_d)
            || (!t_hold && ring_sleep_prepare(&t_acons) != 0))
            wait = 0;
        else
            wait = held ? DBD_RETRY_MS : -1;
        if (ev_run_once(&t_ev, wait) < 0)
            return 2;
        dbd_link_flush_all(&t_d);
        t_answers();
    }
    dbd_pool_drain(&t_d, 1000);
    dbd_pool_fini(&t_d);
    t_answers();
    dbd_link_fini(&t_d.links[0]);
    return 0;
}
