/*
 * SUMMARY
 *      dnsd_mi - dnsd's answers to the MI dumps, sent to mid over ctl
 * DESCRIPTION
 *      mid publishes "dns_cache_dump ID", "dns_blacklist_dump ID" and
 *      "dns_blacklist_flush ID" (mid_relay.c); dnsd answers on its PUSH
 *      socket with the reply lines, "NAME:: VALUE" as the FIFO shows
 *      them, cut into messages that fit CTL_MSG_MAX, the last one marked
 *      "end" with the reply's code and reason. mid puts them together
 *      and answers the FIFO client when "end" arrives.
 *
 *        dns_cache_dump       per entry "Entry:: NAME port=P transport=T
 *                             sips=S status=ST ttl=SECONDS_LEFT
 *                             targets=N", then per target "Target::
 *                             ADDR:PORT TRANSPORT prio=P weight=W" (the
 *                             records kept: each query orders them).
 *        dns_blacklist_dump   per entry "Target:: ADDR:PORT TRANSPORT
 *                             expires=SECONDS_LEFT reason=WHY".
 * PROTOCOL
 *      dnsd -> mid (PUSH): "mi dnsd INSTANCE PID ID SEQ more\n" LINES
 *      and at last "mi dnsd INSTANCE PID ID SEQ end CODE REASON\n"
 *      LINES, SEQ counting from 0 (ctl.h).
 * DIAGNOSTICS
 *      A send that fails (mid gone for 2 s) is logged, rate-limited,
 *      and the rest of the reply is dropped: mid answers the client
 *      with an error when its wait ends.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "dnsd.h"
#include "log.h"

#define DNSD_MI_BODY (CTL_MSG_MAX - 80)   /* room for the header */

struct dnsd_mi {
    int push;
    uint32_t id;
    unsigned seq;
    int failed;                         /* a send failed: stop sending */
    size_t len;
    size_t count;                       /* entries, for the last line */
    char body[DNSD_MI_BODY];
};

/* dnsd_mi_send - one message: the lines so far, "more" or the end */
static void dnsd_mi_send(struct dnsd_mi *mi, const char *tail)
{
    int err;

    if (mi->failed)
        return;
    err = ctl_send(mi->push, "mi dnsd 0 %d %u %u %s\n%.*s", (int)getpid(),
                   mi->id, mi->seq++, tail, (int)mi->len, mi->body);
    if (err < 0) {
        log_warn_rl("MI reply %u: send to mid: %s", mi->id, strerror(-err));
        mi->failed = 1;
    }
    mi->len = 0;
}

/* dnsd_mi_line - append "NAME:: VALUE\n", sending what came before */
static void dnsd_mi_line(struct dnsd_mi *mi, const char *name,
                         const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void dnsd_mi_line(struct dnsd_mi *mi, const char *name,
                         const char *fmt, ...)
{
    char line[DNSD_MI_BODY];
    va_list ap;
    int n, k;

    n = snprintf(line, sizeof(line), "%s:: ", name);
    va_start(ap, fmt);
    k = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (k < 0)
        return;
    n += k;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;      /* cut, never split */
    line[n++] = '\n';
    if (mi->len + (size_t)n > sizeof(mi->body))
        dnsd_mi_send(mi, "more");
    memcpy(mi->body + mi->len, line, (size_t)n);
    mi->len += (size_t)n;
}

/* dnsd_mi_target - "ADDR:PORT transport" of t into buf */
static const char *dnsd_mi_target(const struct msg_dns_target *t, char *buf,
                                  size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    int v6 = t->addr.family == AF_INET6;

    if (inet_ntop(t->addr.family, t->addr.ip, ip, sizeof(ip)) == NULL)
        snprintf(ip, sizeof(ip), "?");
    snprintf(buf, cap, "%s%s%s:%u %s", v6 ? "[" : "", ip, v6 ? "]" : "",
             ntohs(t->addr.port),
             t->proto == 0 ? "any" : cfg_proto_name(t->proto));
    return buf;
}

static const char *dnsd_mi_status(unsigned status)
{
    static const char *const names[] = {"ok", "nxdomain", "timeout",
                                        "error"};

    return status < 4 ? names[status] : "?";
}

static void dnsd_mi_on_cache(void *arg, const struct dnsd_key *k,
                             const struct dnsd_rec *r, uint32_t left_s)
{
    struct dnsd_mi *mi = arg;
    char t[96];
    size_t i;

    mi->count++;
    dnsd_mi_line(mi, "Entry", "%s port=%u transport=%s sips=%u status=%s "
                 "ttl=%u targets=%u", k->name, k->port,
                 k->proto == 0 ? "any" : cfg_proto_name(k->proto),
                 k->secure, dnsd_mi_status(r->status), left_s, r->n);
    for (i = 0; i < r->n && i < DNSD_MAX_CAND; i++)
        dnsd_mi_line(mi, "Target", "%s prio=%u weight=%u",
                     dnsd_mi_target(&r->c[i].t, t, sizeof(t)),
                     r->c[i].prio, r->c[i].weight);
}

/* dnsd_mi_reason - MSG_FAIL_* for the dump */
static const char *dnsd_mi_reason(uint32_t reason)
{
    static const char *const names[] = {"?", "refused", "timeout",
                                        "reset", "unreachable", "other"};

    return reason < 6 ? names[reason] : "?";
}

static void dnsd_mi_on_bl(void *arg, const struct dnsd_bl_ent *e,
                          uint32_t left_s)
{
    struct dnsd_mi *mi = arg;
    struct msg_dns_target t;
    char buf[96];

    mi->count++;
    memset(&t, 0, sizeof(t));
    t.addr = e->addr;
    t.proto = e->proto;
    dnsd_mi_line(mi, "Target", "%s expires=%u reason=%s",
                 dnsd_mi_target(&t, buf, sizeof(buf)), left_s,
                 dnsd_mi_reason(e->reason));
}

static void dnsd_mi_start(struct dnsd_mi *mi, int push, uint32_t id)
{
    memset(mi, 0, sizeof(*mi));
    mi->push = push;
    mi->id = id;
}

/*
 * dnsd_mi_cache_dump - answer MI request id with the entries of c
 *      alive at now_ms (c NULL: [dns] cache = 0, none), over push.
 */
void dnsd_mi_cache_dump(int push, uint32_t id, struct dnsd_cache *c,
                        int64_t now_ms)
{
    struct dnsd_mi mi;

    dnsd_mi_start(&mi, push, id);
    if (c != NULL)
        dnsd_cache_walk(c, now_ms, dnsd_mi_on_cache, &mi);
    dnsd_mi_line(&mi, "Entries", "%zu", mi.count);
    dnsd_mi_send(&mi, "end 200 OK");
}

/* dnsd_mi_bl_dump - answer MI request id with the blacklist */
void dnsd_mi_bl_dump(int push, uint32_t id, struct dnsd_bl *b,
                     int64_t now_ms)
{
    struct dnsd_mi mi;

    dnsd_mi_start(&mi, push, id);
    dnsd_bl_walk(b, now_ms, dnsd_mi_on_bl, &mi);
    dnsd_mi_line(&mi, "Entries", "%zu", mi.count);
    dnsd_mi_send(&mi, "end 200 OK");
}

/* dnsd_mi_done - answer MI request id with code and reason only */
void dnsd_mi_done(int push, uint32_t id, int code, const char *reason)
{
    struct dnsd_mi mi;
    char tail[128];

    dnsd_mi_start(&mi, push, id);
    snprintf(tail, sizeof(tail), "end %d %s", code, reason);
    dnsd_mi_send(&mi, tail);
}
