/*
 * SUMMARY
 *    mid_files - the files a stage reads at its start, seen by reload
 * DESCRIPTION
 *    Some settings live in files the config only names. netd reads
 *    [tls] certificate, private_key and ca_list when it starts
 *    (proto_tls_ctx.c); dnsd's c-ares reads /etc/resolv.conf when
 *    [dns] servers is empty. A renewed certificate keeps its path, so
 *    the config text does not change, yet "systemctl reload" after a
 *    renewal must put it in place, as it did when every reload restarted
 *    every stage. So mid notes each such file's identity when it forks
 *    the stage that reads it (mid_files_note), and a reload compares
 *    (mid_files_changed): a file whose path is the same in both configs
 *    but whose contents may differ restarts that stage. A path that
 *    changed is a changed key already (cfg_diff), and restarts the stage
 *    through the key table.
 *
 *    A file's identity is what one stat() tells (mid_file_id): device,
 *    inode, size and mtime, or the errno when it cannot be seen. An
 *    installer that renames a new file into place changes the inode; one
 *    that rewrites it changes the mtime. mid reads no file's contents
 *    (it never reads a key). mid_probe.c uses the same identity for the
 *    stage binaries.
 * PROTOCOL
 *    None.
 * DIAGNOSTICS
 *    None: a file that cannot be seen has an identity too (its errno), so
 *    one that appears or goes counts as changed; the stage that reads it
 *    says what is wrong with it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "mid.h"

/* The files, in the order of m->files[] (MID_FILES_N) */
static const struct {
    const char *name;                   /* for Changed:: and the log */
    int stage;                          /* STAGE_* that reads it */
    unsigned bit;                       /* and its CFG_S_* bit */
} mid_files[MID_FILES_N] = {
    {"[tls] certificate file", STAGE_NETD, CFG_S_NETD},
    {"[tls] private_key file", STAGE_NETD, CFG_S_NETD},
    {"[tls] ca_list file", STAGE_NETD, CFG_S_NETD},
    {"/etc/resolv.conf", STAGE_DNSD, CFG_S_DNSD},
};

/* mid_files_path - file i's path under config c; "" when not read */
static const char *mid_files_path(const struct cfg *c, int i)
{
    int k, tls = 0;

    for (k = 0; k < c->nlisten; k++)
        tls |= c->listen[k].proto == CFG_PROTO_TLS;
    switch (i) {
    case 0:
        return tls ? c->tls_certificate : "";
    case 1:
        return tls ? c->tls_private_key : "";
    case 2:
        return tls ? c->tls_ca_list : "";
    default:
        return c->ndns_servers == 0 ? "/etc/resolv.conf" : "";
    }
}

void mid_file_id(const char *path, struct mid_file_id *id)
{
    struct stat st;

    memset(id, 0, sizeof(*id));
    id->known = 1;
    if (stat(path, &st) < 0) {
        id->err = errno;
        return;
    }
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    id->size = st.st_size;
    id->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000
                   + st.st_mtim.tv_nsec;
}

int mid_file_same(const struct mid_file_id *a, const struct mid_file_id *b)
{
    return a->known && b->known && a->err == b->err && a->dev == b->dev
           && a->ino == b->ino && a->size == b->size
           && a->mtime_ns == b->mtime_ns;
}

void mid_files_note(struct mid *m, int stage)
{
    const char *path;
    int i;

    for (i = 0; i < MID_FILES_N; i++) {
        if (mid_files[i].stage != stage)
            continue;
        path = mid_files_path(&m->cfg, i);
        if (path[0] == '\0')
            m->files[i].known = 0;
        else
            mid_file_id(path, &m->files[i]);
    }
}

unsigned mid_files_changed(struct mid *m, const struct cfg *nc, char *buf,
                           size_t cap)
{
    struct mid_file_id now;
    size_t off = strlen(buf);
    unsigned stages = 0;
    const char *path;
    int i;

    for (i = 0; i < MID_FILES_N; i++) {
        path = mid_files_path(nc, i);
        if (path[0] == '\0' || !m->files[i].known
            || strcmp(path, mid_files_path(&m->cfg, i)) != 0)
            continue;
        mid_file_id(path, &now);
        if (mid_file_same(&now, &m->files[i]))
            continue;
        stages |= mid_files[i].bit;
        if (off < cap)
            off += (size_t)snprintf(buf + off, cap - off, "%s%s",
                                    off ? ", " : "", mid_files[i].name);
    }
    return stages;
}
