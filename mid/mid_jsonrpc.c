/*
 * SUMMARY
 *    mid_jsonrpc - MI commands as JSON-RPC 2.0 (jansson's only user)
 * DESCRIPTION
 *    The body of an HTTP "POST /mi" (mid_http.c) is one JSON-RPC 2.0
 *    call in OpenSIPS 3's MI shape:
 *
 *        {"jsonrpc":"2.0","method":"get_statistics",
 *         "params":["core:"] | {"statistics":["core:"]},"id":1}
 *
 *    mid_jsonrpc_run() parses it, runs the FIFO command of that name
 *    (mid_mi_run(): every FIFO command, same arguments) and returns the
 *    response text. params may be an array of arguments or an object
 *    whose values, in order, are the arguments (an array value gives
 *    one argument per element, as OpenSIPS' "statistics":[...]);
 *    strings are taken as they are, numbers and booleans as their
 *    text. The "NAME:: VALUE" lines of the MI reply become one object:
 *    a name seen twice becomes an array (ps' "Process"), a value of
 *    digits a number, a value of KEY=VALUE words an object ("ID=1
 *    PID=7 Type=netd" -> {"ID":1,"PID":7,"Type":"netd"}), nameless
 *    lines (which, arg) an array; a reply without lines is "OK", as
 *    OpenSIPS 3 says. A command a stage answers (dns_cache_dump) is
 *    deferred: mid_jsonrpc_run() returns NULL with *defer set, and
 *    mid_jsonrpc_reply() makes the response when the answer is in.
 *
 *    jansson takes UTF-8 only, and MI text need not be: a reason cut
 *    by "%.64s" inside a character, mid's argv, a stage's answer. Each
 *    byte that is not part of a well-formed character (RFC 3629) goes
 *    out as "?", so the client gets the error or the result, not a
 *    response that could not be built (HTTP 500).
 * PROTOCOL
 *    JSON-RPC 2.0. Errors: -32700 parse error, -32600 invalid request
 *    (not an object, no "jsonrpc":"2.0", no method, a batch), -32601
 *    method not found, -32602 invalid params (nested objects, more
 *    than MID_JSONRPC_ARGS, an argument over MID_JSONRPC_ARG bytes); a
 *    command's non-200 reply becomes {"code":CODE,"message":REASON}
 *    with the MI code (400, 404, 500 ...). A call without "id" is
 *    answered with "id":null.
 * DIAGNOSTICS
 *    Nothing is logged (bad calls are the client's: it gets the error).
 *    Out of memory: NULL without *defer; mid_http.c answers 500.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mid.h"

#define MID_JSONRPC_ARGS 16             /* arguments, at most */
#define MID_JSONRPC_ARG 256             /* bytes of one, NUL included */

struct mid_jsonrpc_args {
    char *v[MID_JSONRPC_ARGS];
    char buf[MID_JSONRPC_ARGS][MID_JSONRPC_ARG];
    int n;
};

/*
 * mid_jsonrpc_utf8_len - the bytes of the well-formed UTF-8 character
 *    at s (n > 0 bytes left), or 0: no overlong form, no surrogate,
 *    nothing past U+10FFFF (RFC 3629 section 4, what jansson checks)
 */
static size_t mid_jsonrpc_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char lo = 0x80, hi = 0xbf;
    size_t len, i;

    if (s[0] < 0x80)
        return 1;
    if (s[0] < 0xc2 || s[0] > 0xf4)
        return 0;
    len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
    if (s[0] == 0xe0)
        lo = 0xa0;                      /* overlong */
    else if (s[0] == 0xed)
        hi = 0x9f;                      /* surrogates */
    else if (s[0] == 0xf0)
        lo = 0x90;                      /* overlong */
    else if (s[0] == 0xf4)
        hi = 0x8f;                      /* past U+10FFFF */
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/* mid_jsonrpc_utf8 - in place: each byte of s[0..n-1] not in a
 *    well-formed UTF-8 character becomes '?' */
