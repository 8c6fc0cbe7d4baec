#ifndef NETD_CONN_H
#define NETD_CONN_H
/*
 * SUMMARY
 *      netd_conn - the TCP connection table: by id and by remote address
 * DESCRIPTION
 *      See netd_conn.c. A connection is looked up by its id (sipd echoes
 *      in->conn_id as out->conn_id for a reply, RFC 3261 18.2.2) and by a
 *      remote address (its peer, and the RFC 5923 alias its first request
 *      named), so responses and later requests to the same peer reuse it.
 */
#include <stddef.h>
#include <stdint.h>

#include "ev.h"
#include "msg.h"

#define NETD_CONN_CONNECTING 1          /* async connect in flight */
#define NETD_CONN_OPEN 2
#define NETD_CONN_DRAIN 3               /* no more reading; close when
                                         * the write queue is empty */
#define NETD_CONN_HANDSHAKE 4           /* TLS handshake in flight: only
                                         * its own bytes move; messages
                                         * wait in the write queue */

/* Bytes received and not consumed yet, and where framing stands. */
struct netd_frame {
    char *buf;                          /* NULL until the first read */
    size_t len;                         /* bytes in buf */
    size_t cap;
    size_t off;                         /* start of the current message */
    size_t scan;                        /* empty-line search resumes */
};

struct netd_conn {
    uint64_t id;                        /* never 0 */
    int fd;
    int sock;                           /* listen index (accepted on, or
                                         * source address of a connect) */
    int state;                          /* NETD_CONN_* */
    int outgoing;                       /* we connected */
    int ip_held;                        /* counted in the per-IP table */
    int proto;                          /* MSG_PROTO_TCP or _TLS: part of
                                         * the address key */
    void *tls;                          /* proto_tls's state; NULL */
    uint32_t hs_want;                   /* HANDSHAKE: EPOLLIN/OUT the
                                         * handshake waits for */
    struct msg_addr peer;
    struct msg_addr alias;              /* family 0: none (RFC 5923) */
    int64_t last_ms;                    /* last SIP message in or out
                                         * (keep-alives do not count) */
    int64_t msg_ms;                     /* first byte of a partial
                                         * message; 0: none pending */
    int64_t deadline_ms;                /* connect / drain deadline */
    struct netd_frame fr;
    char *wbuf;                         /* write queue: wbuf[woff..wlen) */
    size_t woff;
    size_t wlen;
    size_t wcap;
    struct netd_conn_back *back;        /* requests queued while
                                         * connecting (proto_tcp); NULL
                                         * once a byte was written */
    uint32_t nback;
    uint32_t wq_fwd[2];                 /* of wq_msgs: forwarded requests,
                                         * replies (core:fwd_*) */
    uint32_t wq_msgs;                   /* messages (partly) queued,
                                         * not counted sent yet */
    uint32_t events;                    /* registered in epoll */
    struct ev_io io;
};

/*
 * A forwarded request queued on a connection that is still connecting:
 * where it lies in the write queue and what netd_send_failed() needs to
 * hand it back to the sipd it came from if the connect fails.
 */
struct netd_conn_back {
    uint32_t off;                       /* in wbuf (woff is 0 meanwhile) */
    uint32_t len;
    uint32_t hash;                      /* msg_sip.hash, fail (tries) */
    uint32_t fail;
    uint16_t sock;
    uint16_t ring;                      /* worker slot, SHM_WORKER() */
    uint8_t flags;
};

#define NETD_CONN_BACK_N 8              /* handed back at most; the rest
                                         * of the queue is dropped */

/* Address hash entry: which key of which connection. */
struct netd_conn_hent {
    struct netd_conn *c;                /* NULL: empty */
    uint32_t h;
    uint32_t alias;                     /* key is c->alias, else c->peer */
};

/* Per-IP entry: connections held by one remote IP (port ignored). */
struct netd_conn_ipent {
    uint32_t n;                         /* 0: empty */
    uint32_t h;
    uint16_t family;
    unsigned char ip[16];
};

struct netd_conn_tab {
    struct netd_conn **slot;            /* by slot; NULL: free */
    uint32_t *gen;                      /* per slot, bumped on reuse */
    uint32_t *freel;                    /* free slot stack */
    uint32_t nfree;
    uint32_t nslot;                     /* slots ever used */
    uint32_t cap;                       /* slots allocated */
    uint32_t count;                     /* live connections */
    struct netd_conn_hent *ht;          /* open addressing, power of 2 */
    uint32_t hcap;
    uint32_t hcount;
    struct netd_conn_ipent *ipt;        /* open addressing, power of 2 */
    uint32_t ipcap;
    uint32_t ipcount;                   /* IPs with n > 0 */
};

/* netd_conn_tab_init - an empty table; 0 or -ENOMEM */
extern int netd_conn_tab_init(struct netd_conn_tab *t);

/* netd_conn_tab_fini - free the table and every connection left (their
 * fds are not closed: the caller closes them first, or exits) */
extern void netd_conn_tab_fini(struct netd_conn_tab *t);

/*
 * netd_conn_new - a zeroed connection with a fresh id, fd -1, in the
 *      table but under no address yet. NULL on ENOMEM.
 */
extern struct netd_conn *netd_conn_new(struct netd_conn_tab *t);

/* netd_conn_del - remove c from the table, free it and its buffers */
extern void netd_conn_del(struct netd_conn_tab *t, struct netd_conn *c);

/* netd_conn_by_id - the live connection with id, or NULL */
extern struct netd_conn *netd_conn_by_id(const struct netd_conn_tab *t,
                                         uint64_t id);

/*
 * netd_conn_by_addr - the connection of transport proto (c->proto)
 *      registered under a, or NULL. TCP and TLS connections share the
 *      table and never stand in for each other: a TLS destination is
 *      never served by a plain TCP connection to the same address.
 */
extern struct netd_conn *netd_conn_by_addr(const struct netd_conn_tab *t,
                                           int proto,
                                           const struct msg_addr *a);

/*
 * netd_conn_key - register c under c->proto and c->peer (alias 0) or
 *      c->alias (alias 1), replacing an older connection registered there (the
 *      newest connection to an address wins). 0 or -ENOMEM.
 */
extern int netd_conn_key(struct netd_conn_tab *t, struct netd_conn *c,
                         int alias);

/* netd_conn_ip_count - connections held under a's IP (port ignored) */
extern uint32_t netd_conn_ip_count(const struct netd_conn_tab *t,
                                   const struct msg_addr *a);

/*
 * netd_conn_ip_hold - count c under c->peer's IP until netd_conn_del()
 *      (for [net] tcp_max_connections_per_ip). Once per connection;
 *      0 or -ENOMEM (then c is not counted).
 */
extern int netd_conn_ip_hold(struct netd_conn_tab *t, struct netd_conn *c);

/* netd_conn_at - iteration: the connection in slot i (i < t->nslot) */
static inline struct netd_conn *netd_conn_at(const struct netd_conn_tab *t,
                                             uint32_t i)
{
    return t->slot[i];
}

#endif
