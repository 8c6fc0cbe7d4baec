#ifndef DNS_CLNT_H
#define DNS_CLNT_H
/*
 * SUMMARY
 *      dns_clnt - sipd's side of the dnsd service (query out, answer in)
 * DESCRIPTION
 *      The client stub of dnsd, shipped in common/ the way Postfix keeps
 *      verify_clnt.c in global/: sipd never builds or reads the ring
 *      records of the DNS protocol itself.
 *
 *      dns_clnt_query() reserves and fills one MSG_T_DNS_QUERY record on
 *      the sipd[i] -> dnsd ring. It does not commit: the caller commits,
 *      possibly after a batch, and serialises producers (the ring is
 *      single-producer; sipd's workers share it under a mutex).
 *
 *      dns_clnt_answer() checks one record popped from the dnsd ->
 *      sipd[i] ring and returns the answer inside it.
 * PROTOCOL
 *      sipd[i] -> dnsd   MSG_T_DNS_QUERY  struct msg_dns_query + name
 *      dnsd -> sipd[i]   MSG_T_DNS_ANSWER struct msg_dns_answer +
 *                        ntargets x struct msg_dns_target (msg.h)
 *      The qid is chosen by sipd and echoed unchanged; answers to one
 *      ring may come in any order (a cached name answers before a name
 *      still being resolved).
 * DIAGNOSTICS
 *      Return values only; nothing is logged.
 */
#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "ring.h"

/* Longest name a query may carry (RFC 1035 presentation form). */
#define DNS_CLNT_NAME_MAX 255

/*
 * DNS_CLNT_SILENT_STEPS - RFC 3263 steps in a row in which every query
 *      timed out before dnsd gives up with MSG_DNS_TIMEOUT; each step
 *      may take [dns] timeout_ms x tries. dns_clnt_wait_ms() is how long
 *      a client waits for dnsd's answer at most (with a second of slack),
 *      so it never gives up before dnsd does.
 */
#define DNS_CLNT_SILENT_STEPS 2

static inline int64_t dns_clnt_wait_ms(int timeout_ms, int tries)
{
    return (int64_t)DNS_CLNT_SILENT_STEPS * timeout_ms * tries + 1000;
}

/*
 * dns_clnt_query - reserve and fill one query record on r (producer
 *      side of a sipd -> dnsd ring), not committed.
 *      name/name_len: the host of the URI, not NUL-terminated; an IPv6
 *      literal may keep its brackets. port: host order, 0 when the URI
 *      has none. proto: MSG_PROTO_UDP/TCP/TLS from ";transport=", 0 when
 *      absent. secure: 1 for a sips: URI. hash: the Call-ID hash of the
 *      message (msg_sip.hash), folded into the query's 16-bit seed:
 *      dnsd draws the SRV weighted order from it, so the messages of one
 *      call get the same order.
 *      Returns 0; -ENOSPC when the ring is full; -EINVAL for a NULL or
 *      empty name, name_len > DNS_CLNT_NAME_MAX, an unknown proto or
 *      secure > 1.
 */
extern int dns_clnt_query(struct ring *r, uint64_t qid, const char *name,
                          size_t name_len, uint16_t port, uint8_t proto,
                          uint8_t secure, uint32_t hash);

/*
 * dns_clnt_answer - the answer in a popped record, or NULL when rec is
 *      not a MSG_T_DNS_ANSWER, has an unknown (older) version, is shorter
 *      than its header, has ntargets > MSG_DNS_MAX_ADDRS or more targets
 *      than its length holds. The pointer is into the ring: valid until
 *      ring_release().
 */
extern const struct msg_dns_answer *dns_clnt_answer(
    const struct ring_rec *rec);

#endif
