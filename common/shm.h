#ifndef SHM_H
#define SHM_H
/*
 * SUMMARY
 *    shm - the one shared segment mid creates for the whole pipeline
 * DESCRIPTION
 *    mid creates an anonymous memfd, sizes it, maps it and formats it;
 *    the fd is inherited by every stage (fork+exec, not close-on-exec)
 *    and its number is passed as "-S FD". A memfd has no name in the
 *    file system, so nothing is left behind when mid dies, and a
 *    restarted stage maps exactly the segment (and rings) the old one
 *    used.
 *
 *    +----------------------------+ 0
 *    | struct shm_hdr             |  directory: procs, rings, offsets
 *    +----------------------------+ cfg_off[0], cfg_off[1]
 *    | config text, two slots     |  stages parse the current one, not
 *    |                            |  the file; reload writes the other
 *    |                            |  slot, then switches cfg_slot
 *    +----------------------------+ stats_off
 *    | struct stats_slot [procs * SHM_THREADS]
 *    +----------------------------+ rings[0].off
 *    | struct ring_shm + data     |  one per ring, page aligned
 *    | ...                        |
 *    +----------------------------+ size
 *
 *    Invariants: only mid writes the directory (procs[].pid/state/
 *    restarts, log_level, children). Eventfd numbers in rings[].efd are
 *    valid in every stage because stages inherit mid's descriptor
 *    table: one per ring to and from dnsd and dbd, and one (netd_efd)
 *    shared by every ring to netd, whose one loop is their one
 *    consumer. A worker's input rings have no eventfd: the worker
 *    sleeps on its bell (a futex word, bell[]).
 * DIAGNOSTICS
 *    shm_attach() fails with -EINVAL on a bad magic or version.
 */
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "ring.h"
#include "stats.h"

#define SHM_MAGIC 0x53535348u           /* "SSSH" */
#define SHM_VERSION 2u

enum shm_stage {
    STAGE_MID = 0,
    STAGE_NETD,
    STAGE_SIPD,
    STAGE_DNSD,
    STAGE_DBD,
    STAGE__N
};

/* Fixed process slots: stats and the ps table index by these. */
#define SHM_PROC_MID 0
#define SHM_PROC_NETD 1
#define SHM_PROC_DNSD 2
#define SHM_PROC_DBD 3
#define SHM_PROC_SIPD(i) (4 + (i))
#define SHM_MAX_PROCS (4 + CFG_MAX_SIPD)

/* Stats slots per process: workers + dispatcher + timer + spare. */
#define SHM_THREADS (CFG_MAX_CHILDREN + 4)
#define SHM_TH_MAIN 0                   /* loop / dispatcher thread */
#define SHM_TH_TIMER 1
#define SHM_TH_WORKER(i) (2 + (i))

/*
 * Rings. Per sipd instance i, four to the helper stages, read and
 * written by sipd's main thread (dnsd, dbd answers) and its workers
 * (queries, under a process-local mutex):
 */
#define SHM_R_SIPD_DNSD 0
#define SHM_R_DNSD_SIPD 1
#define SHM_R_SIPD_DBD 2                /* formatted always, used when */
#define SHM_R_DBD_SIPD 3                /* [db] url is set */
#define SHM_R_PER_SIPD 4
#define SHM_RING(sipd, kind) ((sipd) * SHM_R_PER_SIPD + (kind))
#define SHM_AUX_RINGS (CFG_MAX_SIPD * SHM_R_PER_SIPD)
/*
 * and three per worker w of instance i, between netd and that worker
 * thread alone (single producer, single consumer, no lock anywhere):
 * requests in, replies in (the worker empties it first), and out.
 * A slot's rings are formatted when an instance first has that many
 * workers (shm_workers()); the directory keeps room for
 * CFG_MAX_CHILDREN per instance.
 */
#define SHM_W_REQ 0                     /* netd>sipd.i.w: requests */
#define SHM_W_REPLY 1                   /* netd>sipd.i.w.r: responses,
                                         * failed sends */
#define SHM_W_OUT 2                     /* sipd.i.w>netd */
#define SHM_W_PER 3
#define SHM_WORKER(sipd, w) ((sipd) * CFG_MAX_CHILDREN + (w))
#define SHM_WRING(sipd, w, kind)                                       \
    (SHM_AUX_RINGS + SHM_WORKER(sipd, w) * SHM_W_PER + (kind))
#define SHM_MAX_WORKERS (CFG_MAX_SIPD * CFG_MAX_CHILDREN)
#define SHM_MAX_RINGS (SHM_AUX_RINGS + SHM_MAX_WORKERS * SHM_W_PER)

#define SHM_CFG_MAX (1u << 20)          /* largest config file */
#define SHM_RING_REQ_BYTES (2u << 20)   /* netd>sipd.i.w data area */
#define SHM_RING_REPLY_BYTES (1u << 20) /* netd>sipd.i.w.r */
#define SHM_RING_OUT_BYTES (2u << 20)   /* sipd.i.w>netd */
#define SHM_RING_DNS_BYTES (256u << 10) /* sipd<->dnsd, sipd<->dbd */

#define PROC_S_DOWN 0                   /* not running, not scheduled */
#define PROC_S_STARTING 1               /* forked, not ready yet */
#define PROC_S_RUNNING 2                /* said ready */
#define PROC_S_BACKOFF 3                /* died; restart scheduled */
#define PROC_S_STOPPING 4

