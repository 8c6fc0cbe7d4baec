/*
 * SUMMARY
 *    sipd_timer - the timer thread
 * DESCRIPTION
 *    As in the seed, the timer thread does no work itself: every
 *    SIPD_TICK_MS it fires a tick through an eventfd to the dispatcher,
 *    which queues a SIPD_T_TICK task for every worker (expiry of parked
 *    DNS lookups). A slow tick is harmless: ticks coalesce in the
 *    eventfd counter.
 * PROTOCOL
 *    eventfd: timer -> dispatcher.
 * DIAGNOSTICS
 *    Failure to create the eventfd or the thread is fatal at start.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "sipd.h"

static void *sipd_timer_main(void *arg)
{
    struct sipd *d = arg;
    struct timespec ts = {0, SIPD_TICK_MS * 1000000L};
    uint64_t one = 1;

    while (!__atomic_load_n(&d->stop, __ATOMIC_RELAXED)) {
        nanosleep(&ts, NULL);
        (void)!write(d->tick_fd, &one, sizeof(one));
    }
    return NULL;
}

int sipd_timer_start(struct sipd *d)
{
    int err;

    if ((d->tick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
        return -errno;
    if ((err = pthread_create(&d->timer_tid, NULL, sipd_timer_main, d)) != 0)
        return -err;
    return 0;
}

void sipd_timer_stop(struct sipd *d)
{
    __atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
    pthread_join(d->timer_tid, NULL);
}
