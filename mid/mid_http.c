/*
 * SUMMARY
 *    mid_http - HTTP management: GET /metrics, POST /mi (libmicrohttpd)
 * DESCRIPTION
 *    With [mi] http_listen set, mid serves HTTP on that address with
 *    libmicrohttpd (this file is its only user), run from mid's own
 *    event loop, no thread: the daemon is started with MHD_USE_EPOLL
 *    and no internal thread; its epoll fd (MHD_DAEMON_INFO_EPOLL_FD)
 *    is one ev_io of mid's loop, and MHD_run() is called when it is
 *    readable and when the timer set from MHD_get_timeout() fires.
 *
 *        GET /metrics   Prometheus text (mid_metrics.c)
 *        POST /mi       one JSON-RPC 2.0 call of an MI command
 *                       (mid_jsonrpc.c)
 *
 *    A client whose address is in no [mi] http_allow network gets 403
 *    (the default list is 127.0.0.0/8 and ::1/128). A command that a
 *    stage answers (dns_cache_dump ...) suspends its connection
 *    (MHD_suspend_connection()) and binds the relay request to
 *    mid_http_deliver() with the name "http SLOT GEN"; the answer, or
 *    the relay's timeout, resumes it with the response.
 *
 *    Bounds, so that no client can make mid allocate without limit: a
 *    body of at most MID_HTTP_BODY bytes (a longer one gets 413 and a
 *    JSON-RPC error, and the connection is closed: at once when its
 *    Content-Length says so, else after its end, which is read but
 *    not kept; past MID_HTTP_DISCARD bytes it is closed without a
 *    word), MID_HTTP_CONNS connections (MID_HTTP_PER_IP from one
 *    address), MID_HTTP_TIMEOUT_S of silence, MHD's own memory limit
 *    per connection for the headers; at most MID_RELAY_MAX deferred
 *    calls wait (mid_relay.c answers 503 past that).
 * PROTOCOL
 *    HTTP/1.1 (libmicrohttpd). /metrics: "text/plain; version=0.0.4".
 *    /mi: "application/json", OpenSIPS 3's MI shape (mid_jsonrpc.c).
 *    Other paths 404, other methods 405.
 * DIAGNOSTICS
 *    An address that cannot be bound is fatal at start, like the FIFO.
 *    A refused client or an oversized body is logged (rate-limited),
 *    never fatal; MHD's own messages are not logged.
 */
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mid.h"

#define MID_HTTP_BODY (64 << 10)        /* bytes of a POST /mi body */
#define MID_HTTP_DISCARD (1 << 20)      /* read past it to answer 413;
                                         * past this, just close */
#define MID_HTTP_CONNS 64
#define MID_HTTP_PER_IP 32
#define MID_HTTP_TIMEOUT_S 10
#define MID_HTTP_TICK_MS 1000           /* longest wait between MHD_run */
#define MID_HTTP_ID 64                  /* a JSON-RPC id, as JSON text */

/* One request on a connection: from its headers to its response. */
struct mid_http_req {
    char *body;                         /* POST /mi, MID_HTTP_BODY max */
    size_t len;
    size_t seen;                        /* bytes of body received */
    int too_big;
    int slot;                           /* waiting in h->wait[], or -1 */
    char id[MID_HTTP_ID];               /* its JSON-RPC id */
    char *out;                          /* the deferred response, done */
    struct MHD_Connection *conn;
};

struct mid_http {
    struct MHD_Daemon *d;
    struct ev_io io;
    struct ev_timer timer;
    struct mid_http_req *wait[MID_RELAY_MAX]; /* suspended, deferred */
    unsigned gen[MID_RELAY_MAX];
    struct mid *mid;
};

/* mid_http_run - let MHD work, then arm the timer it asks for */
static void mid_http_run(struct mid_http *h)
{
    MHD_UNSIGNED_LONG_LONG to;
    int64_t ms = MID_HTTP_TICK_MS;

    MHD_run(h->d);
    if (MHD_get_timeout(h->d, &to) == MHD_YES && to < (unsigned)ms)
        ms = (int64_t)to;
    ev_timer_start(&h->mid->ev, &h->timer, ms);
}

static void mid_http_on_io(struct ev *ev, struct ev_io *io, uint32_t events)
{
    (void)ev;
    (void)events;
    mid_http_run(io->arg);
}

static void mid_http_on_timer(struct ev *ev, struct ev_timer *t)
{
    (void)ev;
    mid_http_run(t->arg);
}

