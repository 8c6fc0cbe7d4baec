/*
 * SUMMARY
 *    mid_conf - config loading, process limits, daemon mode, pid files
 * DESCRIPTION
 *    mid reads the config file once into memory, parses that text, and
 *    keeps it: the same bytes are copied into the shared segment for the
 *    stages, so a stage restarted an hour later parses exactly what mid
 *    validated, not whatever the file holds by then.
 *
 *    The pid file is also mid's instance lock (Postfix's and nginx's
 *    way): mid opens it without truncating and takes flock(LOCK_EX|
 *    LOCK_NB) before anything with a side effect (no FIFO, socket, shm
 *    or run_dir ipc file yet), so a second "mid -f" on the same config
 *    leaves the running one alone. The lock is taken before daemonizing
 *    because a flock() lock belongs to the open file description, which
 *    fork shares: the final daemon holds it, and the refusal still
 *    reaches the caller's terminal. The descriptor stays open, close-on-
 *    exec, for mid's lifetime; the pid is written once daemonized.
 * PROTOCOL
 *    The pid file: the pid in decimal and "\n", flock()ed exclusively by
 *    the live mid. scripts/sipctl tells stale from live by the lock
 *    (flock -n), not by the pid alone.
 * DIAGNOSTICS
 *    A config error is returned as "FILE:LINE: [section] key: reason".
 *    [core] user or group unknown, or chroot_dir not a directory, are
 *    config errors (the stages apply them). Set as another user than
 *    root they are ignored with a warning. Failures to set limits only
 *    warn; failure to create run_dir, to
 *    open or lock the pid file, or to daemonize is fatal. A pid file
 *    locked by another mid: "pid_file FILE: locked by running mid pid
 *    N: not starting", exit 1, nothing touched.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "mid.h"
#include "priv.h"

#define MID_CONF_LOCK_TRIES 5           /* rides out a sipctl probe */
#define MID_CONF_LOCK_WAIT_NS 20000000L

/* mid_conf_read - the whole file into a malloc'd buffer */
int mid_conf_read(const char *path, char **text, size_t *len)
{
    struct stat st;
    ssize_t n;
    int fd, err;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)
        || st.st_size > SHM_CFG_MAX) {
        err = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
        close(fd);
        return err;
    }
    *text = malloc((size_t)st.st_size + 1);
    if (*text == NULL) {
        close(fd);
        return -ENOMEM;
    }
    n = read(fd, *text, (size_t)st.st_size);
    err = n < 0 ? -errno : 0;
    close(fd);
    if (err < 0 || n != st.st_size) {
        free(*text);
        *text = NULL;
        return err < 0 ? err : -EIO;
    }
    (*text)[n] = 0;
    *len = (size_t)n;
    return 0;
}

/*
 * mid_conf_line - the line of the first "key =" in [section] whose line
 * also holds value (NULL: any), for errors found after parsing; 0 when
 * not found (a default).
 */
int mid_conf_line(const char *text, const char *section, const char *key,
                  const char *value)
{
    const char *p = text;
    size_t klen = strlen(key), slen = strlen(section);
    int line = 1, in = 0;

    for (; *p != 0; line++) {
        const char *e = strchr(p, '\n'), *q = p;

        while (*q == ' ' || *q == '\t')
            q++;
        if (*q == '[')
            in = strncmp(q + 1, section, slen) == 0 && q[1 + slen] == ']';
        else if (in && strncmp(q, key, klen) == 0
                 && strchr(" \t=", q[klen]) != NULL
                 && (value == NULL
                     || memmem(q, e ? (size_t)(e - q) : strlen(q), value,
                               strlen(value)) != NULL))
            return line;
        if (e == NULL)
            break;
        p = e + 1;
    }
    return 0;
}

/*
 * mid_conf_unbuilt - keys whose feature is not built yet. A config that
 * depends on one is refused, naming it, rather than run without it.
 * Modules built into mid (mi_fifo) or loaded on demand (proto_udp,
 * proto_tcp, proto_tls by netd for the listen lines; db_postgres,
 * db_mysql by dbd for the [db] url) are accepted and ignored.
 */
