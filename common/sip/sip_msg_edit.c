/*
 * SUMMARY
 *      sip_msg_edit - header-level changes to a parsed SIP message
 * DESCRIPTION
 *      The header table is a doubly linked list threaded through the
 *      fixed slot array, so an insert or removal is O(1), indexes held
 *      by the caller stay valid, and sip_msg_print() walks the list.
 *      New text (a whole header line, or a header line rebuilt around
 *      one changed comma element) is copied into the message's arena;
 *      removed slots are only unlinked.
 *
 *      Every change goes through sip_msg_commit(): the slot is linked
 *      and the parsed field of each type involved is derived again
 *      (sip_msg_refresh()), so lookups see the edit at once. When the
 *      new text does not parse as its type (a Via must parse, a
 *      Max-Forwards must be a number...) the edit is undone, so a bad
 *      edit changes nothing but the arena.
 * PROTOCOL
 *      None: a library.
 * DIAGNOSTICS
 *      -EINVAL (bad index or text), -ENOSPC (arena full), -E2BIG (no
 *      slot left), with m->reason set. Nothing logs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "sip_msg_priv.h"

/* sip_msg_efail - record why an edit failed, return err */
static int sip_msg_efail(struct sip_msg *m, const char *reason, int err)
{
    m->reason = reason;
    return err;
}

/* sip_msg_live - idx names a header that is in the list */
static int sip_msg_live(const struct sip_msg *m, int idx)
{
    return idx >= 0 && idx < m->nslots
           && !(m->hdrs[idx].flags & SIP_HDR_F_DEAD);
}

/* sip_msg_arena - n bytes of arena, or NULL */
static char *sip_msg_arena(struct sip_msg *m, size_t n)
{
    char *p;

    if (n > SIP_ARENA_SIZE - m->arena_used) {
        m->reason = "Message too big";
        return NULL;
    }
    p = m->arena + m->arena_used;
    m->arena_used += n;
    return p;
}

/* sip_msg_link - put slot idx into the list in front of "before" */
static void sip_msg_link(struct sip_msg *m, int idx, int before)
{
    struct sip_hdr *h = &m->hdrs[idx];
    enum sip_hdr_type t = h->type;
    int p;

    h->next = before;
    h->prev = before >= 0 ? m->hdrs[before].prev : m->tail;
    if (h->prev >= 0)
        m->hdrs[h->prev].next = idx;
    else
        m->head = idx;
    if (before >= 0)
        m->hdrs[before].prev = idx;
    else
        m->tail = idx;
    h->flags &= ~SIP_HDR_F_DEAD;
    m->count[t]++;
    m->nhdrs++;
    m->print_len += h->raw.len;
    /* idx is first of its type unless one of that type precedes it. */
    for (p = h->prev; p >= 0; p = m->hdrs[p].prev)
        if (m->hdrs[p].type == t)
            return;
    m->first[t] = idx;
}

/* sip_msg_unlink - take slot idx out of the list; returns its next */
static int sip_msg_unlink(struct sip_msg *m, int idx)
{
    struct sip_hdr *h = &m->hdrs[idx];
    enum sip_hdr_type t = h->type;
    int p;

    if (h->prev >= 0)
        m->hdrs[h->prev].next = h->next;
    else
        m->head = h->next;
    if (h->next >= 0)
        m->hdrs[h->next].prev = h->prev;
    else
        m->tail = h->prev;
    h->flags |= SIP_HDR_F_DEAD;
    m->count[t]--;
    m->nhdrs--;
    m->print_len -= h->raw.len;
    if (m->first[t] == idx) {
        for (p = h->next; p >= 0 && m->hdrs[p].type != t; p = m->hdrs[p].next)
            ;
        m->first[t] = p;
    }
    return h->next;
}

/*
 * sip_msg_commit - put the header raw/len in slot idx or a new slot
 *      idx < 0: a new header in front of "before". idx >= 0: replace
 *      that header in place. Then the parsed field of the new type is
 *      derived again. Every header of a parsed type was valid before
 *      (parse and each edit keep it so), so when that fails the new
 *      text is to blame and the edit is undone. Returns the slot
 *      index or -errno.
 */
