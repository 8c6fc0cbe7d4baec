/*
 * SUMMARY
 *    mid_relay - MI commands that a stage answers (dns_cache_dump ...)
 * DESCRIPTION
 *    Some MI commands are about state that only a stage holds: dnsd's
 *    cache and blacklist. mid_relay_ask() gives such a request an id,
 *    publishes "COMMAND ID" on the ctl PUB socket and marks the MI reply
 *    deferred (r->defer = id); the transport (mid_fifo.c) then hands the
 *    client's reply FIFO name to mid_relay_bind() instead of replying.
 *    A stage that is not running and ready (restarting, in a reload's
 *    rolling restart) is asked once it is, within the same deadline:
 *    a broadcast before its SUB socket is up would be lost.
 *    The stage answers on its PUSH socket in one or more chunks of
 *    "NAME:: VALUE" lines, the last marked "end CODE REASON"
 *    (mid_relay_chunk(), called by mid_ctl.c); the reply goes to the
 *    client when the last chunk is in, or, after MID_RELAY_MS without
 *    it, "500 STAGE did not answer" (the stage is down or restarting).
 *
 *    A stage that runs as several instances (sipd: db_cache_flush,
 *    address_reload) is asked with mid_relay_ask_all(): the broadcast
 *    goes out once and every instance running and ready at that moment
 *    must answer (one that is starting builds its cache and table
 *    afresh anyway). Each instance's "NAME:: VALUE" lines become
 *    "STAGE/I:: NAME=VALUE", and the lines whose VALUE is a number are
 *    also summed over the instances, "NAME:: TOTAL" at the end. The
 *    code is 200 when every instance said 200, else the first other
 *    code with "STAGE/I: REASON"; an instance silent after
 *    MID_RELAY_MS makes it "500 STAGE/I did not answer" (the others'
 *    lines stay).
 *
 *    At most MID_RELAY_MAX requests wait at once (the next gets 503) and
 *    a reply holds at most MID_RELAY_BYTES (a longer one is cut and
 *    ends with a "Truncated:: yes" line). Everything runs in mid's loop.
 * PROTOCOL
 *    mid -> stages (PUB): "COMMAND ID"
 *    stage -> mid (PUSH): "mi STAGE INSTANCE PID ID SEQ more\n" LINES
 *                         "mi STAGE INSTANCE PID ID SEQ end CODE REASON\n"
 *                         LINES
 *    SEQ counts chunks from 0 (per instance); a gap (a lost chunk)
 *    fails the request (that instance's part of it).
 *    As with every report, a PID that is not the stage's is ignored.
 * DIAGNOSTICS
 *    A malformed or unexpected chunk is logged (rate-limited) and
 *    dropped; a stage that does not answer costs the client an error
 *    reply, never mid's loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "mid.h"

/* mid_relay_free - release slot q (its reply, its timer) */
static void mid_relay_free(struct mid_relay *q)
{
    ev_timer_stop(&q->mid->ev, &q->timer);
    free(q->r.buf);
    memset(&q->r, 0, sizeof(q->r));
    q->id = 0;
}

/* mid_relay_finish - deliver q's reply (if someone waits) and free q */
static void mid_relay_finish(struct mid_relay *q)
{
    if (q->bound && q->reply[0] != 0 && q->deliver != NULL)
        q->deliver(q->mid, q->reply, &q->r);
    mid_relay_free(q);
}

/* mid_relay_ready - the stage that answers q runs and said ready */
static int mid_relay_ready(struct mid_relay *q)
{
    struct mid_proc *p = mid_spawn_find(q->mid, q->stage, 0);

    return p != NULL && p->pid > 0 && p->ready
           && p->state == PROC_S_RUNNING;
}

/* mid_relay_send - ask the stage if it is ready; 0, or -errno */
static int mid_relay_send(struct mid_relay *q)
{
    int err;

    if (!mid_relay_ready(q))
        return 0;
    if ((err = ctl_send(q->mid->ctl_pub, "%s %u", q->cmd, q->id)) < 0)
        return err;
    q->sent = 1;
    return 0;
}

static void mid_relay_end_all(struct mid_relay *q);