/* mid_http_send - queue text (copied) with status and content type */
static enum MHD_Result mid_http_send(struct MHD_Connection *c,
                                     unsigned status, const char *type,
                                     const char *text, size_t len, int close)
{
    struct MHD_Response *resp;
    enum MHD_Result rc;

    resp = MHD_create_response_from_buffer(len, (void *)text,
                                           MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;                  /* MHD closes the connection */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (close)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result mid_http_plain(struct MHD_Connection *c,
                                      unsigned status, const char *text)
{
    return mid_http_send(c, status, "text/plain", text, strlen(text), 0);
}

/* mid_http_json - queue a JSON-RPC response and free it */
static enum MHD_Result mid_http_json(struct MHD_Connection *c,
                                     unsigned status, char *text, int close)
{
    enum MHD_Result rc;

    if (text == NULL)
        return mid_http_plain(c, 500, "out of memory\n");
    rc = mid_http_send(c, status, "application/json", text, strlen(text),
                       close);
    free(text);
    return rc;
}

/* mid_http_allowed - the client's address is in [mi] http_allow */
static int mid_http_allowed(struct mid *m, struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci;

    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return ci != NULL && ci->client_addr != NULL
           && cfg_net_match(m->cfg.http_allow, m->cfg.nhttp_allow,
                            ci->client_addr);
}

/* mid_http_metrics - GET /metrics */
static enum MHD_Result mid_http_metrics(struct mid *m,
                                        struct MHD_Connection *c)
{
    enum MHD_Result rc;
    size_t len;
    char *text = mid_metrics_text(m, &len);

    if (text == NULL)
        return mid_http_plain(c, 500, "out of memory\n");
    rc = mid_http_send(c, 200, "text/plain; version=0.0.4; charset=utf-8",
                       text, len, 0);
    free(text);
    return rc;
}

/* mid_http_too_big - 413 with a JSON-RPC error; the connection closes */
static enum MHD_Result mid_http_too_big(struct MHD_Connection *c)
{
    char msg[80];

    log_warn_rl("http: request body over %d bytes refused", MID_HTTP_BODY);
    snprintf(msg, sizeof(msg), "Request body over %d bytes", MID_HTTP_BODY);
    return mid_http_json(c, 413, mid_jsonrpc_error("null", -32600, msg), 1);
}

/*
 * mid_http_deliver - mid_relay.c's writer for a deferred call: "to" is
 *    "http SLOT GEN"; the waiting connection gets the response and is
 *    resumed. A call whose connection is gone is dropped.
 */
static void mid_http_deliver(struct mid *m, const char *to,
                             struct mid_mi_reply *r)
{
    struct mid_http *h = m->http;
    struct mid_http_req *q;
    unsigned slot, gen;

    if (h == NULL || sscanf(to, "http %u %u", &slot, &gen) != 2
        || slot >= MID_RELAY_MAX || h->gen[slot] != gen
        || (q = h->wait[slot]) == NULL)
        return;
    h->wait[slot] = NULL;
    q->slot = -1;
    q->out = mid_jsonrpc_reply(q->id, r);
    if (q->out == NULL)
        q->out = mid_jsonrpc_error(q->id, 500, "out of memory");
    MHD_resume_connection(q->conn);
    ev_timer_start(&m->ev, &h->timer, 0); /* MHD sends it */
}

/* mid_http_defer - park q until relay request id is answered */
static enum MHD_Result mid_http_defer(struct mid_http *h,
                                      struct mid_http_req *q, uint32_t id)
{
    char to[48];
    int i;

    for (i = 0; i < MID_RELAY_MAX && h->wait[i] != NULL; i++)
        ;
    if (i == MID_RELAY_MAX)             /* cannot be: relay slots as many */
        return mid_http_json(q->conn, 200,
                             mid_jsonrpc_error(q->id, 503, "busy"), 0);
    h->wait[i] = q;
    q->slot = i;
    snprintf(to, sizeof(to), "http %d %u", i, ++h->gen[i]);
    mid_relay_bind(h->mid, id, to, mid_http_deliver);
    MHD_suspend_connection(q->conn);
    return MHD_YES;
}

/* mid_http_mi - POST /mi with its whole body in q */
static enum MHD_Result mid_http_mi(struct mid_http *h,
                                   struct mid_http_req *q)
{
    uint32_t defer;
    char *out;

    if (q->out != NULL) {               /* resumed: the stage answered */
        out = q->out;
        q->out = NULL;
        return mid_http_json(q->conn, 200, out, 0);
    }
    if (q->too_big)
        return mid_http_too_big(q->conn);
    out = mid_jsonrpc_run(h->mid, q->body != NULL ? q->body : "", q->len,
                          q->id, sizeof(q->id), &defer);
    if (out == NULL && defer != 0)
        return mid_http_defer(h, q, defer);
    return mid_http_json(q->conn, 200, out, 0);
}

/* mid_http_upload - a piece of the body; past the bound it is dropped */
static void mid_http_upload(struct mid_http_req *q, const char *data,
                            size_t n)
{
    char *nb;

    q->seen += n;
    if (q->too_big)
        return;
    if (q->len + n > MID_HTTP_BODY) {
        q->too_big = 1;
        return;
    }
    if ((nb = realloc(q->body, q->len + n + 1)) == NULL) {
        q->too_big = 1;                 /* refused rather than cut */
        return;
    }
    q->body = nb;
    memcpy(q->body + q->len, data, n);
    q->len += n;
}

/* mid_http_first - the headers are in: refuse, answer, or take a body */
static enum MHD_Result mid_http_first(struct mid_http *h,
                                      struct MHD_Connection *c,
                                      const char *url, const char *method,
                                      void **ctx)
{
    struct mid_http_req *q;
    const char *cl;

    if (!mid_http_allowed(h->mid, c)) {
        log_warn_rl("http: client not in [mi] http_allow: 403");
        return mid_http_plain(c, 403, "forbidden\n");
    }
    if (strcmp(url, "/metrics") == 0 && strcmp(method, "GET") == 0)
        return mid_http_metrics(h->mid, c);
    if (strcmp(url, "/metrics") != 0 && strcmp(url, "/mi") != 0)
        return mid_http_plain(c, 404, "not found\n");
    if (strcmp(url, "/mi") != 0 || strcmp(method, "POST") != 0)
        return mid_http_plain(c, 405, "method not allowed\n");
    cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL && strtoull(cl, NULL, 10) > MID_HTTP_BODY)
        return mid_http_too_big(c);
    if ((q = calloc(1, sizeof(*q))) == NULL)
        return MHD_NO;
    q->slot = -1;
    q->conn = c;
    *ctx = q;
    return MHD_YES;
}

/* mid_http_access - MHD's request callback, called per body piece */
static enum MHD_Result mid_http_access(void *cls, struct MHD_Connection *c,
                                       const char *url, const char *method,
                                       const char *version,
                                       const char *data, size_t *size,
                                       void **ctx)
{
    struct mid_http_req *q = *ctx;

    (void)version;
    if (q == NULL)
        return mid_http_first(cls, c, url, method, ctx);
    if (*size > 0) {
        mid_http_upload(q, data, *size);
        *size = 0;
        /* MHD takes no response before the body's end: a body too big
         * is read (not kept) to answer 413, up to a point */
        return q->seen > MID_HTTP_DISCARD ? MHD_NO : MHD_YES;
    }
    return mid_http_mi(cls, q);
}

/* mid_http_done - MHD is through with a request: free it */
static void mid_http_done(void *cls, struct MHD_Connection *c, void **ctx,
                          enum MHD_RequestTerminationCode why)
{
    struct mid_http *h = cls;
    struct mid_http_req *q = *ctx;

    (void)c;
    (void)why;
    if (q == NULL)
        return;
    if (q->slot >= 0)
        h->wait[q->slot] = NULL;
    free(q->out);
    free(q->body);
    free(q);
    *ctx = NULL;
}

/* mid_http_start - the MHD daemon on [mi] http_listen, or NULL */
static struct MHD_Daemon *mid_http_start(struct mid_http *h)
{
    const struct cfg_sockaddr *sa = &h->mid->cfg.http_listen;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;

    if (sa->addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    return MHD_start_daemon(
        flags, sa->port, NULL, NULL, mid_http_access, h,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&sa->addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)MID_HTTP_CONNS,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)MID_HTTP_PER_IP,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)MID_HTTP_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, mid_http_done, h, MHD_OPTION_END);
}

