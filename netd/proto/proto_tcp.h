#ifndef PROTO_TCP_H
#define PROTO_TCP_H
/*
 * SUMMARY
 *    proto_tcp - private interfaces of the TCP transport library
 * DESCRIPTION
 *    proto_tcp.c holds the library's entry points, accepting, reading and
 *    framing, and the timers; proto_tcp_out.c the outgoing side: the
 *    write queue, connects and the hold-down of failed destinations, and
 *    handing unsent requests back to sipd. One state struct serves both.
 *
 *    This is the tree's one two-way tie between files, kept on purpose:
 *    the outgoing side adds and closes connections through the
 *    library's one connection lifecycle (proto_tcp_add/close/events), and
 *    the reader hands what it must send to the outgoing side. Both are
 *    one transport library (one .so); a third file for four lifecycle
 *    functions would name nothing a reader looks for.
 */
#include <stddef.h>
#include <stdint.h>

#include "../netd.h"

#define NETD_TCP_ACCEPTS 64             /* accepts per wake-up */
#define NETD_TCP_READS 4                /* reads per wake-up */
#define NETD_TCP_RBUF_MIN 2048
#define NETD_TCP_WBUF_MIN 4096
#define NETD_TCP_WQ_FACTOR 4            /* write queue bound: x max size */
#define NETD_TCP_CONNECT_MS 5000
#define NETD_TCP_DRAIN_MS 2000          /* 513 sent, then closed */
#define NETD_TCP_MSG_S 10               /* a message completes within */
#define NETD_TCP_HOLD_MS 2000           /* no new connect after a failure */
#define NETD_TCP_HOLD_N 256             /* failed destinations remembered */
#define NETD_TCP_RESERVE_DIV 16         /* 1/16 of the slots: outgoing */

/* A destination whose connect failed lately (direct-mapped by hash). */
struct proto_tcp_hold {
    struct msg_addr a;
    int64_t until_ms;                   /* 0: empty */
};

struct proto_tcp {
    struct netd *n;
    size_t max;                         /* tcp_max_size */
    size_t wq_max;
    int64_t lifetime_ms;
    int64_t msg_ms;
    uint32_t max_conns;
    uint32_t max_in;                    /* max_conns - outgoing reserve */
    uint32_t max_per_ip;
    int spare_fd;                       /* EMFILE reserve */
    struct proto_tcp_hold hold[NETD_TCP_HOLD_N];
};

extern struct proto_tcp proto_tcp_g;

extern struct netd_conn *proto_tcp_add(struct netd *n, int fd, int sock,
                                       const struct msg_addr *peer,
                                       int state);
extern void proto_tcp_close(struct netd *n, struct netd_conn *c, int stat);
extern void proto_tcp_events(struct netd *n, struct netd_conn *c);
extern const char *proto_tcp_name(const struct netd_conn *c, char *buf,
                                  size_t cap);
extern void proto_tcp_back_add(struct netd *n, struct netd_conn *c,
                               const struct msg_sip *m);
extern void proto_tcp_back_all(struct netd *n, struct netd_conn *c,
                               uint32_t reason);
extern int proto_tcp_back_one(struct netd *n, const struct msg_sip *m,
                              uint32_t reason);
extern struct netd_conn *proto_tcp_connect(struct netd *n, int sock,
                                           const struct msg_addr *to,
                                           uint32_t *why);
extern void proto_tcp_connected(struct netd *n, struct netd_conn *c);
extern int proto_tcp_flush_wq(struct netd *n, struct netd_conn *c);
extern void proto_tcp_fwd_count(struct netd *n, uint8_t flags);
extern void proto_tcp_hold_add(const struct msg_addr *a);
extern int proto_tcp_write(struct netd *n, struct netd_conn *c,
                           const char *data, size_t len);

#endif
