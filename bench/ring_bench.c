/*
 * SUMMARY
 *      ring_bench - two-process throughput of the shared-memory ring
 * SYNOPSIS
 *      ring_bench [messages]
 * DESCRIPTION
 *      A producer process and a consumer process share one ring (4 MiB
 *      data area, the size of mid's netd<->sipd rings) in a memfd mapped
 *      MAP_SHARED, as the daemons do. The producer sends 300-byte records
 *      (a typical SIP datagram is a few hundred bytes), stamping a
 *      sequence number into each, and commits after every record (batch
 *      1) or after every 32 records (batch 32, what a recvmmsg() burst
 *      gives netd). The consumer pops, checks the sequence, reads the
 *      payload, releases every 32 records or when the ring runs dry, spins
 *      briefly on an empty ring and then sleeps on the eventfd with the
 *      ring_sleep_prepare() protocol, like a daemon's event loop.
 *
 *      For each batch size it prints messages per second, nanoseconds per
 *      message (wall clock, first record produced to last consumed) and
 *      the number of eventfd writes per million messages, which is the
 *      number of wake-up syscalls the producer paid. A run stops after
 *      "messages" records (default 10,000,000) or 5 seconds, whichever
 *      comes first, so the whole program stays well under 20 seconds.
 * PROTOCOL
 *      Records of type 1 carry the sequence number in their first 8 bytes;
 *      one record of type 2 ends a run and carries the count sent.
 * DIAGNOSTICS
 *      Exits 1 with a message on stderr when a setup call fails, when a
 *      record arrives out of order, or when the producer process fails.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"

#define RING_BENCH_SIZE (4u << 20)
#define RING_BENCH_LEN 300u
#define RING_BENCH_SECS 5.0
#define RING_BENCH_SPIN 256             /* empty polls before sleeping */
#define RING_BENCH_T_MSG 1
#define RING_BENCH_T_END 2

/* Shared with the producer child, in front of the ring. */
struct ring_bench_ctl {
    double t_start;                     /* producer: first reserve */
    uint64_t writes;                    /* producer: eventfd writes */
    uint64_t full;                      /* producer: reserve found full */
};

struct ring_bench_seg {
    struct ring_bench_ctl *ctl;
    void *ring;
    size_t bytes;
    int efd;
};

