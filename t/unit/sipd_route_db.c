/*
 * SUMMARY
 *    sipd_route_db - unit tests of routing with [route] db_aliases and
 *    db_allow (sipd_route.c steps 0 and 2a)
 * DESCRIPTION
 *    The router with fake callbacks in its env (what the cache knows,
 *    what the address table says), no database and no threads:
 *
 *    - which requests are looked up (SIPD_V_LOOKUP with the key: user as
 *      written, host lower-cased): initial requests with a user part,
 *      CANCEL too; not ACK, not a request with a To tag, not a
 *      Request-URI without a user;
 *    - the second pass (env->alias): a row replaces the whole
 *      Request-URI by sip:USERNAME@DOMAIN (scheme, port and parameters
 *      of the old one gone, as Kamailio's alias_db), the exact request
 *      line forwarded, db:aliased counted, core:rcv_requests not
 *      counted twice; no row: unchanged; an alias of a name is resolved,
 *      and out->alias carries the answer for a reroute after DNS;
 *    - an alias of our own domain (the usual case) is forwarded, where
 *      without it the request would be answered 404;
 *    - the cache callback answers in one pass;
 *    - INVITE and CANCEL keep one branch whatever the alias;
 *    - db_allow: 403 Forbidden for a source in no row, 503 with
 *      Retry-After before a table is loaded, responses never filtered,
 *      an ACK never answered, with the counters.
 * PROTOCOL
 *    TAP on stdout.
 * DIAGNOSTICS
 *    Exit status: number of failed tests.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "sipd_route.h"
#include "tap.h"

#define CRLF "\r\n"
#define VIA_A "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK74bf9" CRLF
#define HDRS                                                               \
    "Max-Forwards: 70" CRLF "To: <sip:bob@biloxi.example.com>" CRLF        \
    "From: <sip:alice@atlanta.example.com>;tag=9fxc" CRLF                  \
    "Call-ID: c1@atlanta.example.com" CRLF
#define REQ(method, ruri)                                                  \
    method " " ruri " SIP/2.0" CRLF VIA_A HDRS "CSeq: 1 " method CRLF      \
    "Content-Length: 0" CRLF CRLF

static struct cfg t_alias_cfg;          /* db_aliases = 1 */
static struct cfg t_allow_cfg;          /* db_allow = 1 */
static struct sip_msg *t_msg;
static char t_buf[65536];
static struct stats_slot t_st;

/* What the fake cache knows: one key and its answer. */
static const char *t_cache_user, *t_cache_host;
static struct sipd_alias t_cache_ans;
static int t_allow_say;                 /* what the fake table says */

static const struct sipd_alias *t_cached(void *arg, struct str user,
                                         const char *host)
{
    (void)arg;
    if (t_cache_user != NULL && user.len == strlen(t_cache_user)
        && memcmp(user.s, t_cache_user, user.len) == 0
        && strcmp(host, t_cache_host) == 0)
        return &t_cache_ans;
    return NULL;
}

static int t_allow(void *arg, const struct msg_addr *src)
{
    (void)arg;
    (void)src;
    return t_allow_say;
}

/* t_set - an alias answer: uri NULL for "no row" */
static struct sipd_alias t_set(const char *uri)
{
    struct sipd_alias a;

    memset(&a, 0, sizeof(a));
    a.state = uri ? SIPD_ALIAS_SET : SIPD_ALIAS_KEEP;
    if (uri != NULL) {
        a.len = strlen(uri);
        memcpy(a.uri, uri, a.len);
    }
    return a;
}

/*
 * t_go - route msg from 10.0.0.1:5062 over UDP on socket 0; alias: the
 *    answer of a second pass (NULL: first pass). Counters start at 0.
 */
static int t_go(const struct cfg *c, const char *msg,
                const struct sipd_alias *alias, int with_cb,
                struct sipd_route_out *out)
{
    struct sipd_route_env env;
    struct msg_sip in;

