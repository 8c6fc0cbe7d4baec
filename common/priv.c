/*
 * SUMMARY
 *    priv - [core] user and group by name or number
 * DESCRIPTION
 *    See priv.h. A number is accepted only when the database knows it:
 *    a stage that runs as an id nobody owns is hard to account for.
 * PROTOCOL
 *    None.
 * DIAGNOSTICS
 *    None: callers name the key and the value.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>

#include "priv.h"

/* priv_id - s as a decimal id, or -1 */
static long priv_id(const char *s)
{
    char *end;
    long v;

    if (*s < '0' || *s > '9')
        return -1;
    v = strtol(s, &end, 10);
    return *end == 0 && v >= 0 ? v : -1;
}

int priv_user(const char *user, uid_t *uid, gid_t *gid)
{
    struct passwd *pw = getpwnam(user);
    long id;

    if (pw == NULL && (id = priv_id(user)) >= 0)
        pw = getpwuid((uid_t)id);
    if (pw == NULL)
        return -ENOENT;
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 0;
}

int priv_group(const char *group, gid_t *gid)
{
    struct group *gr = getgrnam(group);
    long id;

    if (gr == NULL && (id = priv_id(group)) >= 0)
        gr = getgrgid((gid_t)id);
    if (gr == NULL)
        return -ENOENT;
    *gid = gr->gr_gid;
    return 0;
}
