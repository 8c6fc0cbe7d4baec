/*
 * SUMMARY
 *    sipd_route - unit tests for stateless routing (RFC 3261 16, 16.11)
 * DESCRIPTION
 *    Table-driven: each case is a received message (bytes, transport,
 *    socket, source address) and what must leave the proxy: verdict,
 *    status, the exact bytes, destination and socket, or the name to
 *    resolve, and every core counter. In expected bytes "@B@" stands
 *    for our branch and "@T@" for a generated To tag: the test takes
 *    the value at that place in the output after checking its shape,
 *    and the branch/tag tests below pin the values themselves
 *    (retransmission, CANCEL, ACK, loops).
 *
 *    Listen sockets: 0 udp 127.0.0.1:5060, 1 udp 127.0.0.2:5070,
 *    2 udp [::1]:5060, 3 tcp 127.0.0.1:5060 (added by hand: cfg
 *    refuses tcp until the TCP milestone); alias proxy.example.com.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "cfg.h"
#include "sipd_route.h"

#define CRLF "\r\n"
#define BR_LEN 33                       /* z9hG4bKsS + 24 hex */
#define TAG_LEN 16

#define TO_B "To: Bob <sip:bob@biloxi.example.com>" CRLF
#define TO_B_TAG "To: Bob <sip:bob@biloxi.example.com>;tag=@T@" CRLF
#define FROM_A                                                             \
    "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl" CRLF
#define CID "Call-ID: 3848276298220188511@atlanta.example.com" CRLF
#define VIA_A "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK74bf9" CRLF
#define VIA_US "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=@B@" CRLF
#define VIA_US2 "Via: SIP/2.0/UDP 127.0.0.2:5070;branch=@B@" CRLF
#define VIA_US_TCP "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=@B@" CRLF
#define VIA_US6 "Via: SIP/2.0/UDP [::1]:5060;branch=@B@" CRLF
#define VIA_NAT                                                            \
    "Via: SIP/2.0/UDP 192.168.1.5:5060;rport;branch=z9hG4bKnat1" CRLF
#define VIA_NAT_FIXED                                                      \
    "Via: SIP/2.0/UDP 192.168.1.5:5060;rport=40000;branch=z9hG4bKnat1;"    \
    "received=203.0.113.7" CRLF
#define MF70 "Max-Forwards: 70" CRLF
#define MF69 "Max-Forwards: 69" CRLF
#define CSEQ_INV "CSeq: 2 INVITE" CRLF
#define CONTACT_A "Contact: <sip:alice@10.0.0.1:5062>" CRLF
#define BODY                                                               \
    "Content-Type: application/sdp" CRLF "Content-Length: 5" CRLF CRLF     \
    "v=0" CRLF
#define CL0 "Content-Length: 0" CRLF CRLF
#define RL_INV "INVITE sip:bob@10.0.0.2:5080 SIP/2.0" CRLF
#define TAIL_INV TO_B FROM_A CID CSEQ_INV CONTACT_A BODY
/* The INVITE most cases start from, and its forwarded form. */
#define INV_A RL_INV VIA_A MF70 TAIL_INV
#define INV_A_FWD RL_INV VIA_US VIA_A MF69 TAIL_INV
#define OUR_BR "z9hG4bKsS0123456789abcdef01234567"
#define RESP_HEAD "SIP/2.0 200 OK" CRLF
#define RESP_TAIL                                                          \
    "To: Bob <sip:bob@biloxi.example.com>;tag=314159" CRLF FROM_A CID      \
    CSEQ_INV CL0
#define VIA_OURS "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=" OUR_BR CRLF

#define UDP MSG_PROTO_UDP
#define TCP MSG_PROTO_TCP
#define TLS MSG_PROTO_TLS
#define S(id, n) {STAT_CORE_##id, (n)}

struct t_stat {
    enum stats_id id;
    int n;
};

struct t_case {
    const char *name;
    const struct cfg *cfg;              /* NULL: t_cfg */
    const char *in;
    const char *peer;                   /* source "ip:port" */
    int proto;                          /* 0: UDP */
    int sock;                           /* listen it arrived on */
    size_t cap;                         /* 0: the whole buffer */
    int verdict;
    int status;                         /* local reply code, else 0 */
    const char *out;                    /* exact bytes, @B@ @T@ */
    const char *dst;                    /* SEND: "ip:port" */
    int out_sock;
    int out_proto;                      /* 0: UDP */
    const char *rname;                  /* RESOLVE: the name */
    int rport;
    int rproto;
    struct t_stat st[6];                /* the counters that are not 0 */
};

static struct cfg t_cfg;                /* sockets 0..3, alias */
static struct cfg t_cfg_rr;             /* the same, record_route = 1 */
static struct cfg t_cfg_min;            /* udp 127.0.0.1:5060 only */
static struct cfg t_cfg_adv;            /* advertised addresses, see below */
static struct cfg t_cfg_tls;            /* udp, tcp :5060, tls :5061, rr */
static struct sip_msg *t_msg;
static char t_buf[65536];
static char t_want[65536];

/* t_addr - "1.2.3.4:5" or "[v6]:5" to a msg_addr */
static void t_addr(const char *s, struct msg_addr *a)
{
    char ip[64];
    const char *colon = strrchr(s, ':');
    size_t n = (size_t)(colon - s);

    memset(a, 0, sizeof(*a));
    if (s[0] == '[') {
        memcpy(ip, s + 1, n - 2);
        ip[n - 2] = '\0';
        a->family = AF_INET6;
    } else {
        memcpy(ip, s, n);
        ip[n] = '\0';
        a->family = AF_INET;
    }
    if (inet_pton(a->family, ip, a->ip) != 1)
        abort();
    a->port = htons((uint16_t)atoi(colon + 1));
}

/* t_addr_text - a msg_addr as "ip:port" / "[v6]:port" */
static const char *t_addr_text(const struct msg_addr *a, char *buf,
                               size_t cap)
{
    char ip[64];

    if (inet_ntop(a->family, a->ip, ip, sizeof(ip)) == NULL)
        snprintf(ip, sizeof(ip), "family %u", a->family);
    snprintf(buf, cap, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
             ntohs(a->port));
    return buf;
}

/* t_shape - n bytes at p look like our branch (b) or a tag */
static int t_shape(const char *p, size_t n, int b)
{
    size_t i = b ? 9 : 0;

    if (b && memcmp(p, "z9hG4bKsS", 9) != 0)
        return 0;
    for (; i < n; i++)
        if (!strchr("0123456789abcdef", p[i]) || p[i] == '\0')
            return 0;
    return 1;
}

/* t_expand - want with @B@/@T@ taken from got at the same offset */
static size_t t_expand(const char *want, const char *got, size_t glen)
{
    size_t o = 0;
    const char *p = want;

    while (*p != '\0' && o < sizeof(t_want) - 64) {
        int b = strncmp(p, "@B@", 3) == 0;
        size_t n = b ? BR_LEN : TAG_LEN;

        if ((b || strncmp(p, "@T@", 3) == 0) && o + n <= glen
            && t_shape(got + o, n, b)) {
            memcpy(t_want + o, got + o, n);
            o += n;
            p += 3;
        } else {
            t_want[o++] = *p++;
        }
    }
    return o;
}

/* t_stats - every core counter as the case says (others 0) */
static void t_stats(const struct stats_slot *st, const struct t_stat *want,
                    const char *name)
{
    char bad[512] = "";
    size_t used = 0;
    int id, i;

    for (id = 0; id < STAT__N; id++) {
        long long w = 0;

        for (i = 0; i < 6 && want[i].n != 0; i++)
            if ((int)want[i].id == id)
                w = want[i].n;
        if ((long long)st->v[id] != w && used < sizeof(bad) - 64)
            used += (size_t)snprintf(bad + used, sizeof(bad) - used,
                                     " %s=%llu(want %lld)",
                                     stats_defs[id].name,
                                     (unsigned long long)st->v[id], w);
    }
    ok(used == 0, "%s: counters", name);
    if (used != 0)
        diag("%s", bad);
}

/* t_route - feed one message; returns the verdict */
static int t_route(const struct cfg *c, const char *msg, size_t len,
                   const char *peer, int proto, int sock, size_t cap,
                   struct stats_slot *st, struct sipd_route_out *out)
{
    struct sipd_route_env env = {.cfg = c, .st = st};
    struct msg_sip in;

    memset(&in, 0, sizeof(in));
    in.proto = (uint8_t)(proto ? proto : UDP);
    in.sock = (uint16_t)sock;
    in.conn_id = msg_proto_stream(in.proto) ? 77 : 0;
    t_addr(peer, &in.peer);
    memset(st, 0, sizeof(*st));
    memset(out, 0x5a, sizeof(*out));    /* sipd_route must reset it */
    out->buf = t_buf;
    out->cap = cap ? cap : sizeof(t_buf);
    return sipd_route(&env, t_msg, &in, msg, len, out);
}

/* t_case_where - destination, socket, or what to resolve */
static void t_case_where(const struct t_case *c,
                         const struct sipd_route_out *out)
{
    char a[80];

    if (c->dst != NULL) {
        is_str(t_addr_text(&out->dst, a, sizeof(a)), c->dst,
               "%s: destination", c->name);
        is_int(out->sock, c->out_sock, "%s: socket", c->name);
        is_int(out->proto, c->out_proto ? c->out_proto : UDP,
               "%s: transport", c->name);
    }
    if (c->rname != NULL) {
        is_str(out->name, c->rname, "%s: name to resolve", c->name);
        is_int(out->port, c->rport, "%s: port to resolve", c->name);
        is_int(out->rproto, c->rproto, "%s: transport to resolve", c->name);
        is_int(out->sock, c->out_sock, "%s: Via socket", c->name);
    }
}

static void t_case_run(const struct t_case *c)
{
    struct sipd_route_out out;
    struct stats_slot st;
    int v;

    v = t_route(c->cfg ? c->cfg : &t_cfg, c->in, strlen(c->in),
                c->peer ? c->peer : "10.0.0.1:5062", c->proto, c->sock,
                c->cap, &st, &out);
    is_int(v, c->verdict, "%s: verdict", c->name);
    is_int(out.verdict, c->verdict, "%s: out->verdict", c->name);
    is_int(out.status, c->status, "%s: status", c->name);
    is_int(out.local_reply, c->status != 0, "%s: local reply", c->name);
    if (c->out != NULL)
        is_mem(out.buf, out.len, t_want,
               t_expand(c->out, out.buf, out.len), "%s: bytes", c->name);
    else if (c->verdict == SIPD_V_DROP)
        is_int((long long)out.len, 0, "%s: nothing to send", c->name);
    t_case_where(c, &out);
    /* netd counts core:fwd_* when it writes what sipd marked */
    if (out.fwd & MSG_F_FWD_REQUEST)
        stats_inc(&st, STAT_CORE_FWD_REQUESTS);
    if (out.fwd & MSG_F_FWD_REPLY)
        stats_inc(&st, STAT_CORE_FWD_REPLIES);
    t_stats(&st, c->st, c->name);
}

/* ------------------------------------------------------------------ */

/*
 * Double Record-Route (RFC 5658, t_cfg_rr): a request that leaves from
 * another socket than it came in on gets two values, the outgoing side
 * on top, each with its own transport and ";r2=on". In-dialog requests
 * carry both as Routes, and both are popped.
 */
#define RR2_TCP "Record-Route: <sip:127.0.0.1:5060;transport=tcp;r2=on;lr>" CRLF
#define RR2_UDP "Record-Route: <sip:127.0.0.1:5060;r2=on;lr>" CRLF
#define RR2_UDP2 "Record-Route: <sip:127.0.0.2:5070;r2=on;lr>" CRLF
#define RR2_V6 "Record-Route: <sip:[::1]:5060;r2=on;lr>" CRLF
#define RR1 "Record-Route: <sip:127.0.0.1:5060;lr>" CRLF
#define RL_BYE "BYE sip:bob@10.0.0.2:5080 SIP/2.0" CRLF
#define TAIL_BYE TO_B FROM_A CID "CSeq: 3 BYE" CRLF CL0

