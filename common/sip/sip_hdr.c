/*
 * SUMMARY
 *      sip_hdr - SIP header names, comma lists, parameters, small values
 * DESCRIPTION
 *      The header name table (long and compact forms, RFC 3261 section
 *      7.3.3 and the IANA registry), the scanners that split a header
 *      value into comma-separated elements and ;name=value parameters,
 *      and the number grammars (Content-Length, Max-Forwards, CSeq).
 *      Everything works on struct str views and allocates nothing.
 * PROTOCOL
 *      None: a library used by sipd (and by netd for framing).
 * DIAGNOSTICS
 *      Bad input returns -EBADMSG; nothing logs.
 */
#include <errno.h>
#include <limits.h>

#include "sip_msg_priv.h"

struct sip_hdr_name {
    const char *name;
    unsigned char len;
    unsigned char type;                 /* enum sip_hdr_type */
};

#define SIP_HDR_N(s, t) {(s), sizeof(s) - 1, (t)}

/* Long names, indexed by type (sip_hdr_name()) and scanned by length. */
static const struct sip_hdr_name sip_hdr_names[SIP_HDR_NTYPES] = {
    SIP_HDR_N("", SIP_HDR_OTHER),
    SIP_HDR_N("Via", SIP_HDR_VIA),
    SIP_HDR_N("Max-Forwards", SIP_HDR_MAX_FORWARDS),
    SIP_HDR_N("Route", SIP_HDR_ROUTE),
    SIP_HDR_N("Record-Route", SIP_HDR_RECORD_ROUTE),
    SIP_HDR_N("CSeq", SIP_HDR_CSEQ),
    SIP_HDR_N("Call-ID", SIP_HDR_CALL_ID),
    SIP_HDR_N("From", SIP_HDR_FROM),
    SIP_HDR_N("To", SIP_HDR_TO),
    SIP_HDR_N("Content-Length", SIP_HDR_CONTENT_LENGTH),
    SIP_HDR_N("Contact", SIP_HDR_CONTACT),
    SIP_HDR_N("Content-Type", SIP_HDR_CONTENT_TYPE),
    SIP_HDR_N("Proxy-Require", SIP_HDR_PROXY_REQUIRE),
    SIP_HDR_N("Require", SIP_HDR_REQUIRE),
    SIP_HDR_N("Supported", SIP_HDR_SUPPORTED),
    SIP_HDR_N("Unsupported", SIP_HDR_UNSUPPORTED),
    SIP_HDR_N("Content-Encoding", SIP_HDR_CONTENT_ENCODING),
    SIP_HDR_N("Subject", SIP_HDR_SUBJECT),
    SIP_HDR_N("Event", SIP_HDR_EVENT),
    SIP_HDR_N("Allow-Events", SIP_HDR_ALLOW_EVENTS),
    SIP_HDR_N("Refer-To", SIP_HDR_REFER_TO),
    SIP_HDR_N("Referred-By", SIP_HDR_REFERRED_BY),
    SIP_HDR_N("Accept-Contact", SIP_HDR_ACCEPT_CONTACT),
    SIP_HDR_N("Reject-Contact", SIP_HDR_REJECT_CONTACT),
    SIP_HDR_N("Request-Disposition", SIP_HDR_REQUEST_DISPOSITION),
    SIP_HDR_N("Session-Expires", SIP_HDR_SESSION_EXPIRES),
    SIP_HDR_N("Identity", SIP_HDR_IDENTITY),
    SIP_HDR_N("Identity-Info", SIP_HDR_IDENTITY_INFO),
    SIP_HDR_N("Allow", SIP_HDR_ALLOW),
    SIP_HDR_N("Expires", SIP_HDR_EXPIRES),
    SIP_HDR_N("Authorization", SIP_HDR_AUTHORIZATION),
    SIP_HDR_N("Proxy-Authorization", SIP_HDR_PROXY_AUTHORIZATION),
    SIP_HDR_N("WWW-Authenticate", SIP_HDR_WWW_AUTHENTICATE),
    SIP_HDR_N("Proxy-Authenticate", SIP_HDR_PROXY_AUTHENTICATE),
    SIP_HDR_N("Path", SIP_HDR_PATH),
    SIP_HDR_N("User-Agent", SIP_HDR_USER_AGENT),
    SIP_HDR_N("Server", SIP_HDR_SERVER),
};

