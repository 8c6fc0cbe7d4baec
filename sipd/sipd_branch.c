/*
 * SUMMARY
 *    sipd_branch - deterministic Via branch and To tag of a stateless
 *    proxy (RFC 3261 section 16.11)
 * DESCRIPTION
 *    A stateless proxy keeps no transaction, so everything it puts in
 *    a forwarded request must be recomputed identically for every
 *    retransmission; and a CANCEL, or the ACK of a non-2xx final
 *    response, must get the branch of the INVITE it belongs to, since
 *    the next hop matches them to that INVITE by branch (RFC 3261
 *    sections 9.2, 16.6 step 8, 17.2.3).
 *
 *    Our branch is  z9hG4bK "sS" TXN(16 hex) LOOP(8 hex).
 *
 *    TXN (RFC 3261 section 16.11, "first component"):
 *    - the incoming top Via has an RFC 3261 branch (magic cookie): a
 *      hash of that branch and the sent-by. The UAC reuses its branch
 *      for retransmissions, CANCEL and non-2xx ACK, and picks a new
 *      one for a 2xx ACK, which is a transaction of its own;
 *    - otherwise (RFC 2543 client): a hash of the top Via (transport,
 *      sent-by, branch if any), the From tag, the Call-ID, the CSeq
 *      number (not the method) and the Request-URI as received. The To
 *      tag is left out on purpose although section 16.11 lists it: a
 *      non-2xx ACK carries the tag of the response while its INVITE
 *      had none, and section 16.6 step 8 says they MUST share the
 *      branch. Call-ID, From tag and CSeq number still tell apart the
 *      transactions of one dialog; the Request-URI those of forks.
 *
 *    LOOP (RFC 3261 sections 16.3 step 4, 16.6 step 8): a hash of
 *    what routing looked at, the Request-URI and the Route set as
 *    received (never Max-Forwards, never the method). When a request
 *    comes back with a Via of ours whose LOOP equals the one computed
 *    now, nothing it was routed on changed: a loop (482). When the
 *    Request-URI or Route set changed it is a spiral and goes on.
 *
 *    The hash is FNV-1a 64 over the fields, each followed by a 0xff
 *    byte (never valid in SIP text, so "ab"+"c" differs from
 *    "a"+"bc"), finished with the MurmurHash3 fmix64 mixer so every
 *    input bit reaches the printed digits. Not cryptographic: the
 *    branch only has to be unique and stable, not secret.
 *
 *    The To tag of a stateless reply (RFC 3261 section 8.2.6.2) is a
 *    hash of the same request lines, so a retransmitted request gets a
 *    byte-identical reply.
 * PROTOCOL
 *    None: pure functions used by sipd_route.c and sipd_reply.c.
 * DIAGNOSTICS
 *    None: no input is rejected here.
 */
#include <string.h>

#include "sipd_route_priv.h"

#define SIPD_BRANCH_FNV_OFF 0xcbf29ce484222325ull
#define SIPD_BRANCH_FNV_PRIME 0x100000001b3ull
#define SIPD_BRANCH_SEP 0xffu

static const char sipd_branch_hex[] = "0123456789abcdef";

/* sipd_branch_fnv - fold bytes into h (FNV-1a) */
static uint64_t sipd_branch_fnv(uint64_t h, struct str s)
{
    size_t i;

    for (i = 0; i < s.len; i++) {
        h ^= (unsigned char)s.s[i];
        h *= SIPD_BRANCH_FNV_PRIME;
    }
    h ^= SIPD_BRANCH_SEP;
    return h * SIPD_BRANCH_FNV_PRIME;
}

