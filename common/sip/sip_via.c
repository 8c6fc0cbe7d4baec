/*
 * SUMMARY
 *      sip_via - one via-parm of a Via header
 * DESCRIPTION
 *      sip_via_parse() splits "SIP/2.0/UDP host:port;branch=...;rport"
 *      (RFC 3261 section 20.42, RFC 3581) into sent-protocol, sent-by
 *      and the parameters a proxy needs: branch, received, rport, maddr
 *      and ttl. A Via header value may hold several via-parms; splitting
 *      them is sip_hdr_list_next()'s job, so this file sees one.
 *      LWS is allowed around '/', ':', ';' and '=' as the grammar says.
 * PROTOCOL
 *      None: a library.
 * DIAGNOSTICS
 *      Bad input returns -EBADMSG; nothing logs.
 */
#include <errno.h>

#include "sip_msg_priv.h"

/* sip_via_token - a token at p; returns its end or NULL when empty */
static const char *sip_via_token(const char *p, const char *end,
                                 struct str *tok)
{
    const char *ts = p;

    while (p < end && sip_hdr_is_token((unsigned char)*p))
        p++;
    *tok = (struct str){ts, (size_t)(p - ts)};
    return p == ts ? NULL : p;
}

/* sip_via_slash - LWS "/" LWS at p; NULL when there is no slash */
static const char *sip_via_slash(const char *p, const char *end)
{
    p = sip_hdr_skip_lws(p, end);
    if (p == end || *p != '/')
        return NULL;
    return sip_hdr_skip_lws(p + 1, end);
}

/* sip_via_protocol - protocol-name "/" protocol-version "/" transport */
static const char *sip_via_protocol(struct sip_via *v, const char *p,
                                    const char *end)
{
    if ((p = sip_via_token(p, end, &v->proto_name)) == NULL
        || (p = sip_via_slash(p, end)) == NULL
        || (p = sip_via_token(p, end, &v->proto_ver)) == NULL
        || (p = sip_via_slash(p, end)) == NULL
        || (p = sip_via_token(p, end, &v->transport)) == NULL)
        return NULL;
    v->tp = sip_uri_transport(v->transport);
    return p;
}

/* sip_via_sent_by - host [ LWS ":" LWS port ] */
static const char *sip_via_sent_by(struct sip_via *v, const char *p,
                                   const char *end)
{
    const char *hs = p;
    const char *q;
    const char *ds;
    unsigned long port;

    if ((p = sip_uri_scan_host(p, end, &v->host, &v->host_type)) == NULL)
        return NULL;
    q = sip_hdr_skip_lws(p, end);
    if (q < end && *q == ':') {
        ds = q = sip_hdr_skip_lws(q + 1, end);
        while (q < end && sip_hdr_is_digit((unsigned char)*q))
            q++;
        if (sip_hdr_parse_uint((struct str){ds, (size_t)(q - ds)}, 65535,
                               &port) < 0 || port == 0)
            return NULL;
        v->port = (int)port;
        p = q;
    }
    v->sent_by = (struct str){hs, (size_t)(p - hs)};
    return p;
}

/* sip_via_rport - ";rport" or ";rport=1..65535" */
static int sip_via_rport(struct sip_via *v, struct str name, struct str val)
{
    unsigned long port;

    if (val.s == NULL) {
        v->rport = 0;
        v->rport_str = (struct str){name.s + name.len, 0};
        return 0;
    }
    if (sip_hdr_parse_uint(val, 65535, &port) < 0 || port == 0)
        return -EBADMSG;
    v->rport = (int)port;
    v->rport_str = val;
    return 0;
}

/* sip_via_param - check and remember one via-param */
static int sip_via_param(struct sip_via *v, struct str name, struct str val)
{
    unsigned long ttl;
    struct str *slot;

    if (SIP_HDR_IEQ(name, "rport"))
        return v->rport < 0 ? sip_via_rport(v, name, val) : 0;
    if (SIP_HDR_IEQ(name, "branch"))
        slot = &v->branch;
    else if (SIP_HDR_IEQ(name, "received"))
        slot = &v->received;
    else if (SIP_HDR_IEQ(name, "maddr"))
        slot = &v->maddr;
    else if (SIP_HDR_IEQ(name, "ttl"))
        slot = &v->ttl;
    else
        return 0;                       /* an extension: keep as is */
    if (val.s == NULL || val.len == 0)
        return -EBADMSG;                /* these need a value */
    if (slot == &v->ttl && sip_hdr_parse_uint(val, 255, &ttl) < 0)
        return -EBADMSG;
    if (slot->s == NULL)
        *slot = val;
    return 0;
}

/* sip_via_params - the ";..." list after sent-by */
static int sip_via_params(struct sip_via *v, const char *p, const char *end)
{
    struct str rest;
    struct str name;
    struct str val;
    int r;

    p = sip_hdr_skip_lws(p, end);
    if (p == end)
        return 0;
    if (*p != ';')
        return -EBADMSG;
    rest = v->params = (struct str){p, (size_t)(end - p)};
    while ((r = sip_hdr_param_next(&rest, &name, &val)) > 0)
        if (sip_via_param(v, name, val) < 0)
            return -EBADMSG;
    return r;
}

/* sip_via_parse - parse one via-parm (not a comma list) */
int sip_via_parse(struct str in, struct sip_via *v)
{
    const char *p;
    const char *end;

    memset(v, 0, sizeof(*v));
    v->hdr = SIP_HDR_NONE;
    v->rport = -1;
    v->raw = in = sip_hdr_trim(in);
    p = in.s;
    end = in.s + in.len;
    if (in.len == 0 || (p = sip_via_protocol(v, p, end)) == NULL)
        return -EBADMSG;
    if (p == end || !sip_hdr_is_lws((unsigned char)*p))
        return -EBADMSG;
    p = sip_hdr_skip_lws(p, end);
    if ((p = sip_via_sent_by(v, p, end)) == NULL)
        return -EBADMSG;
    return sip_via_params(v, p, end);
}
