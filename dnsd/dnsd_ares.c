/*
 * SUMMARY
 *      dnsd_ares - c-ares inside the stage's ev loop; record parsing
 * DESCRIPTION
 *      The one wrapper around c-ares (STYLE.md: one module per third-party
 *      library): no other file includes ares.h. It owns one channel set up
 *      from [dns]: servers (ares_set_servers_ports_csv; none given = what
 *      c-ares reads from /etc/resolv.conf), timeout_ms (per try) and
 *      tries. No search list is applied: ares_query() asks exactly the
 *      name given. With exactly one [dns] server, ARES_FLAG_NOCHECKRESP
 *      hands SERVFAIL, REFUSED and NOTIMP answers over instead of
 *      failing over (there is nothing to fail over to), so the logs name
 *      the rcode; with several, c-ares tries the next server and a
 *      query that every server refused ends as "no answer" (c-ares 1.18
 *      reports ARES_ECONNREFUSED without the rcode).
 *
 *      Sockets: c-ares reports each socket it opens, and the events it
 *      wants, through ARES_OPT_SOCK_STATE_CB; they go into the ev loop as
 *      ev_io records (a small fixed table), and readiness is handed back
 *      with ares_process_fd(). Timeouts: after every query sent and every
 *      event processed, one ev_timer is re-armed to ares_timeout(); when
 *      it fires, ares_process_fd(BAD, BAD) lets c-ares retry or give up.
 *
 *      Answers are parsed here (c-ares' parsers, plus a small walk over
 *      the raw message for the TTLs c-ares 1.18 does not return for NAPTR
 *      and SRV, and the SOA of a negative answer, RFC 2308) into a struct
 *      dnsd_rrset on the stack, and handed to the caller's callback. A
 *      callback may start new queries.
 * PROTOCOL
 *      DNS over UDP (and TCP for truncated answers) to [dns] servers.
 * DIAGNOSTICS
 *      Fatal (init returns -errno): c-ares cannot be initialised or
 *      rejects the [dns] servers. Everything else is a status in the
 *      rrset (NXDOMAIN, TIMEOUT, ERROR) with c-ares' reason in rs->why;
 *      a socket table overflow warns (rate-limited) and the query then
 *      times out.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>

#include "dnsd.h"
#include "log.h"

#define DNSD_ARES_SOCKS (2 * CFG_MAX_DNS + 4)
#define DNSD_ARES_CLASS_IN 1
#define DNSD_ARES_T_SOA 6

struct dnsd_ares_sock {
    struct ev_io io;
    struct dnsd_ares *a;
    int used;
};

struct dnsd_ares {
    ares_channel ch;
    struct ev *ev;
    struct ev_timer timer;
    size_t pending;                     /* queries not yet answered */
    int dying;                          /* in ares_destroy(): no new ones */
    char servers[CFG_MAX_DNS * 64];     /* csv, for logs */
    struct dnsd_ares_sock socks[DNSD_ARES_SOCKS];
};

/* One query in c-ares' hands. */
struct dnsd_ares_req {
    struct dnsd_ares *a;
    dnsd_ares_fn fn;
    void *arg;
    int tag;
    int type;
};

/* dnsd_ares_rearm - the timer to c-ares' next deadline, or off */
static void dnsd_ares_rearm(struct dnsd_ares *a)
{
    struct timeval tv, *tvp;

    if ((tvp = ares_timeout(a->ch, NULL, &tv)) == NULL) {
        ev_timer_stop(a->ev, &a->timer);
        return;
    }
    ev_timer_start(a->ev, &a->timer,
                   (int64_t)tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);
}

