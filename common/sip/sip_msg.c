/*
 * SUMMARY
 *      sip_msg - parse a SIP message into a reusable header index
 * DESCRIPTION
 *      sip_msg_parse() makes one pass over the start line and the
 *      header block: memchr() finds each line end (a line end followed
 *      by SP or HT is a fold and stays inside the header), the header
 *      is split at its colon, typed from a name table, and linked into
 *      the message's fixed header table. Then the fields a proxy routes
 *      on are derived from the headers that carry them (one function
 *      per type in sip_msg_field.c, also called after every edit, see
 *      sip_msg_refresh()), the mandatory headers are checked and the
 *      body is framed by Content-Length (RFC 3261 section 18.3).
 *      Looking headers up in the index is sip_msg_find.c's.
 * PROTOCOL
 *      None: a library; the bytes come from netd->sipd ring records.
 * DIAGNOSTICS
 *      A malformed message returns a negative errno and a short static
 *      reason in m->reason. Nothing logs, nothing is fatal.
 */
#include <errno.h>

#include "sip_msg_priv.h"

/* sip_msg_fail - record why, return err */
static int sip_msg_fail(struct sip_msg *m, const char *reason, int err)
{
    m->reason = reason;
    return err;
}

/* sip_msg_init - prepare a freshly allocated message for use */
void sip_msg_init(struct sip_msg *m)
{
    memset(m, 0, sizeof(*m));
    sip_msg_reset(m);
}

/* sip_msg_reset - forget the current message */
void sip_msg_reset(struct sip_msg *m)
{
    int i;

    memset(m, 0, offsetof(struct sip_msg, hdrs));
    m->head = m->tail = SIP_HDR_NONE;
    for (i = 0; i < SIP_HDR_NTYPES; i++)
        m->first[i] = SIP_HDR_NONE;
    m->content_length = -1;
    m->max_forwards = -1;
    m->via1.hdr = m->via2.hdr = SIP_HDR_NONE;
    m->via1.rport = m->via2.rport = -1;
    m->route_hdr = SIP_HDR_NONE;
}

/* sip_msg_version_syntax - "SIP/" 1*DIGIT "." 1*DIGIT */
static int sip_msg_version_syntax(struct str v)
{
    size_t i = 4;
    size_t d;

    if (v.len < 7 || !sip_hdr_ieq2(v.s, "SIP/", 4))
        return 0;
    for (d = i; i < v.len && sip_hdr_is_digit((unsigned char)v.s[i]); i++)
        ;
    if (i == d || i == v.len || v.s[i] != '.')
        return 0;
    for (d = ++i; i < v.len && sip_hdr_is_digit((unsigned char)v.s[i]); i++)
        ;
    return i > d && i == v.len;
}

/* sip_msg_version_ok - the start line says SIP/2.0 */
int sip_msg_version_ok(const struct sip_msg *m)
{
    return m->version.len == 7 && sip_hdr_ieq2(m->version.s, "SIP/", 4)
           && memcmp(m->version.s + 4, "2.0", 3) == 0;
}

/* sip_msg_request_line - Method SP Request-URI SP SIP-Version */
static int sip_msg_request_line(struct sip_msg *m, struct str line)
{
    const char *end = line.s + line.len;
    const char *sp1 = memchr(line.s, ' ', line.len);
    const char *sp2 = memrchr(line.s, ' ', line.len);
    const char *p;

    if (sp1 == NULL || sp1 == line.s || sp2 == sp1)
        return sip_msg_fail(m, "Bad Request-Line", -EBADMSG);
    for (p = line.s; p < sp1; p++)
        if (!sip_hdr_is_token((unsigned char)*p))
            return sip_msg_fail(m, "Bad Method", -EBADMSG);
    m->is_request = 1;
    m->method = (struct str){line.s, (size_t)(sp1 - line.s)};
    m->method_id = sip_msg_method_id(m->method);
    m->ruri_str = (struct str){sp1 + 1, (size_t)(sp2 - sp1 - 1)};
    m->version = (struct str){sp2 + 1, (size_t)(end - sp2 - 1)};
    if (!sip_msg_version_syntax(m->version))
        return sip_msg_fail(m, "Bad Request-Line", -EBADMSG);
    if (sip_uri_parse(m->ruri_str, &m->ruri) < 0)
        return sip_msg_fail(m, "Bad Request-URI", -EBADMSG);
    return 0;
}

