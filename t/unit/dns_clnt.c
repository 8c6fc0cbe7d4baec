/*
 * SUMMARY
 *      dns_clnt - unit tests of the dnsd protocol over real rings
 * DESCRIPTION
 *      Both ends of the sipd <-> dnsd protocol on rings formatted in
 *      process memory: dns_clnt_query() (sipd) against dnsd_link_decode()
 *      (dnsd), dnsd_link_answer()/dnsd_link_flush() (dnsd) against
 *      dns_clnt_answer() (sipd), the argument checks of both client
 *      calls, records they must refuse, and dnsd's backlog for a full
 *      answer ring (held in order, retried, bounded, counted).
 *
 *      The Makefile links daemon objects only into tests named after the
 *      daemon ("dnsd_*"); this file compiles the modules it drives.
 * PROTOCOL
 *      TAP on stdout.
 * DIAGNOSTICS
 *      Exit status: number of failed tests.
 */
#include "../../dnsd/dnsd_3263.c"
#include "../../dnsd/dnsd_link.c"

#include <arpa/inet.h>

#include "dns_clnt.h"
#include "tap.h"

#define T_RING 4096

static void *t_ring_mem(void)
{
    void *m = aligned_alloc(64, ring_shm_bytes(T_RING));

    if (m == NULL || ring_format(m, T_RING, "test") < 0)
        abort();
    return m;
}

static void t_pair(void *mem, struct ring *prod, struct ring *cons)
{
    if (ring_attach(prod, mem, -1, RING_PRODUCER) < 0
        || ring_attach(cons, mem, -1, RING_CONSUMER) < 0)
        abort();
}

static void test_query(void)
{
    void *mem = t_ring_mem();
    struct ring p, c;
    const struct ring_rec *rec;
    struct dnsd_key k;
    uint64_t qid = 0;
    uint16_t seed = 0;
    int n = 0;

    t_pair(mem, &p, &c);
    is_int(dns_clnt_query(&p, 77, "Proxy.Example.COM", 17, 5080,
                          MSG_PROTO_TCP, 0, 0x12345678),
           0, "query reserved");
    ok(ring_pop(&c) == NULL, "not visible before commit");
    ring_commit(&p);
    rec = ring_pop(&c);
    ok(rec != NULL && rec->type == MSG_T_DNS_QUERY, "a query record");
    is_int(dnsd_link_decode(rec, &k, &qid, &seed), DNSD_Q_OK,
           "dnsd decodes it");
    is_int((long long)qid, 77, "qid");
    is_int(seed, 0x1234 ^ 0x5678, "seed: the Call-ID hash folded to 16 bits");
    is_str(k.name, "proxy.example.com", "name, lower-cased");
    ok(k.port == 5080 && k.proto == MSG_PROTO_TCP && !k.secure,
       "port, transport, sips");
    ring_release(&c);

    is_int(dns_clnt_query(&p, 1, NULL, 3, 0, 0, 0, 0), -EINVAL, "NULL name");
    is_int(dns_clnt_query(&p, 1, "x", 0, 0, 0, 0, 0), -EINVAL, "empty name");
    {
        char big[300];

        memset(big, 'a', sizeof(big));
        is_int(dns_clnt_query(&p, 1, big, 256, 0, 0, 0, 0), -EINVAL,
               "256-byte name");
    }
    is_int(dns_clnt_query(&p, 1, "x", 1, 0, 4, 0, 0), -EINVAL, "proto 4");
    is_int(dns_clnt_query(&p, 1, "x", 1, 0, 0, 2, 0), -EINVAL, "secure 2");
    is_int(dns_clnt_query(NULL, 1, "x", 1, 0, 0, 0, 0), -EINVAL, "NULL ring");

    while (dns_clnt_query(&p, (uint64_t)n, "a.example", 9, 0, 0, 0, 0) == 0)
        n++;
    ok(n > 10, "filled the ring with %d queries", n);
    is_int(dns_clnt_query(&p, 1, "a.example", 9, 0, 0, 0, 0), -ENOSPC,
           "full ring: -ENOSPC");
    ring_commit(&p);
    while ((rec = ring_pop(&c)) != NULL)
        n--;
    ring_release(&c);
    is_int(n, 0, "every reserved query arrived once");
    free(mem);
}

