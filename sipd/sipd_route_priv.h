#ifndef SIPD_ROUTE_PRIV_H
#define SIPD_ROUTE_PRIV_H
/*
 * SUMMARY
 *    sipd_route_priv - internals shared by sipd_route.c, sipd_reply.c
 *    and sipd_branch.c
 * DESCRIPTION
 *    Not for use outside these three files: the worker and the tests
 *    see only sipd_route.h.
 */
#include <arpa/inet.h>
#include <stdint.h>

#include "sipd_route.h"

/* Default ports (RFC 3261 section 19.1.2). */
#define SIPD_PORT_SIP 5060
#define SIPD_PORT_SIPS 5061

/*
 * Our branch: the RFC 3261 magic cookie, a marker that says "sipd
 * made this", 16 hex digits that identify the transaction and 8 that
 * fingerprint what the request was routed on (for loop detection,
 * RFC 3261 section 16.3 step 4):
 *    z9hG4bK sS 0123456789abcdef 01234567
 */
#define SIPD_BRANCH_COOKIE "z9hG4bK"
#define SIPD_BRANCH_PREFIX "z9hG4bKsS"
#define SIPD_BRANCH_PREFIX_LEN 9
#define SIPD_BRANCH_LEN (SIPD_BRANCH_PREFIX_LEN + 16 + 8)
/*
 * Our Via's parameter holding netd's id of the TCP connection a request
 * came in on (hex); the response carries it back to us.
 */
#define SIPD_VIA_CID "cid"
/* To tag of a stateless reply: 16 hex digits. */
#define SIPD_TAG_LEN 16

struct sipd_branch {
    uint64_t txn;                       /* same for retransmission etc. */
    uint32_t loop;                      /* RURI and Route set received */
};

/* sipd_branch.c */
extern void sipd_branch_compute(const struct sip_msg *m,
                                struct sipd_branch *b);
extern void sipd_branch_format(const struct sipd_branch *b, char *out);
extern int sipd_branch_ours(struct str branch, uint32_t *loop);
extern void sipd_branch_tag(const struct str *parts, int n, char *out);

/*
 * What RFC 3261 section 18.2.1 and RFC 3581 section 4 add to the
 * sender's (top) Via of a request: received= and a filled-in rport.
 */
struct sipd_route_src {
    int received;                       /* set received=ip */
    int rport;                          /* fill ;rport with port */
    struct str ip;                      /* points into ipbuf */
    struct str port;                    /* points into portbuf */
    char ipbuf[INET6_ADDRSTRLEN];
    char portbuf[8];
};

/* sipd_route.c: addresses and sockets */
extern void sipd_route_out_reset(struct sipd_route_out *out);
extern int sipd_route_proto(enum sip_transport tp);
extern int sipd_route_addr(struct msg_addr *a, struct str host,
                           enum sip_host_type ht, int port);
extern int sipd_route_addr_usable(const struct msg_addr *a);
extern void sipd_route_src_fix(const struct sip_via *v,
                               const struct msg_addr *peer,
                               struct sipd_route_src *s);
extern int sipd_route_is_us(const struct cfg *c, struct str host,
                            enum sip_host_type ht, int port);
extern int sipd_route_via_is_us(const struct cfg *c, const struct sip_via *v);
extern int sipd_route_sock(const struct cfg *c, int proto, int family,
                           int prefer);
extern int sipd_route_frame(struct sip_msg *m, int proto);
extern size_t sipd_route_lower(char *dst, size_t cap, struct str s);
extern struct str sipd_route_unbracket(struct str h);

/* sipd_reply.c: the parts of sipd_route() that concern replies */
extern int sipd_reply_bad(const struct sipd_route_env *env,
                          const struct msg_sip *in, const char *data,
                          size_t len, const char *reason,
                          struct sipd_route_out *out);
extern int sipd_reply_raw(const struct sipd_route_env *env,
                          const struct msg_sip *in, const char *data,
                          size_t len, int status, const char *reason,
                          struct sipd_route_out *out);
extern int sipd_reply_relay(const struct sipd_route_env *env,
                            struct sip_msg *m, const struct msg_sip *in,
                            struct sipd_route_out *out);

#endif
