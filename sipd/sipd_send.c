/*
 * SUMMARY
 *    sipd_send - the producer side of the shared rings sipd.i.w>netd,
 *    sipd.i>dnsd and sipd.i>dbd
 * DESCRIPTION
 *    Each worker has its own ring to netd and writes it without a lock.
 *    Every worker of this process writes to the same rings to dnsd and
 *    dbd, which are single-producer: each record is reserved and copied
 *    under a process-local mutex (one memcpy, no syscall). All are
 *    published once per batch of work by sipd_send_commit(), so the
 *    consumer is woken at most once per batch, and not at all while it
 *    is busy.
 *
 *    Callers: the worker (routed messages, commits), sipd_dns.c and
 *    sipd_db.c (queries, and the messages an answer releases), and the
 *    dispatcher (its address table query, committed at once).
 * PROTOCOL
 *    sipd.i.w -> netd MSG_T_SIP_OUT   struct msg_sip + the bytes
 *    sipd.i -> dnsd  MSG_T_DNS_QUERY  through dns_clnt_query()
 *    sipd.i -> dnsd  MSG_T_DNS_FAILED struct msg_dns_failed
 *    sipd.i -> dbd   MSG_T_DB_QUERY   through db_clnt_query()
 * DIAGNOSTICS
 *    A full ring to netd drops the message (ring:out_full_drops,
 *    rate-limited warning). A full sipd->dnsd ring is the caller's to
 *    answer (sipd_dns.c: 503).
 */
#include <string.h>

#include "db_clnt.h"
#include "dns_clnt.h"
#include "log.h"
#include "sipd.h"

/*
 * sipd_send_netd - one MSG_T_SIP_OUT record to netd: out->buf
 *    (out->len bytes) from socket out->sock to out->dst, on TCP or TLS
 *    connection out->conn_id when not 0. Over TLS the name that was
 *    resolved (out->name, the URI's or Via's host) follows the bytes
 *    (msg_sip.name_len): a new connection checks the server's
 *    certificate against it (RFC 5922); none for an IP literal (its IP
 *    SAN). Copied into this worker's ring, not committed
 *    (sipd_send_commit()). A full ring drops the message: counted
 *    (ring:out_full_drops) and warned, rate-limited.
 */
void sipd_send_netd(struct sipd_worker *w, const struct sipd_route_out *out)
{
    size_t nlen = out->proto == MSG_PROTO_TLS ? strlen(out->name) : 0;
    struct msg_sip *m;

    m = ring_reserve(&w->out, MSG_T_SIP_OUT,
                     (uint32_t)(sizeof(*m) + out->len + nlen));
    if (m != NULL) {
        memset(m, 0, sizeof(*m));
        m->proto = out->proto;
        m->flags = out->fwd;
        m->hash = out->hash;
        m->fail = out->fail;
        m->sock = out->sock;
        m->conn_id = out->conn_id;
        m->peer = out->dst;
        m->len = (uint32_t)out->len;
        m->name_len = (uint32_t)nlen;
        memcpy(m->data, out->buf, out->len);
        memcpy(m->data + out->len, out->name, nlen);
    }
    if (m == NULL) {
        stats_inc(w->st, STAT_RING_OUT_FULL);
        log_warn_rl("%s full: message of %zu bytes dropped",
                    w->out.shm->name, out->len);
        return;
    }
    w->dirty_net = 1;
}

/*
 * sipd_send_dnsd - one MSG_T_DNS_QUERY record to dnsd for out->name
 *    (port, transport, sips as routing found them), with query id
 *    qid and the Call-ID hash (dnsd's SRV order); not committed.
 *    Returns 0, or -ENOSPC when the ring is full.
 */
int sipd_send_dnsd(struct sipd_worker *w, uint64_t qid, uint32_t hash,
                   const struct sipd_route_out *out)
{
    struct sipd *d = w->sipd;
    int err;

    pthread_mutex_lock(&d->dns_lock);
    err = dns_clnt_query(&d->to_dnsd, qid, out->name, strlen(out->name),
                         out->port, out->rproto, out->secure, hash);
    pthread_mutex_unlock(&d->dns_lock);
    if (err == 0)
        w->dirty_dns = 1;
    return err;
}

/*
 * sipd_send_dbd - one MSG_T_DB_QUERY record to dbd: query (MSG_DB_Q_*)
 *    with nparams values, under id qid, stamped now; not committed (a
 *    worker sets its dirty_db, the dispatcher calls
 *    sipd_send_dbd_commit()). Returns 0, -ENOSPC when the ring is full,
 *    -EINVAL for a value over MSG_DB_VAL_MAX.
 */
int sipd_send_dbd(struct sipd *d, uint64_t qid, int query, int nparams,
                  const struct db_val *params)
{
    int err;

    pthread_mutex_lock(&d->db_lock);
    err = db_clnt_query(&d->to_dbd, qid, query, ev_stamp_ms(), nparams,
                        params);
    pthread_mutex_unlock(&d->db_lock);
    return err;
}

/* sipd_send_dbd_commit - publish what was written to dbd */
void sipd_send_dbd_commit(struct sipd *d)
{
    pthread_mutex_lock(&d->db_lock);
    ring_commit(&d->to_dbd);
    pthread_mutex_unlock(&d->db_lock);
}

/*
 * sipd_send_dns_failed - one MSG_T_DNS_FAILED record to dnsd: the send
 *    of "in" (MSG_F_SEND_FAILED from netd) to in->peer over in->proto
 *    failed, for reason MSG_FAIL_REASON(in->fail). Not committed. A full
 *    ring loses it (rate-limited warning): dnsd then does not skip the
 *    target, and the next failure tells it again.
 */
void sipd_send_dns_failed(struct sipd_worker *w, const struct msg_sip *in)
{
    struct sipd *d = w->sipd;
    struct msg_dns_failed *f;

    pthread_mutex_lock(&d->dns_lock);
    f = ring_reserve(&d->to_dnsd, MSG_T_DNS_FAILED, sizeof(*f));
    if (f != NULL) {
        memset(f, 0, sizeof(*f));
        f->addr = in->peer;
        f->proto = in->proto;
        f->reason = MSG_FAIL_REASON(in->fail);
    }
    pthread_mutex_unlock(&d->dns_lock);
    if (f == NULL) {
        log_warn_rl("sipd->dnsd ring full: failed target not reported");
        return;
    }
    w->dirty_dns = 1;
}

/*
 * sipd_send_commit - publish what this worker's batch wrote to netd,
 *    dnsd and dbd: one commit per ring, and only if something was
 *    written.
 */
void sipd_send_commit(struct sipd_worker *w)
{
    struct sipd *d = w->sipd;

    if (w->dirty_net) {
        ring_commit(&w->out);
        w->dirty_net = 0;
    }
    if (w->dirty_dns) {
        pthread_mutex_lock(&d->dns_lock);
        ring_commit(&d->to_dnsd);
        pthread_mutex_unlock(&d->dns_lock);
        w->dirty_dns = 0;
    }
    if (w->dirty_db) {
        sipd_send_dbd_commit(d);
        w->dirty_db = 0;
    }
}
