/*
 * SUMMARY
 *    sipd_park - messages a worker holds while dnsd or dbd answers
 * DESCRIPTION
 *    One mechanism for every question a worker asks another stage:
 *    the next hop's name (dnsd, sipd_dns.c) and the alias of a
 *    Request-URI (dbd, sipd_db.c). The worker keeps a copy of what it
 *    received (to route it again, or to answer it with an error) in a
 *    struct sipd_pend, sends its question and goes on with other
 *    work; the answer finds the entry by its query id.
 *
 *    The query id carries the worker index in its top 16 bits, so the
 *    dispatcher hands the answer back to this worker (the dispatcher's
 *    own queries use SIPD_QID_DISP), and a sequence number in the low
 *    48, whose value modulo SIPD_PEND_SLOTS is the entry's slot in a
 *    fixed table. A slot still taken is skipped (the next number is
 *    tried), so a long-lived entry does not make a later question fail
 *    while the table has room.
 *
 *    Entries are malloc'd: they are variable-sized and live for a round
 *    trip to another stage, unlike the per-message path, which
 *    allocates nothing. Each has a deadline: an entry not answered by
 *    then is given to its kind's expiry (sipd_dns_expired(): 503;
 *    sipd_db_expired(): 503 with Retry-After) at the next tick and
 *    freed, so a dead dnsd or dbd costs a bounded wait and a bounded
 *    table.
 * PROTOCOL
 *    None here: the kinds' files send the questions.
 * DIAGNOSTICS
 *    A full table returns NULL; the caller answers 503 and warns,
 *    rate-limited. A late answer finds no entry and is ignored.
 */
#include <stdlib.h>
#include <string.h>

#include "sipd.h"

#define SIPD_PARK_SLOT(qid) ((qid) % SIPD_PEND_SLOTS)
#define SIPD_PARK_SEQ 0xffffffffffffull

/* sipd_park_is_reply - the received message is a response */
int sipd_park_is_reply(const struct msg_sip *in)
{
    return in->len >= 4 && memcmp(in->data, "SIP/", 4) == 0;
}

/*
 * sipd_park_new - park a copy of in as kind (SIPD_PEND_*), answer due
 *    within wait_ms, with nbytes of room in ->bytes for the kind's
 *    use. Returns the entry, its qid set, or NULL when the table is
 *    full or memory ran out (nothing parked).
 */
struct sipd_pend *sipd_park_new(struct sipd_worker *w, int kind,
                                const struct msg_sip *in, size_t nbytes,
                                int wait_ms)
{
    size_t in_len = sizeof(*in) + in->len;
    struct sipd_pend *p;
    uint64_t seq = 0;
    int i;

    if (w->npend >= SIPD_PEND_SLOTS)
        return NULL;
    for (i = 0; i < SIPD_PEND_SLOTS; i++) {
        seq = ++w->qseq & SIPD_PARK_SEQ;
        if (w->pend[SIPD_PARK_SLOT(seq)] == NULL)
            break;
    }
    if ((p = malloc(sizeof(*p) + nbytes)) == NULL)
        return NULL;
    if ((p->in = malloc(in_len)) == NULL) {
        free(p);
        return NULL;
    }
    p->qid = ((uint64_t)w->idx << 48) | seq;
    p->kind = kind;
    p->seq = 0;
    p->deadline_ms = ev_now_ms() + wait_ms;
    p->alias.state = 0;
    p->alias.len = 0;
    memcpy(p->in, in, in_len);
    p->in_len = (uint32_t)in_len;
    p->nbytes = nbytes;
    w->pend[SIPD_PARK_SLOT(seq)] = p;
    /* atomic store: the main thread reads it to skip idle ticks */
    __atomic_store_n(&w->npend, w->npend + 1, __ATOMIC_RELAXED);
    return p;
}

/* sipd_park_find - the entry of kind waiting for qid, or NULL */
struct sipd_pend *sipd_park_find(struct sipd_worker *w, uint64_t qid,
                                 int kind)
{
    struct sipd_pend *p = w->pend[SIPD_PARK_SLOT(qid)];

    return p != NULL && p->qid == qid && p->kind == kind ? p : NULL;
}

/* sipd_park_free - release entry p and its slot */
void sipd_park_free(struct sipd_worker *w, struct sipd_pend *p)
{
    w->pend[SIPD_PARK_SLOT(p->qid)] = NULL;
    __atomic_store_n(&w->npend, w->npend - 1, __ATOMIC_RELAXED);
    free(p->in);
    free(p);
}

/* sipd_park_expire - the tick: every entry past its deadline ends */
void sipd_park_expire(struct sipd_worker *w)
{
    int64_t now;
    int i;

    if (w->npend == 0)
        return;
    now = ev_now_ms();
    for (i = 0; i < SIPD_PEND_SLOTS && w->npend > 0; i++) {
        struct sipd_pend *p = w->pend[i];

        if (p == NULL || p->deadline_ms > now)
            continue;
        if (p->kind == SIPD_PEND_DB)
            sipd_db_expired(w, p);
        else
            sipd_dns_expired(w, p);
        sipd_park_free(w, p);
    }
}

/* sipd_park_fini - the worker stopped: drop what is still parked */
void sipd_park_fini(struct sipd_worker *w)
{
    int i;

    for (i = 0; i < SIPD_PEND_SLOTS && w->npend > 0; i++)
        if (w->pend[i] != NULL)
            sipd_park_free(w, w->pend[i]);
}
