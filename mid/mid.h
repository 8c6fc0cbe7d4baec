#ifndef MID_H
#define MID_H
/*
 * SUMMARY
 *    mid - private interfaces of the supervisor
 * DESCRIPTION
 *    One struct mid holds everything the supervisor owns: the config and
 *    its text, the shared segment, the listening sockets, the process
 *    table, the control sockets and the FIFO. It lives in mid.c's main()
 *    and is passed to every topic file.
 */
#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "build.h"
#include "cfg.h"
#include "ev.h"
#include "shm.h"

#define MID_VERSION "0.1.0"
#define MID_RESTART_WINDOW_MS 60000
#define MID_RESTART_MAX 10              /* per stage and window */
#define MID_BACKOFF_MIN_MS 100
#define MID_BACKOFF_MAX_MS 10000
#define MID_STABLE_MS 10000             /* up this long: back-off resets */
#define MID_PING_MS 1000
#define MID_STALL_MS 2500               /* no pong this long: stalled, and
                                         * netd hashes around it; past
                                         * [stages] hang_ms it is killed */
#define MID_STOP_GRACE_MS 5000
#define MID_SCALE_GRACE_MS 1000         /* netd moves off, queues drain */
#define MID_PROBE_MS 2000               /* "BIN --layout" answers by then */

struct mid;

struct mid_proc {
    int used;
    int stage;                          /* STAGE_* */
    int instance;
    pid_t pid;                          /* 0 when not running */
    int state;                          /* PROC_S_* */
    int restarts;
    int ready;                          /* said ready since last fork */
    int planned;                        /* mid asked it to exit (reload,
                                         * stage_restart): the next start
                                         * is not a crash restart */
    int hung;                           /* killed for missing pings */
    char build[BUILD_ID_MAX];           /* its "ready" said; "" unknown */
    uint64_t lost_charged;              /* sipd: in flight at deaths so far */
    int64_t forked_ms;
    int64_t last_pong_ms;
    int backoff_ms;
    int64_t recent[MID_RESTART_MAX];    /* fork times, ring */
    int nrecent;
    struct ev_timer timer;              /* scheduled restart */
    int retire;                         /* scaled away: stop, no restart */
    struct ev_timer retire_timer;
    struct mid *mid;
};

struct mid_fifo_reply;
struct mid_http;

/* What one stat() says of a file: a stage binary (mid_probe.c), a file
 * a stage reads at its start (mid_files.c). */
struct mid_file_id {
    int known;                          /* 0: never looked at */
    int err;                            /* stat's errno, 0 when seen */
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns;
};

#define MID_FILES_N 4                   /* mid_files.c's table */

/* An MI request a stage answers (mid_relay.c). */
#define MID_RELAY_MAX 8                 /* MI requests waiting on stages */
#define MID_RELAY_MS 4000               /* for at most this long */
#define MID_RELAY_POLL_MS 50            /* stage not ready: look again */
#define MID_RELAY_BYTES (4 << 20)       /* reply size cap */

struct mid_mi_reply {
    int code;
    char reason[128];
    char *buf;                          /* "NAME:: VALUE\n" lines */
    size_t len;
    size_t cap;
    uint32_t defer;                     /* != 0: a stage answers later,
                                         * request id (mid_relay.c) */
};

#define MID_RELAY_SUMS 4                /* NAME:: N lines summed */

struct mid_relay_sum {
    char name[32];
    long long sum;
};

struct mid_relay {
    uint32_t id;                        /* 0: slot free */
    int stage;                          /* STAGE_* that answers */
    int multi;                          /* every running instance does
                                         * (sipd): want, got, iseq, sums */
    uint32_t want;                      /* instances asked (bits) */
    uint32_t got;                       /* instances that ended */
    unsigned iseq[CFG_MAX_SIPD];        /* next chunk of each */
    int code;                           /* first non-200 of an instance */
    char why[128];                      /* its reason, "sipd/1: ..." */
    struct mid_relay_sum sums[MID_RELAY_SUMS];
    int nsums;
    char cmd[32];                       /* what to ask it */
    int sent;                           /* asked (it was ready) */
    int64_t deadline;                   /* ms: answer by then */
    unsigned seq;                       /* next chunk expected */
    int bound;                          /* reply FIFO known */
    int cut;                            /* reply reached MID_RELAY_BYTES */
    char reply[NAME_MAX + 1];           /* "" fire and forget */
    void (*deliver)(struct mid *m, const char *to,
                    struct mid_mi_reply *r); /* the transport's writer */
    struct mid_mi_reply r;
    struct ev_timer timer;
    struct mid *mid;
};

