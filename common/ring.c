/*
 * SUMMARY
 *      ring - single-producer single-consumer ring of variable-length
 *      records in shared memory
 * DESCRIPTION
 *      The implementation of ring.h; the layout diagram and the invariants
 *      are there. This file adds how the two sides synchronise.
 *
 *      Every position (head, read, tail, the producer's private "pend") is
 *      a byte count that only grows; the offset in the data area is
 *      pos & mask. A record takes ring_rec_bytes(len) = 8 + len rounded up
 *      to 8, and RING_MAX_PAYLOAD keeps one record at most size / 4, so a
 *      record plus the pad in front of it always fits in an empty ring.
 *
 *      Ownership of the shared fields: only the producer stores head; only
 *      the consumer stores read and tail; both store sleeping (the
 *      consumer sets it, whoever sees it set may clear it). Each side
 *      keeps a private copy of the other side's position in r->cached
 *      (producer: tail, consumer: head) and re-reads the shared one only
 *      when the copy says "full" or "empty", so the hot path touches the
 *      peer's cache line only when it must. There is no syscall, division
 *      or lock on the hot path; an eventfd write happens only when the
 *      consumer announced sleep. The wake-up goes one way only: a producer
 *      that finds the ring full is not woken when space comes back, it
 *      retries (backs off), so a consumer should ring_release() before it
 *      goes to sleep.
 *
 *      Memory orders, in one place (the code repeats the reason):
 *
 *      head:  producer release-store / consumer acquire-load. Everything
 *             the producer wrote into the records before ring_commit() is
 *             visible to a consumer that sees the new head.
 *      tail:  consumer release-store / producer acquire-load. The
 *             consumer's reads of a record happen before the producer
 *             overwrites that space.
 *      read:  consumer-private in normal running (the producer never
 *             looks at it); it is shared only with the consumer's own
 *             successor after a crash. A relaxed store plus a compiler
 *             barrier puts the claim into shared memory before the caller
 *             touches the record; a dead process's stores are not lost
 *             (the CPU drains them), only a compiler could have delayed it.
 *      sleeping / head (the wake-up handshake, Dekker style): consumer
 *             stores sleeping = 1 then loads head; producer stores head
 *             then loads sleeping. Both stores and both loads are
 *             seq_cst, so they sit in one total order and at least one
 *             side sees the other's store: either the consumer sees the
 *             new head and does not sleep, or the producer sees sleeping
 *             and writes the eventfd. A release store followed by a
 *             standalone seq_cst fence says the same, but ThreadSanitizer
 *             does not model standalone fences (gcc rejects them under
 *             -fsanitize=thread), so the full barrier is carried by the
 *             seq_cst store itself (xchg on x86-64, stlr+ldar on arm64).
 *
 *      Restarts. A producer that attaches resumes at head: whatever a
 *      dead producer reserved but never committed lies past head and is
 *      simply overwritten. A consumer that attaches sets tail = read:
 *      records the dead consumer had claimed (popped) but not released are
 *      dropped, which is the at-most-once rule of DESIGN.md.
 * PROTOCOL
 *      Record header {type, version, len} (ring.h), len counting the
 *      payload only; ring_reserve() stamps version RING_REC_V1 (a writer
 *      that needs another may set it in the header in front of the
 *      payload before ring_commit()). Type RING_T_PAD is the filler the
 *      producer writes from the end of the last record to the end of the
 *      data area when the next record does not fit there; ring_pop()
 *      never returns it. Payload types are in msg.h.
 * DIAGNOSTICS
 *      ring_format() and ring_attach() return -EINVAL for a bad size,
 *      name, magic, version, side, eventfd or inconsistent positions;
 *      callers treat that as fatal. Calling ring_shrink() on anything but
 *      the last uncommitted reservation, or to grow it, is a bug: abort().
 *      A record header that points past head or across the end of the
 *      data area (a producer that scribbled past its payload) makes
 *      ring_pop() drop everything published so far instead of aborting:
 *      aborting would crash the restarted consumer on the same bytes
 *      again. This module does not log (it is linked into every daemon
 *      and into tests that have no logger); callers report its errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"

#define RING_HDR ((uint64_t)sizeof(struct ring_rec))
#define RING_MIN_SIZE 4096u
#define RING_REC_V1 1

/* The shared layout is a contract between builds: pin it. */
_Static_assert(sizeof(struct ring_rec) == RING_ALIGN, "ring_rec header");
_Static_assert(offsetof(struct ring_shm, head) == 64, "head line");
_Static_assert(offsetof(struct ring_shm, read) == 128, "consumer line");
_Static_assert(sizeof(struct ring_shm) == 192, "ring_shm is 3 lines");
_Static_assert(sizeof(struct ring_shm) % RING_ALIGN == 0, "data aligned");

