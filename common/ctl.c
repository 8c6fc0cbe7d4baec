/*
 * SUMMARY
 *    ctl - nanomsg wrapper for the control plane
 * DESCRIPTION
 *    The only module that includes nanomsg headers. See ctl.h for the
 *    channels and messages. Sockets are used without blocking; the loop
 *    polls NN_RCVFD (readable while a message waits) and drains it.
 * PROTOCOL
 *    See ctl.h.
 * DIAGNOSTICS
 *    Errors are returned as -errno; callers log them with the socket's
 *    name.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <nanomsg/nn.h>
#include <nanomsg/pipeline.h>
#include <nanomsg/pubsub.h>

#include "ctl.h"

static const int ctl_sndtimeo = 2000;   /* ms */

static int ctl_addr(char *buf, size_t cap, const char *run_dir,
                    const char *name)
{
    int n = snprintf(buf, cap, "ipc://%s/%s", run_dir, name);

    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int ctl_open(const char *run_dir, const char *name, int proto,
                    int bind)
{
    char addr[300];
    int s, err;

    if ((err = ctl_addr(addr, sizeof(addr), run_dir, name)) < 0)
        return err;
    if ((s = nn_socket(AF_SP, proto)) < 0)
        return -nn_errno();
    if (proto == NN_SUB
        && nn_setsockopt(s, NN_SUB, NN_SUB_SUBSCRIBE, "", 0) < 0)
        goto out;
    /* A PUSH connects asynchronously: the first "ready" may have to
     * wait for the connection. Bounded, so a dead mid never hangs us. */
    if (proto == NN_PUSH
        && nn_setsockopt(s, NN_SOL_SOCKET, NN_SNDTIMEO, &ctl_sndtimeo,
                         sizeof(ctl_sndtimeo)) < 0)
        goto out;
    if ((bind ? nn_bind(s, addr) : nn_connect(s, addr)) < 0)
        goto out;
    return s;
out:
    err = -nn_errno();
    nn_close(s);
    return err;
}

/* ctl_listen - bind name under run_dir with protocol proto */
static int ctl_listen(const char *run_dir, const char *name, int proto)
{
    char path[300];

    /* A stale socket file from a crashed run makes bind fail. */
    snprintf(path, sizeof(path), "%s/%s", run_dir, name);
    unlink(path);
    return ctl_open(run_dir, name, proto, 1);
}

int ctl_listen_pub(const char *run_dir)
{
    return ctl_listen(run_dir, CTL_PUB, NN_PUB);
}

int ctl_listen_pull(const char *run_dir)
{
    return ctl_listen(run_dir, CTL_PULL, NN_PULL);
}

int ctl_dial_sub(const char *run_dir)
{
    return ctl_open(run_dir, CTL_PUB, NN_SUB, 0);
}

int ctl_dial_push(const char *run_dir)
{
    return ctl_open(run_dir, CTL_PULL, NN_PUSH, 0);
}

int ctl_rcvfd(int s)
{
    int fd;
    size_t sz = sizeof(fd);

    if (nn_getsockopt(s, NN_SOL_SOCKET, NN_RCVFD, &fd, &sz) < 0)
        return -nn_errno();
    return fd;
}

int ctl_send(int s, const char *fmt, ...)
{
    char buf[CTL_MSG_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return -EMSGSIZE;
    /* PUB never blocks; PUSH waits at most NN_SNDTIMEO. */
    if (nn_send(s, buf, (size_t)n, 0) < 0)
        return -nn_errno();
    return 0;
}

int ctl_recv(int s, char *buf, size_t cap)
{
    int n = nn_recv(s, buf, cap - 1, NN_DONTWAIT);

    if (n < 0)
        return -nn_errno();
    if ((size_t)n > cap - 1)
        n = (int)cap - 1;               /* truncated by nanomsg */
    buf[n] = 0;
    return n;
}

void ctl_close(int s)
{
    if (s >= 0)
        nn_close(s);
}

void ctl_unlink(const char *run_dir)
{
    char path[300];

    snprintf(path, sizeof(path), "%s/%s", run_dir, CTL_PUB);
    unlink(path);
    snprintf(path, sizeof(path), "%s/%s", run_dir, CTL_PULL);
    unlink(path);
}
