#ifndef SIP_MSG_PRIV_H
#define SIP_MSG_PRIV_H
/*
 * SUMMARY
 *      sip_msg_priv - internals shared by the common/sip/ files
 * DESCRIPTION
 *      Character classes (RFC 3261 section 25.1) as inline functions so
 *      the scanners stay free of per-byte calls, and the few functions
 *      the files of common/sip/ share with each other but not with
 *      their users. Not for use outside common/sip/.
 */
#include "sip_msg.h"

/*
 * Character classes, one byte per character (RFC 3261 section 25.1):
 * a table lookup per byte instead of a chain of comparisons. static, so
 * each file has its own copy (256 bytes) and there is no global.
 */
#define SIP_HDR_C_TOKEN 0x01            /* token */
#define SIP_HDR_C_PVALUE 0x02           /* unquoted parameter value */
#define SIP_HDR_C_LWS 0x04              /* SP HT CR LF */
#define SIP_HDR_C_HOST 0x08             /* hostname / IPv4 character */
#define SIP_HDR_C_DIGIT 0x10

static const unsigned char sip_hdr_cc[256] = {
     0,  0,  0,  0,  0,  0,  0,  0,  0,  4,  4,  0,  0,  4,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     4,  3,  0,  2,  2,  3,  2,  3,  2,  2,  3,  3,  0, 11, 11,  2,
    27, 27, 27, 27, 27, 27, 27, 27, 27, 27,  2,  0,  0,  2,  0,  2,
     2, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,  2,  2,  2,  2, 11,
     3, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,  2,  2,  2,  3,  0,
     2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,
     2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,
     2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,
     2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,
     2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,
     2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,
     2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,
     2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,
};

/* sip_hdr_is_lws - SP, HT, or the CR/LF of a folded line */
static inline int sip_hdr_is_lws(unsigned char c)
{
    return sip_hdr_cc[c] & SIP_HDR_C_LWS;
}

/* sip_hdr_is_alnum - ASCII letter or digit */
static inline int sip_hdr_is_alnum(unsigned char c)
{
    return (unsigned char)((c | 0x20) - 'a') < 26
           || (unsigned char)(c - '0') < 10;
}

/* sip_hdr_is_digit - ASCII digit */
static inline int sip_hdr_is_digit(unsigned char c)
{
    return (unsigned char)(c - '0') < 10;
}

/* sip_hdr_is_token - RFC 3261 token character */
static inline int sip_hdr_is_token(unsigned char c)
{
    return sip_hdr_cc[c] & SIP_HDR_C_TOKEN;
}

/* sip_hdr_is_host - a character of a hostname or IPv4 address */
static inline int sip_hdr_is_host(unsigned char c)
{
    return sip_hdr_cc[c] & SIP_HDR_C_HOST;
}

/*
 * sip_hdr_is_pvalue - a byte that may appear unquoted in a parameter
 *      value: token, host (with IPv6 colons and brackets) or URI param
 *      characters, and UTF-8. Not LWS, controls, or ; , " < >.
 */
static inline int sip_hdr_is_pvalue(unsigned char c)
{
    return sip_hdr_cc[c] & SIP_HDR_C_PVALUE;
}

/* sip_hdr_skip_lws - advance p over LWS, not past end */
static inline const char *sip_hdr_skip_lws(const char *p, const char *end)
{
    while (p < end && sip_hdr_is_lws((unsigned char)*p))
        p++;
    return p;
}

/*
 * sip_hdr_ieq - s equals the lower-case literal lit (len n), ignoring
 *      ASCII case. Inline, length first: most candidates fail there.
 */
static inline int sip_hdr_ieq(struct str s, const char *lit, size_t n)
{
    size_t i;

    if (s.len != n)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.s[i];
        unsigned char l = (unsigned char)lit[i];

        if (c != l && ((c | 0x20) != l || (unsigned char)(l - 'a') >= 26))
            return 0;
    }
    return 1;
}

/* sip_hdr_ieq2 - n bytes of a and b equal, ignoring ASCII case */
static inline int sip_hdr_ieq2(const char *a, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i] | 0x20;

        if (a[i] != b[i] && (x != ((unsigned char)b[i] | 0x20)
                             || (unsigned char)(x - 'a') >= 26))
            return 0;
    }
    return 1;
}

/* sip_hdr_trim_lws - inline sip_hdr_trim() for the hot paths */
static inline struct str sip_hdr_trim_lws(struct str s)
{
    while (s.len > 0 && sip_hdr_is_lws((unsigned char)s.s[0])) {
        s.s++;
        s.len--;
    }
    while (s.len > 0 && sip_hdr_is_lws((unsigned char)s.s[s.len - 1]))
        s.len--;
    return s;
}

/* SIP_HDR_IEQ - sip_hdr_ieq() against a string literal */
#define SIP_HDR_IEQ(s, lit) sip_hdr_ieq((s), (lit), sizeof(lit) - 1)


/* sip_hdr.c: end of a quoted-string at p ('"'); NULL when unclosed */
const char *sip_hdr_quoted_end(const char *p, const char *end);

/*
 * sip_uri.c: scan a host at p: "[IPv6]" or a name/IPv4 run. Returns
 * the byte after it with *host (no brackets) and *type set, or NULL.
 */
const char *sip_uri_scan_host(const char *p, const char *end,
                              struct str *host, enum sip_host_type *type);

/* sip_msg.c, used by sip_msg_edit.c: one raw header line -> *h. */
int sip_msg_split_line(struct sip_hdr *h, const char *raw, size_t len);

/* sip_msg_field.c, used by sip_msg.c and sip_msg_edit.c. */
int sip_msg_refresh(struct sip_msg *m, enum sip_hdr_type type);
int sip_msg_check_route(struct str value);
int sip_msg_single(enum sip_hdr_type type);

#endif
