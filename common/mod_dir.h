#ifndef MOD_DIR_H
#define MOD_DIR_H
/*
 * SUMMARY
 *    mod_dir - where the loadable modules of a daemon are
 * DESCRIPTION
 *    netd loads its transports (proto_NAME.so) and dbd its database
 *    backend (db_NAME.so) from [modules] path: an absolute path is used
 *    as it is; the default "build/lib" means "the lib directory beside
 *    this binary's bin" (EXE_DIR/../lib), so build/bin/netd loads
 *    build/lib and a sanitizer build loads its own build-SAN/lib,
 *    whatever the working directory; any other relative path is taken
 *    relative to the top of the tree the binary runs from
 *    (EXE_DIR/../..).
 * DIAGNOSTICS
 *    -ENAMETOOLONG when the result does not fit.
 */
#include <stddef.h>

#define MOD_DIR_DEFAULT "build/lib"

/*
 * mod_dir - the directory for [modules] path mod_path and the binary at
 *    exe (/proc/self/exe) into out[cap]. 0 or -ENAMETOOLONG.
 */
extern int mod_dir(const char *mod_path, const char *exe, char *out,
                   size_t cap);

#endif
