/*
 * SUMMARY
 *    mid_tls - the [tls] files, checked when mid loads the config
 * DESCRIPTION
 *    netd's proto_tls.so builds the SSL_CTX (proto_tls_ctx.c) at its
 *    start, and mid never links OpenSSL nor reads a key: the supervisor
 *    holds no key material. What mid can see without it is checked here,
 *    so that "mid -c", a start and a reload refuse a config whose TLS
 *    files are missing instead of starting a netd that dies at once and
 *    backs off: when a listen line is tls, [tls] certificate,
 *    private_key and (if set) ca_list must be regular files mid can
 *    open for reading (mid runs as root and netd reads them before it
 *    drops privileges, so root's view is netd's). A private key that
 *    group or others may read is worth a warning, not a refusal (the
 *    operator's call; OpenSSH refuses, nginx does not). Whether the
 *    PEM parses and the key matches the certificate is netd's to find
 *    (a clear log line naming the file, netd exits, mid backs off).
 * PROTOCOL
 *    None.
 * DIAGNOSTICS
 *    "FILE:LINE: [tls] KEY: PATH: reason" into err (-1); the warning
 *    "[tls] private_key PATH: mode 0644: readable by group or others"
 *    through log_warn. The key's contents are never read here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mid.h"

/* mid_tls_file - path is a regular file we can open; 0 or -errno */
static int mid_tls_file(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    int err = 0;

    if (fd < 0)
        return -errno;
    if (fstat(fd, st) < 0)
        err = -errno;
    else if (!S_ISREG(st->st_mode))
        err = -EINVAL;
    close(fd);
    return err;
}

/* mid_tls_one - one [tls] file key; 0, or -1 with err */
static int mid_tls_one(const char *key, const char *file, const char *text,
                       const char *path, char *err, size_t errlen)
{
    struct stat st;
    int rc;

    if (file[0] == '\0')
        return 0;
    if ((rc = mid_tls_file(file, &st)) < 0) {
        snprintf(err, errlen, "%s:%d: [tls] %s: %s: %s", path,
                 mid_conf_line(text, "tls", key, NULL), key, file,
                 rc == -EINVAL ? "not a regular file" : strerror(-rc));
        return -1;
    }
    if (strcmp(key, "private_key") == 0 && (st.st_mode & 077) != 0)
        log_warn("[tls] private_key %s: mode %04o: readable by group or "
                 "others", file, (unsigned)(st.st_mode & 07777));
    return 0;
}

int mid_tls_check(const struct cfg *c, const char *text, const char *path,
                  char *err, size_t errlen)
{
    int i, tls = 0;

    for (i = 0; i < c->nlisten; i++)
        tls |= c->listen[i].proto == CFG_PROTO_TLS;
    if (!tls)
        return 0;
    if (mid_tls_one("certificate", c->tls_certificate, text, path, err,
                    errlen) < 0
        || mid_tls_one("private_key", c->tls_private_key, text, path, err,
                       errlen) < 0
        || mid_tls_one("ca_list", c->tls_ca_list, text, path, err,
                       errlen) < 0)
        return -1;
    return 0;
}
