/*
 * SUMMARY
 *    mid_fifo - the OpenSIPS 1.x-compatible FIFO management interface
 * DESCRIPTION
 *    Set up as Postfix's fifo_listen(): unlink, mkfifo, a non-blocking
 *    open, fstat to check it really is a FIFO, then fchmod to
 *    [mi] fifo_mode. mid also holds a write end open so the read end
 *    never sees end-of-file when a client closes.
 *
 *    A request is ":" CMD ":" REPLY_FIFO "\n" *(ARG "\n") "\n". The reply
 *    FIFO is the client's: it lives in the directory of the server FIFO
 *    (a name with "/" is refused) and is opened O_WRONLY|O_NONBLOCK|
 *    O_NOFOLLOW, and written only when fstat says it is a FIFO with one
 *    link (a hard link to a FIFO elsewhere is refused: its name in this
 *    directory says nothing about whose it is) and, unless fifo_mode
 *    lets others than the owner write requests, owned by the server
 *    FIFO's owner or root (FIFOs carry no credentials; when the group
 *    may write requests, its members' reply FIFOs are theirs). The
 *    client may not have opened it for reading yet, so the open is
 *    retried every MID_FIFO_RETRY_MS for MID_FIFO_WAIT_MS;
 *    a reply larger than the pipe buffer is written as the pipe drains,
 *    for at most MID_FIFO_WRITE_MS. Nothing here blocks the loop.
 *
 *    A client that opens its reply FIFO but never reads it must not
 *    cost mid a descriptor per request: at most MID_FIFO_PENDING_CLIENT
 *    replies wait per reply FIFO and MID_FIFO_PENDING_MAX in all; past
 *    either, the oldest is dropped (logged, rate-limited, with the
 *    count of replies dropped since start).
 *
 *    Framing: a request starts at a ":CMD:REPLY" line and ends at the
 *    first empty line, "\n\n" or "\n\r\n", whichever comes first. Any
 *    other line between requests is garbage and skipped alone, so it
 *    cannot swallow the request after it. A request that does not fit
 *    fifo_buf gets 400 and is skipped up to its empty line (its
 *    arguments are never parsed as requests); a longer garbage line is
 *    skipped up to its end.
 * PROTOCOL
 *    reply: CODE " " REASON "\n" *(NAME ":: " VALUE "\n") "\n"
 * DIAGNOSTICS
 *    A malformed request, a garbage line, an oversized request, a bad
 *    reply name or a client that never reads is logged (rate-limited)
 *    and dropped; mid goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mid.h"

#define MID_FIFO_RETRY_MS 10
#define MID_FIFO_WAIT_MS 3000
#define MID_FIFO_WRITE_MS 10000         /* an opened reply must drain */
#define MID_FIFO_PENDING_CLIENT 8       /* replies waiting per reply FIFO */
#define MID_FIFO_PENDING_MAX 64         /* and in all */
#define MID_FIFO_MAX_ARGS 16
#define MID_FIFO_SKIP_LINE 1            /* m->fifo_skip: to the next '\n' */
#define MID_FIFO_SKIP_REQ 2             /* to the next empty line */

struct mid_fifo_reply {
    struct mid *mid;
    char path[PATH_MAX];
    char *buf;
    size_t len;
    size_t off;
    int fd;
    int64_t deadline;
    struct ev_timer timer;
    struct ev_io io;
    struct mid_fifo_reply *next;
};

static void mid_fifo_reply_free(struct mid_fifo_reply *r)
{
    struct mid_fifo_reply **pp;

    for (pp = &r->mid->replies; *pp != NULL; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    ev_timer_stop(&r->mid->ev, &r->timer);
    if (r->fd >= 0) {
        ev_del(&r->mid->ev, &r->io);
        close(r->fd);
    }
    free(r->buf);
    free(r);
}

/* mid_fifo_reply_drop - give up on a reply that cannot be delivered */
static void mid_fifo_reply_drop(struct mid_fifo_reply *r, const char *why)
{
    struct mid *m = r->mid;

    m->fifo_drops++;
    log_warn_rl("fifo reply %s: %s: reply dropped (%llu since start)",
                r->path, why, (unsigned long long)m->fifo_drops);
    mid_fifo_reply_free(r);
}

/*
 * mid_fifo_reply_bound - make room for one more reply to path: drop the
 * oldest for path past MID_FIFO_PENDING_CLIENT, the oldest of all past
 * MID_FIFO_PENDING_MAX. The list is newest first.
 */
static void mid_fifo_reply_bound(struct mid *m, const char *path)
{
    struct mid_fifo_reply *q, *oldest, *oldest_same;
    int n, same;

    for (;;) {
        n = same = 0;
        oldest = oldest_same = NULL;
        for (q = m->replies; q != NULL; q = q->next) {
            n++;
            oldest = q;
            if (strcmp(q->path, path) == 0) {
                same++;
                oldest_same = q;
            }
        }
        if (same >= MID_FIFO_PENDING_CLIENT)
            mid_fifo_reply_drop(oldest_same, "client does not read");
        else if (n >= MID_FIFO_PENDING_MAX)
            mid_fifo_reply_drop(oldest, "too many replies pending");
        else
            return;
    }
}

static void mid_fifo_write_expired(struct ev *ev, struct ev_timer *t)
{
    (void)ev;
    mid_fifo_reply_drop(t->arg, "not read in time");
}

/* mid_fifo_reply_write - write what the pipe takes; 1 when done */
static int mid_fifo_reply_write(struct mid_fifo_reply *r)
{
    ssize_t n;

    while (r->off < r->len) {
        n = write(r->fd, r->buf + r->off, r->len - r->off);
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n <= 0) {
            log_warn_rl("fifo reply %s: write: %s", r->path,
                        strerror(errno));
            return 1;
        }
        r->off += (size_t)n;
    }
    return 1;
}

