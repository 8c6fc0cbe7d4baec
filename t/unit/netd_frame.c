/*
 * SUMMARY
 *      netd_frame unit tests: TCP framing, keep-alives, bounds, alias
 * DESCRIPTION
 *      Each case feeds a byte stream in chunks (a chunk list split at
 *      '|') and lists the events netd_frame_next() must report, in order:
 *      M<body> a message whose body is <body>, P a ping, A (need more at
 *      the end), O oversize, E endless header, B bad frame.
 */
#include <stdlib.h>
#include <string.h>

#include "netd_frame.h"
#include "tap.h"

#define MSG(cl, body)                                                  \
    "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP 1.2.3.4;branch=z9hG4bKx\r\n" \
    "Call-ID: c\r\nContent-Length: " cl "\r\n\r\n" body

struct netd_frame_case {
    const char *name;
    const char *chunks;                 /* '|' separates reads */
    size_t max;
    const char *events;                 /* e.g. "M,P,A" */
};

static const struct netd_frame_case cases[] = {
    {"one message", MSG("3", "abc"), 65535, "Mabc,A"},
    {"two messages in one segment", MSG("1", "x") MSG("2", "yz"), 65535,
     "Mx,Myz,A"},
    {"one message in three reads", "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2|"
     ".0/TCP 1.2.3.4\r\nCall-ID: c\r\nContent-Length: 4\r\n\r|\nbo|dy",
     65535, "A,A,A,Mbody,A"},
    {"empty line split CR|LF", "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: c\r\n"
     "Content-Length: 0\r\n\r|\n", 65535, "A,M,A"},
    {"ping", "\r\n\r\n", 65535, "P,A"},
    {"ping in two reads", "\r\n|\r\n", 65535, "A,P,A"},
    {"ping then message", "\r\n\r\n" MSG("1", "q"), 65535, "P,Mq,A"},
    {"pong before message skipped", "\r\n" MSG("1", "q"), 65535, "Mq,A"},
    {"compact form l:", "OPTIONS sip:a@b SIP/2.0\r\nl: 2\r\n\r\nhi", 65535,
     "Mhi,A"},
    {"no Content-Length", "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: c\r\n\r\n",
     65535, "B"},
    {"Content-Length 2^31", MSG("2147483648", ""), 65535, "O"},
    {"Content-Length over max", MSG("300", ""), 256, "O"},
    {"endless header", "OPTIONS sip:a@b SIP/2.0\r\nX: "
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     100, "E"},
    {"body exactly at max", "OPTIONS x SIP/2.0\r\nl: 4\r\n\r\nabcd", 31,
     "Mabcd,A"},
};

/* run one case: the events seen, comma separated */
static void run(const struct netd_frame_case *c, char *out, size_t cap)
{
    struct netd_frame f;
    struct netd_frame_msg m;
    const char *p = c->chunks;
    size_t used = 0;
    int r;

    memset(&f, 0, sizeof(f));
    f.buf = malloc(65536 * 2);
    f.cap = 65536 * 2;
    out[0] = '\0';
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);

        memcpy(f.buf + f.len, p, n);
        f.len += n;
        while ((r = netd_frame_next(&f, c->max, &m)) != NETD_FR_AGAIN) {
            char ev[64];

            if (r == NETD_FR_MSG)
                snprintf(ev, sizeof(ev), "M%.*s", (int)m.body_len,
                         f.buf + m.start + m.hdr_len);
            else
                snprintf(ev, sizeof(ev), "%c",
                         r == NETD_FR_PING ? 'P' : r == NETD_FR_OVERSIZE ? 'O'
                         : r == NETD_FR_ENDLESS ? 'E' : 'B');
            used += (size_t)snprintf(out + used, cap - used, "%s%s",
                                     used ? "," : "", ev);
            if (r != NETD_FR_MSG && r != NETD_FR_PING)
                goto out;
        }
        used += (size_t)snprintf(out + used, cap - used, "%sA",
                                 used ? "," : "");
        netd_frame_compact(&f);
        if (bar == NULL)
            break;
        p = bar + 1;
    }
out:
    free(f.buf);
}

static void t_alias(void)
{
    static const char h1[] = "INVITE sip:x SIP/2.0\r\n"
                             "v: SIP/2.0/TCP 10.0.0.5:5070;branch=z;alias\r\n"
                             "Via: SIP/2.0/UDP 1.1.1.1\r\n\r\n";
    static const char h2[] = "INVITE sip:x SIP/2.0\r\n"
                             "Via: SIP/2.0/TCP 10.0.0.5;branch=z\r\n\r\n";
    static const char h3[] = "INVITE sip:x SIP/2.0\r\n"
                             "Via: SIP/2.0/TCP host.example;alias\r\n\r\n";
    struct msg_addr a;

    is_int(netd_frame_via_alias(h1, sizeof(h1) - 1, &a), 1, "alias found");
    is_int(a.family, AF_INET, "alias: IPv4");
    is_int(ntohs(a.port), 5070, "alias: port");
    is_int(a.ip[3], 5, "alias: address");
    is_int(netd_frame_via_alias(h2, sizeof(h2) - 1, &a), 0, "no ;alias");
    is_int(netd_frame_via_alias(h3, sizeof(h3) - 1, &a), 0,
           "alias with a host name: ignored");
}

int main(void)
{
    char got[512];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run(&cases[i], got, sizeof(got));
        is_str(got, cases[i].events, "%s", cases[i].name);
    }
    t_alias();
    return done_testing();
}
