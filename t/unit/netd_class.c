/*
 * SUMMARY
 *      netd_class unit tests: new work, in-dialog work or a response
 * DESCRIPTION
 *      Part 1: a table of whole messages, each with the class netd must
 *      give it: compact and long header names in any case, To with and
 *      without a tag, ";tag=" inside a quoted display name or inside
 *      <uri> (not a tag), a bare addr-spec whose ;tag is the header's,
 *      folded To lines, each in-dialog method, a lowercase method, a
 *      re-INVITE, responses, and garbage.
 *
 *      Part 2: the cheap classifier against the full parser. For every
 *      message of t/data/sip and t/data/rfc4475 ($SIP_CORPUS_DIR,
 *      $SIP_RFC4475_DIR) that sip_msg_parse() accepts, the class must
 *      be what the parsed message says: a response; a request whose
 *      method is ACK/BYE/CANCEL/PRACK/UPDATE/INFO or whose To has a
 *      tag; or new work. Messages the parser refuses must not crash it
 *      (their class is not judged: sipd drops or answers them anyway).
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "netd_class.h"
#include "sip_msg.h"
#include "tap.h"

#define CRLF "\r\n"
#define VIA "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds" CRLF
#define FROM "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
#define CID "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
#define REQ(method, to, cseq)                                              \
    method " sip:bob@biloxi.example.com SIP/2.0" CRLF VIA                  \
    "Max-Forwards: 70" CRLF to FROM CID "CSeq: " cseq CRLF                 \
    "Content-Length: 0" CRLF CRLF

struct netd_class_case {
    const char *name;
    const char *msg;
    enum netd_class want;
};

#define GARBAGE "\x01\x02\xff garbage\x00 tag=1\r\nTo: x;tag=2\r\n\r\n"
#define NEW NETD_CLASS_NEW
#define DLG NETD_CLASS_DIALOG
#define RSP NETD_CLASS_REPLY

static const struct netd_class_case cases[] = {
    /* new work */
    {"INVITE, To without tag",
     REQ("INVITE", "To: Bob <sip:bob@biloxi.example.com>" CRLF,
         "314159 INVITE"), NEW},
    {"OPTIONS", REQ("OPTIONS", "To: <sip:bob@biloxi.example.com>" CRLF,
                    "1 OPTIONS"), NEW},
    {"REGISTER (To has no tag)",
     REQ("REGISTER", "To: <sip:alice@atlanta.example.com>" CRLF,
         "2 REGISTER"), NEW},
    {"SUBSCRIBE", REQ("SUBSCRIBE", "To: <sip:bob@biloxi.example.com>" CRLF,
                      "3 SUBSCRIBE"), NEW},
    {"MESSAGE", REQ("MESSAGE", "To: <sip:bob@biloxi.example.com>" CRLF,
                    "4 MESSAGE"), NEW},
    {"compact t: without tag",
     "INVITE sip:bob@b.example SIP/2.0" CRLF
     "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKc1" CRLF
     "t: <sip:bob@b.example>" CRLF "f: <sip:a@a.example>;tag=9" CRLF
     "i: c1@a.example" CRLF "CSeq: 1 INVITE" CRLF "l: 0" CRLF CRLF, NEW},
    {"tag in a quoted display name is not a tag",
     REQ("INVITE", "To: \"Bob;tag=xyz\" <sip:bob@biloxi.example.com>" CRLF,
         "1 INVITE"), NEW},
    {"tag in the display name, with an escaped quote",
     REQ("INVITE",
         "To: \"B \\\" ;tag=1\" <sip:bob@biloxi.example.com>" CRLF,
         "1 INVITE"), NEW},
    {"tag as a URI parameter inside <> is not a tag",
     REQ("INVITE", "To: <sip:bob@biloxi.example.com;tag=abc>" CRLF,
         "1 INVITE"), NEW},
    {"empty tag= is no tag",
     REQ("INVITE", "To: <sip:bob@biloxi.example.com>;tag=" CRLF,
         "1 INVITE"), NEW},
    {"a tag parameter on another header",
     REQ("INVITE", "X-To: <sip:bob@biloxi.example.com>;tag=77" CRLF
                   "Toto: <sip:x@y>;tag=1" CRLF
                   "To: <sip:bob@biloxi.example.com>" CRLF,
         "1 INVITE"), NEW},
    {"tag in the body, not the headers",
     "INVITE sip:bob@b.example SIP/2.0" CRLF VIA
     "Content-Length: 30" CRLF CRLF "To: <sip:bob@b.example>;tag=1" CRLF,
     NEW},
    {"lowercase bye is an extension method (RFC 3261 7.1)",
     REQ("bye", "To: <sip:bob@biloxi.example.com>" CRLF, "7 bye"), NEW},
    {"lowercase invite without tag",
     REQ("invite", "to: <sip:bob@biloxi.example.com>" CRLF, "7 invite"),
     NEW},
    {"method prefix: ACKNOWLEDGE is not ACK",
     REQ("ACKNOWLEDGE", "To: <sip:bob@biloxi.example.com>" CRLF,
         "1 ACKNOWLEDGE"), NEW},
    {"no To header", "OPTIONS sip:b@b.example SIP/2.0" CRLF VIA CID CRLF, NEW},
    {"To that does not parse",
     REQ("INVITE", "To: \"unclosed <sip:b@b.example>;tag=1" CRLF, "1 INVITE"),
     NEW},
    {"empty", "", NEW},
    {"only CRLFs", CRLF CRLF, NEW},
    {"one word", "INVITE", NEW},
    {"response lookalike in lowercase", "sip/2.0 200 OK" CRLF CRLF, NEW},
    {"start line only, no LF", "INVITE sip:b@b.example SIP/2.0", NEW},

    /* in-dialog */
    {"ACK", REQ("ACK", "To: <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF,
                "314159 ACK"), DLG},
    {"BYE", REQ("BYE", "To: <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF,
                "231 BYE"), DLG},
    {"CANCEL (no To tag)",
     REQ("CANCEL", "To: Bob <sip:bob@biloxi.example.com>" CRLF,
         "314159 CANCEL"), DLG},
    {"PRACK", REQ("PRACK", "To: <sip:bob@b.example>;tag=1" CRLF, "2 PRACK"),
     DLG},
    {"UPDATE", REQ("UPDATE", "To: <sip:bob@b.example>;tag=1" CRLF,
                   "3 UPDATE"), DLG},
    {"INFO", REQ("INFO", "To: <sip:bob@b.example>" CRLF, "4 INFO"), DLG},
    {"ACK without any header", "ACK sip:b@b.example SIP/2.0" CRLF CRLF, DLG},
    {"re-INVITE (To tag)",
     REQ("INVITE", "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF,
         "314160 INVITE"), DLG},
    {"NOTIFY in a subscription (To tag)",
     REQ("NOTIFY", "To: <sip:alice@a.example>;tag=ffd2" CRLF, "8 NOTIFY"),
     DLG},
    {"compact t: with tag",
     "MESSAGE sip:bob@b.example SIP/2.0" CRLF
     "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKc2" CRLF
     "f: <sip:a@a.example>;tag=9" CRLF "t: <sip:bob@b.example>;tag=8" CRLF
     "i: c2@a.example" CRLF "CSeq: 2 MESSAGE" CRLF "l: 0" CRLF CRLF, DLG},
    {"upper-case TO and TAG, space before the colon",
     REQ("SUBSCRIBE", "TO  : <sip:bob@b.example> ; TAG = 5x" CRLF,
         "9 SUBSCRIBE"), DLG},
    {"lowercase method with a To tag",
     REQ("invite", "To: <sip:bob@b.example>;tag=1" CRLF, "9 invite"), DLG},
    {"bare addr-spec: its ;tag belongs to the header (RFC 3261 20.10)",
     REQ("INVITE", "To: sip:bob@biloxi.example.com;tag=abc" CRLF,
         "5 INVITE"), DLG},
    {"tag after a display name holding '<'",
     REQ("INVITE", "To: \"a<b\" <sip:bob@b.example>;x=1;tag=q" CRLF,
         "5 INVITE"), DLG},
    {"folded To: the tag on a continuation line",
     REQ("INVITE", "To: Bob" CRLF "  <sip:bob@b.example>" CRLF
                   "\t;tag=314" CRLF, "6 INVITE"), DLG},
    {"folded header before To",
     REQ("INVITE", "Subject: a long" CRLF " subject" CRLF
                   "To: <sip:bob@b.example>;tag=1" CRLF, "6 INVITE"), DLG},
    {"bare LF line ends",
     "INVITE sip:b@b.example SIP/2.0\nVia: SIP/2.0/UDP 1.2.3.4\n"
     "To: <sip:b@b.example>;tag=2\nCall-ID: lf\n\n", DLG},

    /* responses */
    {"200 OK", "SIP/2.0 200 OK" CRLF VIA
               "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF FROM CID
               "CSeq: 314159 INVITE" CRLF "Content-Length: 0" CRLF CRLF, RSP},
    {"100 Trying (no To tag)",
     "SIP/2.0 100 Trying" CRLF VIA "To: <sip:bob@b.example>" CRLF CRLF, RSP},
    {"503 after a keep-alive CRLF", CRLF "SIP/2.0 503 Busy" CRLF CRLF, RSP},
    {"response, start line only", "SIP/2.0 ", RSP},
};