static void mid_relay_on_timer(struct ev *ev, struct ev_timer *t)
{
    struct mid_relay *q = t->arg;
    int64_t now = ev_now_ms();

    if (q->multi) {
        mid_relay_end_all(q);           /* someone did not answer */
        return;
    }
    if (!q->sent && now < q->deadline && mid_relay_send(q) == 0) {
        ev_timer_start(ev, t, q->sent ? q->deadline - now
                                      : MID_RELAY_POLL_MS);
        return;
    }
    log_warn_rl("MI request %u: %s did not answer in %d ms", q->id,
                shm_stage_name(q->stage), MID_RELAY_MS);
    q->r.len = 0;
    mid_reply_status(&q->r, 500, "%s did not answer", shm_stage_name(q->stage));
    mid_relay_finish(q);
}

/*
 * mid_relay_new - a free slot for cmd to stage, its timer set up but
 *    not started; NULL when all are taken (r then says 503).
 */
static struct mid_relay *mid_relay_new(struct mid *m, int stage,
                                       const char *cmd,
                                       struct mid_mi_reply *r)
{
    struct mid_relay *q = NULL;
    int i;

    for (i = 0; i < MID_RELAY_MAX && q == NULL; i++)
        if (m->relay[i].id == 0)
            q = &m->relay[i];
    if (q == NULL) {
        mid_reply_status(r, 503, "%d MI requests already wait on stages",
                      MID_RELAY_MAX);
        return NULL;
    }
    if (++m->relay_seq == 0)
        m->relay_seq = 1;
    memset(q, 0, sizeof(*q));
    q->id = m->relay_seq;
    q->stage = stage;
    q->mid = m;
    snprintf(q->cmd, sizeof(q->cmd), "%s", cmd);
    q->deadline = ev_now_ms() + MID_RELAY_MS;
    q->timer.fn = mid_relay_on_timer;
    q->timer.arg = q;
    return q;
}

/*
 * mid_relay_ask - send cmd to stage (STAGE_*) and defer reply r to its
 *    answer. On failure r gets the error (503 too many waiting, 500 the
 *    broadcast failed) and is not deferred.
 */
void mid_relay_ask(struct mid *m, int stage, const char *cmd,
                   struct mid_mi_reply *r)
{
    struct mid_relay *q = mid_relay_new(m, stage, cmd, r);
    int err;

    if (q == NULL)
        return;
    if ((err = mid_relay_send(q)) < 0) {
        q->id = 0;
        mid_reply_status(r, 500, "broadcast: %s", strerror(-err));
        return;
    }
    mid_reply_status(&q->r, 500, "incomplete answer");
    ev_timer_start(&m->ev, &q->timer, q->sent ? MID_RELAY_MS
                                              : MID_RELAY_POLL_MS);
    r->defer = q->id;
}

/* mid_relay_running - bits of stage's instances running and ready */
static uint32_t mid_relay_running(struct mid *m, int stage)
{
    struct mid_proc *p;
    uint32_t want = 0;
    int i;

    for (i = 0; i < CFG_MAX_SIPD; i++) {
        p = mid_spawn_find(m, stage, i);
        if (p != NULL && p->pid > 0 && p->ready && !p->retire
            && p->state == PROC_S_RUNNING)
            want |= 1u << i;
    }
    return want;
}

/*
 * mid_relay_ask_all - send cmd to every running instance of stage and
 *    defer r to their answers (see DESCRIPTION). None running: 503.
 */
void mid_relay_ask_all(struct mid *m, int stage, const char *cmd,
                       struct mid_mi_reply *r)
{
    uint32_t want = mid_relay_running(m, stage);
    struct mid_relay *q;
    int err;

    if (want == 0) {
        mid_reply_status(r, 503, "no %s instance is running",
                         shm_stage_name(stage));
        return;
    }
    if ((q = mid_relay_new(m, stage, cmd, r)) == NULL)
        return;
    q->multi = 1;
    q->want = want;
    q->code = 200;
    if ((err = ctl_send(m->ctl_pub, "%s %u", cmd, q->id)) < 0) {
        q->id = 0;
        mid_reply_status(r, 500, "broadcast: %s", strerror(-err));
        return;
    }
    q->sent = 1;
    ev_timer_start(&m->ev, &q->timer, MID_RELAY_MS);
    r->defer = q->id;
}