    memset(&env, 0, sizeof(env));
    env.cfg = c;
    env.st = &t_st;
    env.alias = alias;
    if (with_cb) {
        env.alias_get = t_cached;
        env.allow = t_allow;
    }
    memset(&t_st, 0, sizeof(t_st));
    memset(&in, 0, sizeof(in));
    in.proto = MSG_PROTO_UDP;
    in.sock = 0;
    in.peer.family = AF_INET;
    inet_pton(AF_INET, "10.0.0.1", in.peer.ip);
    in.peer.port = htons(5062);
    memset(out, 0, sizeof(*out));
    out->buf = t_buf;
    out->cap = sizeof(t_buf);
    return sipd_route(&env, t_msg, &in, msg, strlen(msg), out);
}

/* t_line1 - the first line of out, as a C string */
static const char *t_line1(const struct sipd_route_out *out)
{
    static char line[512];
    const char *nl = memchr(out->buf, '\r', out->len);
    size_t n = nl ? (size_t)(nl - out->buf) : 0;

    snprintf(line, sizeof(line), "%.*s", (int)n, out->buf);
    return line;
}

/* t_dst - out->dst as "ip:port" */
static const char *t_dst(const struct sipd_route_out *out)
{
    static char buf[64];
    char ip[48];

    inet_ntop(out->dst.family, out->dst.ip, ip, sizeof(ip));
    snprintf(buf, sizeof(buf), "%s:%u", ip, ntohs(out->dst.port));
    return buf;
}

/* t_branch - the branch of the top Via of out (our Via) */
static void t_branch(const struct sipd_route_out *out, char *br, size_t cap)
{
    const char *p = memmem(out->buf, out->len, "branch=", 7);
    size_t n = 0;

    br[0] = '\0';
    if (p == NULL)
        return;
    p += 7;
    while (n + 1 < cap && p[n] != ';' && p[n] != '\r')
        n++;
    memcpy(br, p, n);
    br[n] = '\0';
}

/* Which requests are looked up, and with which key. */
static void test_lookup(void)
{
    static const struct {
        const char *name;
        const char *msg;
        int verdict;
        const char *user, *host;        /* LOOKUP: the key */
    } t[] = {
        {"INVITE", REQ("INVITE", "sip:bob@Biloxi.Example.COM"),
         SIPD_V_LOOKUP, "bob", "biloxi.example.com"},
        {"MESSAGE, port and params",
         REQ("MESSAGE", "sip:Bob@biloxi.example.com:5080;transport=udp"),
         SIPD_V_LOOKUP, "Bob", "biloxi.example.com"},
        {"sips:", REQ("OPTIONS", "sips:bob@biloxi.example.com"),
         SIPD_V_LOOKUP, "bob", "biloxi.example.com"},
        {"CANCEL", REQ("CANCEL", "sip:bob@biloxi.example.com"),
         SIPD_V_LOOKUP, "bob", "biloxi.example.com"},
        {"an IP host", REQ("INVITE", "sip:bob@10.0.0.2:5080"),
         SIPD_V_LOOKUP, "bob", "10.0.0.2"},
        {"our own domain", REQ("INVITE", "sip:alice@proxy.example.com"),
         SIPD_V_LOOKUP, "alice", "proxy.example.com"},
        {"o'brien", REQ("INVITE", "sip:o'brien@example.com"),
         SIPD_V_LOOKUP, "o'brien", "example.com"},
        {"SQL", REQ("INVITE", "sip:';DROP/**/TABLE/**/dbaliases;--@"
                              "example.com"),
         SIPD_V_LOOKUP, "';DROP/**/TABLE/**/dbaliases;--", "example.com"},
        {"escaped", REQ("INVITE", "sip:a%20b\\c_%@example.com"),
         SIPD_V_LOOKUP, "a%20b\\c_%", "example.com"},
        {"UTF-8", REQ("INVITE", "sip:j\xc3\xbcrgen@example.com"),
         SIPD_V_LOOKUP, "j\xc3\xbcrgen", "example.com"},
        {"ACK", REQ("ACK", "sip:bob@10.0.0.2:5080"), SIPD_V_SEND, NULL,
         NULL},
        {"no user", REQ("INVITE", "sip:10.0.0.2:5080"), SIPD_V_SEND, NULL,
         NULL},
        {"no user, us", REQ("OPTIONS", "sip:proxy.example.com"),
         SIPD_V_SEND, NULL, NULL},
        {"tel:", REQ("INVITE", "tel:+15551234"), SIPD_V_SEND, NULL, NULL},
    };
    struct sipd_route_out out;
    size_t i;
    int v;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        v = t_go(&t_alias_cfg, t[i].msg, NULL, 0, &out);
        is_int(v, t[i].verdict, "%s: verdict", t[i].name);
        if (t[i].user == NULL)
            continue;
        is_mem(out.user.s, out.user.len, t[i].user, strlen(t[i].user),
               "%s: user as written", t[i].name);
        is_str(out.name, t[i].host, "%s: host lower-cased", t[i].name);
        is_int(out.len, 0, "%s: nothing to send yet", t[i].name);
        is_int((long long)t_st.v[STAT_CORE_RCV_REQUESTS], 1,
               "%s: counted as received once", t[i].name);
    }
    /* a request with a To tag (in a dialog) is not looked up */
    v = t_go(&t_alias_cfg,
             "BYE sip:bob@10.0.0.2:5080 SIP/2.0" CRLF VIA_A
             "Max-Forwards: 70" CRLF "To: <sip:bob@b.example>;tag=x" CRLF
             "From: <sip:alice@a.example>;tag=y" CRLF "Call-ID: c2" CRLF
             "CSeq: 2 BYE" CRLF "Content-Length: 0" CRLF CRLF,
             NULL, 0, &out);
    is_int(v, SIPD_V_SEND, "BYE with a To tag: routed, not looked up");
    t_allow_say = SIPD_ALLOW_YES;
    v = t_go(&t_allow_cfg, REQ("INVITE", "sip:bob@10.0.0.2:5080"), NULL,
             1, &out);
    is_int(v, SIPD_V_SEND, "db_aliases off: never looked up");
}

