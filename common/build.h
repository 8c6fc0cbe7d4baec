#ifndef BUILD_H
#define BUILD_H
/*
 * SUMMARY
 *    build - which build of sipstage this binary is
 * DESCRIPTION
 *    The build id is made by the Makefile (BUILD_ID, default "git
 *    describe --always --dirty", else "unknown") into a generated
 *    header, and shown by MI "ps" (each stage's, from its "ready"
 *    report) and "version", and printed by "BIN --layout" with the
 *    segment layout that binary expects (srv.c, mid.c), so an operator
 *    sees which build each process runs during a live upgrade.
 *
 *    The id sits in a fixed BUILD_ID_MAX-byte field after the marker
 *    BUILD_MARK, so a test can stamp another id into a copy of a binary
 *    without rebuilding it (t/085-upgrade.t).
 */
#define BUILD_MARK "sipstage-build-id:"
#define BUILD_ID_MAX 64                 /* with the NUL */

/* build_id - this binary's build id, never NULL */
extern const char *build_id(void);

/*
 * build_layout_answer - "BIN --layout" (argv exactly that): print the
 * segment layout this build expects and its build id, "layout 0xHEX
 * build ID\n", and _exit at once, before touching anything and without
 * exit handlers (a sanitizer's leak check would outlive mid's wait).
 * mid asks a binary on disk this before it stops the running instance
 * (mid_probe.c). Returns (does nothing) for any other argv.
 */
extern void build_layout_answer(int argc, char **argv);

#endif