static void dnsd_ares_on_timer(struct ev *ev, struct ev_timer *t)
{
    struct dnsd_ares *a = t->arg;

    (void)ev;
    ares_process_fd(a->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    dnsd_ares_rearm(a);
}

static void dnsd_ares_on_io(struct ev *ev, struct ev_io *io, uint32_t events)
{
    struct dnsd_ares_sock *s = io->arg;
    struct dnsd_ares *a = s->a;
    ares_socket_t rfd = ARES_SOCKET_BAD, wfd = ARES_SOCKET_BAD;

    (void)ev;
    if (!s->used)
        return;                         /* closed earlier in this batch */
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        rfd = io->fd;
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
        wfd = io->fd;
    ares_process_fd(a->ch, rfd, wfd);
    dnsd_ares_rearm(a);
}

/* dnsd_ares_sock_find - the slot of fd, or a free one (fd < 0) */
static struct dnsd_ares_sock *dnsd_ares_sock_find(struct dnsd_ares *a,
                                                  int fd)
{
    size_t i;

    for (i = 0; i < DNSD_ARES_SOCKS; i++)
        if (fd < 0 ? !a->socks[i].used
                   : a->socks[i].used && a->socks[i].io.fd == fd)
            return &a->socks[i];
    return NULL;
}

/*
 * dnsd_ares_on_sock_state - c-ares opened, changed or is about to close
 *      a socket: mirror that in the ev loop.
 */
static void dnsd_ares_on_sock_state(void *data, ares_socket_t fd,
                                    int readable, int writable)
{
    struct dnsd_ares *a = data;
    struct dnsd_ares_sock *s = dnsd_ares_sock_find(a, fd);
    uint32_t want = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);
    int err;

    if (want == 0) {
        if (s != NULL) {
            ev_del(a->ev, &s->io);
            s->used = 0;
        }
        return;
    }
    if (s != NULL) {
        if ((err = ev_mod(a->ev, &s->io, want)) < 0)
            log_warn_rl("c-ares socket %d: epoll: %s", fd, strerror(-err));
        return;
    }
    if ((s = dnsd_ares_sock_find(a, -1)) == NULL) {
        log_warn_rl("c-ares socket %d: more than %d sockets: not watched",
                    fd, DNSD_ARES_SOCKS);
        return;
    }
    s->io.fd = fd;
    s->io.fn = dnsd_ares_on_io;
    s->io.arg = s;
    s->a = a;
    if ((err = ev_add(a->ev, &s->io, want)) < 0) {
        log_warn_rl("c-ares socket %d: epoll: %s", fd, strerror(-err));
        return;
    }
    s->used = 1;
}

/* dnsd_ares_servers_csv - [dns] servers as "ip:port,[v6]:port" */
static void dnsd_ares_servers_csv(const struct cfg *cfg, char *buf,
                                  size_t cap)
{
    size_t off = 0;
    int i, n;

    buf[0] = '\0';
    for (i = 0; i < cfg->ndns_servers && off < cap; i++) {
        const struct cfg_hostport *hp = &cfg->dns_servers[i];
        int v6 = strchr(hp->host, ':') != NULL;

        n = snprintf(buf + off, cap - off, "%s%s%s%s:%u", i ? "," : "",
                     v6 ? "[" : "", hp->host, v6 ? "]" : "",
                     hp->port ? hp->port : 53);
        if (n < 0 || (size_t)n >= cap - off)
            break;
        off += (size_t)n;
    }
}

/*
 * dnsd_ares_init - the channel for [dns] in cfg, its sockets in ev.
 *      Returns 0 with *ap set, or -errno (-EINVAL: c-ares refused the
 *      servers or the options; the reason is logged).
 */
