#ifndef SIPD_ROUTE_PRIV_H
#define SIPD_ROUTE_PRIV_H
/*
 * SUMMARY
 *    sipd_route_priv - internals of routing, shared by sipd_route.c,
 *    sipd_hop.c, sipd_reply.c, sipd_addr.c and sipd_branch.c
 * DESCRIPTION
 *    Not for use outside these files: the worker and the tests see
 *    only sipd_route.h. Calls between them run one way, down this
 *    list (a file calls only files below it):
 *
 *        sipd_retry     a request netd handed back (send failed)
 *        sipd_route     requests (RFC 3261 16.3-16.6)
 *        sipd_reply     generated and relayed replies (8.2.6, 16.11)
 *        sipd_hop       next hop, its transport, its framing
 *        sipd_addr      is it us, which socket, the sender's Via
 *        sipd_branch    branch and To tag values (calls none of them)
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
struct sipd_addr_src {
    int received;                       /* set received=ip */
    int rport;                          /* fill ;rport with port */
    struct str ip;                      /* points into ipbuf */
    struct str port;                    /* points into portbuf */
    char ipbuf[INET6_ADDRSTRLEN];
    char portbuf[8];
};

/* sipd_addr.c: is it us, which socket, what the sender's Via lacks */
extern int sipd_addr_proto(enum sip_transport tp);
extern int sipd_addr_usable(const struct msg_addr *a);
extern void sipd_addr_src_fix(const struct sip_via *v,
                              const struct msg_addr *peer,
                              struct sipd_addr_src *s);
extern int sipd_addr_is_us(const struct cfg *c, struct str host,
                           enum sip_host_type ht, int port);
extern int sipd_addr_uri_is_us(const struct cfg *c, const struct sip_uri *u);
extern int sipd_addr_via_is_us(const struct cfg *c, const struct sip_via *v);
extern int sipd_addr_sock(const struct cfg *c, int proto, int family,
                          int prefer);
extern struct str sipd_addr_hostport(const struct cfg_listen *l, char *buf,
                                     size_t cap);
extern size_t sipd_addr_lower(char *dst, size_t cap, struct str s);
extern struct str sipd_addr_unbracket(struct str h);

/* Where a request goes next (RFC 3261 16.5, 16.6 steps 6-7). */
struct sipd_hop {
    struct str host;                    /* maddr or host, no brackets */
    enum sip_host_type ht;
    int port;                           /* as given; 0 = none */
    int proto;                          /* MSG_PROTO_* of the next leg */
    int given;                          /* ;transport= was present */
    int secure;                         /* sips: */
    int sock;                           /* cfg listen index to send from */
    struct msg_addr dst;                /* IP literal targets */
};

/* sipd_hop.c: the next leg, its transport, and what that needs */
extern int sipd_hop_next(const struct cfg *c, struct sip_msg *m,
                         const struct msg_sip *in, struct sipd_hop *h,
                         const char **why);
extern int sipd_hop_forced(const struct sipd_route_env *env,
                           const struct msg_sip *in, struct sipd_hop *h,
                           const char **why);
extern void sipd_hop_big(const struct cfg *c, const struct sip_msg *m,
                         struct sipd_hop *h);
extern int sipd_hop_frame(struct sip_msg *m, int proto);
/* the reason of the 480 for a sips: request with no TLS path; the
 * reply carries Warning: 380 "SIPS Not Allowed" (RFC 5630 5.3) */
extern const char sipd_hop_no_sips[];

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
