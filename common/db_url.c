/*
 * SUMMARY
 *      db_url - parse and mask database URLs ([db] url)
 * DESCRIPTION
 *      See db.h. "scheme://[user[:password]@]host[:port][/dbname]";
 *      host may be "[v6]". user and password are percent-decoded. The
 *      password is copied into struct db_url and nowhere else; every
 *      error text names the part that is wrong, never its value when
 *      that part could be the password.
 * DIAGNOSTICS
 *      -1 and a reason in err.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "db.h"

static const struct {
    const char *prefix;
    int scheme;
} db_url_schemes[] = {
    {"postgres://", DB_SCHEME_POSTGRES},
    {"postgresql://", DB_SCHEME_POSTGRES},
    {"mysql://", DB_SCHEME_MYSQL},
};

const char *db_scheme_name(int scheme)
{
    return scheme == DB_SCHEME_POSTGRES ? "postgres"
           : scheme == DB_SCHEME_MYSQL  ? "mysql"
                                        : "?";
}

static int db_url_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* db_url_copy - s[0..len) percent-decoded into dst[cap]; 0 or -1 */
static int db_url_copy(char *dst, size_t cap, const char *s, size_t len,
                       int decode)
{
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        int c = (unsigned char)s[i];

        if (decode && c == '%') {
            int h, l;

            if (i + 2 >= len)
                return -1;
            h = db_url_hex(s[i + 1]);
            l = db_url_hex(s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = h << 4 | l;
            i += 2;
        }
        if (c == 0 || o + 1 >= cap)
            return -1;
        dst[o++] = (char)c;
    }
    dst[o] = 0;
    return 0;
}

static int db_url_err(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "%s", why);
    return -1;
}

int db_url_parse(const char *text, size_t len, struct db_url *u, char *err,
                 size_t errlen)
{
    const char *p = text, *end = text + len, *at, *hs, *he, *slash, *colon;
    size_t i;
    unsigned long port = 0;

    memset(u, 0, sizeof(*u));
    for (i = 0; i < sizeof(db_url_schemes) / sizeof(db_url_schemes[0]); i++) {
        size_t n = strlen(db_url_schemes[i].prefix);

        if (len >= n && strncasecmp(text, db_url_schemes[i].prefix, n) == 0) {
            u->scheme = db_url_schemes[i].scheme;
            p = text + n;
            break;
        }
    }
    if (u->scheme == 0)
        return db_url_err(err, errlen, "bad url scheme (postgres://, "
                                       "postgresql:// or mysql://)");
    slash = memchr(p, '/', (size_t)(end - p));
    if (slash == NULL)
        slash = end;
    /* the last "@" before the path: a password may hold an encoded one */
    at = NULL;
    for (hs = p; hs < slash; hs++)
        if (*hs == '@')
            at = hs;
    if (at != NULL) {
        colon = memchr(p, ':', (size_t)(at - p));
        if (db_url_copy(u->user, sizeof(u->user), p,
                        (size_t)((colon ? colon : at) - p), 1) < 0)
            return db_url_err(err, errlen, "bad or too long user in url");
        if (colon != NULL
            && db_url_copy(u->password, sizeof(u->password), colon + 1,
                           (size_t)(at - colon - 1), 1) < 0)
            return db_url_err(err, errlen, "bad or too long password in url");
        hs = at + 1;
    } else {
        hs = p;
    }
    if (hs < slash && *hs == '[') {     /* [v6]:port */
        he = memchr(hs, ']', (size_t)(slash - hs));
        if (he == NULL)
            return db_url_err(err, errlen, "unterminated [ in url host");
        if (db_url_copy(u->host, sizeof(u->host), hs + 1,
                        (size_t)(he - hs - 1), 0) < 0)
            return db_url_err(err, errlen, "bad url host");
        he++;
    } else {
        he = memchr(hs, ':', (size_t)(slash - hs));
        if (he == NULL)
            he = slash;
        if (db_url_copy(u->host, sizeof(u->host), hs, (size_t)(he - hs), 0)
            < 0)
            return db_url_err(err, errlen, "bad url host");
    }
    if (u->host[0] == 0)
        return db_url_err(err, errlen, "url has no host");
    if (he < slash) {
        if (*he != ':' || he + 1 == slash)
            return db_url_err(err, errlen, "bad url port");
        for (he++; he < slash; he++) {
            if (!isdigit((unsigned char)*he))
                return db_url_err(err, errlen, "bad url port");
            port = port * 10 + (unsigned long)(*he - '0');
            if (port > 65535)
                return db_url_err(err, errlen, "bad url port");
        }
        if (port == 0)
            return db_url_err(err, errlen, "bad url port");
        u->port = (uint16_t)port;
    }
    if (slash < end
        && db_url_copy(u->dbname, sizeof(u->dbname), slash + 1,
                       (size_t)(end - slash - 1), 1) < 0)
        return db_url_err(err, errlen, "bad or too long database name in url");
    if (strchr(u->dbname, '/') != NULL || strchr(u->dbname, '?') != NULL)
        return db_url_err(err, errlen, "url options are not supported");
    return 0;
}

char *db_url_mask(const struct db_url *u, char *buf, size_t cap)
{
    char port[8] = "";
    int v6 = strchr(u->host, ':') != NULL;

    if (u->port != 0)
        snprintf(port, sizeof(port), ":%u", (unsigned)u->port);
    snprintf(buf, cap, "%s://%s%s%s%s%s%s%s/%s", db_scheme_name(u->scheme),
             u->user, u->password[0] ? ":***" : "",
             u->user[0] || u->password[0] ? "@" : "", v6 ? "[" : "", u->host,
             v6 ? "]" : "", port, u->dbname);
    return buf;
}
