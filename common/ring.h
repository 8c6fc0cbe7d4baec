#ifndef RING_H
#define RING_H
/*
 * SUMMARY
 *    ring - single-producer single-consumer ring of variable-length
 *    records in shared memory
 * DESCRIPTION
 *    One producer process and one consumer process share a ring that mid
 *    formatted in the shared segment. Threads of one process may share a
 *    side only if they serialise among themselves (sipd's workers take a
 *    process-local mutex around ring_reserve()..ring_commit()).
 *
 *    Layout (all positions are byte counts that only grow; offset in the
 *    data area is pos & (size - 1); size is a power of two):
 *
 *    +---------------- struct ring_shm (3 cache lines) ----------------+
 *    | magic version generation size name                              |
 *    | head     (producer: bytes published)                 cache line |
 *    | read     (consumer: bytes claimed)                              |
 *    | tail     (consumer: bytes released, space the producer may use) |
 *    | sleeping (consumer is about to block on its eventfd)  cache line|
 *    +-----------------------------------------------------------------+
 *    | data[size]:  [rec hdr|payload|pad][rec hdr|payload|pad]...       |
 *    +-----------------------------------------------------------------+
 *
 *    Invariants: tail <= read <= head <= tail + size. A record never
 *    wraps: when it does not fit before the end of the data area the
 *    producer writes a RING_T_PAD record to the end and starts at 0.
 *    Records are 8-byte aligned. The producer writes a record fully and
 *    then publishes head with a release store; the consumer reads head
 *    with an acquire load. No lock spans the two processes, so a dead
 *    peer leaves nothing held.
 *
 *    At-most-once: ring_pop() moves "read" past a record before the
 *    caller looks at it; the space stays reserved until ring_release().
 *    A consumer that dies while processing a record restarts at "read"
 *    (ring_attach() sets tail = read), so that record is never delivered
 *    again and cannot crash the restarted consumer a second time.
 *
 *    Wake-ups: a consumer that found the ring empty calls
 *    ring_sleep_prepare(), which sets "sleeping" and re-checks; if it
 *    returns 0 the consumer blocks on the eventfd (epoll). The producer,
 *    after ring_commit(), writes the eventfd only when "sleeping" was set
 *    (and clears it), so under load there is no syscall per message.
 * PROTOCOL
 *    Record header {type, version, len}; len counts the payload only.
 *    Types are in msg.h. A reader skips types it does not know.
 * DIAGNOSTICS
 *    ring_attach() returns -EINVAL for a bad magic/version/size, which
 *    callers treat as fatal (the shared segment is not ours).
 */
#include <stddef.h>
#include <stdint.h>

#define RING_MAGIC 0x53535247u          /* "SSRG" */
#define RING_VERSION 1u
#define RING_ALIGN 8u
#define RING_NAME_MAX 32

#define RING_T_PAD 0                    /* filler to the end of the area */

struct ring_rec {
    uint16_t type;
    uint16_t version;
    uint32_t len;                       /* payload bytes, header excluded */
    unsigned char data[];
};

struct ring_shm {
    uint32_t magic;
    uint32_t version;
    uint32_t generation;                /* bumped by mid at every attach */
    uint32_t pad0;
    uint64_t size;                      /* data bytes, power of two */
    char name[RING_NAME_MAX];
    char pad1[64 - 24 - RING_NAME_MAX];
    uint64_t head;                      /* producer line */
    char pad2[56];
    uint64_t read;                      /* consumer line */
    uint64_t tail;
    uint32_t sleeping;
    char pad3[64 - 20];
    unsigned char data[];
};

/* Process-local handle: never in shared memory. */
struct ring {
    struct ring_shm *shm;
    int efd;                            /* eventfd shared with the peer */
    int side;                           /* RING_PRODUCER or RING_CONSUMER */
    uint64_t mask;
    uint64_t pend;                      /* producer: head not yet published */
    uint64_t cached;                    /* producer: last tail seen;
                                         * consumer: last head seen */
    uint32_t *bell;                     /* futex word in shared memory
                                         * instead of efd (ring_bell()) */
};

#define RING_PRODUCER 1
#define RING_CONSUMER 2

/* Largest payload one record may carry in a ring of data size "size". */
#define RING_MAX_PAYLOAD(size) ((size) / 4 - sizeof(struct ring_rec))

/*
 * ring_shm_bytes - bytes a ring of "data_size" data bytes occupies
 * (header included). data_size must be a power of two >= 4096.
 */
extern size_t ring_shm_bytes(size_t data_size);

/*
 * ring_format - lay out an empty ring at "mem" (mid only, once, before
 * any child runs). Returns 0, or -EINVAL for a bad size or name.
 */
extern int ring_format(void *mem, size_t data_size, const char *name);

/*
 * ring_attach - take one side of a formatted ring. efd is the eventfd
 * (inherited from mid). The consumer side resumes at "read" and drops
 * claimed-but-unreleased records (tail = read). Returns 0 or -EINVAL.
 */
