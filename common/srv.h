#ifndef SRV_H
#define SRV_H
/*
 * SUMMARY
 *    srv - the skeleton every stage daemon runs in
 * DESCRIPTION
 *    main() of a stage is one call to srv_main(). It parses the options
 *    mid passes ("-S SHMFD -i INSTANCE [-v]..."), maps the shared segment,
 *    parses the config text mid copied into it (so every stage of one run
 *    sees the same config, whatever happened to the file since), sets up
 *    logging (level live from shared memory), the event loop with
 *    SIGTERM/SIGINT, the control sockets, calls ops->init, drops
 *    privileges, reports "ready" to mid and calls ops->run. ops->run
 *    returns when srv->stop is set; then ops->fini runs and the process
 *    exits 0.
 * PROTOCOL
 *    ctl.h: "ready"/"pong" to mid over PUSH; "ping" and broadcasts from
 *    mid over SUB (broadcasts other than ping go to ops->ctl).
 * DIAGNOSTICS
 *    Option errors, a bad segment or a config that no longer parses are
 *    fatal (exit 1; mid restarts with back-off and says why).
 */
#include "cfg.h"
#include "ev.h"
#include "shm.h"

struct srv;

struct srv_ops {
    const char *name;                   /* "netd" */
    int stage;                          /* STAGE_* */
    int (*init)(struct srv *s);         /* 0 or -errno (fatal) */
    void (*run)(struct srv *s);         /* until s->stop */
    void (*fini)(struct srv *s);        /* may be NULL */
    void (*ctl)(struct srv *s, const char *msg); /* may be NULL */
};

struct srv {
    const struct srv_ops *ops;
    int instance;
    int proc;                           /* SHM_PROC_* slot */
    int verbose;
    struct shm shm;
    struct cfg cfg;
    struct ev ev;                       /* the stage's main loop */
    int ctl_sub;
    int ctl_push;
    struct ev_io sub_io;
    volatile int stop;
    struct shm_proc *me;                /* my row in the ps table */
    void *ctx;                          /* the daemon's own state */
};

extern int srv_main(int argc, char **argv, const struct srv_ops *ops);

#define SRV_DRAIN_MS 1000              /* stopping: input rings, at most */

/*
 * srv_loop - the loop of a stage driven by rings: handle events, then
 * work() (returns how much it did); block in epoll only when the last
 * round did nothing and may_sleep() says every input ring is empty
 * (ring_sleep_prepare). Once s->stop is set it handles no more events
 * but calls work() until a round does nothing or SRV_DRAIN_MS passed
 * (drain), then returns.
 */
extern void srv_loop(struct srv *s, int (*work)(struct srv *s),
                     int (*may_sleep)(struct srv *s));

/* srv_proc_slot - SHM_PROC_* for (stage, instance) */
extern int srv_proc_slot(int stage, int instance);

#endif
