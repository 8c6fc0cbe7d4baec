/*
 * SUMMARY
 *    ev - epoll event loop with millisecond timers and signals
 * DESCRIPTION
 *    See ev.h. Level-triggered epoll; up to EV_BATCH events per wait.
 *    Timers fire after the I/O of the same iteration, in deadline order;
 *    a timer handler may re-arm itself or others.
 * PROTOCOL
 *    None.
 * DIAGNOSTICS
 *    epoll_wait() failures other than EINTR are returned to the caller,
 *    which treats them as fatal. A short signalfd read is ignored.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"

#define EV_BATCH 64

int64_t ev_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint32_t ev_stamp_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int ev_init(struct ev *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->sig_io.fd = -1;
    ev->epfd = epoll_create1(EPOLL_CLOEXEC);
    return ev->epfd < 0 ? -errno : 0;
}

void ev_close(struct ev *ev)
{
    if (ev->sig_io.fd >= 0)
        close(ev->sig_io.fd);
    if (ev->epfd >= 0)
        close(ev->epfd);
    ev->epfd = -1;
    ev->sig_io.fd = -1;
}

static int ev_ctl(struct ev *ev, int op, struct ev_io *io, uint32_t events)
{
    struct epoll_event e;

    memset(&e, 0, sizeof(e));
    e.events = events;
    e.data.ptr = io;
    return epoll_ctl(ev->epfd, op, io->fd, &e) < 0 ? -errno : 0;
}

int ev_add(struct ev *ev, struct ev_io *io, uint32_t events)
{
    return ev_ctl(ev, EPOLL_CTL_ADD, io, events);
}

int ev_mod(struct ev *ev, struct ev_io *io, uint32_t events)
{
    return ev_ctl(ev, EPOLL_CTL_MOD, io, events);
}

int ev_del(struct ev *ev, struct ev_io *io)
{
    return ev_ctl(ev, EPOLL_CTL_DEL, io, 0);
}

void ev_timer_stop(struct ev *ev, struct ev_timer *t)
{
    struct ev_timer **pp;

    if (!t->armed)
        return;
    for (pp = &ev->timers; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    t->armed = 0;
    t->next = NULL;
}

void ev_timer_start(struct ev *ev, struct ev_timer *t, int64_t ms)
{
    struct ev_timer **pp;

    ev_timer_stop(ev, t);
    t->when = ev_now_ms() + ms;
    for (pp = &ev->timers; *pp != NULL && (*pp)->when <= t->when;
         pp = &(*pp)->next)
        ;
    t->next = *pp;
    *pp = t;
    t->armed = 1;
}

static void ev_signal_read(struct ev *ev, struct ev_io *io, uint32_t events)
{
    struct signalfd_siginfo si;

    (void)events;
    while (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        ev->sig_fn(ev, (int)si.ssi_signo, ev->sig_arg);
}

int ev_signals(struct ev *ev, const int *signals, ev_signal_fn fn,
               void *arg)
{
    sigset_t set;
    int fd, err;

    sigemptyset(&set);
    for (; *signals != 0; signals++)
        sigaddset(&set, *signals);
    if ((err = pthread_sigmask(SIG_BLOCK, &set, NULL)) != 0)
        return -err;
    fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    ev->sig_io.fd = fd;
    ev->sig_io.fn = ev_signal_read;
    ev->sig_io.arg = NULL;
    ev->sig_fn = fn;
    ev->sig_arg = arg;
    return ev_add(ev, &ev->sig_io, EPOLLIN);
}

void ev_signals_unblock(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigprocmask(SIG_SETMASK, &set, NULL);
}

/* ev_timers_fire - run every timer whose deadline has passed */
static void ev_timers_fire(struct ev *ev)
{
    int64_t now = ev_now_ms();
    struct ev_timer *t;

    while ((t = ev->timers) != NULL && t->when <= now) {
        ev->timers = t->next;
        t->next = NULL;
        t->armed = 0;
        t->fn(ev, t);
    }
}

int ev_run_once(struct ev *ev, int max_ms)
{
    struct epoll_event evs[EV_BATCH];
    struct ev_io *io;
    int64_t wait = max_ms;
    int n, i;

    if (ev->timers != NULL) {
        int64_t due = ev->timers->when - ev_now_ms();

        if (due < 0)
            due = 0;
        if (wait < 0 || due < wait)
            wait = due;
    }
    n = epoll_wait(ev->epfd, evs, EV_BATCH, (int)wait);
    if (n < 0) {
        if (errno != EINTR)
            return -errno;
        n = 0;
    }
    for (i = 0; i < n; i++) {
        io = evs[i].data.ptr;
        io->fn(ev, io, evs[i].events);
    }
    ev_timers_fire(ev);
    return n;
}