struct shm_proc {
    int32_t stage;                      /* enum shm_stage */
    int32_t instance;
    int32_t pid;
    int32_t state;                      /* PROC_S_* */
    int32_t restarts;
    int32_t pad;
    int64_t started;                    /* CLOCK_REALTIME seconds */
};

struct shm_ring_ent {
    char name[RING_NAME_MAX];
    uint64_t off;
    uint64_t bytes;                     /* data area */
    int32_t efd;                        /* -1: a bell (worker input) */
    int32_t used;                       /* formatted */
};

/* A worker's bell (ring.h): the futex word its input rings wake it on,
 * alone on its cache line. */
struct shm_bell {
    uint32_t v;
    char pad[60];
};

/*
 * SHM_LAYOUT - what a stage's build assumes about the segment. A stage
 * built from another tree than mid's (a relink under a running proxy)
 * refuses to attach instead of reading counters or rings at the wrong
 * offsets. It holds the stats row's capacity (STATS_CAP), not the
 * number of counters: a build that appends counters (stats.h: append
 * only) keeps the layout and may replace one stage at a time. mid asks
 * a binary for its layout ("BIN --layout", srv.c) before it stops the
 * running one (MI stage_restart, reload).
 */
#define SHM_LAYOUT                                                     \
    ((uint64_t)STATS_CAP << 48 | (uint64_t)SHM_MAX_PROCS << 40         \
     | (uint64_t)SHM_THREADS << 32 | (uint64_t)sizeof(struct shm_hdr))

struct shm_hdr {
    uint32_t magic;
    uint32_t version;
    uint64_t layout;                    /* SHM_LAYOUT of mid's build */
    uint64_t size;
    int32_t log_level;                  /* live [log] debug, mid writes */
    int32_t nsipd;                      /* running sipd processes */
    uint32_t sipd_live;                 /* bit i: sipd/i running and
                                         * answering pings; mid writes,
                                         * netd hashes over these */
    int32_t children[CFG_MAX_SIPD];     /* workers of sipd/i: netd hashes
                                         * a Call-ID to worker ring
                                         * hash % children[i]; mid writes
                                         * it before it starts sipd/i */
    int32_t netd_efd;                   /* every sipd.i.w>netd ring wakes
                                         * netd on this one eventfd */
    int32_t nlisten;
    int32_t listen_fd[CFG_MAX_LISTEN];  /* inherited sockets, cfg order */
    uint64_t cfg_off[2];                /* two slots of SHM_CFG_MAX bytes */
    uint64_t cfg_len[2];
    uint32_t cfg_slot;                  /* the current one; mid switches it
                                         * with a release store after
                                         * writing the other (reload) */
    uint32_t cfg_gen;                   /* reloads so far */
    uint64_t stats_off;
    struct shm_proc procs[SHM_MAX_PROCS];
    struct shm_ring_ent rings[SHM_MAX_RINGS];
    struct shm_bell bell[SHM_MAX_WORKERS] __attribute__((aligned(64)));
};

struct shm {
    struct shm_hdr *hdr;
    size_t size;
    int fd;
};

/*
 * shm_create - mid: create, size and map the segment for cfg (nsipd
 * sipd instances get rings; room is kept for CFG_MAX_SIPD), copy the
 * config text in, create one eventfd per ring, format every ring.
 * Returns 0 or -errno.
 */
extern int shm_create(struct shm *m, const struct cfg *c, const char *text,
                      size_t text_len);

/* shm_attach - stage: map the inherited fd and check it. 0 or -errno. */
extern int shm_attach(struct shm *m, int fd);

/* shm_destroy - unmap and close (mid at exit; the memfd then vanishes) */
extern void shm_destroy(struct shm *m);

/* shm_ring_attach - take one side of ring number idx (SHM_RING() or
 * SHM_WRING()); a worker's input ring gets its bell. -EINVAL for a ring
 * not formatted. */
extern int shm_ring_attach(struct shm *m, int idx, int side, struct ring *r);

/*
 * shm_workers - mid, before it starts sipd/i: format the rings of
 * worker slots 0..children-1 of instance i that are not yet (the
 * data areas are not touched), then publish children[i] (release). 0
 * or -EINVAL.
 */
extern int shm_workers(struct shm *m, int i, int children);

/* shm_bell - the bell of worker w of sipd/i */
extern uint32_t *shm_bell(struct shm *m, int i, int w);

/* shm_ring_name_of - the name of ring idx, "?" if out of range */
extern const char *shm_ring_name_of(struct shm *m, int idx);

/* shm_stats - the stats slot of (proc, thread) */
extern struct stats_slot *shm_stats(struct shm *m, int proc, int thread);

/* shm_stats_base - all slots, SHM_MAX_PROCS * SHM_THREADS of them */
extern struct stats_slot *shm_stats_base(struct shm *m);

/* shm_cfg_text - the current config text copy */
extern const char *shm_cfg_text(struct shm *m, size_t *len);

/*
 * shm_cfg_set - mid (reload): write text into the slot not in use, then
 * make it current. A stage that starts meanwhile reads one whole text,
 * old or new. Returns 0 or -EFBIG.
 */
extern int shm_cfg_set(struct shm *m, const char *text, size_t len);

/* shm_stage_name - "mid", "netd", "sipd", "dnsd", "dbd" */
extern const char *shm_stage_name(int stage);

#endif