/* The second pass: what the answer does to the request. */
static void test_answer(void)
{
    static const struct {
        const char *name;
        const char *msg;
        const char *alias;              /* NULL: no row */
        int verdict;
        const char *line;               /* the request line sent */
        const char *dst;                /* SEND: where; RESOLVE: name */
    } t[] = {
        {"row, IP", REQ("INVITE", "sip:bob@biloxi.example.com"),
         "sip:robert@10.0.0.9:5090", SIPD_V_SEND,
         "INVITE sip:robert@10.0.0.9:5090 SIP/2.0", "10.0.0.9:5090"},
        {"row, name", REQ("INVITE", "sip:bob@biloxi.example.com"),
         "sip:robert@Chicago.example.com", SIPD_V_RESOLVE,
         "INVITE sip:robert@Chicago.example.com SIP/2.0",
         "chicago.example.com"},
        {"no row", REQ("INVITE", "sip:bob@10.0.0.2:5080"), NULL,
         SIPD_V_SEND, "INVITE sip:bob@10.0.0.2:5080 SIP/2.0",
         "10.0.0.2:5080"},
        {"sips, port, params gone",
         REQ("INVITE", "sips:bob@biloxi.example.com:5061;transport=udp;"
                       "user=phone;x=1"),
         "sip:robert@10.0.0.9", SIPD_V_SEND,
         "INVITE sip:robert@10.0.0.9 SIP/2.0", "10.0.0.9:5060"},
        {"our domain, row", REQ("INVITE", "sip:alice@proxy.example.com"),
         "sip:alice@10.0.0.7", SIPD_V_SEND,
         "INVITE sip:alice@10.0.0.7 SIP/2.0", "10.0.0.7:5060"},
        {"our domain, no row", REQ("INVITE", "sip:alice@proxy.example.com"),
         NULL, SIPD_V_SEND, "SIP/2.0 404 Not Found", "10.0.0.1:5062"},
        {"alias names us", REQ("INVITE", "sip:bob@biloxi.example.com"),
         "sip:bob@127.0.0.1", SIPD_V_SEND, "SIP/2.0 404 Not Found",
         "10.0.0.1:5062"},
        {"domain only", REQ("INVITE", "sip:bob@biloxi.example.com"),
         "sip:10.0.0.9:5070", SIPD_V_SEND, "INVITE sip:10.0.0.9:5070 SIP/2.0",
         "10.0.0.9:5070"},
    };
    struct sipd_route_out out;
    struct sipd_alias a;
    size_t i;
    int v;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        a = t_set(t[i].alias);
        v = t_go(&t_alias_cfg, t[i].msg, &a, 0, &out);
        is_int(v, t[i].verdict, "%s: verdict", t[i].name);
        is_str(t_line1(&out), t[i].line, "%s: first line", t[i].name);
        if (v == SIPD_V_SEND)
            is_str(t_dst(&out), t[i].dst, "%s: sent to", t[i].name);
        else
            is_str(out.name, t[i].dst, "%s: resolves", t[i].name);
        is_int((long long)t_st.v[STAT_CORE_RCV_REQUESTS], 0,
               "%s: not counted as received again", t[i].name);
        is_int((long long)t_st.v[STAT_DB_ALIASED], t[i].alias ? 1 : 0,
               "%s: db:aliased", t[i].name);
        ok(out.local_reply || out.alias == &a,
           "%s: out->alias is the answer (a reroute after DNS uses it)",
           t[i].name);
    }
}

