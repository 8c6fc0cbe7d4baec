#ifndef PRIV_H
#define PRIV_H
/*
 * SUMMARY
 *    priv - [core] user and group by name or number
 * DESCRIPTION
 *    The seed's "user = ID/name" and "group = ID/name": a name from the
 *    password or group database, else a decimal id that exists there.
 *    mid checks both when it loads a config (so a typo is a config
 *    error, not a crash loop of every stage); the stages use them to
 *    drop privileges (srv.c).
 */
#include <sys/types.h>

/* priv_user - uid and primary gid of user; 0, or -ENOENT */
extern int priv_user(const char *user, uid_t *uid, gid_t *gid);

/* priv_group - gid of group; 0, or -ENOENT */
extern int priv_group(const char *group, gid_t *gid);

#endif
