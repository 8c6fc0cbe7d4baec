/*
 * SUMMARY
 *    shm - create (mid) and attach (stages) the shared segment
 * DESCRIPTION
 *    See shm.h for the layout. mid creates the memfd without
 *    MFD_CLOEXEC and the eventfds without EFD_CLOEXEC on purpose: the
 *    stages inherit them through fork+exec, with the same numbers, and
 *    find those numbers in the directory. Ring data areas are page
 *    aligned and only touched when used, so reserving rings for
 *    CFG_MAX_SIPD instances costs address space, not memory.
 * PROTOCOL
 *    The directory (struct shm_hdr) is written by mid only.
 * DIAGNOSTICS
 *    Errors return -errno; callers (mid at start, stages at attach)
 *    treat them as fatal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm.h"

#define SHM_PAGE 4096u
#define SHM_ALIGN(x) (((x) + SHM_PAGE - 1) & ~(uint64_t)(SHM_PAGE - 1))

static const char *const shm_stage_names[STAGE__N] = {
    "mid", "netd", "sipd", "dnsd", "dbd"};

const char *shm_stage_name(int stage)
{
    return stage >= 0 && stage < STAGE__N ? shm_stage_names[stage] : "?";
}

/* shm_ring_kind - what ring idx is: its bytes and its name */
static uint64_t shm_ring_kind(int idx, char *buf, size_t cap)
{
    static const char *const aux[SHM_R_PER_SIPD][2] = {
        {"sipd.", ">dnsd"}, {"dnsd>sipd.", ""}, {"sipd.", ">dbd"},
        {"dbd>sipd.", ""}};
    int w, i;

    if (idx < SHM_AUX_RINGS) {
        snprintf(buf, cap, "%s%d%s", aux[idx % SHM_R_PER_SIPD][0],
                 idx / SHM_R_PER_SIPD, aux[idx % SHM_R_PER_SIPD][1]);
        return SHM_RING_DNS_BYTES;
    }
    idx -= SHM_AUX_RINGS;
    i = idx / SHM_W_PER / CFG_MAX_CHILDREN;
    w = idx / SHM_W_PER % CFG_MAX_CHILDREN;
    switch (idx % SHM_W_PER) {
    case SHM_W_REQ:
        snprintf(buf, cap, "netd>sipd.%d.%d", i, w);
        return SHM_RING_REQ_BYTES;
    case SHM_W_REPLY:
        snprintf(buf, cap, "netd>sipd.%d.%d.r", i, w);
        return SHM_RING_REPLY_BYTES;
    default:
        snprintf(buf, cap, "sipd.%d.%d>netd", i, w);
        return SHM_RING_OUT_BYTES;
    }
}

/* shm_layout - fill the directory's offsets; returns the total size */
static uint64_t shm_layout(struct shm_hdr *h, size_t text_len)
{
    uint64_t off = SHM_ALIGN(sizeof(*h));
    int i;

    h->cfg_off[0] = off;
    h->cfg_off[1] = off + SHM_CFG_MAX;
    h->cfg_len[0] = text_len;
    off = SHM_ALIGN(off + 2 * (uint64_t)SHM_CFG_MAX);
    h->stats_off = off;
    off = SHM_ALIGN(off + sizeof(struct stats_slot) * SHM_MAX_PROCS
                              * SHM_THREADS);
    for (i = 0; i < SHM_MAX_RINGS; i++) {
        h->rings[i].bytes = shm_ring_kind(i, h->rings[i].name,
                                          sizeof(h->rings[i].name));
        h->rings[i].off = off;
        h->rings[i].efd = -1;
        off = SHM_ALIGN(off + ring_shm_bytes(h->rings[i].bytes));
    }
    return off;
}

/*
 * shm_nodump - keep the rings out of a core dump of this process but
 * for those it attaches (shm_ring_attach). A crash dump reads every
 * page of a shared mapping, holes included: the directory reserves
 * rings for CFG_MAX_SIPD x CFG_MAX_CHILDREN workers (gigabytes of
 * address space, a few pages used), and a core of all of it took half
 * a minute and as many gigabytes of disk. The rings a process uses,
 * with the record it crashed on, stay in its core.
 */
