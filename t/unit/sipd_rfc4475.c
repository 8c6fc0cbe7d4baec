/*
 * SUMMARY
 *      sipd_rfc4475 - RFC 4475 torture messages and hostile input
 *      through sipd_route()
 * DESCRIPTION
 *      Part 1: every t/data/rfc4475/NAME.msg (RFC 4475 3.1.1, 3.1.2,
 *      3.2.1, 3.3, 3.4.1; see gen.pl there) goes through sipd_route()
 *      as a UDP datagram from 192.0.2.200:5099, and the verdict must be
 *      what NAME.expect says:
 *
 *        forward    SEND or RESOLVE, not a local reply; the output
 *                   parses; its first line is the request line as
 *                   received; its first header is exactly
 *                   "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsS"
 *                   + 24 hex; then every received header line follows
 *                   byte-identical and in order, except the sender's
 *                   Via (the same bytes plus ";received=192.0.2.200")
 *                   and Max-Forwards (the value "max-forwards:" says,
 *                   or an added "Max-Forwards: 70" after the last
 *                   Via); the body is byte-identical and nothing of the
 *                   datagram past Content-Length leaves.
 *        reply N    a local reply whose status line is "SIP/2.0 N ".
 *        drop       nothing leaves.
 *
 *      A response of the corpus is sent a second time with our Via
 *      on top: it must be relayed with exactly the received bytes
 *      minus that Via (bcast: never to 255.255.255.255).
 *
 *      Part 2: our own hostile cases (table t_own): NUL bytes, 0- and
 *      1-byte datagrams, 64 KiB, Content-Length beyond the datagram,
 *      negative and huge numbers, thousands of headers, deep folding,
 *      long lines, many Vias, many Routes, and the regression cases of
 *      the bugs fixed under issue 3.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "cfg.h"
#include "sipd_route.h"

#define CRLF "\r\n"
#define OUR_VIA "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsS"
#define OUR_BRANCH "z9hG4bKsS0123456789abcdef01234567"
#define PEER_IP "192.0.2.200"

static struct cfg t_cfg;
static struct sip_msg t_m;              /* what sipd_route() uses */
static struct sip_msg t_in;             /* the input, parsed again */
static struct sip_msg t_out;            /* the output, parsed */
static char t_buf[70000];
static char t_big[140000];

/* t_route - one UDP datagram through sipd_route() */
static int t_route(const char *data, size_t len, struct sipd_route_out *out,
                   struct stats_slot *st)
{
    struct sipd_route_env env = {.cfg = &t_cfg, .st = st};
    struct msg_sip in;

    memset(&in, 0, sizeof(in));
    memset(st, 0, sizeof(*st));
    in.proto = MSG_PROTO_UDP;
    in.peer.family = AF_INET;
    (void)inet_pton(AF_INET, PEER_IP, in.peer.ip);
    in.peer.port = htons(5099);
    memset(out, 0, sizeof(*out));
    out->buf = t_buf;
    out->cap = MSG_SIP_MAX + 1024;      /* as sipd's worker: SIPD_OUT_MAX */
    return sipd_route(&env, &t_m, &in, data, len, out);
}

/* t_read - a whole file, malloc'ed (test code) */
static char *t_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *b;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)n + 1);
    if (b == NULL || fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        fclose(f);
        return NULL;
    }
    fclose(f);
    b[n] = '\0';
    *len = (size_t)n;
    return b;
}

/* t_raw_eq - header raw text equals bytes */
static int t_raw_eq(const struct sip_hdr *h, const char *p, size_t n)
{
    return h->raw.len == n && memcmp(h->raw.s, p, n) == 0;
}

/*
 * t_check_headers - the output headers against the input's, as the
 *      DESCRIPTION says. Returns 1, or 0 after a diag.
 */
