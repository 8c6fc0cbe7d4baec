#ifndef MSG_H
#define MSG_H
/*
 * SUMMARY
 *    msg - record types that cross the shared-memory rings
 * DESCRIPTION
 *    Every ring record is {type, version, len} (ring.h) plus one of the
 *    payloads below. Fields are host byte order except addresses and
 *    ports inside struct msg_addr, which are network order as in a
 *    sockaddr. A reader accepts version >= the one it knows and reads
 *    only the fields it knows (new fields are appended), so a restarted
 *    stage of a newer build can talk to an older peer.
 * PROTOCOL
 *    netd    -> sipd[i]  MSG_T_SIP_IN    a datagram or a framed TCP message
 *    sipd[i] -> netd     MSG_T_SIP_OUT   bytes to send, with destination
 *    sipd[i] -> dnsd     MSG_T_DNS_QUERY name to resolve (RFC 3263)
 *    dnsd    -> sipd[i]  MSG_T_DNS_ANSWER addresses in failover order
 *    netd    -> sipd[i]  MSG_T_SIP_IN with MSG_F_SEND_FAILED: a send failed
 *                        (TCP: the message handed back to the sipd whose
 *                        ring it came from; UDP: destination only)
 *    sipd[i] -> dnsd     MSG_T_DNS_FAILED a target failed: skip it for a
 *                        while in later answers
 *    sipd[i] -> dbd      MSG_T_DB_QUERY  a query by number, with values
 *    dbd -> sipd[i]      MSG_T_DB_ROWS   its status and rows, in one or
 *                        more records
 */
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#define MSG_T_SIP_IN 1
#define MSG_T_SIP_OUT 2
#define MSG_T_DNS_QUERY 3
#define MSG_T_DNS_ANSWER 4
#define MSG_T_DNS_FAILED 5
#define MSG_T_DB_QUERY 6
#define MSG_T_DB_ROWS 7

#define MSG_V1 1

#define MSG_PROTO_UDP 1
#define MSG_PROTO_TCP 2
#define MSG_PROTO_TLS 3                 /* TLS over TCP (proto_tls.so) */

/* msg_proto_stream - TCP or TLS: framed, connection-oriented */
static inline int msg_proto_stream(int proto)
{
    return proto == MSG_PROTO_TCP || proto == MSG_PROTO_TLS;
}

/* Largest SIP message the pipeline carries (datagram or TCP). */
#define MSG_SIP_MAX 65535

/* An IPv4 or IPv6 endpoint; family is AF_INET or AF_INET6. */
struct msg_addr {
    uint16_t family;
    uint16_t port;                      /* network order */
    uint32_t scope;                     /* IPv6 scope id */
    unsigned char ip[16];               /* 4 or 16 bytes used */
};

/*
 * MSG_T_SIP_IN / MSG_T_SIP_OUT. For SIP_IN, "sock" is the index of the
 * listen socket it arrived on (cfg listen order), "peer" the sender.
 * For SIP_OUT, "sock" is the socket to send from and "peer" the
 * destination. "hash" is netd's hash of the Call-ID (0 when none was
 * found), used to pick the sipd process and worker. For TCP, netd has
 * already framed the message: hdr_len is the length of start line plus
 * headers plus the empty line, body_len the Content-Length it found, so
 * sipd does not scan the message a second time to find its end. TLS
 * (MSG_PROTO_TLS) is framed and addressed exactly as TCP: conn_id names
 * the TLS connection.
 */
struct msg_sip {
    uint8_t proto;                      /* MSG_PROTO_* */
    uint8_t flags;                      /* MSG_F_* */
    uint16_t sock;
    uint32_t hash;
    uint64_t conn_id;                   /* TCP connection, 0 for UDP */
    struct msg_addr peer;
    uint32_t hdr_len;                   /* 0: not framed (UDP) */
    uint32_t body_len;
    uint32_t len;                       /* bytes in data[] */
    uint32_t fail;                      /* reason | tries << 8, below */
    uint32_t stamp_ms;                  /* SIP_IN: netd's monotonic ms
                                         * (mod 2^32) at receipt; sipd
                                         * drops it when older than
                                         * [stages] max_queue_ms */
    uint32_t name_len;                  /* SIP_OUT over TLS: the bytes
                                         * after data[len] are the host
                                         * name the server certificate
                                         * must match (RFC 5922); 0: the
                                         * peer's IP (its IP SAN). Was
                                         * pad (always 0). */
    char data[];
};

#define MSG_F_FRAMED 0x01               /* hdr_len/body_len are valid */
/*
 * TCP: the message's headers plus Content-Length exceed [net]
 * tcp_max_size. data[] holds the header block only (hdr_len bytes,
 * body_len 0); sipd answers a request 513 on conn_id, and netd closes
 * the connection once that is written (or after 2 s).
 */
#define MSG_F_OVERSIZE 0x02
/*
 * netd -> sipd: a send to "peer" over "proto" failed for reason "fail".
 * TCP (connect refused, timed out, reset before the write): data[] is
 * the SIP_OUT message as sipd sent it (our Via on top), sent back on the
 * ring it came from. UDP (ICMP unreachable): len is 0, netd keeps no
 * datagrams; the UAC's retransmission tries the next target.
 */
#define MSG_F_SEND_FAILED 0x04
/*
 * sipd -> netd on SIP_OUT: the message is a forwarded request or a
 * forwarded reply (not one sipd generated); netd counts
 * core:fwd_requests / core:fwd_replies when it is actually written.
 */
#define MSG_F_FWD_REQUEST 0x08
#define MSG_F_FWD_REPLY 0x10