int dnsd_ares_init(struct dnsd_ares **ap, struct ev *ev,
                   const struct cfg *cfg)
{
    struct ares_options o;
    struct dnsd_ares *a;
    int rc, mask;

    *ap = NULL;
    if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
        log_error("c-ares: library init: %s", ares_strerror(rc));
        return -ENOMEM;
    }
    if ((a = calloc(1, sizeof(*a))) == NULL) {
        ares_library_cleanup();
        return -ENOMEM;
    }
    a->ev = ev;
    a->timer.fn = dnsd_ares_on_timer;
    a->timer.arg = a;
    memset(&o, 0, sizeof(o));
    o.timeout = cfg->dns_timeout_ms;
    o.tries = cfg->dns_tries;
    o.sock_state_cb = dnsd_ares_on_sock_state;
    o.sock_state_cb_data = a;
    mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
    if (cfg->ndns_servers == 1) {
        o.flags = ARES_FLAG_NOCHECKRESP;
        mask |= ARES_OPT_FLAGS;
    }
    if ((rc = ares_init_options(&a->ch, &o, mask)) != ARES_SUCCESS) {
        log_error("c-ares: init: %s", ares_strerror(rc));
        free(a);
        ares_library_cleanup();
        return rc == ARES_ENOMEM ? -ENOMEM : -EINVAL;
    }
    if (cfg->ndns_servers > 0) {
        dnsd_ares_servers_csv(cfg, a->servers, sizeof(a->servers));
        rc = ares_set_servers_ports_csv(a->ch, a->servers);
        if (rc != ARES_SUCCESS) {
            log_error("[dns] servers %s: %s", a->servers, ares_strerror(rc));
            dnsd_ares_free(a);
            return -EINVAL;
        }
    } else {
        snprintf(a->servers, sizeof(a->servers), "(resolv.conf)");
    }
    *ap = a;
    return 0;
}

/*
 * dnsd_ares_free - destroy the channel. Every query still pending is
 *      answered first (status ERROR, "channel destroyed") through its
 *      callback, so the caller's state is released normally.
 */
void dnsd_ares_free(struct dnsd_ares *a)
{
    size_t i;

    if (a == NULL)
        return;
    a->dying = 1;
    ares_destroy(a->ch);
    ev_timer_stop(a->ev, &a->timer);
    for (i = 0; i < DNSD_ARES_SOCKS; i++)
        if (a->socks[i].used)
            ev_del(a->ev, &a->socks[i].io);
    free(a);
    ares_library_cleanup();
}

/* dnsd_ares_pending - queries sent and not yet answered */
size_t dnsd_ares_pending(const struct dnsd_ares *a)
{
    return a->pending;
}

/* dnsd_ares_servers - the servers in use, for logs */
const char *dnsd_ares_servers(const struct dnsd_ares *a)
{
    return a->servers;
}

/* dnsd_ares_status - c-ares' status as MSG_DNS_* */
static int dnsd_ares_status(int status)
{
    switch (status) {
    case ARES_SUCCESS:
        return MSG_DNS_OK;
    case ARES_ENODATA:
    case ARES_ENOTFOUND:
        return MSG_DNS_NXDOMAIN;
    case ARES_ETIMEOUT:
        return MSG_DNS_TIMEOUT;
    default:                            /* ECONNREFUSED: every server */
        return MSG_DNS_ERROR;           /* refused or failed at once */
    }
}

/* dnsd_ares_skip_name - past a (possibly compressed) name, or NULL */
static const unsigned char *dnsd_ares_skip_name(const unsigned char *p,
                                                const unsigned char *end)
{
    while (p < end) {
        if (*p == 0)
            return p + 1;
        if ((*p & 0xc0) == 0xc0)
            return end - p >= 2 ? p + 2 : NULL;
        if ((*p & 0xc0) || end - p <= (ptrdiff_t)(1 + *p))
            return NULL;
        p += 1 + *p;
    }
    return NULL;
}

static uint32_t dnsd_ares_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16
           | (uint32_t)p[2] << 8 | p[3];
}

/* dnsd_ares_ttl_min - fold one TTL in (RFC 2181 8: top bit set = 0) */
static void dnsd_ares_ttl_min(struct dnsd_rrset *rs, uint32_t ttl)
{
    if (ttl & 0x80000000u)
        ttl = 0;
    if (ttl < rs->ttl)
        rs->ttl = ttl;
}