static void mid_jsonrpc_utf8(char *s, size_t n)
{
    size_t i = 0, l;

    while (i < n) {
        if ((l = mid_jsonrpc_utf8_len((unsigned char *)s + i, n - i)) == 0)
            s[i++] = '?';
        else
            i += l;
    }
}

/* mid_jsonrpc_string - n bytes of s as a JSON string, made UTF-8 */
static json_t *mid_jsonrpc_string(const char *s, size_t n)
{
    json_t *v = json_stringn(s, n);
    char *copy;

    if (v != NULL || (copy = malloc(n + 1)) == NULL)
        return v;                       /* valid, or out of memory */
    memcpy(copy, s, n);
    mid_jsonrpc_utf8(copy, n);
    v = json_stringn(copy, n);
    free(copy);
    return v;
}

/* mid_jsonrpc_text - a response object as compact text; frees o */
static char *mid_jsonrpc_text(json_t *o)
{
    char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    return s;
}

/* mid_jsonrpc_id - the id as JSON text kept for the reply ("null") */
static void mid_jsonrpc_id(json_t *id, char *out, size_t cap)
{
    char *s = NULL;

    if (id != NULL && (json_is_string(id) || json_is_number(id)))
        s = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(out, cap, "%s", s != NULL && strlen(s) < cap ? s : "null");
    free(s);
}

/* mid_jsonrpc_envelope - {"jsonrpc":"2.0", KEY: val, "id": id} */
static char *mid_jsonrpc_envelope(const char *id, const char *key, json_t *val)
{
    json_t *o = json_object(), *jid = json_loads(id, JSON_DECODE_ANY, NULL);

    if (o == NULL || val == NULL) {
        json_decref(o);
        json_decref(val);
        json_decref(jid);
        return NULL;
    }
    json_object_set_new(o, "jsonrpc", json_string("2.0"));
    json_object_set_new(o, key, val);
    json_object_set_new(o, "id", jid != NULL ? jid : json_null());
    return mid_jsonrpc_text(o);
}

/*
 * mid_jsonrpc_error - an error response for request id (JSON text,
 *    "null" when not known): {"code":code,"message":msg}, msg made
 *    UTF-8. Malloc'ed text, or NULL (out of memory).
 */
char *mid_jsonrpc_error(const char *id, int code, const char *msg)
{
    return mid_jsonrpc_envelope(id, "error",
                                json_pack("{s:i,s:o}", "code", code,
                                          "message",
                                          mid_jsonrpc_string(msg,
                                                             strlen(msg))));
}

/* mid_jsonrpc_arg - one scalar param as an argument; -1 if not one */
static int mid_jsonrpc_arg(json_t *v, struct mid_jsonrpc_args *a)
{
    char *b;
    int n;

    if (a->n >= MID_JSONRPC_ARGS)
        return -1;
    b = a->buf[a->n];
    if (json_is_string(v)) {
        if (json_string_length(v) >= MID_JSONRPC_ARG
            || strlen(json_string_value(v)) != json_string_length(v))
            return -1;                  /* too long, or a NUL inside */
        n = snprintf(b, MID_JSONRPC_ARG, "%s", json_string_value(v));
    } else if (json_is_integer(v))
        n = snprintf(b, MID_JSONRPC_ARG, "%" JSON_INTEGER_FORMAT,
                     json_integer_value(v));
    else if (json_is_real(v))
        n = snprintf(b, MID_JSONRPC_ARG, "%g", json_real_value(v));
    else if (json_is_boolean(v))
        n = snprintf(b, MID_JSONRPC_ARG, "%d", json_is_true(v));
    else
        return -1;
    if (n < 0)
        return -1;
    a->v[a->n++] = b;
    return 0;
}

