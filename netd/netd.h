#ifndef NETD_H
#define NETD_H
/*
 * SUMMARY
 *	netd - private interfaces of the network stage
 */
#include <stdint.h>

#include "msg.h"
#include "ring.h"
#include "srv.h"
#include "stats.h"

#define NETD_BATCH 32                   /* datagrams per recvmmsg/sendmmsg */
#define NETD_RECV_ROUNDS 8              /* batches per socket per turn */
#define NETD_DGRAM_MAX 65535

struct netd;

struct netd_sock {
    int fd;
    int idx;                            /* cfg listen index */
    int proto;
    struct ev_io io;
    struct netd *netd;
};

struct netd {
    struct srv *srv;
    struct stats_slot *st;
    int nsipd;
    struct ring to_sipd[CFG_MAX_SIPD];
    struct ring from_sipd[CFG_MAX_SIPD];
    struct ev_io wake_io[CFG_MAX_SIPD];
    uint32_t dirty;                     /* to_sipd rings with pending */
    struct netd_sock socks[CFG_MAX_LISTEN];
    int nsocks;
    /* receive batch: buffers are reused, never allocated per message */
    char (*rbuf)[NETD_DGRAM_MAX + 1];
    struct sockaddr_storage raddr[NETD_BATCH];
};

/* netd_udp.c */
extern int netd_udp_init(struct netd *n);
extern void netd_udp_fini(struct netd *n);
extern int netd_udp_send_all(struct netd *n);
extern uint32_t netd_hash_callid(const char *buf, size_t len);

/* netd.c */
extern void netd_addr_from_sa(struct msg_addr *a,
                              const struct sockaddr_storage *ss);
extern socklen_t netd_addr_to_sa(const struct msg_addr *a,
                                 struct sockaddr_storage *ss);

#endif
