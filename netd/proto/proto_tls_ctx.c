/*
 * SUMMARY
 *    proto_tls_ctx - the SSL_CTX of [tls], built once at netd's start
 * DESCRIPTION
 *    One SSL_CTX (TLS_method: both roles) serves every TLS connection,
 *    accepted and outgoing; each SSL then sets its own verification
 *    (proto_tls.c: verify_client for accepted ones, verify_server and
 *    the server's name for outgoing ones). Built in netd's init, before
 *    the privilege drop and any chroot, so a key readable by root only
 *    works, and every file is read now: the CAs of ca_list, or the
 *    system's CA file when it is empty (not a hashed directory, whose
 *    lookups would happen later, inside a chroot).
 *
 *    Settings, and why:
 *     - min_version ([tls] min_version, TLS 1.2 by default; 1.0 and 1.1
 *       are deprecated, RFC 8996);
 *     - SSL_OP_NO_RENEGOTIATION: a peer's renegotiation is refused (a
 *       cheap way for one client to make us do handshake work again and
 *       again); proto_tls.c also closes a connection that tries;
 *     - SSL_OP_NO_COMPRESSION (CRIME), SSL_OP_CIPHER_SERVER_PREFERENCE,
 *       SSL_OP_IGNORE_UNEXPECTED_EOF (a peer that closes without
 *       close_notify is an ordinary close for SIP: messages are framed);
 *     - partial writes and a moving write buffer: the stream code
 *       writes from ring memory, queues the rest and retries from its
 *       queue, as with TCP; SSL_MODE_RELEASE_BUFFERS frees an idle
 *       connection's record buffers;
 *     - SSL_CTX_set_max_cert_list(PROTO_TLS_MAX_CERT_LIST): an
 *       oversized peer chain fails the handshake before it is parsed;
 *     - no passphrase prompt: an encrypted key is a start error, netd
 *       must never wait on a terminal.
 * PROTOCOL
 *    None: files in, an SSL_CTX out.
 * DIAGNOSTICS
 *    Every failure is logged with the [tls] key, the file and OpenSSL's
 *    reason, and proto_tls_ctx_new() returns NULL (netd exits: fatal,
 *    mid restarts it with back-off). The key's contents are never
 *    logged, nor is anything derived from them.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "proto_tls.h"

const char *proto_tls_err(char *buf, size_t cap, const char *what)
{
    unsigned long e = ERR_get_error();

    if (e == 0)
        snprintf(buf, cap, "%s", what);
    else
        ERR_error_string_n(e, buf, cap);
    ERR_clear_error();
    return buf;
}

/* proto_tls_ctx_nopass - the passphrase callback: none, never a prompt */
static int proto_tls_ctx_nopass(char *buf, int size, int rw, void *u)
{
    (void)buf;
    (void)size;
    (void)rw;
    (void)u;
    return -1;
}

/* proto_tls_ctx_fail - log a [tls] key's failure; NULL */
static SSL_CTX *proto_tls_ctx_fail(SSL_CTX *ctx, const char *key,
                                   const char *file)
{
    char why[PROTO_TLS_ERR];

    log_error("[tls] %s %s: %s", key, file,
              proto_tls_err(why, sizeof(why), "failed"));
    SSL_CTX_free(ctx);
    return NULL;
}

/* proto_tls_ctx_cas - trusted CAs and, for verify_client, their names */
static int proto_tls_ctx_cas(SSL_CTX *ctx, const struct cfg *cfg)
{
    STACK_OF(X509_NAME) *names;
    const char *ca = cfg->tls_ca_list;

    if (ca[0] == '\0')                  /* the system's, read now */
        return SSL_CTX_load_verify_file(ctx, X509_get_default_cert_file())
                       == 1 ? 0 : -1;
    if (SSL_CTX_load_verify_file(ctx, ca) != 1)
        return -1;
    if (cfg->tls_verify_client > 0) {
        /* the CAs whose names a client sees in CertificateRequest */
        if ((names = SSL_load_client_CA_file(ca)) == NULL)
            return -1;
        SSL_CTX_set_client_CA_list(ctx, names);
    }
    return 0;
}

SSL_CTX *proto_tls_ctx_new(const struct cfg *cfg, proto_tls_msg_fn *msg_cb)
{
    static const unsigned char sid[] = "sipstage";
    char why[PROTO_TLS_ERR];
    SSL_CTX *ctx;

    ERR_clear_error();
    if ((ctx = SSL_CTX_new(TLS_method())) == NULL) {
        log_error("[tls]: SSL_CTX_new: %s",
                  proto_tls_err(why, sizeof(why), "failed"));
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION
                                 | SSL_OP_CIPHER_SERVER_PREFERENCE
                                 | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE
                              | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                              | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_default_passwd_cb(ctx, proto_tls_ctx_nopass);
    SSL_CTX_set_max_cert_list(ctx, PROTO_TLS_MAX_CERT_LIST);
    SSL_CTX_set_verify_depth(ctx, 9);
    SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
    SSL_CTX_set_msg_callback(ctx, msg_cb);
    if (SSL_CTX_set_min_proto_version(ctx, cfg->tls_min_version) != 1)
        return proto_tls_ctx_fail(ctx, "min_version", "");
    if (cfg->tls_ciphers[0] != '\0'
        && SSL_CTX_set_cipher_list(ctx, cfg->tls_ciphers) != 1)
        return proto_tls_ctx_fail(ctx, "ciphers", cfg->tls_ciphers);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_certificate) != 1)
        return proto_tls_ctx_fail(ctx, "certificate", cfg->tls_certificate);
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_private_key,
                                    SSL_FILETYPE_PEM) != 1)
        return proto_tls_ctx_fail(ctx, "private_key", cfg->tls_private_key);
    if (SSL_CTX_check_private_key(ctx) != 1)
        return proto_tls_ctx_fail(ctx, "private_key",
                                  "does not match the certificate:");
    if (proto_tls_ctx_cas(ctx, cfg) < 0)
        return proto_tls_ctx_fail(ctx, "ca_list",
                                  cfg->tls_ca_list[0] ? cfg->tls_ca_list
                                  : X509_get_default_cert_file());
    return ctx;
}