/*
 * dnsd_ares_ttl - rs->ttl from the raw answer: the smallest TTL in the
 *      answer section (OK), or min(SOA TTL, SOA minimum) from the
 *      authority section (negative, RFC 2308). Malformed: left alone.
 */
static void dnsd_ares_ttl(const unsigned char *abuf, int alen,
                          struct dnsd_rrset *rs)
{
    const unsigned char *p, *end;
    unsigned qd, an, ns, i;
    uint16_t type, rdlen;

    if (abuf == NULL || alen < 12)
        return;
    p = abuf + 12;
    end = abuf + alen;
    qd = (unsigned)abuf[4] << 8 | abuf[5];
    an = (unsigned)abuf[6] << 8 | abuf[7];
    ns = (unsigned)abuf[8] << 8 | abuf[9];
    for (i = 0; i < qd; i++) {
        if ((p = dnsd_ares_skip_name(p, end)) == NULL || end - p < 4)
            return;
        p += 4;
    }
    for (i = 0; i < an + ns; i++) {
        if ((p = dnsd_ares_skip_name(p, end)) == NULL || end - p < 10)
            return;
        type = (uint16_t)(p[0] << 8 | p[1]);
        rdlen = (uint16_t)(p[8] << 8 | p[9]);
        if (end - p - 10 < (ptrdiff_t)rdlen)
            return;
        if (i < an && rs->status == MSG_DNS_OK)
            dnsd_ares_ttl_min(rs, dnsd_ares_u32(p + 4));
        if (i >= an && type == DNSD_ARES_T_SOA && rdlen >= 22
            && rs->status == MSG_DNS_NXDOMAIN) {
            dnsd_ares_ttl_min(rs, dnsd_ares_u32(p + 4));
            dnsd_ares_ttl_min(rs, dnsd_ares_u32(p + 10 + rdlen - 4));
        }
        p += 10 + rdlen;
    }
}

/* dnsd_ares_copy - a C string into a fixed field, truncated */
static void dnsd_ares_copy(char *dst, size_t cap, const void *src)
{
    snprintf(dst, cap, "%s", src != NULL ? (const char *)src : "");
}

static int dnsd_ares_parse_naptr(const unsigned char *abuf, int alen,
                                 struct dnsd_rrset *rs)
{
    struct ares_naptr_reply *head = NULL, *r;
    int rc;

    if ((rc = ares_parse_naptr_reply(abuf, alen, &head)) != ARES_SUCCESS)
        return rc;
    for (r = head; r != NULL && rs->n < DNSD_MAX_RR; r = r->next) {
        struct dnsd_naptr *n = &rs->naptr[rs->n++];

        n->order = r->order;
        n->pref = r->preference;
        dnsd_ares_copy(n->flags, sizeof(n->flags), r->flags);
        dnsd_ares_copy(n->service, sizeof(n->service), r->service);
        dnsd_ares_copy(n->replacement, sizeof(n->replacement),
                       r->replacement);
    }
    ares_free_data(head);
    return ARES_SUCCESS;
}

static int dnsd_ares_parse_srv(const unsigned char *abuf, int alen,
                               struct dnsd_rrset *rs)
{
    struct ares_srv_reply *head = NULL, *r;
    int rc;

    if ((rc = ares_parse_srv_reply(abuf, alen, &head)) != ARES_SUCCESS)
        return rc;
    for (r = head; r != NULL && rs->n < DNSD_MAX_RR; r = r->next) {
        struct dnsd_srv *s = &rs->srv[rs->n++];

        s->prio = r->priority;
        s->weight = r->weight;
        s->port = r->port;
        dnsd_ares_copy(s->target, sizeof(s->target), r->host);
    }
    ares_free_data(head);
    return ARES_SUCCESS;
}

