/*
 * SUMMARY
 *      sip_msg_print - serialize a message, and dump its parsed fields
 * DESCRIPTION
 *      sip_msg_print() writes the message as it stands after any edits:
 *      start line, the header list in order, the empty line, the body.
 *      Headers that still sit next to each other in the input buffer
 *      are copied with one memcpy per run, so an untouched message is
 *      at most four copies (start line, header block, empty line, body).
 *      sip_msg_dump() writes the parsed fields as "name: value" lines
 *      for the golden tests in t/data/sip/ and for debug logs; bytes
 *      outside printable ASCII, and the backslash, are escaped.
 *
 *      Both write through struct str_out (str.h), which stops at the
 *      buffer's end and remembers that it did, so the code appends
 *      without checking and looks at o.full once at the end.
 * PROTOCOL
 *      None: a library.
 * DIAGNOSTICS
 *      -ENOSPC when the output does not fit, and from sip_msg_print()
 *      for a message that did not parse completely. Nothing logs.
 */
#include <errno.h>
#include <stdio.h>

#include "sip_msg_priv.h"

/* sip_msg_print - serialize the message */
ssize_t sip_msg_print(const struct sip_msg *m, char *out, size_t cap)
{
    struct str_out o = {out, cap, 0};
    const char *run = NULL;
    size_t run_len = 0;
    int i;

    if (m->print_len == 0 || m->print_len > cap)
        return -ENOSPC;
    str_out_put(&o, m->start.s, m->start.len);
    for (i = m->head; i >= 0; i = m->hdrs[i].next) {
        const struct str *r = &m->hdrs[i].raw;

        if (run != NULL && run + run_len == r->s) {
            run_len += r->len;
            continue;
        }
        if (run != NULL)
            str_out_put(&o, run, run_len);
        run = r->s;
        run_len = r->len;
    }
    if (run != NULL)
        str_out_put(&o, run, run_len);
    str_out_put(&o, m->eoh.s, m->eoh.len);
    str_out_put(&o, m->body.s, m->body.len);
    return o.full ? -ENOSPC : (ssize_t)(o.p - out);
}

/* sip_msg_put_esc - append s with non-printable bytes as \r \n \xNN */
static void sip_msg_put_esc(struct str_out *o, struct str s)
{
    char esc[5];
    size_t i;

    for (i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.s[i];

        if (c >= 0x20 && c < 0x7f && c != '\\') {
            str_out_put(o, (const char *)&s.s[i], 1);
        } else if (c == '\r' || c == '\n' || c == '\\') {
            esc[0] = '\\';
            esc[1] = c == '\r' ? 'r' : c == '\n' ? 'n' : '\\';
            str_out_put(o, esc, 2);
        } else {
            snprintf(esc, sizeof(esc), "\\x%02x", c);
            str_out_put(o, esc, 4);
        }
    }
}

/* sip_msg_dump_str - "key: value\n" when the value is present */
static void sip_msg_dump_str(struct str_out *o, const char *key,
                             struct str v)
{
    if (v.s == NULL)
        return;
    str_out_put(o, key, strlen(key));
    str_out_put(o, ": ", 2);
    sip_msg_put_esc(o, v);
    str_out_put(o, "\n", 1);
}

/* sip_msg_dump_int - "key: n\n" */
static void sip_msg_dump_int(struct str_out *o, const char *key, long n)
{
    char num[24];
    int len = snprintf(num, sizeof(num), "%ld", n);

    sip_msg_dump_str(o, key, (struct str){num, (size_t)len});
}

/* sip_msg_dump_cstr - "key: text\n" */
static void sip_msg_dump_cstr(struct str_out *o, const char *key,
                              const char *s)
{
    sip_msg_dump_str(o, key, (struct str){s, strlen(s)});
}

static const char *const sip_msg_host_types[] = {
    "none", "name", "ipv4", "ipv6"
};

/* sip_msg_dump_uri - the parts of a Request-URI */
static void sip_msg_dump_uri(struct str_out *o, const struct sip_uri *u)
{
    sip_msg_dump_str(o, "ruri.scheme", u->scheme);
    sip_msg_dump_str(o, "ruri.user", u->user);
    sip_msg_dump_str(o, "ruri.password", u->password);
    sip_msg_dump_str(o, "ruri.host", u->host);
    if (u->host_type != SIP_HOST_NONE)
        sip_msg_dump_cstr(o, "ruri.host_type",
                          sip_msg_host_types[u->host_type]);
    if (u->port)
        sip_msg_dump_int(o, "ruri.port", u->port);
    sip_msg_dump_str(o, "ruri.params", u->params);
    sip_msg_dump_str(o, "ruri.headers", u->headers);
    sip_msg_dump_str(o, "ruri.transport", u->transport);
    sip_msg_dump_str(o, "ruri.maddr", u->maddr);
    sip_msg_dump_str(o, "ruri.ttl", u->ttl);
    sip_msg_dump_str(o, "ruri.user_param", u->user_param);
    sip_msg_dump_str(o, "ruri.method", u->method);
    if (u->lr.s != NULL)
        sip_msg_dump_cstr(o, "ruri.lr", "yes");
}

