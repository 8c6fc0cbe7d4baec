/*
 * SUMMARY
 *    proto_tls - the TLS transport library (build/lib/proto_tls.so)
 * DESCRIPTION
 *    Loaded by netd only when a listen line is tls (netd_proto.h). It is
 *    the stream transport of proto_tcp.so - proto_tcp.c and
 *    proto_tcp_out.c are linked in as they are: the one connection table
 *    (TCP and TLS connections side by side, keyed by transport too),
 *    the framer, the limits ([net] tcp_max_connections, _per_ip,
 *    tcp_lifetime, tcp_max_size, the slowloris bound, the write queue
 *    bound), connects, hold-down and hand-back to sipd - with the byte
 *    I/O of this file (struct proto_tcp_io):
 *
 *     - start: an accepted connection gets an SSL in accept state and
 *       waits for its ClientHello; an outgoing one (SSL made by dial)
 *       sends its ClientHello once the TCP connect completed. Either is
 *       NETD_CONN_HANDSHAKE until SSL_do_handshake() says done, driven
 *       by epoll events (WANT_READ: EPOLLIN, WANT_WRITE: EPOLLOUT), never
 *       blocking; [tls] handshake_timeout_ms bounds it (proto_tcp.c:
 *       tls:handshake_timeouts). Messages for a connection still in its
 *       handshake wait in its write queue.
 *     - verification: accepted connections as [tls] verify_client says
 *       (0: no certificate asked, 1: asked and checked when sent, 2:
 *       required), against ca_list. Outgoing ones, unless verify_server
 *       = 0: the chain against ca_list, and the name sipd resolved
 *       (RFC 5922 section 7: the SIP domain of the URI, sent after the
 *       message, msg_sip.name_len) against the certificate's DNS
 *       subjectAltNames, no wildcards (RFC 5922 7.2); an IP literal
 *       target against its IP SAN. SNI carries the name.
 *     - a failed handshake (garbage instead of a ClientHello, a chain
 *       that fails verification, a chain over PROTO_TLS_MAX_CERT_LIST,
 *       a wrong host name, a version or cipher mismatch) closes that
 *       connection: tls:handshake_failed (and tls:verify_failed for a
 *       certificate), one rate-limited line with OpenSSL's reason. An
 *       outgoing one hands its requests back to sipd, like a failed
 *       connect, so sipd fails over or answers 503.
 *     - renegotiation is refused (SSL_OP_NO_RENEGOTIATION) and a peer
 *       that tries is closed: the record callback sees a handshake
 *       record after the handshake (TLS 1.2; 1.3 has no renegotiation):
 *       tls:renegotiations_refused.
 *     - close: close_notify (SSL_shutdown, once, not waiting for the
 *       peer's), unless the session died of a fatal error; then the
 *       socket is closed. netd's stop and stage_restart close every TLS
 *       connection so; clients reconnect to the next netd.
 * PROTOCOL
 *    netd -> sipd[i]: MSG_T_SIP_IN, proto TLS, conn_id, framed as TCP;
 *    sipd[i] -> netd: MSG_T_SIP_OUT, proto TLS; name_len bytes after the
 *    message name the server to verify.
 * DIAGNOSTICS
 *    Everything a peer can cause is counted (tls:, and tcp: for what the
 *    stream code does) and logged rate-limited, naming the connection
 *    ("tls conn ID (PEER)"). init fails (netd exits, mid backs off) when
 *    the [tls] files cannot be used (proto_tls_ctx.c).
 */
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "../netd_proto.h"
#include "addr.h"
#include "log.h"
#include "proto_tcp.h"
#include "proto_tls.h"

static SSL_CTX *proto_tls_ctx;

/*
 * proto_tls_msg - OpenSSL's record callback: a handshake record that
 *    arrives after the handshake is a renegotiation attempt (TLS 1.2);
 *    noted here, acted on after the read that brought it.
 */
