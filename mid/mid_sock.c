/*
 * SUMMARY
 *    mid_sock - the listening sockets
 * DESCRIPTION
 *    mid binds every "listen" line (it is the only stage that may need
 *    privileges for port 5060) and hands the sockets to netd by
 *    inheritance: they are created without close-on-exec and their
 *    numbers are written to the shared directory in config order. mid
 *    never reads them; keeping them open is what lets netd restart
 *    without losing a datagram the kernel already queued.
 * PROTOCOL
 *    None.
 * DIAGNOSTICS
 *    A socket that cannot be created or bound is fatal at start, naming
 *    the listen address and the reason. Socket options that fail only
 *    warn.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "mid.h"

static void mid_sock_opts(struct mid *m, int fd, const struct cfg_listen *l)
{
    int one = 1, tos = m->cfg.net_tos, buf = m->cfg.udp_maxbuffer;

    /* Not for UDP: there it would let a second proxy share the port. */
    if (l->proto == CFG_PROTO_TCP || l->proto == CFG_PROTO_TLS)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    /* mid may still be privileged here: FORCE passes net.core.rmem_max,
     * which caps plain SO_RCVBUF (212992 bytes on a stock kernel). */
    if (l->proto == CFG_PROTO_UDP && buf > 0
        && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0
        && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf)) < 0)
        log_warn("listen %s:%u: SO_RCVBUF %d: %s", l->host, l->port, buf,
                 strerror(errno));
    if (l->proto == CFG_PROTO_UDP && buf > 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
    if (tos > 0 && l->addr.ss_family == AF_INET
        && setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) < 0)
        log_warn("listen %s:%u: IP_TOS %d: %s", l->host, l->port, tos,
                 strerror(errno));
    if (tos > 0 && l->addr.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
    if (l->addr.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
}

static int mid_sock_open(struct mid *m, const struct cfg_listen *l)
{
    int type = l->proto == CFG_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
    int fd, err;

    fd = socket(l->addr.ss_family, type | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    mid_sock_opts(m, fd, l);
    if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) < 0)
        goto out;
    if (type == SOCK_STREAM && listen(fd, 1024) < 0)
        goto out;
    return fd;
out:
    err = -errno;
    close(fd);
    return err;
}

int mid_sock_open_all(struct mid *m)
{
    int i, fd;

    for (i = 0; i < m->cfg.nlisten; i++) {
        const struct cfg_listen *l = &m->cfg.listen[i];

        if ((fd = mid_sock_open(m, l)) < 0) {
            log_error("listen %s:%s:%u: %s", cfg_proto_name(l->proto),
                      l->host, l->port, strerror(-fd));
            return fd;
        }
        m->listen_fd[i] = fd;
        m->shm.hdr->listen_fd[i] = fd;
    }
    m->shm.hdr->nlisten = m->cfg.nlisten;
    return 0;
}

void mid_sock_close_all(struct mid *m)
{
    int i;

    for (i = 0; i < m->cfg.nlisten; i++)
        if (m->listen_fd[i] > 0)
            close(m->listen_fd[i]);
}