static void mid_fifo_on_writable(struct ev *ev, struct ev_io *io,
                                 uint32_t e)
{
    struct mid_fifo_reply *r = io->arg;

    (void)ev;
    if ((e & (EPOLLERR | EPOLLHUP)) || mid_fifo_reply_write(r))
        mid_fifo_reply_free(r);
}

/*
 * mid_fifo_reply_check - NULL when the opened reply fd may be written,
 * else why not. O_NOFOLLOW refused a symlink already; a plain file, a
 * device, a hard link to a FIFO outside the directory (st_nlink > 1)
 * or, with a server FIFO only its owner may write, a FIFO of another
 * user are refused here.
 */
static const char *mid_fifo_reply_check(struct mid *m, int fd,
                                        struct stat *st)
{
    if (fstat(fd, st) < 0)
        return strerror(errno);
    if (!S_ISFIFO(st->st_mode))
        return "not a FIFO";
    if (st->st_nlink != 1)
        return "a hard link (st_nlink > 1)";
    if ((m->cfg.fifo_mode & 022) == 0 && st->st_uid != m->fifo_uid
        && st->st_uid != 0)
        return "owned by another user";
    return NULL;
}

static void mid_fifo_try_open(struct ev *ev, struct ev_timer *t)
{
    struct mid_fifo_reply *r = t->arg;
    const char *why;
    struct stat st;

    r->fd = open(r->path, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (r->fd < 0) {
        if (errno == ENXIO && ev_now_ms() < r->deadline) {
            ev_timer_start(ev, t, MID_FIFO_RETRY_MS);
            return;
        }
        log_warn_rl("fifo reply %s: open: %s", r->path,
                    errno == ENXIO ? "nobody reads it" : strerror(errno));
        mid_fifo_reply_free(r);
        return;
    }
    if ((why = mid_fifo_reply_check(r->mid, r->fd, &st)) != NULL) {
        log_warn_rl("fifo reply %s: %s: refused", r->path, why);
        mid_fifo_reply_free(r);
        return;
    }
    if (mid_fifo_reply_write(r)) {
        mid_fifo_reply_free(r);
        return;
    }
    r->io.fd = r->fd;
    r->io.fn = mid_fifo_on_writable;
    r->io.arg = r;
    if (ev_add(ev, &r->io, EPOLLOUT) < 0) {
        mid_fifo_reply_free(r);
        return;
    }
    t->fn = mid_fifo_write_expired;
    ev_timer_start(ev, t, MID_FIFO_WRITE_MS);
}

/* mid_fifo_reply_path - reply FIFO beside the server FIFO, or -1 */
static int mid_fifo_reply_path(struct mid *m, const char *name, char *out,
                               size_t cap)
{
    char dir[PATH_MAX];
    int n;

    if (name[0] == 0 || strchr(name, '/') != NULL || strcmp(name, ".") == 0
        || strcmp(name, "..") == 0)
        return -1;
    snprintf(dir, sizeof(dir), "%s", m->cfg.fifo_name);
    n = snprintf(out, cap, "%s/%s", dirname(dir), name);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* mid_fifo_reply_send - queue reply mr for the client's FIFO name */
void mid_fifo_reply_send(struct mid *m, const char *name,
                         struct mid_mi_reply *mr)
{
    struct mid_fifo_reply *r = calloc(1, sizeof(*r));
    int n;

    if (r == NULL || mid_fifo_reply_path(m, name, r->path,
                                         sizeof(r->path)) < 0) {
        log_warn_rl("fifo: bad reply fifo name \"%.64s\"", name);
        free(r);
        return;
    }
    r->mid = m;
    r->fd = -1;
    r->buf = malloc(mr->len + sizeof(mr->reason) + 16);
    if (r->buf == NULL) {
        free(r);
        return;
    }
    n = sprintf(r->buf, "%d %s\n", mr->code, mr->reason);
    if (mr->len)
        memcpy(r->buf + n, mr->buf, mr->len);
    r->len = (size_t)n + mr->len;
    r->buf[r->len++] = '\n';
    r->deadline = ev_now_ms() + MID_FIFO_WAIT_MS;
    r->timer.fn = mid_fifo_try_open;
    r->timer.arg = r;
    mid_fifo_reply_bound(m, r->path);
    r->next = m->replies;
    m->replies = r;
    mid_fifo_try_open(&m->ev, &r->timer);
}

/*
 * mid_fifo_request - one whole request: lines[0] is ":CMD:REPLY", the
 * rest are arguments (the terminating empty line is not included).
 */
static void mid_fifo_request(struct mid *m, char **lines, int n)
{
    struct mid_mi_reply r;
    char *cmd = lines[0] + 1, *reply;

    if (lines[0][0] != ':' || (reply = strchr(cmd, ':')) == NULL) {
        log_warn_rl("fifo: malformed request line \"%.64s\"", lines[0]);
        return;
    }
    *reply++ = 0;
    memset(&r, 0, sizeof(r));
    if (n > MID_FIFO_MAX_ARGS + 1)
        mid_reply_status(&r, 400, "Too many arguments");
    else
        mid_mi_run(m, cmd, lines + 1, n - 1, &r);
    if (r.defer != 0)                   /* a stage answers (mid_relay.c) */
        mid_relay_bind(m, r.defer, reply, mid_fifo_reply_send);
    else if (reply[0] != 0)             /* no reply fifo: fire and forget */
        mid_fifo_reply_send(m, reply, &r);
    free(r.buf);
}

/* mid_fifo_split - split one whole request (NUL-terminated) in lines */
static int mid_fifo_split(char *req, char **lines, int max)
{
    char *p = req, *nl;
    int n = 0;

    while (*p != 0) {
        if ((nl = strchr(p, '\n')) != NULL)
            *nl = 0;
        if (nl > p && nl[-1] == '\r')
            nl[-1] = 0;
        if (n < max)
            lines[n] = p;
        n++;
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return n;
}

/*
 * mid_fifo_is_request - the line [p, nl) is ":" CMD ":" REPLY..., where
 * a request may start; any other line between requests is garbage.
 */
static int mid_fifo_is_request(const char *p, const char *nl)
{
    return nl - p >= 2 && p[0] == ':'
           && memchr(p + 1, ':', (size_t)(nl - p - 1)) != NULL;
}

/*
 * mid_fifo_end - the first empty line at or after p: the '\n' before
 * it, *len 2 ("\n\n") or 3 ("\n\r\n"); NULL when none is complete. The
 * earliest of either, so a CRLF request followed by an LF one stays two.
 */
static char *mid_fifo_end(char *p, char *end, size_t *len)
{
    char *nl;

    while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        if (nl + 1 < end && nl[1] == '\n') {
            *len = 2;
            return nl;
        }
        if (nl + 2 < end && nl[1] == '\r' && nl[2] == '\n') {
            *len = 3;
            return nl;
        }
        p = nl + 1;
    }
    return NULL;
}

/*
 * mid_fifo_skip - go on discarding what mid_fifo_overflow() started to:
 * the rest of a garbage line (to its '\n') or of a request (to its
 * empty line: its arguments are never taken for requests). Returns
 * where parsing resumes, or NULL while still skipping; then *keep is
 * where the bytes to keep start (an empty line may straddle two reads).
 */
static char *mid_fifo_skip(struct mid *m, char *p, char *end, char **keep)
{
    char *stop;
    size_t tl;

    if (m->fifo_skip == MID_FIFO_SKIP_LINE) {
        stop = memchr(p, '\n', (size_t)(end - p));
        *keep = end;
        tl = 1;
    } else {
        stop = mid_fifo_end(p, end, &tl);
        *keep = end - p > 2 ? end - 2 : p;
    }
    if (stop == NULL)
        return NULL;
    m->fifo_skip = 0;
    return stop + tl;
}

/*
 * mid_fifo_overflow - the buffer is full and holds no whole request. A
 * request line ending in it: the request is too long, its client gets
 * 400 and the rest of it is skipped up to its empty line. Else a line
 * longer than the buffer: a request's (it starts with ':') is skipped
 * like a request, anything else up to its end.
 */
static void mid_fifo_overflow(struct mid *m)
{
    char *p = m->fifo_buf, *nl = memchr(p, '\n', m->fifo_len), *name;
    char reply[NAME_MAX + 1];
    struct mid_mi_reply r;
    size_t len;

    log_warn_rl("fifo: request or line longer than %zu bytes: \"%.32s\": "
                "skipped to its end", sizeof(m->fifo_buf) - 1, p);
    m->fifo_skip = p[0] == ':' ? MID_FIFO_SKIP_REQ : MID_FIFO_SKIP_LINE;
    if (nl != NULL && mid_fifo_is_request(p, nl)) {
        name = (char *)memchr(p + 1, ':', (size_t)(nl - p - 1)) + 1;
        len = (size_t)(nl - name) - (nl[-1] == '\r');
        if (len > 0 && len < sizeof(reply)) {
            memcpy(reply, name, len);
            reply[len] = 0;
            memset(&r, 0, sizeof(r));
            mid_reply_status(&r, 400, "Request too long");
            mid_fifo_reply_send(m, reply, &r);
            free(r.buf);
        }
    }
    /* keep two bytes: the skip must see an empty line that straddles */
    len = m->fifo_skip == MID_FIFO_SKIP_REQ ? 2 : 0;
    memmove(m->fifo_buf, m->fifo_buf + m->fifo_len - len, len);
    m->fifo_len = len;
}

/*
 * mid_fifo_parse - run every complete request in the buffer. A request
 * starts at a ":CMD:REPLY" line and ends at an empty line; nothing is
 * touched until one is complete, so a request that arrives in pieces is
 * parsed once, whole. Lines that cannot start a request are skipped one
 * by one (logged), so garbage does not swallow the request after it.
 */
static void mid_fifo_parse(struct mid *m)
{
    char *lines[MID_FIFO_MAX_ARGS + 2];
    char *p = m->fifo_buf, *end = m->fifo_buf + m->fifo_len, *stop, *nl;
    size_t tl;
    int n;

    for (;;) {
        if (m->fifo_skip) {
            if ((stop = mid_fifo_skip(m, p, end, &nl)) == NULL) {
                p = nl;                 /* what to keep */
                break;
            }
            p = stop;
        }
        while (p < end && (*p == '\n' || *p == '\r'))
            p++;                        /* empty lines between requests */
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            break;
        if (!mid_fifo_is_request(p, nl)) {
            log_warn_rl("fifo: not a request line, skipped: \"%.*s\"",
                        (int)(nl - p < 64 ? nl - p : 64), p);
            p = nl + 1;
            continue;
        }
        if ((stop = mid_fifo_end(p, end, &tl)) == NULL)
            break;
        *stop = 0;
        n = mid_fifo_split(p, lines, MID_FIFO_MAX_ARGS + 2);
        if (n > 0)
            mid_fifo_request(m, lines, n);
        p = stop + tl;
    }
    m->fifo_len = (size_t)(end - p);
    memmove(m->fifo_buf, p, m->fifo_len);
    if (m->fifo_len >= sizeof(m->fifo_buf) - 1)
        mid_fifo_overflow(m);
}

static void mid_fifo_on_read(struct ev *ev, struct ev_io *io, uint32_t e)
{
    struct mid *m = io->arg;
    ssize_t n;

    (void)ev;
    (void)e;
    for (;;) {
        n = read(m->fifo_fd, m->fifo_buf + m->fifo_len,
                 sizeof(m->fifo_buf) - 1 - m->fifo_len);
        if (n <= 0)
            break;
        m->fifo_len += (size_t)n;
        mid_fifo_parse(m);
    }
}

int mid_fifo_open(struct mid *m)
{
    const char *path = m->cfg.fifo_name;
    struct stat st;
    int err;

    if (path[0] == 0)
        return 0;
    if (unlink(path) < 0 && errno != ENOENT)
        return -errno;
    if (mkfifo(path, 0600) < 0)
        return -errno;
    m->fifo_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (m->fifo_fd < 0)
        return -errno;
    if (fstat(m->fifo_fd, &st) < 0 || !S_ISFIFO(st.st_mode))
        return -EINVAL;
    m->fifo_uid = st.st_uid;            /* reply FIFOs are checked against */
    if (fchmod(m->fifo_fd, (mode_t)m->cfg.fifo_mode) < 0)
        return -errno;
    m->fifo_wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (m->fifo_wfd < 0)
        return -errno;
    m->fifo_io.fd = m->fifo_fd;
    m->fifo_io.fn = mid_fifo_on_read;
    m->fifo_io.arg = m;
    if ((err = ev_add(&m->ev, &m->fifo_io, EPOLLIN)) < 0)
        return err;
    return 0;
}

void mid_fifo_close(struct mid *m)
{
    mid_relay_close(m);
    while (m->replies != NULL)
        mid_fifo_reply_free(m->replies);
    if (m->cfg.fifo_name[0] == 0)
        return;
    if (m->fifo_fd > 0)
        close(m->fifo_fd);
    if (m->fifo_wfd > 0)
        close(m->fifo_wfd);
    unlink(m->cfg.fifo_name);
}