extern int ring_attach(struct ring *r, void *mem, int efd, int side);

/*
 * ring_reserve - producer: room for a payload of len bytes. Returns a
 * pointer to the payload, or NULL when the ring is full (or len exceeds
 * RING_MAX_PAYLOAD). Nothing is visible to the consumer until
 * ring_commit(). Several reserve calls may precede one commit (batch).
 */
extern void *ring_reserve(struct ring *r, uint16_t type, uint32_t len);

/*
 * ring_shrink - producer: shorten the record just reserved (the last one)
 * to len bytes, len <= the reserved length. For writers that reserve the
 * maximum and learn the real size afterwards.
 */
extern void ring_shrink(struct ring *r, void *payload, uint32_t len);

/*
 * ring_commit - producer: publish every reserved record and wake the
 * consumer if it said it is going to sleep. Returns 1 when it wrote the
 * eventfd, 0 otherwise.
 */
extern int ring_commit(struct ring *r);

/*
 * ring_push - reserve + copy + commit of one record. Returns 0 or
 * -ENOSPC (full) / -EMSGSIZE (too large).
 */
extern int ring_push(struct ring *r, uint16_t type, const void *p,
                     uint32_t len);

/*
 * ring_pop - consumer: claim the next record (RING_T_PAD is skipped
 * internally). Returns NULL when empty. The record stays valid until
 * ring_release(); it is already counted as consumed.
 */
extern const struct ring_rec *ring_pop(struct ring *r);

/*
 * ring_release - consumer: give the space of every popped record back
 * to the producer.
 */
extern void ring_release(struct ring *r);

/*
 * ring_sleep_prepare - consumer: announce sleep. Returns 0 if the ring
 * is still empty (block on efd now), 1 if data arrived (do not sleep;
 * "sleeping" is cleared again).
 */
extern int ring_sleep_prepare(struct ring *r);

/*
 * ring_wake_clear - consumer: after waking, read (reset) the eventfd and
 * clear "sleeping". Safe to call when the eventfd was not written.
 */
extern void ring_wake_clear(struct ring *r);

/*
 * ring_awake - consumer: clear "sleeping" without touching the eventfd,
 * for a consumer whose rings share one eventfd that it drains itself
 * (one read per wake-up instead of one per ring).
 */
extern void ring_awake(struct ring *r);

/* ring_used - bytes published and not yet claimed (either side, racy). */
extern uint64_t ring_used(const struct ring *r);

/*
 * ring_fill - producer: bytes the ring holds from this producer's point
 * of view: reserved (this batch, not yet committed), published, and
 * popped but not released; ring_reserve() fails when a record does not
 * fit in size - fill. Exact for our own part, the consumer's release
 * may be a moment old.
 */
extern uint64_t ring_fill(const struct ring *r);

/*
 * ring_fill_over - producer: does the ring hold at least mark bytes?
 * For a check made on every record: the producer's cached copy of the
 * consumer's tail (as ring_reserve() keeps it) can only overstate the
 * fill, so the consumer's cache line is read (and the copy refreshed)
 * only when the cached fill reaches mark. Same answer as
 * ring_fill(r) >= mark.
 */
extern int ring_fill_over(struct ring *r, uint64_t mark);

/*
 * Bells. A consumer that is a thread, not an epoll loop, sleeps on a
 * futex word in shared memory instead of an eventfd: one syscall to
 * sleep (futex wait) instead of two (poll + read), one to wake (futex
 * wake) as for the eventfd's write, and no file descriptor, so a bell
 * per sipd worker costs nothing in the descriptor table every stage
 * inherits. Several rings of one consumer share its bell. The
 * handshake is the same as with the eventfd: the consumer reads the
 * bell (ring_bell_get), announces sleep on each of its rings
 * (ring_sleep_prepare), and sleeps only if all are empty and the bell
 * still holds what it read (ring_bell_wait); a producer that finds
 * "sleeping" set after its commit increments the bell and wakes.
 */

/* ring_bell - producer or consumer: wake-ups go through the futex word
 * bell (not efd); both sides of a ring must agree. */
extern void ring_bell(struct ring *r, uint32_t *bell);

/* ring_bell_get - consumer: the bell's value, before the sleep checks */
extern uint32_t ring_bell_get(const uint32_t *bell);

/*
 * ring_bell_wait - consumer: sleep until the bell moves away from seen
 * (ring_bell_get() before ring_sleep_prepare()) or timeout_ms passes.
 * Returns at once if it already moved.
 */
extern void ring_bell_wait(uint32_t *bell, uint32_t seen, int timeout_ms);

/* ring_bell_ring - wake the thread sleeping on bell (any thread or
 * process; for a stop request) */
extern void ring_bell_ring(uint32_t *bell);

/* ring_size - bytes in the data area (either side) */
static inline uint64_t ring_size(const struct ring *r)
{
    return r->mask + 1;
}

#endif