static void shm_nodump(struct shm *m)
{
    uint64_t off = m->hdr->rings[0].off;

    (void)madvise((char *)m->hdr + off, m->size - off, MADV_DONTDUMP);
}

/* shm_ring_format - format ring idx once; its eventfd is efd */
static int shm_ring_format(struct shm *m, int idx, int efd)
{
    struct shm_ring_ent *re = &m->hdr->rings[idx];
    int err;

    if (re->used)
        return 0;
    if ((err = ring_format((char *)m->hdr + re->off, re->bytes,
                           re->name)) < 0)
        return err;
    re->efd = efd;
    re->used = 1;
    return 0;
}

/* shm_rings_format - the helper stages' rings (an eventfd each) and
 * netd's one eventfd; worker rings come with shm_workers() */
static int shm_rings_format(struct shm *m)
{
    int i, efd, err;

    for (i = 0; i < SHM_AUX_RINGS; i++) {
        if ((efd = eventfd(0, EFD_NONBLOCK)) < 0)
            return -errno;
        if ((err = shm_ring_format(m, i, efd)) < 0) {
            close(efd);
            return err;
        }
    }
    if ((m->hdr->netd_efd = eventfd(0, EFD_NONBLOCK)) < 0)
        return -errno;
    return 0;
}

int shm_workers(struct shm *m, int i, int children)
{
    int w, err;

    if (i < 0 || i >= CFG_MAX_SIPD || children < 1
        || children > CFG_MAX_CHILDREN)
        return -EINVAL;
    for (w = 0; w < children; w++) {
        if ((err = shm_ring_format(m, SHM_WRING(i, w, SHM_W_REQ), -1)) < 0
            || (err = shm_ring_format(m, SHM_WRING(i, w, SHM_W_REPLY),
                                      -1)) < 0
            || (err = shm_ring_format(m, SHM_WRING(i, w, SHM_W_OUT),
                                      m->hdr->netd_efd)) < 0)
            return err;
    }
    /* Release: who reads the count sees the rings formatted. */
    __atomic_store_n(&m->hdr->children[i], children, __ATOMIC_RELEASE);
    return 0;
}

uint32_t *shm_bell(struct shm *m, int i, int w)
{
    return &m->hdr->bell[SHM_WORKER(i, w)].v;
}

const char *shm_ring_name_of(struct shm *m, int idx)
{
    return idx >= 0 && idx < SHM_MAX_RINGS ? m->hdr->rings[idx].name : "?";
}

/* shm_workers_all - worker rings of the instances mid starts first */
static int shm_workers_all(struct shm *m, int nsipd, int children)
{
    int i, err;

    for (i = 0; i < nsipd; i++)
        if ((err = shm_workers(m, i, children)) < 0)
            return err;
    return 0;
}

int shm_create(struct shm *m, const struct cfg *c, const char *text,
               size_t text_len)
{
    struct shm_hdr *tmp;
    uint64_t size;
    void *p;
    int err;

    memset(m, 0, sizeof(*m));
    m->fd = -1;
    if ((tmp = calloc(1, sizeof(*tmp))) == NULL)   /* ~250 KiB */
        return -ENOMEM;
    size = shm_layout(tmp, text_len);
    free(tmp);
    if ((m->fd = memfd_create("sipstage", 0)) < 0)
        return -errno;
    if (ftruncate(m->fd, (off_t)size) < 0)
        goto out;
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
    if (p == MAP_FAILED)
        goto out;
    m->hdr = p;
    m->size = size;
    shm_layout(m->hdr, text_len);       /* the memfd is zeroes */
    m->hdr->magic = SHM_MAGIC;
    m->hdr->version = SHM_VERSION;
    m->hdr->layout = SHM_LAYOUT;
    m->hdr->size = size;
    m->hdr->log_level = c->debug;
    m->hdr->nsipd = c->stages_sipd;
    m->hdr->netd_efd = -1;
    if (text_len > SHM_CFG_MAX) {
        shm_destroy(m);
        return -EFBIG;
    }
    shm_nodump(m);
    memcpy((char *)p + m->hdr->cfg_off[0], text, text_len);
    if ((err = shm_rings_format(m)) < 0
        || (err = shm_workers_all(m, c->stages_sipd, c->children)) < 0) {
        shm_destroy(m);
        return err;
    }
    return 0;
out:
    err = -errno;
    shm_destroy(m);
    return err;
}

