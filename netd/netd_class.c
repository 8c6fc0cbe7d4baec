/*
 * SUMMARY
 *      netd_class - sort an incoming message into new work, in-dialog
 *      work or a response, without parsing it
 * DESCRIPTION
 *      Under overload netd sheds new work first (netd_io.c): a request
 *      that starts a call, a registration, a subscription or a page
 *      costs everything downstream, while a response or an in-dialog
 *      request finishes work that was already paid for, and dropping it
 *      wastes that work (the INVITE was relayed, the callee rings, and
 *      the 200 or the ACK is lost).
 *
 *      The test is cheap on purpose: it runs for every datagram while a
 *      ring is above its high-water mark, in netd's single thread.
 *
 *        - a response starts with "SIP/2.0 " (after any CRLFs a
 *          keep-alive left in front);
 *        - a request line is "token SP ... SP SIP/2.0"; anything else
 *          in its place is garbage, and new work (below);
 *        - a request is in-dialog when its method is ACK, BYE, CANCEL,
 *          PRACK, UPDATE or INFO. Methods are case-sensitive (RFC 3261
 *          section 7.1): "bye" is an extension method, not BYE;
 *        - any other request is in-dialog when its To header (To: or
 *          t:, any case) has a non-empty tag parameter. The To value
 *          (folded lines included) goes through the same name-addr
 *          parser sipd uses (sip_uri_addr_parse), so ";tag=" inside a
 *          quoted display name or inside <uri> is not a tag, and for a
 *          bare addr-spec every ;param belongs to the header (RFC 3261
 *          section 20.10);
 *        - everything else is new work: a request without a To tag, a
 *          To that does not parse, a message without a To header, and
 *          garbage. Garbage is shed first, which is right: sipd would
 *          only answer 400 or drop it.
 *
 *      Only the start line and the header lines up to the first To
 *      header are read, one memchr per line, no copy, no allocation.
 *      A sender can make new work look like in-dialog work (a To tag
 *      costs nothing): this is a priority, not a defence.
 * PROTOCOL
 *      None: a pure function over bytes.
 * DIAGNOSTICS
 *      None: never fails; what it cannot read is new work.
 */
#include <string.h>

#include "netd_class.h"
#include "sip_msg.h"
#include "str.h"

/* The methods that never start new work (RFC 3261, 3262, 3311, 6086). */
static const struct str netd_class_dialog_methods[] = {
    {"ACK", 3}, {"BYE", 3}, {"CANCEL", 6}, {"PRACK", 5}, {"UPDATE", 6},
    {"INFO", 4},
};

#define NETD_CLASS_NMETHODS                                               \
    (sizeof(netd_class_dialog_methods) / sizeof(netd_class_dialog_methods[0]))

/* netd_class_line_end - the LF ending the line at p, or end */
static const char *netd_class_line_end(const char *p, const char *end)
{
    const char *lf = memchr(p, '\n', (size_t)(end - p));

    return lf == NULL ? end : lf;
}

/* netd_class_token - RFC 3261 token characters */
static int netd_class_token(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("-.!%*_+`'~", c) != NULL;
}

/*
 * netd_class_method - the method of the request line p..eol: it must be
 *      "token SP ... SP SIP/2.0" (CR optional), else 0 (not a request:
 *      garbage). 2 when the method is one of the in-dialog methods, 1
 *      for any other.
 */
static int netd_class_method(const char *p, const char *eol)
{
    const char *sp = memchr(p, ' ', (size_t)(eol - p));
    const char *q;
    size_t len, i;

    if (eol > p && eol[-1] == '\r')
        eol--;
    if (sp == NULL || sp == p || eol - sp < 9
        || memcmp(eol - 8, " SIP/2.0", 8) != 0)
        return 0;
    for (q = p; q < sp; q++)
        if (!netd_class_token((unsigned char)*q))
            return 0;
    len = (size_t)(sp - p);
    for (i = 0; i < NETD_CLASS_NMETHODS; i++)
        if (netd_class_dialog_methods[i].len == len
            && memcmp(netd_class_dialog_methods[i].s, p, len) == 0)
            return 2;
    return 1;
}

/* netd_class_is_to - 1 when the header line p..eol is "To:" or "t:" */
static int netd_class_is_to(const char *p, const char *eol,
                            const char **colon)
{
    struct str name;

    if (p == eol || *p == ' ' || *p == '\t'
        || (*colon = memchr(p, ':', (size_t)(eol - p))) == NULL)
        return 0;
    name = sip_hdr_trim((struct str){p, (size_t)(*colon - p)});
    return sip_hdr_type_of(name) == SIP_HDR_TO;
}

/*
 * netd_class_to - the value of the first To header among the header
 *      lines from p on, with its folded continuation lines (a line that
 *      starts with SP or HT belongs to the header above it); 0, or -1
 *      when there is none before the empty line.
 */
static int netd_class_to(const char *p, const char *end, struct str *value)
{
    const char *eol;
    const char *colon;

    for (; p < end; p = eol + 1) {
        eol = netd_class_line_end(p, end);
        if (eol == p || (eol == p + 1 && *p == '\r'))
            return -1;                  /* the empty line */
        if (!netd_class_is_to(p, eol, &colon))
            continue;
        while (eol + 1 < end && (eol[1] == ' ' || eol[1] == '\t'))
            eol = netd_class_line_end(eol + 1, end);
        *value = sip_hdr_trim(
            (struct str){colon + 1, (size_t)(eol - colon - 1)});
        return 0;
    }
    return -1;
}

enum netd_class netd_class_of(const char *buf, size_t len)
{
    const char *end = buf + len;
    const char *p = buf;
    const char *eol;
    struct sip_uri_addr to;
    struct str value;

    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    if (end - p >= 8 && memcmp(p, "SIP/2.0 ", 8) == 0)
        return NETD_CLASS_REPLY;
    eol = netd_class_line_end(p, end);
    switch (netd_class_method(p, eol)) {
    case 0:
        return NETD_CLASS_NEW;          /* not a request line: garbage */
    case 2:
        return NETD_CLASS_DIALOG;
    }
    if (eol == end || netd_class_to(eol + 1, end, &value) < 0)
        return NETD_CLASS_NEW;
    if (sip_uri_addr_parse(value, &to) < 0 || to.tag.s == NULL
        || to.tag.len == 0)
        return NETD_CLASS_NEW;
    return NETD_CLASS_DIALOG;
}

const char *netd_class_name(enum netd_class c)
{
    static const char *const names[NETD_CLASS_N] = {"new", "dialog",
                                                    "reply"};

    return (unsigned)c < NETD_CLASS_N ? names[c] : "?";
}
