/*
 * SUMMARY
 *      ring unit test - the SPSC shared-memory ring, alone and across
 *      processes
 * DESCRIPTION
 *      In-process cases first (format/attach validation, exact bytes for
 *      every payload size, wrap-around with pads, full ring, batches,
 *      ring_shrink, the sleep/wake protocol, restarts of either side),
 *      then real processes on a memfd mapped MAP_SHARED: a 2,000,000
 *      record transfer with the eventfd protocol, a consumer SIGKILLed
 *      mid-stream and replaced, producers SIGKILLed mid-stream (one of them
 *      with reservations outstanding) and replaced. Last, a threaded
 *      producer/consumer pair so that ThreadSanitizer sees both sides in
 *      one address space (it cannot follow two processes).
 *
 *      Records of the process tests carry a tag (generation << 48 | seq)
 *      in their first 8 bytes; their length and every other byte derive
 *      from the tag, so the consumer checks each byte it receives.
 *
 *      The file is longer than STYLE.md's 800 lines because the process
 *      tests need their producers, consumers and bookkeeping side by side;
 *      splitting them would scatter one protocol over several files.
 * PROTOCOL
 *      Children report through struct ring_test_ctl, a page in front of
 *      the ring in the same memfd (relaxed atomics; the parent only uses
 *      what it reads for checks and diagnostics).
 * DIAGNOSTICS
 *      TAP on stdout; exit status is the number of failures. Every child
 *      dies with its parent (PR_SET_PDEATHSIG); each process phase runs
 *      under alarm(60).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
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
#include "tap.h"

#define RING_TEST_TYPE 7
#define RING_TEST_N 2000000u
#define RING_TEST_SEQ(tag) ((tag) & (((uint64_t)1 << 48) - 1))
#define RING_TEST_GEN(tag) ((tag) >> 48)
#define RING_TEST_TAG(gen, seq) (((uint64_t)(gen) << 48) | (seq))
#define RING_TEST_K 0x9E3779B97F4A7C15ull

static uint64_t ring_test_rnd_x = 88172645463325252ull;

/* ring_test_rnd - xorshift64, deterministic (per process) */
static uint64_t ring_test_rnd(void)
{
    ring_test_rnd_x ^= ring_test_rnd_x << 13;
    ring_test_rnd_x ^= ring_test_rnd_x >> 7;
    ring_test_rnd_x ^= ring_test_rnd_x << 17;
    return ring_test_rnd_x;
}