int shm_attach(struct shm *m, int fd)
{
    struct shm_hdr_head {               /* the directory's first fields */
        uint32_t magic;
        uint32_t version;
        uint64_t layout;
        uint64_t size;
    } h;
    struct stat st;
    void *p;

    _Static_assert(offsetof(struct shm_hdr, size) == 16, "shm_hdr head");
    memset(m, 0, sizeof(*m));
    m->fd = fd;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
        return -EINVAL;
    if (h.magic != SHM_MAGIC || h.version != SHM_VERSION
        || h.size != (uint64_t)st.st_size)
        return -EINVAL;
    if (h.layout != SHM_LAYOUT)
        return -EPROTO;                 /* built from another tree */
    p = mmap(NULL, h.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return -errno;
    m->hdr = p;
    m->size = h.size;
    shm_nodump(m);
    return 0;
}

void shm_destroy(struct shm *m)
{
    int i;

    if (m->hdr != NULL) {
        for (i = 0; i < SHM_AUX_RINGS; i++)
            if (m->hdr->rings[i].efd >= 0 && m->hdr->rings[i].used)
                close(m->hdr->rings[i].efd);
        if (m->hdr->netd_efd >= 0)
            close(m->hdr->netd_efd);
        munmap(m->hdr, m->size);
    }
    if (m->fd >= 0)
        close(m->fd);
    m->hdr = NULL;
    m->fd = -1;
}

int shm_ring_attach(struct shm *m, int idx, int side, struct ring *r)
{
    struct shm_ring_ent *re;
    int err;

    if (idx < 0 || idx >= SHM_MAX_RINGS)
        return -EINVAL;
    re = &m->hdr->rings[idx];
    if (!__atomic_load_n(&re->used, __ATOMIC_ACQUIRE))
        return -EINVAL;
    if ((err = ring_attach(r, (char *)m->hdr + re->off, re->efd, side)) < 0)
        return err;
    (void)madvise((char *)m->hdr + re->off,
                  SHM_ALIGN(ring_shm_bytes(re->bytes)), MADV_DODUMP);
    if (idx >= SHM_AUX_RINGS
        && (idx - SHM_AUX_RINGS) % SHM_W_PER != SHM_W_OUT)
        ring_bell(r, &m->hdr->bell[(idx - SHM_AUX_RINGS) / SHM_W_PER].v);
    return 0;
}

struct stats_slot *shm_stats_base(struct shm *m)
{
    return (struct stats_slot *)((char *)m->hdr + m->hdr->stats_off);
}

struct stats_slot *shm_stats(struct shm *m, int proc, int thread)
{
    if (proc < 0 || proc >= SHM_MAX_PROCS || thread < 0
        || thread >= SHM_THREADS)
        return NULL;
    return shm_stats_base(m) + proc * SHM_THREADS + thread;
}

const char *shm_cfg_text(struct shm *m, size_t *len)
{
    uint32_t slot = __atomic_load_n(&m->hdr->cfg_slot, __ATOMIC_ACQUIRE);

    *len = m->hdr->cfg_len[slot & 1];
    return (const char *)m->hdr + m->hdr->cfg_off[slot & 1];
}

int shm_cfg_set(struct shm *m, const char *text, size_t len)
{
    uint32_t next = (m->hdr->cfg_slot + 1) & 1;

    if (len > SHM_CFG_MAX)
        return -EFBIG;
    memcpy((char *)m->hdr + m->hdr->cfg_off[next], text, len);
    m->hdr->cfg_len[next] = len;
    m->hdr->cfg_gen++;
    /* Release: a stage that sees the new slot sees its bytes. */
    __atomic_store_n(&m->hdr->cfg_slot, next, __ATOMIC_RELEASE);
    return 0;
}