/* mid_relay_find - the waiting request id, or NULL */
static struct mid_relay *mid_relay_find(struct mid *m, uint32_t id)
{
    int i;

    for (i = 0; i < MID_RELAY_MAX; i++)
        if (id != 0 && m->relay[i].id == id)
            return &m->relay[i];
    return NULL;
}

/*
 * mid_relay_bind - the transport's part: deferred request id answers
 *    to the client's reply FIFO name ("" : nobody waits), written by
 *    deliver (the transport's own writer: the relay calls no transport).
 */
void mid_relay_bind(struct mid *m, uint32_t id, const char *reply,
                    mid_reply_fn *deliver)
{
    struct mid_relay *q = mid_relay_find(m, id);

    if (q == NULL)
        return;
    snprintf(q->reply, sizeof(q->reply), "%s", reply);
    q->deliver = deliver;
    q->bound = 1;
}

/* mid_relay_append - add raw "NAME:: VALUE\n" lines to q's reply */
static void mid_relay_append(struct mid_relay *q, const char *s, size_t n)
{
    struct mid_mi_reply *r = &q->r;
    size_t cap;
    char *nb;

    if (q->cut)
        return;
    if (r->len + n > MID_RELAY_BYTES) {
        q->cut = 1;
        s = "Truncated:: yes\n";
        n = strlen(s);
    }
    if (r->len + n + 16 > r->cap) {
        for (cap = r->cap ? r->cap : 4096; cap < r->len + n + 16; cap *= 2)
            ;
        if ((nb = realloc(r->buf, cap)) == NULL)
            return;                     /* reply is cut short, not wrong */
        r->buf = nb;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, s, n);
    r->len += n;
}

/* mid_relay_sum - add the number v to the total of name */
static void mid_relay_sum(struct mid_relay *q, const char *name, size_t n,
                          long long v)
{
    int i;

    if (n >= sizeof(q->sums[0].name))
        return;
    for (i = 0; i < q->nsums; i++)
        if (strlen(q->sums[i].name) == n
            && memcmp(q->sums[i].name, name, n) == 0)
            break;
    if (i == q->nsums) {
        if (q->nsums == MID_RELAY_SUMS)
            return;
        memcpy(q->sums[i].name, name, n);
        q->sums[i].name[n] = '\0';
        q->sums[i].sum = 0;
        q->nsums++;
    }
    q->sums[i].sum += v;
}

/*
 * mid_relay_lines - instance inst's "NAME:: VALUE" lines as
 *    "STAGE/I:: NAME=VALUE", numbers summed
 */
static void mid_relay_lines(struct mid_relay *q, int inst, const char *body)
{
    const char *nl, *sep, *v;
    char line[600], *end;
    long long n;
    int len;

    for (; *body != '\0'; body = nl + 1) {
        if ((nl = strchr(body, '\n')) == NULL)
            nl = body + strlen(body);
        sep = memmem(body, (size_t)(nl - body), ":: ", 3);
        if (sep != NULL && sep > body) {
            v = sep + 3;
            len = snprintf(line, sizeof(line), "%s/%d:: %.*s=%.*s\n",
                           shm_stage_name(q->stage), inst,
                           (int)(sep - body), body, (int)(nl - v), v);
            if (len > 0 && (size_t)len < sizeof(line))
                mid_relay_append(q, line, (size_t)len);
            n = strtoll(v, &end, 10);
            if (end != v && end == nl)
                mid_relay_sum(q, body, (size_t)(sep - body), n);
        }
        if (*nl == '\0')
            break;
    }
}

/*
 * mid_relay_end_all - a request to every instance is over (all answered,
 *    or the time is up): the totals, the code, the reply.
 */
static void mid_relay_end_all(struct mid_relay *q)
{
    char line[64];
    int i, len;

    for (i = 0; i < CFG_MAX_SIPD; i++) {
        if (!(q->want & ~q->got & (1u << i)))
            continue;
        log_warn_rl("MI request %u: %s/%d did not answer in %d ms", q->id,
                    shm_stage_name(q->stage), i, MID_RELAY_MS);
        if (q->code == 200) {
            q->code = 500;
            snprintf(q->why, sizeof(q->why), "%s/%d did not answer",
                     shm_stage_name(q->stage), i);
        }
    }
    for (i = 0; i < q->nsums; i++) {
        len = snprintf(line, sizeof(line), "%s:: %lld\n", q->sums[i].name,
                       q->sums[i].sum);
        if (len > 0 && (size_t)len < sizeof(line))
            mid_relay_append(q, line, (size_t)len);
    }
    mid_reply_status(&q->r, q->code, "%s", q->code == 200 ? "OK" : q->why);
    mid_relay_finish(q);
}