/* ring_rec_bytes - bytes a record with a len-byte payload occupies */
static inline uint64_t ring_rec_bytes(uint64_t len)
{
    return RING_HDR + ((len + RING_ALIGN - 1) & ~(uint64_t)(RING_ALIGN - 1));
}

/* ring_size_ok - a data area size the ring can use */
static int ring_size_ok(uint64_t size)
{
    return size >= RING_MIN_SIZE && (size & (size - 1)) == 0;
}

size_t ring_shm_bytes(size_t data_size)
{
    if (!ring_size_ok(data_size))
        return 0;
    return sizeof(struct ring_shm) + data_size;
}

int ring_format(void *mem, size_t data_size, const char *name)
{
    struct ring_shm *s = mem;
    size_t nlen;

    if (s == NULL || name == NULL || ((uintptr_t)mem & (RING_ALIGN - 1)))
        return -EINVAL;
    if (!ring_size_ok(data_size))
        return -EINVAL;
    if ((nlen = strnlen(name, RING_NAME_MAX)) >= RING_NAME_MAX)
        return -EINVAL;
    memset(s, 0, sizeof(*s));
    memcpy(s->name, name, nlen);
    s->version = RING_VERSION;
    s->size = data_size;

    /*
     * Magic last, with release: a ring is either not formatted or fully
     * formatted for anyone who checks the magic with acquire.
     */
    __atomic_store_n(&s->magic, RING_MAGIC, __ATOMIC_RELEASE);
    return 0;
}

/*
 * ring_efd_nonblock - make sure ring_wake_clear() never blocks on an
 * eventfd nobody wrote. mid creates them with EFD_NONBLOCK; this only
 * covers a caller that did not. The flag lives in the open file
 * description shared with the producer, whose 8-byte write can block
 * only at a counter of 2^64-2, so the producer does not notice.
 */