/* sipd_branch_fnv_lc - the same, ASCII case folded (hosts, tokens) */
static uint64_t sipd_branch_fnv_lc(uint64_t h, struct str s)
{
    size_t i;

    for (i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.s[i];

        h ^= (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
        h *= SIPD_BRANCH_FNV_PRIME;
    }
    h ^= SIPD_BRANCH_SEP;
    return h * SIPD_BRANCH_FNV_PRIME;
}

/* sipd_branch_mix - MurmurHash3 fmix64: spread every bit */
static uint64_t sipd_branch_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* sipd_branch_cookie - an RFC 3261 branch (section 8.1.1.7) */
static int sipd_branch_cookie(struct str b)
{
    return b.len > 7 && memcmp(b.s, SIPD_BRANCH_COOKIE, 7) == 0;
}

/* sipd_branch_txn - the transaction part (RFC 3261 section 16.11) */
static uint64_t sipd_branch_txn(const struct sip_msg *m)
{
    const struct sip_via *v = &m->via1;
    uint64_t h = SIPD_BRANCH_FNV_OFF;
    char buf[10];
    struct str num;

    if (sipd_branch_cookie(v->branch)) {
        h = sipd_branch_fnv(h, v->branch);
        return sipd_branch_mix(sipd_branch_fnv_lc(h, v->sent_by));
    }
    num = str_utoa(buf, sizeof(buf), m->cseq);  /* CSeq number, not method */
    h = sipd_branch_fnv_lc(h, v->transport);
    h = sipd_branch_fnv_lc(h, v->sent_by);
    h = sipd_branch_fnv(h, v->branch);
    h = sipd_branch_fnv(h, m->from.tag);
    h = sipd_branch_fnv(h, m->call_id);
    h = sipd_branch_fnv(h, num);
    return sipd_branch_mix(sipd_branch_fnv(h, m->ruri_str));
}

/* sipd_branch_loop - the loop part: RURI and Route set as received */
static uint32_t sipd_branch_loop(const struct sip_msg *m)
{
    struct sip_hdr_iter it;
    struct str elem;
    uint64_t h = sipd_branch_fnv(SIPD_BRANCH_FNV_OFF, m->ruri_str);

    sip_hdr_iter_init(&it, m, SIP_HDR_ROUTE);
    while (sip_hdr_iter_next(&it, m, &elem) > 0)
        h = sipd_branch_fnv(h, elem);
    h = sipd_branch_mix(h);
    return (uint32_t)(h ^ (h >> 32));
}

/*
 * sipd_branch_compute - both parts of our branch for request m
 *    m must be the request as received: before any edit.
 */
void sipd_branch_compute(const struct sip_msg *m, struct sipd_branch *b)
{
    b->txn = sipd_branch_txn(m);
    b->loop = sipd_branch_loop(m);
}

/* sipd_branch_put_hex - ndigits hex digits of v, most significant first */
static void sipd_branch_put_hex(char *out, uint64_t v, int ndigits)
{
    int i;

    for (i = ndigits - 1; i >= 0; i--) {
        out[i] = sipd_branch_hex[v & 0xf];
        v >>= 4;
    }
}

/*
 * sipd_branch_format - write our branch: SIPD_BRANCH_LEN bytes to out,
 *    no NUL.
 */
void sipd_branch_format(const struct sipd_branch *b, char *out)
{
    memcpy(out, SIPD_BRANCH_PREFIX, SIPD_BRANCH_PREFIX_LEN);
    sipd_branch_put_hex(out + SIPD_BRANCH_PREFIX_LEN, b->txn, 16);
    sipd_branch_put_hex(out + SIPD_BRANCH_PREFIX_LEN + 16, b->loop, 8);
}

/* sipd_branch_xdigit - value of a lower-case hex digit, or -1 */
static int sipd_branch_xdigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/*
 * sipd_branch_ours - branch has the exact shape sipd_branch_format()
 *    writes. Returns 1 and sets *loop (when not NULL) to its loop
 *    part, else 0. Cheap enough for every response.
 */
int sipd_branch_ours(struct str branch, uint32_t *loop)
{
    uint32_t l = 0;
    size_t i;
    int d;

    if (branch.len != SIPD_BRANCH_LEN
        || memcmp(branch.s, SIPD_BRANCH_PREFIX, SIPD_BRANCH_PREFIX_LEN) != 0)
        return 0;
    for (i = SIPD_BRANCH_PREFIX_LEN; i < SIPD_BRANCH_LEN; i++) {
        if ((d = sipd_branch_xdigit(branch.s[i])) < 0)
            return 0;
        if (i >= SIPD_BRANCH_PREFIX_LEN + 16)
            l = (l << 4) | (uint32_t)d;
    }
    if (loop != NULL)
        *loop = l;
    return 1;
}

/*
 * sipd_branch_tag - a To tag from n request lines: SIPD_TAG_LEN hex
 *    digits to out, no NUL. Absent parts (s == NULL) count as empty.
 */
void sipd_branch_tag(const struct str *parts, int n, char *out)
{
    uint64_t h = SIPD_BRANCH_FNV_OFF ^ 0x746167u;   /* "tag" */
    int i;

    for (i = 0; i < n; i++)
        h = sipd_branch_fnv(h, parts[i]);
    sipd_branch_put_hex(out, sipd_branch_mix(h), SIPD_TAG_LEN);
}
