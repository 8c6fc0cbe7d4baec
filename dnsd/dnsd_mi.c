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
 *      LINES, SEQ counting from 0 (ctl.h), written by common/ctl_mi.c.
 * DIAGNOSTICS
 *      As ctl_mi.h: a send that fails (mid gone for 2 s) is logged,
 *      rate-limited, and the rest of the reply is dropped: mid answers
 *      the client with an error when its wait ends.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ctl_mi.h"
#include "dnsd.h"

struct dnsd_mi {
    struct ctl_mi out;                  /* the chunked reply */
    size_t count;                       /* entries, for the last line */
};

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
    ctl_mi_line(&mi->out, "Entry", "%s port=%u transport=%s sips=%u status=%s "
                 "ttl=%u targets=%u", k->name, k->port,
                 k->proto == 0 ? "any" : cfg_proto_name(k->proto),
                 k->secure, dnsd_mi_status(r->status), left_s, r->n);
    for (i = 0; i < r->n && i < DNSD_MAX_CAND; i++)
        ctl_mi_line(&mi->out, "Target", "%s prio=%u weight=%u",
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
    ctl_mi_line(&mi->out, "Target", "%s expires=%u reason=%s",
                 dnsd_mi_target(&t, buf, sizeof(buf)), left_s,
                 dnsd_mi_reason(e->reason));
}

static void dnsd_mi_start(struct dnsd_mi *mi, int push, uint32_t id)
{
    mi->count = 0;
    ctl_mi_start(&mi->out, push, "dnsd", 0, id);
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
    ctl_mi_line(&mi.out, "Entries", "%zu", mi.count);
    ctl_mi_end(&mi.out, 200, "OK");
}

/* dnsd_mi_bl_dump - answer MI request id with the blacklist */
void dnsd_mi_bl_dump(int push, uint32_t id, struct dnsd_bl *b,
                     int64_t now_ms)
{
    struct dnsd_mi mi;

    dnsd_mi_start(&mi, push, id);
    dnsd_bl_walk(b, now_ms, dnsd_mi_on_bl, &mi);
    ctl_mi_line(&mi.out, "Entries", "%zu", mi.count);
    ctl_mi_end(&mi.out, 200, "OK");
}

/* dnsd_mi_done - answer MI request id with code and reason only */
void dnsd_mi_done(int push, uint32_t id, int code, const char *reason)
{
    struct dnsd_mi mi;

    dnsd_mi_start(&mi, push, id);
    ctl_mi_end(&mi.out, code, reason);
}
