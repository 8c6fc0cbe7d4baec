/*
 * SUMMARY
 *      fuzz_route - libFuzzer target for the whole request path of sipd
 * DESCRIPTION
 *      Each input is one received message: its first byte picks the
 *      transport (UDP or TCP framing), the config (record_route on or
 *      off) and the source address; the rest goes through sipd_route()
 *      (parse, validate, route, rewrite, serialize) with a fixed
 *      struct cfg (udp and tcp 127.0.0.1:5060, udp [::1]:5060, alias
 *      proxy.example.com). Invariants checked on every result:
 *
 *        - out->len never exceeds out->cap, and the bytes after the cap
 *          (a guard) are never written;
 *        - DROP sends nothing; SEND goes to a usable address;
 *        - a forwarded request (not a local reply) parses again, has
 *          our Via first among its Vias (sent-by 127.0.0.1:5060 or
 *          [::1]:5060, our branch shape), Max-Forwards strictly below
 *          the received one (70 when absent), the body byte-identical;
 *        - a local reply parses as a response with that status code;
 *        - a relayed response parses and has one Via less.
 *
 *      make fuzz builds it with the files named on the FUZZ_SRC line.
 * FUZZ_SRC: common/sip/*.c common/addr.c common/stats.c sipd/sipd_route.c sipd/sipd_hop.c sipd/sipd_reply.c sipd/sipd_addr.c sipd/sipd_branch.c
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipd_route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ROUTE_CAP (MSG_SIP_MAX + 1024)
#define FUZZ_ROUTE_GUARD 64

static struct sip_msg fuzz_route_m;     /* sipd's scratch message */
static struct sip_msg fuzz_route_in;    /* the input, parsed again */
static struct sip_msg fuzz_route_out;   /* the output, parsed */
static char fuzz_route_buf[FUZZ_ROUTE_CAP + FUZZ_ROUTE_GUARD];
static char *fuzz_route_data;           /* exact-size copy of the input */
static struct cfg fuzz_route_cfg[2];
static struct stats_slot fuzz_route_st;

/* fuzz_route_listen - add one listen socket to c */
static void fuzz_route_listen(struct cfg *c, int proto, const char *ip)
{
    struct cfg_listen *l = &c->listen[c->nlisten++];

    memset(l, 0, sizeof(*l));
    l->proto = proto;
    strcpy(l->host, ip);
    l->port = 5060;
    if (strchr(ip, ':') != NULL) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&l->addr;

        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(5060);
        assert(inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1);
        l->addrlen = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&l->addr;

        s4->sin_family = AF_INET;
        s4->sin_port = htons(5060);
        assert(inet_pton(AF_INET, ip, &s4->sin_addr) == 1);
        l->addrlen = sizeof(*s4);
    }
}

static void fuzz_route_init(void)
{
    int i;

    for (i = 0; i < 2; i++) {
        struct cfg *c = &fuzz_route_cfg[i];

        memset(c, 0, sizeof(*c));
        fuzz_route_listen(c, CFG_PROTO_UDP, "127.0.0.1");
        fuzz_route_listen(c, CFG_PROTO_TCP, "127.0.0.1");
        fuzz_route_listen(c, CFG_PROTO_UDP, "::1");
        strcpy(c->alias[0].host, "proxy.example.com");
        c->nalias = 1;
        c->record_route = i;
    }
    sip_msg_init(&fuzz_route_m);
    sip_msg_init(&fuzz_route_in);
    sip_msg_init(&fuzz_route_out);
}

/* fuzz_route_ours - via-parm v is ours: sent-by and branch shape */
static int fuzz_route_ours(const struct sip_via *v)
{
    static const char pre[] = "z9hG4bKsS";

    return v->port == 5060
           && ((v->host.len == 9 && memcmp(v->host.s, "127.0.0.1", 9) == 0)
               || (v->host.len == 3 && memcmp(v->host.s, "::1", 3) == 0))
           && v->branch.len == 33 && memcmp(v->branch.s, pre, 9) == 0;
}

/* fuzz_route_forwarded - the invariants of a forwarded request */
static void fuzz_route_forwarded(const struct sipd_route_out *out)
{
    struct sip_msg *in = &fuzz_route_in;
    struct sip_msg *o = &fuzz_route_out;
    int mf = in->max_forwards;

    assert(sip_msg_parse(o, out->buf, out->len, SIP_PARSE_STREAM) == 0
           || sip_msg_parse(o, out->buf, out->len, 0) == 0
           || o->nhdrs >= SIP_MAX_HDRS);
    if (o->nhdrs >= SIP_MAX_HDRS)
        return;                         /* valid, more than we index */
    assert(o->is_request);
    assert(fuzz_route_ours(&o->via1));
    assert(o->max_forwards >= 0);
    assert(mf < 0 ? o->max_forwards == 70 : o->max_forwards == mf - 1);
    assert(o->body.len == in->body.len
           && memcmp(o->body.s, in->body.s, in->body.len) == 0);
    assert(o->msg_len == out->len);
}

