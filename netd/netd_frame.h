#ifndef NETD_FRAME_H
#define NETD_FRAME_H
/*
 * SUMMARY
 *      netd_frame - cut a TCP byte stream into SIP messages
 * DESCRIPTION
 *      See netd_frame.c. Pure functions over struct netd_frame
 *      (netd_conn.h): no I/O, unit-tested in t/unit/netd_frame.c.
 */
#include <stddef.h>

#include "msg.h"
#include "netd_conn.h"

#define NETD_FR_AGAIN 0                 /* need more bytes */
#define NETD_FR_MSG 1                   /* a whole message */
#define NETD_FR_PING 2                  /* CRLFCRLF: answer CRLF */
#define NETD_FR_OVERSIZE 3              /* Content-Length says > max */
#define NETD_FR_ENDLESS 4               /* no empty line within max */
#define NETD_FR_BAD 5                   /* no or bad Content-Length */

struct netd_frame_msg {
    size_t start;                       /* offset in fr->buf */
    size_t hdr_len;                     /* start line .. empty line */
    size_t body_len;                    /* Content-Length */
};

/*
 * netd_frame_next - the next event in f->buf[f->off .. f->len) for
 *      messages of at most max bytes (headers and body). NETD_FR_MSG and
 *      NETD_FR_PING consume what they report; NETD_FR_OVERSIZE reports
 *      the header block (start, hdr_len) and the Content-Length it
 *      found (body_len, may be huge) and consumes nothing; NETD_FR_AGAIN,
 *      NETD_FR_ENDLESS and NETD_FR_BAD consume nothing.
 */
extern int netd_frame_next(struct netd_frame *f, size_t max,
                           struct netd_frame_msg *out);

/* netd_frame_compact - drop consumed bytes (once per read batch) */
extern void netd_frame_compact(struct netd_frame *f);

/* netd_frame_pending - bytes of a partial message waiting (not CR/LF) */
extern size_t netd_frame_pending(const struct netd_frame *f);

/*
 * netd_frame_via_alias - RFC 5923: the top Via of the header block
 *      hdr/len has an "alias" parameter and a sent-by that is an IP
 *      literal: its address (port 5060 when absent) into *a. 1 when
 *      found, 0 when not.
 */
extern int netd_frame_via_alias(const char *hdr, size_t len,
                                struct msg_addr *a);

#endif
