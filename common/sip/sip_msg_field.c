/*
 * SUMMARY
 *      sip_msg_field - the parsed fields a proxy routes on
 * DESCRIPTION
 *      One function per header type derives its field of struct sip_msg
 *      (Content-Length, Max-Forwards, CSeq, Call-ID, From, To, the top
 *      two via-parms, the first Route) from the headers of that type.
 *      sip_msg_parse() runs them once (sip_msg_refresh()); the edit
 *      functions run the one for each type they touch, so a field is
 *      never stale. A field
 *      that does not parse is left absent, never half-set.
 *
 *      sip_msg_method_id() maps a method token to its enum, for the
 *      request method (sip_msg.c) and the CSeq method (here).
 *      sip_msg_check_route() checks a Route value on its own, for
 *      edits of responses (where Route is not derived otherwise).
 * PROTOCOL
 *      None: a library.
 * DIAGNOSTICS
 *      -EBADMSG with a static reason in m->reason. Nothing logs.
 */
#include <errno.h>

#include "sip_msg_priv.h"

typedef int (*sip_msg_refresh_fn)(struct sip_msg *m);

struct sip_msg_method {
    const char *name;
    enum sip_method id;
};

static const struct sip_msg_method sip_msg_methods[] = {
    {"INVITE", SIP_METHOD_INVITE},
    {"ACK", SIP_METHOD_ACK},
    {"BYE", SIP_METHOD_BYE},
    {"CANCEL", SIP_METHOD_CANCEL},
    {"REGISTER", SIP_METHOD_REGISTER},
    {"OPTIONS", SIP_METHOD_OPTIONS},
    {"INFO", SIP_METHOD_INFO},
    {"PRACK", SIP_METHOD_PRACK},
    {"UPDATE", SIP_METHOD_UPDATE},
    {"SUBSCRIBE", SIP_METHOD_SUBSCRIBE},
    {"NOTIFY", SIP_METHOD_NOTIFY},
    {"REFER", SIP_METHOD_REFER},
    {"MESSAGE", SIP_METHOD_MESSAGE},
    {"PUBLISH", SIP_METHOD_PUBLISH},
};

/* sip_msg_method_id - map a method token (case-sensitive) */
enum sip_method sip_msg_method_id(struct str method)
{
    size_t i;

    for (i = 0; i < sizeof(sip_msg_methods) / sizeof(sip_msg_methods[0]);
         i++) {
        const char *n = sip_msg_methods[i].name;

        if (method.len == strlen(n) && memcmp(method.s, n, method.len) == 0)
            return sip_msg_methods[i].id;
    }
    return SIP_METHOD_OTHER;
}

/* sip_msg_field_fail - record why, return err */
static int sip_msg_field_fail(struct sip_msg *m, const char *reason, int err)
{
    m->reason = reason;
    return err;
}

/* sip_msg_check_callid - one word, no LWS or controls */
static int sip_msg_check_callid(struct str v)
{
    size_t k;

    for (k = 0; k < v.len; k++)
        if ((unsigned char)v.s[k] <= ' ' || v.s[k] == 0x7f)
            return -EBADMSG;
    return v.len > 0 ? 0 : -EBADMSG;
}

/* sip_msg_only - the one header of a single-valued type, or NONE */
static int sip_msg_only(struct sip_msg *m, enum sip_hdr_type type,
                        const char *dup)
{
    if (m->count[type] > 1)
        return sip_msg_field_fail(m, dup, -EBADMSG);
    return m->first[type];
}

/* sip_msg_get_cl - Content-Length; several must agree */
static int sip_msg_get_cl(struct sip_msg *m)
{
    unsigned long v;
    int i;

    m->content_length = -1;
    for (i = m->first[SIP_HDR_CONTENT_LENGTH]; i >= 0;
         i = sip_msg_hdr_find(m, SIP_HDR_CONTENT_LENGTH, i)) {
        if (sip_hdr_parse_uint(m->hdrs[i].value, SIP_CONTENT_LENGTH_MAX,
                               &v) < 0
            || (m->content_length >= 0 && (unsigned long)m->content_length
                                              != v)) {
            m->content_length = -1;
            return sip_msg_field_fail(m, "Bad Content-Length", -EBADMSG);
        }
        m->content_length = (long)v;
        if (m->count[SIP_HDR_CONTENT_LENGTH] == 1)
            break;
    }
    return 0;
}

