/*
 * SUMMARY
 *    mid - the sipstage supervisor
 * SYNOPSIS
 *    mid -f FILE [-c] [-d|-F] [-P PIDFILE] [-v]...
 *    mid --layout
 * DESCRIPTION
 *    mid parses and validates the whole config (nothing starts on an
 *    error), creates the shared segment with its rings, the listening
 *    sockets and the control sockets, then fork+execs every stage:
 *    netd, sipd x [stages] sipd, dnsd. A stage that dies is restarted
 *    with back-off while the others run on. mid serves the FIFO MI,
 *    and HTTP (/metrics, JSON-RPC) when [mi] http_listen is set.
 *    SIGTERM or SIGINT stop every stage, remove the FIFO, the ipc files
 *    and the pid files, and mid exits 0.
 *
 *    -c checks the config and exits (0, or 1 with "FILE:LINE: ..."),
 *    -d daemonizes, -F stays in the foreground (both override [core]
 *    daemon), -P overrides [core] pid_file, -v raises the log level.
 *    --layout prints the segment layout and the build id and exits.
 * PROTOCOL
 *    ctl.h (control sockets), shm.h (segment), the FIFO MI (mid_fifo.c),
 *    HTTP (mid_http.c).
 * DIAGNOSTICS
 *    Config errors and failures to create the segment, the sockets or
 *    the FIFO are fatal at start. Nothing after start is fatal: a stage
 *    crash, a bad MI request or a lost control socket are logged.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mid.h"

static void mid_usage(void)
{
    fprintf(stderr,
            "usage: mid -f FILE [-c] [-d|-F] [-P PIDFILE] [-v]...\n");
    exit(2);
}

static void mid_opts(struct mid *m, int argc, char **argv, int *check,
                     const char **file)
{
    int c;

    *check = 0;
    *file = NULL;
    m->daemonize = -1;
    while ((c = getopt(argc, argv, "f:cdFP:vh")) != -1) {
        switch (c) {
        case 'f':
            *file = optarg;
            break;
        case 'c':
            *check = 1;
            break;
        case 'd':
            m->daemonize = 1;
            break;
        case 'F':
            m->daemonize = 0;
            break;
        case 'P':
            snprintf(m->pid_path, sizeof(m->pid_path), "%s", optarg);
            break;
        case 'v':
            m->verbose++;
            break;
        default:
            mid_usage();
        }
    }
    if (*file == NULL || optind != argc)
        mid_usage();
}

static void mid_on_signal(struct ev *ev, int signo, void *arg)
{
    struct mid *m = arg;

    (void)ev;
    switch (signo) {
    case SIGCHLD:
        mid_spawn_reap(m);
        break;
    case SIGHUP: {
        char why[512];

        mid_reload(m, NULL, why, sizeof(why)); /* logs what it did or
                                                * refused */
        break;
    }
    default:
        mid_spawn_shutdown(m, signo == SIGINT ? "SIGINT" : "SIGTERM");
        break;
    }
}

static void mid_on_stop_timer(struct ev *ev, struct ev_timer *t)
{
    struct mid *m = t->arg;

    (void)ev;
    if (mid_spawn_alive(m) > 0) {
        log_warn("stages still alive after %d ms: SIGKILL",
                 MID_STOP_GRACE_MS);
        mid_spawn_stop_all(m, SIGKILL);
    }
}

static void mid_start(struct mid *m)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGCHLD, SIGHUP, 0};
    int err;

    if ((err = shm_create(&m->shm, &m->cfg, m->cfg_text, m->cfg_len)) < 0)
        log_fatal("shared memory: %s", strerror(-err));
    if (m->verbose)
        m->shm.hdr->log_level = LOG_L_INFO + m->verbose - 1;
    log_level_ptr((volatile int *)&m->shm.hdr->log_level);
    if ((err = mid_sock_open_all(m)) < 0)
        log_fatal("listen sockets: %s", strerror(-err));
    if ((err = ev_init(&m->ev)) < 0
        || (err = ev_signals(&m->ev, sigs, mid_on_signal, m)) < 0)
        log_fatal("event loop: %s", strerror(-err));
    if ((err = mid_ctl_open(m)) < 0)
        log_fatal("control sockets in %s: %s", m->cfg.run_dir,
                  strerror(-err));
    if ((err = mid_fifo_open(m)) < 0)
        log_fatal("fifo %s: %s", m->cfg.fifo_name, strerror(-err));
    if ((err = mid_http_open(m)) < 0)
        log_fatal("[mi] http_listen %s:%u: %s", m->cfg.http_listen.host,
                  m->cfg.http_listen.port, strerror(-err));
    mid_spawn_init(m);
    mid_spawn_all(m);
}

static void mid_loop(struct mid *m)
{
    int armed = 0;

    m->stop_timer.fn = mid_on_stop_timer;
    m->stop_timer.arg = m;
    while (!m->stopping || mid_spawn_alive(m) > 0) {
        if (m->stopping && !armed) {
            ev_timer_start(&m->ev, &m->stop_timer, MID_STOP_GRACE_MS);
            armed = 1;
        }
        if (ev_run_once(&m->ev, -1) < 0)
            log_fatal("epoll: %s", strerror(errno));
    }
}

int main(int argc, char **argv)
{
    static struct mid m;
    const char *file;
    char err[512];
    int check;

    build_layout_answer(argc, argv);    /* as the stages answer it */
    m.argc = argc;
    m.argv = argv;
    log_set_name("mid");
    mid_opts(&m, argc, argv, &check, &file);
    if (mid_conf_load(&m, file, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (check) {
        fprintf(stderr, "%s: config OK\n", file);
        return 0;
    }
    log_init("mid", m.cfg.log_syslog, m.cfg.log_facility);
    log_level_set(m.cfg.debug + m.verbose);
    mid_conf_limits(&m);
    if (mid_conf_pidlock(&m) < 0)       /* another mid: touch nothing */
        return 1;
    if (mid_conf_daemon(&m) < 0)
        return 1;
    mid_conf_pidfiles(&m);
    m.start_time = time(NULL);
    signal(SIGPIPE, SIG_IGN);
    mid_start(&m);
    log_notice("sipstage %s (build %s) started: %d listen, %d sipd x %d "
               "children", MID_VERSION, build_id(), m.cfg.nlisten,
               m.cfg.stages_sipd, m.cfg.children);
    mid_loop(&m);
    mid_http_close(&m);                 /* before the relay's requests go */
    mid_fifo_close(&m);
    mid_ctl_close(&m);
    mid_sock_close_all(&m);
    /* The log level lives in the segment: back to a private copy first. */
    log_level_ptr(NULL);
    log_level_set(m.shm.hdr->log_level);
    shm_destroy(&m.shm);
    mid_conf_cleanup(&m);
    log_notice("stopped");
    return m.exit_code;
}