static int mid_conf_unbuilt(const struct cfg *c, const char *text,
                            const char *path, char *err, size_t errlen)
{
    int i;

    for (i = 0; i < c->nload; i++) {
        const char *mod = c->load[i];

        if (strcmp(mod, "mi_fifo") == 0 || strcmp(mod, "proto_udp") == 0
            || strcmp(mod, "proto_tcp") == 0 || strcmp(mod, "proto_tls") == 0
            || strcmp(mod, "db_postgres") == 0
            || strcmp(mod, "db_mysql") == 0)
            continue;
        snprintf(err, errlen, "%s:%d: [modules] load: %s: not implemented "
                 "(no loadable modules exist yet)", path,
                 mid_conf_line(text, "modules", "load", mod), mod);
        return -1;
    }
    return 0;
}

/*
 * mid_conf_db - every [db] url names one scheme: dbd loads one backend
 * module (dbd_be.c), and a replica is a copy of the same database. The
 * line named is that of the first URL whose scheme differs from the
 * first URL's; the URL itself is never echoed (it holds a password).
 */
static int mid_conf_db(const struct cfg *c, const char *text,
                       const char *path, char *err, size_t errlen)
{
    struct db_url u0, u;
    char why[DB_ERR_TEXT], scheme[16];
    size_t n;
    int i;

    if (c->ndb_url < 2
        || db_url_parse(c->db_url[0], strlen(c->db_url[0]), &u0, why,
                        sizeof(why)) < 0)
        return 0;                       /* one URL; or cfg.c said why */
    explicit_bzero(u0.password, sizeof(u0.password));
    for (i = 1; i < c->ndb_url; i++) {
        if (db_url_parse(c->db_url[i], strlen(c->db_url[i]), &u, why,
                         sizeof(why)) < 0)
            continue;
        explicit_bzero(u.password, sizeof(u.password));
        if (u.scheme == u0.scheme)
            continue;
        n = strcspn(c->db_url[i], ":");
        snprintf(scheme, sizeof(scheme), "%.*s://",
                 (int)(n < 12 ? n : 12), c->db_url[i]);
        snprintf(err, errlen, "%s:%d: [db] url: URL %d is %s, the first "
                 "is %s: every url must use one scheme", path,
                 mid_conf_line(text, "db", "url", scheme), i + 1,
                 db_scheme_name(u.scheme), db_scheme_name(u0.scheme));
        return -1;
    }
    return 0;
}

/*
 * mid_conf_privs - [core] user and group must exist and chroot_dir must
 * be a directory: the stages apply them (srv.c) and would otherwise each
 * die at start, over and over, instead of mid refusing the file once.
 */
static int mid_conf_privs(const struct cfg *c, const char *text,
                          const char *path, char *err, size_t errlen)
{
    struct stat st;
    uid_t uid;
    gid_t gid;

    if (c->user[0] && priv_user(c->user, &uid, &gid) < 0) {
        snprintf(err, errlen, "%s:%d: [core] user: %s: no such user", path,
                 mid_conf_line(text, "core", "user", NULL), c->user);
        return -1;
    }
    if (c->group[0] && priv_group(c->group, &gid) < 0) {
        snprintf(err, errlen, "%s:%d: [core] group: %s: no such group",
                 path, mid_conf_line(text, "core", "group", NULL), c->group);
        return -1;
    }
    if (c->chroot_dir[0]
        && (stat(c->chroot_dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
        snprintf(err, errlen, "%s:%d: [core] chroot_dir: %s: not a "
                 "directory", path,
                 mid_conf_line(text, "core", "chroot_dir", NULL),
                 c->chroot_dir);
        return -1;
    }
    return 0;
}

int mid_conf_check(const struct cfg *c, const char *text, const char *path,
                   char *err, size_t errlen)
{
    if (mid_conf_unbuilt(c, text, path, err, errlen) < 0
        || mid_tls_check(c, text, path, err, errlen) < 0
        || mid_conf_db(c, text, path, err, errlen) < 0)
        return -1;
    return mid_conf_privs(c, text, path, err, errlen);
}

int mid_conf_load(struct mid *m, const char *path, char *err,
                  size_t errlen)
{
    int rc;

    if (realpath(path, m->cfg_path) == NULL)
        snprintf(m->cfg_path, sizeof(m->cfg_path), "%s", path);
    if ((rc = mid_conf_read(path, &m->cfg_text, &m->cfg_len)) < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-rc));
        return -1;
    }
    if (cfg_load_buf(&m->cfg, path, m->cfg_text, m->cfg_len, err,
                     errlen) < 0
        || mid_conf_check(&m->cfg, m->cfg_text, path, err, errlen) < 0)
        return -1;
    /* No pid_file: $run_dir/mid.pid, where scripts/sipctl looks. */
    if (m->pid_path[0] == 0 && m->cfg.pid_file[0] != 0)
        snprintf(m->pid_path, sizeof(m->pid_path), "%s", m->cfg.pid_file);
    else if (m->pid_path[0] == 0)
        snprintf(m->pid_path, sizeof(m->pid_path), "%s/mid.pid",
                 m->cfg.run_dir);
    return 0;
}

