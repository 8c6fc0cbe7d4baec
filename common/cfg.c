/*
 * SUMMARY
 *      cfg - the seed's section config file, parsed into one typed struct
 * DESCRIPTION
 *      The reader: a line at a time, each setting looked up in the key
 *      table (cfg_keys.c) and handed to the setter of the row's type
 *      through cfg_setters[] (cfg_value.c, cfg_addr.c); there is no
 *      per-key code. Then the checks on the whole, and the file read.
 *
 *      Grammar (one rule, one function):
 *          file    = *( line ( LF / CRLF ) )     a line is <= 4096 bytes
 *          line    = WS [ section / setting ] WS [ "#" comment ]
 *          section = "[" WS name WS "]"
 *          setting = key WS "=" WS value
 *          value   = token / DQUOTE *( char / "\" DQUOTE / "\\" ) DQUOTE
 *      A token ends at white space or "#": quote values holding either.
 *      Sections and keys are case-sensitive lower case. A key that is not
 *      repeatable may be set once (the "chidlren" row of the table shares
 *      the field of "children", so setting both is an error too).
 *
 *      After the last line the whole is checked: at least one listen line,
 *      and [route] db_aliases and db_allow need a [db] url. [mi]
 *      http_allow, when no line gives it, becomes 127.0.0.0/8 and ::1/128.
 * PROTOCOL
 *      None: cfg reads a file or a buffer into the caller's struct cfg.
 *      Nothing here crosses a ring or a ctl socket.
 * DIAGNOSTICS
 *      Nothing is logged and nothing is fatal. Each function returns 0 or
 *      -1 with one message in the caller's err buffer:
 *      "FILE:LINE: [section] key: reason" (the parts not known are left
 *      out, LINE is 0 for whole-file problems), or "FILE: cannot open:
 *      strerror" for a file that cannot be read. The first error stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg_priv.h"

#define CFG_FILE_MAX (1 << 20)          /* bytes */

static const char *cfg_skipws(const char *s)
{
    return s + strspn(s, " \t");
}

/* cfg_keylen - length of the [A-Za-z0-9_] run at s */
static size_t cfg_keylen(const char *s)
{
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789_");
}

static cfg_set_fn *const cfg_setters[] = {
    [CFG_T_INT] = cfg_value_int,
    [CFG_T_BOOL] = cfg_value_bool,
    [CFG_T_MODE] = cfg_value_mode,
    [CFG_T_STR] = cfg_value_str,
    [CFG_T_URL] = cfg_value_url,
    [CFG_T_FACILITY] = cfg_value_facility,
    [CFG_T_LISTEN] = cfg_addr_listen,
    [CFG_T_HOSTPORT] = cfg_addr_hostport,
    [CFG_T_IPPORT] = cfg_addr_hostport,
    [CFG_T_STRS] = cfg_value_strs,
    [CFG_T_SOCKADDR] = cfg_addr_sockaddr,
    [CFG_T_NET] = cfg_addr_net,
    [CFG_T_TLSVER] = cfg_value_tlsver,
};

/* --- lines ---------------------------------------------------------- */

/* cfg_seen - set p->seen for k; error if it (or its alias) was set */
static int cfg_seen(struct cfg_parse *p, const struct cfg_key *k)
{
    size_t i;

    if (cfg_repeatable(k))
        return 0;
    for (i = 0; i < cfg_keys_n; i++) {
        if (cfg_keys[i].off == k->off && p->seen[i] != 0)
            return cfg_value_err(p, "already set at line %u", p->seen[i]);
    }
    p->seen[k - cfg_keys] = p->line;
    return 0;
}

/* cfg_rest - after a value: white space and a comment only */
static int cfg_rest(struct cfg_parse *p, const char *s, int secret)
{
    s = cfg_skipws(s);
    if (*s == '\0' || *s == '#')
        return 0;
    if (secret)
        return cfg_value_err(p, "trailing junk after value");
    return cfg_value_err(p,
                         "trailing junk \"%.32s\" (quote values with spaces "
                         "or \"#\")",
                         s);
}

/* cfg_quoted - s after the opening quote; unescape into out */
static int cfg_quoted(struct cfg_parse *p, const char *s, char *out,
                      size_t *len, int secret)
{
    size_t n = 0;

    for (; *s != '"'; s++) {
        if (*s == '\0')
            return cfg_value_err(p, "unterminated quote");
        if (*s == '\\') {
            s++;
            if (*s != '"' && *s != '\\')
                return cfg_value_err(p, "bad escape in quotes (only \\\" and "
                                        "\\\\)");
        }
        out[n++] = *s;
    }
    out[n] = '\0';
    *len = n;
    return cfg_rest(p, s + 1, secret);
}