/* sip_msg_get_mf - Max-Forwards, 0..SIP_MAX_FORWARDS_MAX */
static int sip_msg_get_mf(struct sip_msg *m)
{
    int i = sip_msg_only(m, SIP_HDR_MAX_FORWARDS, "Bad Max-Forwards");
    unsigned long v;

    m->max_forwards = -1;
    if (i < -1)
        return i;
    if (i < 0)
        return 0;
    if (sip_hdr_parse_uint(m->hdrs[i].value, SIP_MAX_FORWARDS_MAX, &v) < 0)
        return sip_msg_field_fail(m, "Bad Max-Forwards", -EBADMSG);
    m->max_forwards = (int)v;
    return 0;
}

/* sip_msg_get_cseq - CSeq number and method */
static int sip_msg_get_cseq(struct sip_msg *m)
{
    int i = sip_msg_only(m, SIP_HDR_CSEQ, "Duplicate CSeq");

    m->cseq = 0;
    m->cseq_method = STR_NULL;
    m->cseq_method_id = SIP_METHOD_OTHER;
    if (i < 0)
        return i == SIP_HDR_NONE ? 0 : i;
    if (sip_hdr_parse_cseq(m->hdrs[i].value, &m->cseq, &m->cseq_method) < 0) {
        m->cseq = 0;
        m->cseq_method = STR_NULL;
        return sip_msg_field_fail(m, "Bad CSeq", -EBADMSG);
    }
    m->cseq_method_id = sip_msg_method_id(m->cseq_method);
    return 0;
}

/* sip_msg_get_callid - Call-ID: one word, no LWS */
static int sip_msg_get_callid(struct sip_msg *m)
{
    int i = sip_msg_only(m, SIP_HDR_CALL_ID, "Duplicate Call-ID");

    m->call_id = STR_NULL;
    if (i < 0)
        return i == SIP_HDR_NONE ? 0 : i;
    if (sip_msg_check_callid(m->hdrs[i].value) < 0)
        return sip_msg_field_fail(m, "Bad Call-ID", -EBADMSG);
    m->call_id = m->hdrs[i].value;
    return 0;
}

/* sip_msg_get_addr - From or To: one name-addr with optional tag */
static int sip_msg_get_addr(struct sip_msg *m, enum sip_hdr_type type,
                            struct sip_uri_addr *a, const char *dup,
                            const char *bad)
{
    int i = sip_msg_only(m, type, dup);

    memset(a, 0, sizeof(*a));
    if (i < 0)
        return i == SIP_HDR_NONE ? 0 : i;
    if (sip_uri_addr_parse(m->hdrs[i].value, a) < 0) {
        memset(a, 0, sizeof(*a));
        return sip_msg_field_fail(m, bad, -EBADMSG);
    }
    return 0;
}

static int sip_msg_get_from(struct sip_msg *m)
{
    return sip_msg_get_addr(m, SIP_HDR_FROM, &m->from, "Duplicate From",
                            "Bad From");
}

static int sip_msg_get_to(struct sip_msg *m)
{
    return sip_msg_get_addr(m, SIP_HDR_TO, &m->to, "Duplicate To", "Bad To");
}

/* sip_msg_via_clear - make a via absent */
static void sip_msg_via_clear(struct sip_via *v)
{
    memset(v, 0, sizeof(*v));
    v->hdr = SIP_HDR_NONE;
    v->rport = -1;
}

/* sip_msg_via_hdr - parse every via-parm of header i; n counts them */
static int sip_msg_via_hdr(struct sip_msg *m, int i, int *n)
{
    struct str rest = m->hdrs[i].value;
    struct sip_via tmp;
    struct sip_via *v;
    struct str elem;
    int r;

    if (rest.len == 0)
        return -EBADMSG;
    while ((r = sip_hdr_list_next(&rest, &elem)) > 0) {
        v = *n == 0 ? &m->via1 : *n == 1 ? &m->via2 : &tmp;
        if (sip_via_parse(elem, v) < 0)
            return -EBADMSG;
        v->hdr = i;
        ++*n;
    }
    return r;
}

/*
 * sip_msg_get_via - the top two via-parms
 *      Every via-parm of every Via header must parse, so that an edit
 *      of one of them never trips over a bad neighbour later.
 */
