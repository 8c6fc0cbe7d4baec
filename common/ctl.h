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
 *    stage -> mid:  "ready STAGE INSTANCE PID BUILD"   after init, once
 *                   "pong STAGE INSTANCE PID"    answer to a ping
 *                   "mi STAGE INSTANCE PID ID SEQ more|end [CODE REASON]"
 *                   then "\n" and "NAME:: VALUE\n" lines: a chunk of
 *                   the answer to MI request ID (mid_relay.c); the only
 *                   message of several lines
 *    mid -> stages: "ping SEQ"                   health, every 2 s
 *                   "dns_cache_flush"            (dnsd)
 *                   "dns_cache_dump ID", "dns_blacklist_dump ID",
 *                   "dns_blacklist_flush ID"     (dnsd answers "mi ...")
 *                   "db_status ID"               (dbd answers "mi ...")
 * DIAGNOSTICS
 *    Functions return 0 / a length, or -errno (nn_errno()).
 */
#include <stddef.h>

#define CTL_PUB "ctl.pub"
#define CTL_PULL "ctl.pull"
#define CTL_MSG_MAX 512

/*
 * One verb per socket, so that no caller needs nanomsg's constants (this
 * module is the only one that includes nanomsg.h). Each returns the
 * socket (>= 0) or -errno; run_dir is [core] run_dir.
 *
 * ctl_listen_pub - mid: bind the broadcast PUB at RUN_DIR/ctl.pub,
 *     removing a stale socket file first
 * ctl_listen_pull - mid: bind the report PULL at RUN_DIR/ctl.pull, the same
 * ctl_dial_sub - stage: connect a SUB to ctl.pub, subscribed to everything
 * ctl_dial_push - stage: connect a PUSH to ctl.pull; a send waits at most
 *     2 s for mid
 */
extern int ctl_listen_pub(const char *run_dir);
extern int ctl_listen_pull(const char *run_dir);
extern int ctl_dial_sub(const char *run_dir);
extern int ctl_dial_push(const char *run_dir);

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