/* Compact forms, indexed by lower-case letter - 'a'. */
static const unsigned char sip_hdr_compact[26] = {
    ['a' - 'a'] = SIP_HDR_ACCEPT_CONTACT,
    ['b' - 'a'] = SIP_HDR_REFERRED_BY,
    ['c' - 'a'] = SIP_HDR_CONTENT_TYPE,
    ['d' - 'a'] = SIP_HDR_REQUEST_DISPOSITION,
    ['e' - 'a'] = SIP_HDR_CONTENT_ENCODING,
    ['f' - 'a'] = SIP_HDR_FROM,
    ['i' - 'a'] = SIP_HDR_CALL_ID,
    ['j' - 'a'] = SIP_HDR_REJECT_CONTACT,
    ['k' - 'a'] = SIP_HDR_SUPPORTED,
    ['l' - 'a'] = SIP_HDR_CONTENT_LENGTH,
    ['m' - 'a'] = SIP_HDR_CONTACT,
    ['n' - 'a'] = SIP_HDR_IDENTITY_INFO,
    ['o' - 'a'] = SIP_HDR_EVENT,
    ['r' - 'a'] = SIP_HDR_REFER_TO,
    ['s' - 'a'] = SIP_HDR_SUBJECT,
    ['t' - 'a'] = SIP_HDR_TO,
    ['u' - 'a'] = SIP_HDR_ALLOW_EVENTS,
    ['v' - 'a'] = SIP_HDR_VIA,
    ['x' - 'a'] = SIP_HDR_SESSION_EXPIRES,
    ['y' - 'a'] = SIP_HDR_IDENTITY,
};

/* sip_hdr_type_of - header type of a name (long or compact form) */
enum sip_hdr_type sip_hdr_type_of(struct str name)
{
    unsigned char c;
    int i;

    if (name.len == 0)
        return SIP_HDR_OTHER;
    c = (unsigned char)(name.s[0] | 0x20);
    if (name.len == 1)
        return c >= 'a' && c <= 'z' ? sip_hdr_compact[c - 'a']
                                    : SIP_HDR_OTHER;
    /* Length and first letter rule out all but one or two entries. */
    for (i = 1; i < SIP_HDR_NTYPES; i++) {
        const struct sip_hdr_name *n = &sip_hdr_names[i];

        if (n->len == name.len && (n->name[0] | 0x20) == c
            && sip_hdr_ieq2(n->name, name.s, name.len))
            return (enum sip_hdr_type)n->type;
    }
    return SIP_HDR_OTHER;
}

/* sip_hdr_name - the long name of a type ("Via"); "" for OTHER */
const char *sip_hdr_name(enum sip_hdr_type type)
{
    if ((unsigned)type >= SIP_HDR_NTYPES)
        return "";
    return sip_hdr_names[type].name;
}

/* sip_hdr_trim - strip LWS (SP, HT, CR, LF) from both ends */
struct str sip_hdr_trim(struct str s)
{
    return sip_hdr_trim_lws(s);
}

/*
 * sip_hdr_elem_end - end of one comma element starting at p
 *      Commas inside "quoted strings" (with \ escapes) and <uris> do
 *      not count. Returns NULL for an unclosed quote or '<'.
 */
static const char *sip_hdr_elem_end(const char *p, const char *end)
{
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *stop = comma != NULL ? comma : end;
    int quote = 0;
    int angle = 0;

    /* Most elements (Via, option tags) hold neither quotes nor <>. */
    if (memchr(p, '"', (size_t)(stop - p)) == NULL
        && memchr(p, '<', (size_t)(stop - p)) == NULL)
        return stop;
    for (; p < end; p++) {
        if (quote) {
            if (*p == '\\' && p + 1 < end)
                p++;
            else if (*p == '"')
                quote = 0;
            continue;
        }
        if (*p == '"')
            quote = 1;
        else if (*p == '<')
            angle = 1;
        else if (*p == '>')
            angle = 0;
        else if (*p == ',' && !angle)
            return p;
    }
    return quote || angle ? NULL : end;
}

/*
 * sip_hdr_rest_begin - the first non-LWS byte of *rest, with *end set;
 * NULL (and *rest emptied) when nothing but LWS is left. The common
 * start of the list and parameter walkers.
 */
static const char *sip_hdr_rest_begin(struct str *rest, const char **end)
{
    const char *p;

    if (rest->len == 0)
        return NULL;
    *end = rest->s + rest->len;
    p = sip_hdr_skip_lws(rest->s, *end);
    if (p == *end) {
        rest->s = *end;
        rest->len = 0;
        return NULL;
    }
    return p;
}

/* sip_hdr_list_next - split the next comma element off a value */
int sip_hdr_list_next(struct str *rest, struct str *elem)
{
    const char *end;
    const char *p;
    const char *e;

    if ((p = sip_hdr_rest_begin(rest, &end)) == NULL)
        return 0;
    if ((e = sip_hdr_elem_end(p, end)) == NULL)
        return -EBADMSG;
    *elem = sip_hdr_trim_lws((struct str){p, (size_t)(e - p)});
    if (elem->len == 0)
        return -EBADMSG;                /* "a,,b" or ",a" */
    if (e < end && sip_hdr_skip_lws(++e, end) == end)
        return -EBADMSG;                /* "a," */
    rest->s = e;
    rest->len = (size_t)(end - e);
    return 1;
}

/* sip_hdr_iter_init - iterate the comma elements of one header type */
void sip_hdr_iter_init(struct sip_hdr_iter *it, const struct sip_msg *m,
                       enum sip_hdr_type type)
{
    it->type = type;
    it->hdr = (unsigned)type < SIP_HDR_NTYPES ? m->first[type] : SIP_HDR_NONE;
    it->off = 0;
    it->cur = SIP_HDR_NONE;
}