/* sip_msg_dump_pstr - "pfx.key: value\n" when the value is present */
static void sip_msg_dump_pstr(struct str_out *o, const char *pfx,
                              const char *key, struct str v)
{
    char k[48];

    snprintf(k, sizeof(k), "%s.%s", pfx, key);
    sip_msg_dump_str(o, k, v);
}

/* sip_msg_dump_pint - "pfx.key: n\n" */
static void sip_msg_dump_pint(struct str_out *o, const char *pfx,
                              const char *key, long n)
{
    char k[48];

    snprintf(k, sizeof(k), "%s.%s", pfx, key);
    sip_msg_dump_int(o, k, n);
}

/* sip_msg_dump_via - one via-parm, keys prefixed "via1." or "via2." */
static void sip_msg_dump_via(struct str_out *o, const char *pfx,
                             const struct sip_via *v)
{
    const char *ht = sip_msg_host_types[v->host_type];

    if (v->hdr < 0)
        return;
    sip_msg_dump_pint(o, pfx, "hdr", v->hdr);
    sip_msg_dump_pstr(o, pfx, "raw", v->raw);
    sip_msg_dump_pstr(o, pfx, "proto", v->proto_name);
    sip_msg_dump_pstr(o, pfx, "version", v->proto_ver);
    sip_msg_dump_pstr(o, pfx, "transport", v->transport);
    sip_msg_dump_pstr(o, pfx, "sent_by", v->sent_by);
    sip_msg_dump_pstr(o, pfx, "host", v->host);
    sip_msg_dump_pstr(o, pfx, "host_type", (struct str){ht, strlen(ht)});
    sip_msg_dump_pint(o, pfx, "port", v->port);
    sip_msg_dump_pstr(o, pfx, "params", v->params);
    sip_msg_dump_pstr(o, pfx, "branch", v->branch);
    sip_msg_dump_pstr(o, pfx, "received", v->received);
    sip_msg_dump_pint(o, pfx, "rport", v->rport);
    sip_msg_dump_pstr(o, pfx, "maddr", v->maddr);
    sip_msg_dump_pstr(o, pfx, "ttl", v->ttl);
}

/* sip_msg_dump_addr - From, To or Route: uri, display, tag */
static void sip_msg_dump_addr(struct str_out *o, const char *pfx,
                              const struct sip_uri_addr *a)
{
    if (a->raw.s == NULL)
        return;
    sip_msg_dump_pstr(o, pfx, "display", a->display);
    sip_msg_dump_pstr(o, pfx, "uri", a->uri);
    if (a->params.len > 0)
        sip_msg_dump_pstr(o, pfx, "params", a->params);
    sip_msg_dump_pstr(o, pfx, "tag", a->tag);
}

/* sip_msg_dump_hdrs - one line per header: type, name, value */
static void sip_msg_dump_hdrs(struct str_out *o, const struct sip_msg *m)
{
    char key[64];
    int i;

    for (i = m->head; i >= 0; i = m->hdrs[i].next) {
        const struct sip_hdr *h = &m->hdrs[i];

        snprintf(key, sizeof(key), "hdr %d %s%s", i,
                 h->type == SIP_HDR_OTHER ? "-" : sip_hdr_name(h->type),
                 h->flags & SIP_HDR_F_FOLDED ? " folded" : "");
        str_out_put(o, key, strlen(key));
        str_out_put(o, ": ", 2);
        sip_msg_put_esc(o, h->name);
        str_out_put(o, " = ", 3);
        sip_msg_put_esc(o, h->value);
        str_out_put(o, "\n", 1);
    }
}

/* sip_msg_dump - a text dump of the parsed fields */
ssize_t sip_msg_dump(const struct sip_msg *m, char *out, size_t cap)
{
    struct str_out o = {out, cap, 0};

    if (m->is_request) {
        sip_msg_dump_str(&o, "method", m->method);
        sip_msg_dump_str(&o, "ruri", m->ruri_str);
        sip_msg_dump_uri(&o, &m->ruri);
    } else {
        sip_msg_dump_int(&o, "status", m->status);
        sip_msg_dump_str(&o, "phrase", m->phrase);
    }
    sip_msg_dump_str(&o, "version", m->version);
    sip_msg_dump_hdrs(&o, m);
    sip_msg_dump_int(&o, "max_forwards", m->max_forwards);
    sip_msg_dump_int(&o, "content_length", m->content_length);
    sip_msg_dump_int(&o, "cseq", (long)m->cseq);
    sip_msg_dump_str(&o, "cseq.method", m->cseq_method);
    sip_msg_dump_str(&o, "call_id", m->call_id);
    sip_msg_dump_addr(&o, "from", &m->from);
    sip_msg_dump_addr(&o, "to", &m->to);
    sip_msg_dump_via(&o, "via1", &m->via1);
    sip_msg_dump_via(&o, "via2", &m->via2);
    sip_msg_dump_addr(&o, "route", &m->route);
    sip_msg_dump_int(&o, "body_len", (long)m->body.len);
    sip_msg_dump_int(&o, "msg_len", (long)m->msg_len);
    str_out_put(&o, "", 1);             /* the NUL */
    if (o.full)
        return -ENOSPC;
    return (ssize_t)(o.p - out) - 1;
}
