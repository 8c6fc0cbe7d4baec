/*
 * SUMMARY
 *      fuzz_sip - libFuzzer target for the SIP parser and message model
 * DESCRIPTION
 *      Parses the input as a datagram and as a framed stream message,
 *      runs the netd scanners on it, and for a message that parses:
 *      dumps it, prints it back (must be byte-identical, must respect
 *      the cap), then makes the edits a proxy makes (requests: new top
 *      Via, Max-Forwards replaced or added, received/rport on the
 *      sender's Via; responses: top Via removed), prints again into a
 *      buffer of exactly print_len bytes with a guard after it, and
 *      requires a request to parse again.
 *
 *      clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *          -Icommon -Icommon/sip fuzz/fuzz_sip.c common/sip/(all .c) \
 *          -o /tmp/fuzz_sip
 *      /tmp/fuzz_sip -max_total_time=60 CORPUS_COPY_OF_t/data/sip
 *      (make fuzz does this, linking the files on the FUZZ_SRC line)
 * FUZZ_SRC: common/sip/*.c
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SIP_GUARD 16

static struct sip_msg fuzz_sip_m;
static struct sip_msg fuzz_sip_m2;
static char fuzz_sip_out[2 * 65536 + FUZZ_SIP_GUARD];
static char fuzz_sip_dump[1 << 20];

/* fuzz_sip_print - print into exactly print_len bytes, check the guard */
static ssize_t fuzz_sip_print(const struct sip_msg *m)
{
    size_t cap = m->print_len;
    ssize_t n;

    assert(cap + FUZZ_SIP_GUARD <= sizeof(fuzz_sip_out));
    memset(fuzz_sip_out, 0xa5, cap + FUZZ_SIP_GUARD);
    if (cap > 0) {
        assert(sip_msg_print(m, fuzz_sip_out, cap - 1) == -ENOSPC);
        assert((unsigned char)fuzz_sip_out[cap - 1] == 0xa5);
    }
    n = sip_msg_print(m, fuzz_sip_out, cap);
    assert(n == (ssize_t)cap);
    assert((unsigned char)fuzz_sip_out[cap] == 0xa5);
    return n;
}

/* fuzz_sip_request - the edits sipd makes to a request */
static void fuzz_sip_request(struct sip_msg *m)
{
    static const char br[] = "z9hG4bKfuzz";
    ssize_t n;
    int r;

    r = sip_msg_hdr_insertf(m, m->first[SIP_HDR_VIA],
                            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=%s", br);
    if (r == -E2BIG)
        return;
    assert(r >= 0);
    assert(m->via1.branch.len == sizeof(br) - 1
           && memcmp(m->via1.branch.s, br, sizeof(br) - 1) == 0);
    assert(m->via2.hdr >= 0);
    if (m->first[SIP_HDR_MAX_FORWARDS] >= 0)
        r = sip_msg_hdr_replace(m, m->first[SIP_HDR_MAX_FORWARDS],
                                STR_LIT("Max-Forwards: 69"));
    else
        r = sip_msg_hdr_insert(m, SIP_HDR_NONE, STR_LIT("Max-Forwards: 70"));
    assert(r >= 0 || r == -E2BIG || r == -ENOSPC);
    assert(r < 0 || m->max_forwards == 69 || m->max_forwards == 70);
    r = sip_msg_via_set_param(m, &m->via2, STR_LIT("received"),
                              STR_LIT("198.51.100.1"));
    assert(r == 0 || r == -ENOSPC);
    r = sip_msg_via_set_param(m, &m->via2, STR_LIT("rport"), STR_LIT("5060"));
    assert(r == 0 || r == -ENOSPC);
    n = fuzz_sip_print(m);
    if (m->nhdrs > SIP_MAX_HDRS)
        return;                         /* valid, but too many to parse */
    r = sip_msg_parse(&fuzz_sip_m2, fuzz_sip_out, (size_t)n, 0);
    assert(r == 0);
    assert(fuzz_sip_m2.via1.branch.len == sizeof(br) - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    const char *buf = (const char *)data;
    struct sip_msg *m = &fuzz_sip_m;
    size_t skip, hl, bl;
    struct str cid;
    ssize_t n;

    if (!init) {
        sip_msg_init(&fuzz_sip_m);
        sip_msg_init(&fuzz_sip_m2);
        init = 1;
    }
    (void)sip_msg_frame(buf, size, &skip, &hl, &bl);
    (void)sip_msg_peek_callid(buf, size, &cid);
    (void)sip_msg_parse(m, buf, size, SIP_PARSE_STREAM);
    if (sip_msg_parse(m, buf, size, 0) < 0)
        return 0;
    assert(sip_msg_dump(m, fuzz_sip_dump, sizeof(fuzz_sip_dump)) > 0);
    n = fuzz_sip_print(m);
    assert((size_t)n == (size_t)(m->buf + m->msg_len - m->start.s));
    assert(memcmp(fuzz_sip_out, m->start.s, (size_t)n) == 0);
    if (m->is_request) {
        fuzz_sip_request(m);
    } else if (sip_msg_via_remove(m, &m->via1) == 0) {
        (void)fuzz_sip_print(m);
    }
    return 0;
}