static void proto_tls_msg(int write_p, int version, int content_type,
                          const void *buf, size_t len, SSL *ssl, void *arg)
{
    struct proto_tls_conn *tc = SSL_get_app_data(ssl);

    (void)version;
    (void)arg;
    if (write_p || content_type != SSL3_RT_HEADER || len < 1 || tc == NULL
        || !tc->done || SSL_version(ssl) >= TLS1_3_VERSION)
        return;
    if (((const unsigned char *)buf)[0] == SSL3_RT_HANDSHAKE)
        tc->reneg = 1;
}

/* proto_tls_new - c->tls with an SSL on c's socket; 0 or -1 */
static int proto_tls_new(struct netd_conn *c)
{
    struct proto_tls_conn *tc = calloc(1, sizeof(*tc));

    if (tc == NULL || (tc->ssl = SSL_new(proto_tls_ctx)) == NULL
        || SSL_set_fd(tc->ssl, c->fd) != 1) {
        if (tc != NULL)
            SSL_free(tc->ssl);
        free(tc);
        ERR_clear_error();
        return -1;
    }
    SSL_set_app_data(tc->ssl, tc);
    c->tls = tc;
    return 0;
}

/* proto_tls_end - free c's session; close_notify if it was healthy */
static void proto_tls_end(struct netd *n, struct netd_conn *c)
{
    struct proto_tls_conn *tc = c->tls;

    (void)n;
    if (tc == NULL)
        return;
    if (tc->done && !tc->dead)
        (void)SSL_shutdown(tc->ssl);    /* ours only: no waiting */
    ERR_clear_error();
    SSL_free(tc->ssl);
    free(tc);
    c->tls = NULL;
}

/* proto_tls_fatal - a fatal error ended c's session: errno EPROTO */
static ssize_t proto_tls_fatal(struct netd_conn *c, const char *what)
{
    struct proto_tls_conn *tc = c->tls;
    char name[128], why[PROTO_TLS_ERR];

    tc->dead = 1;
    stats_inc(proto_tcp_g.n->st, STAT_TLS_CLOSED_ERROR);
    log_warn_rl("%s: %s: %s", proto_tcp_name(c, name, sizeof(name)), what,
                proto_tls_err(why, sizeof(why), "TLS error"));
    errno = EPROTO;
    return -1;
}

static ssize_t proto_tls_read(struct netd_conn *c, char *buf, size_t len)
{
    struct proto_tls_conn *tc = c->tls;
    char name[128];
    int r, e;

    ERR_clear_error();
    errno = 0;
    r = SSL_read(tc->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (tc->reneg) {
        tc->dead = 1;                   /* no close_notify for it */
        stats_inc(proto_tcp_g.n->st, STAT_TLS_RENEGOTIATIONS);
        log_warn_rl("%s: renegotiation attempt refused: closed",
                    proto_tcp_name(c, name, sizeof(name)));
        ERR_clear_error();
        errno = EPROTO;
        return -1;
    }
    if (r > 0)
        return r;
    switch ((e = SSL_get_error(tc->ssl, r))) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:         /* close_notify, or a plain EOF */
        return 0;
    case SSL_ERROR_SYSCALL:
        tc->dead = 1;
        ERR_clear_error();
        if (errno == 0)
            return 0;
        return -1;
    default:
        return proto_tls_fatal(c, "read");
    }
}