/* cfg_scan_value - a quoted string or a token into out[CFG_LINE_MAX+1] */
static int cfg_scan_value(struct cfg_parse *p, const char *s, char *out,
                          size_t *len, int secret)
{
    size_t n;

    if (*s == '"')
        return cfg_quoted(p, s + 1, out, len, secret);
    n = strcspn(s, " \t#");
    if (n == 0)
        return cfg_value_err(p, "missing value");
    memcpy(out, s, n);
    out[n] = '\0';
    *len = n;
    return cfg_rest(p, s + n, secret);
}

/*
 * cfg_scan_words - an unquoted value of several words ("listen = IP as
 *    HOST"): up to a comment or the end, trailing white space dropped.
 */
static int cfg_scan_words(struct cfg_parse *p, const char *s, char *out,
                          size_t *len)
{
    size_t n = strcspn(s, "#");

    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0)
        return cfg_value_err(p, "missing value");
    memcpy(out, s, n);
    out[n] = '\0';
    *len = n;
    return 0;
}

static int cfg_section(struct cfg_parse *p, const char *s)
{
    const char *name = cfg_skipws(s + 1), *end = name + cfg_keylen(name);

    p->sect[0] = '\0';
    s = cfg_skipws(end);
    if (*s != ']')
        return cfg_value_err(p, "bad section line (expected \"[name]\")");
    cfg_value_copy(p->sect, sizeof(p->sect), name, (size_t)(end - name));
    s = cfg_skipws(s + 1);
    if (*s != '\0' && *s != '#')
        return cfg_value_err(p, "trailing junk after section");
    if (cfg_keys_find(p->sect, NULL) == NULL)
        return cfg_value_err(p, "unknown section");
    return 0;
}

static int cfg_setting(struct cfg_parse *p, const char *s)
{
    char val[CFG_LINE_MAX + 1];
    const struct cfg_key *k;
    const char *end = s + cfg_keylen(s);
    size_t len = 0;

    if (end == s)
        return cfg_value_err(p, "expected \"key = value\" or \"[section]\"");
    cfg_value_copy(p->key, sizeof(p->key), s, (size_t)(end - s));
    s = cfg_skipws(end);
    if (*s != '=')
        return cfg_value_err(p, "missing \"=\"");
    if (p->sect[0] == '\0')
        return cfg_value_err(p, "key outside any section");
    if ((k = cfg_keys_find(p->sect, p->key)) == NULL)
        return cfg_value_err(p, "unknown key");
    s = cfg_skipws(s + 1);
    if ((k->type == CFG_T_LISTEN && *s != '"'
             ? cfg_scan_words(p, s, val, &len)
             : cfg_scan_value(p, s, val, &len, k->type == CFG_T_URL)) < 0
        || cfg_seen(p, k) < 0)
        return -1;
    return cfg_setters[k->type](p, k, val, len);
}

/* cfg_line - one line, without its LF, of len bytes */
static int cfg_line(struct cfg_parse *p, const char *buf, size_t len)
{
    char line[CFG_LINE_MAX + 1];
    const char *s;

    p->key[0] = '\0';
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    if (len > CFG_LINE_MAX)
        return cfg_value_err(p, "line too long (max %d bytes)", CFG_LINE_MAX);
    if (memchr(buf, '\0', len) != NULL)
        return cfg_value_err(p, "NUL byte in line");
    memcpy(line, buf, len);
    line[len] = '\0';
    s = cfg_skipws(line);
    if (*s == '\0' || *s == '#')
        return 0;
    if (*s == '[')
        return cfg_section(p, s);
    return cfg_setting(p, s);
}

/* cfg_tls_listen - the config has a tls listen line */
static int cfg_tls_listen(const struct cfg *c)
{
    int i;

    for (i = 0; i < c->nlisten; i++)
        if (c->listen[i].proto == CFG_PROTO_TLS)
            return 1;
    return 0;
}

/*
 * cfg_check_tls - a tls listen line needs [tls] certificate and
 *    private_key; verify_client needs ca_list (the CAs whose names the
 *    server sends and against which client chains are checked). The
 *    files themselves are mid's to check (mid_tls.c): cfg reads no file
 *    but its own.
 */
