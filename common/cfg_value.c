/*
 * SUMMARY
 *      cfg_value - the config value types that are not addresses
 * DESCRIPTION
 *      One setter per type of cfg_keys[] row, called by the reader
 *      (cfg.c) with the unquoted value:
 *          int       decimal, [min, max]
 *          bool      0/1, yes/no, on/off, true/false, any case
 *          mode      octal, "0600"
 *          string    bounded by the field, too long is an error; min is
 *                    the least length
 *          url       a string that must start with postgres://,
 *                    postgresql:// or mysql://, never echoed since it
 *                    holds a password
 *          facility  a syslog facility, with or without LOG_, any case,
 *                    stored as "LOG_LOCAL0"
 *          strings   a repeatable string
 *      and the helpers every setter shares (cfg_addr.c's too): the error
 *      message, a bounded copy, a whole-string number, the next free
 *      element of a repeatable key.
 * PROTOCOL
 *      None: nothing here crosses a ring or a ctl socket.
 * DIAGNOSTICS
 *      Nothing is logged and nothing is fatal. A setter returns 0, or -1
 *      with one message in the parse's err buffer:
 *      "FILE:LINE: [section] key: reason" (the parts not known are left
 *      out, LINE is 0 for whole-file problems).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg_priv.h"
#include "addr.h"
#include "db.h"

/* --- shared helpers ------------------------------------------------- */

/*
 * cfg_value_err - "FILE:LINE: [sect] key: reason" into p->err (the
 * caller's buffer, truncated to p->errlen); returns -1 for the caller
 * to return
 */
int cfg_value_err(struct cfg_parse *p, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    int s = p->sect[0] != '\0', k = p->key[0] != '\0';

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "%s:%u: %s%s%s%s%s%s%s", p->name, p->line,
             s ? "[" : "", p->sect, s ? "]" : "", s && k ? " " : "", p->key,
             s || k ? ": " : "", why);
    return -1;
}

