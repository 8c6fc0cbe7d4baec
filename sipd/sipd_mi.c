/*
 * SUMMARY
 *    sipd_mi - sipd's part of the MI: db_cache_flush, address_reload
 * DESCRIPTION
 *    mid broadcasts "db_cache_flush ID" and "address_reload ID" on the
 *    ctl PUB socket (mid_relay.c, asking every running sipd instance);
 *    srv.c hands them to sipd_mi_ctl() in the dispatcher's thread.
 *
 *      db_cache_flush ID   every entry of this process's alias cache is
 *                          removed (freed after a grace period), and
 *                          the answer is "Flushed:: N"; no cache
 *                          ([db] cache_ttl = 0): "Flushed:: 0".
 *      address_reload ID   the address table is read again
 *                          (sipd_allow_load.c); the answer, when it is
 *                          in, is "Rows:: N", the rows now in use.
 *
 *    Either, with its feature off here ([route] db_aliases, db_allow, or
 *    no [db] url), answers 404 saying so; mid checks the same first, so
 *    this only matters while a reload changes the config.
 * PROTOCOL
 *    mid -> sipd (SUB):  "db_cache_flush ID", "address_reload ID"
 *    sipd -> mid (PUSH): "mi sipd INSTANCE PID ID 0 end CODE REASON\n"
 *                        "NAME:: VALUE\n" (one chunk; ctl.h)
 * DIAGNOSTICS
 *    A send to mid that fails is warned, rate-limited (ctl_mi.c): mid
 *    then tells its client that this instance did not answer.
 */
#include <stdio.h>
#include <string.h>

#include "ctl_mi.h"
#include "log.h"
#include "sipd.h"

/*
 * sipd_mi_answer - answer MI request id with code and reason, and the
 *    line "NAME:: VALUE" when name is not NULL (common/ctl_mi.c).
 */
void sipd_mi_answer(struct sipd *d, uint32_t id, int code, const char *reason,
                    const char *name, long value)
{
    struct srv *s = d->srv;
    struct ctl_mi mi;

    if (s->ctl_push < 0)
        return;
    ctl_mi_start(&mi, s->ctl_push, "sipd", s->instance, id);
    if (name != NULL)
        ctl_mi_line(&mi, name, "%ld", value);
    ctl_mi_end(&mi, code, reason);
}

/* sipd_mi_flush - db_cache_flush */
static void sipd_mi_flush(struct sipd *d, uint32_t id)
{
    long n = 0;

    if (!d->has_db || !d->srv->cfg.db_aliases) {
        sipd_mi_answer(d, id, 404, "[route] db_aliases is off: no alias "
                       "cache", NULL, 0);
        return;
    }
    if (d->cache != NULL) {
        n = sipd_cache_flush(d->cache);
        stats_set(d->st, STAT_DB_CACHE_ENTRIES,
                  (uint64_t)sipd_cache_count(d->cache));
    }
    log_info("db_cache_flush: %ld entries removed", n);
    sipd_mi_answer(d, id, 200, "OK", "Flushed", n);
}

/* sipd_mi_ctl - srv's broadcast callback (the dispatcher's thread) */
void sipd_mi_ctl(struct srv *s, const char *msg)
{
    struct sipd *d = s->ctx;
    unsigned id;

    if (sscanf(msg, "db_cache_flush %u", &id) == 1)
        sipd_mi_flush(d, id);
    else if (sscanf(msg, "address_reload %u", &id) == 1)
        sipd_allow_load_mi(d, id);
}