static int sip_msg_commit(struct sip_msg *m, int idx, int before,
                          const char *raw, size_t len, unsigned flags)
{
    struct sip_hdr nh;
    struct sip_hdr old;
    const char *why;
    int fresh = idx < 0;

    if (sip_msg_split_line(&nh, raw, len) < 0)
        return sip_msg_efail(m, "Bad header", -EINVAL);
    if (sip_msg_single(nh.type) && m->count[nh.type] > 0
        && (fresh || m->hdrs[idx].type != nh.type))
        return sip_msg_efail(m, "Duplicate header", -EINVAL);
    /* Route is not derived for responses: check the text itself. */
    if (nh.type == SIP_HDR_ROUTE && !m->is_request
        && sip_msg_check_route(nh.value) < 0)
        return sip_msg_efail(m, "Bad Route", -EINVAL);
    if (fresh) {
        if (m->nslots == SIP_HDR_SLOTS)
            return sip_msg_efail(m, "Too many headers", -E2BIG);
        idx = m->nslots++;
    } else {
        old = m->hdrs[idx];
        before = sip_msg_unlink(m, idx);
    }
    nh.flags = flags | SIP_HDR_F_NEW;
    m->hdrs[idx] = nh;
    sip_msg_link(m, idx, before);
    if (sip_msg_refresh(m, nh.type) == 0) {
        if (!fresh && old.type != nh.type)
            (void)sip_msg_refresh(m, old.type);
        return idx;
    }
    why = m->reason;
    (void)sip_msg_unlink(m, idx);
    if (fresh) {
        m->nslots--;
    } else {
        m->hdrs[idx] = old;
        sip_msg_link(m, idx, before);
    }
    (void)sip_msg_refresh(m, nh.type);
    return sip_msg_efail(m, why, -EINVAL);
}

/* sip_msg_line_ok - one line of text: no CR, LF or NUL */
static int sip_msg_line_ok(struct str line)
{
    return line.s != NULL && line.len > 0
           && memchr(line.s, '\r', line.len) == NULL
           && memchr(line.s, '\n', line.len) == NULL
           && memchr(line.s, 0, line.len) == NULL;
}

/* sip_msg_editable - a parsed message and, when idx >= 0, a live header */
static int sip_msg_editable(struct sip_msg *m, int idx)
{
    if (m->print_len == 0)
        return sip_msg_efail(m, "No message", -EINVAL);
    if (idx != SIP_HDR_NONE && !sip_msg_live(m, idx))
        return sip_msg_efail(m, "Bad header index", -EINVAL);
    return 0;
}

/* sip_msg_put_line - copy line + CRLF to the arena and commit it */
static int sip_msg_put_line(struct sip_msg *m, int idx, int before,
                            struct str line)
{
    char *dst;

    if (!sip_msg_line_ok(line))
        return sip_msg_efail(m, "Bad header", -EINVAL);
    if ((dst = sip_msg_arena(m, line.len + 2)) == NULL)
        return -ENOSPC;
    memcpy(dst, line.s, line.len);
    memcpy(dst + line.len, "\r\n", 2);
    return sip_msg_commit(m, idx, before, dst, line.len + 2, 0);
}

/* sip_msg_hdr_insert - insert a new header line */
int sip_msg_hdr_insert(struct sip_msg *m, int before, struct str line)
{
    int r;

    if ((r = sip_msg_editable(m, before)) < 0)
        return r;
    if (m->nslots == SIP_HDR_SLOTS)
        return sip_msg_efail(m, "Too many headers", -E2BIG);
    return sip_msg_put_line(m, SIP_HDR_NONE, before, line);
}

/* sip_msg_hdr_insertf - sip_msg_hdr_insert() with printf formatting */
int sip_msg_hdr_insertf(struct sip_msg *m, int before, const char *fmt, ...)
{
    size_t avail = SIP_ARENA_SIZE - m->arena_used;
    char *dst = m->arena + m->arena_used;
    va_list ap;
    int n;
    int r;

    if ((r = sip_msg_editable(m, before)) < 0)
        return r;
    if (m->nslots == SIP_HDR_SLOTS)
        return sip_msg_efail(m, "Too many headers", -E2BIG);
    va_start(ap, fmt);
    n = vsnprintf(dst, avail, fmt, ap);
    va_end(ap);
    if (n < 0)
        return sip_msg_efail(m, "Bad header", -EINVAL);
    if ((size_t)n + 2 > avail)
        return sip_msg_efail(m, "Message too big", -ENOSPC);
    if (!sip_msg_line_ok((struct str){dst, (size_t)n}))
        return sip_msg_efail(m, "Bad header", -EINVAL);
    memcpy(dst + n, "\r\n", 2);
    m->arena_used += (size_t)n + 2;
    return sip_msg_commit(m, SIP_HDR_NONE, before, dst, (size_t)n + 2, 0);
}