struct mid {
    struct cfg cfg;
    char *cfg_text;
    size_t cfg_len;
    char cfg_path[PATH_MAX];
    char pid_path[PATH_MAX];
    int pid_fd;                         /* flock()ed pid file; >2 held */
    char bin_dir[PATH_MAX];
    int argc;
    char **argv;
    int verbose;
    int daemonize;                      /* -1 config, 0 -F, 1 -d */
    int64_t start_time;                 /* CLOCK_REALTIME s */
    struct shm shm;
    struct ev ev;
    int listen_fd[CFG_MAX_LISTEN];
    struct mid_proc procs[SHM_MAX_PROCS];
    int ctl_pub;
    int ctl_pull;
    struct ev_io pull_io;
    struct ev_timer ping_timer;
    uint64_t ping_seq;
    int64_t ping_last_ms;               /* when the ping timer last ran */
    int fifo_fd;
    int fifo_wfd;                       /* keeps the FIFO from EOF storms */
    uid_t fifo_uid;                     /* its owner: reply FIFOs' too */
    struct ev_io fifo_io;
    char fifo_buf[8192];
    size_t fifo_len;
    int fifo_skip;                      /* discarding an oversized one */
    struct mid_fifo_reply *replies;     /* pending, newest first */
    uint64_t fifo_drops;                /* replies given up on */
    struct mid_relay relay[MID_RELAY_MAX]; /* MI answered by stages */
    struct mid_http *http;              /* HTTP management, NULL: off */
    uint32_t relay_seq;
    int stopping;
    struct ev_timer stop_timer;
    int exit_code;
    uint64_t stats_base[STAT__N];       /* reset_statistics baseline */
    struct mid_file_id probed[STAGE__N]; /* binaries probed (mid_probe.c) */
    struct mid_file_id files[MID_FILES_N]; /* as their stage started */
    /* reload: the rolling restart (mid_reload.c) */
    int roll[SHM_MAX_PROCS];            /* proc slots, in order */
    int roll_n;                         /* 0: none in progress */
    int roll_next;
    pid_t roll_pid;                     /* the one being restarted */
    int64_t roll_deadline;
    struct ev_timer roll_timer;
};

/* mid_conf.c */
extern int mid_conf_load(struct mid *m, const char *path, char *err,
                         size_t errlen);
extern int mid_conf_read(const char *path, char **text, size_t *len);
extern int mid_conf_check(const struct cfg *c, const char *text,
                          const char *path, char *err, size_t errlen);
extern void mid_conf_limits(struct mid *m);
extern int mid_conf_pidlock(struct mid *m);
extern int mid_conf_daemon(struct mid *m);
extern void mid_conf_pidfiles(struct mid *m);
extern void mid_conf_cleanup(struct mid *m);
extern int mid_conf_line(const char *text, const char *section,
                         const char *key, const char *value);

/* mid_tls.c */
extern int mid_tls_check(const struct cfg *c, const char *text,
                         const char *path, char *err, size_t errlen);

/* mid_sock.c */
extern int mid_sock_open_all(struct mid *m);
extern void mid_sock_close_all(struct mid *m);

/* mid_spawn.c */
extern void mid_spawn_init(struct mid *m);
extern void mid_spawn_all(struct mid *m);
extern void mid_spawn_reap(struct mid *m);
extern void mid_spawn_stop_all(struct mid *m, int sig);
extern void mid_spawn_shutdown(struct mid *m, const char *why);
extern int mid_spawn_alive(struct mid *m);
extern struct mid_proc *mid_spawn_find(struct mid *m, int stage,
                                       int instance);
extern struct mid_proc *mid_spawn_by_pid(struct mid *m, pid_t pid);
extern const char *mid_spawn_state_name(int state);
extern void mid_spawn_restart(struct mid *m, struct mid_proc *p);
extern int mid_spawn_scale(struct mid *m, int n);
extern int mid_spawn_dbd(struct mid *m);
extern void mid_spawn_bounce(struct mid *m, struct mid_proc *p,
                             const char *why);
