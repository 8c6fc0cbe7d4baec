/*
 * SUMMARY
 *      netd_frame - cut a TCP byte stream into SIP messages
 * DESCRIPTION
 *      RFC 3261 section 18.3: over a stream, a message ends Content-Length
 *      bytes after the empty line that ends its headers. netd frames each
 *      message once, with the parser's sip_msg_frame(), and sends the
 *      offsets along (struct msg_sip hdr_len, body_len, MSG_F_FRAMED) so
 *      sipd never scans a stream itself.
 *
 *      The empty line is searched incrementally (f->scan), so a peer that
 *      sends one byte at a time costs one pass over its header, not one
 *      per read; sip_msg_frame() runs once the empty line is there.
 *
 *      Between messages, RFC 5626 section 3.5.1 keep-alives: a double
 *      CRLF is a ping (NETD_FR_PING: the caller answers one CRLF, the
 *      pong); any other run of CR/LF before a message is skipped (a pong
 *      from the peer, or stray line ends that RFC 3261 7.5 says to
 *      ignore).
 *
 *      Bounds: a header block that has not ended within max bytes is
 *      NETD_FR_ENDLESS; headers plus Content-Length beyond max is
 *      NETD_FR_OVERSIZE (the caller may answer 513 from the header block,
 *      then closes); a header block without a usable Content-Length
 *      cannot be framed: NETD_FR_BAD. So at most max + 4 bytes are ever
 *      buffered per connection.
 * PROTOCOL
 *      None: a library of netd's reactor thread.
 * DIAGNOSTICS
 *      None here: the caller logs and counts each outcome.
 */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "netd_frame.h"
#include "sip_msg.h"

/* netd_frame_crlf - CR/LF bytes at p (at most n) */
static size_t netd_frame_crlf(const char *p, size_t n)
{
    size_t i = 0;

    while (i < n && (p[i] == '\r' || p[i] == '\n'))
        i++;
    return i;
}

/*
 * netd_frame_keepalive - handle CR/LF runs at f->off. Returns
 *      NETD_FR_PING (consumed), NETD_FR_AGAIN (only CR/LF so far, wait),
 *      or -1 when a message starts at f->off.
 */
static int netd_frame_keepalive(struct netd_frame *f)
{
    const char *p = f->buf + f->off;
    size_t avail = f->len - f->off;
    size_t n = netd_frame_crlf(p, avail);

    if (n == 0)
        return avail == 0 ? NETD_FR_AGAIN : -1;
    if (n >= 4 && memcmp(p, "\r\n\r\n", 4) == 0) {
        f->off += 4;
        f->scan = f->off;
        return NETD_FR_PING;
    }
    if (n < avail) {                    /* a pong or stray line ends */
        f->off += n;
        f->scan = f->off;
        return -1;
    }
    if (n >= 4) {                       /* keep what may start a ping */
        f->off += n - 3;
        f->scan = f->off;
    }
    return NETD_FR_AGAIN;
}

/* netd_frame_eoh - offset just past the empty line, or 0 (not yet) */
static size_t netd_frame_eoh(struct netd_frame *f)
{
    size_t i = f->scan > f->off ? f->scan : f->off;
    const char *lf;

    while (i < f->len
           && (lf = memchr(f->buf + i, '\n', f->len - i)) != NULL) {
        i = (size_t)(lf - f->buf) + 1;
        if (i < f->len && f->buf[i] == '\n')
            return i + 1;
        if (i + 1 < f->len && f->buf[i] == '\r' && f->buf[i + 1] == '\n')
            return i + 2;
        if (i + 1 >= f->len) {          /* undecided: look again later */
            f->scan = i - 1;
            return 0;
        }
    }
    f->scan = f->len;
    return 0;
}

