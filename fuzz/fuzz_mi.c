/*
 * SUMMARY
 *      fuzz_mi - libFuzzer target for mid's management interface parsers
 * DESCRIPTION
 *      Each input goes through both parsers of mid/:
 *
 *      FIFO (mid_fifo.c, included here for its static mid_fifo_parse()):
 *      the input is what clients wrote to the server FIFO. It is fed
 *      three ways, as mid_fifo_on_read() feeds what read(2) returns:
 *      whole; in chunks of 1 to 16 bytes (by the first byte); and
 *      repeated to three times the buffer (mid's fifo_buf), or 32 times
 *      for a short input (each feed costs an open(2) per request), so
 *      that oversized requests and lines and the skipping after them
 *      are reached. Invariants: every request run has a command without
 *      ":" or LF, at most 16 arguments, each non-empty and without LF,
 *      and no more requests than the input has lines; whole and
 *      chunked give the same requests, in order (when the input fits
 *      the buffer: a request that arrives in pieces is parsed once,
 *      whole); the buffer never holds more than its size; no reply is
 *      left pending (the reply FIFOs live under a directory that does
 *      not exist, so each open fails and the reply is freed: ASan's
 *      leak check sees one that is not).
 *
 *      JSON-RPC (mid_jsonrpc.c): the input is the body of a POST /mi,
 *      run by mid_jsonrpc_run(); then the input is a stage's answer,
 *      lines of a 200 reply made a result by mid_jsonrpc_reply(), and
 *      the reason of an error reply (its first 127 bytes). Invariants:
 *      every response is made (no out of memory here), parses as JSON,
 *      is an object with "jsonrpc":"2.0", exactly one of "result" and
 *      "error" (an error has an integer code and a string message), and
 *      an "id" equal to the id text mid_jsonrpc_run() kept, which is
 *      itself valid JSON.
 *
 *      The stubs stand for what would talk to other processes or read
 *      mid's shared memory: mid_mi_run() knows five commands of mid_mi.c's
 *      table with their argument counts, and answers as mid_mi.c does
 *      for an unknown command (500), a wrong count (400) and an unknown
 *      statistic (404, "%.64s" of the name); dns_cache_dump is deferred
 *      (a stage answers: mid_relay_bind() only counts). Nothing else of
 *      mid is stubbed: mid_reply.c, common/ev.c and common/log.c are
 *      the real ones (warnings go to stderr, rate-limited).
 *
 *      make fuzz builds it with the files named on the FUZZ_SRC line,
 *      links the FUZZ_LIBS line and seeds it from t/data/mi/.
 * FUZZ_SRC: mid/mid_jsonrpc.c mid/mid_reply.c common/ev.c common/log.c
 * FUZZ_LIBS: -ljansson
 * FUZZ_CORPUS: t/data/mi/*
 */
#include <assert.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../mid/mid_fifo.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MI_LOG (64 * 1024)         /* the requests one feed ran */
#define FUZZ_MI_REPEAT 32               /* feeds of the input, at most */

static struct mid fuzz_mi_mid;
static int fuzz_mi_fifo;                /* mid_mi_run called by the FIFO */
static char fuzz_mi_log[FUZZ_MI_LOG];   /* cmd NUL args NUL ... LF */
static size_t fuzz_mi_loglen;
static size_t fuzz_mi_nreq;
static unsigned fuzz_mi_binds;

/* --- stubs ---------------------------------------------------------- */

/* a few rows of mid_mi.c's table: name, least and most arguments */
static const struct {
    const char *name;
    int min, max;
} fuzz_mi_cmds[] = {
    {"dns_cache_dump", 0, 0}, {"get_statistics", 1, 16},
    {"uptime", 0, 0},         {"version", 0, 0},
    {"which", 0, 0},
};

#define FUZZ_MI_NCMDS (sizeof(fuzz_mi_cmds) / sizeof(fuzz_mi_cmds[0]))

/* fuzz_mi_cmd - cmd's row in fuzz_mi_cmds, or -1 */
static int fuzz_mi_cmd(const char *cmd)
{
    size_t i;

    for (i = 0; i < FUZZ_MI_NCMDS; i++)
        if (strcmp(fuzz_mi_cmds[i].name, cmd) == 0)
            return (int)i;
    return -1;
}