/* sip_msg_status_line - SIP-Version SP Status-Code SP Reason-Phrase */
static int sip_msg_status_line(struct sip_msg *m, struct str line)
{
    const char *end = line.s + line.len;
    const char *sp = memchr(line.s, ' ', line.len);
    const char *c;
    int i;

    if (sp == NULL || end - sp < 4)
        return sip_msg_fail(m, "Bad Status-Line", -EBADMSG);
    m->version = (struct str){line.s, (size_t)(sp - line.s)};
    if (!sip_msg_version_syntax(m->version))
        return sip_msg_fail(m, "Bad Status-Line", -EBADMSG);
    c = sp + 1;
    for (i = 0; i < 3; i++)
        if (!sip_hdr_is_digit((unsigned char)c[i]))
            return sip_msg_fail(m, "Bad Status-Code", -EBADMSG);
    m->status = (c[0] - '0') * 100 + (c[1] - '0') * 10 + (c[2] - '0');
    if (m->status < 100 || m->status > 699)
        return sip_msg_fail(m, "Bad Status-Code", -EBADMSG);
    c += 3;
    if (c < end && *c != ' ')
        return sip_msg_fail(m, "Bad Status-Code", -EBADMSG);
    /* A missing reason phrase is tolerated ("SIP/2.0 200"). */
    m->phrase = c < end ? (struct str){c + 1, (size_t)(end - c - 1)}
                        : (struct str){c, 0};
    return 0;
}

/* sip_msg_start_line - the first line; returns the byte after it */
static const char *sip_msg_start_line(struct sip_msg *m, const char *p,
                                      const char *end)
{
    const char *lf = memchr(p, '\n', (size_t)(end - p));
    struct str line;
    int r;

    if (lf == NULL) {
        m->reason = "Bad start line";
        return NULL;
    }
    line = (struct str){p, (size_t)(lf - p)};
    if (line.len > 0 && line.s[line.len - 1] == '\r')
        line.len--;
    if (memchr(line.s, 0, line.len) != NULL) {
        m->reason = "Bad start line";
        return NULL;
    }
    m->start = (struct str){p, (size_t)(lf + 1 - p)};
    if (line.len >= 4 && sip_hdr_ieq2(line.s, "SIP/", 4))
        r = sip_msg_status_line(m, line);
    else
        r = sip_msg_request_line(m, line);
    return r < 0 ? NULL : lf + 1;
}

/* sip_msg_split_line - split one raw header line into name and value */
int sip_msg_split_line(struct sip_hdr *h, const char *raw, size_t len)
{
    const char *end = raw + len;
    const char *p = raw;
    const char *ne;

    /* The name scan finds the colon too: no second pass. */
    while (p < end && sip_hdr_is_token((unsigned char)*p))
        p++;
    ne = p;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (ne == raw || p == end || *p != ':')
        return -EBADMSG;
    h->name = (struct str){raw, (size_t)(ne - raw)};
    h->value = sip_hdr_trim_lws((struct str){p + 1, (size_t)(end - p - 1)});
    h->raw = (struct str){raw, len};
    h->type = sip_hdr_type_of(h->name);
    return 0;
}

/* sip_msg_line_end - the LF that ends the header at p, folds included */
static const char *sip_msg_line_end(const char *p, const char *end,
                                    unsigned *flags)
{
    const char *lf = memchr(p, '\n', (size_t)(end - p));

    while (lf != NULL && lf + 1 < end && (lf[1] == ' ' || lf[1] == '\t')) {
        *flags |= SIP_HDR_F_FOLDED;
        lf = memchr(lf + 1, '\n', (size_t)(end - lf - 1));
    }
    return lf;
}

/* sip_msg_add_parsed - append the header at p..lf to the index */
static int sip_msg_add_parsed(struct sip_msg *m, const char *p,
                              const char *lf, unsigned flags)
{
    int idx = m->nslots;
    struct sip_hdr *h = &m->hdrs[idx];

    if (m->nhdrs == SIP_MAX_HDRS)
        return sip_msg_fail(m, "Too many headers", -E2BIG);
    if (sip_msg_split_line(h, p, (size_t)(lf + 1 - p)) < 0)
        return sip_msg_fail(m, "Bad header", -EBADMSG);
    h->flags = flags;
    h->prev = m->tail;
    h->next = SIP_HDR_NONE;
    if (m->tail >= 0)
        m->hdrs[m->tail].next = idx;
    else
        m->head = idx;
    m->tail = idx;
    if (m->first[h->type] < 0)
        m->first[h->type] = idx;
    m->count[h->type]++;
    m->nslots++;
    m->nhdrs++;
    return 0;
}

/*
 * sip_msg_nul_ok - a NUL byte may appear in the header block only as a
 *      quoted-pair inside a quoted string (RFC 3261 section 25.1:
 *      quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F); RFC 4475
 *      section 3.1.1.2). Quote state ends with each header line.
 *      Returns 1 when every NUL in p..p+n is such a pair.
 */
