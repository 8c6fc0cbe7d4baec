#ifndef SIPD_ROUTE_H
#define SIPD_ROUTE_H
/*
 * SUMMARY
 *    sipd_route - stateless routing of one SIP message (RFC 3261 16.11)
 * DESCRIPTION
 *    Pure functions: given one received message and the config, decide
 *    what leaves the proxy (the forwarded message, a locally generated
 *    reply, or nothing) and where it goes. No I/O, no locks, no malloc:
 *    the worker owns the struct sip_msg and the output buffer and pushes
 *    the result to its ring. This is the boundary the unit tests drive.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cfg.h"
#include "msg.h"
#include "sip_msg.h"
#include "stats.h"

#define SIPD_V_DROP 0                   /* nothing leaves; counted */
#define SIPD_V_SEND 1                   /* out->buf to out->dst */
#define SIPD_V_RESOLVE 2                /* out->buf ready; resolve name */
#define SIPD_V_LOOKUP 3                 /* look up out->user@out->name in
                                         * dbaliases, then route again */

/*
 * What the alias lookup ([route] db_aliases) decided for one request:
 * state 0 nothing yet, SIPD_ALIAS_KEEP no row (the Request-URI stays),
 * SIPD_ALIAS_SET uri[0..len) replaces it.
 */
#define SIPD_ALIAS_KEEP 1
#define SIPD_ALIAS_SET 2
#define SIPD_ALIAS_URI_MAX 512

struct sipd_alias {
    int state;                          /* 0, SIPD_ALIAS_KEEP or _SET */
    size_t len;
    char uri[SIPD_ALIAS_URI_MAX];       /* "sip:user@domain", no NUL */
};

/* What the allow-list ([route] db_allow) says of a request's source. */
#define SIPD_ALLOW_NO 0                 /* in no row: 403 */
#define SIPD_ALLOW_YES 1
#define SIPD_ALLOW_UNKNOWN 2            /* no table loaded yet: 503 */

/* Seconds a 503 for a database problem asks the sender to wait. */
#define SIPD_RETRY_AFTER_S 5

/*
 * sipd_alias_fn - the answer kept for user@host (host lower-cased,
 *    NUL-terminated), or NULL when none is known (then the router
 *    returns SIPD_V_LOOKUP). The answer stays valid until the caller's
 *    next call; it is the worker's cache (sipd_db.c).
 * sipd_allow_fn - SIPD_ALLOW_* for source src (address and port).
 */
typedef const struct sipd_alias *sipd_alias_fn(void *arg, struct str user,
                                               const char *host);
typedef int sipd_allow_fn(void *arg, const struct msg_addr *src);

struct sipd_route_env {
    const struct cfg *cfg;              /* listen[], alias[], record_route */
    struct stats_slot *st;              /* this thread's counters; NULL:
                                         * count nothing */
    int force_proto;                    /* MSG_PROTO_*: a name target
                                         * leaves over this transport (DNS
                                         * chose it); 0: the URI decides */
    int force_family;                   /* AF_INET/AF_INET6: a name target
                                         * leaves over this family (DNS
                                         * gave an address of it); 0: any */
    const struct sipd_alias *alias;     /* the lookup's answer for this
                                         * message (routed again after
                                         * it); NULL: ask alias_get, and
                                         * SIPD_V_LOOKUP when it does not
                                         * know */
    sipd_alias_fn *alias_get;           /* NULL: nothing kept */
    sipd_allow_fn *allow;               /* [route] db_allow; NULL: no
                                         * table (503) */
    void *arg;                          /* of alias_get and allow */
};

struct sipd_route_out {
    int verdict;                        /* SIPD_V_* */
    int local_reply;                    /* buf is a reply we generated */
    int status;                         /* its status code, else 0 */
    char *buf;                          /* caller's buffer */
    size_t cap;
    size_t len;                         /* bytes in buf */
    /* SIPD_V_SEND: where to */
    uint8_t proto;                      /* MSG_PROTO_* */
    uint16_t sock;                      /* cfg listen index to send from */
    uint64_t conn_id;                   /* TCP: reuse this connection */
    struct msg_addr dst;
    uint8_t fwd;                        /* MSG_F_FWD_*: netd counts
                                         * core:fwd_* once written */
    uint32_t hash;                      /* the received msg_sip.hash */
    uint32_t fail;                      /* msg_sip.fail: tries << 8 */
    const struct sipd_alias *alias;     /* the alias answer applied (a
                                         * request routed again after
                                         * DNS needs it); NULL: none */
    /* SIPD_V_LOOKUP: user (points into the message: valid until it is
     * parsed again) at host name[] (lower-cased) */
    struct str user;
    /* SIPD_V_RESOLVE: what to resolve (RFC 3263), then send as above */
    char name[CFG_HOST];
    uint16_t port;                      /* 0 = not given */
    uint8_t rproto;                     /* 0 = not given */
    uint8_t secure;                     /* sips: */
};