int mid_mi_exists(const char *cmd)
{
    return fuzz_mi_cmd(cmd) >= 0;
}

/* fuzz_mi_record - check a FIFO request and append it to the log */
static void fuzz_mi_record(const char *cmd, char **args, int nargs)
{
    size_t n;
    int i;

    assert(strchr(cmd, ':') == NULL && strchr(cmd, '\n') == NULL);
    assert(nargs >= 0 && nargs <= MID_FIFO_MAX_ARGS);
    fuzz_mi_nreq++;
    for (i = -1; i < nargs; i++) {
        const char *s = i < 0 ? cmd : args[i];

        if (i >= 0)
            assert(s[0] != '\0' && strchr(s, '\n') == NULL);
        n = strlen(s) + 1;
        if (fuzz_mi_loglen + n + 1 > sizeof(fuzz_mi_log))
            return;                     /* the log is only for comparing */
        memcpy(fuzz_mi_log + fuzz_mi_loglen, s, n);
        fuzz_mi_loglen += n;
    }
    fuzz_mi_log[fuzz_mi_loglen++] = '\n';
}

void mid_mi_run(struct mid *m, const char *cmd, char **args, int nargs,
                struct mid_mi_reply *r)
{
    size_t i;
    int c = fuzz_mi_cmd(cmd);

    (void)m;
    if (fuzz_mi_fifo)
        fuzz_mi_record(cmd, args, nargs);
    mid_reply_status(r, 200, "OK");
    if (c < 0) {
        mid_reply_status(r, 500, "command '%.64s' not available", cmd);
        return;
    }
    if (nargs < fuzz_mi_cmds[c].min || nargs > fuzz_mi_cmds[c].max) {
        mid_reply_status(r, 400, "Too few or too many arguments");
        return;
    }
    if (strcmp(cmd, "dns_cache_dump") == 0) {
        r->defer = 1;                   /* dnsd answers, in mid_relay.c */
        return;
    }
    if (strcmp(cmd, "which") == 0) {
        for (i = 0; i < FUZZ_MI_NCMDS; i++)
            mid_reply_line(r, "", "%s", fuzz_mi_cmds[i].name);
        return;
    }
    for (i = 0; i < (size_t)nargs; i++) {    /* get_statistics */
        if (strcmp(args[i], "all") != 0 && strcmp(args[i], "core:") != 0) {
            mid_reply_status(r, 404, "Statistics %.64s not found", args[i]);
            return;
        }
        mid_reply_line(r, "core:rcv_requests", "%d", 0);
    }
    if (strcmp(cmd, "uptime") == 0)
        mid_reply_line(r, "Up time", "%d [sec]", 5);
    else if (strcmp(cmd, "version") == 0)
        mid_reply_line(r, "Server", "sipstage %s", MID_VERSION);
}

void mid_relay_bind(struct mid *m, uint32_t id, const char *reply,
                    mid_reply_fn *deliver)
{
    (void)m;
    (void)reply;
    (void)deliver;
    assert(id != 0);
    fuzz_mi_binds++;
}

void mid_relay_close(struct mid *m)
{
    (void)m;
}

/* --- FIFO ----------------------------------------------------------- */

/* fuzz_mi_feed - data as reads of at most chunk bytes, like on_read */
static void fuzz_mi_feed(struct mid *m, const uint8_t *data, size_t size,
                         size_t chunk)
{
    size_t off = 0, n, room;

    while (off < size) {
        room = sizeof(m->fifo_buf) - 1 - m->fifo_len;
        n = size - off < chunk ? size - off : chunk;
        n = n < room ? n : room;
        assert(n > 0);                  /* parse always leaves room */
        memcpy(m->fifo_buf + m->fifo_len, data + off, n);
        m->fifo_len += n;
        off += n;
        mid_fifo_parse(m);
        assert(m->fifo_len < sizeof(m->fifo_buf));
        assert(m->replies == NULL);
    }
}

static void fuzz_mi_fifo_reset(struct mid *m)
{
    m->fifo_len = 0;
    m->fifo_skip = 0;
    fuzz_mi_loglen = 0;
    fuzz_mi_nreq = 0;
}