/* ring_test_mix - splitmix64 finaliser */
static uint64_t ring_test_mix(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* ring_test_word - the 8 bytes at offset i of the payload for tag */
static uint64_t ring_test_word(uint64_t tag, uint32_t i)
{
    return i == 0 ? tag : tag * RING_TEST_K + i;
}

static void ring_test_fill(unsigned char *p, uint32_t len, uint64_t tag)
{
    uint64_t w;
    uint32_t i;

    for (i = 0; i < len; i += 8) {
        w = ring_test_word(tag, i);
        memcpy(p + i, &w, len - i < 8 ? len - i : 8);
    }
}

static int ring_test_verify(const unsigned char *p, uint32_t len,
                            uint64_t tag)
{
    uint64_t w;
    uint32_t i;

    for (i = 0; i < len; i += 8) {
        w = ring_test_word(tag, i);
        if (memcmp(p + i, &w, len - i < 8 ? len - i : 8) != 0)
            return 0;
    }
    return 1;
}

/* ring_test_len - payload length of record seq in a ring of "size" */
static uint32_t ring_test_len(uint64_t seq, uint64_t size)
{
    uint64_t h = ring_test_mix(seq);

    if (seq % 1024 == 1023)
        return (uint32_t)(8 + h % (RING_MAX_PAYLOAD(size) - 7));
    return (uint32_t)(8 + h % 593);
}

/* ring_test_check - a whole, uncorrupted process-test record? */
static int ring_test_check(const struct ring_rec *rec, uint64_t size,
                           uint64_t *tag)
{
    *tag = UINT64_MAX;
    if (rec->type != RING_TEST_TYPE || rec->len < 8)
        return 0;
    memcpy(tag, rec->data, 8);
    if (rec->len != ring_test_len(RING_TEST_SEQ(*tag), size))
        return 0;
    return ring_test_verify(rec->data, rec->len, *tag);
}

/* ring_test_new - a formatted in-process ring (free() it) */
static void *ring_test_new(size_t size)
{
    void *mem = aligned_alloc(64, ring_shm_bytes(size));

    if (mem == NULL || ring_format(mem, size, "test") < 0)
        abort();
    return mem;
}

/* ring_test_pair - a formatted ring with both sides attached */
static void *ring_test_pair(size_t size, int efd, struct ring *p,
                            struct ring *c)
{
    void *mem = ring_test_new(size);

    if (ring_attach(p, mem, efd, RING_PRODUCER) < 0
        || ring_attach(c, mem, efd, RING_CONSUMER) < 0)
        abort();
    return mem;
}

static int ring_test_invariants(const struct ring_shm *s)
{
    return s->tail <= s->read && s->read <= s->head
           && s->head - s->tail <= s->size;
}

static void ring_test_format(void)
{
    static const struct {
        size_t size;
        const char *name;
        int want;
    } cases[] = {
        {4096, "netd>sipd0", 0},
        {8192, "", 0},
        {1u << 20, "0123456789012345678901234567890", 0},
        {0, "x", -EINVAL},
        {1024, "x", -EINVAL},
        {4095, "x", -EINVAL},
        {6144, "x", -EINVAL},
        {4097, "x", -EINVAL},
        {4096, "01234567890123456789012345678901", -EINVAL},
        {4096, NULL, -EINVAL},
    };
    void *mem = aligned_alloc(64, ring_shm_bytes(1u << 20));
    struct ring_shm *s = mem;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        is_int(ring_format(mem, cases[i].size, cases[i].name),
               cases[i].want, "format size %zu name %s", cases[i].size,
               cases[i].name ? cases[i].name : "(null)");
    is_int(ring_format((char *)mem + 4, 4096, "x"), -EINVAL,
           "format rejects misaligned memory");
    is_int((long long)ring_shm_bytes(4096), 192 + 4096, "shm bytes 4096");
    is_int((long long)ring_shm_bytes(5000), 0, "shm bytes rejects 5000");
    is_int(ring_format(mem, 4096, "sipd0>netd"), 0, "format ok");
    ok(s->magic == RING_MAGIC && s->version == RING_VERSION
       && s->size == 4096 && s->head == 0 && s->read == 0 && s->tail == 0
       && s->sleeping == 0, "format: magic, version, size, positions");
    is_str(s->name, "sipd0>netd", "format: name");
    is_int((long long)RING_MAX_PAYLOAD(4096), 1016, "max payload 4096");
    free(mem);
}

/* ring_test_attach_bad - attach after "damage": want its result */
static void ring_test_attach_bad(void (*damage)(struct ring_shm *),
                                 int efd, int side, int want,
                                 const char *what)
{
    void *mem = ring_test_new(4096);
    struct ring r;

    damage(mem);
    is_int(ring_attach(&r, mem, efd, side), want, "attach: %s", what);
    free(mem);
}

static void ring_test_dmg_none(struct ring_shm *s)
{
    (void)s;
}

static void ring_test_dmg_magic(struct ring_shm *s)
{
    s->magic ^= 1;
}

static void ring_test_dmg_version(struct ring_shm *s)
{
    s->version = RING_VERSION + 1;
}

static void ring_test_dmg_size(struct ring_shm *s)
{
    s->size = 5000;
}

static void ring_test_dmg_small(struct ring_shm *s)
{
    s->size = 2048;
}

static void ring_test_dmg_pos(struct ring_shm *s)
{
    s->read = 64;                       /* read > head */
}

static void ring_test_dmg_over(struct ring_shm *s)
{
    s->head = 8192;                     /* head > tail + size */
    s->read = 8192;
}

static void ring_test_dmg_align(struct ring_shm *s)
{
    s->head = s->read = s->tail = 12;
}

static void ring_test_dmg_name(struct ring_shm *s)
{
    memset(s->name, 'x', sizeof(s->name));
}

static void ring_test_attach(void)
{
    static const struct {
        void (*damage)(struct ring_shm *);
        int efd, side, want;
        const char *what;
    } bad[] = {
        {ring_test_dmg_none, -1, RING_CONSUMER, 0, "sanity"},
        {ring_test_dmg_magic, -1, RING_PRODUCER, -EINVAL, "magic"},
        {ring_test_dmg_version, -1, RING_PRODUCER, -EINVAL, "version"},
        {ring_test_dmg_size, -1, RING_CONSUMER, -EINVAL,
         "size not a power of two"},
        {ring_test_dmg_small, -1, RING_CONSUMER, -EINVAL, "size < 4096"},
        {ring_test_dmg_pos, -1, RING_CONSUMER, -EINVAL, "read > head"},
        {ring_test_dmg_over, -1, RING_PRODUCER, -EINVAL,
         "head > tail + size"},
        {ring_test_dmg_align, -1, RING_PRODUCER, -EINVAL,
         "unaligned positions"},
        {ring_test_dmg_name, -1, RING_PRODUCER, -EINVAL,
         "name not terminated"},
        {ring_test_dmg_none, 1000000, RING_CONSUMER, -EINVAL,
         "consumer with a bad eventfd"},
    };
    void *mem = ring_test_new(8192);
    void *zero = calloc(1, ring_shm_bytes(4096));
    struct ring p, c;
    int efd = eventfd(0, 0);            /* blocking on purpose */
    uint64_t v;
    size_t i;

    is_int(ring_attach(&p, mem, efd, RING_PRODUCER), 0, "attach producer");
    ok(p.shm == mem && p.mask == 8191 && p.side == RING_PRODUCER
       && p.efd == efd && p.pend == 0, "producer handle");
    is_int(ring_attach(&c, mem, efd, RING_CONSUMER), 0, "attach consumer");
    ok(c.side == RING_CONSUMER && c.mask == 8191, "consumer handle");
    ok(fcntl(efd, F_GETFL) & O_NONBLOCK, "consumer made the eventfd "
       "non-blocking");
    ring_wake_clear(&c);                /* must not block */
    ok(read(efd, &v, 8) < 0 && errno == EAGAIN, "eventfd still empty");
    is_int(ring_attach(&c, zero, efd, RING_CONSUMER), -EINVAL,
           "attach: unformatted memory");
    is_int(ring_attach(&c, mem, efd, 0), -EINVAL, "attach: side 0");
    is_int(ring_attach(&c, mem, efd, 3), -EINVAL, "attach: side 3");
    is_int(ring_attach(&c, NULL, efd, RING_CONSUMER), -EINVAL,
           "attach: NULL");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ring_test_attach_bad(bad[i].damage, bad[i].efd, bad[i].side,
                             bad[i].want, bad[i].what);
    close(efd);
    free(zero);
    free(mem);
}

/* Every size from 0 to the maximum, pushed and popped one at a time. */
static void ring_test_sizes(void)
{
    static const uint32_t some[] = {1, 7, 8, 9, 300, 4096, 16376};
    size_t size = 64u << 10;
    uint32_t max = (uint32_t)RING_MAX_PAYLOAD(size), len, bad = 0;
    unsigned char *buf = malloc(max + 1);
    const struct ring_rec *rec;
    struct ring p, c;
    void *mem = ring_test_pair(size, -1, &p, &c);
    size_t i;

    for (len = 0; len <= max; len++) {
        ring_test_fill(buf, len, len * 977u + 1);
        rec = ring_push(&p, RING_TEST_TYPE, buf, len) == 0 ? ring_pop(&c)
                                                            : NULL;
        if (rec == NULL || rec->type != RING_TEST_TYPE || rec->len != len
            || rec->version != 1 || ((uintptr_t)rec & 7) != 0
            || !ring_test_verify(rec->data, len, len * 977u + 1)) {
            if (bad++ == 0)
                diag("first bad size %u", len);
        }
        ring_release(&c);
    }
    is_int(bad, 0, "every size 0..%u round-trips exactly", max);
    for (i = 0; i < sizeof(some) / sizeof(some[0]); i++) {
        ring_test_fill(buf, some[i], some[i]);
        ring_push(&p, 9, buf, some[i]);
        rec = ring_pop(&c);
        ok(rec != NULL && rec->type == 9, "size %u: popped", some[i]);
        if (rec != NULL)
            is_mem(rec->data, rec->len, buf, some[i], "size %u: bytes",
                   some[i]);
        ring_release(&c);
    }
    is_int(ring_push(&p, 9, buf, max + 1), -EMSGSIZE, "max + 1: EMSGSIZE");
    ok(ring_reserve(&p, 9, max + 1) == NULL, "reserve max + 1: NULL");
    ok(ring_reserve(&p, 9, UINT32_MAX) == NULL, "reserve 4 GiB: NULL");
    ok(ring_pop(&c) == NULL, "nothing left");
    free(buf);
    free(mem);
}

/* Many mixed records in, then out in order. */
static void ring_test_order(void)
{
    unsigned char buf[1100];
    const struct ring_rec *rec;
    struct ring p, c;
    void *mem = ring_test_pair(1u << 16, -1, &p, &c);
    uint32_t lens[4096];
    unsigned n, i, round, bad = 0;

    for (round = 0; round < 20; round++) {
        for (n = 0; n < 4096; n++) {
            lens[n] = (uint32_t)(ring_test_rnd() % 1100);
            ring_test_fill(buf, lens[n], round * 10000 + n);
            if (ring_push(&p, RING_TEST_TYPE, buf, lens[n]) < 0)
                break;
        }
        for (i = 0; i < n; i++) {
            rec = ring_pop(&c);
            if (rec == NULL || rec->len != lens[i]
                || !ring_test_verify(rec->data, rec->len,
                                     round * 10000 + i))
                bad++;
        }
        if (ring_pop(&c) != NULL)
            bad++;
        ring_release(&c);
    }
    is_int(bad, 0, "20 rounds of fill-then-drain keep order and bytes");
    free(mem);
}

/* ring_test_push_tag - push a pattern record for tag; 0 or -errno */
static int ring_test_push_tag(struct ring *p, uint32_t len, uint64_t tag)
{
    unsigned char *d = ring_reserve(p, RING_TEST_TYPE, len);

    if (d == NULL)
        return -ENOSPC;
    ring_test_fill(d, len, tag);
    ring_commit(p);
    return 0;
}

static void ring_test_wrap(void)
{
    struct ring p, c;
    void *mem = ring_test_pair(4096, -1, &p, &c);
    struct ring_shm *s = mem;
    const struct ring_rec *rec, *pad;
    uint64_t seq = 0, next = 0, pads = 0, before, bad = 0;
    uint32_t qlen[600];
    unsigned k, ops;

    for (k = 0; k < 4; k++)
        ring_test_push_tag(&p, 1000, k);
    is_int((long long)s->head, 4 * 1008, "four 1000-byte records: head");
    for (k = 0; k < 4; k++)
        ring_pop(&c);
    ring_release(&c);
    is_int(ring_test_push_tag(&p, 1000, 4), 0, "fifth record wraps");
    pad = (const struct ring_rec *)(s->data + 4032);
    ok(pad->type == RING_T_PAD && pad->len == 56, "pad of 64 bytes at "
       "the end (len %u)", pad->len);
    is_int((long long)s->head, 4032 + 64 + 1008, "head counts the pad");
    rec = ring_pop(&c);
    ok(rec == (const void *)s->data && rec->len == 1000
       && ring_test_verify(rec->data, 1000, 4), "record at offset 0");
    is_int((long long)s->read, 4032 + 64 + 1008, "read skipped the pad");
    ring_release(&c);

    /* Random interleaving: many wraps, random sizes, every byte checked. */
    for (ops = 0; ops < 200000; ops++) {
        if (ring_test_rnd() % 2) {
            uint32_t len = (uint32_t)(ring_test_rnd() % 1017);

            before = s->head;
            if (ring_test_push_tag(&p, len, seq) == 0) {
                qlen[seq % 600] = len;
                seq++;
                pads += s->head - before != 8 + ((len + 7) & ~7u);
            }
        } else if ((rec = ring_pop(&c)) != NULL) {
            if (next == seq || rec->len != qlen[next % 600]
                || !ring_test_verify(rec->data, rec->len, next))
                bad++;
            next++;
            if (ring_test_rnd() % 3 == 0)
                ring_release(&c);
        } else {
            bad += next != seq;         /* published but not poppable */
            ring_release(&c);
        }
        if (!ring_test_invariants(s))
            bad++;
    }
    is_int((long long)bad, 0, "200000 random ops: order, bytes, invariants");
    ok(pads > 100, "wrapped with a pad %" PRIu64 " times", pads);
    diag("%" PRIu64 " records through a 4 KiB ring", seq);
    free(mem);
}

static void ring_test_full(void)
{
    struct ring p, c;
    void *mem = ring_test_pair(4096, -1, &p, &c);
    struct ring_shm *s = mem;
    unsigned char buf[100];
    const struct ring_rec *rec;
    uint64_t head;
    int n = 0, i, bad = 0;

    while (ring_test_push_tag(&p, 100, n) == 0)
        n++;
    is_int(n, 36, "36 records of 100 bytes fill 4 KiB");
    head = s->head;
    ok(ring_reserve(&p, RING_TEST_TYPE, 100) == NULL, "reserve: NULL");
    is_int(ring_push(&p, RING_TEST_TYPE, buf, 100), -ENOSPC, "push: ENOSPC");
    is_int(ring_commit(&p), 0, "commit with nothing reserved");
    ok(s->head == head && p.pend == head, "failed calls moved nothing");
    rec = ring_pop(&c);
    ok(rec != NULL && ring_test_verify(rec->data, 100, 0),
       "first record intact");
    is_int(ring_push(&p, RING_TEST_TYPE, buf, 100), -ENOSPC,
           "popped but not released: still full");
    ring_release(&c);
    is_int(ring_test_push_tag(&p, 100, n), 0,
           "released: one more record fits (after a pad)");
    for (i = 1; i <= n; i++) {
        rec = ring_pop(&c);
        if (rec == NULL || rec->len != 100
            || !ring_test_verify(rec->data, 100, i))
            bad++;
    }
    is_int(bad, 0, "the other 36 records intact and in order");
    ok(ring_pop(&c) == NULL, "then empty");
    ring_release(&c);
    ok(ring_reserve(&p, 1, 1016) != NULL, "empty ring takes the maximum");
    free(mem);
}

static void ring_test_batch(void)
{
    struct ring p, c;
    void *mem = ring_test_pair(8192, -1, &p, &c);
    const struct ring_rec *rec;
    unsigned char *d[3];
    int i, good = 0;

    for (i = 0; i < 3; i++) {
        d[i] = ring_reserve(&p, RING_TEST_TYPE, 100 + i);
        ring_test_fill(d[i], 100 + i, i);
    }
    ok(ring_pop(&c) == NULL, "batch: nothing visible before commit");
    is_int((long long)ring_used(&c), 0, "batch: used 0 before commit");
    is_int((long long)ring_fill(&p), 112 * 3,
           "batch: the producer's fill counts what it reserved");
    is_int((long long)ring_size(&p), 8192, "ring_size");
    is_int(ring_commit(&p), 0, "batch: commit (no sleeper, no write)");
    is_int((long long)ring_used(&c), 112 * 3, "batch: used after");
    for (i = 0; i < 3; i++) {
        rec = ring_pop(&c);
        good += rec != NULL && rec->len == 100u + i
                && ring_test_verify(rec->data, 100 + i, i);
    }
    is_int(good, 3, "batch: three records in order");
    is_int((long long)ring_used(&c), 0, "batch: used 0 after pops");
    is_int((long long)ring_fill(&p), 112 * 3,
           "batch: popped, not released: still the producer's fill");
    ok(ring_fill_over(&p, 112 * 3), "batch: fill_over its fill");
    ok(!ring_fill_over(&p, 112 * 3 + 1), "batch: not over one more");
    ring_release(&c);
    is_int((long long)ring_fill(&p), 0, "batch: fill 0 after release");
    ok(!ring_fill_over(&p, 1),
       "batch: fill_over sees the release (stale cached tail re-read)");
    free(mem);
}

static void ring_test_shrink(void)
{
    struct ring p, c;
    void *mem = ring_test_pair(4096, -1, &p, &c);
    struct ring_shm *s = mem;
    const struct ring_rec *rec;
    unsigned char *d, *e;

    d = ring_reserve(&p, RING_TEST_TYPE, 1016);
    ring_test_fill(d, 10, 1);
    ring_shrink(&p, d, 10);
    is_int((long long)p.pend, 24, "shrink 1016 -> 10: pend 24");
    e = ring_reserve(&p, RING_TEST_TYPE, 20);
    ok(e == d + 24, "next record right behind the shrunk one");
    ring_test_fill(e, 20, 2);
    ring_shrink(&p, e, 20);             /* same length: no-op */
    ring_commit(&p);
    is_int((long long)s->head, 24 + 32, "head after commit");
    rec = ring_pop(&c);
    ok(rec && rec->len == 10 && ring_test_verify(rec->data, 10, 1),
       "shrunk record: 10 bytes");
    rec = ring_pop(&c);
    ok(rec && rec->len == 20 && ring_test_verify(rec->data, 20, 2),
       "following record: 20 bytes");
    ring_release(&c);

    /* Fill to 4000, then a maximum reservation that needs a pad. */
    while (s->head < 3968)
        ring_test_push_tag(&p, 0, 0);
    while (ring_pop(&c) != NULL)
        ;
    ring_release(&c);
    d = ring_reserve(&p, RING_TEST_TYPE, 1016);
    ok(d == s->data + 8, "maximum behind a pad starts at 0");
    ring_shrink(&p, d, 0);
    ring_commit(&p);
    rec = ring_pop(&c);
    ok(rec && rec->len == 0 && rec->data == d, "shrunk to 0 after a pad");
    ok(ring_pop(&c) == NULL && s->read == s->head, "pad skipped");
    free(mem);
}

/* ring_test_shrink_bad - child: a misuse of ring_shrink(); 1 if aborted */
static int ring_test_shrink_bad(int grow)
{
    struct ring p, c;
    void *mem = ring_test_pair(4096, -1, &p, &c);
    unsigned char *d;
    pid_t pid;
    int st = 0;

    fflush(stdout);
    if ((pid = fork()) == 0) {
        signal(SIGABRT, SIG_DFL);
        d = ring_reserve(&p, RING_TEST_TYPE, 100);
        if (!grow)
            ring_reserve(&p, RING_TEST_TYPE, 100);
        ring_shrink(&p, d, grow ? 101 : 50);
        _exit(0);
    }
    waitpid(pid, &st, 0);
    free(mem);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
}

static void ring_test_damage(void)
{
    struct ring p, c;
    void *mem = ring_test_pair(4096, -1, &p, &c);
    struct ring_shm *s = mem;
    const struct ring_rec *rec;

    ok(ring_test_shrink_bad(0), "shrink of an earlier record: abort");
    ok(ring_test_shrink_bad(1), "shrink that grows: abort");
    ring_test_push_tag(&p, 16, 1);
    ring_test_push_tag(&p, 16, 2);
    ((struct ring_rec *)s->data)->len = 100000;  /* past head */
    ok(ring_pop(&c) == NULL, "damaged header: nothing delivered");
    ok(s->read == s->head, "damaged header: published bytes dropped");
    ring_release(&c);
    ring_test_push_tag(&p, 16, 3);
    rec = ring_pop(&c);
    ok(rec && rec->len == 16 && ring_test_verify(rec->data, 16, 3),
       "ring goes on with the next record");
    free(mem);
}

/* ring_test_efd_count - drain an eventfd: the sum of writes, 0 if none */
static uint64_t ring_test_efd_count(int efd)
{
    uint64_t v;

    return read(efd, &v, 8) == 8 ? v : 0;
}

static void ring_test_wake(void)
{
    int efd = eventfd(0, EFD_NONBLOCK);
    struct pollfd pfd = {efd, POLLIN, 0};
    struct ring p, c;
    void *mem = ring_test_pair(1u << 16, efd, &p, &c);
    struct ring_shm *s = mem;
    int i, writes = 0, prep = 0, awake;

    for (i = 0; i < 1000; i++) {
        ring_reserve(&p, 1, 32);
        writes += ring_commit(&p);
        ring_pop(&c);
        ring_release(&c);
    }
    is_int(writes, 0, "1000 commits without a sleeper: no write");
    is_int((long long)ring_test_efd_count(efd), 0, "eventfd untouched");

    is_int(ring_sleep_prepare(&c), 0, "empty: sleep_prepare says sleep");
    is_int((long long)s->sleeping, 1, "sleeping announced");
    is_int(poll(&pfd, 1, 0), 0, "not readable yet");
    ring_reserve(&p, 1, 32);
    is_int(ring_commit(&p), 1, "commit to a sleeper writes the eventfd");
    is_int((long long)s->sleeping, 0, "producer cleared sleeping");
    is_int(poll(&pfd, 1, 0), 1, "eventfd readable");
    ring_reserve(&p, 1, 32);
    is_int(ring_commit(&p), 0, "second commit: no second write");
    ring_wake_clear(&c);
    is_int(poll(&pfd, 1, 0), 0, "wake_clear drained the eventfd");
    is_int(ring_sleep_prepare(&c), 1, "data pending: do not sleep");
    is_int((long long)s->sleeping, 0, "and sleeping is cleared again");
    while (ring_pop(&c) != NULL)
        ;
    ring_release(&c);
    is_int(ring_sleep_prepare(&c), 0, "empty again");
    ring_wake_clear(&c);                /* woke by timeout: no write */
    ok(s->sleeping == 0 && poll(&pfd, 1, 0) == 0,
       "wake_clear without a write: cleared, did not block");
    ring_reserve(&p, 1, 32);
    is_int(ring_commit(&p), 0, "no write after the sleeper gave up");

    for (i = writes = awake = 0; i < 100; i++) {
        while (ring_pop(&c) != NULL)
            ;
        ring_release(&c);
        prep += ring_sleep_prepare(&c) == 0;
        ring_reserve(&p, 1, 8);
        writes += ring_commit(&p);      /* to a sleeper: 1 */
        ring_reserve(&p, 1, 8);
        awake += ring_commit(&p);       /* already woken: 0 */
    }
    is_int(prep, 100, "100 sleeps announced");
    is_int(writes, 100, "one write per announcement");
    is_int(awake, 0, "none while the consumer is awake");
    is_int((long long)ring_test_efd_count(efd), 100,
           "the eventfd counted exactly 100 writes");
    close(efd);
    free(mem);
}

/* Consumer restart: what was popped but not released is gone for good. */
static void ring_test_consumer_restart(void)
{
    struct ring p, c, c2;
    void *mem = ring_test_pair(4096, -1, &p, &c);
    struct ring_shm *s = mem;
    const struct ring_rec *rec;
    int k;

    for (k = 0; k < 4; k++)
        ring_test_push_tag(&p, 50, k);
    rec = ring_pop(&c);                 /* claims 0, never released */
    ok(rec && ring_test_verify(rec->data, 50, 0), "popped record 0");
    ok(s->read == 64 && s->tail == 0, "claimed: read moved, tail not");
    is_int(ring_attach(&c2, mem, -1, RING_CONSUMER), 0, "re-attach");
    is_int((long long)s->tail, 64, "attach released the claimed record");
    rec = ring_pop(&c2);
    ok(rec && ring_test_verify(rec->data, 50, 1),
       "restart: record 0 not seen again, record 1 is next");
    ring_release(&c2);
    rec = ring_pop(&c2);                /* 2: claimed, not released */
    ring_attach(&c2, mem, -1, RING_CONSUMER);
    rec = ring_pop(&c2);
    ok(rec && ring_test_verify(rec->data, 50, 3), "second restart: 3");
    ring_attach(&c2, mem, -1, RING_CONSUMER);
    ok(ring_pop(&c2) == NULL && s->tail == s->head,
       "third restart: empty, all space back");
    free(mem);
}

/* Producer restart: reserved-but-uncommitted records are overwritten. */
static void ring_test_producer_restart(void)
{
    struct ring p, c, p2;
    void *mem = ring_test_pair(4096, -1, &p, &c);
    struct ring_shm *s = mem;
    const struct ring_rec *rec;
    unsigned char *d;

    ring_test_push_tag(&p, 40, 1);
    d = ring_reserve(&p, RING_TEST_TYPE, 900);
    memset(d, 0xEE, 900);
    d = ring_reserve(&p, RING_TEST_TYPE, 900);
    memset(d, 0xEE, 450);               /* "died" mid-write */
    is_int(ring_attach(&p2, mem, -1, RING_PRODUCER), 0, "new producer");
    is_int((long long)p2.pend, (long long)s->head, "resumes at head");
    ring_test_push_tag(&p2, 30, 2);
    rec = ring_pop(&c);
    ok(rec && rec->len == 40 && ring_test_verify(rec->data, 40, 1),
       "committed record of the dead producer");
    rec = ring_pop(&c);
    ok(rec && rec->len == 30 && ring_test_verify(rec->data, 30, 2),
       "then the new producer's record, not the reservations");
    ok(ring_pop(&c) == NULL, "nothing else");
    free(mem);
}

/* ---- processes ---------------------------------------------------- */

struct ring_test_ctl {
    uint64_t popped;                    /* consumer: last seq popped + 1 */
    uint64_t released;                  /* consumer: seqs < this released */
    uint64_t committed;                 /* producer: next seq to send */
    uint64_t pend;                      /* producer: pend at its stop */
    uint64_t bad;                       /* child: corrupt records seen */
    uint64_t writes;                    /* producer: eventfd writes */
    uint32_t stopped;                   /* producer: parked, reservations
                                         * outstanding */
};

struct ring_test_seg {
    struct ring_test_ctl *ctl;
    void *ring;
    size_t size;                        /* ring data bytes */
    size_t bytes;
    int efd;
};

#define RING_TEST_GET(f) __atomic_load_n(&(f), __ATOMIC_RELAXED)
#define RING_TEST_PUT(f, v) __atomic_store_n(&(f), (v), __ATOMIC_RELAXED)

static void ring_test_seg_open(struct ring_test_seg *g, size_t size)
{
    int fd = memfd_create("ring.t", MFD_CLOEXEC);
    char *base;

    g->size = size;
    g->bytes = 4096 + ring_shm_bytes(size);
    if (fd < 0 || ftruncate(fd, (off_t)g->bytes) < 0)
        abort();
    base = mmap(NULL, g->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED)
        abort();
    close(fd);                          /* the mapping keeps it */
    g->ctl = (struct ring_test_ctl *)base;
    g->ring = base + 4096;
    if (ring_format(g->ring, size, "proc") < 0
        || (g->efd = eventfd(0, EFD_NONBLOCK)) < 0)
        abort();
}

static void ring_test_seg_close(struct ring_test_seg *g)
{
    close(g->efd);
    munmap(g->ctl, g->bytes);
}

/* ring_test_fork - run fn(g, gen, first, n) in a child; its pid */
static pid_t ring_test_fork(void (*fn)(struct ring_test_seg *, uint64_t,
                                       uint64_t, uint64_t),
                            struct ring_test_seg *g, uint64_t gen,
                            uint64_t first, uint64_t n)
{
    pid_t pid;

    fflush(stdout);
    if ((pid = fork()) < 0)
        abort();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        ring_test_rnd_x ^= (uint64_t)getpid() << 20;
        fn(g, gen, first, n);
        _exit(0);
    }
    return pid;
}