/* cfg_value_copy - bounded copy of n bytes plus NUL into dst[size] */
void cfg_value_copy(char *dst, size_t size, const char *src, size_t n)
{
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* cfg_value_strtol - whole string as a number in base; 0 or -1 */
int cfg_value_strtol(const char *v, int base, long *n)
{
    const char *d = v[0] == '-' || v[0] == '+' ? v + 1 : v;
    char *end;

    if (*d < '0' || *d > '9')
        return -1;
    errno = 0;
    *n = strtol(v, &end, base);
    return *end != '\0' || errno != 0 ? -1 : 0;
}

/* --- scalar types --------------------------------------------------- */

int cfg_value_int(struct cfg_parse *p, const struct cfg_key *k, const char *v,
                  size_t len)
{
    long n;

    (void)len;
    if (cfg_value_strtol(v, 10, &n) < 0)
        return cfg_value_err(p, "bad number \"" CFG_ECHO "\"", v);
    if (n < k->min || n > k->max)
        return cfg_value_err(p, "\"" CFG_ECHO "\" out of range (%ld..%ld)", v,
                             k->min, k->max);
    *(int *)cfg_field(p->c, k) = (int)n;
    return 0;
}

int cfg_value_bool(struct cfg_parse *p, const struct cfg_key *k, const char *v,
                   size_t len)
{
    static const char *const cfg_value_bools[] = {
        "0", "1", "no", "yes", "off", "on", "false", "true",
    };
    size_t i;

    (void)len;
    for (i = 0; i < sizeof(cfg_value_bools) / sizeof(cfg_value_bools[0]); i++) {
        if (strcasecmp(v, cfg_value_bools[i]) == 0) {
            *(int *)cfg_field(p->c, k) = (int)(i % 2);
            return 0;
        }
    }
    return cfg_value_err(p,
                         "bad boolean \"" CFG_ECHO "\" (0/1, yes/no, on/off, "
                         "true/false)",
                         v);
}

int cfg_value_mode(struct cfg_parse *p, const struct cfg_key *k, const char *v,
                   size_t len)
{
    long n;

    if (len == 0 || strspn(v, "01234567") != len
        || cfg_value_strtol(v, 8, &n) < 0 || n < k->min || n > k->max)
        return cfg_value_err(p,
                             "bad mode \"" CFG_ECHO "\" (octal, %04lo..%04lo)",
                             v, k->min, k->max);
    *(int *)cfg_field(p->c, k) = (int)n;
    return 0;
}

/* cfg_str_fits - the length checks every string type shares */
static int cfg_value_fits(struct cfg_parse *p, const struct cfg_key *k,
                          size_t len)
{
    if (len >= k->size)
        return cfg_value_err(p, "too long (max %zu bytes)", k->size - 1);
    if (len < (size_t)k->min)
        return cfg_value_err(p, "empty value");
    return 0;
}

int cfg_value_str(struct cfg_parse *p, const struct cfg_key *k, const char *v,
                  size_t len)
{
    if (cfg_value_fits(p, k, len) < 0)
        return -1;
    cfg_value_copy(cfg_field(p->c, k), k->size, v, len);
    return 0;
}

int cfg_value_facility(struct cfg_parse *p, const struct cfg_key *k,
                       const char *v, size_t len)
{
    static const char *const cfg_value_facilities[] = {
        "AUTH", "AUTHPRIV", "CRON", "DAEMON", "FTP", "KERN", "LOCAL0",
        "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4", "LOCAL5", "LOCAL6", "LOCAL7",
        "LPR", "MAIL", "NEWS", "SYSLOG", "USER", "UUCP",
    };
    const char *name = strncasecmp(v, "LOG_", 4) == 0 ? v + 4 : v;
    size_t i;

    (void)len;
    for (i = 0;
         i < sizeof(cfg_value_facilities) / sizeof(*cfg_value_facilities);
         i++) {
        if (strcasecmp(name, cfg_value_facilities[i]) == 0) {
            snprintf(cfg_field(p->c, k), k->size, "LOG_%s",
                     cfg_value_facilities[i]);
            return 0;
        }
    }
    return cfg_value_err(p, "unknown facility \"" CFG_ECHO "\"", v);
}

/*
 * cfg_value_tlsver - [tls] min_version: TLSv1.2 or TLSv1.3 (any case,
 *    "TLSv" optional), stored as the wire version (CFG_TLS_V12/13).
 *    Older versions are refused: TLS 1.0 and 1.1 are deprecated (RFC
 *    8996).
 */
int cfg_value_tlsver(struct cfg_parse *p, const struct cfg_key *k,
                     const char *v, size_t len)
{
    const char *n = strncasecmp(v, "TLSv", 4) == 0 ? v + 4 : v;

    (void)len;
    if (strcmp(n, "1.2") == 0)
        *(int *)cfg_field(p->c, k) = CFG_TLS_V12;
    else if (strcmp(n, "1.3") == 0)
        *(int *)cfg_field(p->c, k) = CFG_TLS_V13;
    else
        return cfg_value_err(p, "bad TLS version \"" CFG_ECHO "\" (TLSv1.2 "
                                "or TLSv1.3)", v);
    return 0;
}

/* --- repeatable types ----------------------------------------------- */

/* cfg_value_room - index of the next free element, or -1 when full */
int cfg_value_room(struct cfg_parse *p, const struct cfg_key *k)
{
    int n = *cfg_count(p->c, k);

    if (n >= k->nmax)
        return cfg_value_err(p, "too many (max %d)", k->nmax);
    return n;
}

void *cfg_value_elem(struct cfg_parse *p, const struct cfg_key *k, int i)
{
    return (char *)cfg_field(p->c, k) + (size_t)i * k->size;
}

int cfg_value_strs(struct cfg_parse *p, const struct cfg_key *k, const char *v,
                   size_t len)
{
    int i;

    if (cfg_value_fits(p, k, len) < 0 || (i = cfg_value_room(p, k)) < 0)
        return -1;
    cfg_value_copy(cfg_value_elem(p, k, i), k->size, v, len);
    (*cfg_count(p->c, k))++;
    return 0;
}

/*
 * cfg_value_url - one more [db] url (repeatable: the first reachable
 * serves, the rest are replicas); "" adds none. Checked by
 * db_url_parse(); never echoed, it holds a password.
 */
int cfg_value_url(struct cfg_parse *p, const struct cfg_key *k, const char *v,
                  size_t len)
{
    struct db_url u;
    struct msg_addr a;
    char why[DB_ERR_TEXT];
    int i;

    if (len == 0)                       /* url = "": no database */
        return 0;
    if (cfg_value_fits(p, k, len) < 0 || (i = cfg_value_room(p, k)) < 0)
        return -1;
    if (db_url_parse(v, len, &u, why, sizeof(why)) < 0)
        return cfg_value_err(p, "%s", why);
    explicit_bzero(u.password, sizeof(u.password));
    /* libpq and Connector/C resolve a name with a blocking getaddrinfo()
     * inside their "non-blocking" connect: dbd's one loop would stall on
     * a slow resolver, so the URL names an address */
    if (addr_parse(&a, u.host, strlen(u.host), 0) < 0)
        return cfg_value_err(p, "url host must be an IP address (dbd never "
                                "waits on a name lookup)");
    cfg_value_copy(cfg_value_elem(p, k, i), k->size, v, len);
    (*cfg_count(p->c, k))++;
    return 0;
}