static int dnsd_ares_parse_addr(const unsigned char *abuf, int alen,
                                struct dnsd_rrset *rs)
{
    struct ares_addrttl v4[DNSD_MAX_RR];
    struct ares_addr6ttl v6[DNSD_MAX_RR];
    int rc, n = DNSD_MAX_RR, i;

    if (rs->type == DNSD_T_A)
        rc = ares_parse_a_reply(abuf, alen, NULL, v4, &n);
    else
        rc = ares_parse_aaaa_reply(abuf, alen, NULL, v6, &n);
    if (rc != ARES_SUCCESS)
        return rc;
    for (i = 0; i < n; i++) {
        struct msg_addr *m = &rs->addr[rs->n++];

        memset(m, 0, sizeof(*m));
        if (rs->type == DNSD_T_A) {
            m->family = AF_INET;
            memcpy(m->ip, &v4[i].ipaddr, 4);
        } else {
            m->family = AF_INET6;
            memcpy(m->ip, &v6[i].ip6addr, 16);
        }
    }
    return n > 0 ? ARES_SUCCESS : ARES_ENODATA;
}

/* dnsd_ares_parse - the records of a successful answer into rs */
static int dnsd_ares_parse(const unsigned char *abuf, int alen,
                           struct dnsd_rrset *rs)
{
    switch (rs->type) {
    case DNSD_T_NAPTR:
        return dnsd_ares_parse_naptr(abuf, alen, rs);
    case DNSD_T_SRV:
        return dnsd_ares_parse_srv(abuf, alen, rs);
    default:
        return dnsd_ares_parse_addr(abuf, alen, rs);
    }
}

/* dnsd_ares_on_answer - c-ares is done with one query */
static void dnsd_ares_on_answer(void *arg, int status, int timeouts,
                                unsigned char *abuf, int alen)
{
    struct dnsd_ares_req *q = arg;
    struct dnsd_ares_req req = *q;
    struct dnsd_rrset rs;

    (void)timeouts;
    free(q);
    req.a->pending--;
    rs.type = req.type;
    rs.n = 0;
    rs.ttl = DNSD_TTL_NONE;
    rs.rcode = abuf != NULL && alen >= 12 ? abuf[3] & 0x0f : -1;
    if (status == ARES_SUCCESS && abuf != NULL)
        status = dnsd_ares_parse(abuf, alen, &rs);
    rs.status = dnsd_ares_status(status);
    rs.why = ares_strerror(status);
    if (rs.status != MSG_DNS_OK)
        rs.n = 0;
    if (abuf != NULL)
        dnsd_ares_ttl(abuf, alen, &rs);
    req.fn(req.arg, req.tag, &rs);
}

/*
 * dnsd_ares_query - ask for records of type (DNSD_T_*) of name (a
 *      NUL-terminated host name). fn(arg, tag, rrset) is called exactly
 *      once: usually from the ev loop later, but immediately when c-ares
 *      fails at once (or on out of memory), so a caller that starts
 *      several queries must not free its state before all came back.
 */
void dnsd_ares_query(struct dnsd_ares *a, const char *name, int type,
                     dnsd_ares_fn fn, void *arg, int tag)
{
    struct dnsd_ares_req *q = NULL;

    if (a->dying || (q = malloc(sizeof(*q))) == NULL) {
        struct dnsd_rrset rs;

        rs.type = type;
        rs.n = 0;
        rs.status = MSG_DNS_ERROR;
        rs.why = a->dying ? "resolver shutting down" : "out of memory";
        rs.ttl = DNSD_TTL_NONE;
        rs.rcode = -1;
        fn(arg, tag, &rs);
        return;
    }
    q->a = a;
    q->fn = fn;
    q->arg = arg;
    q->tag = tag;
    q->type = type;
    a->pending++;
    ares_query(a->ch, name, DNSD_ARES_CLASS_IN, type, dnsd_ares_on_answer, q);
    dnsd_ares_rearm(a);
}
