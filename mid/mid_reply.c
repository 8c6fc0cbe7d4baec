/*
 * SUMMARY
 *    mid_reply - build an MI reply: status line and NAME:: VALUE lines
 * DESCRIPTION
 *    Every MI command (mid_mi.c), the relay of commands a stage answers
 *    (mid_relay.c) and the FIFO transport (mid_fifo.c) fill a struct
 *    mid_mi_reply through these two calls; the transport writes it out.
 *    They sit in a file of their own so that each of those files uses
 *    them without using the others.
 * PROTOCOL
 *    The reply of DESIGN.md: CODE " " REASON, then NAME ":: " VALUE lines.
 * DIAGNOSTICS
 *    None logged. Out of memory cuts the reply short (the lines so far
 *    stay), it never makes it wrong.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mid.h"

/* mid_reply_status - set the status line: code and printf-style reason */
void mid_reply_status(struct mid_mi_reply *r, int code, const char *fmt, ...)
{
    va_list ap;

    r->code = code;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
    va_end(ap);
}

/* mid_reply_line - append "NAME:: VALUE\n", VALUE printf-style */
void mid_reply_line(struct mid_mi_reply *r, const char *name, const char *fmt,
                 ...)
{
    char val[512];
    va_list ap;
    size_t need;
    int n;

    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    need = strlen(name) + strlen(val) + 5;
    if (r->len + need > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        char *nb;

        while (cap < r->len + need)
            cap *= 2;
        if ((nb = realloc(r->buf, cap)) == NULL)
            return;                     /* reply is cut short, not wrong */
        r->buf = nb;
        r->cap = cap;
    }
    n = sprintf(r->buf + r->len, "%s:: %s\n", name, val);
    r->len += (size_t)n;
}