static ssize_t proto_tls_write(struct netd_conn *c, const char *buf,
                               size_t len)
{
    struct proto_tls_conn *tc = c->tls;
    int r;

    ERR_clear_error();
    errno = 0;
    r = SSL_write(tc->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (r > 0)
        return r;
    switch (SSL_get_error(tc->ssl, r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        errno = EAGAIN;                 /* retried from the queue with
                                         * the same bytes first */
        return -1;
    case SSL_ERROR_SYSCALL:
        tc->dead = 1;
        ERR_clear_error();
        if (errno == 0)
            errno = EPIPE;
        return -1;
    default:
        return proto_tls_fatal(c, "write");
    }
}

static size_t proto_tls_pending(struct netd_conn *c)
{
    const struct proto_tls_conn *tc = c->tls;

    return tc != NULL && tc->done ? (size_t)SSL_pending(tc->ssl) : 0;
}

/*
 * proto_tls_failed - c's handshake failed: log OpenSSL's reason (or the
 *    certificate's), count, close; an outgoing c hands its requests back
 */
static void proto_tls_failed(struct netd *n, struct netd_conn *c, int e)
{
    struct proto_tls_conn *tc = c->tls;
    long vr = SSL_get_verify_result(tc->ssl);
    char name[128], why[PROTO_TLS_ERR];
    const char *what;

    tc->dead = 1;
    if (vr == X509_V_OK
        && ERR_GET_REASON(ERR_peek_error())
               == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
        stats_inc(n->st, STAT_TLS_VERIFY_FAILED);
        snprintf(why, sizeof(why), "no client certificate (verify_client "
                 "2)");
        ERR_clear_error();
        what = why;
    } else if (vr != X509_V_OK) {
        stats_inc(n->st, STAT_TLS_VERIFY_FAILED);
        snprintf(why, sizeof(why), "certificate verify failed: %s",
                 X509_verify_cert_error_string(vr));
        ERR_clear_error();
        what = why;
    } else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) {
        what = proto_tls_err(why, sizeof(why), "closed by the peer");
    } else {
        what = proto_tls_err(why, sizeof(why), "TLS error");
    }
    log_warn_rl("%s: handshake failed: %s: closed",
                proto_tcp_name(c, name, sizeof(name)), what);
    if (c->outgoing)
        proto_tcp_fail_out(n, c, MSG_FAIL_OTHER, STAT_TLS_HANDSHAKE_FAILED);
    else
        proto_tcp_close(n, c, STAT_TLS_HANDSHAKE_FAILED);
}

/*
 * proto_tls_step - one step of c's handshake: 1 done, 0 waiting (c->
 *    hs_want set), -1 failed (SSL_get_error() in *e).
 */
static int proto_tls_step(struct netd_conn *c, int *e)
{
    struct proto_tls_conn *tc = c->tls;
    int r;

    ERR_clear_error();
    if ((r = SSL_do_handshake(tc->ssl)) == 1) {
        tc->done = 1;
        return 1;
    }
    switch ((*e = SSL_get_error(tc->ssl, r))) {
    case SSL_ERROR_WANT_READ:
        c->hs_want = EPOLLIN;
        return 0;
    case SSL_ERROR_WANT_WRITE:
        c->hs_want = EPOLLOUT;
        return 0;
    default:
        return -1;
    }
}

/* proto_tls_done - the handshake is over: log it, carry messages */
static void proto_tls_done(struct netd *n, struct netd_conn *c)
{
    struct proto_tls_conn *tc = c->tls;
    char name[128];

    stats_inc(n->st, STAT_TLS_HANDSHAKES);
    log_debug("%s: %s %s%s", proto_tcp_name(c, name, sizeof(name)),
              SSL_get_version(tc->ssl), SSL_get_cipher_name(tc->ssl),
              SSL_session_reused(tc->ssl) ? " (resumed)" : "");
    (void)proto_tcp_ready(n, c);
}

static void proto_tls_handshake(struct netd *n, struct netd_conn *c,
                                uint32_t ev)
{
    int r, e = 0;

    (void)ev;                           /* SSL finds out what happened */
    if ((r = proto_tls_step(c, &e)) < 0)
        proto_tls_failed(n, c, e);
    else if (r > 0)
        proto_tls_done(n, c);
    else
        proto_tcp_events(n, c);
}

/*
 * proto_tls_start - an accepted connection: an SSL in accept state,
 *    waiting for the ClientHello; an outgoing one (dial made its SSL in
 *    connect state): its first step waits for EPOLLOUT, which a socket
 *    that just connected gives at once. Every outcome of a step - on
 *    loopback the whole handshake can end in the first call - is then
 *    proto_tls_handshake()'s. 1, or -1 (logged; the caller closes).
 */
static int proto_tls_start(struct netd *n, struct netd_conn *c)
{
    int mode[] = {SSL_VERIFY_NONE, SSL_VERIFY_PEER,
                  SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT};
    const struct cfg *cfg = &n->srv->cfg;
    struct proto_tls_conn *tc;
    char name[128];

    c->deadline_ms = ev_now_ms() + cfg->tls_handshake_timeout_ms;
    if (c->outgoing) {
        c->hs_want = EPOLLOUT;
        return 1;
    }
    if (proto_tls_new(c) < 0) {
        log_warn_rl("%s: out of memory for TLS: closed",
                    proto_tcp_name(c, name, sizeof(name)));
        return -1;
    }
    tc = c->tls;
    SSL_set_verify(tc->ssl, mode[cfg->tls_verify_client], NULL);
    SSL_set_accept_state(tc->ssl);
    c->hs_want = EPOLLIN;
    return 1;
}

/*
 * proto_tls_dial - an outgoing connection for m: its SSL in connect
 *    state, what to verify (verify_server): the name sipd sent after the
 *    message (RFC 5922), else the peer's IP against its IP SAN. 0 or -1.
 */
static int proto_tls_dial(struct netd *n, struct netd_conn *c,
                          const struct msg_sip *m)
{
    const struct cfg *cfg = &n->srv->cfg;
    struct proto_tls_conn *tc;
    char host[CFG_HOST];
    struct msg_addr ip;
    size_t len = m->name_len < sizeof(host) ? m->name_len : 0;
    int ok = 1;

    if (proto_tls_new(c) < 0)
        return -1;
    tc = c->tls;
    memcpy(host, m->data + m->len, len);
    host[len] = '\0';
    SSL_set_connect_state(tc->ssl);
    if (len > 0 && addr_parse(&ip, host, len, 0) < 0) {
        ok = SSL_set_tlsext_host_name(tc->ssl, host) == 1;
        if (cfg->tls_verify_server)
            ok = ok && SSL_set1_host(tc->ssl, host) == 1;
        SSL_set_hostflags(tc->ssl, X509_CHECK_FLAG_NO_WILDCARDS);
    } else if (cfg->tls_verify_server) {
        ok = X509_VERIFY_PARAM_set1_ip(SSL_get0_param(tc->ssl), c->peer.ip,
                                       c->peer.family == AF_INET ? 4 : 16)
             == 1;
    }
    SSL_set_verify(tc->ssl, cfg->tls_verify_server ? SSL_VERIFY_PEER
                                                   : SSL_VERIFY_NONE, NULL);
    ERR_clear_error();
    return ok ? 0 : -1;
}

static const struct proto_tcp_io proto_tls_io = {
    .proto = MSG_PROTO_TLS,
    .name = "tls",
    .read = proto_tls_read,
    .write = proto_tls_write,
    .pending = proto_tls_pending,
    .start = proto_tls_start,
    .handshake = proto_tls_handshake,
    .end = proto_tls_end,
    .dial = proto_tls_dial,
};

static int proto_tls_init(struct netd *n)
{
    const struct cfg *cfg = &n->srv->cfg;

    if ((proto_tls_ctx = proto_tls_ctx_new(cfg, proto_tls_msg)) == NULL)
        return -EINVAL;
    log_info("tls: certificate %s, verify_client %d, verify_server %d, "
             "min_version TLSv1.%d", cfg->tls_certificate,
             cfg->tls_verify_client, cfg->tls_verify_server,
             cfg->tls_min_version == CFG_TLS_V13 ? 3 : 2);
    return proto_tcp_init_io(n, &proto_tls_io);
}

static void proto_tls_fini(struct netd *n)
{
    proto_tcp_fini(n);                  /* close_notify to every peer */
    SSL_CTX_free(proto_tls_ctx);
    proto_tls_ctx = NULL;
}

/* The transport interface netd looks up (netd_proto.h). */
const struct netd_proto netd_proto = {
    .version = NETD_PROTO_VERSION,
    .proto = MSG_PROTO_TLS,
    .name = "tls",
    .init = proto_tls_init,
    .send = proto_tcp_send,
    .flush = proto_tcp_flush,
    .tick = proto_tcp_tick,
    .fini = proto_tls_fini,
};