static void ring_test_backoff(unsigned *spins)
{
    struct timespec ts = {0, 20000};

    if (++*spins < 16)
        sched_yield();
    else
        nanosleep(&ts, NULL);
}

/*
 * ring_test_produce - child: records first .. first+n-1 of generation
 * gen in random batches of 1..32, backing off while the ring is full.
 * n == UINT64_MAX: until killed.
 */
static void ring_test_produce(struct ring_test_seg *g, uint64_t gen,
                              uint64_t first, uint64_t n)
{
    uint64_t seq = first, end = n == UINT64_MAX ? n : first + n;
    unsigned spins = 0, b, k;
    struct ring r;
    unsigned char *d;
    uint32_t len;

    if (ring_attach(&r, g->ring, g->efd, RING_PRODUCER) < 0)
        _exit(2);
    while (seq < end) {
        b = 1 + (unsigned)(ring_test_rnd() % 32);
        for (k = 0; k < b && seq < end; k++, seq++) {
            len = ring_test_len(seq, g->size);
            if ((d = ring_reserve(&r, RING_TEST_TYPE, len)) == NULL)
                break;
            ring_test_fill(d, len, RING_TEST_TAG(gen, seq));
        }
        g->ctl->writes += (uint64_t)ring_commit(&r);
        RING_TEST_PUT(g->ctl->committed, seq);
        if (k < b && seq < end)
            ring_test_backoff(&spins);
        else
            spins = 0;
    }
}