static const struct t_case t_rr_cases[] = {
    {.name = "RR: same socket in and out: one value, no r2",
     .cfg = &t_cfg_rr, .in = INV_A, .verdict = SIPD_V_SEND,
     .out = RL_INV RR1 VIA_US VIA_A MF69 TAIL_INV, .dst = "10.0.0.2:5080",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "RR: UDP in, TCP out: outgoing (tcp) on top, then incoming",
     .cfg = &t_cfg_rr,
     .in = "INVITE sip:bob@10.0.0.2:5080;transport=tcp SIP/2.0" CRLF VIA_A
           MF70 TAIL_INV,
     .verdict = SIPD_V_SEND,
     .out = "INVITE sip:bob@10.0.0.2:5080;transport=tcp SIP/2.0" CRLF
            RR2_TCP RR2_UDP VIA_US_TCP VIA_A MF69 TAIL_INV,
     .dst = "10.0.0.2:5080", .out_sock = 3, .out_proto = TCP,
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "RR: TCP in, UDP out: outgoing (udp) on top, then tcp",
     .cfg = &t_cfg_rr, .in = INV_A, .proto = TCP, .sock = 3,
     .verdict = SIPD_V_SEND,
     .out = RL_INV RR2_UDP RR2_TCP
            "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=@B@;cid=4d" CRLF VIA_A
            MF69 TAIL_INV,
     .dst = "10.0.0.2:5080", .out_sock = 0,
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "RR: IPv4 in, IPv6 out: both families",
     .cfg = &t_cfg_rr,
     .in = "INVITE sip:bob@[2001:db8::1]:5070 SIP/2.0" CRLF VIA_A MF70
           TAIL_INV,
     .verdict = SIPD_V_SEND,
     .out = "INVITE sip:bob@[2001:db8::1]:5070 SIP/2.0" CRLF RR2_V6 RR2_UDP
            VIA_US6 VIA_A MF69 TAIL_INV,
     .dst = "[2001:db8::1]:5070", .out_sock = 2,
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "RR: IPv6 in, IPv4 out",
     .cfg = &t_cfg_rr, .in = INV_A, .peer = "[2001:db8::9]:5062", .sock = 2,
     .verdict = SIPD_V_SEND,
     .out = RL_INV RR2_UDP RR2_V6 VIA_US
            "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK74bf9;"
            "received=2001:db8::9" CRLF MF69 TAIL_INV,
     .dst = "10.0.0.2:5080", .out_sock = 0,
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "RR: the pair goes before an existing Record-Route",
     .cfg = &t_cfg_rr,
     .in = "INVITE sip:bob@10.0.0.2:5080;transport=tcp SIP/2.0" CRLF VIA_A
           MF70 "Record-Route: <sip:p1.example.com;lr>" CRLF TAIL_INV,
     .verdict = SIPD_V_SEND,
     .out = "INVITE sip:bob@10.0.0.2:5080;transport=tcp SIP/2.0" CRLF
            VIA_US_TCP VIA_A MF69 RR2_TCP RR2_UDP
            "Record-Route: <sip:p1.example.com;lr>" CRLF TAIL_INV,
     .dst = "10.0.0.2:5080", .out_sock = 3, .out_proto = TCP,
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "RR: Route to our other socket popped, same socket: one",
     .cfg = &t_cfg_rr,
     .in = RL_INV VIA_A MF70 "Route: <sip:127.0.0.2:5070;lr>" CRLF TAIL_INV,
     .verdict = SIPD_V_SEND,
     .out = RL_INV RR1 VIA_US VIA_A MF69 TAIL_INV, .dst = "10.0.0.2:5080",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "RR: in-dialog, both r2 Routes (two headers) popped, to RURI",
     .in = RL_BYE VIA_A MF70
           "Route: <sip:127.0.0.1:5060;transport=tcp;r2=on;lr>" CRLF
           "Route: <sip:127.0.0.1:5060;r2=on;lr>" CRLF TAIL_BYE,
     .proto = TCP, .sock = 3, .verdict = SIPD_V_SEND,
     .out = RL_BYE "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=@B@;cid=4d" CRLF
            VIA_A MF69 TAIL_BYE,
     .dst = "10.0.0.2:5080", .out_sock = 0,
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "RR: in-dialog, both popped (one header), next Route is hop",
     .in = RL_BYE VIA_A MF70
           "Route: <sip:[::1]:5060;r2=on;lr>,<sip:127.0.0.1:5060;r2=on;lr>, "
           "<sip:10.0.0.3:5090;lr>" CRLF TAIL_BYE,
     .sock = 2, .verdict = SIPD_V_SEND,
     .out = RL_BYE VIA_US VIA_A MF69 "Route: <sip:10.0.0.3:5090;lr>" CRLF
            TAIL_BYE,
     .dst = "10.0.0.3:5090", .out_sock = 0,
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "RR: in-dialog over UDP toward a TCP caller: both popped",
     .in = "BYE sip:alice@10.0.0.1:5062;transport=tcp SIP/2.0" CRLF VIA_A
           MF70 "Route: <sip:127.0.0.1:5060;r2=on;lr>" CRLF
           "Route: <sip:127.0.0.1:5060;transport=tcp;r2=on;lr>" CRLF
           TAIL_BYE,
     .verdict = SIPD_V_SEND,
     .out = "BYE sip:alice@10.0.0.1:5062;transport=tcp SIP/2.0" CRLF
            VIA_US_TCP VIA_A MF69 TAIL_BYE,
     .dst = "10.0.0.1:5062", .out_sock = 3, .out_proto = TCP,
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
};

/* ------------------------------------------------------------------ */

/*
 * Advertised addresses (t_cfg_adv, record_route = 1):
 *    0 udp 0.0.0.0:5060 as SIP.Example.com (port 5060),
 *    1 tcp 127.0.0.1:5060 as [2001:db8::5]:5070.
 * Via and Record-Route name the advertised address; Route, maddr and
 * our Via on a response are "us" when they name it.
 */
#define ADV_VIA "Via: SIP/2.0/UDP sip.example.com:5060;branch=@B@" CRLF
#define ADV_RR "Record-Route: <sip:sip.example.com:5060;lr>" CRLF

static const struct t_case t_adv_cases[] = {
    {.name = "as: Via and Record-Route name the advertised host",
     .cfg = &t_cfg_adv, .in = INV_A, .verdict = SIPD_V_SEND,
     .out = RL_INV ADV_RR ADV_VIA VIA_A MF69 TAIL_INV,
     .dst = "10.0.0.2:5080", .out_sock = 0,
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "as: IPv6 advertised address of a TCP socket, bracketed",
     .cfg = &t_cfg_adv,
     .in = "INVITE sip:bob@10.0.0.2;transport=tcp SIP/2.0" CRLF VIA_A MF70
           TAIL_INV,
     .proto = TCP, .sock = 1, .verdict = SIPD_V_SEND,
     .out = "INVITE sip:bob@10.0.0.2;transport=tcp SIP/2.0" CRLF
            "Record-Route: <sip:[2001:db8::5]:5070;lr;transport=tcp>" CRLF
            "Via: SIP/2.0/TCP [2001:db8::5]:5070;branch=@B@;cid=4d" CRLF
            VIA_A MF69 TAIL_INV,
     .dst = "10.0.0.2:5060", .out_sock = 1, .out_proto = TCP,
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "as: double RR, each side its own advertised address",
     .cfg = &t_cfg_adv,
     .in = "INVITE sip:bob@10.0.0.2;transport=tcp SIP/2.0" CRLF VIA_A MF70
           TAIL_INV,
     .verdict = SIPD_V_SEND,
     .out = "INVITE sip:bob@10.0.0.2;transport=tcp SIP/2.0" CRLF
            "Record-Route: <sip:[2001:db8::5]:5070;transport=tcp;r2=on;lr>"
            CRLF "Record-Route: <sip:sip.example.com:5060;r2=on;lr>" CRLF
            "Via: SIP/2.0/TCP [2001:db8::5]:5070;branch=@B@" CRLF VIA_A MF69
            TAIL_INV,
     .dst = "10.0.0.2:5060", .out_sock = 1, .out_proto = TCP,
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "as: both r2 Routes (advertised) popped",
     .cfg = &t_cfg_adv,
     .in = "BYE sip:bob@10.0.0.2:5080 SIP/2.0" CRLF VIA_A MF70
           "Route: <sip:sip.example.com;r2=on;lr>, "
           "<sip:[2001:db8::5]:5070;transport=tcp;r2=on;lr>" CRLF TO_B
           FROM_A CID "CSeq: 3 BYE" CRLF CL0,
     .verdict = SIPD_V_SEND,
     .out = "BYE sip:bob@10.0.0.2:5080 SIP/2.0" CRLF ADV_RR ADV_VIA VIA_A
            MF69 TO_B FROM_A CID "CSeq: 3 BYE" CRLF CL0,
     .dst = "10.0.0.2:5080",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "as: Route naming the advertised name (default port) popped",
     .cfg = &t_cfg_adv,
     .in = "BYE sip:bob@10.0.0.2:5080 SIP/2.0" CRLF VIA_A MF70
           "Route: <sip:SIP.example.COM;lr>" CRLF TO_B FROM_A CID
           "CSeq: 3 BYE" CRLF CL0,
     .verdict = SIPD_V_SEND,
     .out = "BYE sip:bob@10.0.0.2:5080 SIP/2.0" CRLF ADV_RR ADV_VIA VIA_A MF69
            TO_B FROM_A CID "CSeq: 3 BYE" CRLF CL0,
     .dst = "10.0.0.2:5080",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "as: Route naming the advertised IPv6 (another spelling)",
     .cfg = &t_cfg_adv,
     .in = "BYE sip:bob@10.0.0.2:5080 SIP/2.0" CRLF VIA_A MF70
           "Route: <sip:[2001:DB8:0::5]:5070;transport=tcp;lr>" CRLF TO_B
           FROM_A CID "CSeq: 3 BYE" CRLF CL0,
     .verdict = SIPD_V_SEND,
     .out = "BYE sip:bob@10.0.0.2:5080 SIP/2.0" CRLF ADV_RR ADV_VIA VIA_A MF69
            TO_B FROM_A CID "CSeq: 3 BYE" CRLF CL0,
     .dst = "10.0.0.2:5080",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "as: the advertised name on another port is not us",
     .cfg = &t_cfg_adv,
     .in = "BYE sip:bob@10.0.0.2:5080 SIP/2.0" CRLF VIA_A MF70
           "Route: <sip:10.0.0.3;lr>" CRLF
           "Route: <sip:sip.example.com:5070;lr>" CRLF TO_B FROM_A CID
           "CSeq: 3 BYE" CRLF CL0,
     .verdict = SIPD_V_SEND,
     .out = "BYE sip:bob@10.0.0.2:5080 SIP/2.0" CRLF ADV_RR ADV_VIA VIA_A MF69
            "Route: <sip:10.0.0.3;lr>" CRLF
            "Route: <sip:sip.example.com:5070;lr>" CRLF TO_B FROM_A CID
            "CSeq: 3 BYE" CRLF CL0,
     .dst = "10.0.0.3:5060",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "as: maddr naming the advertised name removed (16.4)",
     .cfg = &t_cfg_adv,
     .in = "OPTIONS sip:bob@10.0.0.2;maddr=sip.example.com SIP/2.0" CRLF
           VIA_A MF70 TO_B FROM_A CID "CSeq: 1 OPTIONS" CRLF CL0,
     .verdict = SIPD_V_SEND,
     .out = "OPTIONS sip:bob@10.0.0.2 SIP/2.0" CRLF ADV_RR ADV_VIA VIA_A MF69
            TO_B FROM_A CID "CSeq: 1 OPTIONS" CRLF CL0,
     .dst = "10.0.0.2:5060",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "as: a response whose top Via names the advertised host",
     .cfg = &t_cfg_adv,
     .in = RESP_HEAD "Via: SIP/2.0/UDP SIP.example.com:5060;branch=" OUR_BR
           CRLF VIA_A RESP_TAIL,
     .peer = "10.0.0.2:5080", .verdict = SIPD_V_SEND,
     .out = RESP_HEAD VIA_A RESP_TAIL, .dst = "10.0.0.1:5062",
     .st = {S(RCV_REPLIES, 1), S(FWD_REPLIES, 1)}},
    {.name = "as: the wildcard IP itself is not us",
     .cfg = &t_cfg_adv,
     .in = RESP_HEAD "Via: SIP/2.0/UDP 0.0.0.0:5060;branch=" OUR_BR CRLF
           VIA_A RESP_TAIL,
     .peer = "10.0.0.2:5080", .verdict = SIPD_V_DROP,
     .st = {S(RCV_REPLIES, 1), S(DROP_REPLIES, 1)}},
};

/* ------------------------------------------------------------------ */

static const struct t_case t_fwd_cases[] = {
    {.name = "INVITE to an IP literal: Via, Max-Forwards, rest untouched",
     .in = INV_A, .verdict = SIPD_V_SEND, .out = INV_A_FWD,
     .dst = "10.0.0.2:5080", .out_sock = 0,
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "NAT: rport filled, received added (RFC 3581)",
     .in = RL_INV VIA_NAT MF70 TAIL_INV, .peer = "203.0.113.7:40000",
     .sock = 1, .verdict = SIPD_V_SEND,
     .out = RL_INV VIA_US2 VIA_NAT_FIXED MF69 TAIL_INV,
     .dst = "10.0.0.2:5080", .out_sock = 1,
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "sent-by is a name: received added (18.2.1)",
     .in = RL_INV "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKn"
           CRLF MF70 TAIL_INV,
     .peer = "10.0.0.1:5060", .verdict = SIPD_V_SEND,
     .out = RL_INV VIA_US "Via: SIP/2.0/UDP pc33.atlanta.example.com;"
            "branch=z9hG4bKn;received=10.0.0.1" CRLF MF69 TAIL_INV,
     .dst = "10.0.0.2:5080",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "no Max-Forwards: 70 added after the last Via",
     .in = RL_INV VIA_A "Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKuac" CRLF
           TAIL_INV,
     .verdict = SIPD_V_SEND,
     .out = RL_INV VIA_US VIA_A "Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKuac"
            CRLF MF70 TAIL_INV,
     .dst = "10.0.0.2:5080",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "compact Via with two via-parms, odd spacing kept",
     .in = RL_INV "v: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKc1 , "
           "SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKc0" CRLF
           "Max-Forwards:   10" CRLF "subject:  hi  there " CRLF TAIL_INV,
     .peer = "10.0.0.7:5062", .verdict = SIPD_V_SEND,
     .out = RL_INV VIA_US "v: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKc1;"
            "received=10.0.0.7 , SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKc0" CRLF
            "Max-Forwards:   9" CRLF "subject:  hi  there " CRLF TAIL_INV,
     .dst = "10.0.0.2:5080",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "Record-Route on top when there is none",
     .cfg = &t_cfg_rr, .in = INV_A, .verdict = SIPD_V_SEND,
     .out = RL_INV "Record-Route: <sip:127.0.0.1:5060;lr>" CRLF VIA_US VIA_A
            MF69 TAIL_INV,
     .dst = "10.0.0.2:5080",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "Record-Route first of the existing ones",
     .cfg = &t_cfg_rr,
     .in = RL_INV VIA_A MF70 "Record-Route: <sip:p1.example.com;lr>" CRLF
           TAIL_INV,
     .verdict = SIPD_V_SEND,
     .out = RL_INV VIA_US VIA_A MF69 "Record-Route: <sip:127.0.0.1:5060;lr>"
            CRLF "Record-Route: <sip:p1.example.com;lr>" CRLF TAIL_INV,
     .dst = "10.0.0.2:5080",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "REGISTER is not record-routed",
     .cfg = &t_cfg_rr,
     .in = "REGISTER sip:10.0.0.2 SIP/2.0" CRLF VIA_A MF70 TO_B FROM_A CID
           "CSeq: 1 REGISTER" CRLF CL0,
     .verdict = SIPD_V_SEND,
     .out = "REGISTER sip:10.0.0.2 SIP/2.0" CRLF VIA_US VIA_A MF69 TO_B
            FROM_A CID "CSeq: 1 REGISTER" CRLF CL0,
     .dst = "10.0.0.2:5060",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "loose route: our element popped, next Route is the hop",
     .in = RL_INV VIA_A MF70
           "Route: <sip:127.0.0.1;lr>, <sip:10.0.0.3:5090;lr>" CRLF TAIL_INV,
     .verdict = SIPD_V_SEND,
     .out = RL_INV VIA_US VIA_A MF69 "Route: <sip:10.0.0.3:5090;lr>" CRLF
            TAIL_INV,
     .dst = "10.0.0.3:5090",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "loose route: alias (any case), whole header popped",
     .in = RL_INV VIA_A MF70 "Route: <sip:PROXY.Example.COM;lr>" CRLF
           "Route: <sip:10.0.0.3:5090;lr>" CRLF TAIL_INV,
     .verdict = SIPD_V_SEND,
     .out = RL_INV VIA_US VIA_A MF69 "Route: <sip:10.0.0.3:5090;lr>" CRLF
            TAIL_INV,
     .dst = "10.0.0.3:5090",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "loose route: second listen socket popped, RURI is the hop",
     .in = RL_INV VIA_A MF70 "Route: <sip:127.0.0.2:5070;lr>" CRLF TAIL_INV,
     .sock = 1, .verdict = SIPD_V_SEND,
     .out = RL_INV VIA_US2 VIA_A MF69 TAIL_INV, .dst = "10.0.0.2:5080",
     .out_sock = 1, .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "Route to 127.0.0.2 port 5060 is not us",
     .in = RL_INV VIA_A MF70 "Route: <sip:127.0.0.2;lr>" CRLF TAIL_INV,
     .verdict = SIPD_V_SEND,
     .out = RL_INV VIA_US VIA_A MF69 "Route: <sip:127.0.0.2;lr>" CRLF
            TAIL_INV,
     .dst = "127.0.0.2:5060",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "strict next hop: RURI to the end of the Route set (16.6.6)",
     .in = RL_INV VIA_A MF70
           "Route: <sip:10.0.0.3:5090>, <sip:10.0.0.4;lr>" CRLF TAIL_INV,
     .verdict = SIPD_V_SEND,
     .out = "INVITE sip:10.0.0.3:5090 SIP/2.0" CRLF VIA_US VIA_A MF69
            "Route: <sip:10.0.0.4;lr>" CRLF
            "Route: <sip:bob@10.0.0.2:5080>" CRLF TAIL_INV,
     .dst = "10.0.0.3:5090",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "RURI is our Record-Route: strict router before us (16.4)",
     .in = "INVITE sip:127.0.0.1:5060;lr SIP/2.0" CRLF VIA_A MF70
           "Route: <sip:10.0.0.3:5090;lr>, <sip:bob@10.0.0.2:5080>" CRLF
           TAIL_INV,
     .verdict = SIPD_V_SEND,
     .out = RL_INV VIA_US VIA_A MF69 "Route: <sip:10.0.0.3:5090;lr>" CRLF
            TAIL_INV,
     .dst = "10.0.0.3:5090",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "RURI is our Record-Route, last Route popped, ours next",
     .in = "BYE sip:127.0.0.2:5070;lr SIP/2.0" CRLF VIA_A MF70
           "Route: <sip:127.0.0.1;lr>" CRLF "Route: <sip:bob@10.0.0.2>" CRLF
           TO_B FROM_A CID "CSeq: 3 BYE" CRLF CL0,
     .verdict = SIPD_V_SEND,
     .out = "BYE sip:bob@10.0.0.2 SIP/2.0" CRLF VIA_US VIA_A MF69 TO_B
            FROM_A CID "CSeq: 3 BYE" CRLF CL0,
     .dst = "10.0.0.2:5060",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "host name: resolve, lower-cased, no port, no transport",
     .in = "INVITE sip:bob@Biloxi.Example.COM SIP/2.0" CRLF VIA_A MF70
           TAIL_INV,
     .verdict = SIPD_V_RESOLVE,
     .out = "INVITE sip:bob@Biloxi.Example.COM SIP/2.0" CRLF VIA_US VIA_A
            MF69 TAIL_INV,
     .rname = "biloxi.example.com", .rport = 0, .rproto = 0, .out_sock = 0,
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "host name with port and ;transport=tcp: TCP Via",
     .in = "INVITE sip:bob@biloxi.example.com:5070;transport=tcp SIP/2.0"
           CRLF VIA_A MF70 TAIL_INV,
     .verdict = SIPD_V_RESOLVE,
     .out = "INVITE sip:bob@biloxi.example.com:5070;transport=tcp SIP/2.0"
            CRLF VIA_US_TCP VIA_A MF69 TAIL_INV,
     .rname = "biloxi.example.com", .rport = 5070, .rproto = TCP,
     .out_sock = 3, .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "IPv6 literal: IPv6 socket, bracketed Via",
     .in = "INVITE sip:bob@[2001:db8::1]:5070 SIP/2.0" CRLF VIA_A MF70
           TAIL_INV,
     .verdict = SIPD_V_SEND,
     .out = "INVITE sip:bob@[2001:db8::1]:5070 SIP/2.0" CRLF VIA_US6 VIA_A
            MF69 TAIL_INV,
     .dst = "[2001:db8::1]:5070", .out_sock = 2,
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "IP literal over TCP: TCP socket, double RR (RFC 5658)",
     .cfg = &t_cfg_rr,
     .in = "INVITE sip:bob@10.0.0.2;transport=TCP SIP/2.0" CRLF VIA_A MF70
           TAIL_INV,
     .verdict = SIPD_V_SEND,
     .out = "INVITE sip:bob@10.0.0.2;transport=TCP SIP/2.0" CRLF
            RR2_TCP RR2_UDP VIA_US_TCP VIA_A MF69 TAIL_INV,
     .dst = "10.0.0.2:5060", .out_sock = 3, .out_proto = TCP,
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "maddr overrides the host",
     .in = "INVITE sip:bob@biloxi.example.com;maddr=10.0.0.9 SIP/2.0" CRLF
           VIA_A MF70 TAIL_INV,
     .verdict = SIPD_V_SEND,
     .out = "INVITE sip:bob@biloxi.example.com;maddr=10.0.0.9 SIP/2.0" CRLF
            VIA_US VIA_A MF69 TAIL_INV,
     .dst = "10.0.0.9:5060",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "request over TCP (Content-Length required) to UDP",
     .in = INV_A, .proto = TCP, .sock = 3, .verdict = SIPD_V_SEND,
     /* our Via carries the connection id (77) for the response */
     .out = RL_INV "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=@B@;cid=4d" CRLF
            VIA_A MF69 TAIL_INV,
     .dst = "10.0.0.2:5080", .out_sock = 0,
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "CANCEL forwarded like its INVITE",
     .in = "CANCEL sip:bob@10.0.0.2:5080 SIP/2.0" CRLF VIA_A MF70 TO_B FROM_A
           CID "CSeq: 2 CANCEL" CRLF CL0,
     .verdict = SIPD_V_SEND,
     .out = "CANCEL sip:bob@10.0.0.2:5080 SIP/2.0" CRLF VIA_US VIA_A MF69
            TO_B FROM_A CID "CSeq: 2 CANCEL" CRLF CL0,
     .dst = "10.0.0.2:5080",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "UDP request without Content-Length leaves over TCP with one",
     .in = "INVITE sip:bob@10.0.0.2;transport=tcp SIP/2.0" CRLF VIA_A MF70
           TO_B FROM_A CID CSEQ_INV "Content-Type: application/sdp" CRLF
           CRLF "v=0" CRLF,
     .verdict = SIPD_V_SEND,
     .out = "INVITE sip:bob@10.0.0.2;transport=tcp SIP/2.0" CRLF VIA_US_TCP
            VIA_A MF69 TO_B FROM_A CID CSEQ_INV
            "Content-Type: application/sdp" CRLF "Content-Length: 5" CRLF
            CRLF "v=0" CRLF,
     .dst = "10.0.0.2:5060", .out_sock = 3, .out_proto = TCP,
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
    {.name = "bytes after Content-Length in a datagram are dropped (18.3)",
     .in = INV_A "garbage", .verdict = SIPD_V_SEND, .out = INV_A_FWD,
     .dst = "10.0.0.2:5080",
     .st = {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}},
};

/* The replies: every one with a To tag made up, sent to the sender. */
#define R_NAT(code_reason, cseq)                                           \
    "SIP/2.0 " code_reason CRLF VIA_NAT_FIXED FROM_A TO_B_TAG CID          \
    "CSeq: " cseq CRLF "Content-Length: 0" CRLF CRLF
#define R_A(code_reason, cseq)                                             \
    "SIP/2.0 " code_reason CRLF VIA_A FROM_A TO_B_TAG CID "CSeq: " cseq    \
    CRLF "Content-Length: 0" CRLF CRLF
#define ERR_ST(extra)                                                      \
    {S(RCV_REQUESTS, 1), S(ERR_REQUESTS, 1), S(SENT_REPLIES, 1), extra}
#define ERR_DROP(extra)                                                    \
    {S(RCV_REQUESTS, 1), S(ERR_REQUESTS, 1), S(DROP_REQUESTS, 1), extra}
#define NONE {0, 0}
#define SIPS_REFUSED {STAT_SIPD_SIPS_REFUSED, 1}

/*
 * TLS (t_cfg_tls: 0 udp 127.0.0.1:5060, 1 tcp 127.0.0.1:5060, 2 tls
 * 127.0.0.1:5061, record_route = 1): Via SIP/2.0/TLS, Record-Route
 * ;transport=tls (sips: for a sips: Request-URI), the connection id in
 * our Via, and no sips: request ever leaves over another transport.
 */
#define VIA_US_TLS "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=@B@" CRLF
#define RR2_TLS "Record-Route: <sip:127.0.0.1:5061;transport=tls;r2=on;lr>" \
    CRLF
#define RR2_SIPS "Record-Route: <sips:127.0.0.1:5061;r2=on;lr>" CRLF
#define INV_SIPS "INVITE sips:bob@10.0.0.2:5081 SIP/2.0" CRLF
#define FWD_ST {S(RCV_REQUESTS, 1), S(FWD_REQUESTS, 1)}

static const struct t_case t_tls_cases[] = {
    {.name = "TLS: UDP in, sips: out over TLS, sips: Record-Route on top",
     .cfg = &t_cfg_tls, .in = INV_SIPS VIA_A MF70 TAIL_INV,
     .verdict = SIPD_V_SEND,
     .out = INV_SIPS RR2_SIPS RR2_UDP VIA_US_TLS VIA_A MF69 TAIL_INV,
     .dst = "10.0.0.2:5081", .out_sock = 2, .out_proto = TLS, .st = FWD_ST},
    {.name = "TLS: sips: without a port goes to 5061",
     .cfg = &t_cfg_tls,
     .in = "INVITE sips:bob@10.0.0.2 SIP/2.0" CRLF VIA_A MF70 TAIL_INV,
     .verdict = SIPD_V_SEND,
     .out = "INVITE sips:bob@10.0.0.2 SIP/2.0" CRLF RR2_SIPS RR2_UDP
            VIA_US_TLS VIA_A MF69 TAIL_INV,
     .dst = "10.0.0.2:5061", .out_sock = 2, .out_proto = TLS, .st = FWD_ST},
    {.name = "TLS: sip: ;transport=tls out, Record-Route ;transport=tls",
     .cfg = &t_cfg_tls,
     .in = "INVITE sip:bob@10.0.0.2:5081;transport=tls SIP/2.0" CRLF VIA_A
           MF70 TAIL_INV,
     .verdict = SIPD_V_SEND,
     .out = "INVITE sip:bob@10.0.0.2:5081;transport=tls SIP/2.0" CRLF
            RR2_TLS RR2_UDP VIA_US_TLS VIA_A MF69 TAIL_INV,
     .dst = "10.0.0.2:5081", .out_sock = 2, .out_proto = TLS, .st = FWD_ST},
    {.name = "TLS: TLS in, UDP out: cid in our Via, tls Record-Route below",
     .cfg = &t_cfg_tls, .in = INV_A, .proto = TLS, .sock = 2,
     .verdict = SIPD_V_SEND,
     .out = RL_INV RR2_UDP RR2_TLS
            "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=@B@;cid=4d" CRLF VIA_A
            MF69 TAIL_INV,
     .dst = "10.0.0.2:5080", .out_sock = 0, .st = FWD_ST},
    {.name = "TLS: TLS in, TLS out: one Record-Route, cid kept",
     .cfg = &t_cfg_tls, .in = INV_SIPS VIA_A MF70 TAIL_INV, .proto = TLS,
     .sock = 2, .verdict = SIPD_V_SEND,
     .out = INV_SIPS "Record-Route: <sips:127.0.0.1:5061;lr>" CRLF
            "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=@B@;cid=4d" CRLF VIA_A
            MF69 TAIL_INV,
     .dst = "10.0.0.2:5081", .out_sock = 2, .out_proto = TLS, .st = FWD_ST},
    {.name = "TLS: sips: Request-URI, sip: Route ;transport=udp: still TLS",
     .cfg = &t_cfg_tls,
     .in = INV_SIPS VIA_A MF70
           "Route: <sip:10.0.0.3:5090;transport=udp;lr>" CRLF TAIL_INV,
     .verdict = SIPD_V_SEND,
     .out = INV_SIPS RR2_SIPS RR2_UDP VIA_US_TLS VIA_A MF69
            "Route: <sip:10.0.0.3:5090;transport=udp;lr>" CRLF TAIL_INV,
     .dst = "10.0.0.3:5090", .out_sock = 2, .out_proto = TLS, .st = FWD_ST},
    {.name = "TLS: sips: to a name: resolved as sips, Via TLS",
     .cfg = &t_cfg_tls,
     .in = "INVITE sips:bob@biloxi.example.com SIP/2.0" CRLF VIA_A MF70
           TAIL_INV,
     .verdict = SIPD_V_RESOLVE,
     .out = "INVITE sips:bob@biloxi.example.com SIP/2.0" CRLF RR2_SIPS
            RR2_UDP VIA_US_TLS VIA_A MF69 TAIL_INV,
     .rname = "biloxi.example.com", .rport = 0, .rproto = 0, .out_sock = 2,
     .st = FWD_ST},
    {.name = "TLS: sips: to IPv6, TLS on IPv4 only: 480, no downgrade",
     .cfg = &t_cfg_tls,
     .in = "INVITE sips:bob@[2001:db8::1] SIP/2.0" CRLF VIA_A MF70 TAIL_INV,
     .verdict = SIPD_V_SEND, .status = 480,
     .out = "SIP/2.0 480 Temporarily Unavailable" CRLF VIA_A FROM_A TO_B_TAG
            CID "CSeq: 2 INVITE" CRLF
            "Warning: 380 sipstage \"SIPS Not Allowed\"" CRLF
            "Content-Length: 0" CRLF CRLF,
     .dst = "10.0.0.1:5062", .st = ERR_ST(SIPS_REFUSED)},
    {.name = "TLS: a response to our TLS Via goes back on its connection",
     .cfg = &t_cfg_tls, .peer = "10.0.0.2:5081",
     .in = RESP_HEAD "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=" OUR_BR CRLF
           "Via: SIP/2.0/TLS 10.0.0.1:5062;branch=z9hG4bK74bf9;"
           "received=10.0.0.1;rport=40001" CRLF RESP_TAIL,
     .verdict = SIPD_V_SEND,
     .out = RESP_HEAD "Via: SIP/2.0/TLS 10.0.0.1:5062;branch=z9hG4bK74bf9;"
            "received=10.0.0.1;rport=40001" CRLF RESP_TAIL,
     .dst = "10.0.0.1:40001", .out_sock = 2, .out_proto = TLS,
     .st = {S(RCV_REPLIES, 1), S(FWD_REPLIES, 1)}},
};

static const struct t_case t_reply_cases[] = {
    {.name = "483 to OPTIONS with Max-Forwards 0, NAT sender",
     .in = "OPTIONS sip:bob@10.0.0.2 SIP/2.0" CRLF VIA_NAT
           "Max-Forwards: 0" CRLF TO_B FROM_A CID "CSeq: 1 OPTIONS" CRLF CL0,
     .peer = "203.0.113.7:40000", .verdict = SIPD_V_SEND, .status = 483,
     .out = R_NAT("483 Too Many Hops", "1 OPTIONS"),
     .dst = "203.0.113.7:40000", .st = ERR_ST(NONE)},
    {.name = "483 to INVITE, no rport: sent-by port",
     .in = RL_INV VIA_A "Max-Forwards: 0" CRLF TAIL_INV,
     .peer = "10.0.0.1:33333", .sock = 1, .verdict = SIPD_V_SEND,
     .status = 483,
     .out = "SIP/2.0 483 Too Many Hops" CRLF
            "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK74bf9" CRLF FROM_A
            TO_B_TAG CID CSEQ_INV CL0,
     .dst = "10.0.0.1:5062", .out_sock = 1, .st = ERR_ST(NONE)},
    {.name = "483 over TCP: same connection",
     .in = RL_INV VIA_A "Max-Forwards: 0" CRLF TAIL_INV, .proto = TCP,
     .sock = 3, .peer = "10.0.0.1:33333", .verdict = SIPD_V_SEND,
     .status = 483,
     .out = "SIP/2.0 483 Too Many Hops" CRLF
            "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK74bf9" CRLF FROM_A
            TO_B_TAG CID CSEQ_INV CL0,
     .dst = "10.0.0.1:33333", .out_sock = 3, .out_proto = TCP,
     .st = ERR_ST(NONE)},
    {.name = "ACK with Max-Forwards 0 is never answered",
     .in = "ACK sip:bob@10.0.0.2:5080 SIP/2.0" CRLF VIA_A "Max-Forwards: 0"
           CRLF TO_B FROM_A CID "CSeq: 2 ACK" CRLF CL0,
     .verdict = SIPD_V_DROP, .st = ERR_DROP(NONE)},
    {.name = "400 Missing Call-ID (parser's reason), sender via kept",
     .in = RL_INV VIA_NAT MF70 TO_B FROM_A CSEQ_INV CL0,
     .peer = "203.0.113.7:40000", .verdict = SIPD_V_SEND, .status = 400,
     .out = "SIP/2.0 400 Missing Call-ID" CRLF VIA_NAT_FIXED FROM_A TO_B_TAG
            CSEQ_INV CL0,
     .dst = "203.0.113.7:40000", .st = ERR_ST(S(BAD_MSG_HDR, 1))},
    {.name = "400 Bad CSeq: compact headers and every Via copied",
     .in = RL_INV "v: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKx, "
           "SIP/2.0/UDP 10.0.0.8;branch=z9hG4bKy" CRLF
           "v: SIP/2.0/UDP 10.0.0.9" CRLF "t: <sip:bob@b.example.com>" CRLF
           "f: <sip:a@a.example.com>;tag=1" CRLF "i: abc" CRLF
           "CSeq: two INVITE" CRLF CL0,
     .verdict = SIPD_V_SEND, .status = 400,
     .out = "SIP/2.0 400 Bad CSeq" CRLF
            "v: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKx, "
            "SIP/2.0/UDP 10.0.0.8;branch=z9hG4bKy" CRLF
            "v: SIP/2.0/UDP 10.0.0.9" CRLF "f: <sip:a@a.example.com>;tag=1"
            CRLF "t: <sip:bob@b.example.com>;tag=@T@" CRLF "i: abc" CRLF
            "CSeq: two INVITE" CRLF CL0,
     .dst = "10.0.0.1:5062", .st = ERR_ST(S(BAD_MSG_HDR, 1))},
    {.name = "400 Content-Length beyond the datagram (18.3)",
     .in = RL_INV VIA_A MF70 TO_B FROM_A CID CSEQ_INV
           "Content-Length: 100" CRLF CRLF "v=0" CRLF,
     .verdict = SIPD_V_SEND, .status = 400,
     .out = R_A("400 Bad Content-Length", "2 INVITE"),
     .dst = "10.0.0.1:5062", .st = ERR_ST(S(BAD_MSG_HDR, 1))},
    {.name = "400 over TCP without Content-Length",
     .in = RL_INV VIA_A MF70 TO_B FROM_A CID CSEQ_INV CRLF, .proto = TCP,
     .sock = 3, .verdict = SIPD_V_SEND, .status = 400,
     .out = R_A("400 Missing Content-Length", "2 INVITE"),
     .dst = "10.0.0.1:5062", .out_sock = 3, .out_proto = TCP,
     .st = ERR_ST(S(BAD_MSG_HDR, 1))},
    {.name = "malformed without a Via: dropped",
     .in = RL_INV MF70 TO_B FROM_A CID CSEQ_INV CL0,
     .verdict = SIPD_V_DROP, .st = ERR_DROP(S(BAD_MSG_HDR, 1))},
    {.name = "malformed ACK: dropped",
     .in = "ACK sip:bob@10.0.0.2 SIP/2.0" CRLF VIA_A TO_B FROM_A
           "CSeq: 2 ACK" CRLF CL0,
     .verdict = SIPD_V_DROP, .st = ERR_DROP(S(BAD_MSG_HDR, 1))},
    {.name = "garbage: dropped", .in = "hello, world",
     .verdict = SIPD_V_DROP, .st = ERR_DROP(S(BAD_MSG_HDR, 1))},
    {.name = "CRLF keep-alive: dropped, not counted", .in = CRLF CRLF,
     .verdict = SIPD_V_DROP, .st = {NONE}},
    {.name = "505 to SIP/7.0",
     .in = "INVITE sip:bob@10.0.0.2 SIP/7.0" CRLF VIA_A MF70 TAIL_INV,
     .verdict = SIPD_V_SEND, .status = 505,
     .out = R_A("505 Version Not Supported", "2 INVITE"),
     .dst = "10.0.0.1:5062", .st = ERR_ST(NONE)},
    {.name = "416 to tel: (no gateway)",
     .in = "INVITE tel:+15551234567 SIP/2.0" CRLF VIA_A MF70 TAIL_INV,
     .verdict = SIPD_V_SEND, .status = 416,
     .out = R_A("416 Unsupported URI Scheme", "2 INVITE"),
     .dst = "10.0.0.1:5062", .st = ERR_ST(S(BAD_URIS_RCVD, 1))},
    {.name = "416 to an unknown scheme (RFC 4475 3.3.3)",
     .in = "OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0" CRLF VIA_A MF70
           TO_B FROM_A CID "CSeq: 1 OPTIONS" CRLF CL0,
     .verdict = SIPD_V_SEND, .status = 416,
     .out = R_A("416 Unsupported URI Scheme", "1 OPTIONS"),
     .dst = "10.0.0.1:5062", .st = ERR_ST(S(BAD_URIS_RCVD, 1))},
    {.name = "420 with Unsupported for each Proxy-Require",
     .in = "OPTIONS sip:bob@10.0.0.2 SIP/2.0" CRLF VIA_A MF70 TO_B FROM_A CID
           "CSeq: 1 OPTIONS" CRLF "Proxy-Require: foo, bar" CRLF
           "Require: baz" CRLF "Proxy-Require: qux" CRLF CL0,
     .verdict = SIPD_V_SEND, .status = 420,
     .out = "SIP/2.0 420 Bad Extension" CRLF VIA_A FROM_A TO_B_TAG CID
            "CSeq: 1 OPTIONS" CRLF "Unsupported: foo, bar" CRLF
            "Unsupported: qux" CRLF CL0,
     .dst = "10.0.0.1:5062", .st = ERR_ST(NONE)},
    {.name = "400 CSeq method differs (RFC 4475 3.1.2.17)",
     .in = "OPTIONS sip:bob@10.0.0.2 SIP/2.0" CRLF VIA_A MF70 TO_B FROM_A CID
           "CSeq: 8 INVITE" CRLF CL0,
     .verdict = SIPD_V_SEND, .status = 400,
     .out = R_A("400 CSeq Method Mismatch", "8 INVITE"),
     .dst = "10.0.0.1:5062", .st = ERR_ST(S(BAD_MSG_HDR, 1))},
    {.name = "400 headers in the Request-URI (RFC 4475 3.1.2.11)",
     .in = "INVITE sip:user@10.0.0.2?Route=%3Csip:example.com%3E SIP/2.0"
           CRLF VIA_A MF70 TAIL_INV,
     .verdict = SIPD_V_SEND, .status = 400,
     .out = R_A("400 Bad Request-URI", "2 INVITE"),
     .dst = "10.0.0.1:5062", .st = ERR_ST(S(BAD_URIS_RCVD, 1))},
    {.name = "400 to a broadcast Request-URI",
     .in = "INVITE sip:bob@255.255.255.255 SIP/2.0" CRLF VIA_A MF70 TAIL_INV,
     .verdict = SIPD_V_SEND, .status = 400,
     .out = R_A("400 Bad host", "2 INVITE"), .dst = "10.0.0.1:5062",
     .st = ERR_ST(NONE)},
    {.name = "513 when the forwarded request does not fit",
     .in = INV_A, .cap = sizeof(INV_A) + 10, .verdict = SIPD_V_SEND,
     .status = 513, .out = R_A("513 Message Too Large", "2 INVITE"),
     .dst = "10.0.0.1:5062", .st = ERR_ST(NONE)},
    {.name = "503 no IPv6 socket",
     .cfg = &t_cfg_min,
     .in = "INVITE sip:bob@[2001:db8::1] SIP/2.0" CRLF VIA_A MF70 TAIL_INV,
     .verdict = SIPD_V_SEND, .status = 503,
     .out = R_A("503 No UDP IPv6 listen socket", "2 INVITE"),
     .dst = "10.0.0.1:5062", .st = ERR_ST(NONE)},
    {.name = "503 no TCP socket",
     .cfg = &t_cfg_min,
     .in = "INVITE sip:bob@example.com;transport=tcp SIP/2.0" CRLF VIA_A
           MF70 TAIL_INV,
     .verdict = SIPD_V_SEND, .status = 503,
     .out = R_A("503 No TCP listen socket", "2 INVITE"),
     .dst = "10.0.0.1:5062", .st = ERR_ST(NONE)},
    {.name = "480 sips: no TLS socket (RFC 5630 5.3: no downgrade)",
     .in = "INVITE sips:bob@example.com SIP/2.0" CRLF VIA_A MF70 TAIL_INV,
     .verdict = SIPD_V_SEND, .status = 480,
     .out = "SIP/2.0 480 Temporarily Unavailable" CRLF VIA_A FROM_A TO_B_TAG
            CID "CSeq: 2 INVITE" CRLF
            "Warning: 380 sipstage \"SIPS Not Allowed\"" CRLF
            "Content-Length: 0" CRLF CRLF,
     .dst = "10.0.0.1:5062",
     .st = ERR_ST(SIPS_REFUSED)},
    {.name = "200 to OPTIONS for us (no Route)",
     .in = "OPTIONS sip:127.0.0.1 SIP/2.0" CRLF VIA_A MF70 TO_B FROM_A CID
           "CSeq: 1 OPTIONS" CRLF CL0,
     .verdict = SIPD_V_SEND, .status = 200, .out = R_A("200 OK", "1 OPTIONS"),
     .dst = "10.0.0.1:5062",
     .st = {S(RCV_REQUESTS, 1), S(SENT_REPLIES, 1)}},
    {.name = "404 to INVITE for a user here after our Route is popped",
     .in = "INVITE sip:bob@proxy.example.com SIP/2.0" CRLF VIA_A MF70
           "Route: <sip:127.0.0.1;lr>" CRLF TAIL_INV,
     .verdict = SIPD_V_SEND, .status = 404,
     .out = R_A("404 Not Found", "2 INVITE"), .dst = "10.0.0.1:5062",
     .st = ERR_ST(NONE)},
    {.name = "ACK for us: dropped",
     .in = "ACK sip:bob@127.0.0.1 SIP/2.0" CRLF VIA_A MF70 TO_B FROM_A CID
           "CSeq: 2 ACK" CRLF CL0,
     .verdict = SIPD_V_DROP, .st = ERR_DROP(NONE)},
    {.name = "416 to a tel: Route",
     .in = RL_INV VIA_A MF70 "Route: <tel:+15551234567>" CRLF TAIL_INV,
     .verdict = SIPD_V_SEND, .status = 416,
     .out = R_A("416 Unsupported URI Scheme", "2 INVITE"),
     .dst = "10.0.0.1:5062", .st = ERR_ST(NONE)},
    {.name = "400 to a bad second Route once ours is popped",
     .in = RL_INV VIA_A MF70 "Route: <sip:127.0.0.1;lr>, <sip:a b>" CRLF
           TAIL_INV,
     .verdict = SIPD_V_SEND, .status = 400,
     .out = R_A("400 Bad Route", "2 INVITE"), .dst = "10.0.0.1:5062",
     /* LWS inside <> is a syntax error the parser sees (RFC 4475
      * 3.1.2.14) */
     .st = ERR_ST(S(BAD_MSG_HDR, 1))},
};

static const struct t_case t_resp_cases[] = {
    {.name = "200 OK: our Via removed, to the sent-by",
     .in = RESP_HEAD VIA_OURS VIA_A RESP_TAIL, .peer = "10.0.0.2:5080",
     .verdict = SIPD_V_SEND, .out = RESP_HEAD VIA_A RESP_TAIL,
     .dst = "10.0.0.1:5062", .out_sock = 0,
     .st = {S(RCV_REPLIES, 1), S(FWD_REPLIES, 1)}},
    {.name = "200 OK: to received and rport (RFC 3581)",
     .in = RESP_HEAD VIA_OURS VIA_NAT_FIXED RESP_TAIL, .sock = 1,
     .peer = "10.0.0.2:5080", .verdict = SIPD_V_SEND,
     .out = RESP_HEAD VIA_NAT_FIXED RESP_TAIL, .dst = "203.0.113.7:40000",
     .out_sock = 1, .st = {S(RCV_REPLIES, 1), S(FWD_REPLIES, 1)}},
    {.name = "180: received without rport: sent-by port",
     .in = "SIP/2.0 180 Ringing" CRLF VIA_OURS
           "Via: SIP/2.0/UDP 192.168.1.5:5062;received=203.0.113.7" CRLF
           RESP_TAIL,
     .peer = "10.0.0.2:5080", .verdict = SIPD_V_SEND,
     .out = "SIP/2.0 180 Ringing" CRLF
            "Via: SIP/2.0/UDP 192.168.1.5:5062;received=203.0.113.7" CRLF
            RESP_TAIL,
     .dst = "203.0.113.7:5062",
     .st = {S(RCV_REPLIES, 1), S(FWD_REPLIES, 1)}},
    {.name = "received= that is not an IP is ignored",
     .in = "SIP/2.0 180 Ringing" CRLF VIA_OURS
           "Via: SIP/2.0/UDP 10.0.0.1:5062;received=evil.example.com" CRLF
           RESP_TAIL,
     .peer = "10.0.0.2:5080", .verdict = SIPD_V_SEND,
     .out = "SIP/2.0 180 Ringing" CRLF
            "Via: SIP/2.0/UDP 10.0.0.1:5062;received=evil.example.com" CRLF
            RESP_TAIL,
     .dst = "10.0.0.1:5062",
     .st = {S(RCV_REPLIES, 1), S(FWD_REPLIES, 1)}},
    {.name = "100: sent-by without port: 5060; via-parm of a list",
     .in = "SIP/2.0 100 Trying" CRLF
           "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=" OUR_BR
           " ,SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1" CRLF RESP_TAIL,
     .peer = "10.0.0.2:5080", .verdict = SIPD_V_SEND,
     .out = "SIP/2.0 100 Trying" CRLF
            "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1" CRLF RESP_TAIL,
     .dst = "10.0.0.1:5060",
     .st = {S(RCV_REPLIES, 1), S(FWD_REPLIES, 1)}},
    {.name = "sent-by name without received: resolve",
     .in = RESP_HEAD VIA_OURS
           "Via: SIP/2.0/UDP PC33.atlanta.example.com;branch=z9hG4bK2" CRLF
           RESP_TAIL,
     .peer = "10.0.0.2:5080", .verdict = SIPD_V_RESOLVE,
     .out = RESP_HEAD
            "Via: SIP/2.0/UDP PC33.atlanta.example.com;branch=z9hG4bK2" CRLF
            RESP_TAIL,
     .rname = "pc33.atlanta.example.com", .rport = 0, .rproto = UDP,
     .st = {S(RCV_REPLIES, 1), S(FWD_REPLIES, 1)}},
    {.name = "next hop over TCP and IPv6",
     .in = RESP_HEAD VIA_OURS "Via: SIP/2.0/TCP [2001:db8::9]:5062" CRLF
           RESP_TAIL,
     .peer = "10.0.0.2:5080", .verdict = SIPD_V_DROP,
     .st = {S(RCV_REPLIES, 1), S(DROP_REPLIES, 1)}},
    {.name = "next hop over TCP",
     .in = RESP_HEAD VIA_OURS "Via: SIP/2.0/TCP 10.0.0.1:5062" CRLF
           RESP_TAIL,
     .peer = "10.0.0.2:5080", .verdict = SIPD_V_SEND,
     .out = RESP_HEAD "Via: SIP/2.0/TCP 10.0.0.1:5062" CRLF RESP_TAIL,
     .dst = "10.0.0.1:5062", .out_sock = 3, .out_proto = TCP,
     .st = {S(RCV_REPLIES, 1), S(FWD_REPLIES, 1)}},
    {.name = "to TCP without Content-Length: one added (18.3)",
     .in = RESP_HEAD VIA_OURS "Via: SIP/2.0/TCP 10.0.0.1:5062" CRLF
           "To: Bob <sip:bob@biloxi.example.com>;tag=314159" CRLF FROM_A CID
           CSEQ_INV CRLF,
     .peer = "10.0.0.2:5080", .verdict = SIPD_V_SEND,
     .out = RESP_HEAD "Via: SIP/2.0/TCP 10.0.0.1:5062" CRLF
            "To: Bob <sip:bob@biloxi.example.com>;tag=314159" CRLF FROM_A CID
            CSEQ_INV "Content-Length: 0" CRLF CRLF,
     .dst = "10.0.0.1:5062", .out_sock = 3, .out_proto = TCP,
     .st = {S(RCV_REPLIES, 1), S(FWD_REPLIES, 1)}},
    {.name = "next hop IPv6",
     .in = RESP_HEAD "Via: SIP/2.0/UDP [::1]:5060;branch=" OUR_BR CRLF
           "Via: SIP/2.0/UDP [2001:db8::9]:5062" CRLF RESP_TAIL,
     .peer = "[2001:db8::2]:5060", .sock = 2, .verdict = SIPD_V_SEND,
     .out = RESP_HEAD "Via: SIP/2.0/UDP [2001:db8::9]:5062" CRLF RESP_TAIL,
     .dst = "[2001:db8::9]:5062", .out_sock = 2,
     .st = {S(RCV_REPLIES, 1), S(FWD_REPLIES, 1)}},
    {.name = "our branch via an alias sent-by",
     .in = RESP_HEAD "Via: SIP/2.0/UDP proxy.example.com;branch=" OUR_BR
           CRLF VIA_A RESP_TAIL,
     .peer = "10.0.0.2:5080", .verdict = SIPD_V_SEND,
     .out = RESP_HEAD VIA_A RESP_TAIL, .dst = "10.0.0.1:5062",
     .st = {S(RCV_REPLIES, 1), S(FWD_REPLIES, 1)}},
    {.name = "foreign branch: dropped",
     .in = RESP_HEAD "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKabc"
           CRLF VIA_A RESP_TAIL,
     .peer = "10.0.0.2:5080", .verdict = SIPD_V_DROP,
     .st = {S(RCV_REPLIES, 1), S(DROP_REPLIES, 1)}},
    {.name = "our branch, foreign sent-by: dropped",
     .in = RESP_HEAD "Via: SIP/2.0/UDP 10.9.9.9:5060;branch=" OUR_BR CRLF
           VIA_A RESP_TAIL,
     .peer = "10.0.0.2:5080", .verdict = SIPD_V_DROP,
     .st = {S(RCV_REPLIES, 1), S(DROP_REPLIES, 1)}},
    {.name = "only our Via: it was for us, dropped",
     .in = RESP_HEAD VIA_OURS RESP_TAIL, .peer = "10.0.0.2:5080",
     .verdict = SIPD_V_DROP, .st = {S(RCV_REPLIES, 1), S(DROP_REPLIES, 1)}},
    {.name = "next Via is TLS: no socket, dropped",
     .in = RESP_HEAD VIA_OURS "Via: SIP/2.0/TLS 10.0.0.1:5061" CRLF
           RESP_TAIL,
     .peer = "10.0.0.2:5080", .verdict = SIPD_V_DROP,
     .st = {S(RCV_REPLIES, 1), S(DROP_REPLIES, 1)}},
    {.name = "next Via is a broadcast address: dropped (RFC 4475 3.3.10)",
     .in = RESP_HEAD VIA_OURS "Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK3"
           CRLF RESP_TAIL,
     .peer = "10.0.0.2:5080", .verdict = SIPD_V_DROP,
     .st = {S(RCV_REPLIES, 1), S(DROP_REPLIES, 1)}},
    {.name = "malformed response: dropped, never answered",
     .in = RESP_HEAD VIA_OURS VIA_A FROM_A CID CSEQ_INV CL0,
     .peer = "10.0.0.2:5080", .verdict = SIPD_V_DROP,
     .st = {S(RCV_REPLIES, 1), S(ERR_REPLIES, 1)}},
    {.name = "response of SIP/3.0: dropped",
     .in = "SIP/3.0 200 OK" CRLF VIA_OURS VIA_A RESP_TAIL,
     .peer = "10.0.0.2:5080", .verdict = SIPD_V_DROP,
     .st = {S(RCV_REPLIES, 1), S(ERR_REPLIES, 1)}},
};

/* ------------------------------------------------------------------ */

/* t_fwd - route msg (expected to be forwarded); copy out its branch */
static int t_fwd(const char *msg, const char *peer, char *branch,
                 char *bytes, size_t *blen)
{
    struct sipd_route_out out;
    struct stats_slot st;
    const char *b;
    int v;

    v = t_route(&t_cfg, msg, strlen(msg), peer, UDP, 0, 0, &st, &out);
    branch[0] = '\0';
    if (v == SIPD_V_SEND && (b = memmem(out.buf, out.len, "branch=", 7)))
        snprintf(branch, BR_LEN + 1, "%s", b + 7);
    if (bytes != NULL) {
        memcpy(bytes, out.buf, out.len);
        *blen = out.len;
    }
    return v;
}

#define VIA_NC "Via: SIP/2.0/UDP 10.0.0.1:5062" CRLF
#define ACK_TAIL                                                           \
    "To: Bob <sip:bob@biloxi.example.com>;tag=8321234356" CRLF FROM_A CID  \
    "CSeq: 2 ACK" CRLF CL0

/* t_branches - RFC 3261 16.11: what must share a branch, what not */
static void t_branches(void)
{
    char inv[64], b[64], cancel[64], ack[64], ack2[64];

    t_fwd(INV_A, "10.0.0.1:5062", inv, NULL, NULL);
    ok(strlen(inv) == BR_LEN && t_shape(inv, BR_LEN, 1),
       "branch has our shape: %s", inv);
    is_str(inv, "z9hG4bKsSd67b2dac35e43bb9089673b5",
           "branch value is stable across builds");
    t_fwd(INV_A, "10.0.0.1:5062", b, NULL, NULL);
    is_str(b, inv, "retransmission: same branch");
    t_fwd("CANCEL sip:bob@10.0.0.2:5080 SIP/2.0" CRLF VIA_A MF70 TO_B FROM_A
          CID "CSeq: 2 CANCEL" CRLF CL0,
          "10.0.0.1:5062", cancel, NULL, NULL);
    is_str(cancel, inv, "CANCEL: the branch of its INVITE");
    t_fwd("ACK sip:bob@10.0.0.2:5080 SIP/2.0" CRLF VIA_A MF70 ACK_TAIL,
          "10.0.0.1:5062", ack, NULL, NULL);
    is_str(ack, inv, "non-2xx ACK: the branch of its INVITE");
    t_fwd("ACK sip:bob@10.0.0.2:5080 SIP/2.0" CRLF
          "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK74bfa" CRLF MF70
          ACK_TAIL,
          "10.0.0.1:5062", ack2, NULL, NULL);
    ok(strcmp(ack2, inv) != 0, "2xx ACK (new client branch): another one");
    t_fwd(RL_INV "Via: SIP/2.0/UDP 10.0.0.11:5062;branch=z9hG4bK74bf9" CRLF
          MF70 TAIL_INV,
          "10.0.0.11:5062", b, NULL, NULL);
    ok(strcmp(b, inv) != 0, "same client branch, other sent-by: another");
    t_fwd(INV_A, "10.0.0.99:1234", b, NULL, NULL);
    is_str(b, inv, "same request from another source: same branch");
}

/* t_branches_2543 - no magic cookie: hashed request fields */
static void t_branches_2543(void)
{
    char inv[64], b[64];

    t_fwd(RL_INV VIA_NC MF70 TAIL_INV, "10.0.0.1:5062", inv, NULL, NULL);
    ok(t_shape(inv, BR_LEN, 1), "RFC 2543 INVITE: our branch %s", inv);
    t_fwd("CANCEL sip:bob@10.0.0.2:5080 SIP/2.0" CRLF VIA_NC MF70 TO_B
          FROM_A CID "CSeq: 2 CANCEL" CRLF CL0,
          "10.0.0.1:5062", b, NULL, NULL);
    is_str(b, inv, "RFC 2543 CANCEL: the branch of its INVITE");
    t_fwd("ACK sip:bob@10.0.0.2:5080 SIP/2.0" CRLF VIA_NC MF70 ACK_TAIL,
          "10.0.0.1:5062", b, NULL, NULL);
    is_str(b, inv, "RFC 2543 non-2xx ACK (To tag): the INVITE's branch");
    t_fwd(RL_INV VIA_NC MF70 TO_B FROM_A CID "CSeq: 3 INVITE" CRLF CONTACT_A
          BODY, "10.0.0.1:5062", b, NULL, NULL);
    ok(strcmp(b, inv) != 0, "RFC 2543 next CSeq: another branch");
    t_fwd("ACK sip:bob@10.0.0.7 SIP/2.0" CRLF VIA_NC MF70 ACK_TAIL,
          "10.0.0.1:5062", b, NULL, NULL);
    ok(strcmp(b, inv) != 0, "RFC 2543 2xx ACK to the Contact: another");
    t_fwd(RL_INV VIA_NC MF70 TO_B
          "From: Alice <sip:alice@atlanta.example.com>;tag=other" CRLF CID
          CSEQ_INV CONTACT_A BODY, "10.0.0.1:5062", b, NULL, NULL);
    ok(strcmp(b, inv) != 0, "RFC 2543 other From tag: another branch");
}

/* t_insert_via - a proxy on the way back adds its Via on top */
static size_t t_insert_via(char *dst, const char *src, size_t len,
                           const char *via)
{
    const char *eol = memchr(src, '\n', len);
    size_t head = (size_t)(eol + 1 - src);

    memcpy(dst, src, head);
    memcpy(dst + head, via, strlen(via));
    memcpy(dst + head + strlen(via), src + head, len - head);
    return len + strlen(via);
}

#define LOOP_HEAD                                                          \
    "SIP/2.0 482 Loop Detected" CRLF "Via: SIP/2.0/UDP 10.0.0.50;"

/* t_loops - RFC 3261 16.3 step 4: loop 482, spiral forwarded */
static void t_loops(void)
{
    static char first[4096], back[4096], spiral[4096];
    struct sipd_route_out out;
    struct stats_slot st;
    char br[64], br2[64];
    size_t n, m;
    int v;

    t_fwd(INV_A, "10.0.0.1:5062", br, first, &n);
    m = t_insert_via(back, first, n,
                     "Via: SIP/2.0/UDP 10.0.0.50;branch=z9hG4bKp2" CRLF);
    v = t_route(&t_cfg, back, m, "10.0.0.50:5060", UDP, 0, 0, &st, &out);
    is_int(v, SIPD_V_SEND, "loop: answered");
    is_int(out.status, 482, "loop: 482");
    ok(out.len > sizeof(LOOP_HEAD) - 1
           && memcmp(out.buf, LOOP_HEAD, sizeof(LOOP_HEAD) - 1) == 0,
       "loop: status line and the looping proxy's Via first");
    t_stats(&st, (struct t_stat[6]){S(RCV_REQUESTS, 1), S(ERR_REQUESTS, 1),
                                    S(SENT_REPLIES, 1)},
            "loop");
    /* The proxy retargeted: a spiral, forwarded with a new branch. */
    memcpy(spiral, "INVITE sip:carol@10.0.0.2:5080", 30);
    memcpy(spiral + 30, back + 28, m - 28);
    v = t_route(&t_cfg, spiral, m + 2, "10.0.0.50:5060", UDP, 0, 0, &st,
                &out);
    is_int(v, SIPD_V_SEND, "spiral (new Request-URI): forwarded");
    is_int(out.status, 0, "spiral: not a local reply");
    br2[0] = '\0';
    if (out.len > 60)
        snprintf(br2, BR_LEN + 1, "%s", (char *)memmem(out.buf, out.len,
                                                       "branch=", 7) + 7);
    ok(t_shape(br2, BR_LEN, 1) && strcmp(br2, br) != 0,
       "spiral: another branch %s", br2);
}

/* t_roundtrip - the response to a forwarded request finds its way */
static void t_roundtrip(void)
{
    static char fwd[4096], resp[4096];
    struct sipd_route_out out;
    struct stats_slot st;
    char br[64], a[80];
    size_t n;
    int v;

    t_fwd(RL_INV VIA_NAT MF70 TAIL_INV, "203.0.113.7:40000", br, fwd, &n);
    /* The UAS copies the Vias of what it got (our Via then the NAT's). */
    n = (size_t)snprintf(resp, sizeof(resp),
                         "SIP/2.0 486 Busy Here" CRLF
                         "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=%s" CRLF
                         VIA_NAT_FIXED RESP_TAIL, br);
    v = t_route(&t_cfg, resp, n, "10.0.0.2:5080", UDP, 0, 0, &st, &out);
    is_int(v, SIPD_V_SEND, "round trip: response relayed");
    is_mem(out.buf, out.len,
           "SIP/2.0 486 Busy Here" CRLF VIA_NAT_FIXED RESP_TAIL,
           sizeof("SIP/2.0 486 Busy Here" CRLF VIA_NAT_FIXED RESP_TAIL) - 1,
           "round trip: our Via gone, the rest as the UAS sent it");
    is_str(t_addr_text(&out.dst, a, sizeof(a)), "203.0.113.7:40000",
           "round trip: back through the NAT");
}

/* t_tags - a generated reply is the same for a retransmission */
static void t_tags(void)
{
    static const char req[] = "OPTIONS sip:bob@10.0.0.2 SIP/2.0" CRLF VIA_A
                              "Max-Forwards: 0" CRLF TO_B FROM_A CID
                              "CSeq: 1 OPTIONS" CRLF CL0;
    static const char req2[] = "OPTIONS sip:bob@10.0.0.2 SIP/2.0" CRLF VIA_A
                               "Max-Forwards: 0" CRLF TO_B FROM_A CID
                               "CSeq: 2 OPTIONS" CRLF CL0;
    static char r1[1024];
    struct sipd_route_out out;
    struct stats_slot st;
    size_t n1;

    t_route(&t_cfg, req, sizeof(req) - 1, "10.0.0.1:5062", UDP, 0, 0, &st,
            &out);
    memcpy(r1, out.buf, out.len);
    n1 = out.len;
    t_route(&t_cfg, req, sizeof(req) - 1, "10.0.0.1:5062", UDP, 0, 0, &st,
            &out);
    is_mem(out.buf, out.len, r1, n1, "retransmission: identical reply");
    if (!ok(memmem(r1, n1, ";tag=ec78636f38f39dea\r\n", 23) != NULL,
            "To tag value is stable across builds"))
        diag("%.*s", (int)n1, r1);
    t_route(&t_cfg, req2, sizeof(req2) - 1, "10.0.0.1:5062", UDP, 0, 0, &st,
            &out);
    ok(out.len != n1 || memcmp(out.buf, r1, n1) != 0,
       "another request: another To tag");
}

/*
 * t_forced - DNS chose TCP for a name the URI gave no transport: routed
 * again with force_proto, the Via names TCP and the TCP socket, and the
 * target is then accepted; nothing is counted on the second pass.
 */
static void t_forced(const char *req, size_t len)
{
    struct sipd_route_env env = {.cfg = &t_cfg, .st = NULL,
                                 .force_proto = TCP};
    struct msg_dns_target t;
    struct sipd_route_out out;
    struct msg_sip in;
    static const char via[] = "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=";
    const char *nl;

    memset(&in, 0, sizeof(in));
    in.proto = UDP;
    in.sock = 1;
    t_addr("10.0.0.1:5062", &in.peer);
    memset(&out, 0, sizeof(out));
    out.buf = t_buf;
    out.cap = sizeof(t_buf);
    is_int(sipd_route(&env, t_msg, &in, req, len, &out), SIPD_V_RESOLVE,
           "forced TCP: still resolved");
    is_int(out.proto, TCP, "forced TCP: out->proto");
    is_int(out.sock, 3, "forced TCP: the TCP socket");
    nl = memchr(out.buf, '\n', out.len);
    ok(nl != NULL && (size_t)(out.buf + out.len - nl) > sizeof(via)
           && memcmp(nl + 1, via, sizeof(via) - 1) == 0,
       "forced TCP: top Via names TCP and the TCP socket");
    memset(&t, 0, sizeof(t));
    t_addr("10.0.0.2:5060", &t.addr);
    t.proto = TCP;
    is_int(sipd_route_resolved(&env, &t, &out), SIPD_V_SEND,
           "forced TCP: target accepted");
    is_int(out.sock, 3, "forced TCP: sent from the TCP socket");
}

/* t_resolved - sipd_route_resolved() picks the socket for the target */
static void t_resolved(void)
{
    static const char req[] = "INVITE sip:bob@biloxi.example.com SIP/2.0"
                              CRLF VIA_A MF70 TAIL_INV;
    struct sipd_route_env env = {.cfg = &t_cfg, .st = NULL};
    struct msg_dns_target t;
    struct sipd_route_out out;
    struct stats_slot st;
    char a[80];

    t_route(&t_cfg, req, sizeof(req) - 1, "10.0.0.1:5062", UDP, 1, 0, &st,
            &out);
    is_int(out.sock, 1, "resolve: Via names the incoming socket");
    memset(&t, 0, sizeof(t));
    t_addr("[2001:db8::7]:5060", &t.addr);
    t.proto = UDP;
    is_int(sipd_route_resolved(&env, &t, &out), SIPD_V_DROP,
           "resolved to IPv6, Via names IPv4: dropped (routed again)");
    t_addr("10.0.0.2:5060", &t.addr);
    is_str(t_addr_text(&t.addr, a, sizeof(a)), "10.0.0.2:5060",
           "resolved: target text");
    out.sock = 1;
    is_int(sipd_route_resolved(&env, &t, &out), SIPD_V_SEND,
           "resolved to IPv4: sent");
    is_int(out.sock, 1, "resolved to IPv4: the socket the Via names");
    t.proto = 0;
    is_int(sipd_route_resolved(&env, &t, &out), SIPD_V_SEND,
           "resolved without a transport: the one asked for");
    is_int(out.proto, UDP, "resolved without a transport: UDP");
    t.proto = TCP;
    is_int(sipd_route_resolved(&env, &t, &out), SIPD_V_DROP,
           "resolved to TCP, Via says UDP: dropped");
    t_forced(req, sizeof(req) - 1);
    env.cfg = &t_cfg_min;
    t.proto = UDP;
    t_addr("[2001:db8::7]:5060", &t.addr);
    is_int(sipd_route_resolved(&env, &t, &out), SIPD_V_DROP,
           "resolved to IPv6 without an IPv6 socket: dropped");
}

/*
 * What a worker does with a DNS answer for a name target (sipd_dns.c):
 * sipd_route_resolved(), and when the target contradicts the Via (its
 * transport, or the family of the socket the Via names), the received
 * message routed again with force_proto and force_family. Whatever
 * leaves must carry a Via naming the socket it leaves from.
 */
struct t_fam_case {
    const char *name;
    int in_sock;                        /* listen it arrived on */
    const char *target;                 /* DNS target "ip:port" */
    int tproto;                         /* its transport, 0: any */
    int first;                          /* sipd_route_resolved() */
    int verdict;                        /* after routing again */
    int sock;                           /* SEND: sent from */
    const char *via;                    /* SEND: top Via up to branch */
};

static const struct t_fam_case t_fam_cases[] = {
    {"IPv4 in, AAAA target", 1, "[2001:db8::7]:5060", UDP, SIPD_V_DROP,
     SIPD_V_SEND, 2, "Via: SIP/2.0/UDP [::1]:5060;branch="},
    {"IPv4 in, AAAA target, no transport", 0, "[2001:db8::7]:5070", 0,
     SIPD_V_DROP, SIPD_V_SEND, 2, "Via: SIP/2.0/UDP [::1]:5060;branch="},
    {"IPv6 in, A target", 2, "10.0.0.2:5060", UDP, SIPD_V_DROP, SIPD_V_SEND,
     0, "Via: SIP/2.0/UDP 127.0.0.1:5060;branch="},
    {"IPv6 in, AAAA target", 2, "[2001:db8::7]:5060", UDP, SIPD_V_SEND,
     SIPD_V_SEND, 2, "Via: SIP/2.0/UDP [::1]:5060;branch="},
    {"IPv4 in, A target", 1, "10.0.0.2:5060", UDP, SIPD_V_SEND, SIPD_V_SEND,
     1, "Via: SIP/2.0/UDP 127.0.0.2:5070;branch="},
};

/* t_fam_top_via - the first Via line of out, or "" */
static const char *t_fam_top_via(const struct sipd_route_out *out, char *buf,
                                 size_t cap)
{
    const char *v = memmem(out->buf, out->len, "\r\nVia: ", 7);
    const char *e;

    buf[0] = '\0';
    if (v == NULL
        || (e = memmem(v + 2, out->len - (size_t)(v + 2 - out->buf), "\r\n",
                       2)) == NULL
        || (size_t)(e - v - 2) >= cap)
        return buf;
    memcpy(buf, v + 2, (size_t)(e - v - 2));
    buf[e - v - 2] = '\0';
    return buf;
}

static void t_fam_run(const struct t_fam_case *c, const char *req, size_t len)
{
    struct sipd_route_env env = {.cfg = &t_cfg, .st = NULL};
    struct msg_dns_target t;
    struct sipd_route_out out;
    struct msg_sip in;
    char via[256];
    int v;

    memset(&in, 0, sizeof(in));
    in.proto = UDP;
    in.sock = (uint16_t)c->in_sock;
    t_addr(c->in_sock == 2 ? "[2001:db8::1]:5062" : "10.0.0.1:5062", &in.peer);
    memset(&out, 0, sizeof(out));
    out.buf = t_buf;
    out.cap = sizeof(t_buf);
    memset(&t, 0, sizeof(t));
    t_addr(c->target, &t.addr);
    t.proto = (uint8_t)c->tproto;
    is_int(sipd_route(&env, t_msg, &in, req, len, &out), SIPD_V_RESOLVE,
           "family: %s: resolved", c->name);
    v = sipd_route_resolved(&env, &t, &out);
    is_int(v, c->first, "family: %s: first verdict", c->name);
    if (v != SIPD_V_SEND) {             /* sipd_dns_reroute() */
        env.force_proto = t.proto;
        env.force_family = t.addr.family;
        v = sipd_route(&env, t_msg, &in, req, len, &out);
        if (v == SIPD_V_RESOLVE)
            v = sipd_route_resolved(&env, &t, &out);
    }
    is_int(v, c->verdict, "family: %s: verdict", c->name);
    if (v != SIPD_V_SEND)
        return;
    is_int(out.sock, c->sock, "family: %s: sent from", c->name);
    is_int(t_cfg.listen[out.sock].addr.ss_family, t.addr.family,
           "family: %s: socket of the target's family", c->name);
    ok(strncmp(t_fam_top_via(&out, via, sizeof(via)), c->via,
                   strlen(c->via)) == 0,
           "family: %s: top Via %s", c->name, via);
}

/* t_family - the Via always names the socket the request leaves from */
static void t_family(void)
{
    static const char req[] = "INVITE sip:bob@biloxi.example.com SIP/2.0"
                              CRLF VIA_A MF70 TAIL_INV;
    size_t i;

    for (i = 0; i < sizeof(t_fam_cases) / sizeof(t_fam_cases[0]); i++)
        t_fam_run(&t_fam_cases[i], req, sizeof(req) - 1);
}

/* t_sipd_reply - the exported reply builder on a parsed request */
static void t_sipd_reply(void)
{
    static const char req[] = RL_INV VIA_NAT MF70 TAIL_INV;
    struct sipd_route_env env = {.cfg = &t_cfg, .st = NULL};
    struct sipd_route_out out;
    struct stats_slot st;
    struct msg_sip in;
    char a[80];

    memset(&in, 0, sizeof(in));
    in.proto = UDP;
    t_addr("203.0.113.7:40000", &in.peer);
    memset(&st, 0, sizeof(st));
    env.st = &st;
    ok(sip_msg_parse(t_msg, req, sizeof(req) - 1, 0) == 0, "parse");
    memset(&out, 0, sizeof(out));
    out.buf = t_buf;
    out.cap = sizeof(t_buf);
    is_int(sipd_reply(&env, t_msg, &in, 478, "Unresolvable destination",
                      &out), SIPD_V_SEND, "sipd_reply: sent");
    is_mem(out.buf, out.len, t_want,
           t_expand(R_NAT("478 Unresolvable destination", "2 INVITE"),
                    out.buf, out.len),
           "sipd_reply: bytes");
    is_str(t_addr_text(&out.dst, a, sizeof(a)), "203.0.113.7:40000",
           "sipd_reply: to the source");
    t_stats(&st, (struct t_stat[6]){S(ERR_REQUESTS, 1), S(SENT_REPLIES, 1)},
            "sipd_reply");
    out.cap = 100;
    is_int(sipd_reply(&env, t_msg, &in, 503, "x", &out), SIPD_V_DROP,
           "sipd_reply: does not fit: dropped");
}

/*
 * t_big_msg - an INVITE to ruri of exactly len bytes (a body of 'x'
 * pads it), into buf. Returns len, or 0 when it cannot be that long.
 */
static size_t t_big_msg(char *buf, size_t cap, const char *ruri, size_t len)
{
    size_t head, body;
    int n = 0;

    for (body = 0; body < 2; body++) {  /* twice: Content-Length digits */
        n = snprintf(buf, cap,
                     "INVITE %s SIP/2.0" CRLF VIA_A MF70 TO_B FROM_A CID
                     CSEQ_INV "Content-Type: text/plain" CRLF
                     "Content-Length: %zu" CRLF CRLF,
                     ruri, len > (size_t)n ? len - (size_t)n : 0);
    }
    head = (size_t)n;
    if (head >= len || len >= cap)
        return 0;
    memset(buf + head, 'x', len - head);
    buf[len] = '\0';
    return len;
}

/*
 * t_big - RFC 3261 18.1.1: a request that would leave over UDP larger
 * than 1300 bytes (received size + 160 for what forwarding adds) goes
 * over TCP when its next hop is an IP literal without ;transport= and
 * a TCP listen socket of that family exists (sipd_hop_big()).
 */
static void t_big(void)
{
    static const struct {
        const char *name;
        const struct cfg *cfg;
        const char *ruri;
        size_t len;
        int verdict;
        int proto;
        int sock;
        const char *via;                /* our Via's start */
    } t[] = {
        {"1140 bytes: stays UDP", &t_cfg, "sip:bob@10.0.0.2:5080", 1140,
         SIPD_V_SEND, UDP, 0, "Via: SIP/2.0/UDP 127.0.0.1:5060;"},
        {"1141 bytes: over TCP", &t_cfg, "sip:bob@10.0.0.2:5080", 1141,
         SIPD_V_SEND, TCP, 3, "Via: SIP/2.0/TCP 127.0.0.1:5060;"},
        {"3000 bytes: over TCP", &t_cfg, "sip:bob@10.0.0.2", 3000,
         SIPD_V_SEND, TCP, 3, "Via: SIP/2.0/TCP 127.0.0.1:5060;"},
        {"3000 bytes, ;transport=udp: stays UDP", &t_cfg,
         "sip:bob@10.0.0.2;transport=udp", 3000, SIPD_V_SEND, UDP, 0,
         "Via: SIP/2.0/UDP 127.0.0.1:5060;"},
        {"3000 bytes, IPv6 (no TCP IPv6 socket): stays UDP", &t_cfg,
         "sip:bob@[::2]", 3000, SIPD_V_SEND, UDP, 2,
         "Via: SIP/2.0/UDP [::1]:5060;"},
        {"3000 bytes, no TCP socket: stays UDP", &t_cfg_min,
         "sip:bob@10.0.0.2", 3000, SIPD_V_SEND, UDP, 0,
         "Via: SIP/2.0/UDP 127.0.0.1:5060;"},
        {"3000 bytes to a name: RFC 3263 decides", &t_cfg,
         "sip:bob@biloxi.example.com", 3000, SIPD_V_RESOLVE, UDP, 0,
         "Via: SIP/2.0/UDP 127.0.0.1:5060;"},
    };
    static char msg[4096];
    struct sipd_route_out out;
    struct stats_slot st;
    size_t i, len, vlen;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        len = t_big_msg(msg, sizeof(msg), t[i].ruri, t[i].len);
        if (!ok(len == t[i].len, "big: %s: message built", t[i].name))
            continue;
        is_int(t_route(t[i].cfg, msg, len, "10.0.0.1:5062", UDP, 0, 0, &st,
                       &out),
               t[i].verdict, "big: %s: verdict", t[i].name);
        is_int(out.proto, t[i].proto, "big: %s: transport", t[i].name);
        is_int(out.sock, t[i].sock, "big: %s: socket", t[i].name);
        vlen = strlen(t[i].via);
        ok(out.len > vlen && memmem(out.buf, out.len, t[i].via, vlen),
           "big: %s: %.16s", t[i].name, t[i].via);
        ok(t[i].proto != TCP
               || memmem(out.buf, out.len, "Content-Length: ", 16) != NULL,
           "big: %s: Content-Length", t[i].name);
    }
}

static void t_setup(void)
{
    static const char text[] = "[net]\n"
                               "listen = udp:127.0.0.1:5060\n"
                               "listen = udp:127.0.0.2:5070\n"
                               "listen = udp:[::1]:5060\n"
                               "alias = PROXY.example.com\n";
    static const char min[] = "[net]\nlisten = udp:127.0.0.1:5060\n";
    static const char tls[] = "[net]\n"
                              "listen = udp:127.0.0.1:5060\n"
                              "listen = tcp:127.0.0.1:5060\n"
                              "listen = tls:127.0.0.1\n"
                              "[tls]\ncertificate = /c\nprivate_key = /k\n"
                              "[route]\nrecord_route = 1\n";
    static const char adv[] = "[net]\n"
                              "listen = udp:0.0.0.0:5060 as SIP.Example.com\n"
                              "listen = tcp:127.0.0.1:5060 as "
                              "[2001:db8::5]:5070\n"
                              "[route]\nrecord_route = 1\n";
    struct cfg_listen *l;
    struct sockaddr_in *sin;
    char err[256];

    if (cfg_load_buf(&t_cfg, "t", text, sizeof(text) - 1, err,
                     sizeof(err)) < 0
        || cfg_load_buf(&t_cfg_min, "t", min, sizeof(min) - 1, err,
                        sizeof(err)) < 0
        || cfg_load_buf(&t_cfg_adv, "t", adv, sizeof(adv) - 1, err,
                        sizeof(err)) < 0
        || cfg_load_buf(&t_cfg_tls, "t", tls, sizeof(tls) - 1, err,
                        sizeof(err)) < 0) {
        printf("Bail out! cfg: %s\n", err);
        exit(1);
    }
    l = &t_cfg.listen[t_cfg.nlisten++];
    *l = t_cfg.listen[0];
    l->proto = CFG_PROTO_TCP;
    sin = (struct sockaddr_in *)&l->addr;
    sin->sin_port = htons(5060);
    t_cfg_rr = t_cfg;
    t_cfg_rr.record_route = 1;
    t_msg = malloc(sizeof(*t_msg));
    if (t_msg == NULL)
        abort();
    sip_msg_init(t_msg);
}

int main(void)
{
    size_t i;

    t_setup();
    for (i = 0; i < sizeof(t_fwd_cases) / sizeof(t_fwd_cases[0]); i++)
        t_case_run(&t_fwd_cases[i]);
    for (i = 0; i < sizeof(t_reply_cases) / sizeof(t_reply_cases[0]); i++)
        t_case_run(&t_reply_cases[i]);
    for (i = 0; i < sizeof(t_resp_cases) / sizeof(t_resp_cases[0]); i++)
        t_case_run(&t_resp_cases[i]);
    for (i = 0; i < sizeof(t_adv_cases) / sizeof(t_adv_cases[0]); i++)
        t_case_run(&t_adv_cases[i]);
    for (i = 0; i < sizeof(t_rr_cases) / sizeof(t_rr_cases[0]); i++)
        t_case_run(&t_rr_cases[i]);
    for (i = 0; i < sizeof(t_tls_cases) / sizeof(t_tls_cases[0]); i++)
        t_case_run(&t_tls_cases[i]);
    t_branches();
    t_branches_2543();
    t_loops();
    t_roundtrip();
    t_tags();
    t_resolved();
    t_family();
    t_sipd_reply();
    t_big();
    free(t_msg);
    return done_testing();
}