static int cfg_check_tls(struct cfg_parse *p)
{
    const struct cfg *c = p->c;
    const char *key = NULL;

    if (!cfg_tls_listen(c))
        return 0;
    if (c->tls_certificate[0] == '\0')
        key = "certificate";
    else if (c->tls_private_key[0] == '\0')
        key = "private_key";
    else if (c->tls_verify_client > 0 && c->tls_ca_list[0] == '\0')
        key = "ca_list";
    if (key == NULL)
        return 0;
    snprintf(p->sect, sizeof(p->sect), "tls");
    snprintf(p->key, sizeof(p->key), "%s", key);
    return cfg_value_err(p, strcmp(key, "ca_list") == 0
                                ? "missing (verify_client needs the CAs "
                                  "that sign client certificates)"
                                : "missing (a tls listen line needs it)");
}

/* cfg_check - the whole file, after the last line */
static int cfg_check(struct cfg_parse *p)
{
    p->line = 0;
    if (p->c->nlisten == 0) {
        snprintf(p->sect, sizeof(p->sect), "net");
        snprintf(p->key, sizeof(p->key), "listen");
        return cfg_value_err(p,
                             "missing (at least one listen line is required)");
    }
    if ((p->c->db_aliases || p->c->db_allow) && p->c->ndb_url == 0) {
        snprintf(p->sect, sizeof(p->sect), "route");
        snprintf(p->key, sizeof(p->key),
                 p->c->db_aliases ? "db_aliases" : "db_allow");
        return cfg_value_err(p, "needs a [db] url");
    }
    cfg_addr_net_defaults(p->c);
    return cfg_check_tls(p);
}

/* --- interface ------------------------------------------------------ */

/*
 * cfg_load_buf - defaults, then len bytes of buf (no NUL needed) over them,
 * then the whole-file checks. name is only for messages and c->file.
 * Returns 0, or -1 with the first error in err; *c is then half-filled
 * and must be discarded (a reload keeps its old struct).
 */
int cfg_load_buf(struct cfg *c, const char *name, const char *buf,
                 size_t len, char *err, size_t errlen)
{
    struct cfg_parse p;
    const char *end = buf + len, *nl;

    cfg_defaults(c);
    if (name == NULL)
        name = "-";
    memset(&p, 0, sizeof(p));
    p.c = c;
    p.name = name;
    p.err = err;
    p.errlen = errlen;
    cfg_value_copy(c->file, sizeof(c->file), name, strlen(name));
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        buf += 3;                       /* a UTF-8 BOM from an editor */
    while (buf < end) {
        nl = memchr(buf, '\n', (size_t)(end - buf));
        p.line++;
        if (cfg_line(&p, buf, (size_t)((nl ? nl : end) - buf)) < 0)
            return -1;
        buf = nl ? nl + 1 : end;
    }
    return cfg_check(&p);
}

/* cfg_read - the whole file into a malloc'd *buf; 0, or -1 with err */
static int cfg_read(const char *path, char **buf, size_t *len, char *err,
                    size_t errlen)
{
    size_t cap = 0;
    ssize_t n;
    char *nb;
    int fd, rc = -1;

    *buf = NULL;
    *len = 0;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (*len == cap) {
            errno = EFBIG;              /* a config is never this large */
            if (cap >= CFG_FILE_MAX
                || (nb = realloc(*buf, cap ? cap * 2 : 8192)) == NULL)
                goto out;
            *buf = nb;
            cap = cap ? cap * 2 : 8192;
        }
        if ((n = read(fd, *buf + *len, cap - *len)) == 0)
            break;
        if (n < 0 && errno != EINTR)
            goto out;
        *len += n > 0 ? (size_t)n : 0;
    }
    rc = 0;
out:
    if (rc < 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        free(*buf);
        *buf = NULL;
    }
    close(fd);
    return rc;
}

/* cfg_load_file - cfg_load_buf() over the contents of path */
int cfg_load_file(struct cfg *c, const char *path, char *err, size_t errlen)
{
    char *buf;
    size_t len;
    int rc;

    cfg_defaults(c);
    if (cfg_read(path, &buf, &len, err, errlen) < 0)
        return -1;
    rc = cfg_load_buf(c, path, buf, len, err, errlen);
    free(buf);
    return rc;
}
