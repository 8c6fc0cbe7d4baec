/*
 * SUMMARY
 *      t/unit/mid_jsonrpc - TAP tests for mid/mid_jsonrpc.c
 * DESCRIPTION
 *      mid_jsonrpc_t_runs[] holds one POST /mi body per row and the exact
 *      response mid_jsonrpc_run() must give for it, run against the real
 *      command table (mid_mi.c) with a zeroed struct mid: only commands
 *      that read nothing of it but argv (which, arg, an unknown
 *      statistic, a wrong argument count). mid_jsonrpc_t_replies[] holds
 *      one MI reply per row (code, reason, "NAME:: VALUE" lines) and the
 *      exact response mid_jsonrpc_reply() must make of it.
 *
 *      Rows about bugs: a reply without lines (buf NULL, len 0) once
 *      did NULL + 0, which only clang's -fsanitize=undefined reports
 *      (make CC=clang SAN=undefined); text cut by "%.64s" inside a
 *      UTF-8 character, which jansson refused, so the client got HTTP
 *      500 instead of the command's error; and a last value without LF
 *      read past the reply's end (found by fuzz_mi): each reply gets a
 *      buffer of its exact size, so make SAN=address,undefined sees it.
 * PROTOCOL
 *      None.
 * DIAGNOSTICS
 *      TAP on stdout; the exit status is the number of failures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mid.h"
#include "tap.h"

/* 40 times U+00E9 (2 bytes each) */
#define E10 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9" \
            "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
#define E40 E10 E10 E10 E10
#define E30 E10 E10 E10

struct mid_jsonrpc_t_run {
    const char *name;
    const char *body;
    const char *want;                   /* exact response */
    const char *want_id;                /* the id kept for a deferral */
};

static const struct mid_jsonrpc_t_run mid_jsonrpc_t_runs[] = {
    {"not JSON", "{\"jsonrpc\":",
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32700,\"message\":"
     "\"Parse error\"},\"id\":null}", "null"},
    {"a batch", "[{\"jsonrpc\":\"2.0\",\"method\":\"which\",\"id\":1}]",
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":"
     "\"Batch requests are not supported\"},\"id\":null}", "null"},
    {"a string (not an object or array: the parser says no)", "\"which\"",
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32700,\"message\":"
     "\"Parse error\"},\"id\":null}", "null"},
    {"no jsonrpc member", "{\"method\":\"which\",\"id\":3}",
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":"
     "\"Invalid Request\"},\"id\":3}", "3"},
    {"jsonrpc 1.0", "{\"jsonrpc\":\"1.0\",\"method\":\"which\",\"id\":3}",
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":"
     "\"Invalid Request\"},\"id\":3}", "3"},
    {"method not a string", "{\"jsonrpc\":\"2.0\",\"method\":7,\"id\":\"a\"}",
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":"
     "\"Invalid Request\"},\"id\":\"a\"}", "\"a\""},
    {"duplicate key", "{\"jsonrpc\":\"2.0\",\"method\":\"which\","
     "\"method\":\"arg\"}",
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32700,\"message\":"
     "\"Parse error\"},\"id\":null}", "null"},
    {"unknown method", "{\"jsonrpc\":\"2.0\",\"method\":\"nosuch\",\"id\":4}",
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32601,\"message\":"
     "\"Method not found\"},\"id\":4}", "4"},
    {"unknown method, long and not ASCII",
     "{\"jsonrpc\":\"2.0\",\"method\":\"x" E40 "\",\"id\":4}",
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32601,\"message\":"
     "\"Method not found\"},\"id\":4}", "4"},
    {"an object as param",
     "{\"jsonrpc\":\"2.0\",\"method\":\"get_statistics\","
     "\"params\":[{\"a\":1}],\"id\":5}",
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32602,\"message\":"
     "\"Invalid params\"},\"id\":5}", "5"},
    {"params a string",
     "{\"jsonrpc\":\"2.0\",\"method\":\"get_statistics\","
     "\"params\":\"core:\",\"id\":5}",
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32602,\"message\":"
     "\"Invalid params\"},\"id\":5}", "5"},
    {"17 params",
     "{\"jsonrpc\":\"2.0\",\"method\":\"get_statistics\",\"params\":"
     "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17],\"id\":5}",
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32602,\"message\":"
     "\"Invalid params\"},\"id\":5}", "5"},
    {"a NUL in a param (the parser says no)",
     "{\"jsonrpc\":\"2.0\",\"method\":\"get_statistics\","
     "\"params\":[\"a\\u0000b\"],\"id\":5}",
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32700,\"message\":"
     "\"Parse error\"},\"id\":null}", "null"},
    {"too many arguments",
     "{\"jsonrpc\":\"2.0\",\"method\":\"uptime\",\"params\":[1],\"id\":6}",
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":400,\"message\":"
     "\"Too few or too many arguments\"},\"id\":6}", "6"},
    {"unknown statistic, params an object",
     "{\"jsonrpc\":\"2.0\",\"method\":\"get_statistics\","
     "\"params\":{\"statistics\":[\"nosuch:\"]},\"id\":7}",
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":404,\"message\":"
     "\"Statistics nosuch: not found\"},\"id\":7}", "7"},
    {"unknown statistic, long and not ASCII: cut at a character",
     "{\"jsonrpc\":\"2.0\",\"method\":\"get_statistics\","
     "\"params\":[\"x" E40 "\"],\"id\":8}",
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":404,\"message\":"
     "\"Statistics x" E30 "\xc3\xa9? not found\"},\"id\":8}", "8"},
    {"arg: numbers and booleans as text, no id",
     "{\"jsonrpc\":\"2.0\",\"method\":\"arg\",\"params\":[]}",
     "{\"jsonrpc\":\"2.0\",\"result\":[\"mid\",\"-f\",\"caf?\",12],"
     "\"id\":null}", "null"},
    {"id an object", "{\"jsonrpc\":\"2.0\",\"method\":\"arg\",\"id\":{}}",
     "{\"jsonrpc\":\"2.0\",\"result\":[\"mid\",\"-f\",\"caf?\",12],"
     "\"id\":null}", "null"},
};

