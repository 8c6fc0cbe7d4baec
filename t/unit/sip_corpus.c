/*
 * SUMMARY
 *      sip_corpus - parse each .msg in t/data/sip and compare with .expect
 * DESCRIPTION
 *      For each NAME.msg in $SIP_CORPUS_DIR (default "t/data/sip"), the
 *      parse result is rendered as "rc: N" plus either "reason: ..." or
 *      the sip_msg_dump() text, and compared with NAME.expect (golden
 *      file, like Postfix *.ref). A message that parses must also print
 *      back byte-identical, and parse again after the edits a proxy
 *      makes (new top Via, Max-Forwards replaced).
 *
 *      SIP_CORPUS_UPDATE=1 rewrites the .expect files instead of
 *      comparing; review the diff before committing it.
 */
#include <dirent.h>
#include <errno.h>

#include "tap.h"
#include "sip_msg.h"

static struct sip_msg sip_c_m;
static char sip_c_text[262144];
static char sip_c_out[131072];
static char sip_c_dump2[262144];

/* sip_c_read - the whole file in a buffer of exactly its size */
static char *sip_c_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0
        && fseek(f, 0, SEEK_SET) == 0
        && (buf = malloc(n > 0 ? (size_t)n : 1)) != NULL
        && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf != NULL)
        *len = (size_t)n;
    fclose(f);
    return buf;
}

/* sip_c_errname - errno names, so .expect files do not vary by libc */
static const char *sip_c_errname(int r)
{
    switch (r) {
    case 0:
        return "0";
    case -EBADMSG:
        return "-EBADMSG";
    case -E2BIG:
        return "-E2BIG";
    case -EINVAL:
        return "-EINVAL";
    default:
        return "other";
    }
}

/* sip_c_render - "rc: N\n" then the reason or the dump */
static int sip_c_render(const char *buf, size_t len)
{
    int r = sip_msg_parse(&sip_c_m, buf, len, 0);
    int n = snprintf(sip_c_text, sizeof(sip_c_text), "rc: %s\n",
                     sip_c_errname(r));

    if (r < 0)
        snprintf(sip_c_text + n, sizeof(sip_c_text) - (size_t)n,
                 "reason: %s\n", sip_c_m.reason);
    else if (sip_msg_dump(&sip_c_m, sip_c_text + n,
                          sizeof(sip_c_text) - (size_t)n) < 0)
        snprintf(sip_c_text, sizeof(sip_c_text), "dump too big\n");
    return r;
}

/* sip_c_roundtrip - print back identical; edit, print, parse again */
static void sip_c_roundtrip(const char *name)
{
    const struct sip_msg *m = &sip_c_m;
    size_t want = (size_t)(m->buf + m->msg_len - m->start.s);
    ssize_t n = sip_msg_print(m, sip_c_out, sizeof(sip_c_out));
    int mf;

    is_mem(sip_c_out, n < 0 ? 0 : (size_t)n, m->start.s, want,
           "%s: prints byte-identical", name);
    if (!m->is_request)
        return;
    ok(sip_msg_hdr_insertf(&sip_c_m, sip_c_m.first[SIP_HDR_VIA],
                           "Via: SIP/2.0/UDP 192.0.2.99;branch=z9hG4bK%s",
                           "corpus") >= 0, "%s: insert Via", name);
    mf = sip_c_m.first[SIP_HDR_MAX_FORWARDS];
    if (mf >= 0)
        ok(sip_msg_hdr_replace(&sip_c_m, mf, STR_LIT("Max-Forwards: 9")) == 0,
           "%s: replace Max-Forwards", name);
    n = sip_msg_print(m, sip_c_out, sizeof(sip_c_out));
    ok(n > 0 && sip_msg_parse(&sip_c_m, sip_c_out, (size_t)n, 0) == 0,
       "%s: edited message parses again", name);
    if (mf >= 0)
        is_int(sip_c_m.max_forwards, 9, "%s: with Max-Forwards 9", name);
    ok(sip_msg_dump(&sip_c_m, sip_c_dump2, sizeof(sip_c_dump2)) > 0
           && strstr(sip_c_dump2, "via1.branch: z9hG4bKcorpus\n") != NULL,
       "%s: and the new Via on top", name);
}

/* sip_c_one - check NAME.msg against NAME.expect */
static void sip_c_one(const char *dir, const char *file, int update)
{
    char path[4096];
    char *msg;
    char *expect;
    size_t mlen;
    size_t elen;
    size_t base = strlen(file) - 4;
    int r;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    if (!ok((msg = sip_c_read(path, &mlen)) != NULL, "read %s", file))
        return;
    r = sip_c_render(msg, mlen);
    snprintf(path, sizeof(path), "%s/%.*s.expect", dir, (int)base, file);
    if (update) {
        FILE *f = fopen(path, "w");

        ok(f != NULL && fputs(sip_c_text, f) >= 0 && fclose(f) == 0,
           "wrote %s", path);
    } else if ((expect = sip_c_read(path, &elen)) == NULL) {
        ok(0, "%s: no %s", file, path);
    } else {
        is_mem(sip_c_text, strlen(sip_c_text), expect, elen, "%s: as expected",
               file);
        free(expect);
    }
    if (r == 0)
        sip_c_roundtrip(file);
    free(msg);
}

/* sip_c_is_msg - scandir filter: *.msg */
static int sip_c_is_msg(const struct dirent *d)
{
    size_t n = strlen(d->d_name);

    return n > 4 && strcmp(d->d_name + n - 4, ".msg") == 0;
}

int main(void)
{
    const char *dir = getenv("SIP_CORPUS_DIR");
    const char *upd = getenv("SIP_CORPUS_UPDATE");
    struct dirent **list;
    int n;
    int i;

    if (dir == NULL || *dir == 0)
        dir = "t/data/sip";
    sip_msg_init(&sip_c_m);
    n = scandir(dir, &list, sip_c_is_msg, alphasort);
    if (!ok(n > 0, "corpus %s has .msg files", dir))
        return done_testing();
    for (i = 0; i < n; i++) {
        sip_c_one(dir, list[i]->d_name, upd != NULL && *upd == '1');
        free(list[i]);
    }
    free(list);
    return done_testing();
}
