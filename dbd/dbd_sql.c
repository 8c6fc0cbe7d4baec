/*
 * SUMMARY
 *      dbd_sql - the queries dbd runs, by number
 * DESCRIPTION
 *      sipd names a query by number (MSG_DB_Q_*, msg.h) and sends its
 *      values; the SQL text is a constant here and nowhere else. Values
 *      travel apart from the text as parameters ("?" placeholders, which
 *      the PostgreSQL backend numbers $1, $2...), so no byte that came
 *      from the network is ever part of a statement.
 *
 *      Column names follow Kamailio's alias_db (dbaliases) and
 *      permissions (address) tables (etc/db/postgres.sql), so an
 *      existing database serves as it is.
 *
 *        MSG_DB_Q_ALIAS    (alias_username, alias_domain) ->
 *                          (username, domain), at most one row
 *        MSG_DB_Q_ADDRESS  () -> (grp, ip_addr, mask, port), every row
 * PROTOCOL
 *      None.
 * DIAGNOSTICS
 *      None: an unknown number is the caller's to answer (MSG_DB_ERROR).
 */
#include <stddef.h>

#include "dbd.h"

static const struct dbd_sql dbd_sql_tab[] = {
    {MSG_DB_Q_ALIAS, 0, 2, 2, "alias",
     "SELECT username, domain FROM dbaliases "
     "WHERE alias_username = ? AND alias_domain = ? LIMIT 1"},
    {MSG_DB_Q_ADDRESS, 1, 0, 4, "address",
     "SELECT grp, ip_addr, mask, port FROM address"},
};

const struct dbd_sql *dbd_sql_find(int q)
{
    size_t i;

    for (i = 0; i < sizeof(dbd_sql_tab) / sizeof(dbd_sql_tab[0]); i++)
        if (dbd_sql_tab[i].query == q)
            return &dbd_sql_tab[i];
    return NULL;
}