/* sip_msg_hdr_remove - remove header idx */
int sip_msg_hdr_remove(struct sip_msg *m, int idx)
{
    enum sip_hdr_type t;
    int r;

    if (idx == SIP_HDR_NONE)
        return sip_msg_efail(m, "Bad header index", -EINVAL);
    if ((r = sip_msg_editable(m, idx)) < 0)
        return r;
    t = m->hdrs[idx].type;
    (void)sip_msg_unlink(m, idx);
    (void)sip_msg_refresh(m, t);        /* absent is fine after a removal */
    return 0;
}

/* sip_msg_hdr_replace - replace the whole line of header idx */
int sip_msg_hdr_replace(struct sip_msg *m, int idx, struct str line)
{
    int r;

    if (idx == SIP_HDR_NONE)
        return sip_msg_efail(m, "Bad header index", -EINVAL);
    if ((r = sip_msg_editable(m, idx)) < 0)
        return r;
    r = sip_msg_put_line(m, idx, SIP_HDR_NONE, line);
    return r < 0 ? r : 0;
}

/*
 * sip_msg_splice - rebuild header idx with raw[cut, cut + cut_len)
 *      replaced by the pieces ins[0..nins), and commit it in place.
 */
static int sip_msg_splice(struct sip_msg *m, int idx, const char *cut,
                          size_t cut_len, const struct str *ins, int nins)
{
    const struct sip_hdr *h = &m->hdrs[idx];
    size_t head = (size_t)(cut - h->raw.s);
    size_t tail = h->raw.len - head - cut_len;
    size_t n = head + tail;
    char *dst;
    char *o;
    int i;

    for (i = 0; i < nins; i++)
        n += ins[i].len;
    if ((dst = sip_msg_arena(m, n)) == NULL)
        return -ENOSPC;
    memcpy(dst, h->raw.s, head);
    o = dst + head;
    for (i = 0; i < nins; i++) {
        if (ins[i].len > 0)
            memcpy(o, ins[i].s, ins[i].len);
        o += ins[i].len;
    }
    memcpy(o, cut + cut_len, tail);
    i = sip_msg_commit(m, idx, SIP_HDR_NONE, dst, n,
                       h->flags & SIP_HDR_F_FOLDED);
    return i < 0 ? i : 0;
}

/* sip_msg_elem_ok - elem is a non-empty span of header idx's value */
static int sip_msg_elem_ok(struct sip_msg *m, int idx, struct str elem)
{
    const struct str *v;
    int r;

    if (idx == SIP_HDR_NONE)
        return sip_msg_efail(m, "Bad header index", -EINVAL);
    if ((r = sip_msg_editable(m, idx)) < 0)
        return r;
    v = &m->hdrs[idx].value;
    if (elem.s == NULL || elem.len == 0 || elem.s < v->s
        || elem.len > v->len || (size_t)(elem.s - v->s) > v->len - elem.len)
        return sip_msg_efail(m, "Bad element", -EINVAL);
    return 0;
}

/* sip_msg_elem_replace - replace one element of a comma list in place */
int sip_msg_elem_replace(struct sip_msg *m, int idx, struct str elem,
                         struct str text)
{
    int r;

    if ((r = sip_msg_elem_ok(m, idx, elem)) < 0)
        return r;
    if (!sip_msg_line_ok(text))
        return sip_msg_efail(m, "Bad element", -EINVAL);
    return sip_msg_splice(m, idx, elem.s, elem.len, &text, 1);
}

/* sip_msg_elem_remove - remove one element of a comma list */
int sip_msg_elem_remove(struct sip_msg *m, int idx, struct str elem)
{
    const struct str *v;
    const char *vend;
    const char *e;
    const char *b;
    int r;

    if ((r = sip_msg_elem_ok(m, idx, elem)) < 0)
        return r;
    v = &m->hdrs[idx].value;
    vend = v->s + v->len;
    e = sip_hdr_skip_lws(elem.s + elem.len, vend);
    if (e < vend && *e == ',') {        /* "elem, next": drop "elem, " */
        e = sip_hdr_skip_lws(e + 1, vend);
        return sip_msg_splice(m, idx, elem.s, (size_t)(e - elem.s), NULL, 0);
    }
    for (b = elem.s; b > v->s && sip_hdr_is_lws((unsigned char)b[-1]); b--)
        ;
    if (b > v->s && b[-1] == ',') {     /* "prev , elem": drop " , elem" */
        for (b--; b > v->s && sip_hdr_is_lws((unsigned char)b[-1]); b--)
            ;
        return sip_msg_splice(m, idx, b, (size_t)(elem.s + elem.len - b),
                              NULL, 0);
    }
    return sip_msg_hdr_remove(m, idx); /* the only element */
}