/*
 * mid_relay_chunk_all - one chunk of instance inst for a request to
 *    every instance: its lines, and at "end" (code, reason) its result.
 */
static void mid_relay_chunk_all(struct mid_relay *q, int inst, unsigned seq,
                                int end, int code, const char *reason,
                                const char *body)
{
    uint32_t bit = 1u << inst;

    if (inst < 0 || inst >= CFG_MAX_SIPD || !(q->want & bit)
        || (q->got & bit))
        return;                         /* not asked, or done already */
    if (seq != q->iseq[inst]++) {
        log_warn_rl("MI request %u: chunk %u of %s/%d lost", q->id, seq,
                    shm_stage_name(q->stage), inst);
        end = 1;
        code = 500;
        reason = "answer lost in transit";
    } else {
        mid_relay_lines(q, inst, body);
    }
    if (!end)
        return;
    q->got |= bit;
    if (code != 200 && q->code == 200) {
        q->code = code;
        snprintf(q->why, sizeof(q->why), "%s/%d: %.*s",
                 shm_stage_name(q->stage), inst,
                 (int)strcspn(reason, "\n"), reason);
    }
    if (q->got == q->want)
        mid_relay_end_all(q);
}

/* mid_relay_reason - REASON of an "end CODE REASON" chunk at off */
static const char *mid_relay_reason(const char *msg, int off)
{
    while (msg[off] != ' ' && msg[off] != '\n' && msg[off] != 0)
        off++;                          /* past CODE */
    while (msg[off] == ' ')
        off++;
    return msg + off;
}

/*
 * mid_relay_chunk - one "mi ..." report (PROTOCOL). The last chunk of a
 *    request sends its reply.
 */
void mid_relay_chunk(struct mid *m, const char *msg)
{
    char stage[16], flag[8];
    int inst, pid, code = 0, off = 0;
    unsigned id, seq;
    const char *body = strchr(msg, '\n');
    const char *reason;
    struct mid_relay *q;
    struct mid_proc *p;

    if (sscanf(msg, "mi %15s %d %d %u %u %7s %n", stage, &inst, &pid, &id,
               &seq, flag, &off) != 6
        || (strcmp(flag, "end") == 0
            && sscanf(msg + off, "%d", &code) != 1)) {
        log_warn_rl("ctl: malformed MI answer \"%.64s\"", msg);
        return;
    }
    if ((p = mid_spawn_by_pid(m, pid)) == NULL
        || strcmp(shm_stage_name(p->stage), stage) != 0
        || p->instance != inst || (q = mid_relay_find(m, id)) == NULL
        || q->stage != p->stage)
        return;                         /* gossip, or too late */
    body = body != NULL ? body + 1 : msg + strlen(msg);
    if (q->multi) {
        mid_relay_chunk_all(q, inst, seq, strcmp(flag, "end") == 0, code,
                            mid_relay_reason(msg, off), body);
        return;
    }
    if (seq != q->seq++) {
        log_warn_rl("MI request %u: chunk %u of %s lost", id, q->seq - 1,
                    stage);
        q->r.len = 0;
        mid_reply_status(&q->r, 500, "%s: answer lost in transit", stage);
        mid_relay_finish(q);
        return;
    }
    mid_relay_append(q, body, strlen(body));
    if (strcmp(flag, "end") != 0)
        return;
    reason = mid_relay_reason(msg, off);
    mid_reply_status(&q->r, code, "%.*s", (int)strcspn(reason, "\n"),
                  reason);
    mid_relay_finish(q);
}

/* mid_relay_close - mid exits: drop every waiting request */
void mid_relay_close(struct mid *m)
{
    int i;

    for (i = 0; i < MID_RELAY_MAX; i++)
        if (m->relay[i].id != 0)
            mid_relay_free(&m->relay[i]);
}
