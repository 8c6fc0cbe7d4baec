#ifndef CTL_H
#define CTL_H
/*
 * SUMMARY
 *    ctl - the control plane: nanomsg sockets between mid and the stages
 * DESCRIPTION
 *    Two channels, both under [core] run_dir:
 *
 *      ipc://RUN_DIR/ctl.pub   mid PUB  -> stages SUB   broadcasts
 *      ipc://RUN_DIR/ctl.pull  stages PUSH -> mid PULL  reports
 *
 *    Messages are one line of text, words separated by single spaces
 *    (ctl_msg_* below). Broadcasts start with the target ("all", a stage
 *    name, or "sipd/1") so SUB filtering is by prefix-free parsing in the
 *    stage. The data plane never uses these sockets.
 * PROTOCOL
 *    stage -> mid:  "ready STAGE INSTANCE PID"   after init, once
 *                   "pong STAGE INSTANCE PID"    answer to a ping
 *    mid -> stages: "ping SEQ"                   health, every 2 s
 *                   "dns_cache_flush"            (dnsd)
 * DIAGNOSTICS
 *    Functions return 0 / a length, or -errno (nn_errno()).
 */
#include <stddef.h>

#define CTL_PUB "ctl.pub"
#define CTL_PULL "ctl.pull"
#define CTL_MSG_MAX 512

/* ctl_listen - mid: bind a PUB or PULL socket (protocol NN_PUB/NN_PULL) */
extern int ctl_listen(const char *run_dir, const char *name, int proto);

/* ctl_dial - stage: connect a SUB (subscribed to all) or PUSH socket */
extern int ctl_dial(const char *run_dir, const char *name, int proto);

/* ctl_rcvfd - the pollable descriptor of socket s (for ev) */
extern int ctl_rcvfd(int s);

/* ctl_send - send a formatted line; a PUB never blocks, a PUSH waits
 * at most 2 s for its peer. 0 or -errno. */
extern int ctl_send(int s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ctl_recv - receive one line without blocking, NUL-terminated.
 * Returns its length, -EAGAIN when none is waiting, or -errno. */
extern int ctl_recv(int s, char *buf, size_t cap);

extern void ctl_close(int s);

/* ctl_unlink - mid at exit: remove the ipc files */
extern void ctl_unlink(const char *run_dir);

#endif
