#ifndef STR_H
#define STR_H
/*
 * SUMMARY
 *    str - pointer and length, never NUL-terminated
 * DESCRIPTION
 *    A view into a buffer somebody else owns. The SIP parser hands out
 *    these into the received message; nothing here allocates.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

struct str {
    const char *s;
    size_t len;
};

#define STR_NULL ((struct str){NULL, 0})
#define STR_LIT(lit) ((struct str){(lit), sizeof(lit) - 1})

/* str_eq - byte equality */
static inline int str_eq(struct str a, struct str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.s, b.s, a.len) == 0);
}

/* str_ieq - ASCII case-insensitive equality */
static inline int str_ieq(struct str a, struct str b)
{
    return a.len == b.len && (a.len == 0 || strncasecmp(a.s, b.s, a.len) == 0);
}

/* str_ieq_lit - case-insensitive comparison against a C literal */
static inline int str_ieq_cstr(struct str a, const char *c)
{
    size_t n = strlen(c);

    return a.len == n && strncasecmp(a.s, c, n) == 0;
}

/*
 * struct str_out - a bounded output buffer: str_out_put() appends, or,
 * when the bytes do not fit, writes nothing more and sets "full" (the
 * caller checks it once at the end, not after every append).
 */
struct str_out {
    char *p;                            /* next byte to write */
    size_t left;                        /* room after p */
    int full;
};

static inline void str_out_put(struct str_out *o, const char *s, size_t n)
{
    if (o->full || n > o->left) {
        o->full = 1;
        return;
    }
    if (n > 0)
        memcpy(o->p, s, n);
    o->p += n;
    o->left -= n;
}

#endif
