#ifndef EV_H
#define EV_H
/*
 * SUMMARY
 *    ev - epoll event loop with millisecond timers and signals
 * DESCRIPTION
 *    One struct ev per thread that runs a loop. File descriptors are
 *    registered with an ev_io (caller-owned, must outlive the
 *    registration). Timers are caller-owned ev_timer records kept in a
 *    list sorted by deadline; there are few of them per loop (restart
 *    back-off, health pings, idle sweeps), so the list is enough.
 *
 *    Signals arrive through a signalfd (ev_signals()): the handler runs
 *    in the loop, never in signal context, so no code here has to be
 *    async-signal-safe. The signals are blocked in the calling thread;
 *    a process that forks children must unblock them in the child
 *    before exec (ev_signals_unblock()).
 * DIAGNOSTICS
 *    Functions return 0 or -errno; ev_run_once() returns -errno only for
 *    an epoll failure other than EINTR.
 */
#include <stdint.h>
#include <sys/epoll.h>

struct ev;
struct ev_io;
struct ev_timer;

typedef void (*ev_io_fn)(struct ev *ev, struct ev_io *io, uint32_t events);
typedef void (*ev_timer_fn)(struct ev *ev, struct ev_timer *t);
typedef void (*ev_signal_fn)(struct ev *ev, int signo, void *arg);

struct ev_io {
    int fd;
    ev_io_fn fn;
    void *arg;
};

struct ev_timer {
    int64_t when;                       /* CLOCK_MONOTONIC ms */
    ev_timer_fn fn;
    void *arg;
    struct ev_timer *next;
    int armed;
};

struct ev {
    int epfd;
    struct ev_timer *timers;            /* sorted by when */
    struct ev_io sig_io;
    ev_signal_fn sig_fn;
    void *sig_arg;
};

extern int ev_init(struct ev *ev);
extern void ev_close(struct ev *ev);
extern int ev_add(struct ev *ev, struct ev_io *io, uint32_t events);
extern int ev_mod(struct ev *ev, struct ev_io *io, uint32_t events);
extern int ev_del(struct ev *ev, struct ev_io *io);

/* ev_now_ms - CLOCK_MONOTONIC in milliseconds */
extern int64_t ev_now_ms(void);

/*
 * ev_stamp_ms - CLOCK_MONOTONIC_COARSE in milliseconds, mod 2^32: a
 * record's age across processes (a vDSO read, no syscall; a few ms of
 * resolution). Compare two stamps by unsigned difference.
 */
extern uint32_t ev_stamp_ms(void);

/* ev_timer_start - (re)arm t to fire after ms milliseconds */
extern void ev_timer_start(struct ev *ev, struct ev_timer *t, int64_t ms);
extern void ev_timer_stop(struct ev *ev, struct ev_timer *t);

/*
 * ev_signals - block the given signals (0-terminated list) in this
 * thread and deliver them to fn from the loop. 0 or -errno.
 */
extern int ev_signals(struct ev *ev, const int *signals, ev_signal_fn fn,
                      void *arg);

/* ev_signals_unblock - empty the signal mask (child before exec) */
extern void ev_signals_unblock(void);

/*
 * ev_run_once - wait at most max_ms (-1: until an event or timer) and
 * dispatch. Returns the number of events handled or -errno.
 */
extern int ev_run_once(struct ev *ev, int max_ms);

#endif
