/*
 * SUMMARY
 *    stats - counter names and summing
 * DESCRIPTION
 *    The table of counter names (from STATS_LIST in stats.h) and the
 *    reader-side helpers mid uses to answer get_statistics. Writers use
 *    the inline stats_inc()/stats_add() from the header.
 * PROTOCOL
 *    None: the slots are read straight from shared memory.
 * DIAGNOSTICS
 *    None.
 */
#include <stdio.h>
#include <string.h>

#include "stats.h"

#define STATS_DEF_(id, g, n) {g, n},
const struct stats_def stats_defs[STAT__N] = {STATS_LIST(STATS_DEF_)};
#undef STATS_DEF_

int stats_find(const char *full)
{
    const char *colon = strchr(full, ':');
    size_t glen;
    int i;

    if (colon == NULL)
        return -1;
    glen = (size_t)(colon - full);
    for (i = 0; i < STAT__N; i++) {
        if (strlen(stats_defs[i].group) == glen
            && strncmp(stats_defs[i].group, full, glen) == 0
            && strcmp(stats_defs[i].name, colon + 1) == 0)
            return i;
    }
    return -1;
}

uint64_t stats_sum(const struct stats_slot *slots, int n, enum stats_id id)
{
    uint64_t sum = 0;
    int i;

    for (i = 0; i < n; i++)
        sum += __atomic_load_n(&slots[i].v[id], __ATOMIC_RELAXED);
    return sum;
}