void mid_conf_limits(struct mid *m)
{
    struct rlimit rl;

    if (m->cfg.open_files > 0) {
        rl.rlim_cur = rl.rlim_max = (rlim_t)m->cfg.open_files;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            log_warn("[core] open_files %d: %s", m->cfg.open_files,
                     strerror(errno));
    }
    /* The seed's do_coredump: whether a crash dumps core at all. 1: no
     * size limit (or the hard one, for a user that may not raise it);
     * 0: none. Stages inherit the limit. */
    if (getrlimit(RLIMIT_CORE, &rl) == 0) {
        rl.rlim_cur = m->cfg.do_coredump ? RLIM_INFINITY : 0;
        if (m->cfg.do_coredump && geteuid() == 0)
            rl.rlim_max = RLIM_INFINITY;
        else if (m->cfg.do_coredump)
            rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_CORE, &rl) < 0)
            log_warn("[core] do_coredump %d: %s", m->cfg.do_coredump,
                     strerror(errno));
    }
    if (geteuid() != 0
        && (m->cfg.user[0] || m->cfg.group[0] || m->cfg.chroot_dir[0]))
        log_warn("[core] user, group, chroot_dir: mid is not root: the "
                 "stages keep mid's user and root directory");
    if (mkdir(m->cfg.run_dir, 0755) < 0 && errno != EEXIST)
        log_fatal("[core] run_dir %s: %s", m->cfg.run_dir, strerror(errno));
    if (m->cfg.working_dir[0] && chdir(m->cfg.working_dir) < 0)
        log_fatal("[core] working_dir %s: %s", m->cfg.working_dir,
                  strerror(errno));
}

/*
 * mid_conf_daemon - detach when asked: fork, setsid, fork. stdout and
 * stderr stay as the caller set them (sipctl points them at a log
 * file) unless logging goes to syslog.
 */
int mid_conf_daemon(struct mid *m)
{
    int on = m->daemonize >= 0 ? m->daemonize : m->cfg.daemon;
    pid_t pid;
    int fd;

    if (!on)
        return 0;
    if ((pid = fork()) < 0) {
        log_error("fork: %s", strerror(errno));
        return -1;
    }
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        log_warn("setsid: %s", strerror(errno));
    if ((pid = fork()) < 0) {
        log_error("fork: %s", strerror(errno));
        return -1;
    }
    if (pid > 0)
        _exit(0);
    if ((fd = open("/dev/null", O_RDWR)) >= 0) {
        dup2(fd, STDIN_FILENO);
        if (m->cfg.log_syslog) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        if (fd > STDERR_FILENO)
            close(fd);
    }
    return 0;
}

/* mid_conf_pid_holder - the pid the lock holder wrote, or "unknown" */
static void mid_conf_pid_holder(int fd, char *buf, size_t cap)
{
    ssize_t n = pread(fd, buf, cap - 1, 0);

    buf[n > 0 ? n : 0] = 0;
    buf[strspn(buf, "0123456789")] = 0;
    if (buf[0] == 0)
        snprintf(buf, cap, "unknown");
}

/*
 * mid_conf_pid_open - open path (created 0644, never truncated), keep
 * the descriptor above stderr (daemonizing dup2()s onto 0-2) and
 * close-on-exec (stages must not inherit the lock). fd or -errno.
 */
