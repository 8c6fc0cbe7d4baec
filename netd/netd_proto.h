#ifndef NETD_PROTO_H
#define NETD_PROTO_H
/*
 * SUMMARY
 *      netd_proto - the interface a transport library exports to netd
 * DESCRIPTION
 *      A transport is a shared library build/lib/proto_NAME.so ("udp",
 *      "tcp") that exports one object named NETD_PROTO_SYMBOL
 *      ("netd_proto") of type struct netd_proto. netd dlopens a library
 *      only when a [net] listen line names its transport (netd_proto.c),
 *      checks the symbol, the version and the transport number, and then
 *      calls:
 *
 *          init(n)      once, after the rings are attached: register
 *                       every listen socket of this transport in
 *                       n->srv->ev. 0 or -errno (netd exits: fatal).
 *          send(n, m)   one MSG_T_SIP_OUT record for this transport; m
 *                       (and m->data) stay valid until the next flush()
 *                       returns, so a transport may batch without a copy.
 *                       Never fails: errors are counted and logged.
 *          flush(n)     end of a batch of send(): send what was gathered.
 *          tick(n, now) every NETD_TICK_MS (idle sweeps, timeouts); may
 *                       be NULL.
 *          fini(n)      at exit: close what init and later calls opened.
 *
 *      Everything runs in netd's one reactor thread. The library uses
 *      netd's services (netd.h: netd_to_sipd, netd_commit, the addr and
 *      conn helpers) and libcommon's log/ev/stats through netd's dynamic
 *      symbol table (netd is linked with -rdynamic).
 *
 *      The version changes whenever this struct or the meaning of a
 *      service changes; a library of another version is refused.
 */
#include <stdint.h>

#include "msg.h"

#define NETD_PROTO_VERSION 1u
#define NETD_PROTO_SYMBOL "netd_proto"

struct netd;

struct netd_proto {
    uint32_t version;                   /* NETD_PROTO_VERSION */
    uint32_t proto;                     /* MSG_PROTO_* it carries */
    const char *name;                   /* "udp", "tcp" */
    int (*init)(struct netd *n);
    void (*send)(struct netd *n, const struct msg_sip *m);
    void (*flush)(struct netd *n);
    void (*tick)(struct netd *n, int64_t now_ms);
    void (*fini)(struct netd *n);
};

#endif