static void test_decode_bad(void)
{
    unsigned char buf[256] __attribute__((aligned(8)));
    struct ring_rec *rec = (struct ring_rec *)buf;
    struct msg_dns_query *q = (struct msg_dns_query *)rec->data;
    struct dnsd_key k;
    uint64_t qid = 0;
    uint16_t seed = 0;

    memset(buf, 0, sizeof(buf));
    rec->type = MSG_T_DNS_QUERY;
    rec->version = MSG_V1;
    q->qid = 9;
    memcpy(q->name, "bad name", 8);
    q->name_len = 8;
    rec->len = (uint32_t)(sizeof(*q) + 8);
    is_int(dnsd_link_decode(rec, &k, &qid, &seed), DNSD_Q_BAD,
           "space in name: bad");
    is_int((long long)qid, 9, "bad query still yields its qid");
    memcpy(q->name, "goodname", 8);
    q->name_len = 20;
    is_int(dnsd_link_decode(rec, &k, &qid, &seed), DNSD_Q_BAD,
           "name_len past the record: bad");
    q->name_len = 8;
    q->proto = 9;
    is_int(dnsd_link_decode(rec, &k, &qid, &seed), DNSD_Q_BAD, "proto 9: bad");
    q->proto = 0;
    is_int(dnsd_link_decode(rec, &k, &qid, &seed), DNSD_Q_OK, "fixed: ok");
    rec->len = sizeof(*q) - 1;
    is_int(dnsd_link_decode(rec, &k, &qid, &seed), DNSD_Q_SKIP,
           "shorter than the header: skipped");
    rec->len = (uint32_t)(sizeof(*q) + 8);
    rec->type = MSG_T_SIP_IN;
    is_int(dnsd_link_decode(rec, &k, &qid, &seed), DNSD_Q_SKIP,
           "another type: skipped");
}

static struct dnsd_result t_res(uint16_t status, int n)
{
    struct dnsd_result r;
    int i;

    memset(&r, 0, sizeof(r));
    r.status = status;
    r.ttl = 42;
    for (i = 0; i < n; i++) {
        r.targets[i].addr.family = AF_INET;
        r.targets[i].addr.port = htons((uint16_t)(5060 + i));
        r.targets[i].addr.ip[0] = 192;
        r.targets[i].addr.ip[3] = (unsigned char)i;
        r.targets[i].proto = MSG_PROTO_UDP;
    }
    r.ntargets = (uint16_t)n;
    return r;
}

static void t_link(struct dnsd_link *l, void *mem, struct ring *cons,
                   struct stats_slot *st)
{
    memset(l, 0, sizeof(*l));
    memset(st, 0, sizeof(*st));
    if (ring_attach(&l->out, mem, -1, RING_PRODUCER) < 0
        || ring_attach(cons, mem, -1, RING_CONSUMER) < 0)
        abort();
    l->up = 1;
    l->st = st;
}

static void test_answer(void)
{
    void *mem = t_ring_mem();
    struct dnsd_link *l = malloc(sizeof(*l));
    struct dnsd_result r = t_res(MSG_DNS_OK, 3);
    const struct msg_dns_answer *a;
    const struct ring_rec *rec;
    struct stats_slot st;
    struct ring c;

    t_link(l, mem, &c, &st);
    dnsd_link_answer(l, 1234, &r);
    ok(ring_pop(&c) == NULL, "answer not visible before flush");
    dnsd_link_flush(l);
    rec = ring_pop(&c);
    a = dns_clnt_answer(rec);
    ok(a != NULL, "sipd accepts the answer");
    if (a != NULL) {
        ok(a->qid == 1234 && a->status == MSG_DNS_OK && a->ttl == 42
               && a->ntargets == 3,
           "qid, status, ttl, ntargets");
        is_int(rec->len, sizeof(*a) + 3 * sizeof(a->targets[0]),
               "only the targets used are sent");
        is_mem(a->targets, 3 * sizeof(a->targets[0]), r.targets,
               3 * sizeof(r.targets[0]), "targets in order");
    }
    ring_release(&c);

    r = t_res(MSG_DNS_NXDOMAIN, 0);
    dnsd_link_answer(l, 5, &r);
    dnsd_link_flush(l);
    a = dns_clnt_answer(rec = ring_pop(&c));
    ok(a != NULL && a->status == MSG_DNS_NXDOMAIN && a->ntargets == 0
           && rec->len == sizeof(*a),
       "NXDOMAIN answer: header only");
    ring_release(&c);

    {
        unsigned char buf[1024] __attribute__((aligned(8)));
        struct ring_rec *fake = (struct ring_rec *)buf;
        struct msg_dns_answer *fa = (struct msg_dns_answer *)fake->data;

        memset(buf, 0, sizeof(buf));
        fake->type = MSG_T_DNS_ANSWER;
        fake->version = MSG_V1;
        fake->len = sizeof(*fa) + 2 * sizeof(fa->targets[0]);
        fa->ntargets = 2;
        ok(dns_clnt_answer(fake) == fa, "well-formed fake accepted");
        fa->ntargets = 3;
        ok(dns_clnt_answer(fake) == NULL, "more targets than len: NULL");
        fa->ntargets = MSG_DNS_MAX_ADDRS + 1;
        fake->len = sizeof(*fa) + (MSG_DNS_MAX_ADDRS + 1)
                                      * sizeof(fa->targets[0]);
        ok(dns_clnt_answer(fake) == NULL, "ntargets > %d: NULL",
           MSG_DNS_MAX_ADDRS);
        fa->ntargets = 0;
        fake->len = sizeof(*fa) - 1;
        ok(dns_clnt_answer(fake) == NULL, "shorter than header: NULL");
        fake->len = sizeof(*fa) + 64;
        ok(dns_clnt_answer(fake) == fa,
           "longer (newer dnsd, more fields): accepted");
        fake->type = MSG_T_DNS_QUERY;
        ok(dns_clnt_answer(fake) == NULL, "wrong type: NULL");
        fake->type = MSG_T_DNS_ANSWER;
        fake->version = 0;
        ok(dns_clnt_answer(fake) == NULL, "version 0: NULL");
        ok(dns_clnt_answer(NULL) == NULL, "NULL record: NULL");
    }
    free(l);
    free(mem);
}