static int mid_conf_pid_open(const char *path)
{
    int fd, hi;

    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                   0644)) < 0)
        return -errno;
    if (fd > STDERR_FILENO)
        return fd;
    hi = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    close(fd);
    return hi < 0 ? -errno : hi;
}

/*
 * mid_conf_pid_same - fd is still the file at path: a mid that was
 * exiting may have unlinked it between our open and our lock.
 */
static int mid_conf_pid_same(int fd, const char *path)
{
    struct stat a, b;

    return fstat(fd, &a) == 0 && stat(path, &b) == 0
           && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* mid_conf_pid_refuse - say why mid does not start, where it is seen */
static void mid_conf_pid_refuse(struct mid *m, const char *why)
{
    log_error("pid_file %s: %s: not starting", m->pid_path, why);
    if (m->cfg.log_syslog)              /* the log is not the terminal */
        fprintf(stderr, "mid: pid_file %s: %s: not starting\n",
                m->pid_path, why);
}

/*
 * mid_conf_pidlock - take the instance lock on m->pid_path (see the
 * header). Call after mid_conf_limits() (the default pid file lives in
 * run_dir) and before mid_conf_daemon() and anything that creates a
 * FIFO, socket or segment. 0 with m->pid_fd held; -1 after telling
 * stderr (and the log) why: locked by a live mid, or not openable. The
 * file's contents are left as they are until mid_conf_pidfiles().
 */
int mid_conf_pidlock(struct mid *m)
{
    const struct timespec nap = {0, MID_CONF_LOCK_WAIT_NS};
    char holder[32], why[128];
    int fd, tries, rc;

    for (tries = 1;; tries++) {
        if ((fd = mid_conf_pid_open(m->pid_path)) < 0) {
            snprintf(why, sizeof(why), "open: %s", strerror(-fd));
            mid_conf_pid_refuse(m, why);
            return -1;
        }
        rc = flock(fd, LOCK_EX | LOCK_NB) < 0 ? errno : 0;
        if (rc == 0 && mid_conf_pid_same(fd, m->pid_path))
            break;
        if (rc != 0 && rc != EWOULDBLOCK) {
            snprintf(why, sizeof(why), "lock: %s", strerror(rc));
            mid_conf_pid_refuse(m, why);
            close(fd);
            return -1;
        }
        if (tries >= MID_CONF_LOCK_TRIES) {
            mid_conf_pid_holder(fd, holder, sizeof(holder));
            snprintf(why, sizeof(why), "locked by running mid pid %s",
                     holder);
            mid_conf_pid_refuse(m, why);
            close(fd);
            return -1;
        }
        close(fd);                      /* also drops a lock on a stale */
        nanosleep(&nap, NULL);          /* inode; or a sipctl probe */
    }
    m->pid_fd = fd;
    return 0;
}

static void mid_conf_write_id(const char *path, long id, const char *what)
{
    FILE *f;

    if (path[0] == 0)
        return;
    if ((f = fopen(path, "we")) == NULL) {
        log_warn("%s %s: %s", what, path, strerror(errno));
        return;
    }
    fprintf(f, "%ld\n", id);
    fclose(f);
}

/*
 * mid_conf_pidfiles - once daemonized, under the lock of
 * mid_conf_pidlock(): the pid into the locked file (truncated first),
 * the process group into pgid_file.
 */
void mid_conf_pidfiles(struct mid *m)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

    if (ftruncate(m->pid_fd, 0) < 0
        || pwrite(m->pid_fd, buf, (size_t)n, 0) != n)
        log_warn("pid_file %s: write: %s", m->pid_path, strerror(errno));
    mid_conf_write_id(m->cfg.pgid_file, (long)getpgrp(), "pgid_file");
}

/* mid_conf_cleanup - the pid file goes before its lock is let go */
void mid_conf_cleanup(struct mid *m)
{
    if (m->pid_fd > STDERR_FILENO) {
        unlink(m->pid_path);
        close(m->pid_fd);
        m->pid_fd = -1;
    }
    if (m->cfg.pgid_file[0])
        unlink(m->cfg.pgid_file);
    free(m->cfg_text);
    m->cfg_text = NULL;
}
