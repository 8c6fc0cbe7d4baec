/*
 * SUMMARY
 *    sipd_timer - the timer thread
 * DESCRIPTION
 *    As in the seed, the timer thread does no work itself: every
 *    SIPD_TICK_MS it fires a tick through an eventfd to the dispatcher,
 *    which queues a SIPD_T_TICK task for every worker with parked
 *    lookups (their expiry). A slow tick is harmless: ticks coalesce in
 *    the eventfd counter, whose value is how many ticks passed.
 *
 *    An idle sipd needs a tick once a second only (the cache sweep), so
 *    the timer wakes the main thread every SIPD_TICK_MS only while a
 *    worker has parked lookups (it reads their counts itself, so a
 *    lookup parked between two ticks is expired on time) or the main
 *    thread asked for them (d->tick_want: the address table is loading,
 *    or rings of slots past children are attached). Otherwise its
 *    ticks accumulate and go with the next second's.
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

/* sipd_timer_due - the main thread wants this tick */
static int sipd_timer_due(struct sipd *d, uint64_t n)
{
    int i;

    if (n >= 1000 / SIPD_TICK_MS
        || __atomic_load_n(&d->tick_want, __ATOMIC_RELAXED))
        return 1;
    for (i = 0; i < d->children; i++)
        if (__atomic_load_n(&d->workers[i].npend, __ATOMIC_RELAXED) > 0)
            return 1;
    return 0;
}

static void *sipd_timer_main(void *arg)
{
    struct sipd *d = arg;
    struct timespec ts = {0, SIPD_TICK_MS * 1000000L};
    uint64_t n = 0;

    while (!__atomic_load_n(&d->stop, __ATOMIC_RELAXED)) {
        nanosleep(&ts, NULL);
        if (!sipd_timer_due(d, ++n))
            continue;
        (void)!write(d->tick_fd, &n, sizeof(n));
        n = 0;
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
