/*
 * SUMMARY
 *    build - which build of sipstage this binary is
 * DESCRIPTION
 *    See build.h. SIPSTAGE_BUILD_ID comes from build_id.h, which the
 *    Makefile rewrites only when the id changes, so that an unchanged
 *    tree does not relink.
 * PROTOCOL
 *    None.
 * DIAGNOSTICS
 *    None.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "build.h"
#include "build_id.h"
#include "shm.h"

/* Marker and id in one object: patching the id keeps the marker. */
static const char build_field[sizeof(BUILD_MARK) - 1 + BUILD_ID_MAX] =
    BUILD_MARK SIPSTAGE_BUILD_ID;

_Static_assert(sizeof(SIPSTAGE_BUILD_ID) <= BUILD_ID_MAX,
               "BUILD_ID too long");

const char *build_id(void)
{
    /* Read through a volatile pointer: the bytes may have been stamped
     * in the binary after the compiler saw them. */
    const char *volatile p = build_field + sizeof(BUILD_MARK) - 1;

    return p;
}

void build_layout_answer(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "--layout") != 0)
        return;
    printf("layout %#llx build %s\n", (unsigned long long)SHM_LAYOUT,
           build_id());
    _exit(fflush(stdout) == 0 ? 0 : 1);
}
