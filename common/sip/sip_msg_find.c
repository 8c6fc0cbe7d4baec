/*
 * SUMMARY
 *      sip_msg_find - look headers up in a parsed message's index
 * DESCRIPTION
 *      sip_msg_parse() links every header into m->hdrs in message
 *      order and keeps, per type, the first one (m->first[]) and a
 *      count. sip_msg_hdr_find() walks that list for the next header
 *      of one type; sip_msg_hdr_find_name() does the same by name, for
 *      the headers the name table does not type (SIP_HDR_OTHER).
 *
 *      The field code (sip_msg_field.c), the router and the replies in
 *      sipd use these. They read the index only: they never change m.
 *      (sip_hdr_iter_next() in sip_hdr.c walks the same list itself,
 *      so that sip_hdr.c, which this file uses, depends on nothing.)
 * PROTOCOL
 *      None: a library.
 * DIAGNOSTICS
 *      -ENOENT when there is no such header. Nothing logs.
 */
#include <errno.h>

#include "sip_msg_priv.h"

/* sip_msg_hdr_find - next header of a type */
int sip_msg_hdr_find(const struct sip_msg *m, enum sip_hdr_type type,
                     int after)
{
    int i;

    if ((unsigned)type >= SIP_HDR_NTYPES)
        return -ENOENT;
    if (after < 0)
        return m->first[type] >= 0 ? m->first[type] : -ENOENT;
    if (after >= m->nslots)
        return -ENOENT;
    for (i = m->hdrs[after].next; i >= 0; i = m->hdrs[i].next)
        if (m->hdrs[i].type == type)
            return i;
    return -ENOENT;
}

/* sip_msg_hdr_find_name - next header with this name */
int sip_msg_hdr_find_name(const struct sip_msg *m, struct str name,
                          int after)
{
    enum sip_hdr_type t = sip_hdr_type_of(name);
    int i;

    if (t != SIP_HDR_OTHER)
        return sip_msg_hdr_find(m, t, after);
    if (after >= m->nslots)
        return -ENOENT;
    for (i = after < 0 ? m->head : m->hdrs[after].next; i >= 0;
         i = m->hdrs[i].next)
        if (m->hdrs[i].type == SIP_HDR_OTHER && str_ieq(m->hdrs[i].name, name))
            return i;
    return -ENOENT;
}