/*
 * mid_http_open - serve HTTP when [mi] http_listen is set (0 when it is
 *    not); 0, or -errno (the address could not be bound).
 */
int mid_http_open(struct mid *m)
{
    const union MHD_DaemonInfo *di;
    struct mid_http *h;
    int err;

    if (m->cfg.http_listen.port == 0)
        return 0;
    if ((h = calloc(1, sizeof(*h))) == NULL)
        return -ENOMEM;
    h->mid = m;
    errno = 0;
    if ((h->d = mid_http_start(h)) == NULL) {
        err = errno != 0 ? -errno : -EADDRNOTAVAIL;
        free(h);
        return err;
    }
    di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
    h->io.fd = di != NULL ? di->epoll_fd : -1;
    h->io.fn = mid_http_on_io;
    h->io.arg = h;
    h->timer.fn = mid_http_on_timer;
    h->timer.arg = h;
    err = h->io.fd < 0 ? -EINVAL : ev_add(&m->ev, &h->io, EPOLLIN);
    if (err < 0) {
        MHD_stop_daemon(h->d);
        free(h);
        return err;
    }
    m->http = h;
    ev_timer_start(&m->ev, &h->timer, MID_HTTP_TICK_MS);
    log_info("http: management on %s:%u", m->cfg.http_listen.host,
             m->cfg.http_listen.port);
    return 0;
}

/* mid_http_close - answer the calls still waiting, stop serving */
void mid_http_close(struct mid *m)
{
    struct mid_http *h = m->http;
    struct mid_http_req *q;
    int i;

    if (h == NULL)
        return;
    for (i = 0; i < MID_RELAY_MAX; i++) {
        if ((q = h->wait[i]) == NULL)
            continue;
        h->wait[i] = NULL;
        q->slot = -1;
        q->out = mid_jsonrpc_error(q->id, 503, "mid is stopping");
        MHD_resume_connection(q->conn); /* MHD may not stop with any
                                         * connection suspended */
    }
    MHD_run(h->d);
    ev_del(&m->ev, &h->io);
    ev_timer_stop(&m->ev, &h->timer);
    MHD_stop_daemon(h->d);
    free(h);
    m->http = NULL;
}