/* The cache answers in the first pass. */
static void test_cached(void)
{
    struct sipd_route_out out;
    int v;

    t_allow_say = SIPD_ALLOW_YES;
    t_cache_user = "bob";
    t_cache_host = "biloxi.example.com";
    t_cache_ans = t_set("sip:robert@10.0.0.9:5090");
    v = t_go(&t_alias_cfg, REQ("INVITE", "sip:bob@BILOXI.example.com"), NULL,
             1, &out);
    is_int(v, SIPD_V_SEND, "cached row: sent in one pass");
    is_str(t_line1(&out), "INVITE sip:robert@10.0.0.9:5090 SIP/2.0",
           "cached row: rewritten");
    ok(t_st.v[STAT_CORE_RCV_REQUESTS] == 1 && t_st.v[STAT_DB_ALIASED] == 1,
       "cached row: received 1, aliased 1");
    ok(out.alias == &t_cache_ans, "cached row: out->alias");
    t_cache_ans = t_set(NULL);
    v = t_go(&t_alias_cfg, REQ("INVITE", "sip:bob@biloxi.example.com"), NULL,
             1, &out);
    ok(v == SIPD_V_RESOLVE && strcmp(out.name, "biloxi.example.com") == 0
           && t_st.v[STAT_DB_ALIASED] == 0,
       "cached no-row: unchanged, resolved, not aliased");
    v = t_go(&t_alias_cfg, REQ("INVITE", "sip:carol@biloxi.example.com"),
             NULL, 1, &out);
    is_int(v, SIPD_V_LOOKUP, "another user: not cached, looked up");
    t_cache_user = NULL;
}

/* INVITE and CANCEL leave with one branch, aliased or not. */
static void test_cancel(void)
{
    struct sipd_route_out out;
    struct sipd_alias a = t_set("sip:robert@10.0.0.9:5090");
    char b1[64], b2[64], b3[64];

    t_go(&t_alias_cfg, REQ("INVITE", "sip:bob@biloxi.example.com"), &a, 0,
         &out);
    t_branch(&out, b1, sizeof(b1));
    t_go(&t_alias_cfg, REQ("CANCEL", "sip:bob@biloxi.example.com"), &a, 0,
         &out);
    is_str(t_line1(&out), "CANCEL sip:robert@10.0.0.9:5090 SIP/2.0",
           "CANCEL: rewritten like its INVITE");
    is_str(t_dst(&out), "10.0.0.9:5090", "CANCEL: to the INVITE's target");
    t_branch(&out, b2, sizeof(b2));
    ok(b1[0] != '\0' && strcmp(b1, b2) == 0,
       "CANCEL: the INVITE's branch (%s)", b1);
    a = t_set(NULL);
    t_go(&t_alias_cfg, REQ("CANCEL", "sip:bob@biloxi.example.com"), &a, 0,
         &out);
    t_branch(&out, b3, sizeof(b3));
    is_str(b3, b1, "branch computed before the rewrite: same without it");
}

