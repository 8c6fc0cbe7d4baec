/*
 * SUMMARY
 *      netd_proto - load the transport libraries the listen lines need
 * DESCRIPTION
 *      For each transport named by at least one [net] listen line, and
 *      only for those, netd dlopens DIR/proto_NAME.so (RTLD_NOW: an
 *      unresolved symbol fails here, not in the middle of traffic),
 *      looks up the struct netd_proto it exports (netd_proto.h), checks
 *      its version and transport number and calls its init. A UDP-only
 *      config never maps proto_tcp.so.
 *
 *      DIR is [modules] path. An absolute path is used as it is. The
 *      default, "build/lib", means "the lib directory beside this netd's
 *      bin directory" (BIN/../lib), so build/bin/netd loads build/lib and
 *      a sanitizer build's netd loads its own build-SAN/lib, whatever the
 *      working directory. Any other relative path is taken relative to
 *      the top of the tree netd runs from (BIN/../..).
 * PROTOCOL
 *      None.
 * DIAGNOSTICS
 *      A library that is missing, fails to load, lacks the symbol, or
 *      has another version is logged with the path and dlerror() and
 *      netd exits non-zero (mid restarts it with back-off).
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mod_dir.h"
#include "netd.h"
#include "netd_proto.h"

/*
 * netd_proto_dir - the directory transports are loaded from, for
 *      [modules] path mod_path and the netd binary at exe (mod_dir.h).
 *      0, or -ENAMETOOLONG.
 */
int netd_proto_dir(const char *mod_path, const char *exe, char *out,
                   size_t cap)
{
    return mod_dir(mod_path, exe, out, cap);
}

/* netd_proto_load - dlopen one transport and check it; 0 or -errno */
static int netd_proto_load(struct netd *n, const char *dir, int proto)
{
    const char *name = cfg_proto_name(proto);
    const struct netd_proto *p;
    char path[PATH_MAX + 32];
    void *dl;

    snprintf(path, sizeof(path), "%.*s/proto_%s.so", PATH_MAX - 1, dir,
             name);
    if ((dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
        log_error("transport %s: cannot load %s: %s", name, path,
                  dlerror());
        return -ENOENT;
    }
    p = dlsym(dl, NETD_PROTO_SYMBOL);
    if (p == NULL || p->version != NETD_PROTO_VERSION
        || p->proto != (uint32_t)proto || p->init == NULL
        || p->send == NULL || p->flush == NULL) {
        log_error("transport %s: %s: %s", name, path,
                  p == NULL ? "no \"" NETD_PROTO_SYMBOL "\" symbol "
                              "(not a transport library)"
                            : "transport interface version or "
                              "transport mismatch");
        dlclose(dl);
        return -EINVAL;
    }
    n->proto[proto] = p;
    n->proto_dl[proto] = dl;
    log_info("transport %s: loaded %s", name, path);
    return 0;
}

int netd_proto_load_all(struct netd *n)
{
    char exe[PATH_MAX], dir[PATH_MAX];
    ssize_t len;
    int need[NETD_PROTO_N] = {0};
    int i, err;

    for (i = 0; i < n->nsocks; i++)
        if (n->socks[i].proto > 0 && n->socks[i].proto < NETD_PROTO_N)
            need[n->socks[i].proto] = 1;
    if ((len = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0) {
        log_error("/proc/self/exe: %s", strerror(errno));
        return -errno;
    }
    exe[len] = '\0';
    if ((err = netd_proto_dir(n->srv->cfg.mod_path, exe, dir,
                              sizeof(dir))) < 0) {
        log_error("[modules] path %s: %s", n->srv->cfg.mod_path,
                  strerror(-err));
        return err;
    }
    for (i = 1; i < NETD_PROTO_N; i++) {
        if (!need[i])
            continue;
        if ((err = netd_proto_load(n, dir, i)) < 0)
            return err;
        if ((err = n->proto[i]->init(n)) < 0) {
            log_error("transport %s: init: %s", n->proto[i]->name,
                      strerror(-err));
            return err;
        }
    }
    return 0;
}

void netd_proto_unload_all(struct netd *n)
{
    int i;

    for (i = 0; i < NETD_PROTO_N; i++) {
        if (n->proto[i] != NULL && n->proto[i]->fini != NULL)
            n->proto[i]->fini(n);
        n->proto[i] = NULL;
        if (n->proto_dl[i] != NULL)
            dlclose(n->proto_dl[i]);
        n->proto_dl[i] = NULL;
    }
}

int netd_socks_watch(struct netd *n, int proto, ev_io_fn fn)
{
    int i, err;

    for (i = 0; i < n->nsocks; i++) {
        struct netd_sock *sk = &n->socks[i];

        if (sk->proto != proto)
            continue;
        sk->io.fd = sk->fd;
        sk->io.fn = fn;
        sk->io.arg = sk;
        if ((err = ev_add(&n->srv->ev, &sk->io, EPOLLIN)) < 0) {
            log_error("listen %d (fd %d): epoll: %s", i, sk->fd,
                      strerror(-err));
            return err;
        }
    }
    return 0;
}
