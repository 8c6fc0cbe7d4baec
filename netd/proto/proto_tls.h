#ifndef PROTO_TLS_H
#define PROTO_TLS_H
/*
 * SUMMARY
 *    proto_tls - private interfaces of the TLS transport library
 * DESCRIPTION
 *    proto_tls.so is the stream transport of proto_tcp.c and
 *    proto_tcp_out.c (linked as they are, proto_tcp.h) with the byte
 *    I/O of proto_tls.c (SSL_read, SSL_write, the non-blocking
 *    handshake) and the SSL_CTX of proto_tls_ctx.c, built once at
 *    netd's start from [tls]. These two files are the only ones that
 *    include OpenSSL's headers.
 */
#include <openssl/ssl.h>

#include "../netd.h"

/* Largest certificate chain a peer may send (SSL_CTX_set_max_cert_list):
 * a chain of a few RSA-4096 certificates is under 10 KiB. */
#define PROTO_TLS_MAX_CERT_LIST (32 * 1024)
#define PROTO_TLS_ERR 256               /* a reason text */

/* One TLS connection's state, c->tls of its struct netd_conn. */
struct proto_tls_conn {
    SSL *ssl;
    unsigned done : 1;                  /* handshake over */
    unsigned dead : 1;                  /* fatal error: no close_notify */
    unsigned reneg : 1;                 /* the peer tried to renegotiate */
};

/*
 * proto_tls_ctx_new - the SSL_CTX of [tls] in cfg: certificate chain and
 *    private key (checked to match), ca_list (else the system's CA file,
 *    loaded now: netd may chroot later), min_version, ciphers, no
 *    renegotiation, no compression, peer chains bounded by
 *    PROTO_TLS_MAX_CERT_LIST, msg_cb watching the records (renegotiation
 *    attempts). An encrypted key is refused, never prompted for. NULL
 *    after logging why (the file and OpenSSL's reason; never the key).
 */
typedef void proto_tls_msg_fn(int write_p, int version, int content_type,
                              const void *buf, size_t len, SSL *ssl,
                              void *arg);
extern SSL_CTX *proto_tls_ctx_new(const struct cfg *cfg,
                                  proto_tls_msg_fn *msg_cb);

/*
 * proto_tls_err - the first queued OpenSSL error as text into buf (or
 *    "what" when the queue is empty), the queue cleared; returns buf.
 */
extern const char *proto_tls_err(char *buf, size_t cap, const char *what);

#endif
