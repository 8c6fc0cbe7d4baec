/*
 * SUMMARY
 *    ctl_mi - a stage's answer to an MI request, in ctl-sized chunks
 * DESCRIPTION
 *    See ctl_mi.h. Lines are gathered in one buffer and sent when the
 *    next does not fit, so a reply costs one ctl message per
 *    CTL_MI_BODY bytes. A line is never split across chunks (mid
 *    appends chunk bodies as they come).
 * PROTOCOL
 *    See ctl_mi.h.
 * DIAGNOSTICS
 *    See ctl_mi.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl_mi.h"
#include "log.h"

/* ctl_mi_send - one message: the lines so far, "more" or the end */
static void ctl_mi_send(struct ctl_mi *mi, const char *tail)
{
    int err;

    if (mi->failed)
        return;
    err = ctl_send(mi->push, "mi %s %d %d %u %u %s\n%.*s", mi->stage,
                   mi->instance, (int)getpid(), mi->id, mi->seq++, tail,
                   (int)mi->len, mi->body);
    if (err < 0) {
        log_warn_rl("MI reply %u: send to mid: %s", mi->id, strerror(-err));
        mi->failed = 1;
    }
    mi->len = 0;
}

void ctl_mi_start(struct ctl_mi *mi, int push, const char *stage,
                  int instance, uint32_t id)
{
    memset(mi, 0, sizeof(*mi));
    mi->push = push;
    mi->stage = stage;
    mi->instance = instance;
    mi->id = id;
}

void ctl_mi_line(struct ctl_mi *mi, const char *name, const char *fmt, ...)
{
    char line[CTL_MI_BODY];
    va_list ap;
    int n, k;

    n = snprintf(line, sizeof(line), "%s:: ", name);
    if (n < 0 || (size_t)n >= sizeof(line) - 2)
        return;
    va_start(ap, fmt);
    k = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (k < 0)
        return;
    n += k;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;      /* cut, never split */
    line[n++] = '\n';
    if (mi->len + (size_t)n > sizeof(mi->body))
        ctl_mi_send(mi, "more");
    memcpy(mi->body + mi->len, line, (size_t)n);
    mi->len += (size_t)n;
}

void ctl_mi_end(struct ctl_mi *mi, int code, const char *reason)
{
    char tail[128];

    snprintf(tail, sizeof(tail), "end %d %s", code, reason);
    ctl_mi_send(mi, tail);
}