static int ring_efd_nonblock(int efd)
{
    int fl;

    if ((fl = fcntl(efd, F_GETFL)) < 0)
        return -errno;
    if ((fl & O_NONBLOCK) == 0 && fcntl(efd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    return 0;
}

/*
 * ring_check - the header is one of ours and its positions hold the
 * invariants. Loads go tail, read, head: each only grows and the peer
 * side may be running, so this order keeps tail <= read <= head true
 * for a consistent ring; head - tail <= size holds because the side
 * being attached is not running (its own position is stable).
 */
static int ring_check(const struct ring_shm *s, uint64_t *tail,
                      uint64_t *rd, uint64_t *head)
{
    if (__atomic_load_n(&s->magic, __ATOMIC_ACQUIRE) != RING_MAGIC)
        return -EINVAL;
    if (s->version != RING_VERSION || !ring_size_ok(s->size))
        return -EINVAL;
    if (memchr(s->name, '\0', RING_NAME_MAX) == NULL)
        return -EINVAL;
    *tail = __atomic_load_n(&s->tail, __ATOMIC_ACQUIRE);
    *rd = __atomic_load_n(&s->read, __ATOMIC_ACQUIRE);
    *head = __atomic_load_n(&s->head, __ATOMIC_ACQUIRE);
    if (*tail > *rd || *rd > *head || *head - *tail > s->size)
        return -EINVAL;
    if ((*tail | *rd | *head) & (RING_ALIGN - 1))
        return -EINVAL;
    return 0;
}

int ring_attach(struct ring *r, void *mem, int efd, int side)
{
    struct ring_shm *s = mem;
    uint64_t tail, rd, head;

    if (r == NULL || s == NULL || ((uintptr_t)mem & (RING_ALIGN - 1)))
        return -EINVAL;
    if (side != RING_PRODUCER && side != RING_CONSUMER)
        return -EINVAL;
    if (ring_check(s, &tail, &rd, &head) < 0)
        return -EINVAL;
    if (side == RING_CONSUMER && efd >= 0 && ring_efd_nonblock(efd) < 0)
        return -EINVAL;

    memset(r, 0, sizeof(*r));
    r->shm = s;
    r->efd = efd;
    r->side = side;
    r->mask = s->size - 1;
    if (side == RING_PRODUCER) {
        /* Anything past head is a dead producer's uncommitted work. */
        r->pend = head;
        r->cached = tail;
        return 0;
    }

    /*
     * Consumer: give back what a dead consumer claimed and never
     * released, so it is never delivered again (at-most-once). Release
     * pairs with the producer's acquire of tail like ring_release().
     * A stale "sleeping" from the dead consumer would only cost one
     * useless eventfd write; clear it anyway.
     */
    __atomic_store_n(&s->tail, rd, __ATOMIC_RELEASE);
    __atomic_store_n(&s->sleeping, 0, __ATOMIC_RELAXED);
    r->cached = head;
    return 0;
}

/*
 * ring_space - producer: can "bytes" more be reserved? Re-reads tail
 * only when the cached copy says no. Acquire pairs with the consumer's
 * release store of tail: its reads of the old records are done before
 * we overwrite them.
 */
static inline int ring_space(struct ring *r, uint64_t bytes)
{
    uint64_t size = r->mask + 1;

    if (r->pend + bytes - r->cached <= size)
        return 1;
    r->cached = __atomic_load_n(&r->shm->tail, __ATOMIC_ACQUIRE);
    return r->pend + bytes - r->cached <= size;
}

/* ring_hdr_put - write a record header at data offset off */
static inline struct ring_rec *ring_hdr_put(struct ring *r, uint64_t off,
                                            uint16_t type, uint32_t len)
{
    struct ring_rec *rec = (struct ring_rec *)(r->shm->data + off);

    rec->type = type;
    rec->version = RING_REC_V1;
    rec->len = len;
    return rec;
}

void *ring_reserve(struct ring *r, uint16_t type, uint32_t len)
{
    uint64_t size = r->mask + 1;
    uint64_t need = ring_rec_bytes(len);
    uint64_t off = r->pend & r->mask;
    uint64_t pad = 0;

    if (len > RING_MAX_PAYLOAD(size))
        return NULL;
    if (off + need > size)
        pad = size - off;               /* >= 8: positions are aligned */
    if (!ring_space(r, pad + need))
        return NULL;

    /*
     * Plain stores: the space is ours (between head and tail + size)
     * and nobody reads it before the release store of head.
     */
    if (pad) {
        ring_hdr_put(r, off, RING_T_PAD, (uint32_t)(pad - RING_HDR));
        r->pend += pad;
        off = 0;
    }
    r->pend += need;
    return ring_hdr_put(r, off, type, len)->data;
}

void ring_shrink(struct ring *r, void *payload, uint32_t len)
{
    struct ring_rec *rec = (struct ring_rec *)((unsigned char *)payload
                                               - RING_HDR);
    uint64_t pos = r->pend - ring_rec_bytes(rec->len);
    uint64_t head = __atomic_load_n(&r->shm->head, __ATOMIC_RELAXED);

    /* Only the last, still unpublished reservation may change. */
    if (len > rec->len || pos < head
        || (pos & r->mask) != (uint64_t)((unsigned char *)rec
                                         - r->shm->data))
        abort();
    r->pend = pos + ring_rec_bytes(len);
    rec->len = len;
}

int ring_commit(struct ring *r)
{
    struct ring_shm *s = r->shm;
    uint64_t one = 1;

    /* head is ours: a relaxed load of our own store is exact. */
    if (r->pend == __atomic_load_n(&s->head, __ATOMIC_RELAXED))
        return 0;

    /*
     * Publish. seq_cst is a release (the records written before are
     * visible to whoever acquires this head) and also the first half of
     * the wake-up handshake: the store is ordered before the load of
     * sleeping below, like a release store followed by a full fence.
     */
    __atomic_store_n(&s->head, r->pend, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&s->sleeping, __ATOMIC_SEQ_CST) == 0)
        return 0;                       /* the common case under load */

    /*
     * The consumer is (about to be) blocked. Clear the flag with an
     * exchange so that only one wake-up is written per announcement;
     * relaxed is enough, the eventfd write carries no data.
     */
    if (__atomic_exchange_n(&s->sleeping, 0, __ATOMIC_RELAXED) == 0)
        return 0;
    if (r->bell != NULL) {
        ring_bell_ring(r->bell);
        return 1;
    }
    if (r->efd < 0)
        return 0;
    /* Cannot fail on a valid eventfd; the consumer's poll times out. */
    return write(r->efd, &one, sizeof(one)) == (ssize_t)sizeof(one);
}

int ring_push(struct ring *r, uint16_t type, const void *p, uint32_t len)
{
    void *dst;

    if (len > RING_MAX_PAYLOAD(r->mask + 1))
        return -EMSGSIZE;
    if ((dst = ring_reserve(r, type, len)) == NULL)
        return -ENOSPC;
    if (len)
        memcpy(dst, p, len);
    ring_commit(r);
    return 0;
}

/*
 * ring_claim - consumer: move "read" to rd. The claim must reach shared
 * memory before the caller looks at the record, so that a consumer that
 * crashes on it restarts past it. Relaxed is enough for the hardware
 * (the producer never reads "read"; a killed process's stores are still
 * drained to memory); the signal fence stops the compiler from sinking
 * the store below the caller's use of the record.
 */
static inline void ring_claim(struct ring_shm *s, uint64_t rd)
{
    __atomic_store_n(&s->read, rd, __ATOMIC_RELAXED);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

const struct ring_rec *ring_pop(struct ring *r)
{
    struct ring_shm *s = r->shm;
    uint64_t rd = __atomic_load_n(&s->read, __ATOMIC_RELAXED);
    const struct ring_rec *rec;
    uint64_t off, sz;

    for (;;) {
        if (rd == r->cached) {
            /* Acquire pairs with ring_commit(): the records are whole. */
            r->cached = __atomic_load_n(&s->head, __ATOMIC_ACQUIRE);
            if (rd == r->cached)
                return NULL;
        }
        off = rd & r->mask;
        rec = (const struct ring_rec *)(s->data + off);
        sz = ring_rec_bytes(rec->len);
        if (sz > r->cached - rd || off + sz > r->mask + 1) {
            /* Damaged header (see DIAGNOSTICS): drop what is published. */
            ring_claim(s, r->cached);
            return NULL;
        }
        rd += sz;
        ring_claim(s, rd);
        if (rec->type != RING_T_PAD)
            return rec;
    }
}

void ring_release(struct ring *r)
{
    struct ring_shm *s = r->shm;
    uint64_t rd = __atomic_load_n(&s->read, __ATOMIC_RELAXED);

    /*
     * Release: our reads of the popped records happen before the
     * producer (acquire of tail) reuses the space. Skip the store when
     * nothing changed, to leave the shared line alone.
     */
    if (rd != __atomic_load_n(&s->tail, __ATOMIC_RELAXED))
        __atomic_store_n(&s->tail, rd, __ATOMIC_RELEASE);
}

int ring_sleep_prepare(struct ring *r)
{
    struct ring_shm *s = r->shm;
    uint64_t rd = __atomic_load_n(&s->read, __ATOMIC_RELAXED);

    /*
     * Second half of the handshake in ring_commit(): the seq_cst store
     * of sleeping is ordered before the seq_cst load of head, so either
     * we see the producer's new head here or it sees sleeping == 1.
     * The seq_cst load is also an acquire for the records behind head.
     */
    __atomic_store_n(&s->sleeping, 1, __ATOMIC_SEQ_CST);
    r->cached = __atomic_load_n(&s->head, __ATOMIC_SEQ_CST);
    if (r->cached == rd)
        return 0;
    __atomic_store_n(&s->sleeping, 0, __ATOMIC_RELAXED);
    return 1;
}

void ring_wake_clear(struct ring *r)
{
    uint64_t v;

    /*
     * Clear first, then drain: a producer that took the flag before
     * this store writes at most one token after our read, which costs
     * one spurious wake-up later, never a lost one. The eventfd is
     * non-blocking (ring_attach), so an unwritten one returns EAGAIN.
     */
    __atomic_store_n(&r->shm->sleeping, 0, __ATOMIC_RELAXED);
    if (r->efd >= 0 && read(r->efd, &v, sizeof(v)) < 0)
        v = 0;                          /* EAGAIN: nothing was written */
}

void ring_awake(struct ring *r)
{
    /* Same reasoning as ring_wake_clear(): a token written after this
     * store only costs a spurious wake-up. */
    __atomic_store_n(&r->shm->sleeping, 0, __ATOMIC_RELAXED);
}

uint64_t ring_used(const struct ring *r)
{
    /*
     * read first, with acquire so the head load cannot move above it:
     * read never passes head, so the difference cannot wrap.
     */
    uint64_t rd = __atomic_load_n(&r->shm->read, __ATOMIC_ACQUIRE);

    return __atomic_load_n(&r->shm->head, __ATOMIC_RELAXED) - rd;
}

uint64_t ring_fill(const struct ring *r)
{
    /* Acquire pairs with ring_release(), like ring_space(). */
    return r->pend - __atomic_load_n(&r->shm->tail, __ATOMIC_ACQUIRE);
}

int ring_fill_over(struct ring *r, uint64_t mark)
{
    if (r->pend - r->cached < mark)     /* cached <= tail: an upper bound */
        return 0;
    r->cached = __atomic_load_n(&r->shm->tail, __ATOMIC_ACQUIRE);
    return r->pend - r->cached >= mark;
}

void ring_bell(struct ring *r, uint32_t *bell)
{
    r->bell = bell;
}

uint32_t ring_bell_get(const uint32_t *bell)
{
    /* seq_cst: ordered before the consumer's seq_cst store of sleeping
     * (ring_sleep_prepare), so a producer that sees that store
     * increments after this load. */
    return __atomic_load_n(bell, __ATOMIC_SEQ_CST);
}

void ring_bell_ring(uint32_t *bell)
{
    /* A shared (not _PRIVATE) futex: the sleeper may be in another
     * process mapping the same memfd page. */
    __atomic_add_fetch(bell, 1, __ATOMIC_SEQ_CST);
    (void)syscall(SYS_futex, bell, FUTEX_WAKE, 1, NULL, NULL, 0);
}

void ring_bell_wait(uint32_t *bell, uint32_t seen, int timeout_ms)
{
    struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000)
                                                  * 1000000L};

    /* The kernel compares *bell with seen under its lock: a ring after
     * ring_bell_get() makes this return at once (EAGAIN). EINTR and a
     * timeout return too; the caller looks at its rings again. */
    (void)syscall(SYS_futex, bell, FUTEX_WAIT, seen, &ts, NULL, 0);
}