/* mid_jsonrpc_value - a param: a scalar, or an array of scalars */
static int mid_jsonrpc_value(json_t *v, struct mid_jsonrpc_args *a)
{
    json_t *e;
    size_t i;

    if (!json_is_array(v))
        return mid_jsonrpc_arg(v, a);
    json_array_foreach(v, i, e) {
        if (mid_jsonrpc_arg(e, a) < 0)
            return -1;
    }
    return 0;
}

/* mid_jsonrpc_params - params (absent, array or object) into a */
static int mid_jsonrpc_params(json_t *params, struct mid_jsonrpc_args *a)
{
    const char *key;
    json_t *v;
    size_t i;

    a->n = 0;
    if (params == NULL || json_is_null(params))
        return 0;
    if (json_is_array(params)) {
        json_array_foreach(params, i, v) {
            if (mid_jsonrpc_arg(v, a) < 0)
                return -1;
        }
        return 0;
    }
    if (!json_is_object(params))
        return -1;
    json_object_foreach(params, key, v) {
        if (mid_jsonrpc_value(v, a) < 0)
            return -1;
    }
    return 0;
}

/*
 * mid_jsonrpc_scalar - "123" -> 123 (up to 18 digits, which fit),
 *    anything else a string. Reads s[0..n-1] only: the last line of a
 *    reply need not end in LF, and nothing follows it.
 */
static json_t *mid_jsonrpc_scalar(const char *s, size_t n)
{
    size_t d = n > 0 && s[0] == '-' ? 1 : 0, i = d;
    long long v = 0;

    while (i < n && i - d < 18 && s[i] >= '0' && s[i] <= '9')
        v = v * 10 + (s[i++] - '0');
    if (i > d && i == n)
        return json_integer(d ? -v : v);
    return mid_jsonrpc_string(s, n);
}

/* mid_jsonrpc_words - "K=V K=V" -> {"K":V,...}; NULL if not that shape */
static json_t *mid_jsonrpc_words(const char *s, size_t n)
{
    json_t *o = json_object();
    char key[64];
    size_t i = 0, w, eq;

    while (o != NULL && i < n) {
        w = i;
        while (w < n && s[w] != ' ')
            w++;
        eq = i;
        while (eq < w && s[eq] != '=')
            eq++;
        if (eq == i || eq == w || eq - i >= sizeof(key))
            break;                      /* a word that is not KEY=VALUE */
        memcpy(key, s + i, eq - i);
        key[eq - i] = 0;
        mid_jsonrpc_utf8(key, eq - i);
        json_object_set_new(o, key, mid_jsonrpc_scalar(s + eq + 1,
                                                       w - eq - 1));
        i = w + 1;
    }
    if (o != NULL && i >= n && n > 0)
        return o;
    json_decref(o);
    return NULL;
}

/* mid_jsonrpc_add - NAME: VALUE into res; a second NAME makes an array */
static void mid_jsonrpc_add(json_t *res, const char *name, json_t *v)
{
    json_t *old = json_object_get(res, name), *arr;

    if (old == NULL) {
        json_object_set_new(res, name, v);
        return;
    }
    if (!json_is_array(old)) {
        if ((arr = json_array()) == NULL) {
            json_decref(v);
            return;
        }
        json_array_append(arr, old);
        json_object_set_new(res, name, arr);
        old = arr;
    }
    json_array_append_new(old, v);
}