/*
 * fuzz_route_reply - a local reply: a response with that status. A
 *      reply to a request the parser refused leaves out the headers
 *      that were not clean text (sipd_reply.c), so it may lack
 *      From/To/Call-ID/CSeq, but never anything else.
 */
static void fuzz_route_reply(const struct sipd_route_out *out)
{
    struct sip_msg *o = &fuzz_route_out;
    int r = sip_msg_parse(o, out->buf, out->len, 0);
    char line[16];

    snprintf(line, sizeof(line), "SIP/2.0 %03d ", out->status);
    assert(out->len > 12 && memcmp(out->buf, line, 12) == 0);
    /* what it copies of a malformed request (an unclosed quote in To,
     * ";;,;,," in Via, RFC 4475 3.1.2) may not parse; the status line
     * and the framing always do */
    assert(r == 0 || r == -E2BIG
           || (o->reason != NULL && strstr(o->reason, "Status") == NULL
               && strstr(o->reason, "empty line") == NULL));
    assert(o->is_request == 0 && o->status == out->status);
}

/* fuzz_route_relayed - a relayed response: one Via less */
static void fuzz_route_relayed(const struct sipd_route_out *out)
{
    struct sip_msg *in = &fuzz_route_in;
    struct sip_msg *o = &fuzz_route_out;
    int r;

    r = sip_msg_parse(o, out->buf, out->len, 0);
    assert(r == 0 || r == -E2BIG);
    if (r == 0 && o->via1.hdr >= 0)
        assert(!fuzz_route_ours(&o->via1) || in->via2.hdr >= 0);
    assert(out->len <= in->msg_len + 64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    struct sipd_route_env env;
    struct sipd_route_out out;
    struct msg_sip in;
    unsigned sel;
    unsigned flags;
    int v;

    if (!init) {
        fuzz_route_init();
        init = 1;
    }
    if (size < 1 || size > MSG_SIP_MAX + 1)
        return 0;
    /* A first byte below 0x10 selects transport, config and source;
     * anything else (a seed from t/data) is routed as it is. */
    sel = 0;
    if (data[0] < 0x10 && data[0] != '\n' && data[0] != '\r') {
        sel = data[0];
        data++;
        size--;
    }
    /* an exact-size heap copy: ASan sees any read past the datagram */
    fuzz_route_data = malloc(size ? size : 1);
    assert(fuzz_route_data != NULL);
    memcpy(fuzz_route_data, data, size);
    memset(&in, 0, sizeof(in));
    in.proto = sel & 1 ? MSG_PROTO_TCP : MSG_PROTO_UDP;
    in.sock = in.proto == MSG_PROTO_TCP ? 1 : 0;
    in.conn_id = in.proto == MSG_PROTO_TCP ? 7 : 0;
    in.peer.family = AF_INET;
    in.peer.ip[0] = sel & 4 ? 127 : 192;
    in.peer.ip[1] = 0;
    in.peer.ip[2] = sel & 4 ? 0 : 2;
    in.peer.ip[3] = sel & 8 ? 1 : 9;
    in.peer.port = htons((uint16_t)(5060 + (sel >> 3)));
    flags = in.proto == MSG_PROTO_TCP ? SIP_PARSE_STREAM : 0;
    memset(&env, 0, sizeof(env));       /* no force_*, no DB callbacks */
    env.cfg = &fuzz_route_cfg[(sel >> 1) & 1];
    env.st = &fuzz_route_st;
    memset(fuzz_route_buf + FUZZ_ROUTE_CAP, 0xa5, FUZZ_ROUTE_GUARD);
    out.buf = fuzz_route_buf;
    out.cap = FUZZ_ROUTE_CAP;
    v = sipd_route(&env, &fuzz_route_m, &in, fuzz_route_data, size, &out);
    assert(v == out.verdict);
    assert(out.len <= out.cap);
    for (size_t i = 0; i < FUZZ_ROUTE_GUARD; i++)
        assert((unsigned char)fuzz_route_buf[FUZZ_ROUTE_CAP + i] == 0xa5);
    if (v == SIPD_V_DROP) {
        assert(out.len == 0);
    } else {
        assert(v == SIPD_V_SEND || v == SIPD_V_RESOLVE);
        assert(out.len > 0);
        if (v == SIPD_V_SEND && out.conn_id == 0)
            assert(out.dst.family == AF_INET || out.dst.family == AF_INET6);
        if (out.local_reply) {
            fuzz_route_reply(&out);
        } else {
            /* routed, so it parsed */
            assert(sip_msg_parse(&fuzz_route_in, fuzz_route_data, size,
                                 flags) == 0);
            if (fuzz_route_in.is_request)
                fuzz_route_forwarded(&out);
            else
                fuzz_route_relayed(&out);
        }
    }
    free(fuzz_route_data);
    return 0;
}