struct mid_jsonrpc_t_reply {
    const char *name;
    int code;
    const char *reason;
    const char *lines;                  /* NULL: buf NULL, len 0 */
    const char *want;                   /* exact response to id 9 */
};

static const struct mid_jsonrpc_t_reply mid_jsonrpc_t_replies[] = {
    {"no lines (buf NULL)", 200, "OK", NULL,
     "{\"jsonrpc\":\"2.0\",\"result\":\"OK\",\"id\":9}"},
    {"no lines (buf empty)", 200, "OK", "",
     "{\"jsonrpc\":\"2.0\",\"result\":\"OK\",\"id\":9}"},
    {"named lines, a number", 200, "OK", "Now:: Mon\nUp time:: 5 [sec]\n"
     "Count:: -12\n",
     "{\"jsonrpc\":\"2.0\",\"result\":{\"Now\":\"Mon\",\"Up time\":"
     "\"5 [sec]\",\"Count\":-12},\"id\":9}"},
    {"18 digits are a number, \"-\" a string", 200, "OK",
     "N:: -123456789012345678\nM:: -\n",
     "{\"jsonrpc\":\"2.0\",\"result\":{\"N\":-123456789012345678,"
     "\"M\":\"-\"},\"id\":9}"},
    {"19 digits stay a string", 200, "OK", "N:: 1234567890123456789\n",
     "{\"jsonrpc\":\"2.0\",\"result\":{\"N\":\"1234567890123456789\"},"
     "\"id\":9}"},
    {"a name twice, KEY=VALUE words", 200, "OK",
     "Process:: ID=1 PID=7 Type=netd\nProcess:: ID=2 PID=8 Type=sipd\n",
     "{\"jsonrpc\":\"2.0\",\"result\":{\"Process\":[{\"ID\":1,\"PID\":7,"
     "\"Type\":\"netd\"},{\"ID\":2,\"PID\":8,\"Type\":\"sipd\"}]},"
     "\"id\":9}"},
    {"nameless lines", 200, "OK", ":: a\n:: b\n",
     "{\"jsonrpc\":\"2.0\",\"result\":[\"a\",\"b\"],\"id\":9}"},
    {"named and nameless", 200, "OK", "x:: 1\n:: b\n",
     "{\"jsonrpc\":\"2.0\",\"result\":{\"x\":1,\"\":[\"b\"]},\"id\":9}"},
    {"a line without \":: \" is left out", 200, "OK", "junk\nx:: 1",
     "{\"jsonrpc\":\"2.0\",\"result\":{\"x\":1},\"id\":9}"},
    {"an empty value at the end, no LF (fuzz_mi)", 200, "OK", "x:: ",
     "{\"jsonrpc\":\"2.0\",\"result\":{\"x\":\"\"},\"id\":9}"},
    {"not UTF-8 in a value", 200, "OK", "x:: a\xff" "b\n",
     "{\"jsonrpc\":\"2.0\",\"result\":{\"x\":\"a?b\"},\"id\":9}"},
    {"not UTF-8 in a name", 200, "OK", "\xc3:: 1\n",
     "{\"jsonrpc\":\"2.0\",\"result\":{\"?\":1},\"id\":9}"},
    {"not UTF-8 in a word", 200, "OK", "p:: ID=\xe2\x82 K\xc0\xaf=2\n",
     "{\"jsonrpc\":\"2.0\",\"result\":{\"p\":{\"ID\":\"??\",\"K??\":2}},"
     "\"id\":9}"},
    {"an error", 404, "Statistics x: not found", "x:: 1\n",
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":404,\"message\":"
     "\"Statistics x: not found\"},\"id\":9}"},
    {"an error cut inside a character", 404, "No such stage \xc3", NULL,
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":404,\"message\":"
     "\"No such stage ?\"},\"id\":9}"},
    {"a surrogate and an overlong NUL", 500, "a\xed\xa0\x80" "b\xc0\x80", NULL,
     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":500,\"message\":"
     "\"a???b??\"},\"id\":9}"},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct mid mid_jsonrpc_t_mid;
static char *mid_jsonrpc_t_argv[] = {"mid", "-f", "caf\xc3", "12", NULL};

static void mid_jsonrpc_t_run(const struct mid_jsonrpc_t_run *t)
{
    char id[64];
    uint32_t defer = 1;
    char *out;

    out = mid_jsonrpc_run(&mid_jsonrpc_t_mid, t->body, strlen(t->body), id,
                          sizeof(id), &defer);
    is_str(out, t->want, "run: %s", t->name);
    is_str(id, t->want_id, "run: %s: id", t->name);
    is_int(defer, 0, "run: %s: not deferred", t->name);
    free(out);
}

static void mid_jsonrpc_t_reply(const struct mid_jsonrpc_t_reply *t)
{
    struct mid_mi_reply r;
    char *out;

    memset(&r, 0, sizeof(r));
    r.code = t->code;
    snprintf(r.reason, sizeof(r.reason), "%s", t->reason);
    if (t->lines != NULL) {             /* exact size: ASan sees past it */
        r.len = r.cap = strlen(t->lines);
        r.buf = malloc(r.cap > 0 ? r.cap : 1);
        memcpy(r.buf, t->lines, r.len);
    }
    out = mid_jsonrpc_reply("9", &r);
    is_str(out, t->want, "reply: %s", t->name);
    free(out);
    free(r.buf);
}

/* mid_jsonrpc_t_error - an error message of every byte value */
static void mid_jsonrpc_t_error(void)
{
    char msg[256], *out;
    int i, bad = 0;

    for (i = 1; i < 256; i++)
        msg[i - 1] = (char)i;
    msg[255] = '\0';
    out = mid_jsonrpc_error("null", -32000, msg);
    ok(out != NULL, "error: every byte value gives a response");
    for (i = 0; out != NULL && out[i] != '\0'; i++)
        bad += (unsigned char)out[i] >= 0x80;
    is_int(bad, 0, "error: no byte over 0x7f is left (none is UTF-8)");
    free(out);
}

int main(void)
{
    size_t i;

    mid_jsonrpc_t_mid.argc = 4;
    mid_jsonrpc_t_mid.argv = mid_jsonrpc_t_argv;
    plan((int)(3 * NELEM(mid_jsonrpc_t_runs) + NELEM(mid_jsonrpc_t_replies))
         + 2);
    for (i = 0; i < NELEM(mid_jsonrpc_t_runs); i++)
        mid_jsonrpc_t_run(&mid_jsonrpc_t_runs[i]);
    for (i = 0; i < NELEM(mid_jsonrpc_t_replies); i++)
        mid_jsonrpc_t_reply(&mid_jsonrpc_t_replies[i]);
    mid_jsonrpc_t_error();
    return done_testing();
}