extern int mid_spawn_start(struct mid *m, struct mid_proc *p,
                           const char *why);
extern int mid_spawn_stalled(const struct mid_proc *p, int64_t now);
extern void mid_spawn_watch(struct mid *m);
extern void mid_spawn_live(struct mid *m);

/* mid_ctl.c */
extern int mid_ctl_open(struct mid *m);
extern void mid_ctl_close(struct mid *m);

/* mid_fifo.c */
extern int mid_fifo_open(struct mid *m);
extern void mid_fifo_close(struct mid *m);
extern void mid_fifo_reply_send(struct mid *m, const char *name,
                                struct mid_mi_reply *mr);

/* mid_relay.c */
extern void mid_relay_ask(struct mid *m, int stage, const char *cmd,
                          struct mid_mi_reply *r);
extern void mid_relay_ask_all(struct mid *m, int stage, const char *cmd,
                              struct mid_mi_reply *r);
typedef void mid_reply_fn(struct mid *m, const char *to,
                          struct mid_mi_reply *r);
extern void mid_relay_bind(struct mid *m, uint32_t id, const char *reply,
                           mid_reply_fn *deliver);
extern void mid_relay_chunk(struct mid *m, const char *msg);
extern void mid_relay_close(struct mid *m);

/* mid_mi.c */
extern void mid_mi_run(struct mid *m, const char *cmd, char **args,
                       int nargs, struct mid_mi_reply *r);
extern int mid_mi_exists(const char *cmd);
extern uint64_t mid_mi_ring_backlog(struct mid *m, int idx);
extern int mid_mi_rings(struct mid *m, int *idx);

/* mid_jsonrpc.c */
extern char *mid_jsonrpc_run(struct mid *m, const char *body, size_t len,
                             char *id, size_t idcap, uint32_t *defer);
extern char *mid_jsonrpc_reply(const char *id, const struct mid_mi_reply *r);
extern char *mid_jsonrpc_error(const char *id, int code, const char *msg);

/* mid_metrics.c */
extern char *mid_metrics_text(struct mid *m, size_t *len);

/* mid_http.c */
extern int mid_http_open(struct mid *m);
extern void mid_http_close(struct mid *m);

/* mid_reply.c */
extern void mid_reply_line(struct mid_mi_reply *r, const char *name,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
extern void mid_reply_status(struct mid_mi_reply *r, int code,
                          const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * mid_probe.c: mid_probe - run "BIN --layout" for stage's binary in
 * bin_dir (at most MID_PROBE_MS) and compare with the segment: 0 when
 * it may be started; -EPROTO another layout, -ENOEXEC no answer or not
 * executable, with the reason in why[whylen] for an MI 409.
 * mid_probe_start - the same before a start mid did not plan (the first
 * one, a crash restart), but only when the binary on disk is not the
 * one last seen to fit (a stat); 0 also for a binary that cannot be
 * asked (it is started as before), -EPROTO when it does not fit.
 */
extern int mid_probe(struct mid *m, int stage, char *why, size_t whylen);
extern int mid_probe_start(struct mid *m, int stage, char *why,
                           size_t whylen);

/*
 * mid_files.c: mid_file_id - *id from one stat() of path (a file that
 * cannot be seen gets its errno). mid_file_same - 1 when a and b are
 * known and equal. mid_files_note - note the files stage reads at its
 * start (it is being forked, on m->cfg). mid_files_changed - the CFG_S_*
 * stages whose files (same path in nc as now) changed since; their names
 * appended to the ", "-separated list in buf[cap].
 */
extern void mid_file_id(const char *path, struct mid_file_id *id);
extern int mid_file_same(const struct mid_file_id *a,
                         const struct mid_file_id *b);
extern void mid_files_note(struct mid *m, int stage);
extern unsigned mid_files_changed(struct mid *m, const struct cfg *nc,
                                  char *buf, size_t cap);

/* mid_reload.c: what an accepted reload does */
struct mid_reload_res {
    int nstages;                        /* stages that restart */
    char stages[192];                   /* "dnsd sipd/0 netd", "" none */
    char changed[400];                  /* "[dns] blacklist_s, ..." */
};

extern int mid_reload(struct mid *m, struct mid_reload_res *res, char *why,
                      size_t whylen);
extern void mid_reload_kick(struct mid *m);

#endif
