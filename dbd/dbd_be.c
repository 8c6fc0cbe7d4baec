/*
 * SUMMARY
 *      dbd_be - load the backend module the [db] url scheme names
 * DESCRIPTION
 *      The backends are shared libraries, build/lib/db_postgres.so and
 *      build/lib/db_mysql.so (sources in dbd/db/), each linked with its
 *      own client library. dbd dlopens (RTLD_NOW: an unresolved symbol
 *      fails here, not under traffic) only the one its URLs' scheme
 *      names (mid refuses a config whose URLs mix schemes), so a
 *      PostgreSQL proxy never maps libmariadb. The module exports one
 *      struct db_backend under DB_BACKEND_SYM (common/db.h), whose
 *      version and name are checked.
 *
 *      The directory is [modules] path, read as netd reads it for the
 *      transports (common/mod_dir.c).
 * PROTOCOL
 *      None.
 * DIAGNOSTICS
 *      A module that is missing, does not load, lacks the symbol or has
 *      another version or name is logged with its path and dlerror(),
 *      and init fails: dbd exits non-zero and mid restarts it with
 *      back-off.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "dbd.h"
#include "log.h"

int dbd_be_load(const char *dir, int scheme, const struct db_backend **be,
                void **dl)
{
    const char *name = db_scheme_name(scheme);
    const struct db_backend *b;
    char path[PATH_MAX + 32];
    void *h;

    snprintf(path, sizeof(path), "%.*s/db_%s.so", PATH_MAX - 1, dir, name);
    if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
        log_error("backend %s: cannot load %s: %s", name, path, dlerror());
        return -ENOENT;
    }
    b = dlsym(h, DB_BACKEND_SYM);
    if (b == NULL || b->version != DB_BACKEND_V1 || b->name == NULL
        || strcmp(b->name, name) != 0 || b->open == NULL
        || b->connect_cont == NULL || b->fd == NULL
        || b->query_start == NULL || b->query_cont == NULL
        || b->nrows == NULL || b->ncols == NULL || b->get == NULL
        || b->close == NULL) {
        log_error("backend %s: %s: %s", name, path,
                  b == NULL ? "no \"" DB_BACKEND_SYM "\" symbol (not a "
                              "database backend)"
                            : "backend interface version, name or "
                              "functions do not match");
        dlclose(h);
        return -EINVAL;
    }
    *be = b;
    *dl = h;
    log_info("backend %s: loaded %s", name, path);
    return 0;
}
