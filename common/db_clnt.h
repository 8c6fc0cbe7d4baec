#ifndef DB_CLNT_H
#define DB_CLNT_H
/*
 * SUMMARY
 *      db_clnt - the records of the dbd service (query out, rows in)
 * DESCRIPTION
 *      Like dns_clnt, the client stub of dbd lives in common/ so that
 *      sipd never builds or reads the ring records of the DB protocol
 *      itself, and dbd uses the same value codec to read queries and
 *      write rows.
 *
 *      db_clnt_query() reserves and fills one MSG_T_DB_QUERY record on a
 *      sipd[i] -> dbd ring; it does not commit (the caller commits and
 *      serialises producers, as for dns_clnt_query()).
 *
 *      db_clnt_rows() checks one record popped from a dbd -> sipd[i]
 *      ring and returns its header; db_val_next() walks the values after
 *      it (and the parameters of a query, in dbd).
 * PROTOCOL
 *      MSG_T_DB_QUERY, MSG_T_DB_ROWS (msg.h). A value on the wire is a
 *      uint16_t length (host order; MSG_DB_NULL for NULL) and its bytes,
 *      unaligned. A DB_INT parameter travels as its decimal text.
 * DIAGNOSTICS
 *      Return values only; nothing is logged.
 */
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "msg.h"
#include "ring.h"

/*
 * db_clnt_query - reserve and fill one query record on r, not committed.
 *      Returns 0; -ENOSPC when the ring is full; -EINVAL for nparams out
 *      of 0..MSG_DB_PARAMS_MAX or a value longer than MSG_DB_VAL_MAX.
 */
extern int db_clnt_query(struct ring *r, uint64_t qid, int query,
                         uint32_t stamp_ms, int nparams,
                         const struct db_val *params);

/*
 * db_clnt_rows - the header of a popped MSG_T_DB_ROWS record, or NULL
 *      when rec is not one, is of an unknown version or shorter than its
 *      header. The values follow at ->data, up to rec->data + rec->len.
 */
extern const struct msg_db_rows *db_clnt_rows(const struct ring_rec *rec);

/*
 * db_val_next - decode the value at *p (not past end) into v (DB_STR or
 *      DB_NULL; v->s points into the record) and move *p past it.
 *      Returns 0, or -1 when the bytes are cut short.
 */
extern int db_val_next(const char **p, const char *end, struct db_val *v);

/*
 * db_val_put - encode v at dst (cap bytes). Returns the bytes written,
 *      or -1 when it does not fit or is longer than MSG_DB_VAL_MAX.
 */
extern int db_val_put(char *dst, size_t cap, const struct db_val *v);

/* db_val_size - bytes db_val_put() will write for v */
extern size_t db_val_size(const struct db_val *v);

#endif
