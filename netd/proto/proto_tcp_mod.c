/*
 * SUMMARY
 *    proto_tcp_mod - plain TCP: the byte I/O of proto_tcp.so and the
 *    transport object netd looks up
 * DESCRIPTION
 *    proto_tcp.c and proto_tcp_out.c are the stream transport; they are
 *    linked into proto_tcp.so with this file and into proto_tls.so with
 *    proto_tls*.c. Here is what plain TCP does its own way: read(2) and
 *    send(2) on the socket, no handshake, nothing held back. The
 *    netd_proto object is here and not in proto_tcp.c so that the two
 *    libraries can share proto_tcp.c as it is.
 * PROTOCOL
 *    netd -> sipd[i]: MSG_T_SIP_IN, proto TCP (proto_tcp.c);
 *    sipd[i] -> netd: MSG_T_SIP_OUT, proto TCP.
 * DIAGNOSTICS
 *    None here: errors are errno for proto_tcp.c to log and count.
 */
#include <sys/socket.h>
#include <unistd.h>

#include "../netd_proto.h"
#include "proto_tcp.h"

static ssize_t proto_tcp_mod_read(struct netd_conn *c, char *buf,
                                  size_t len)
{
    return read(c->fd, buf, len);
}

static ssize_t proto_tcp_mod_write(struct netd_conn *c, const char *buf,
                                   size_t len)
{
    return send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* proto_tcp_mod_pending - the kernel holds what is unread: epoll says */
static size_t proto_tcp_mod_pending(struct netd_conn *c)
{
    (void)c;
    return 0;
}

static const struct proto_tcp_io proto_tcp_mod_io = {
    .proto = MSG_PROTO_TCP,
    .name = "tcp",
    .read = proto_tcp_mod_read,
    .write = proto_tcp_mod_write,
    .pending = proto_tcp_mod_pending,
};

static int proto_tcp_mod_init(struct netd *n)
{
    return proto_tcp_init_io(n, &proto_tcp_mod_io);
}

/* The transport interface netd looks up (netd_proto.h). */
const struct netd_proto netd_proto = {
    .version = NETD_PROTO_VERSION,
    .proto = MSG_PROTO_TCP,
    .name = "tcp",
    .init = proto_tcp_mod_init,
    .send = proto_tcp_send,
    .flush = proto_tcp_flush,
    .tick = proto_tcp_tick,
    .fini = proto_tcp_fini,
};
