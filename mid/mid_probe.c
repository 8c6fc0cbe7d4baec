/*
 * SUMMARY
 *    mid_probe - ask a stage binary on disk for its layout before
 *    starting it
 * DESCRIPTION
 *    A planned restart (MI stage_restart, reload's rolling restart)
 *    stops the running instance and starts the binary that is on disk
 *    now, which may be a rebuild (a live upgrade). A build whose segment
 *    layout (SHM_LAYOUT) differs from mid's would refuse to attach and
 *    crash-loop while the old instance is already gone. So mid first
 *    runs "BIN --layout" (srv.c answers it before anything else) with a
 *    bounded wait, and refuses the restart when the answer is missing
 *    or differs: the old instance keeps running (mid_probe).
 *
 *    A start mid did not plan (the first start, a crash restart,
 *    instances added by stage_scale) asks too, so that a binary replaced
 *    on disk by an incompatible build does not crash-loop through the
 *    back-off: the caller leaves that stage down (mid_probe_start). To
 *    keep a crash restart as quick as before, the binary is asked only
 *    when it is not the one last seen to fit: mid keeps, per stage, the
 *    device, inode, size and mtime of the binary of its last successful
 *    probe (mid_file_id, mid_files.c), and a restart of the same file
 *    costs one stat(). An installer that renames a new file in place
 *    gets a new inode; one that rewrites the file gets a new mtime.
 *
 *    The wait blocks mid's loop for at most MID_PROBE_MS; a stage
 *    binary answers in a few milliseconds (a fork, an exec, the dynamic
 *    linker, one line). The child is reaped here, so mid_spawn_reap()
 *    never sees it.
 * PROTOCOL
 *    The child's stdout: "layout 0xHEX build ID\n".
 * DIAGNOSTICS
 *    mid_probe() logs nothing: the caller reports why[] (MI 409, a
 *    refused reload's warning, the error of a stage left down).
 *    mid_probe_start() warns when a binary does not answer (it is
 *    started as it is, and fails or not as it would have before).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build.h"
#include "log.h"
#include "mid.h"

/* mid_probe_exec - child side: only async-signal-safe calls until exec */
static void mid_probe_exec(const char *path, int out)
{
    char *argv[3];

    argv[0] = (char *)path;
    argv[1] = "--layout";
    argv[2] = NULL;
    ev_signals_unblock();
    signal(SIGPIPE, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (dup2(out, STDOUT_FILENO) < 0)
        _exit(127);
    execv(path, argv);
    _exit(127);
}

/* mid_probe_read - the child's answer into buf, waiting until deadline */
static void mid_probe_read(int fd, char *buf, size_t cap, int64_t deadline)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    size_t len = 0;
    ssize_t n;
    int64_t left;

    buf[0] = 0;
    while (len + 1 < cap && (left = deadline - ev_now_ms()) > 0) {
        if (poll(&pfd, 1, (int)left) <= 0)
            break;
        if ((n = read(fd, buf + len, cap - 1 - len)) <= 0)
            break;                      /* EOF: the child is done */
        len += (size_t)n;
        buf[len] = 0;
        if (memchr(buf, '\n', len) != NULL)
            break;
    }
}

/* mid_probe_run - "path --layout" into buf (empty: no answer in time) */
static int mid_probe_run(const char *path, char *buf, size_t cap)
{
    int fds[2], status;
    int64_t deadline;
    pid_t pid, r;

    if (access(path, X_OK) < 0)
        return -errno;
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    if ((pid = fork()) < 0) {
        close(fds[0]);
        close(fds[1]);
        return -errno;
    }
    if (pid == 0)
        mid_probe_exec(path, fds[1]);
    close(fds[1]);
    deadline = ev_now_ms() + MID_PROBE_MS;
    mid_probe_read(fds[0], buf, cap, deadline);
    close(fds[0]);
    /* It exits by itself once it has answered: let it (a SIGKILL in the
     * middle of its exit could orphan a sanitizer's helper task); kill
     * only one that is late. */
    while ((r = waitpid(pid, &status, WNOHANG)) == 0
           && ev_now_ms() < deadline)
        usleep(1000);
    if (r == 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    return 0;
}

static void mid_probe_path(struct mid *m, int stage, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", m->bin_dir, shm_stage_name(stage));
}

int mid_probe(struct mid *m, int stage, char *why, size_t whylen)
{
    char path[PATH_MAX + 16], out[256], bid[BUILD_ID_MAX];
    const char *name = shm_stage_name(stage);
    struct mid_file_id id;
    unsigned long long layout;
    int err;

    mid_probe_path(m, stage, path, sizeof(path));
    mid_file_id(path, &id);             /* before it runs: a file
                                         * replaced meanwhile differs */
    if ((err = mid_probe_run(path, out, sizeof(out))) < 0) {
        snprintf(why, whylen, "%s binary %.200s: %s", name, path,
                 strerror(-err));
        return -ENOEXEC;
    }
    if (sscanf(out, "layout %llx build %63s", &layout, bid) != 2) {
        snprintf(why, whylen, "%s binary did not tell its layout within "
                 "%d ms", name, MID_PROBE_MS);
        return -ENOEXEC;
    }
    if (layout != m->shm.hdr->layout) {
        snprintf(why, whylen, "%s binary layout %#llx does not match the "
                 "running segment %#llx: full restart needed", name, layout,
                 (unsigned long long)m->shm.hdr->layout);
        return -EPROTO;
    }
    m->probed[stage] = id;
    log_debug("%s binary: layout %#llx, build %s", name, layout, bid);
    return 0;
}

int mid_probe_start(struct mid *m, int stage, char *why, size_t whylen)
{
    char path[PATH_MAX + 16];
    struct mid_file_id id;
    int err;

    mid_probe_path(m, stage, path, sizeof(path));
    mid_file_id(path, &id);
    if (id.err != 0)
        return 0;                       /* the exec fails and says so */
    if (mid_file_same(&id, &m->probed[stage]))
        return 0;                       /* the file that fitted: no fork */
    if ((err = mid_probe(m, stage, why, whylen)) != -ENOEXEC)
        return err;
    /* Silent or not executable: start it as before (it attaches, or
     * fails and backs off); remember it so as not to wait again. */
    log_warn("%s: %s: starting it as it is", shm_stage_name(stage), why);
    m->probed[stage] = id;
    return 0;
}