/* msg_sip.fail and msg_dns_failed.reason */
#define MSG_FAIL_REFUSED 1              /* TCP RST to SYN, ICMP port unr. */
#define MSG_FAIL_TIMEOUT 2              /* TCP connect timed out */
#define MSG_FAIL_RESET 3                /* reset/closed before the write */
#define MSG_FAIL_UNREACH 4              /* ICMP host/net unreachable */
#define MSG_FAIL_OTHER 5
/*
 * msg_sip.fail: on SIP_OUT, sipd puts the number of targets this request
 * already failed on (tries << 8); netd hands it back with the reason in
 * the low byte, so sipd bounds failover without keeping state.
 */
#define MSG_FAIL_REASON(f) ((f) & 0xffu)
#define MSG_FAIL_TRIES(f) ((f) >> 8)

/*
 * MSG_T_DNS_QUERY: resolve "name" for a SIP URI (RFC 3263). "seed" is
 * the Call-ID hash folded to 16 bits (0 = none): dnsd orders SRV targets
 * of equal priority from it, so an INVITE and its CANCEL (same Call-ID)
 * get their targets in the same order without state in sipd.
 */
struct msg_dns_query {
    uint64_t qid;                       /* chosen by sipd, echoed back */
    uint16_t port;                      /* host order; 0 = not in URI */
    uint8_t proto;                      /* MSG_PROTO_*, 0 = not given */
    uint8_t secure;                     /* sips: */
    uint16_t name_len;
    uint16_t seed;                      /* was pad (always 0) */
    char name[];                        /* not NUL-terminated */
};

#define MSG_DNS_OK 0
#define MSG_DNS_NXDOMAIN 1              /* no such name: 478/604 */
#define MSG_DNS_TIMEOUT 2               /* servers did not answer: 503 */
#define MSG_DNS_ERROR 3                 /* anything else: 503 */

#define MSG_DNS_MAX_ADDRS 16

/* MSG_T_DNS_ANSWER: targets in the order to try them. */
struct msg_dns_target {
    struct msg_addr addr;               /* port filled in */
    uint8_t proto;
    uint8_t pad[7];
};

struct msg_dns_answer {
    uint64_t qid;
    uint16_t status;                    /* MSG_DNS_* */
    uint16_t ntargets;
    uint32_t ttl;
    struct msg_dns_target targets[];
};

/*
 * MSG_T_DNS_FAILED: a send to addr/proto failed (reason MSG_FAIL_*).
 * dnsd leaves that target out of (or puts it last in) the answers it
 * gives for a while; the record has no reply. Shared by every sipd, so
 * the second resolution for an INVITE and for its CANCEL both skip it.
 */
struct msg_dns_failed {
    struct msg_addr addr;               /* port filled in */
    uint8_t proto;                      /* MSG_PROTO_* */
    uint8_t pad[3];
    uint32_t reason;                    /* MSG_FAIL_* */
};

/*
 * MSG_T_DB_QUERY: run query number "query" (MSG_DB_Q_*: dbd owns the SQL
 * text; sipd only names it) with nparams values. data[] holds the
 * values one after another, each a uint16_t length (host order;
 * MSG_DB_NULL for NULL) and that many bytes, unaligned. dbd answers
 * MSG_DB_TIMEOUT, without running it, a query whose stamp_ms is older
 * than [db] timeout_ms when a connection frees up for it.
 */
struct msg_db_query {
    uint64_t qid;                       /* chosen by sipd, echoed back */
    uint16_t query;                     /* MSG_DB_Q_* */
    uint16_t nparams;                   /* <= MSG_DB_PARAMS_MAX */
    uint32_t stamp_ms;                  /* sipd's monotonic ms, mod 2^32 */
    char data[];
};

#define MSG_DB_NULL 0xffffu
#define MSG_DB_PARAMS_MAX 8
#define MSG_DB_VAL_MAX 4096             /* longest value either way */

/*
 * The queries. Each names its SQL text in dbd (dbd_sql.c) and the
 * columns its rows carry, in this order.
 *   MSG_DB_Q_ALIAS    (alias_username, alias_domain) ->
 *                     (username, domain) from dbaliases, at most one row
 *   MSG_DB_Q_ADDRESS  () -> (grp, ip_addr, mask, port) from address,
 *                     every row (allow-list load)
 */
#define MSG_DB_Q_ALIAS 1
#define MSG_DB_Q_ADDRESS 2

#define MSG_DB_OK 0
#define MSG_DB_ERROR 1                  /* the query failed: 503 */
#define MSG_DB_TIMEOUT 2                /* not answered in time: 503 */
#define MSG_DB_BUSY 3                   /* dbd's queue is full: 503 */
#define MSG_DB_DOWN 4                   /* no URL is reachable: 503 */

/*
 * MSG_T_DB_ROWS: the answer to one query, in records of at most
 * MSG_DB_ROWS_MAX bytes; every record but the last has MSG_DB_F_MORE.
 * seq counts a query's records from 0 (a gap means a record was lost:
 * the receiver fails the query). data[] holds nrows x ncols values,
 * row by row, encoded as in a query. A status other than MSG_DB_OK
 * comes in one record with no rows.
 */
struct msg_db_rows {
    uint64_t qid;
    uint16_t status;                    /* MSG_DB_* */
    uint16_t flags;                     /* MSG_DB_F_* */
    uint16_t ncols;
    uint16_t pad;
    uint32_t nrows;                     /* in this record */
    uint32_t seq;
    char data[];
};

#define MSG_DB_F_MORE 0x01
#define MSG_DB_ROWS_MAX (16u << 10)

#endif