static int t_check_headers(const char *name, int mf, const char *route)
{
    int i = t_out.head;
    int j;
    char want[256];

    for (j = t_in.head; j >= 0; j = t_in.hdrs[j].next) {
        const struct sip_hdr *a = &t_in.hdrs[j];
        const struct sip_hdr *b;

        if (j == t_in.via1.hdr && i >= 0)
            i = t_out.hdrs[i].next;     /* ours, checked by the caller */
        if (i < 0) {
            diag("%s: output ends before input header %.*s", name,
                 (int)a->name.len, a->name.s);
            return 0;
        }
        b = &t_out.hdrs[i];
        if (j == t_in.via1.hdr) {
            /* same bytes, with received= somewhere in the value */
            if (memmem(b->raw.s, b->raw.len, ";received=" PEER_IP,
                       sizeof(";received=" PEER_IP) - 1) == NULL
                || b->raw.len < a->raw.len) {
                diag("%s: sender's Via: %.*s", name, (int)b->raw.len,
                     b->raw.s);
                return 0;
            }
        } else if (a->type == SIP_HDR_MAX_FORWARDS) {
            if (t_out.max_forwards != mf) {
                diag("%s: Max-Forwards %d, want %d", name,
                     t_out.max_forwards, mf);
                return 0;
            }
        } else if (a->type == SIP_HDR_ROUTE && route != NULL) {
            if (!t_raw_eq(b, route, strlen(route))) {
                diag("%s: Route '%.*s', want '%s'", name, (int)b->raw.len,
                     b->raw.s, route);
                return 0;
            }
        } else if (!t_raw_eq(b, a->raw.s, a->raw.len)) {
            diag("%s: header changed: '%.*s' -> '%.*s'", name,
                 (int)a->raw.len, a->raw.s, (int)b->raw.len, b->raw.s);
            return 0;
        }
        i = b->next;
        /* added Max-Forwards: right after the last Via of the input */
        if (t_in.first[SIP_HDR_MAX_FORWARDS] < 0 && a->type == SIP_HDR_VIA
            && (a->next < 0 || t_in.hdrs[a->next].type != SIP_HDR_VIA)
            && i >= 0 && t_out.hdrs[i].type == SIP_HDR_MAX_FORWARDS) {
            snprintf(want, sizeof(want), "Max-Forwards: %d\r\n", mf);
            if (!t_raw_eq(&t_out.hdrs[i], want, strlen(want))) {
                diag("%s: added Max-Forwards wrong", name);
                return 0;
            }
            i = t_out.hdrs[i].next;
        }
    }
    if (i >= 0) {
        diag("%s: extra output header %.*s", name,
             (int)t_out.hdrs[i].raw.len, t_out.hdrs[i].raw.s);
        return 0;
    }
    return 1;
}

/* t_check_forward - a forwarded request, as the DESCRIPTION says */
static void t_check_forward(const char *name, const char *data, size_t len,
                            const struct sipd_route_out *out, int mf,
                            const char *rline, const char *route)
{
    const struct sip_hdr *top;
    size_t i;
    int good;

    ok(out->verdict == SIPD_V_SEND || out->verdict == SIPD_V_RESOLVE,
       "%s: forwarded (verdict %d, status %d)", name, out->verdict,
       out->status);
    is_int(out->local_reply, 0, "%s: not a local reply", name);
    if (!ok(sip_msg_parse(&t_in, data, len, 0) == 0, "%s: input parses",
            name))
        return;
    if (!ok(sip_msg_parse(&t_out, out->buf, out->len, 0) == 0,
            "%s: output parses again (%s)", name,
            t_out.reason ? t_out.reason : ""))
        return;
    is_int((long long)t_out.msg_len, (long long)out->len,
           "%s: output is exactly one message", name);
    if (rline != NULL)
        is_mem(t_out.start.s, t_out.start.len, rline, strlen(rline),
               "%s: request line rewritten", name);
    else
        is_mem(t_out.start.s, t_out.start.len, t_in.start.s,
               t_in.start.len, "%s: request line unchanged", name);
    top = &t_out.hdrs[t_out.first[SIP_HDR_VIA]];
    ok(top->prev == (t_in.hdrs[t_in.via1.hdr].prev < 0 ? -1 : top->prev),
       "%s: our Via where the first Via was", name);
    good = top->raw.len == sizeof(OUR_VIA) - 1 + 24 + 2
           && memcmp(top->raw.s, OUR_VIA, sizeof(OUR_VIA) - 1) == 0;
    for (i = sizeof(OUR_VIA) - 1; good && i < top->raw.len - 2; i++)
        good = strchr("0123456789abcdef", top->raw.s[i]) != NULL;
    ok(good, "%s: our Via on top: %.*s", name, (int)top->raw.len - 2,
       top->raw.s);
    ok(t_check_headers(name, mf, route), "%s: other headers byte-identical",
       name);
    is_mem(t_out.body.s, t_out.body.len, t_in.body.s, t_in.body.len,
           "%s: body byte-identical", name);
    is_mem(t_out.eoh.s, t_out.eoh.len, t_in.eoh.s, t_in.eoh.len,
           "%s: empty line as received", name);
}

