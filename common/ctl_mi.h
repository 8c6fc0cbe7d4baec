#ifndef CTL_MI_H
#define CTL_MI_H
/*
 * SUMMARY
 *    ctl_mi - a stage's answer to an MI request, in ctl-sized chunks
 * DESCRIPTION
 *    mid relays some MI commands to the stage that holds the state
 *    (mid_relay.c): it publishes "COMMAND ID", and the stage answers on
 *    its PUSH socket with the reply's "NAME:: VALUE" lines, cut into
 *    messages that fit CTL_MSG_MAX, the last one marked "end" with the
 *    reply's code and reason. This is that writer, shared by the stages
 *    (dnsd, dbd): start, any number of lines, end.
 * PROTOCOL
 *    stage -> mid (PUSH): "mi STAGE INSTANCE PID ID SEQ more\n" LINES
 *    and at last "mi STAGE INSTANCE PID ID SEQ end CODE REASON\n" LINES,
 *    SEQ counting from 0 (ctl.h).
 * DIAGNOSTICS
 *    A send that fails (mid gone for 2 s) is logged, rate-limited, and
 *    the rest of the reply is dropped: mid answers the client with an
 *    error when its wait ends. A line longer than a chunk is cut.
 */
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"

#define CTL_MI_BODY (CTL_MSG_MAX - 80)  /* room for the header */

struct ctl_mi {
    int push;
    const char *stage;                  /* "dnsd", static */
    int instance;
    uint32_t id;
    unsigned seq;
    int failed;                         /* a send failed: stop sending */
    size_t len;
    char body[CTL_MI_BODY];
};

/* ctl_mi_start - begin the answer to request id of stage/instance */
extern void ctl_mi_start(struct ctl_mi *mi, int push, const char *stage,
                         int instance, uint32_t id);

/* ctl_mi_line - append "NAME:: VALUE\n", sending what came before when
 *    it does not fit */
extern void ctl_mi_line(struct ctl_mi *mi, const char *name,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ctl_mi_end - send the last chunk with code and reason */
extern void ctl_mi_end(struct ctl_mi *mi, int code, const char *reason);

#endif
