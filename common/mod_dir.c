/*
 * SUMMARY
 *    mod_dir - where the loadable modules of a daemon are
 * DESCRIPTION
 *    See mod_dir.h. Moved here from netd_proto.c when dbd came to load
 *    its backends the same way.
 * DIAGNOSTICS
 *    Return values only.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "mod_dir.h"

int mod_dir(const char *mod_path, const char *exe, char *out, size_t cap)
{
    char bin[PATH_MAX];
    const char *slash;
    size_t blen;
    int r;

    if (mod_path[0] == '/') {
        r = snprintf(out, cap, "%s", mod_path);
        return r < 0 || (size_t)r >= cap ? -ENAMETOOLONG : 0;
    }
    slash = strrchr(exe, '/');
    blen = slash == NULL ? 0 : (size_t)(slash - exe);
    if (blen >= sizeof(bin))
        return -ENAMETOOLONG;
    if (slash == NULL)
        snprintf(bin, sizeof(bin), ".");
    else
        snprintf(bin, sizeof(bin), "%.*s", (int)blen, exe);
    if (strcmp(mod_path, MOD_DIR_DEFAULT) == 0)
        r = snprintf(out, cap, "%s/../lib", bin);
    else
        r = snprintf(out, cap, "%s/../../%s", bin, mod_path);
    return r < 0 || (size_t)r >= cap ? -ENAMETOOLONG : 0;
}