/*
 * sip_hdr_iter_step - the next header of type after header i, or NONE
 *      The walk of sip_msg_hdr_find() (sip_msg_find.c), done here so
 *      that this file, the bottom of common/sip/, calls no other.
 */
static int sip_hdr_iter_step(const struct sip_msg *m,
                             enum sip_hdr_type type, int i)
{
    for (i = m->hdrs[i].next; i >= 0; i = m->hdrs[i].next)
        if (m->hdrs[i].type == type)
            return i;
    return SIP_HDR_NONE;
}

/* sip_hdr_iter_next - the next element, trimmed of LWS */
int sip_hdr_iter_next(struct sip_hdr_iter *it, const struct sip_msg *m,
                      struct str *elem)
{
    while (it->hdr >= 0) {
        const struct sip_hdr *h = &m->hdrs[it->hdr];
        struct str rest = {h->value.s + it->off, h->value.len - it->off};
        int r = sip_hdr_list_next(&rest, elem);

        if (r < 0)
            return r;
        if (r > 0) {
            it->off = (size_t)(rest.s - h->value.s);
            it->cur = it->hdr;
            return 1;
        }
        it->hdr = sip_hdr_iter_step(m, it->type, it->hdr);
        it->off = 0;
    }
    return 0;
}

/*
 * sip_hdr_quoted_end - end of a quoted-string that starts at p ('"')
 *      Returns the byte after the closing quote, or NULL if unclosed.
 */
const char *sip_hdr_quoted_end(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\' && p + 1 < end)
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* sip_hdr_param_value - scan a gen-value; NULL on a bad quoted-string */
static const char *sip_hdr_param_value(const char *p, const char *end,
                                       struct str *value)
{
    const char *vs = p;

    if (p < end && *p == '"') {
        if ((p = sip_hdr_quoted_end(p, end)) == NULL)
            return NULL;
    } else {
        while (p < end && sip_hdr_is_pvalue((unsigned char)*p))
            p++;
    }
    value->s = vs;
    value->len = (size_t)(p - vs);
    return p;
}

/* sip_hdr_param_next - split the next ;name[=value] off a param list */
int sip_hdr_param_next(struct str *rest, struct str *name, struct str *value)
{
    const char *end;
    const char *p;
    const char *ns;
    const char *q;

    if ((p = sip_hdr_rest_begin(rest, &end)) == NULL)
        return 0;
    if (*p != ';')
        return -EBADMSG;
    p = sip_hdr_skip_lws(p + 1, end);
    for (ns = p; p < end && sip_hdr_is_token((unsigned char)*p); p++)
        ;
    if (p == ns)
        return -EBADMSG;
    name->s = ns;
    name->len = (size_t)(p - ns);
    *value = STR_NULL;
    q = sip_hdr_skip_lws(p, end);
    if (q < end && *q == '=') {
        q = sip_hdr_skip_lws(q + 1, end);
        if ((p = sip_hdr_param_value(q, end, value)) == NULL)
            return -EBADMSG;
    }
    rest->s = p;
    rest->len = (size_t)(end - p);
    return 1;
}

/* sip_hdr_param_find - look a parameter up by name (case-insensitive) */
int sip_hdr_param_find(struct str params, const char *name,
                       struct str *value)
{
    struct str pname;
    struct str pval;
    int r;

    while ((r = sip_hdr_param_next(&params, &pname, &pval)) > 0) {
        if (str_ieq_cstr(pname, name)) {
            *value = pval;
            return 1;
        }
    }
    return r;
}

/* sip_hdr_parse_uint - a decimal number 0..max, nothing else */
int sip_hdr_parse_uint(struct str s, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    size_t i;

    if (s.len == 0)
        return -EBADMSG;
    for (i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.s[i];

        if (!sip_hdr_is_digit(c))
            return -EBADMSG;
        if (v > (ULONG_MAX - 9) / 10)
            return -EBADMSG;
        v = v * 10 + (unsigned long)(c - '0');
        if (v > max)
            return -EBADMSG;
    }
    *out = v;
    return 0;
}

/* sip_hdr_parse_cseq - "1*DIGIT LWS method" */
int sip_hdr_parse_cseq(struct str value, uint32_t *num, struct str *method)
{
    const char *p = value.s;
    const char *end = value.s + value.len;
    const char *ms;
    unsigned long n;

    while (p < end && sip_hdr_is_digit((unsigned char)*p))
        p++;
    if (sip_hdr_parse_uint((struct str){value.s, (size_t)(p - value.s)},
                           SIP_CSEQ_MAX, &n) < 0)
        return -EBADMSG;
    if (p == end || !sip_hdr_is_lws((unsigned char)*p))
        return -EBADMSG;
    ms = p = sip_hdr_skip_lws(p, end);
    while (p < end && sip_hdr_is_token((unsigned char)*p))
        p++;
    if (p == ms || sip_hdr_skip_lws(p, end) != end)
        return -EBADMSG;
    *num = (uint32_t)n;
    method->s = ms;
    method->len = (size_t)(p - ms);
    return 0;
}