/*
 * sipd_route_out_reset - clear *out for a new message, keeping the
 *    caller's buffer (buf, cap); verdict SIPD_V_DROP, len 0.
 */
static inline void sipd_route_out_reset(struct sipd_route_out *out)
{
    char *buf = out->buf;
    size_t cap = out->cap;

    memset(out, 0, offsetof(struct sipd_route_out, name));
    out->buf = buf;
    out->cap = cap;
    out->name[0] = '\0';
    out->port = 0;
    out->rproto = 0;
    out->secure = 0;
}

/*
 * sipd_route - parse and route one received message
 *    m is the worker's scratch message (sip_msg_init() done once);
 *    in/data/len the received record. out->buf/out->cap are set by
 *    the caller. Fills *out and returns out->verdict.
 *    SIPD_V_LOOKUP ([route] db_aliases, an initial request whose
 *    answer env->alias_get does not know): nothing is sent; the caller
 *    looks out->user@out->name up and calls sipd_route() again on the
 *    same record with env->alias set to the answer.
 */
extern int sipd_route(const struct sipd_route_env *env, struct sip_msg *m,
                      const struct msg_sip *in, const char *data,
                      size_t len, struct sipd_route_out *out);

/*
 * sipd_route_resolved - finish a SIPD_V_RESOLVE: target t (the first
 *    DNS target) fills out->dst. Returns SIPD_V_SEND, or SIPD_V_DROP
 *    when t contradicts the Via out carries: another transport, or
 *    another address family than the socket the Via names (the caller
 *    routes the received message again with env->force_proto and
 *    env->force_family set from t).
 */
extern int sipd_route_resolved(const struct sipd_route_env *env,
                               const struct msg_dns_target *t,
                               struct sipd_route_out *out);

/*
 * sipd_route_failed - netd could not send request "in" (MSG_F_SEND_FAILED:
 *    in->data is the request as we forwarded it, our Via on top; in->peer
 *    the target that failed over in->proto). Returns, with *out filled:
 *    SIPD_V_RESOLVE  the same bytes, and the next hop's name (top Route
 *                    with ;lr, else the Request-URI) to resolve again
 *                    over in->proto; out->fail counts the tries;
 *    SIPD_V_SEND     to an IP literal reached over TCP only for its size
 *                    (RFC 3261 18.1.1): our Via says UDP, same address
 *                    over UDP; or (out->local_reply) "503 Service
 *                    Unavailable" to the hop before us: a literal, or
 *                    too many targets failed;
 *    SIPD_V_DROP     an ACK that would get the 503, or not our request.
 *    m: the worker's scratch message; scratch/scap a second buffer (the
 *    503 is built there, then relayed into out->buf).
 */
extern int sipd_route_failed(const struct sipd_route_env *env,
                             struct sip_msg *m, const struct msg_sip *in,
                             char *scratch, size_t scap,
                             struct sipd_route_out *out);

/*
 * sipd_retry_503 - the 503 of sipd_route_failed() for request m, parsed
 *    from in->data (the resolution of its next hop failed, or left no
 *    target). SIPD_V_SEND or SIPD_V_DROP (an ACK).
 */
extern int sipd_retry_503(const struct sipd_route_env *env, struct sip_msg *m,
                          const struct msg_sip *in, char *scratch,
                          size_t scap, struct sipd_route_out *out);

/*
 * sipd_reply - build a stateless reply to request m (already parsed)
 *    that arrived as "in": status line, the request's Via headers
 *    (with received/rport as RFC 3581 says), From, To (a To tag added
 *    when absent, deterministic), Call-ID, CSeq, Content-Length: 0.
 *    Destination per RFC 3261 18.2.2 / RFC 3581. Returns SIPD_V_SEND or
 *    SIPD_V_DROP when it cannot be addressed.
 */
extern int sipd_reply(const struct sipd_route_env *env, struct sip_msg *m,
                      const struct msg_sip *in, int status,
                      const char *reason, struct sipd_route_out *out);

/*
 * sipd_reply_unavailable - sipd_reply() of "503 Service Unavailable"
 *    with "Retry-After: SIPD_RETRY_AFTER_S" (RFC 3261 21.5.4, 20.33):
 *    the database could not answer. Counted as sipd_reply().
 */
extern int sipd_reply_unavailable(const struct sipd_route_env *env,
                                  struct sip_msg *m, const struct msg_sip *in,
                                  struct sipd_route_out *out);

#endif