/* t_cases - part 1 */
static void t_cases(void)
{
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct netd_class_case *c = &cases[i];

        is_str(netd_class_name(netd_class_of(c->msg, strlen(c->msg))),
               netd_class_name(c->want), "%s", c->name);
    }
    /* a NUL inside, then a To header with a tag: still garbage */
    is_str(netd_class_name(netd_class_of(GARBAGE, sizeof(GARBAGE) - 1)),
           "new", "garbage with a NUL and a tagged To");
}

/* t_read - the whole file, exactly its size (NULL on error) */
static char *t_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0
        && fseek(f, 0, SEEK_SET) == 0
        && (buf = malloc(n > 0 ? (size_t)n : 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            *len = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

/* t_expect - the class the full parse gives */
static enum netd_class t_expect(const struct sip_msg *m)
{
    static const char *const dlg[] = {"ACK", "BYE", "CANCEL", "PRACK",
                                      "UPDATE", "INFO"};
    size_t i;

    if (!m->is_request)
        return NETD_CLASS_REPLY;
    for (i = 0; i < sizeof(dlg) / sizeof(dlg[0]); i++)
        if (m->method.len == strlen(dlg[i])
            && memcmp(m->method.s, dlg[i], m->method.len) == 0)
            return NETD_CLASS_DIALOG;
    return m->to.tag.s != NULL && m->to.tag.len > 0 ? NETD_CLASS_DIALOG
                                                    : NETD_CLASS_NEW;
}

/* t_dir - part 2 over one directory; counts parsed and judged */
static void t_dir(const char *dir, struct sip_msg *m, int *parsed,
                  int *files)
{
    struct dirent *e;
    char path[1024];
    DIR *d;

    if ((d = opendir(dir)) == NULL) {
        ok(0, "opendir %s", dir);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name), len = 0;
        enum netd_class got;
        char *buf;

        if (l <= 4 || strcmp(e->d_name + l - 4, ".msg") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if ((buf = t_read(path, &len)) == NULL) {
            ok(0, "read %s", path);
            continue;
        }
        (*files)++;
        got = netd_class_of(buf, len);  /* must not crash on any */
        if (sip_msg_parse(m, buf, len, 0) == 0) {
            (*parsed)++;
            is_str(netd_class_name(got), netd_class_name(t_expect(m)),
                   "%s: as the full parser says", path);
        }
        free(buf);
    }
    closedir(d);
}

/* t_corpus - part 2 */
static void t_corpus(void)
{
    const char *sip = getenv("SIP_CORPUS_DIR");
    const char *rfc = getenv("SIP_RFC4475_DIR");
    struct sip_msg *m = malloc(sizeof(*m));
    int parsed = 0, files = 0;

    if (m == NULL) {
        ok(0, "malloc");
        return;
    }
    sip_msg_init(m);
    t_dir(sip != NULL ? sip : "t/data/sip", m, &parsed, &files);
    t_dir(rfc != NULL ? rfc : "t/data/rfc4475", m, &parsed, &files);
    ok(files >= 70 && parsed >= 30,
       "corpus: %d messages, %d parsed and compared", files, parsed);
    free(m);
}

int main(void)
{
    t_cases();
    t_corpus();
    return done_testing();
}
