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

static uint64_t shm_ring_bytes_of(int kind)
{
    return kind == SHM_R_NETD_SIPD || kind == SHM_R_SIPD_NETD
               ? SHM_RING_SIP_BYTES
               : SHM_RING_DNS_BYTES;
}

static void shm_ring_name(char *buf, size_t cap, int sipd, int kind)
{
    switch (kind) {
    case SHM_R_NETD_SIPD:
        snprintf(buf, cap, "netd>sipd.%d", sipd);
        break;
    case SHM_R_SIPD_NETD:
        snprintf(buf, cap, "sipd.%d>netd", sipd);
        break;
    case SHM_R_SIPD_DNSD:
        snprintf(buf, cap, "sipd.%d>dnsd", sipd);
        break;
    case SHM_R_SIPD_DBD:
        snprintf(buf, cap, "sipd.%d>dbd", sipd);
        break;
    case SHM_R_DBD_SIPD:
        snprintf(buf, cap, "dbd>sipd.%d", sipd);
        break;
    default:
        snprintf(buf, cap, "dnsd>sipd.%d", sipd);
        break;
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
        int kind = i % SHM_R_PER_SIPD;

        shm_ring_name(h->rings[i].name, sizeof(h->rings[i].name),
                      i / SHM_R_PER_SIPD, kind);
        h->rings[i].bytes = shm_ring_bytes_of(kind);
        h->rings[i].off = off;
        h->rings[i].efd = -1;
        off = SHM_ALIGN(off + ring_shm_bytes(h->rings[i].bytes));
    }
    return off;
}

static int shm_rings_format(struct shm *m)
{
    struct shm_hdr *h = m->hdr;
    int i, err;

    for (i = 0; i < SHM_MAX_RINGS; i++) {
        struct shm_ring_ent *re = &h->rings[i];

        if ((err = ring_format((char *)h + re->off, re->bytes, re->name)) < 0)
            return err;
        if ((re->efd = eventfd(0, EFD_NONBLOCK)) < 0)
            return -errno;
        re->used = 1;
    }
    return 0;
}

int shm_create(struct shm *m, const struct cfg *c, const char *text,
               size_t text_len)
{
    struct shm_hdr tmp;
    uint64_t size;
    void *p;
    int err;

    memset(m, 0, sizeof(*m));
    memset(&tmp, 0, sizeof(tmp));
    size = shm_layout(&tmp, text_len);
    if ((m->fd = memfd_create("sipstage", 0)) < 0)
        return -errno;
    if (ftruncate(m->fd, (off_t)size) < 0)
        goto out;
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
    if (p == MAP_FAILED)
        goto out;
    m->hdr = p;
    m->size = size;
    memcpy(m->hdr, &tmp, sizeof(tmp));
    m->hdr->magic = SHM_MAGIC;
    m->hdr->version = SHM_VERSION;
    m->hdr->layout = SHM_LAYOUT;
    m->hdr->size = size;
    m->hdr->log_level = c->debug;
    m->hdr->nsipd = c->stages_sipd;
    if (text_len > SHM_CFG_MAX) {
        shm_destroy(m);
        return -EFBIG;
    }
    memcpy((char *)p + m->hdr->cfg_off[0], text, text_len);
    if ((err = shm_rings_format(m)) < 0) {
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
    struct shm_hdr h;
    struct stat st;
    void *p;

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
    return 0;
}

void shm_destroy(struct shm *m)
{
    int i;

    if (m->hdr != NULL) {
        for (i = 0; i < SHM_MAX_RINGS; i++)
            if (m->hdr->rings[i].efd >= 0 && m->hdr->rings[i].used)
                close(m->hdr->rings[i].efd);
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

    if (idx < 0 || idx >= SHM_MAX_RINGS)
        return -EINVAL;
    re = &m->hdr->rings[idx];
    return ring_attach(r, (char *)m->hdr + re->off, re->efd, side);
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