/*
 * ring_test_produce_stop - child: like ring_test_produce(), then leave
 * three reservations uncommitted (one whole, one half written, one
 * garbage), say so, and wait to be killed.
 */
static void ring_test_produce_stop(struct ring_test_seg *g, uint64_t gen,
                                   uint64_t first, uint64_t n)
{
    uint32_t len[3] = {ring_test_len(first + n, g->size),
                       ring_test_len(first + n + 1, g->size), 1000};
    unsigned char *d;
    unsigned spins = 0;
    struct ring r;
    int k;

    ring_test_produce(g, gen, first, n);
    if (ring_attach(&r, g->ring, g->efd, RING_PRODUCER) < 0)
        _exit(2);
    for (k = 0; k < 3; k++) {
        while ((d = ring_reserve(&r, RING_TEST_TYPE, len[k])) == NULL)
            ring_test_backoff(&spins);
        if (k < 2)
            ring_test_fill(d, len[k] / (k + 1),
                           RING_TEST_TAG(gen, first + n + k));
        else
            memset(d, 0xEE, len[k]);
    }
    RING_TEST_PUT(g->ctl->pend, r.pend);
    RING_TEST_PUT(g->ctl->stopped, 1);
    for (;;)
        pause();
}

/* Parent-side consumer with the eventfd sleep protocol. */
struct ring_test_cons {
    struct ring r;
    int efd;
    unsigned release_every;             /* release after this many pops */
    int release_when_empty;
    unsigned since;                     /* pops since the last release */
    uint64_t prepares, sleeps, timeouts;
};