static int sip_msg_get_via(struct sip_msg *m)
{
    int i = m->first[SIP_HDR_VIA];
    int n = 0;
    int k;

    sip_msg_via_clear(&m->via1);
    sip_msg_via_clear(&m->via2);
    for (k = m->count[SIP_HDR_VIA]; k > 0; k--) {
        if (sip_msg_via_hdr(m, i, &n) < 0) {
            sip_msg_via_clear(&m->via1);
            sip_msg_via_clear(&m->via2);
            return sip_msg_field_fail(m, "Bad Via", -EBADMSG);
        }
        if (k > 1)                      /* walk on only when more remain */
            i = sip_msg_hdr_find(m, SIP_HDR_VIA, i);
    }
    return 0;
}

/* sip_msg_route_hdr - parse every element of Route header i */
static int sip_msg_route_hdr(struct sip_msg *m, int i)
{
    struct str rest = m->hdrs[i].value;
    struct sip_uri_addr tmp;
    struct sip_uri_addr *a;
    struct str elem;
    int r;

    if (rest.len == 0)
        return -EBADMSG;
    while ((r = sip_hdr_list_next(&rest, &elem)) > 0) {
        a = m->route_hdr < 0 ? &m->route : &tmp;
        if (sip_uri_addr_parse(elem, a) < 0)
            return -EBADMSG;
        if (m->route_hdr < 0)
            m->route_hdr = i;
    }
    return r;
}

/* sip_msg_get_route - the first Route element of a request; all parse */
static int sip_msg_get_route(struct sip_msg *m)
{
    int i = m->first[SIP_HDR_ROUTE];
    int k;

    memset(&m->route, 0, sizeof(m->route));
    m->route_hdr = SIP_HDR_NONE;
    if (!m->is_request)
        return 0;
    for (k = m->count[SIP_HDR_ROUTE]; k > 0; k--) {
        if (sip_msg_route_hdr(m, i) < 0) {
            memset(&m->route, 0, sizeof(m->route));
            m->route_hdr = SIP_HDR_NONE;
            return sip_msg_field_fail(m, "Bad Route", -EBADMSG);
        }
        if (k > 1)
            i = sip_msg_hdr_find(m, SIP_HDR_ROUTE, i);
    }
    return 0;
}

static const sip_msg_refresh_fn sip_msg_refreshers[SIP_HDR_NTYPES] = {
    [SIP_HDR_VIA] = sip_msg_get_via,
    [SIP_HDR_MAX_FORWARDS] = sip_msg_get_mf,
    [SIP_HDR_ROUTE] = sip_msg_get_route,
    [SIP_HDR_CSEQ] = sip_msg_get_cseq,
    [SIP_HDR_CALL_ID] = sip_msg_get_callid,
    [SIP_HDR_FROM] = sip_msg_get_from,
    [SIP_HDR_TO] = sip_msg_get_to,
    [SIP_HDR_CONTENT_LENGTH] = sip_msg_get_cl,
};

/*
 * sip_msg_refresh - recompute the parsed field of one header type
 *      On failure the field is left absent (never half-set) and the
 *      reason recorded.
 */
int sip_msg_refresh(struct sip_msg *m, enum sip_hdr_type type)
{
    sip_msg_refresh_fn fn = sip_msg_refreshers[type];

    return fn != NULL ? fn(m) : 0;
}

/* sip_msg_single - a type a message may carry only once */
int sip_msg_single(enum sip_hdr_type type)
{
    switch (type) {
    case SIP_HDR_MAX_FORWARDS:
    case SIP_HDR_CSEQ:
    case SIP_HDR_CALL_ID:
    case SIP_HDR_FROM:
    case SIP_HDR_TO:
    case SIP_HDR_CONTENT_LENGTH:
        return 1;
    default:
        return 0;
    }
}

/*
 * sip_msg_check_route - every element of a Route value is a name-addr
 *      For edits of responses, where Route is not derived.
 */
int sip_msg_check_route(struct str value)
{
    struct sip_uri_addr a;
    struct str elem;
    int n = 0;
    int r;

    while ((r = sip_hdr_list_next(&value, &elem)) > 0) {
        if (sip_uri_addr_parse(elem, &a) < 0)
            return -EBADMSG;
        n++;
    }
    return r < 0 || n == 0 ? -EBADMSG : 0;
}
