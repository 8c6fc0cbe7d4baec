/*
 * SUMMARY
 *      dnsd_link - the two rings between dnsd and one sipd instance
 * DESCRIPTION
 *      A link is dnsd's end of sipd[i] -> dnsd (consumer) and dnsd ->
 *      sipd[i] (producer). This file decodes query records into a
 *      struct dnsd_key, encodes answers, and keeps answers that found the
 *      ring full: dnsd never blocks on a slow sipd. Held answers go out,
 *      oldest first, at the next dnsd_link_flush() that finds room; at
 *      most DNSD_BACKLOG are held per link, and the oldest is dropped
 *      beyond that (sipd answers 503 when its own wait for it expires).
 *
 *      Answers are reserved in the ring as they are made and committed
 *      together by dnsd_link_flush(), once per loop iteration, so a batch
 *      of cache hits costs one commit (and at most one wake-up).
 * PROTOCOL
 *      sipd[i] -> dnsd   MSG_T_DNS_QUERY  (dns_clnt.h)
 *      sipd[i] -> dnsd   MSG_T_DNS_FAILED a target sipd could not reach
 *                        (struct msg_dns_failed, msg.h), no answer
 *      dnsd -> sipd[i]   MSG_T_DNS_ANSWER, the query's qid echoed, only
 *                        the targets used (len = header + ntargets x
 *                        struct msg_dns_target).
 *      Records of other types on the query ring are skipped.
 * DIAGNOSTICS
 *      A malformed query is counted (dns:bad_queries), warned about
 *      (rate-limited) and, when its qid can be read, answered ERROR. A
 *      dropped answer is counted (dns:pending_drops) and warned about,
 *      rate-limited.
 */
#include <string.h>

#include "dnsd.h"
#include "log.h"

/*
 * dnsd_link_decode - the key, qid and seed (Call-ID hash) of a popped
 *      query record. Returns DNSD_Q_OK; DNSD_Q_BAD for a malformed query
 *      whose qid was readable (*qid set: answer it with ERROR);
 *      DNSD_Q_SKIP for another record type or one too short to hold a
 *      qid.
 */
int dnsd_link_decode(const struct ring_rec *rec, struct dnsd_key *k,
                     uint64_t *qid, uint16_t *seed)
{
    const struct msg_dns_query *q;

    if (rec->type != MSG_T_DNS_QUERY || rec->version < MSG_V1
        || rec->len < sizeof(*q))
        return DNSD_Q_SKIP;
    q = (const struct msg_dns_query *)rec->data;
    *qid = q->qid;
    *seed = q->seed;
    if (q->name_len > rec->len - sizeof(*q))
        return DNSD_Q_BAD;
    if (dnsd_3263_key(k, q->name, q->name_len, q->port, q->proto,
                      q->secure) < 0)
        return DNSD_Q_BAD;
    return DNSD_Q_OK;
}

/*
 * dnsd_link_failed - the report in a popped MSG_T_DNS_FAILED record, or
 *      NULL for another type, an older version, a short record, or an
 *      address family other than AF_INET/AF_INET6. Points into the ring.
 */
const struct msg_dns_failed *dnsd_link_failed(const struct ring_rec *rec)
{
    const struct msg_dns_failed *f;

    if (rec->type != MSG_T_DNS_FAILED || rec->version < MSG_V1
        || rec->len < sizeof(*f))
        return NULL;
    f = (const struct msg_dns_failed *)rec->data;
    if (f->addr.family != AF_INET && f->addr.family != AF_INET6)
        return NULL;
    return f;
}

/*
 * dnsd_link_encode - the answer payload for (qid, r) into buf (cap
 *      bytes). Returns its length, or 0 when cap is too small.
 */
size_t dnsd_link_encode(void *buf, size_t cap, uint64_t qid,
                        const struct dnsd_result *r)
{
    struct msg_dns_answer *a = buf;
    size_t n = r->ntargets <= MSG_DNS_MAX_ADDRS ? r->ntargets
                                                : MSG_DNS_MAX_ADDRS;
    size_t len = sizeof(*a) + n * sizeof(a->targets[0]);

    if (len > cap)
        return 0;
    a->qid = qid;
    a->status = r->status;
    a->ntargets = (uint16_t)n;
    a->ttl = r->ttl;
    memcpy(a->targets, r->targets, n * sizeof(a->targets[0]));
    return len;
}

/* dnsd_link_put - reserve and fill one answer; 0 or -1 (ring full) */
static int dnsd_link_put(struct dnsd_link *l, uint64_t qid,
                         const struct dnsd_result *r)
{
    size_t n = r->ntargets <= MSG_DNS_MAX_ADDRS ? r->ntargets
                                                : MSG_DNS_MAX_ADDRS;
    size_t len = sizeof(struct msg_dns_answer)
                 + n * sizeof(struct msg_dns_target);
    void *p;

    if ((p = ring_reserve(&l->out, MSG_T_DNS_ANSWER, (uint32_t)len)) == NULL)
        return -1;
    dnsd_link_encode(p, len, qid, r);
    l->dirty = 1;
    return 0;
}

/*
 * dnsd_link_answer - send (qid, r) to sipd[l->idx]: into the ring if
 *      there is room and nothing is held before it, else into the
 *      backlog (dropping the oldest held answer when that is full).
 */
void dnsd_link_answer(struct dnsd_link *l, uint64_t qid,
                      const struct dnsd_result *r)
{
    struct dnsd_pend *p;

    if (!l->up)
        return;
    if (l->bl_n == 0 && dnsd_link_put(l, qid, r) == 0)
        return;
    if (l->bl_n == DNSD_BACKLOG) {
        stats_inc(l->st, STAT_DNS_PENDING_DROPS);
        log_warn_rl("dnsd>sipd.%d: ring full and %d answers held: "
                    "answer %llu dropped", l->idx, DNSD_BACKLOG,
                    (unsigned long long)l->bl[l->bl_head].qid);
        l->bl_head = (l->bl_head + 1) % DNSD_BACKLOG;
        l->bl_n--;
    }
    stats_inc(l->st, STAT_DNS_BACKLOGGED);
    p = &l->bl[(l->bl_head + l->bl_n) % DNSD_BACKLOG];
    p->qid = qid;
    p->res = *r;
    l->bl_n++;
}

/*
 * dnsd_link_flush - move held answers into the ring while it has room,
 *      then commit everything reserved since the last flush.
 */
void dnsd_link_flush(struct dnsd_link *l)
{
    if (!l->up)
        return;
    while (l->bl_n > 0) {
        struct dnsd_pend *p = &l->bl[l->bl_head];

        if (dnsd_link_put(l, p->qid, &p->res) < 0)
            break;
        l->bl_head = (l->bl_head + 1) % DNSD_BACKLOG;
        l->bl_n--;
    }
    if (l->dirty) {
        ring_commit(&l->out);
        l->dirty = 0;
    }
}