static void ring_test_cons_init(struct ring_test_cons *c,
                                struct ring_test_seg *g, unsigned every,
                                int when_empty)
{
    memset(c, 0, sizeof(*c));
    if (ring_attach(&c->r, g->ring, g->efd, RING_CONSUMER) < 0)
        abort();
    c->efd = g->efd;
    c->release_every = every;
    c->release_when_empty = when_empty;
}

/*
 * ring_test_next - the next record, or NULL after timeout_ms without
 * one. The previous record is no longer used when this is called, so
 * releasing here never frees a record the caller still reads.
 */
static const struct ring_rec *ring_test_next(struct ring_test_cons *c,
                                             int timeout_ms)
{
    struct pollfd pfd = {c->efd, POLLIN, 0};
    const struct ring_rec *rec;
    int n;

    if (c->since >= c->release_every) {
        ring_release(&c->r);
        c->since = 0;
    }
    for (;;) {
        if ((rec = ring_pop(&c->r)) != NULL) {
            c->since++;
            return rec;
        }
        if (c->release_when_empty) {
            ring_release(&c->r);
            c->since = 0;
        }
        c->prepares++;
        if (ring_sleep_prepare(&c->r))
            continue;
        c->sleeps++;
        n = poll(&pfd, 1, timeout_ms);
        ring_wake_clear(&c->r);
        if (n == 0) {
            c->timeouts++;
            return NULL;
        }
    }
}