/* [route] db_allow */
static void test_allow(void)
{
    static const char resp[] =
        "SIP/2.0 200 OK" CRLF
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsS0123456789abcdef"
        "01234567" CRLF VIA_A
        "To: <sip:bob@biloxi.example.com>;tag=1" CRLF
        "From: <sip:alice@atlanta.example.com>;tag=9fxc" CRLF
        "Call-ID: c1@atlanta.example.com" CRLF "CSeq: 1 INVITE" CRLF
        "Content-Length: 0" CRLF CRLF;
    struct sipd_route_out out;
    int v;

    t_allow_say = SIPD_ALLOW_YES;
    v = t_go(&t_allow_cfg, REQ("INVITE", "sip:bob@10.0.0.2:5080"), NULL, 1,
             &out);
    ok(v == SIPD_V_SEND && !out.local_reply, "allowed source: forwarded");
    t_allow_say = SIPD_ALLOW_NO;
    v = t_go(&t_allow_cfg, REQ("INVITE", "sip:bob@10.0.0.2:5080"), NULL, 1,
             &out);
    is_str(t_line1(&out), "SIP/2.0 403 Forbidden", "other source: 403");
    ok(v == SIPD_V_SEND && strcmp(t_dst(&out), "10.0.0.1:5062") == 0,
       "403: to the sender");
    ok(t_st.v[STAT_DB_ALLOW_DENIED] == 1
           && t_st.v[STAT_CORE_SENT_REPLIES] == 1,
       "403: db:allow_denied 1, core:sent_replies 1");
    v = t_go(&t_allow_cfg, REQ("OPTIONS", "sip:proxy.example.com"), NULL, 1,
             &out);
    is_str(t_line1(&out), "SIP/2.0 403 Forbidden",
           "other source: 403 even for a request to us");
    v = t_go(&t_allow_cfg, REQ("ACK", "sip:bob@10.0.0.2:5080"), NULL, 1,
             &out);
    ok(v == SIPD_V_DROP && t_st.v[STAT_DB_ALLOW_DENIED] == 1,
       "ACK from another source: dropped (never answered), counted");
    v = t_go(&t_allow_cfg, resp, NULL, 1, &out);
    ok(v == SIPD_V_SEND && strncmp(out.buf, "SIP/2.0 200 OK", 14) == 0
           && t_st.v[STAT_DB_ALLOW_DENIED] == 0,
       "a response from another source: relayed, not filtered");
    t_allow_say = SIPD_ALLOW_UNKNOWN;
    v = t_go(&t_allow_cfg, REQ("INVITE", "sip:bob@10.0.0.2:5080"), NULL, 1,
             &out);
    is_str(t_line1(&out), "SIP/2.0 503 Service Unavailable",
           "no table yet: 503");
    ok(memmem(out.buf, out.len, CRLF "Retry-After: 5" CRLF, 18) != NULL,
       "503: Retry-After: 5");
    is_int((long long)t_st.v[STAT_DB_UNAVAILABLE], 1,
           "503: db:unavailable_replies");
    v = t_go(&t_allow_cfg, REQ("INVITE", "sip:bob@10.0.0.2:5080"), NULL, 0,
             &out);
    is_str(t_line1(&out), "SIP/2.0 503 Service Unavailable",
           "no callback at all: 503 (fail closed)");
}

static void t_setup(void)
{
    static const char al[] = "[net]\n"
                             "listen = udp:127.0.0.1:5060\n"
                             "alias = PROXY.example.com\n"
                             "[db]\nurl = postgres://u@127.0.0.1/x\n"
                             "[route]\ndb_aliases = 1\n";
    static const char aw[] = "[net]\n"
                             "listen = udp:127.0.0.1:5060\n"
                             "alias = PROXY.example.com\n"
                             "[db]\nurl = postgres://u@127.0.0.1/x\n"
                             "[route]\ndb_allow = 1\n";
    char err[256];

    if (cfg_load_buf(&t_alias_cfg, "t", al, sizeof(al) - 1, err,
                     sizeof(err)) < 0
        || cfg_load_buf(&t_allow_cfg, "t", aw, sizeof(aw) - 1, err,
                        sizeof(err)) < 0) {
        printf("Bail out! cfg: %s\n", err);
        exit(1);
    }
    if ((t_msg = malloc(sizeof(*t_msg))) == NULL)
        abort();
    sip_msg_init(t_msg);
}

int main(void)
{
    t_setup();
    test_lookup();
    test_answer();
    test_cached();
    test_cancel();
    test_allow();
    free(t_msg);
    return done_testing();
}