/* netd_frame_cl - a Content-Length value in hdr (any size), or -1 */
static long long netd_frame_cl(const char *hdr, size_t len)
{
    const char *end = hdr + len;
    const char *p = hdr;
    const char *lf;

    while (p < end && (lf = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        const char *colon = memchr(p, ':', (size_t)(lf - p));
        struct str v;
        unsigned long long n = 0;
        size_t i;

        if (colon != NULL && *p != ' ' && *p != '\t'
            && sip_hdr_type_of(sip_hdr_trim((struct str){
                   p, (size_t)(colon - p)})) == SIP_HDR_CONTENT_LENGTH) {
            v = sip_hdr_trim((struct str){colon + 1,
                                          (size_t)(lf - colon - 1)});
            for (i = 0; i < v.len && v.s[i] >= '0' && v.s[i] <= '9'; i++)
                if ((n = n * 10 + (unsigned)(v.s[i] - '0')) > (1ull << 40))
                    break;
            return i > 0 ? (long long)n : -1;
        }
        p = lf + 1;
    }
    return -1;
}

int netd_frame_next(struct netd_frame *f, size_t max,
                    struct netd_frame_msg *out)
{
    size_t eoh, skip, hl, bl;
    long long cl;
    int r;

    if ((r = netd_frame_keepalive(f)) != -1)
        return r;
    if ((eoh = netd_frame_eoh(f)) == 0)
        return f->len - f->off > max ? NETD_FR_ENDLESS : NETD_FR_AGAIN;
    out->start = f->off;
    out->hdr_len = eoh - f->off;
    r = sip_msg_frame(f->buf + f->off, f->len - f->off, &skip, &hl, &bl);
    if (r == -EBADMSG || skip != 0) {
        cl = netd_frame_cl(f->buf + f->off, out->hdr_len);
        if (cl >= 0 && out->hdr_len + (unsigned long long)cl > max) {
            out->body_len = (size_t)cl;
            return NETD_FR_OVERSIZE;
        }
        return NETD_FR_BAD;
    }
    out->hdr_len = hl;
    out->body_len = bl;
    if (hl + bl > max)
        return NETD_FR_OVERSIZE;
    if (r == -EAGAIN)
        return NETD_FR_AGAIN;
    f->off += hl + bl;
    f->scan = f->off;
    return NETD_FR_MSG;
}

void netd_frame_compact(struct netd_frame *f)
{
    if (f->off == 0)
        return;
    if (f->off < f->len)
        memmove(f->buf, f->buf + f->off, f->len - f->off);
    f->len -= f->off;
    f->scan = f->scan > f->off ? f->scan - f->off : 0;
    f->off = 0;
}

size_t netd_frame_pending(const struct netd_frame *f)
{
    size_t avail = f->len - f->off;

    return avail - netd_frame_crlf(f->buf + f->off, avail);
}

/* netd_frame_top_via - the value of the first Via header line */
static int netd_frame_top_via(const char *hdr, size_t len, struct str *val)
{
    const char *end = hdr + len;
    const char *p = memchr(hdr, '\n', len);
    const char *lf;

    for (p = p ? p + 1 : end; p < end; p = lf + 1) {
        const char *colon;
        enum sip_hdr_type t;

        if ((lf = memchr(p, '\n', (size_t)(end - p))) == NULL)
            return 0;
        colon = memchr(p, ':', (size_t)(lf - p));
        if (colon == NULL || *p == ' ' || *p == '\t')
            continue;
        t = sip_hdr_type_of(sip_hdr_trim((struct str){p,
                                                       (size_t)(colon - p)}));
        if (t == SIP_HDR_VIA) {
            *val = sip_hdr_trim((struct str){colon + 1,
                                             (size_t)(lf - colon - 1)});
            return 1;
        }
    }
    return 0;
}

int netd_frame_via_alias(const char *hdr, size_t len, struct msg_addr *a)
{
    struct str val, elem, name, value, rest;
    struct sip_via v;
    int found;

    if (!netd_frame_top_via(hdr, len, &val)
        || sip_hdr_list_next(&val, &elem) <= 0 || sip_via_parse(elem, &v) < 0
        || (v.host_type != SIP_HOST_IPV4 && v.host_type != SIP_HOST_IPV6))
        return 0;
    rest = v.params;
    while ((found = sip_hdr_param_next(&rest, &name, &value)) > 0
           && !str_ieq_cstr(name, "alias"))
        ;
    if (found <= 0)
        return 0;
    return addr_parse(a, v.host.s, v.host.len, v.port ? v.port : 5060) == 0;
}