/* sip_msg_via_replace - replace a via-parm in place */
int sip_msg_via_replace(struct sip_msg *m, const struct sip_via *v,
                        struct str text)
{
    struct sip_via c = *v;

    return sip_msg_elem_replace(m, c.hdr, c.raw, text);
}

/* sip_msg_via_remove - remove a via-parm (its header if it was alone) */
int sip_msg_via_remove(struct sip_msg *m, const struct sip_via *v)
{
    struct sip_via c = *v;

    return sip_msg_elem_remove(m, c.hdr, c.raw);
}

/* sip_msg_name_ok - a parameter name: a non-empty token */
static int sip_msg_name_ok(struct str name)
{
    size_t i;

    for (i = 0; i < name.len; i++)
        if (!sip_hdr_is_token((unsigned char)name.s[i]))
            return 0;
    return name.len > 0;
}

/* sip_msg_via_set_param - set ;name=value on a via-parm in place */
int sip_msg_via_set_param(struct sip_msg *m, const struct sip_via *v,
                          struct str name, struct str value)
{
    struct sip_via c = *v;
    struct str rest = c.params;
    struct str pn;
    struct str pv;
    struct str ins[4];
    int r;

    if ((r = sip_msg_elem_ok(m, c.hdr, c.raw)) < 0)
        return r;
    if (!sip_msg_name_ok(name)
        || (value.s != NULL && !sip_msg_line_ok(value)))
        return sip_msg_efail(m, "Bad parameter", -EINVAL);
    while ((r = sip_hdr_param_next(&rest, &pn, &pv)) > 0) {
        if (!str_ieq(pn, name))
            continue;
        if (pv.s != NULL && value.s != NULL)    /* new value */
            return sip_msg_splice(m, c.hdr, pv.s, pv.len, &value, 1);
        if (pv.s != NULL)                       /* drop "=value" */
            return sip_msg_splice(m, c.hdr, pn.s + pn.len,
                                  (size_t)(pv.s + pv.len - pn.s - pn.len),
                                  NULL, 0);
        if (value.s == NULL)                    /* flag stays a flag */
            return 0;
        ins[0] = STR_LIT("=");
        ins[1] = value;
        return sip_msg_splice(m, c.hdr, pn.s + pn.len, 0, ins, 2);
    }
    if (r < 0)
        return sip_msg_efail(m, "Bad Via", -EINVAL);
    ins[0] = STR_LIT(";");
    ins[1] = name;
    ins[2] = value.s != NULL ? STR_LIT("=") : STR_NULL;
    ins[3] = value;
    return sip_msg_splice(m, c.hdr, c.raw.s + c.raw.len, 0, ins, 4);
}

/* sip_msg_set_ruri - replace the Request-URI of a request */
int sip_msg_set_ruri(struct sip_msg *m, struct str uri)
{
    struct sip_uri u;
    size_t n;
    char *dst;
    char *o;
    int r;

    if ((r = sip_msg_editable(m, SIP_HDR_NONE)) < 0)
        return r;
    if (!m->is_request || !sip_msg_line_ok(uri))
        return sip_msg_efail(m, "Bad Request-URI", -EINVAL);
    n = m->method.len + 1 + uri.len + 1 + m->version.len + 2;
    if ((dst = sip_msg_arena(m, n)) == NULL)
        return -ENOSPC;
    o = dst;
    memcpy(o, m->method.s, m->method.len);
    o += m->method.len;
    *o++ = ' ';
    memcpy(o, uri.s, uri.len);
    if (sip_uri_parse((struct str){o, uri.len}, &u) < 0)
        return sip_msg_efail(m, "Bad Request-URI", -EINVAL);
    m->ruri_str = (struct str){o, uri.len};
    o += uri.len;
    *o++ = ' ';
    memcpy(o, m->version.s, m->version.len);
    m->version.s = o;
    memcpy(o + m->version.len, "\r\n", 2);
    m->method.s = dst;
    m->ruri = u;
    m->print_len = m->print_len - m->start.len + n;
    m->start = (struct str){dst, n};
    return 0;
}