/* mid_jsonrpc_result - the reply's lines as the "result" value */
static json_t *mid_jsonrpc_result(const struct mid_mi_reply *r)
{
    json_t *res = json_object(), *v, *bare = json_array();
    const char *p = r->buf, *end, *nl, *sep;
    char name[128];

    /* no lines: buf may be NULL, and NULL + 0 is undefined */
    end = p != NULL ? p + r->len : NULL;
    while (res != NULL && bare != NULL && p != NULL && p < end) {
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            nl = end;
        sep = memmem(p, (size_t)(nl - p), ":: ", 3);
        if (sep != NULL && (size_t)(sep - p) < sizeof(name)) {
            v = mid_jsonrpc_words(sep + 3, (size_t)(nl - sep - 3));
            if (v == NULL)
                v = mid_jsonrpc_scalar(sep + 3, (size_t)(nl - sep - 3));
            memcpy(name, p, (size_t)(sep - p));
            name[sep - p] = 0;
            mid_jsonrpc_utf8(name, (size_t)(sep - p));
            if (name[0] == 0)
                json_array_append_new(bare, v);
            else
                mid_jsonrpc_add(res, name, v);
        }
        p = nl + 1;
    }
    if (res != NULL && bare != NULL && json_array_size(bare) > 0) {
        if (json_object_size(res) == 0) {
            json_decref(res);
            return bare;                /* which, arg */
        }
        json_object_set(res, "", bare);
    }
    json_decref(bare);
    if (res != NULL && json_object_size(res) == 0) {
        json_decref(res);
        return json_string("OK");
    }
    return res;
}

/*
 * mid_jsonrpc_reply - the response to request id (JSON text, as
 *    mid_jsonrpc_run() kept it) for MI reply r: a result for 200, else
 *    an error with r's code and reason. Malloc'ed text, or NULL.
 */
char *mid_jsonrpc_reply(const char *id, const struct mid_mi_reply *r)
{
    if (r->code != 200)
        return mid_jsonrpc_error(id, r->code, r->reason);
    return mid_jsonrpc_envelope(id, "result", mid_jsonrpc_result(r));
}

/* mid_jsonrpc_call - a parsed request object: run it */
static char *mid_jsonrpc_call(struct mid *m, json_t *req, char *id,
                              size_t idcap, uint32_t *defer)
{
    json_t *ver = json_object_get(req, "jsonrpc");
    json_t *meth = json_object_get(req, "method");
    struct mid_jsonrpc_args *a;
    struct mid_mi_reply r;
    char *out;

    mid_jsonrpc_id(json_object_get(req, "id"), id, idcap);
    if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0
        || !json_is_string(meth))
        return mid_jsonrpc_error(id, -32600, "Invalid Request");
    if (!mid_mi_exists(json_string_value(meth)))
        return mid_jsonrpc_error(id, -32601, "Method not found");
    if ((a = malloc(sizeof(*a))) == NULL)
        return NULL;
    if (mid_jsonrpc_params(json_object_get(req, "params"), a) < 0) {
        free(a);
        return mid_jsonrpc_error(id, -32602, "Invalid params");
    }
    memset(&r, 0, sizeof(r));
    mid_mi_run(m, json_string_value(meth), a->v, a->n, &r);
    free(a);
    *defer = r.defer;
    out = r.defer != 0 ? NULL : mid_jsonrpc_reply(id, &r);
    free(r.buf);
    return out;
}

/*
 * mid_jsonrpc_run - one JSON-RPC call of len bytes (need not be
 *    NUL-terminated). Returns the malloc'ed response text; or NULL with
 *    *defer != 0 when a stage answers (mid_relay.c: the caller binds
 *    *defer, then makes the response with mid_jsonrpc_reply(id, ...));
 *    or NULL with *defer == 0 (out of memory). id (idcap bytes) gets
 *    the request's id as JSON text.
 */
char *mid_jsonrpc_run(struct mid *m, const char *body, size_t len, char *id,
                      size_t idcap, uint32_t *defer)
{
    json_error_t jerr;
    json_t *req;
    char *out;

    *defer = 0;
    snprintf(id, idcap, "null");
    if ((req = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
        return mid_jsonrpc_error(id, -32700, "Parse error");
    if (!json_is_object(req))
        out = mid_jsonrpc_error(id, -32600, json_is_array(req)
                                                ? "Batch requests are not "
                                                  "supported"
                                                : "Invalid Request");
    else
        out = mid_jsonrpc_call(m, req, id, idcap, defer);
    json_decref(req);
    return out;
}
