/*
 * SUMMARY
 *      sip_msg_frame - find message ends and Call-IDs without a parse
 * DESCRIPTION
 *      Light scanners for netd: sip_msg_frame() cuts a TCP byte stream
 *      into messages by the empty line and Content-Length (RFC 3261
 *      section 18.3), and sip_msg_peek_callid() finds the Call-ID that
 *      netd hashes to pick a sipd process. Neither builds an index or
 *      judges more of the message than it must; sipd parses it fully.
 * PROTOCOL
 *      None: a library.
 * DIAGNOSTICS
 *      -EAGAIN (need more bytes), -EBADMSG (cannot frame), -ENOENT.
 */
#include <errno.h>

#include "sip_msg_priv.h"

/* A header block larger than this cannot be a message netd carries. */
#define SIP_MSG_FRAME_MAX 65535

/*
 * sip_msg_line_hdr - name and value of the header line p..lf
 *      Only the first physical line; returns its type, or -1 for a line
 *      that is not "name:" (a fold, or garbage netd need not judge).
 */
static int sip_msg_line_hdr(const char *p, const char *lf, struct str *value)
{
    const char *colon = memchr(p, ':', (size_t)(lf - p));
    struct str name;

    if (colon == NULL || *p == ' ' || *p == '\t')
        return -1;
    name = sip_hdr_trim((struct str){p, (size_t)(colon - p)});
    *value = sip_hdr_trim((struct str){colon + 1, (size_t)(lf - colon - 1)});
    return (int)sip_hdr_type_of(name);
}

/* sip_msg_frame - find where a message ends in a byte stream */
int sip_msg_frame(const char *buf, size_t len, size_t *skip,
                  size_t *hdr_len, size_t *body_len)
{
    const char *end = buf + len;
    const char *p = buf;
    const char *lf;
    struct str value;
    unsigned long cl = 0;
    int have_cl = 0;

    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    *skip = (size_t)(p - buf);
    for (;;) {
        if (end - p >= 1 && *p == '\n')
            break;
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
            break;
        if ((lf = memchr(p, '\n', (size_t)(end - p))) == NULL)
            return end - buf - *skip > SIP_MSG_FRAME_MAX ? -EBADMSG : -EAGAIN;
        if (!have_cl && sip_msg_line_hdr(p, lf, &value)
                            == SIP_HDR_CONTENT_LENGTH) {
            if (sip_hdr_parse_uint(value, SIP_CONTENT_LENGTH_MAX, &cl) < 0)
                return -EBADMSG;
            have_cl = 1;
        }
        p = lf + 1;
        if ((size_t)(p - buf) - *skip > SIP_MSG_FRAME_MAX)
            return -EBADMSG;
    }
    p += *p == '\n' ? 1 : 2;
    if (!have_cl)
        return -EBADMSG;
    *hdr_len = (size_t)(p - buf) - *skip;
    *body_len = cl;
    return (size_t)(end - p) >= cl ? 0 : -EAGAIN;
}

/* sip_msg_peek_callid - find the Call-ID value without a full parse */
int sip_msg_peek_callid(const char *buf, size_t len, struct str *callid)
{
    const char *end = buf + len;
    const char *p = buf;
    const char *lf;

    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    /* Skip the start line: it is never a header. */
    if ((lf = memchr(p, '\n', (size_t)(end - p))) == NULL)
        return -ENOENT;
    p = lf + 1;
    while (p < end && (lf = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        if (lf == p || (lf == p + 1 && *p == '\r'))
            break;                      /* the empty line */
        if (sip_msg_line_hdr(p, lf, callid) == SIP_HDR_CALL_ID
            && callid->len > 0)
            return 0;
        p = lf + 1;
    }
    return -ENOENT;
}