static void fuzz_mi_fifo_run(const uint8_t *data, size_t size)
{
    struct mid *m = &fuzz_mi_mid;
    static char whole[FUZZ_MI_LOG];
    size_t wlen, lines = 0, i, total, k;

    for (i = 0; i < size; i++)
        lines += data[i] == '\n';
    fuzz_mi_fifo = 1;
    fuzz_mi_fifo_reset(m);
    fuzz_mi_feed(m, data, size, sizeof(m->fifo_buf));
    assert(fuzz_mi_nreq <= lines);
    wlen = fuzz_mi_loglen;
    memcpy(whole, fuzz_mi_log, wlen);
    fuzz_mi_fifo_reset(m);
    fuzz_mi_feed(m, data, size, size > 0 ? data[0] % 16 + 1 : 1);
    if (size < sizeof(m->fifo_buf) - 1)
        assert(fuzz_mi_loglen == wlen
               && memcmp(fuzz_mi_log, whole, wlen) == 0);
    fuzz_mi_fifo_reset(m);
    for (total = k = 0; size > 0 && total < 3 * sizeof(m->fifo_buf)
                        && k < FUZZ_MI_REPEAT; total += size, k++)
        fuzz_mi_feed(m, data, size, 4096);
    fuzz_mi_fifo = 0;
}

/* --- JSON-RPC ------------------------------------------------------- */

/* fuzz_mi_check - out is a JSON-RPC 2.0 response to id (JSON text) */
static void fuzz_mi_check(char *out, const char *id)
{
    json_t *o, *want, *res, *err;

    assert(out != NULL);
    o = json_loads(out, JSON_ALLOW_NUL, NULL); /* "\u0000" is JSON */
    want = json_loads(id, JSON_DECODE_ANY, NULL);
    assert(o != NULL && json_is_object(o) && want != NULL);
    assert(json_is_string(json_object_get(o, "jsonrpc"))
           && strcmp(json_string_value(json_object_get(o, "jsonrpc")),
                     "2.0") == 0);
    res = json_object_get(o, "result");
    err = json_object_get(o, "error");
    assert((res == NULL) != (err == NULL));
    if (err != NULL)
        assert(json_is_integer(json_object_get(err, "code"))
               && json_is_string(json_object_get(err, "message")));
    assert(json_equal(json_object_get(o, "id"), want));
    json_decref(want);
    json_decref(o);
    free(out);
}

static void fuzz_mi_jsonrpc_run(const uint8_t *data, size_t size)
{
    struct mid_mi_reply r;
    uint32_t defer;
    char id[64], *out;

    out = mid_jsonrpc_run(&fuzz_mi_mid, (const char *)data, size, id,
                          sizeof(id), &defer);
    if (out == NULL) {
        assert(defer == 1);             /* dns_cache_dump: dnsd answers */
        memset(&r, 0, sizeof(r));
        mid_reply_status(&r, 200, "OK");
        mid_reply_line(&r, "Entries", "%d", 0);
        out = mid_jsonrpc_reply(id, &r);
        free(r.buf);
    } else
        assert(defer == 0);
    fuzz_mi_check(out, id);

    /* the input as a stage's answer: lines, then a reason */
    memset(&r, 0, sizeof(r));
    r.code = 200;
    r.buf = malloc(size ? size : 1);
    assert(r.buf != NULL);
    memcpy(r.buf, data, size);
    r.len = r.cap = size;
    fuzz_mi_check(mid_jsonrpc_reply("7", &r), "7");
    r.code = 500;
    memcpy(r.reason, data, size < sizeof(r.reason) ? size
                                                   : sizeof(r.reason) - 1);
    fuzz_mi_check(mid_jsonrpc_reply("\"s\"", &r), "\"s\"");
    free(r.buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_mi_mid.cfg.fifo_name[0] == 0)
        snprintf(fuzz_mi_mid.cfg.fifo_name, sizeof(fuzz_mi_mid.cfg.fifo_name),
                 "/nonexistent/fuzz_mi/fifo");
    fuzz_mi_fifo_run(data, size);
    fuzz_mi_jsonrpc_run(data, size);
    return 0;
}