static void test_backlog(void)
{
    void *mem = t_ring_mem();
    struct dnsd_link *l = malloc(sizeof(*l));
    struct dnsd_result r = t_res(MSG_DNS_OK, MSG_DNS_MAX_ADDRS);
    const struct msg_dns_answer *a;
    const struct ring_rec *rec;
    struct stats_slot st;
    struct ring c;
    uint64_t i, next = 0, total = 40;
    int inorder = 1;

    t_link(l, mem, &c, &st);
    for (i = 0; i < total; i++)
        dnsd_link_answer(l, i, &r);
    ok(l->bl_n > 0, "full ring: %zu answers held", l->bl_n);
    is_int((long long)st.v[STAT_DNS_BACKLOGGED], (long long)l->bl_n,
           "dns:backlogged counts them");
    dnsd_link_flush(l);
    while (next < total) {
        size_t got = 0;

        while ((rec = ring_pop(&c)) != NULL) {
            a = dns_clnt_answer(rec);
            if (a == NULL || a->qid != next)
                inorder = 0;
            next++;
            got++;
        }
        ring_release(&c);
        if (got == 0)
            break;
        dnsd_link_flush(l);
    }
    is_int((long long)next, (long long)total, "all %llu answers arrived",
           (unsigned long long)total);
    ok(inorder, "in the order they were made");
    is_int((long long)l->bl_n, 0, "backlog empty");

    /* Nobody reads: the backlog is bounded, the oldest are dropped. */
    for (i = 0; i < DNSD_BACKLOG + 20; i++)
        dnsd_link_answer(l, 1000 + i, &r);
    dnsd_link_flush(l);
    is_int((long long)l->bl_n, DNSD_BACKLOG, "backlog bounded at %d",
           DNSD_BACKLOG);
    ok(st.v[STAT_DNS_PENDING_DROPS] > 0, "drops counted (%llu)",
       (unsigned long long)st.v[STAT_DNS_PENDING_DROPS]);
    ok(l->bl[(l->bl_head + l->bl_n - 1) % DNSD_BACKLOG].qid
           == 1000 + DNSD_BACKLOG + 19,
       "newest answer kept");

    l->up = 0;
    l->bl_n = 0;
    dnsd_link_answer(l, 1, &r);
    is_int((long long)l->bl_n, 0, "link down: answer ignored");
    free(l);
    free(mem);
}

/* MSG_T_DNS_FAILED: what dnsd accepts as a failed-target report */
static void test_failed(void)
{
    unsigned char buf[128] __attribute__((aligned(8)));
    struct ring_rec *rec = (struct ring_rec *)buf;
    struct msg_dns_failed *f = (struct msg_dns_failed *)rec->data;
    const struct msg_dns_failed *got;

    memset(buf, 0, sizeof(buf));
    rec->type = MSG_T_DNS_FAILED;
    rec->version = MSG_V1;
    rec->len = sizeof(*f);
    f->addr.family = AF_INET;
    f->addr.port = htons(5070);
    f->proto = MSG_PROTO_TCP;
    f->reason = MSG_FAIL_REFUSED;
    got = dnsd_link_failed(rec);
    ok(got != NULL && got->proto == MSG_PROTO_TCP
           && got->reason == MSG_FAIL_REFUSED,
       "failed-target report decoded");
    rec->len = sizeof(*f) - 1;
    ok(dnsd_link_failed(rec) == NULL, "short report refused");
    rec->len = sizeof(*f);
    f->addr.family = AF_UNIX;
    ok(dnsd_link_failed(rec) == NULL, "bad family refused");
    f->addr.family = AF_INET;
    rec->type = MSG_T_DNS_QUERY;
    ok(dnsd_link_failed(rec) == NULL, "a query is not a report");
}

int main(void)
{
    log_level_set(LOG_L_ERR);
    test_query();
    test_decode_bad();
    test_answer();
    test_failed();
    test_backlog();
    return done_testing();
}
