#ifndef CFG_PRIV_H
#define CFG_PRIV_H
/*
 * SUMMARY
 *      cfg_priv - what the common/cfg*.c files share
 * DESCRIPTION
 *      The row type of the key table (cfg_keys.c), the state of one parse
 *      (cfg.c), and the value setters of cfg_value.c and cfg_addr.c that
 *      the reader dispatches to by the row's type. The files depend one
 *      way: cfg.c -> cfg_keys.c, cfg_addr.c -> cfg_value.c, and each of
 *      those -> cfg_value.c (errors, copies). Not for use outside
 *      common/cfg*.c.
 */
#include <stddef.h>

#include "cfg.h"

#define CFG_LINE_MAX 4096               /* bytes, without the line end */
#define CFG_ECHO "%.64s"                /* how much of a value we echo */
#define CFG_KEYS_MAX 128                /* rows of cfg_keys[], at most */

enum cfg_type {
    CFG_T_INT,
    CFG_T_BOOL,
    CFG_T_MODE,
    CFG_T_STR,
    CFG_T_URL,
    CFG_T_FACILITY,
    CFG_T_LISTEN,
    CFG_T_HOSTPORT,
    CFG_T_IPPORT,
    CFG_T_STRS,
    CFG_T_SOCKADDR,
    CFG_T_NET,
    CFG_T_TLSVER,
};

struct cfg_key {
    const char *sect;
    const char *key;
    enum cfg_type type;
    size_t off;                         /* field, or array of repeatables */
    size_t size;                        /* field, or one array element */
    size_t noff;                        /* count field of repeatables */
    int nmax;                           /* array length of repeatables */
    long min;                           /* int: value; string: length */
    long max;
    long dflt;                          /* int; repeatable: default port */
    const char *dstr;                   /* string default */
    enum cfg_apply apply;               /* what applies a change */
    unsigned stages;                    /* CFG_S_*: the stages reading it */
};

/* The state of one parse; lives on the caller's stack (cfg_load_buf). */
struct cfg_parse {
    struct cfg *c;
    const char *name;                   /* file name for messages */
    unsigned line;
    char sect[CFG_NAME];                /* current section, "" = none */
    char key[CFG_NAME];                 /* key of this line, "" = none */
    unsigned seen[CFG_KEYS_MAX];        /* line a key was set on */
    unsigned listen_line[CFG_MAX_LISTEN];
    char *err;
    size_t errlen;
};

/* A value setter: v is NUL-terminated, len bytes; 0, or -1 with p->err. */
typedef int cfg_set_fn(struct cfg_parse *p, const struct cfg_key *k,
                       const char *v, size_t len);

static inline void *cfg_field(struct cfg *c, const struct cfg_key *k)
{
    return (char *)c + k->off;
}

static inline int *cfg_count(struct cfg *c, const struct cfg_key *k)
{
    return (int *)((char *)c + k->noff);
}

static inline int cfg_repeatable(const struct cfg_key *k)
{
    return k->nmax > 0;
}

/* cfg_keys.c: the table, in file order; cfg_keys_n rows */
extern const struct cfg_key cfg_keys[];
extern const size_t cfg_keys_n;

/* cfg_keys_find - the row of sect and key; key NULL: any row of sect */
const struct cfg_key *cfg_keys_find(const char *sect, const char *key);

/* cfg_value.c */
int cfg_value_err(struct cfg_parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cfg_value_copy(char *dst, size_t size, const char *src, size_t n);
int cfg_value_strtol(const char *v, int base, long *n);
int cfg_value_room(struct cfg_parse *p, const struct cfg_key *k);
void *cfg_value_elem(struct cfg_parse *p, const struct cfg_key *k, int i);
cfg_set_fn cfg_value_int, cfg_value_bool, cfg_value_mode, cfg_value_str,
    cfg_value_url, cfg_value_facility, cfg_value_strs, cfg_value_tlsver;

/* cfg_addr.c */
cfg_set_fn cfg_addr_listen, cfg_addr_hostport, cfg_addr_sockaddr,
    cfg_addr_net;
void cfg_addr_net_defaults(struct cfg *c);

#endif