static double ring_bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void ring_bench_die(const char *what)
{
    fprintf(stderr, "ring_bench: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void ring_bench_open(struct ring_bench_seg *g)
{
    int fd = memfd_create("ring_bench", MFD_CLOEXEC);
    char *base;

    g->bytes = 4096 + ring_shm_bytes(RING_BENCH_SIZE);
    if (fd < 0 || ftruncate(fd, (off_t)g->bytes) < 0)
        ring_bench_die("memfd");
    base = mmap(NULL, g->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED)
        ring_bench_die("mmap");
    close(fd);
    g->ctl = (struct ring_bench_ctl *)base;
    g->ring = base + 4096;
    if ((errno = -ring_format(g->ring, RING_BENCH_SIZE, "bench")) != 0)
        ring_bench_die("ring_format");
    if ((g->efd = eventfd(0, EFD_NONBLOCK)) < 0)
        ring_bench_die("eventfd");
}

static void ring_bench_close(struct ring_bench_seg *g)
{
    close(g->efd);
    munmap(g->ctl, g->bytes);
}

/* ring_bench_full - producer: commit, then back off while full */
static void ring_bench_full(struct ring *r, struct ring_bench_ctl *ctl,
                            unsigned *spins)
{
    ctl->writes += (uint64_t)ring_commit(r);
    ctl->full++;
    if (++*spins > 64)
        sched_yield();
}

/* ring_bench_produce - child: n records, a commit every "batch" */
static void ring_bench_produce(struct ring_bench_seg *g, uint64_t n,
                               unsigned batch)
{
    unsigned char tmpl[RING_BENCH_LEN];
    struct ring_bench_ctl *ctl = g->ctl;
    unsigned spins = 0, k = 0;
    double deadline;
    unsigned char *d;
    uint64_t seq;
    struct ring r;

    memset(tmpl, 'x', sizeof(tmpl));
    if (ring_attach(&r, g->ring, g->efd, RING_PRODUCER) < 0)
        _exit(2);
    ctl->t_start = ring_bench_now();
    deadline = ctl->t_start + RING_BENCH_SECS;
    for (seq = 0; seq < n; seq++) {
        while ((d = ring_reserve(&r, RING_BENCH_T_MSG, RING_BENCH_LEN))
               == NULL)
            ring_bench_full(&r, ctl, &spins);
        spins = 0;
        memcpy(d, tmpl, RING_BENCH_LEN);
        memcpy(d, &seq, sizeof(seq));
        if (++k == batch) {
            ctl->writes += (uint64_t)ring_commit(&r);
            k = 0;
            if ((seq & 1023) == 1023 && ring_bench_now() > deadline) {
                seq++;
                break;
            }
        }
    }
    while ((d = ring_reserve(&r, RING_BENCH_T_END, sizeof(seq))) == NULL)
        ring_bench_full(&r, ctl, &spins);
    memcpy(d, &seq, sizeof(seq));
    ctl->writes += (uint64_t)ring_commit(&r);
}

struct ring_bench_res {
    uint64_t n, sleeps;
    double secs;
};

/* ring_bench_consume - parent: until the end record; 0 or -1 */
static int ring_bench_consume(struct ring_bench_seg *g,
                              struct ring_bench_res *res)
{
    struct pollfd pfd = {g->efd, POLLIN, 0};
    const struct ring_rec *rec;
    uint64_t seq, sum = 0;
    unsigned idle = 0, since = 0;
    struct ring r;

    if (ring_attach(&r, g->ring, g->efd, RING_CONSUMER) < 0)
        return -1;
    memset(res, 0, sizeof(*res));
    for (;;) {
        if ((rec = ring_pop(&r)) == NULL) {
            ring_release(&r);
            since = 0;
            if (++idle < RING_BENCH_SPIN || ring_sleep_prepare(&r))
                continue;
            res->sleeps++;
            if (poll(&pfd, 1, 2000) == 0)
                return -1;              /* lost wake-up or dead producer */
            ring_wake_clear(&r);
            continue;
        }
        idle = 0;
        memcpy(&seq, rec->data, sizeof(seq));
        if (rec->type == RING_BENCH_T_END)
            break;
        if (seq != res->n++)
            return -1;
        sum += rec->data[RING_BENCH_LEN - 1];
        if (++since == 32) {
            ring_release(&r);
            since = 0;
        }
    }
    res->secs = ring_bench_now() - g->ctl->t_start;
    ring_release(&r);
    if (seq != res->n || sum != res->n * 'x')
        return -1;
    return 0;
}

static int ring_bench_run(uint64_t n, unsigned batch)
{
    struct ring_bench_seg g;
    struct ring_bench_res res;
    int st, rc;
    pid_t pid;

    ring_bench_open(&g);
    fflush(stdout);
    if ((pid = fork()) < 0)
        ring_bench_die("fork");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        ring_bench_produce(&g, n, batch);
        _exit(0);
    }
    rc = ring_bench_consume(&g, &res);
    if (rc < 0)
        kill(pid, SIGKILL);
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)
        || WEXITSTATUS(st) != 0)
        rc = -1;
    if (rc < 0) {
        fprintf(stderr, "ring_bench: batch %u: transfer failed after %"
                PRIu64 " messages\n", batch, res.n);
        ring_bench_close(&g);
        return -1;
    }
    printf("batch %2u: %10.0f msg/s %7.1f ns/msg %9.1f eventfd writes/M msg"
           "  (%" PRIu64 " msgs in %.2f s, %" PRIu64 " sleeps, %" PRIu64
           " full)\n", batch, (double)res.n / res.secs,
           res.secs * 1e9 / (double)res.n,
           (double)g.ctl->writes * 1e6 / (double)res.n, res.n, res.secs,
           res.sleeps, g.ctl->full);
    ring_bench_close(&g);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;

    if (n == 0) {
        fprintf(stderr, "usage: ring_bench [messages]\n");
        return 1;
    }
    printf("ring_bench: 2 processes, SPSC, %u-byte records, %u KiB ring, "
           "up to %" PRIu64 " msgs or %.0f s per run\n", RING_BENCH_LEN,
           RING_BENCH_SIZE >> 10, n, RING_BENCH_SECS);
    if (ring_bench_run(n, 1) < 0 || ring_bench_run(n, 32) < 0)
        return 1;
    return 0;
}