/* t_expect_get - the value of "key: " in an .expect text, or NULL */
static const char *t_expect_get(const char *text, const char *key,
                                char *buf, size_t cap)
{
    const char *p = strstr(text, key);
    size_t n;

    if (p == NULL)
        return NULL;
    p += strlen(key);
    n = strcspn(p, "\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

/*
 * t_relay_ours - a response of the corpus with our Via on top: relayed
 *      as received (bcast: never to the broadcast address)
 */
static void t_relay_ours(const char *name, const char *data, size_t len)
{
    static const char via[] = "Via: SIP/2.0/UDP 127.0.0.1:5060;branch="
                              OUR_BRANCH CRLF;
    const char *eol = memchr(data, '\n', len);
    struct sipd_route_out out;
    struct stats_slot st;
    size_t l1;
    int parses;

    if (eol == NULL)
        return;
    l1 = (size_t)(eol + 1 - data);
    parses = sip_msg_parse(&t_in, data, len, 0) == 0;
    memcpy(t_big, data, l1);
    memcpy(t_big + l1, via, sizeof(via) - 1);
    if (strcmp(name, "bcast") == 0) {
        /* we are the first Via: the next one is the broadcast address */
        const char *l2 = memchr(eol + 1, '\n', len - l1);
        size_t skip = (size_t)(l2 + 1 - data);

        memcpy(t_big + l1 + sizeof(via) - 1, data + skip, len - skip);
        t_route(t_big, l1 + sizeof(via) - 1 + len - skip, &out, &st);
        ok(out.verdict == SIPD_V_DROP && out.len == 0,
           "bcast: never relayed to 255.255.255.255");
        return;
    }
    memcpy(t_big + l1 + sizeof(via) - 1, data + l1, len - l1);
    t_route(t_big, len + sizeof(via) - 1, &out, &st);
    if (!parses) {
        is_int(out.verdict, SIPD_V_DROP, "%s with our Via: dropped", name);
        return;
    }
    ok(out.verdict == SIPD_V_SEND || out.verdict == SIPD_V_RESOLVE,
       "%s with our Via: relayed", name);
    is_mem(out.buf, out.len, data, len, "%s with our Via: bytes as received",
           name);
}

/* t_corpus_one - run NAME.msg and check NAME.expect */
static void t_corpus_one(const char *dir, const char *name)
{
    char path[512];
    char val[64];
    char *data;
    char *exp;
    size_t len, elen;
    struct sipd_route_out out;
    struct stats_slot st;
    const char *o;

    snprintf(path, sizeof(path), "%s/%s.msg", dir, name);
    data = t_read(path, &len);
    snprintf(path, sizeof(path), "%s/%s.expect", dir, name);
    exp = t_read(path, &elen);
    if (!ok(data != NULL && exp != NULL, "%s: .msg and .expect", name))
        goto out;
    t_route(data, len, &out, &st);
    o = t_expect_get(exp, "outcome: ", val, sizeof(val));
    if (o != NULL && strcmp(o, "forward") == 0) {
        char rl[256], rt[256];
        const char *mf = t_expect_get(exp, "max-forwards: ", path,
                                      sizeof(path));
        const char *rline = t_expect_get(exp, "request-line: ", rl,
                                         sizeof(rl) - 2);
        const char *route = t_expect_get(exp, "route: ", rt, sizeof(rt) - 2);

        if (rline != NULL)
            strcat(rl, "\r\n");
        if (route != NULL)
            strcat(rt, "\r\n");
        t_check_forward(name, data, len, &out, mf ? atoi(mf) : -2, rline,
                        route);
    } else if (o != NULL && strncmp(o, "reply ", 6) == 0) {
        char line[32];

        snprintf(line, sizeof(line), "SIP/2.0 %s ", o + 6);
        ok(out.verdict == SIPD_V_SEND && out.local_reply
               && out.status == atoi(o + 6),
           "%s: %s (got verdict %d status %d)", name, o, out.verdict,
           out.status);
        ok(out.len > strlen(line)
               && memcmp(out.buf, line, strlen(line)) == 0,
           "%s: status line \"%s\"", name, line);
    } else {
        ok(o != NULL && strcmp(o, "drop") == 0, "%s: outcome %s known",
           name, o ? o : "(none)");
        ok(out.verdict == SIPD_V_DROP && out.len == 0, "%s: dropped", name);
    }
    if (len >= 4 && memcmp(data, "SIP/", 4) == 0)
        t_relay_ours(name, data, len);
out:
    free(data);
    free(exp);
}

static int t_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* t_corpus - every .msg in the directory, in name order */
static void t_corpus(void)
{
    const char *dir = getenv("SIP_RFC4475_DIR");
    char *names[256];
    struct dirent *e;
    size_t n = 0, i;
    DIR *d;

    if (dir == NULL)
        dir = "t/data/rfc4475";
    if ((d = opendir(dir)) == NULL) {
        ok(0, "opendir %s", dir);
        return;
    }
    while ((e = readdir(d)) != NULL && n < 256) {
        size_t l = strlen(e->d_name);

        if (l > 4 && strcmp(e->d_name + l - 4, ".msg") == 0)
            names[n++] = strndup(e->d_name, l - 4);
    }
    closedir(d);
    ok(n >= 50, "%zu RFC 4475 messages", n);
    qsort(names, n, sizeof(names[0]), t_cmp);
    for (i = 0; i < n; i++) {
        t_corpus_one(dir, names[i]);
        free(names[i]);
    }
}

/* ------------------------------------------------------------------
 * Part 2: our own cases
 */

#define VIA_A "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK74bf9" CRLF
#define HDRS_A                                                             \
    "To: <sip:bob@10.0.0.2>" CRLF "From: <sip:a@10.0.0.1>;tag=1" CRLF      \
    "Call-ID: own@10.0.0.1" CRLF "CSeq: 1 OPTIONS" CRLF
/* a literal that may hold NUL bytes, and its length */
#define B(s) s, sizeof(s) - 1
#define OPT "OPTIONS sip:bob@10.0.0.2:5080 SIP/2.0" CRLF

struct t_own {
    const char *name;
    const char *in;                     /* NULL: built by t_build */
    size_t len;                         /* 0: strlen(in) */
    int verdict;                        /* SIPD_V_* (SEND/RESOLVE/DROP) */
    int status;                         /* local reply, else 0 */
    const char *has;                    /* output must contain this */
    const char *hasnt;                  /* and must not contain this */
};

static const struct t_own t_own_cases[] = {
    {"0-byte datagram", "", 0, SIPD_V_DROP, 0, NULL, NULL},
    {"1-byte datagram", "I", 1, SIPD_V_DROP, 0, NULL, NULL},
    {"1-byte NUL", "\0", 1, SIPD_V_DROP, 0, NULL, NULL},
    {"CRLF keep-alive", CRLF CRLF, 0, SIPD_V_DROP, 0, NULL, NULL},
    {"NUL in Call-ID", B(OPT VIA_A "To: <sip:bob@10.0.0.2>" CRLF
     "From: <sip:a@10.0.0.1>;tag=1" CRLF "Call-ID: o\0wn" CRLF
     "CSeq: 1 OPTIONS" CRLF CRLF), SIPD_V_SEND, 400, "SIP/2.0 400 ", NULL},
    {"NUL in the request line", "OPTIONS sip:b\0b@10.0.0.2 SIP/2.0" CRLF
     VIA_A HDRS_A CRLF, sizeof("OPTIONS sip:b\0b@10.0.0.2 SIP/2.0" CRLF
     VIA_A HDRS_A CRLF) - 1, SIPD_V_SEND, 400, "SIP/2.0 400 ", NULL},
    {"NUL in the body is fine", OPT VIA_A HDRS_A "Content-Length: 3" CRLF
     CRLF "a\0b", sizeof(OPT VIA_A HDRS_A "Content-Length: 3" CRLF CRLF
     "a\0b") - 1, SIPD_V_SEND, 0, "\r\n\r\na\0b", NULL},
    {"quoted NUL in a display name (RFC 3261 quoted-pair)",
     OPT VIA_A "To: \"x\\\0y\" <sip:bob@10.0.0.2>" CRLF
     "From: <sip:a@10.0.0.1>;tag=1" CRLF "Call-ID: own@10.0.0.1" CRLF
     "CSeq: 1 OPTIONS" CRLF CRLF,
     sizeof(OPT VIA_A "To: \"x\\\0y\" <sip:bob@10.0.0.2>" CRLF
     "From: <sip:a@10.0.0.1>;tag=1" CRLF "Call-ID: own@10.0.0.1" CRLF
     "CSeq: 1 OPTIONS" CRLF CRLF) - 1, SIPD_V_SEND, 0, "x\\\0y", NULL},
    {"unquoted NUL in To", OPT VIA_A "To: x\\\0y <sip:bob@10.0.0.2>" CRLF
     "From: <sip:a@10.0.0.1>;tag=1" CRLF "Call-ID: own@10.0.0.1" CRLF
     "CSeq: 1 OPTIONS" CRLF CRLF,
     sizeof(OPT VIA_A "To: x\\\0y <sip:bob@10.0.0.2>" CRLF
     "From: <sip:a@10.0.0.1>;tag=1" CRLF "Call-ID: own@10.0.0.1" CRLF
     "CSeq: 1 OPTIONS" CRLF CRLF) - 1, SIPD_V_SEND, 400, NULL, NULL},
    {"bytes after Content-Length discarded (RFC 3261 18.3)",
     OPT VIA_A HDRS_A "Content-Length: 2" CRLF CRLF "okGARBAGE", 0,
     SIPD_V_SEND, 0, "Content-Length: 2\r\n\r\nok", "GARBAGE"},
    {"Content-Length beyond the datagram", OPT VIA_A HDRS_A
     "Content-Length: 10" CRLF CRLF "short", 0, SIPD_V_SEND, 400,
     "SIP/2.0 400 ", NULL},
    {"Content-Length negative", OPT VIA_A HDRS_A "Content-Length: -1" CRLF
     CRLF, 0, SIPD_V_SEND, 400, "SIP/2.0 400 ", NULL},
    {"Content-Length 2^64", OPT VIA_A HDRS_A
     "Content-Length: 18446744073709551616" CRLF CRLF, 0, SIPD_V_SEND, 400,
     "SIP/2.0 400 ", NULL},
    {"Max-Forwards negative", OPT VIA_A HDRS_A "Max-Forwards: -1" CRLF CRLF,
     0, SIPD_V_SEND, 400, "SIP/2.0 400 ", NULL},
    {"Max-Forwards 2^32+1", OPT VIA_A HDRS_A "Max-Forwards: 4294967297" CRLF
     CRLF, 0, SIPD_V_SEND, 400, "SIP/2.0 400 ", NULL},
    {"Max-Forwards 1 leaves as 0", OPT VIA_A HDRS_A "Max-Forwards: 1" CRLF
     CRLF, 0, SIPD_V_SEND, 0, "\r\nMax-Forwards: 0\r\n", NULL},
    {"Max-Forwards 0 on OPTIONS: 483", OPT VIA_A HDRS_A "Max-Forwards: 0"
     CRLF CRLF, 0, SIPD_V_SEND, 483, "SIP/2.0 483 Too Many Hops\r\n",
     NULL},
    {"CSeq 2^31", OPT VIA_A "To: <sip:bob@10.0.0.2>" CRLF
     "From: <sip:a@10.0.0.1>;tag=1" CRLF "Call-ID: own@10.0.0.1" CRLF
     "CSeq: 2147483648 OPTIONS" CRLF CRLF, 0, SIPD_V_SEND, 400,
     "SIP/2.0 400 ", NULL},
    {"CSeq negative", OPT VIA_A "To: <sip:bob@10.0.0.2>" CRLF
     "From: <sip:a@10.0.0.1>;tag=1" CRLF "Call-ID: own@10.0.0.1" CRLF
     "CSeq: -1 OPTIONS" CRLF CRLF, 0, SIPD_V_SEND, 400, "SIP/2.0 400 ",
     NULL},
    {"Request-URI port 65536", "OPTIONS sip:bob@10.0.0.2:65536 SIP/2.0" CRLF
     VIA_A HDRS_A CRLF, 0, SIPD_V_SEND, 400, "SIP/2.0 400 ", NULL},
    {"Request-URI port 0", "OPTIONS sip:bob@10.0.0.2:0 SIP/2.0" CRLF
     VIA_A HDRS_A CRLF, 0, SIPD_V_SEND, 400, "SIP/2.0 400 ", NULL},
    {"Via port 99999: no address for a reply", OPT
     "Via: SIP/2.0/UDP 10.0.0.1:99999;branch=z9hG4bK1" CRLF HDRS_A CRLF, 0,
     SIPD_V_DROP, 0, NULL, NULL},
    {"rport=0 in Via: 400 to the source", OPT
     "Via: SIP/2.0/UDP 10.0.0.1;rport=0;branch=z9hG4bK1" CRLF HDRS_A CRLF,
     0, SIPD_V_SEND, 400, "\r\nVia: SIP/2.0/UDP 10.0.0.1;received=", NULL},
    {"maddr naming us is stripped (RFC 3261 16.4)",
     "OPTIONS sip:bob@example.com:5060;maddr=127.0.0.1;transport=udp "
     "SIP/2.0" CRLF VIA_A HDRS_A CRLF, 0, SIPD_V_RESOLVE, 0,
     "OPTIONS sip:bob@example.com SIP/2.0\r\n", "maddr"},
    {"maddr naming us at another port is the next hop",
     "OPTIONS sip:bob@10.0.0.2:5080;maddr=127.0.0.1 SIP/2.0" CRLF VIA_A
     HDRS_A CRLF, 0, SIPD_V_SEND, 0, ";maddr=127.0.0.1 SIP/2.0\r\n", NULL},
    {"maddr naming us, other params kept",
     "OPTIONS sip:bob@10.0.0.2;x=1;maddr=127.0.0.1;y SIP/2.0" CRLF VIA_A
     HDRS_A CRLF, 0, SIPD_V_SEND, 0,
     "OPTIONS sip:bob@10.0.0.2;x=1;y SIP/2.0\r\n", "maddr"},
    {"maddr naming someone else is the next hop",
     "OPTIONS sip:bob@example.com;maddr=10.0.0.9 SIP/2.0" CRLF VIA_A HDRS_A
     CRLF, 0, SIPD_V_SEND, 0, ";maddr=10.0.0.9 SIP/2.0\r\n", NULL},
    {"CANCEL forwarded statelessly", "CANCEL sip:bob@10.0.0.2:5080 SIP/2.0"
     CRLF VIA_A "To: <sip:bob@10.0.0.2>" CRLF "From: <sip:a@10.0.0.1>;tag=1"
     CRLF "Call-ID: own@10.0.0.1" CRLF "CSeq: 1 CANCEL" CRLF CRLF, 0,
     SIPD_V_SEND, 0, "CANCEL sip:bob@10.0.0.2:5080 SIP/2.0\r\nVia: SIP/2.0/"
     "UDP 127.0.0.1:5060;branch=z9hG4bKsS", NULL},
    {"ACK forwarded statelessly", "ACK sip:bob@10.0.0.2:5080 SIP/2.0" CRLF
     VIA_A "To: <sip:bob@10.0.0.2>;tag=9" CRLF "From: <sip:a@10.0.0.1>;tag=1"
     CRLF "Call-ID: own@10.0.0.1" CRLF "CSeq: 1 ACK" CRLF CRLF, 0,
     SIPD_V_SEND, 0, "ACK sip:bob@10.0.0.2:5080 SIP/2.0\r\nVia: SIP/2.0/"
     "UDP 127.0.0.1:5060;branch=z9hG4bKsS", NULL},
    {"response with a foreign top Via dropped", "SIP/2.0 200 OK" CRLF VIA_A
     HDRS_A CRLF, 0, SIPD_V_DROP, 0, NULL, NULL},
    {"garbage start line", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
     11, SIPD_V_DROP, 0, NULL, NULL},
    {"start line only", OPT, 0, SIPD_V_DROP, 0, NULL, NULL},
    {"truncated header block", OPT VIA_A "To: <sip:bo", 0, SIPD_V_SEND, 400,
     "SIP/2.0 400 ", NULL},
};

/* t_own_one - one table case */
static void t_own_one(const struct t_own *c)
{
    size_t len = c->len ? c->len : strlen(c->in);
    struct sipd_route_out out;
    struct stats_slot st;
    int v;

    memcpy(t_big, c->in, len);          /* no NUL after the datagram */
    v = t_route(t_big, len, &out, &st);
    is_int(v, c->verdict, "%s: verdict", c->name);
    is_int(out.status, c->status, "%s: status", c->name);
    if (c->has != NULL)
        ok(memmem(out.buf, out.len, c->has, strlen(c->has)) != NULL,
           "%s: output has the bytes expected", c->name);
    if (c->hasnt != NULL)
        ok(memmem(out.buf, out.len, c->hasnt, strlen(c->hasnt)) == NULL,
           "%s: output lacks \"%s\"", c->name, c->hasnt);
    if (v == SIPD_V_DROP)
        is_int((long long)out.len, 0, "%s: nothing to send", c->name);
    ok(out.len <= out.cap, "%s: within cap", c->name);
}

/* t_build - head + n copies of line (one %d: the copy number) + tail
 *      into t_big; its length */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static size_t t_build(const char *head, const char *line, int n,
                      const char *tail)
{
    size_t o = 0;
    int i;

    o += (size_t)snprintf(t_big + o, sizeof(t_big) - o, "%s", head);
    for (i = 0; i < n && o + strlen(line) + 1 < sizeof(t_big); i++)
        o += (size_t)snprintf(t_big + o, sizeof(t_big) - o, line, i);
    o += (size_t)snprintf(t_big + o, sizeof(t_big) - o, "%s", tail);
    return o;
}

/* t_big_one - route t_big[0..len) and check verdict/status */
static void t_big_one(const char *name, size_t len, int verdict, int status)
{
    struct sipd_route_out out;
    struct stats_slot st;
    int v = t_route(t_big, len, &out, &st);

    is_int(v, verdict, "%s (%zu bytes): verdict", name, len);
    is_int(out.status, status, "%s: status %d", name, out.status);
    ok(out.len <= out.cap, "%s: within cap", name);
}

/* t_sized - the big generated cases */
static void t_sized(void)
{
    size_t n;
    char body[65536];

    /* thousands of headers: more than SIP_MAX_HDRS is a 400 */
    n = t_build(OPT VIA_A HDRS_A, "X-H%d: v" CRLF, 3000, CRLF);
    t_big_one("3000 headers", n, SIPD_V_SEND, 400);
    n = t_build(OPT VIA_A HDRS_A, "X-H%d: v" CRLF, 200, CRLF);
    t_big_one("200 headers", n, SIPD_V_SEND, 0);
    /* deep folding: one header over 5000 continuation lines */
    n = t_build(OPT VIA_A HDRS_A "X-Fold: a", CRLF " %d", 5000, CRLF CRLF);
    t_big_one("5000 folds", n, SIPD_V_SEND, 0);
    /* a 60000-byte header line */
    n = t_build(OPT VIA_A HDRS_A "X-Long: ", "%d0123456789", 4000,
                CRLF CRLF);
    t_big_one("long header line", n, SIPD_V_SEND, 0);
    /* many Vias: 200 in one header, and 250 headers */
    n = t_build(OPT VIA_A HDRS_A "Via: SIP/2.0/UDP 10.0.0.1",
                ",SIP/2.0/UDP 10.0.0.%d", 200, CRLF CRLF);
    t_big_one("200 via-parms in one Via", n, SIPD_V_SEND, 0);
    n = t_build(OPT VIA_A HDRS_A, "Via: SIP/2.0/UDP 10.0.1.%d" CRLF, 240,
                CRLF);
    t_big_one("240 Via headers", n, SIPD_V_SEND, 0);
    /* many Routes, none ours: forward to the first */
    n = t_build(OPT VIA_A HDRS_A "Route: <sip:10.0.0.7;lr>",
                ",<sip:10.0.2.%d;lr>", 500, CRLF CRLF);
    t_big_one("500 Routes", n, SIPD_V_SEND, 0);
    /* many Routes naming us, then one that does not */
    n = t_build(OPT VIA_A HDRS_A "Route: <sip:127.0.0.1;lr>",
                ",<sip:127.0.0.1:5060;lr>", 6, ",<sip:10.0.0.7;lr>" CRLF CRLF);
    t_big_one("7 Routes naming us", n, SIPD_V_SEND, 0);
    /* a 64 KiB datagram: it still fits in the worker's buffer once
     * the proxy adds its Via (netd refuses what UDP cannot carry) */
    memset(body, 'b', sizeof(body));
    n = (size_t)snprintf(t_big, sizeof(t_big),
                         OPT VIA_A HDRS_A "Content-Length: %d" CRLF CRLF,
                         65535 - 300);
    memcpy(t_big + n, body, 65535 - 300);
    t_big_one("64 KiB datagram", n + 65535 - 300, SIPD_V_SEND, 0);
    n = (size_t)snprintf(t_big, sizeof(t_big),
                         OPT VIA_A HDRS_A "Content-Length: %d" CRLF CRLF,
                         60000);
    memcpy(t_big + n, body, 60000);
    t_big_one("60000-byte body", n + 60000, SIPD_V_SEND, 0);
}

static void t_setup(void)
{
    static const char text[] = "[net]\nlisten = udp:127.0.0.1:5060\n";
    char err[256];

    if (cfg_load_buf(&t_cfg, "t", text, sizeof(text) - 1, err,
                     sizeof(err)) < 0) {
        printf("Bail out! cfg: %s\n", err);
        exit(1);
    }
    sip_msg_init(&t_m);
    sip_msg_init(&t_in);
    sip_msg_init(&t_out);
}

int main(void)
{
    size_t i;

    t_setup();
    t_corpus();
    for (i = 0; i < sizeof(t_own_cases) / sizeof(t_own_cases[0]); i++)
        t_own_one(&t_own_cases[i]);
    t_sized();
    return done_testing();
}
