#ifndef PROTO_TCP_H
#define PROTO_TCP_H
/*
 * SUMMARY
 *    proto_tcp - private interfaces of the stream transports (TCP, TLS)
 * DESCRIPTION
 *    proto_tcp.c holds the stream transport's entry points, accepting,
 *    reading and framing, and the timers; proto_tcp_out.c the outgoing
 *    side: the write queue, connects and the hold-down of failed
 *    destinations, and handing unsent requests back to sipd. One state
 *    struct serves both.
 *
 *    The same two files are linked into two libraries: proto_tcp.so,
 *    with proto_tcp_mod.c (plain read/send and the netd_proto object),
 *    and proto_tls.so, with proto_tls*.c (OpenSSL). What differs is
 *    struct proto_tcp_io: how bytes are read and written and how a new
 *    connection starts (a TLS handshake). Connection table, framer,
 *    limits, timers, write queue, connects and hand-back are one code.
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

struct netd_conn;

/*
 * proto_tcp_io - what a stream transport does its own way. read and
 *    write are read(2)/send(2) in shape: > 0 bytes moved, read 0 at the
 *    end of the stream, -1 with errno set (EAGAIN/EWOULDBLOCK: not now;
 *    anything else ends the connection). pending: bytes the transport
 *    holds that read would return without the socket being readable
 *    (TLS records already decrypted), else 0. start: a connection was
 *    accepted, or its connect completed: 0 ready to carry messages
 *    (state OPEN), 1 a handshake started (state NETD_CONN_HANDSHAKE,
 *    c->hs_want set; the transport calls proto_tcp_ready() or closes c
 *    when it ends), -1 failed (the caller closes c). handshake: an
 *    event while in NETD_CONN_HANDSHAKE. end: c is being closed: end
 *    the session (TLS close_notify) and free c->tls. dial: c is a new
 *    outgoing connection for message m (its TLS server name follows
 *    m->data when m->name_len > 0): 0, or -1 (the caller closes c).
 *    start, handshake, end and dial may be NULL (plain TCP).
 */
struct proto_tcp_io {
    int proto;                          /* MSG_PROTO_TCP / _TLS */
    const char *name;                   /* "tcp", "tls": log lines */
    ssize_t (*read)(struct netd_conn *c, char *buf, size_t len);
    ssize_t (*write)(struct netd_conn *c, const char *buf, size_t len);
    size_t (*pending)(struct netd_conn *c);
    int (*start)(struct netd *n, struct netd_conn *c);
    void (*handshake)(struct netd *n, struct netd_conn *c, uint32_t e);
    void (*end)(struct netd *n, struct netd_conn *c);
    int (*dial)(struct netd *n, struct netd_conn *c,
                const struct msg_sip *m);
};

struct proto_tcp {
    struct netd *n;
    const struct proto_tcp_io *io;
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

/* The stream transport's netd_proto entry points (proto_tcp.c), for the
 * netd_proto object of proto_tcp_mod.c and proto_tls.c. */
extern int proto_tcp_init_io(struct netd *n, const struct proto_tcp_io *io);
extern void proto_tcp_send(struct netd *n, const struct msg_sip *m);
extern void proto_tcp_flush(struct netd *n);
extern void proto_tcp_tick(struct netd *n, int64_t now_ms);
extern void proto_tcp_fini(struct netd *n);

/*
 * proto_tcp_ready - c's handshake is over: it carries messages now
 *    (state OPEN), what waited in its write queue is sent, and what the
 *    handshake's last read brought is framed. -1 when c was closed.
 */
extern int proto_tcp_ready(struct netd *n, struct netd_conn *c);

/*
 * proto_tcp_fail_out - an outgoing connection failed before it carried
 *    a byte of SIP (connect, or its TLS handshake): hand its requests
 *    back to sipd with reason, hold the destination down, close it
 *    counting stat (-1: none). Logs nothing: the caller said why.
 */
extern void proto_tcp_fail_out(struct netd *n, struct netd_conn *c,
                               uint32_t reason, int stat);

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
extern struct netd_conn *proto_tcp_connect(struct netd *n,
                                           const struct msg_sip *m,
                                           const struct msg_addr *to,
                                           uint32_t *why);
extern int proto_tcp_start(struct netd *n, struct netd_conn *c);
extern void proto_tcp_connected(struct netd *n, struct netd_conn *c);
extern int proto_tcp_flush_wq(struct netd *n, struct netd_conn *c);
extern void proto_tcp_fwd_count(struct netd *n, uint8_t flags);
extern void proto_tcp_hold_add(const struct msg_addr *a);
extern int proto_tcp_write(struct netd *n, struct netd_conn *c,
                           const char *data, size_t len);

#endif
