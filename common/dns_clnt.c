/*
 * SUMMARY
 *      dns_clnt - sipd's side of the dnsd service (query out, answer in)
 * DESCRIPTION
 *      See dns_clnt.h. Both functions are a few checks and copies on the
 *      caller's thread: no allocation, no syscall, no lock (the caller
 *      holds the producer side of the ring).
 * PROTOCOL
 *      MSG_T_DNS_QUERY out, MSG_T_DNS_ANSWER in (msg.h). A reader accepts
 *      version >= MSG_V1 and reads only the fields it knows (msg.h), so a
 *      longer answer from a newer dnsd is fine as long as the targets it
 *      announces are there.
 * DIAGNOSTICS
 *      Return values only; nothing is logged.
 */
#include <errno.h>
#include <string.h>

#include "dns_clnt.h"

int dns_clnt_query(struct ring *r, uint64_t qid, const char *name,
                   size_t name_len, uint16_t port, uint8_t proto,
                   uint8_t secure, uint32_t hash)
{
    struct msg_dns_query *q;

    if (r == NULL || name == NULL || name_len == 0
        || name_len > DNS_CLNT_NAME_MAX)
        return -EINVAL;
    if (proto != 0 && proto != MSG_PROTO_UDP && proto != MSG_PROTO_TCP
        && proto != MSG_PROTO_TLS)
        return -EINVAL;
    if (secure > 1)
        return -EINVAL;
    q = ring_reserve(r, MSG_T_DNS_QUERY,
                     (uint32_t)(sizeof(*q) + name_len));
    if (q == NULL)
        return -ENOSPC;
    q->qid = qid;
    q->port = port;
    q->proto = proto;
    q->secure = secure;
    q->name_len = (uint16_t)name_len;
    q->seed = (uint16_t)(hash ^ (hash >> 16));
    memcpy(q->name, name, name_len);
    return 0;
}

const struct msg_dns_answer *dns_clnt_answer(const struct ring_rec *rec)
{
    const struct msg_dns_answer *a;

    if (rec == NULL || rec->type != MSG_T_DNS_ANSWER
        || rec->version < MSG_V1 || rec->len < sizeof(*a))
        return NULL;
    a = (const struct msg_dns_answer *)rec->data;
    if (a->ntargets > MSG_DNS_MAX_ADDRS
        || (rec->len - sizeof(*a)) / sizeof(a->targets[0]) < a->ntargets)
        return NULL;
    return a;
}