static double ring_test_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ring_test_reap - wait for pid; its exit status, or 128 + signal */
static int ring_test_reap(pid_t pid)
{
    int st;

    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void ring_test_two_procs(void)
{
    struct ring_test_seg g;
    struct ring_test_cons c;
    const struct ring_rec *rec;
    uint64_t got = 0, bad = 0, order = 0, tag, bytes = 0, lost;
    double t0;
    pid_t pid;

    alarm(60);
    ring_test_seg_open(&g, 256u << 10);
    ring_test_cons_init(&c, &g, 32, 1);
    t0 = ring_test_now();
    pid = ring_test_fork(ring_test_produce, &g, 0, 0, RING_TEST_N);
    while (got < RING_TEST_N) {
        if ((rec = ring_test_next(&c, 1000)) == NULL) {
            if (c.timeouts > 5)
                break;
            continue;
        }
        if (!ring_test_check(rec, g.size, &tag))
            bad++;
        else if (tag != got)
            order++;
        bytes += rec->len;
        got++;
    }
    lost = c.timeouts;
    ok(ring_test_next(&c, 100) == NULL, "two processes: nothing extra");
    is_int(ring_test_reap(pid), 0, "two processes: producer exit 0");
    is_int((long long)got, RING_TEST_N, "two processes: record count");
    is_int((long long)order, 0, "two processes: order");
    is_int((long long)bad, 0, "two processes: every byte verified");
    is_int((long long)lost, 0, "no lost wake-up (no poll timed out)");
    ok(g.ctl->writes <= c.prepares, "eventfd writes (%" PRIu64 ") <= "
       "sleep announcements (%" PRIu64 ")", g.ctl->writes, c.prepares);
    diag("%u records, %.1f MB in %.2f s; %" PRIu64 " sleeps, %" PRIu64
         " eventfd writes", RING_TEST_N, (double)bytes / 1e6,
         ring_test_now() - t0, c.sleeps, g.ctl->writes);
    ring_test_seg_close(&g);
    alarm(0);
}

/*
 * ring_test_consume_forever - child consumer that releases only every
 * 50 records (never when idle), so that it usually dies holding some
 * claimed-but-unreleased records. Reports progress in the ctl page.
 */
static void ring_test_consume_forever(struct ring_test_seg *g,
                                      uint64_t gen, uint64_t first,
                                      uint64_t n)
{
    struct ring_test_cons c;
    const struct ring_rec *rec;
    uint64_t tag, want = first;

    (void)gen;
    (void)n;
    ring_test_cons_init(&c, g, 50, 0);
    for (;;) {
        if ((rec = ring_test_next(&c, 1000)) == NULL) {
            ring_release(&c.r);         /* idle: let the producer go on */
            c.since = 0;
            RING_TEST_PUT(g->ctl->released, want);
            continue;
        }
        if (!ring_test_check(rec, g->size, &tag) || tag != want)
            RING_TEST_PUT(g->ctl->bad, RING_TEST_GET(g->ctl->bad) + 1);
        if (c.since == 1)               /* released all before this one */
            RING_TEST_PUT(g->ctl->released, tag);
        RING_TEST_PUT(g->ctl->popped, tag + 1);
        want = tag + 1;
    }
}

/*
 * ring_test_walk - the claimed-but-unreleased records [tail, read) of a
 * dead consumer: are they whole and consecutive? Their count and first
 * seq go to *n and *first.
 */
static int ring_test_walk(struct ring_test_seg *g, uint64_t *first,
                          uint64_t *n)
{
    struct ring_shm *s = g->ring;
    const struct ring_rec *rec;
    uint64_t pos = s->tail, tag;
    int good = 1;

    *n = 0;
    *first = UINT64_MAX;
    while (pos < s->read && good) {
        rec = (const struct ring_rec *)(s->data + (pos & (s->size - 1)));
        pos += 8 + (((uint64_t)rec->len + 7) & ~(uint64_t)7);
        if (rec->type == RING_T_PAD)
            continue;
        good = ring_test_check(rec, g->size, &tag)
               && (*n == 0 || tag == *first + *n);
        if (*n == 0)
            *first = tag;
        ++*n;
    }
    return good && pos == s->read;
}

static void ring_test_consumer_killed(void)
{
    const uint64_t total = 1000000;
    struct ring_test_seg g;
    struct ring_test_cons c;
    const struct ring_rec *rec;
    uint64_t popped, released, first_new = UINT64_MAX, prev = 0, tag;
    uint64_t un_first, un_n, got = 0, bad = 0, order = 0;
    pid_t prod, cons;
    int walked;

    alarm(60);
    ring_test_seg_open(&g, 256u << 10);
    prod = ring_test_fork(ring_test_produce, &g, 0, 0, total);
    cons = ring_test_fork(ring_test_consume_forever, &g, 0, 0, 0);
    while (RING_TEST_GET(g.ctl->popped) < total / 3
           || RING_TEST_GET(g.ctl->popped) - RING_TEST_GET(g.ctl->released)
                  < 10)
        sched_yield();
    kill(cons, SIGKILL);
    is_int(ring_test_reap(cons), 128 + SIGKILL, "consumer SIGKILLed");
    popped = g.ctl->popped;
    released = g.ctl->released;
    walked = ring_test_walk(&g, &un_first, &un_n);
    ok(walked, "dead consumer's unreleased records are whole");
    is_int((long long)g.ctl->bad, 0, "dead consumer saw no corruption");

    ring_test_cons_init(&c, &g, 32, 1); /* the new consumer: us */
    while (prev + 1 < total) {
        if ((rec = ring_test_next(&c, 2000)) == NULL)
            break;
        if (!ring_test_check(rec, g.size, &tag))
            bad++;
        else if (first_new == UINT64_MAX)
            first_new = tag;
        else if (tag != prev + 1)
            order++;
        prev = tag;
        got++;
    }
    is_int(ring_test_reap(prod), 0, "producer finished");
    ok(first_new >= popped, "no duplicate: first new %" PRIu64 " >= last "
       "popped + 1 %" PRIu64, first_new, popped);
    is_int((long long)bad, 0, "new consumer: no corruption");
    is_int((long long)order, 0, "new consumer: strictly consecutive");
    is_int((long long)(got + first_new), (long long)total,
           "new consumer received everything from its first record on");
    if (un_n > 0)
        is_int((long long)(un_first + un_n), (long long)first_new,
               "lost records are exactly the claimed-unreleased ones");
    else
        is_int((long long)popped, (long long)first_new,
               "nothing claimed-unreleased: nothing lost");
    ok(first_new - popped <= un_n, "loss %" PRIu64 " <= claimed-"
       "unreleased %" PRIu64, first_new - popped, un_n);
    ok(un_n <= 50, "claimed-unreleased %" PRIu64 " <= release batch",
       un_n);
    ok(released <= first_new, "reported release %" PRIu64 " not past the "
       "restart point", released);
    diag("consumer killed after reporting %" PRIu64 " records; %" PRIu64
         " claimed-unreleased dropped by the restart, %" PRIu64
         " of them never processed; new consumer got %" PRIu64,
         popped, un_n, first_new - popped, got);
    ring_test_seg_close(&g);
    alarm(0);
}

/* Parent's view of the generations it received in the producer test. */
struct ring_test_gens {
    uint64_t n[4], first[4], last[4];
    uint64_t bad, order;
    unsigned cur;
};

static void ring_test_gens_add(struct ring_test_gens *v,
                               const struct ring_rec *rec, uint64_t size)
{
    uint64_t tag, gen, seq;

    if (!ring_test_check(rec, size, &tag) || RING_TEST_GEN(tag) > 3) {
        v->bad++;
        return;
    }
    gen = RING_TEST_GEN(tag);
    seq = RING_TEST_SEQ(tag);
    if (gen < v->cur || (gen == v->cur && seq != v->last[gen] + 1))
        v->order++;
    if (v->n[gen]++ == 0)
        v->first[gen] = seq;
    v->last[gen] = seq;
    v->cur = (unsigned)gen;
}

static void ring_test_producer_killed(void)
{
    struct ring_test_seg g;
    struct ring_test_cons c;
    struct ring_test_gens v;
    struct ring_shm *s;
    const struct ring_rec *rec;
    uint64_t next;
    pid_t pid;

    alarm(60);
    memset(&v, 0, sizeof(v));
    ring_test_seg_open(&g, 64u << 10);
    s = g.ring;
    ring_test_cons_init(&c, &g, 16, 1);

    /* Generation 1: killed at a random point while batching. */
    pid = ring_test_fork(ring_test_produce, &g, 1, 0, UINT64_MAX);
    while (v.n[1] < 100000 && (rec = ring_test_next(&c, 2000)) != NULL)
        ring_test_gens_add(&v, rec, g.size);
    kill(pid, SIGKILL);
    is_int(ring_test_reap(pid), 128 + SIGKILL, "producer 1 SIGKILLed");

    /* Generation 2: killed with three reservations outstanding. */
    next = g.ctl->committed;
    pid = ring_test_fork(ring_test_produce_stop, &g, 2, next, 50000);
    while (!RING_TEST_GET(g.ctl->stopped) || ring_used(&c.r) > 0) {
        if ((rec = ring_test_next(&c, 20)) != NULL)
            ring_test_gens_add(&v, rec, g.size);
    }
    ok(g.ctl->pend > s->head, "producer 2 parked with %" PRIu64 " bytes "
       "reserved, uncommitted", g.ctl->pend - s->head);
    ok(ring_pop(&c.r) == NULL, "reservations invisible to the consumer");
    kill(pid, SIGKILL);
    is_int(ring_test_reap(pid), 128 + SIGKILL, "producer 2 SIGKILLed");

    /* Generation 3: attaches over the dead reservations and finishes. */
    next = g.ctl->committed;
    pid = ring_test_fork(ring_test_produce, &g, 3, next, 50000);
    while (v.n[3] < 50000 && (rec = ring_test_next(&c, 2000)) != NULL)
        ring_test_gens_add(&v, rec, g.size);
    is_int(ring_test_reap(pid), 0, "producer 3 exit 0");
    ok(ring_test_next(&c, 100) == NULL, "nothing after producer 3");
    is_int((long long)v.bad, 0, "only whole records, every byte right");
    is_int((long long)v.order, 0, "generations in order, seqs consecutive");
    ok(v.n[1] >= 100000, "generation 1: %" PRIu64 " records", v.n[1]);
    is_int((long long)v.n[2], 50000, "generation 2: exactly its "
           "committed records");
    is_int((long long)v.n[3], 50000, "generation 3: all records");
    is_int((long long)v.first[3], (long long)v.last[2] + 1,
           "generation 3 continues right after generation 2's last commit");
    ring_test_seg_close(&g);
    alarm(0);
}

/* ---- threads (for ThreadSanitizer) -------------------------------- */

struct ring_test_thr {
    void *mem;
    int efd;
    uint64_t n, writes;
};

static void *ring_test_thr_produce(void *arg)
{
    struct ring_test_thr *t = arg;
    unsigned spins = 0;
    struct ring r;
    unsigned char *d;
    uint64_t seq = 0;
    uint32_t len;

    if (ring_attach(&r, t->mem, t->efd, RING_PRODUCER) < 0)
        abort();
    while (seq < t->n) {
        len = ring_test_len(seq, 1u << 16);
        if ((d = ring_reserve(&r, RING_TEST_TYPE, len)) == NULL) {
            t->writes += (uint64_t)ring_commit(&r);
            ring_test_backoff(&spins);
            continue;
        }
        spins = 0;
        ring_test_fill(d, len, seq++);
        if (seq % 8 == 0 || seq == t->n)
            t->writes += (uint64_t)ring_commit(&r);
    }
    return NULL;
}

static void ring_test_threads(void)
{
    struct ring_test_thr t = {NULL, -1, 300000, 0};
    struct pollfd pfd;
    struct ring c;
    const struct ring_rec *rec;
    uint64_t got = 0, bad = 0, tag, timeouts = 0;
    pthread_t th;

    t.efd = eventfd(0, EFD_NONBLOCK);
    t.mem = ring_test_new(1u << 16);
    pfd.fd = t.efd;
    pfd.events = POLLIN;
    ring_attach(&c, t.mem, t.efd, RING_CONSUMER);
    if (pthread_create(&th, NULL, ring_test_thr_produce, &t) != 0)
        abort();
    while (got < t.n && timeouts < 5) {
        if ((rec = ring_pop(&c)) == NULL) {
            ring_release(&c);
            if (ring_sleep_prepare(&c) == 0) {
                timeouts += poll(&pfd, 1, 1000) == 0;
                ring_wake_clear(&c);
            }
            continue;
        }
        if (!ring_test_check(rec, 1u << 16, &tag) || tag != got)
            bad++;
        got++;
        if (got % 16 == 0)
            ring_release(&c);
    }
    pthread_join(th, NULL);
    is_int((long long)got, (long long)t.n, "threads: record count");
    is_int((long long)bad, 0, "threads: order and bytes");
    is_int((long long)timeouts, 0, "threads: no lost wake-up");
    diag("threads: %" PRIu64 " eventfd writes", t.writes);
    close(t.efd);
    free(t.mem);
}

/*
 * ring_test_bell - two rings of one consumer share a bell (a futex word
 * in shared memory, as a sipd worker's reply and request rings do);
 * another process writes both, pausing now and then so the consumer
 * goes to sleep often. No wake-up may be lost (a wait that runs into
 * its 2 s timeout would be one), every record arrives in order per
 * ring, and futex wakes never outnumber sleep announcements.
 */
#define RING_BELL_N 200000u

struct ring_bell_seg {
    uint32_t bell;
    uint32_t pad[15];
    unsigned char ring[2][sizeof(struct ring_shm) + 65536]
        __attribute__((aligned(64)));
};

static void ring_bell_produce(struct ring_bell_seg *g)
{
    struct ring p[2];
    uint64_t i, k;
    unsigned spins = 0;
    void *d;

    for (k = 0; k < 2; k++) {
        if (ring_attach(&p[k], g->ring[k], -1, RING_PRODUCER) < 0)
            _exit(2);
        ring_bell(&p[k], &g->bell);
    }
    for (i = 0; i < RING_BELL_N; i++) {
        k = (i * 2654435761u >> 7) & 1;     /* either ring, no pattern */
        while ((d = ring_reserve(&p[k], 1, sizeof(i))) == NULL) {
            ring_commit(&p[k]);
            ring_test_backoff(&spins);
        }
        memcpy(d, &i, sizeof(i));
        if (i % 7 == 0)
            ring_commit(&p[k]);
        if (i % 5000 == 0) {             /* let the consumer sleep */
            ring_commit(&p[0]);
            ring_commit(&p[1]);
            usleep(200);
        }
    }
    ring_commit(&p[0]);
    ring_commit(&p[1]);
}

static void ring_test_bell(void)
{
    struct ring_bell_seg *g;
    struct ring c[2];
    const struct ring_rec *rec;
    uint64_t got = 0, order = 0, last[2] = {0, 0}, v, slow = 0, sleeps = 0;
    uint64_t seen0[2] = {0, 0};
    uint32_t seen;
    double t;
    int k;
    pid_t pid;

    alarm(60);
    g = mmap(NULL, sizeof(*g), PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (g == MAP_FAILED)
        abort();
    for (k = 0; k < 2; k++) {
        if (ring_format(g->ring[k], 65536, k ? "bell.b" : "bell.a") < 0
            || ring_attach(&c[k], g->ring[k], -1, RING_CONSUMER) < 0)
            abort();
        ring_bell(&c[k], &g->bell);
    }
    fflush(stdout);
    if ((pid = fork()) == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        ring_bell_produce(g);
        _exit(0);
    }
    while (got < RING_BELL_N) {
        for (k = 0; k < 2; k++)
            while ((rec = ring_pop(&c[k])) != NULL) {
                memcpy(&v, rec->data, sizeof(v));
                order += seen0[k] && v <= last[k];
                last[k] = v;
                seen0[k] = 1;
                got++;
            }
        ring_release(&c[0]);
        ring_release(&c[1]);
        if (got >= RING_BELL_N)
            break;
        seen = ring_bell_get(&g->bell);
        if (ring_sleep_prepare(&c[0]) || ring_sleep_prepare(&c[1])) {
            ring_awake(&c[0]);
            ring_awake(&c[1]);
            continue;
        }
        sleeps++;
        t = ring_test_now();
        ring_bell_wait(&g->bell, seen, 2000);
        if (ring_test_now() - t > 1.5) {
            slow++;
            if (slow > 2)
                break;
        }
        ring_awake(&c[0]);
        ring_awake(&c[1]);
    }
    is_int(ring_test_reap(pid), 0, "bell: producer exit 0");
    is_int((long long)got, RING_BELL_N, "bell: every record of both rings");
    is_int((long long)order, 0, "bell: order kept per ring");
    is_int((long long)slow, 0, "bell: no lost wake-up (no wait timed out)");
    ok(sleeps > 10, "bell: the consumer did sleep (%" PRIu64 " times)",
       sleeps);
    ok(g->bell <= 2 * sleeps + 2, "bell: rung (%u) at most once per ring "
       "and sleep (%" PRIu64 ")", g->bell, sleeps);
    munmap(g, sizeof(*g));
    alarm(0);
}

int main(void)
{
    ring_test_format();
    ring_test_attach();
    ring_test_sizes();
    ring_test_order();
    ring_test_wrap();
    ring_test_full();
    ring_test_batch();
    ring_test_shrink();
    ring_test_damage();
    ring_test_wake();
    ring_test_consumer_restart();
    ring_test_producer_restart();
    ring_test_two_procs();
    ring_test_bell();
    ring_test_consumer_killed();
    ring_test_producer_killed();
    ring_test_threads();                /* last: no fork after threads */
    return done_testing();
}