static int sip_msg_nul_ok(const char *p, size_t n)
{
    const char *end = p + n;
    int q = 0;

    if (memchr(p, 0, n) == NULL)
        return 1;
    for (; p < end; p++) {
        if (*p == '\0')
            return 0;
        if (q && *p == '\\' && p + 1 < end && p[1] != '\r' && p[1] != '\n')
            p++;                        /* the escaped byte, NUL too */
        else if (*p == '"')
            q = !q;
        else if (*p == '\n'
                 && (p + 1 == end || (p[1] != ' ' && p[1] != '\t')))
            q = 0;
    }
    return 1;
}

/* sip_msg_headers - index the header block; *pp moves past the eoh */
static int sip_msg_headers(struct sip_msg *m, const char **pp,
                           const char *end)
{
    const char *hs = *pp;
    const char *p = hs;
    const char *lf;
    unsigned flags;
    int r;

    for (;;) {
        if (p < end && *p == '\n') {
            m->eoh = (struct str){p, 1};
            break;
        }
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            m->eoh = (struct str){p, 2};
            break;
        }
        flags = 0;
        if (p == end || (lf = sip_msg_line_end(p, end, &flags)) == NULL)
            return sip_msg_fail(m, "Missing empty line", -EBADMSG);
        if ((r = sip_msg_add_parsed(m, p, lf, flags)) < 0)
            return r;
        p = lf + 1;
    }
    if (!sip_msg_nul_ok(hs, (size_t)(p - hs)))
        return sip_msg_fail(m, "NUL byte in header", -EBADMSG);
    *pp = p + m->eoh.len;
    return 0;
}

/* sip_msg_mandatory - RFC 3261 section 8.1.1: these must be present */
static int sip_msg_mandatory(struct sip_msg *m)
{
    if (m->via1.hdr < 0)
        return sip_msg_fail(m, "Missing Via", -EBADMSG);
    if (m->from.raw.s == NULL)
        return sip_msg_fail(m, "Missing From", -EBADMSG);
    if (m->to.raw.s == NULL)
        return sip_msg_fail(m, "Missing To", -EBADMSG);
    if (m->call_id.s == NULL)
        return sip_msg_fail(m, "Missing Call-ID", -EBADMSG);
    if (m->cseq_method.s == NULL)
        return sip_msg_fail(m, "Missing CSeq", -EBADMSG);
    return 0;
}

/* sip_msg_body - frame the body by Content-Length (section 18.3) */
static int sip_msg_body(struct sip_msg *m, const char *p, const char *end)
{
    size_t avail = (size_t)(end - p);

    if (m->content_length < 0) {
        if (m->flags & SIP_PARSE_STREAM)
            return sip_msg_fail(m, "Missing Content-Length", -EBADMSG);
        m->body = (struct str){p, avail};
    } else {
        if ((size_t)m->content_length > avail)
            return sip_msg_fail(m, "Bad Content-Length", -EBADMSG);
        m->body = (struct str){p, (size_t)m->content_length};
    }
    m->msg_len = (size_t)(m->body.s + m->body.len - m->buf);
    m->print_len = (size_t)(p - m->start.s) + m->body.len;
    return 0;
}

/* sip_msg_parse - parse one SIP message */
int sip_msg_parse(struct sip_msg *m, const char *buf, size_t len,
                  unsigned flags)
{
    const char *end;
    const char *p = buf;
    const char *why = NULL;
    int type;
    int err;
    int r = 0;

    sip_msg_reset(m);
    m->flags = flags;
    m->buf = buf;
    m->len = len;
    if (buf == NULL || len == 0)
        return sip_msg_fail(m, "Empty message", -EINVAL);
    end = buf + len;
    /* RFC 3261 section 7.5: ignore CRLFs before the start line. */
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    if (p == end)
        return sip_msg_fail(m, "Empty message", -EINVAL);
    if ((p = sip_msg_start_line(m, p, end)) == NULL)
        return -EBADMSG;
    if ((err = sip_msg_headers(m, &p, end)) < 0)
        return err;
    /*
     * Derive every field even after one failed, so whoever answers the
     * 400 finds Via, From, To, Call-ID and CSeq when they did parse.
     */
    for (type = 0; type < SIP_HDR_NTYPES; type++)
        if (m->count[type] > 0 && (err = sip_msg_refresh(m, type)) < 0
            && r == 0) {
            r = err;
            why = m->reason;
        }
    if (r < 0)
        return sip_msg_fail(m, why, r);
    if ((r = sip_msg_mandatory(m)) < 0)
        return r;
    return sip_msg_body(m, p, end);
}
