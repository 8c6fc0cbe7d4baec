/*
 * SUMMARY
 *      db_seq - run several queries on one backend connection (tests)
 * SYNOPSIS
 *      db_seq LIBDIR URL SQL [VALUE...] [-- SQL [VALUE...]]...
 * DESCRIPTION
 *      Like db_try, but the queries separated by "--" all run, in order,
 *      on one connection, the way dbd uses it: a SQL text gets the stmt
 *      id of its first appearance (0, 1, ...), so a text given twice
 *      runs the statement the backend prepared the first time. The word
 *      \N is a NULL value. Each query prints its rows (tab-separated,
 *      NULL as \N, tab, newline and backslash as \t \n \\) and then one
 *      line: "= ok" or "= error: TEXT" for DB_ERR_QUERY, after which the
 *      next query still runs (the connection is still good).
 * DIAGNOSTICS
 *      Exit 0: all done. 1: at least one query error. 2: connection
 *      error (text on stderr; nothing runs after it). 3: usage or module
 *      error. 4: no answer in 10 s. The URL is only ever printed masked.
 */
#include <stdio.h>
#include <string.h>

#include "db_tool.h"

/* t_stmt - the stmt id of argv[at]: where that text first appeared */
static int t_stmt(char **argv, int first, int at)
{
    int i, id = 0, q = 1;

    for (i = first; i < at; i++) {
        if (q) {
            if (strcmp(argv[i], argv[at]) == 0)
                return id;
            id++;
        }
        q = strcmp(argv[i], "--") == 0;
    }
    return id;
}

/* t_query - run the query at argv[at]: 0, 1 (query error) or exit code */
static int t_query(struct db_conn *c, int argc, char **argv, int at)
{
    struct db_val params[DB_PARAMS_MAX];
    char err[DB_ERR_TEXT];
    int i, np = 0, r, stmt = t_stmt(argv, 3, at);

    if (stmt >= DB_STMT_MAX)
        return 3;
    for (i = at + 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (np == DB_PARAMS_MAX)
            return 3;
        params[np++] = db_tool_val(argv[i]);
    }
    r = db_tool_run(c, stmt, argv[at], np, params, err, sizeof(err));
    if (r == 4)
        return 4;
    if (r == DB_ERR_QUERY) {
        printf("= error: %s\n", err);
        return 1;
    }
    if (r < 0) {
        fprintf(stderr, "db_seq: %s\n", err);
        return 2;
    }
    db_tool_rows(c);
    printf("= ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    struct db_conn *c;
    int i, r, status = 0, q = 1;

    if (argc < 4) {
        fprintf(stderr, "usage: db_seq LIBDIR URL SQL [VALUE...] "
                        "[-- SQL [VALUE...]]...\n");
        return 3;
    }
    if ((r = db_tool_connect("db_seq", argv[1], argv[2], &c)) != 0)
        return r;
    for (i = 3; i < argc; i++) {
        if (q && (r = t_query(c, argc, argv, i)) != 0) {
            fflush(stdout);
            if (r != 1) {
                be->close(c);
                return r;
            }
            status = 1;
        }
        q = strcmp(argv[i], "--") == 0;
    }
    be->close(c);
    return status;
}
