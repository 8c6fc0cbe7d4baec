#ifndef STR_H
#define STR_H
/*
 * SUMMARY
 *    str - pointer+length views, and a bounded writer (str_out)
 * DESCRIPTION
 *    struct str is a view into a buffer somebody else owns. The SIP
 *    parser hands out these into the received message, so the bytes
 *    are not NUL-terminated: never read past len.
 *
 *    struct str_out appends into a caller's fixed buffer and stops at
 *    its end, for code that builds a message piece by piece. Nothing
 *    here allocates.
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

/* str_ieq_cstr - ASCII case-insensitive equality with a C string */
static inline int str_ieq_cstr(struct str a, const char *c)
{
    size_t n = strlen(c);

    return a.len == n && strncasecmp(a.s, c, n) == 0;
}

/*
 * str_utoa - the decimal text of n at the start of buf (not
 *    NUL-terminated); cap 10 holds any 32-bit n. Returns it as a str
 *    into buf.
 */
static inline struct str str_utoa(char *buf, size_t cap, unsigned n)
{
    size_t i = cap;

    do {
        buf[--i] = (char)('0' + n % 10);
        n /= 10;
    } while (n > 0 && i > 0);
    memmove(buf, buf + i, cap - i);
    return (struct str){buf, cap - i};
}

/*
 * struct str_out - a bounded output buffer. Start it as
 * {buf, cap, 0}; the bytes written are then p - buf.
 */
struct str_out {
    char *p;                            /* next byte to write */
    size_t left;                        /* room after p */
    int full;                           /* an append did not fit */
};

/*
 * str_out_put - append n bytes of s
 *      When they do not fit, nothing is written, "full" is set and
 *      stays set: every later append is dropped too, so the output is
 *      never a message with a hole in it. Check "full" once, at the
 *      end, instead of after every append. Does not NUL-terminate.
 */
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
