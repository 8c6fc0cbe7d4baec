/*
 * SUMMARY
 *      dns_cache - unit tests of dnsd's cache and RFC 3263 selection
 * DESCRIPTION
 *      Drives the pure parts of dnsd without a network: the query key,
 *      IP literals, the first step, NAPTR filtering and ordering, default
 *      SRV names, canonical SRV order, target assembly, the per-query
 *      RFC 2782 order drawn from the Call-ID seed (priorities, weight
 *      shares over 1,000 Call-IDs within 5 points, the same order for
 *      one Call-ID whatever order the records came in), the failure
 *      status, and the cache (lifetimes and the negative bound, expiry,
 *      remaining TTL, LRU eviction, flush). Cases are tables.
 *
 *      The Makefile links daemon objects only into tests named after the
 *      daemon ("dnsd_*"); this file is named for its topic, so it
 *      compiles the two modules it tests itself.
 * PROTOCOL
 *      TAP on stdout.
 * DIAGNOSTICS
 *      Exit status: number of failed tests.
 */
#include "../../dnsd/dnsd_3263.c"
#include "../../dnsd/dnsd_cache.c"

#include "tap.h"

static struct dnsd_key mk(const char *name, uint16_t port, uint8_t proto,
                          uint8_t secure)
{
    struct dnsd_key k;

    if (dnsd_3263_key(&k, name, strlen(name), port, proto, secure) < 0)
        diag("key %s rejected", name);
    return k;
}

static const char *addr_str(const struct msg_dns_target *t, char *buf,
                            size_t cap)
{
    char ip[INET6_ADDRSTRLEN];

    inet_ntop(t->addr.family, t->addr.ip, ip, sizeof(ip));
    snprintf(buf, cap, "%s%s%s:%u/%s", t->addr.family == AF_INET6 ? "[" : "",
             ip, t->addr.family == AF_INET6 ? "]" : "", ntohs(t->addr.port),
             t->proto == MSG_PROTO_TLS   ? "tls"
             : t->proto == MSG_PROTO_TCP ? "tcp" : "udp");
    return buf;
}

/* tv_str - "1.2.3.4:5060/udp 5.6.7.8:5061/tcp" */
static const char *tv_str(const struct msg_dns_target *v, size_t n)
{
    static char out[2048];
    char one[80];
    size_t i, off = 0;

    out[0] = '\0';
    for (i = 0; i < n; i++)
        off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%s",
                                i ? " " : "", addr_str(&v[i], one,
                                                       sizeof(one)));
    return out;
}

static const char *targets_str(const struct dnsd_result *r)
{
    return tv_str(r->targets, r->ntargets);
}

/* rec_str - the candidates of a lookup, canonical order */
static const char *rec_str(const struct dnsd_rec *r)
{
    struct msg_dns_target v[DNSD_MAX_CAND];
    size_t i;

    for (i = 0; i < r->n; i++)
        v[i] = r->c[i].t;
    return tv_str(v, r->n);
}

static void test_key(void)
{
    static const struct {
        const char *in;
        uint16_t port;
        uint8_t proto, secure;
        int ok;
        const char *name;
    } t[] = {
        {"Example.COM", 0, 0, 0, 1, "example.com"},
        {"example.com.", 5060, 1, 0, 1, "example.com"},
        {"sip_1.example.com", 0, 2, 1, 1, "sip_1.example.com"},
        {"[2001:DB8::1]", 0, 0, 0, 1, "[2001:db8::1]"},
        {"", 0, 0, 0, 0, NULL},
        {".", 0, 0, 0, 0, NULL},
        {"a..b", 0, 0, 0, 0, NULL},
        {".a", 0, 0, 0, 0, NULL},
        {"a b", 0, 0, 0, 0, NULL},
        {"a\nb", 0, 0, 0, 0, NULL},
        {"example.com", 0, 3, 0, 1, "example.com"},   /* tls */
        {"example.com", 0, 4, 0, 0, NULL},
        {"example.com", 0, 0, 2, 0, NULL},
    };
    char longname[300];
    struct dnsd_key k, k2;
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int rc = dnsd_3263_key(&k, t[i].in, strlen(t[i].in), t[i].port,
                               t[i].proto, t[i].secure);

        char shown[64];
        size_t j;

        for (j = 0; t[i].in[j] != '\0' && j < sizeof(shown) - 1; j++)
            shown[j] = t[i].in[j] >= ' ' ? t[i].in[j] : '?';
        shown[j] = '\0';
        is_int(rc == 0, t[i].ok, "key \"%s\" %s", shown,
               t[i].ok ? "accepted" : "rejected");
        if (t[i].ok)
            is_str(k.name, t[i].name, "key \"%s\" normalised", t[i].in);
    }
    memset(longname, 'a', sizeof(longname));
    is_int(dnsd_3263_key(&k, longname, 244, 0, 0, 0), -EINVAL,
           "244-byte name rejected (no room for _sips._tcp.)");
    is_int(dnsd_3263_key(&k, longname, 243, 0, 0, 0), 0,
           "243-byte name accepted");
    is_int(dnsd_3263_key(&k, NULL, 3, 0, 0, 0), -EINVAL, "NULL rejected");

    k = mk("Host.example", 0, 0, 0);
    k2 = mk("host.EXAMPLE.", 0, 0, 0);
    ok(dnsd_3263_key_eq(&k, &k2)
           && dnsd_3263_key_hash(&k) == dnsd_3263_key_hash(&k2),
       "case and final dot do not make another key");
    k2 = mk("host.example", 5060, 0, 0);
    ok(!dnsd_3263_key_eq(&k, &k2), "port is part of the key");
    k2 = mk("host.example", 0, MSG_PROTO_TCP, 0);
    ok(!dnsd_3263_key_eq(&k, &k2), "transport is part of the key");
    k2 = mk("host.example", 0, 0, 1);
    ok(!dnsd_3263_key_eq(&k, &k2), "sips is part of the key");
}

static void test_literal(void)
{
    static const struct {
        const char *name;
        uint16_t port;
        uint8_t proto, secure;
        const char *want;               /* NULL: not a literal */
    } t[] = {
        {"192.0.2.1", 0, 0, 0, "192.0.2.1:5060/udp"},
        {"192.0.2.1", 5080, MSG_PROTO_TCP, 0, "192.0.2.1:5080/tcp"},
        {"192.0.2.1", 0, 0, 1, "192.0.2.1:5061/tls"},
        {"192.0.2.1", 0, MSG_PROTO_TLS, 0, "192.0.2.1:5061/tls"},
        {"[2001:db8::1]", 0, 0, 0, "[2001:db8::1]:5060/udp"},
        {"2001:db8::2", 7000, MSG_PROTO_UDP, 0, "[2001:db8::2]:7000/udp"},
        {"::1", 0, MSG_PROTO_TCP, 0, "[::1]:5060/tcp"},
        {"example.com", 0, 0, 0, NULL},
        {"192.0.2.300", 0, 0, 0, NULL},
        {"1.2.3", 0, 0, 0, NULL},
        {"[example.com]", 0, 0, 0, NULL},
    };
    struct dnsd_result r;
    struct dnsd_key k;
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int lit;

        k = mk(t[i].name, t[i].port, t[i].proto, t[i].secure);
        lit = dnsd_3263_literal(&k, &r);
        is_int(lit, t[i].want != NULL, "%s port %u: %s", t[i].name,
               t[i].port, t[i].want ? "literal" : "needs DNS");
        if (lit && t[i].want != NULL) {
            is_str(targets_str(&r), t[i].want, "%s -> %s", t[i].name,
                   t[i].want);
            is_int(r.status, MSG_DNS_OK, "%s status OK", t[i].name);
        }
    }
}

static void test_first_step(void)
{
    static const struct {
        uint16_t port;
        uint8_t proto, secure;
        int naptr, srv, want;
    } t[] = {
        {0, 0, 0, 1, 1, DNSD_STEP_NAPTR},
        {0, 0, 1, 1, 1, DNSD_STEP_NAPTR},
        {0, MSG_PROTO_TCP, 0, 1, 1, DNSD_STEP_SRV},
        {0, 0, 0, 0, 1, DNSD_STEP_SRV},
        {5060, 0, 0, 1, 1, DNSD_STEP_ADDR},
        {5070, MSG_PROTO_UDP, 0, 1, 1, DNSD_STEP_ADDR},
        {0, 0, 0, 1, 0, DNSD_STEP_ADDR},
        {0, 0, 0, 0, 0, DNSD_STEP_ADDR},
    };
    struct dnsd_key k;
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        k = mk("example.com", t[i].port, t[i].proto, t[i].secure);
        is_int(dnsd_3263_first_step(&k, t[i].naptr, t[i].srv), t[i].want,
               "first step: port %u proto %u sips %u naptr %d srv %d",
               t[i].port, t[i].proto, t[i].secure, t[i].naptr, t[i].srv);
    }
}

/* names_str - "name/udp name/tcp" */
static const char *names_str(const struct dnsd_srvname *v, size_t n)
{
    static char out[2048];
    size_t i, off = 0;

    out[0] = '\0';
    for (i = 0; i < n; i++)
        off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%s/%s",
                                i ? " " : "", v[i].name,
                                v[i].proto == MSG_PROTO_TLS   ? "tls"
                                : v[i].proto == MSG_PROTO_TCP ? "tcp"
                                                              : "udp");
    return out;
}

static void test_naptr(void)
{
    /* RFC 3263 section 4.1's example, shuffled, plus noise. */
    static const struct dnsd_naptr in[] = {
        {90, 50, "s", "SIP+D2T", "_sip._tcp.example.com."},
        {50, 50, "s", "SIPS+D2T", "_sips._tcp.example.com."},
        {100, 50, "s", "SIP+D2U", "_sip._udp.example.com."},
        {10, 10, "s", "SIP+D2S", "_sip._sctp.example.com."},
        {20, 10, "u", "SIP+D2U", "_sip._udp.bad.example.com"},
        {90, 10, "S", "sip+d2u", "_SIP._UDP.Other.example.com"},
        {95, 10, "s", "SIP+D2U", "."},
        {96, 10, "s", "SIP+D2U", "_sip._udp.other.example.com"},
        {97, 10, "s", "SIP+D2W", "_sip._ws.example.com"},
    };
    size_t nin = sizeof(in) / sizeof(in[0]);
    struct dnsd_srvname out[DNSD_MAX_SETS];
    size_t n;

    n = dnsd_3263_naptr_select(in, nin, 0, out, DNSD_MAX_SETS);
    is_str(names_str(out, n),
           "_sip._udp.other.example.com/udp _sip._tcp.example.com/tcp "
           "_sip._udp.example.com/udp",
           "NAPTR sip: order, then preference; D2S/D2W, flag u, \".\", "
           "SIPS and duplicates dropped");
    n = dnsd_3263_naptr_select(in, nin, 1, out, DNSD_MAX_SETS);
    is_str(names_str(out, n), "_sips._tcp.example.com/tls",
           "NAPTR sips: only SIPS+D2T");
    n = dnsd_3263_naptr_select(in, nin, 0, out, 2);
    is_int((long long)n, 2, "NAPTR: at most max names");
    n = dnsd_3263_naptr_select(in, 0, 0, out, DNSD_MAX_SETS);
    is_int((long long)n, 0, "NAPTR: none in, none out");
}

static void test_srv_names(void)
{
    static const struct {
        uint8_t proto, secure;
        const char *want;
    } t[] = {
        {0, 0, "_sip._udp.example.com/udp _sip._tcp.example.com/tcp"},
        {MSG_PROTO_UDP, 0, "_sip._udp.example.com/udp"},
        {MSG_PROTO_TCP, 0, "_sip._tcp.example.com/tcp"},
        {0, 1, "_sips._tcp.example.com/tls"},
        {MSG_PROTO_TCP, 1, "_sips._tcp.example.com/tls"},
        {MSG_PROTO_TLS, 0, "_sips._tcp.example.com/tls"},   /* RFC 3263 4.1 */
    };
    struct dnsd_srvname out[DNSD_MAX_SETS];
    struct dnsd_key k;
    size_t i, n;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        k = mk("Example.com", 0, t[i].proto, t[i].secure);
        n = dnsd_3263_srv_names(&k, out, DNSD_MAX_SETS);
        is_str(names_str(out, n), t[i].want, "SRV names proto %u sips %u",
               t[i].proto, t[i].secure);
    }
}

static void test_srv_order(void)
{
    static const struct dnsd_srv base[] = {
        {20, 0, 5060, "c2"}, {10, 60, 5060, "a1"}, {30, 5, 5060, "d"},
        {10, 0, 5060, "A0"}, {0, 0, 5060, "."}, {10, 40, 5060, "a2"},
        {20, 0, 5060, "c"},
    };
    static const char *const want[] = {"A0", "a1", "a2", "c", "c2", "d",
                                       "."};
    size_t n = sizeof(base) / sizeof(base[0]), j, k;
    struct dnsd_srv v[8];
    int same = 1;

    /* the same records in every rotation: one canonical order */
    for (k = 0; k < n; k++) {
        for (j = 0; j < n; j++)
            v[j] = base[(j + k) % n];
        dnsd_3263_srv_order(v, n);
        for (j = 0; j < n; j++)
            if (strcmp(v[j].target, want[j]) != 0)
                same = 0;
    }
    ok(same, "SRV: canonical order (priority, name; \".\" last) whatever "
             "order the server sent");

    {
        struct dnsd_srv one[] = {{0, 7, 5070, "x.example."},
                                 {1, 0, 5071, "."},
                                 {2, 0, 5072, "Y.Example"}};
        struct dnsd_host h[4];

        k = dnsd_3263_srv_hosts(one, 3, MSG_PROTO_TCP, h, 4);
        is_int((long long)k, 2, "SRV hosts: \".\" target skipped");
        is_str(h[0].name, "x.example", "SRV host: final dot removed");
        is_str(h[1].name, "y.example", "SRV host: lower-cased");
        ok(h[0].port == 5070 && h[1].port == 5072
               && h[0].proto == MSG_PROTO_TCP && h[0].weight == 7
               && h[1].prio == 2,
           "SRV hosts: port, priority, weight from the record, transport "
           "from the name");
        k = dnsd_3263_srv_hosts(one, 3, MSG_PROTO_TCP, h, 1);
        is_int((long long)k, 1, "SRV hosts: at most max");
    }
}

/* t_fnv - a Call-ID hash like netd's, folded as dns_clnt_query does */
static uint16_t t_seed(const char *callid)
{
    uint32_t h = 2166136261u;

    for (; *callid; callid++)
        h = (h ^ (unsigned char)*callid) * 16777619u;
    return (uint16_t)(h ^ (h >> 16));
}

/* t_rec - candidates: one IPv4 address per host 10.0.SET.HOST */
static void t_rec(struct dnsd_rec *r, const uint16_t (*hw)[3], size_t n)
{
    size_t i;

    memset(r, 0, sizeof(*r));
    for (i = 0; i < n; i++) {
        struct dnsd_cand *c = &r->c[r->n++];

        c->t.addr.family = AF_INET;
        c->t.addr.ip[0] = 10;
        c->t.addr.ip[2] = (unsigned char)hw[i][0];
        c->t.addr.ip[3] = (unsigned char)(i + 1);
        c->t.addr.port = htons(5060);
        c->t.proto = MSG_PROTO_UDP;
        c->set = (uint8_t)hw[i][0];
        c->host = (uint8_t)i;
        c->prio = hw[i][1];
        c->weight = hw[i][2];
    }
}

static void test_weighted(void)
{
    /* {set, priority, weight} per host */
    static const struct {
        const char *what;
        size_t n;
        uint16_t hw[4][3];
    } t[] = {
        {"10/30/60", 3, {{0, 10, 10}, {0, 10, 30}, {0, 10, 60}}},
        {"50/50", 2, {{0, 5, 50}, {0, 5, 50}}},
        {"1/1/1/97", 4, {{0, 1, 1}, {0, 1, 1}, {0, 1, 1}, {0, 1, 97}}},
        {"0/100", 2, {{0, 0, 0}, {0, 0, 100}}},
    };
    struct msg_dns_target v[DNSD_MAX_CAND];
    struct dnsd_rec r;
    char callid[64];
    size_t i, j, k, n;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int first[4] = {0, 0, 0, 0}, worst = 0, sum = 0, all = 1;

        t_rec(&r, t[i].hw, t[i].n);
        for (j = 0; j < t[i].n; j++)
            sum += t[i].hw[j][2];
        for (k = 0; k < 1000; k++) {
            snprintf(callid, sizeof(callid), "%zu-a84b4c76e66710@pc33.test",
                     k);
            n = dnsd_3263_order(&r, t_seed(callid), v, DNSD_MAX_CAND);
            all &= n == t[i].n;
            first[v[0].addr.ip[3] - 1]++;
        }
        for (j = 0; j < t[i].n; j++) {
            int want = 1000 * t[i].hw[j][2] / sum;
            int d = first[j] > want ? first[j] - want : want - first[j];

            worst = d > worst ? d : worst;
        }
        ok(all && worst <= 50, "weights %s: first-choice shares over 1000 "
           "Call-IDs within 5 points (%d/%d/%d/%d, worst %d per mille)",
           t[i].what, first[0], first[1], first[2], first[3], worst);
    }

    {
        static const uint16_t hw[4][3] = {
            {0, 20, 50}, {0, 10, 50}, {0, 10, 50}, {1, 0, 100}};
        struct dnsd_rec r2;
        struct msg_dns_target v2[DNSD_MAX_CAND];
        int prio_ok = 1, same = 1;

        t_rec(&r, hw, 4);
        for (k = 0; k < 1000; k++) {
            n = dnsd_3263_order(&r, (uint16_t)(k * 7919), v, DNSD_MAX_CAND);
            /* set 0 prio 10 (hosts 2, 3), then set 0 prio 20, then set 1 */
            prio_ok &= n == 4 && v[0].addr.ip[3] != 1 && v[0].addr.ip[3] != 4
                       && v[1].addr.ip[3] != 1 && v[2].addr.ip[3] == 1
                       && v[3].addr.ip[3] == 4;
        }
        ok(prio_ok, "order: NAPTR set first, then priority, in 1000 draws");
        /* the same records in another order: the cache keeps canonical
         * lists, so compare one seed against itself across lookups */
        for (k = 0; k < 100; k++) {
            r2 = r;
            n = dnsd_3263_order(&r, (uint16_t)k, v, DNSD_MAX_CAND);
            dnsd_3263_order(&r2, (uint16_t)k, v2, DNSD_MAX_CAND);
            same &= memcmp(v, v2, n * sizeof(v[0])) == 0;
        }
        ok(same, "order: one seed (an INVITE and its CANCEL), one order");
        n = dnsd_3263_order(&r, 1, v, 2);
        is_int((long long)n, 2, "order: at most max targets");
    }
}

static struct msg_addr ip4(const char *s)
{
    struct msg_addr a;

    memset(&a, 0, sizeof(a));
    a.family = AF_INET;
    inet_pton(AF_INET, s, a.ip);
    return a;
}

static struct msg_addr ip6(const char *s)
{
    struct msg_addr a;

    memset(&a, 0, sizeof(a));
    a.family = AF_INET6;
    inet_pton(AF_INET6, s, a.ip);
    return a;
}

/* t_lookup - what a lookup of SRV records v (in the order given, each
 * host with addresses 192.0.2.P % 256 and .P+1) keeps */
static void t_lookup(struct dnsd_srv *v, size_t n, struct dnsd_rec *r)
{
    struct dnsd_host h[8];
    size_t nh, i;

    dnsd_3263_srv_order(v, n);
    nh = dnsd_3263_srv_hosts(v, n, MSG_PROTO_UDP, h, 8);
    for (i = 0; i < nh; i++) {
        h[i].naddr[0] = 2;
        h[i].addr[0][1] = ip4("192.0.2.1");
        h[i].addr[0][0] = ip4("192.0.2.2");
        h[i].addr[0][0].ip[3] = (unsigned char)(h[i].port % 200);
    }
    memset(r, 0, sizeof(*r));
    dnsd_3263_targets(h, nh, r);
}

static void test_same_order(void)
{
    struct dnsd_srv a[] = {{10, 30, 5061, "x.test"}, {10, 70, 5062, "y.test"},
                           {10, 0, 5063, "z.test"}, {20, 5, 5064, "w.test"}};
    struct dnsd_srv b[] = {{20, 5, 5064, "w.test"}, {10, 0, 5063, "z.test"},
                           {10, 70, 5062, "y.test"}, {10, 30, 5061, "x.test"}};
    struct msg_dns_target va[DNSD_MAX_CAND], vb[DNSD_MAX_CAND];
    struct dnsd_rec ra, rb;
    size_t na, nb, k;
    int same = 1, differ = 0;

    t_lookup(a, 4, &ra);
    t_lookup(b, 4, &rb);
    is_str(rec_str(&rb), rec_str(&ra), "lookup: the same records in "
           "another order keep the same candidates");
    for (k = 0; k < 200; k++) {
        na = dnsd_3263_order(&ra, (uint16_t)k, va, DNSD_MAX_CAND);
        nb = dnsd_3263_order(&rb, (uint16_t)k, vb, DNSD_MAX_CAND);
        same &= na == 8 && na == nb && memcmp(va, vb, na * sizeof(va[0])) == 0;
        differ |= memcmp(va, vb, sizeof(va[0])) != 0
                  || va[0].addr.port != htons(5062);
    }
    ok(same, "order: one Call-ID gets one order from either lookup");
    ok(differ, "order: other Call-IDs get other orders");
}

static void test_targets(void)
{
    struct dnsd_host h[3];
    struct dnsd_rec r;
    struct dnsd_key k;
    int i;

    memset(h, 0, sizeof(h));
    memset(&r, 0, sizeof(r));
    k = mk("example.com", 0, 0, 1);
    dnsd_3263_host_default(&k, &h[0]);
    ok(h[0].port == 5061 && h[0].proto == MSG_PROTO_TLS,
       "default host of a sips URI: 5061/tls");
    h[0].addr[1][0] = ip6("2001:db8::5");
    h[0].naddr[1] = 1;
    h[0].addr[0][0] = ip4("192.0.2.5");
    h[0].addr[0][1] = ip4("192.0.2.6");
    h[0].naddr[0] = 2;
    h[1] = h[0];
    h[1].port = 5070;
    h[1].proto = MSG_PROTO_UDP;
    h[2] = h[0];                        /* same as the first: dropped */
    h[0].addr[0][0] = ip4("192.0.2.6");  /* sorted within a host */
    h[0].addr[0][1] = ip4("192.0.2.5");
    dnsd_3263_targets(h, 3, &r);
    is_str(rec_str(&r),
           "192.0.2.5:5061/tls 192.0.2.6:5061/tls [2001:db8::5]:5061/tls "
           "192.0.2.5:5070/udp 192.0.2.6:5070/udp [2001:db8::5]:5070/udp",
           "targets: host order, IPv4 first, sorted, duplicates dropped");

    memset(&r, 0, sizeof(r));
    memset(h, 0, sizeof(h));
    h[0].port = 5060;
    h[0].proto = MSG_PROTO_UDP;
    h[0].naddr[0] = DNSD_HOST_ADDRS;
    h[1] = h[0];
    h[1].port = 5062;
    h[2] = h[0];
    h[2].port = 5064;
    for (i = 0; i < DNSD_HOST_ADDRS; i++) {
        char s[32];

        snprintf(s, sizeof(s), "10.0.0.%d", i + 1);
        h[0].addr[0][i] = h[1].addr[0][i] = h[2].addr[0][i] = ip4(s);
    }
    dnsd_3263_targets(h, 3, &r);
    is_int(r.n, 3 * DNSD_HOST_ADDRS < DNSD_MAX_CAND ? 3 * DNSD_HOST_ADDRS
                                                     : DNSD_MAX_CAND,
           "targets: at most %d", DNSD_MAX_CAND);
    is_int(ntohs(r.c[r.n - 1].t.addr.port), 5064,
           "targets: cut at the end of the list");

    is_int(dnsd_3263_status(DNSD_SEEN_NX), MSG_DNS_NXDOMAIN,
           "status: no such name");
    is_int(dnsd_3263_status(0), MSG_DNS_NXDOMAIN, "status: no records");
    is_int(dnsd_3263_status(DNSD_SEEN_NX | DNSD_SEEN_ERROR), MSG_DNS_ERROR,
           "status: server failure beats NXDOMAIN");
    is_int(dnsd_3263_status(DNSD_SEEN_ERROR | DNSD_SEEN_TIMEOUT),
           MSG_DNS_TIMEOUT, "status: timeout beats everything");
}

static struct dnsd_rec res(uint16_t status, uint32_t ttl, const char *ip)
{
    struct dnsd_rec r;

    memset(&r, 0, sizeof(r));
    r.status = status;
    r.ttl = ttl;
    if (ip != NULL) {
        r.n = 1;
        r.c[0].t.addr = ip4(ip);
        r.c[0].t.addr.port = htons(5060);
        r.c[0].t.proto = MSG_PROTO_UDP;
    }
    return r;
}

static void test_lifetime(void)
{
    static const struct {
        uint16_t status;
        uint32_t ttl;
        int targets;
        uint32_t want;
    } t[] = {
        {MSG_DNS_OK, 300, 1, 300},
        {MSG_DNS_OK, 0, 1, 0},
        {MSG_DNS_OK, 86400, 1, DNSD_POS_TTL_MAX},
        {MSG_DNS_OK, 300, 0, 0},
        /* negative: the SOA's value, at most 300 s; 30 s without SOA */
        {MSG_DNS_NXDOMAIN, 86400, 0, 300},
        {MSG_DNS_NXDOMAIN, 3600, 0, 300},
        {MSG_DNS_NXDOMAIN, 120, 0, 120},
        {MSG_DNS_NXDOMAIN, 10, 0, 10},
        {MSG_DNS_NXDOMAIN, 0, 0, 0},
        {MSG_DNS_NXDOMAIN, DNSD_TTL_NONE, 0, 30},
        /* SERVFAIL/REFUSED: 5 s, whatever; timeouts: never */
        {MSG_DNS_ERROR, 300, 0, 5},
        {MSG_DNS_ERROR, 0, 0, 5},
        {MSG_DNS_TIMEOUT, 300, 0, 0},
    };
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct dnsd_rec r = res(t[i].status, t[i].ttl,
                                t[i].targets ? "192.0.2.1" : NULL);

        is_int(dnsd_cache_lifetime(&r), t[i].want,
               "lifetime: status %u ttl %u targets %d", t[i].status,
               t[i].ttl, t[i].targets);
    }
}

static void test_cache(void)
{
    struct dnsd_cache c;
    struct dnsd_rec r, got;
    struct dnsd_key a, b, d, e, a5080;
    int64_t now = 1000000;

    is_int(dnsd_cache_init(&c, 3), 0, "cache init");
    a = mk("a.example", 0, 0, 0);
    b = mk("b.example", 0, 0, 0);
    d = mk("d.example", 0, 0, 0);
    e = mk("e.example", 0, 0, 0);
    a5080 = mk("a.example", 5080, 0, 0);

    ok(!dnsd_cache_get(&c, &a, now, &got), "empty cache: miss");
    r = res(MSG_DNS_OK, 60, "192.0.2.1");
    is_int(dnsd_cache_put(&c, &a, &r, now), 1, "put a (ttl 60)");
    ok(dnsd_cache_get(&c, &a, now + 1500, &got), "get a after 1.5 s: hit");
    is_str(rec_str(&got), "192.0.2.1:5060/udp", "hit has the targets");
    is_int(got.ttl, 59, "hit has the remaining ttl (59 s)");
    ok(!dnsd_cache_get(&c, &a5080, now, &got),
       "a with port 5080 is another key: miss");
    ok(!dnsd_cache_get(&c, &a, now + 60000, &got), "a after 60 s: expired");
    is_int((long long)c.n, 0, "expired entry dropped on lookup");

    r = res(MSG_DNS_OK, 0, "192.0.2.1");
    is_int(dnsd_cache_put(&c, &a, &r, now), 0, "ttl 0: not cached");
    r = res(MSG_DNS_TIMEOUT, 0, NULL);
    is_int(dnsd_cache_put(&c, &a, &r, now), 0, "timeout: not cached");
    r = res(MSG_DNS_NXDOMAIN, 3600, NULL);
    is_int(dnsd_cache_put(&c, &a, &r, now), 1, "NXDOMAIN: cached");
    ok(dnsd_cache_get(&c, &a, now + 299000, &got)
           && got.status == MSG_DNS_NXDOMAIN,
       "NXDOMAIN hit after 299 s");
    ok(!dnsd_cache_get(&c, &a, now + 300000, &got),
       "NXDOMAIN gone after 300 s whatever the SOA said");
    r = res(MSG_DNS_ERROR, 0, NULL);
    is_int(dnsd_cache_put(&c, &a, &r, now), 1, "server failure: cached");
    ok(dnsd_cache_get(&c, &a, now + 4000, &got)
           && !dnsd_cache_get(&c, &a, now + 5000, &got),
       "server failure gone after 5 s");

    r = res(MSG_DNS_OK, 300, "192.0.2.1");
    dnsd_cache_put(&c, &a, &r, now);
    r = res(MSG_DNS_OK, 300, "192.0.2.2");
    dnsd_cache_put(&c, &b, &r, now);
    r = res(MSG_DNS_OK, 300, "192.0.2.4");
    dnsd_cache_put(&c, &d, &r, now);
    ok(dnsd_cache_get(&c, &a, now, &got), "a used again (b now oldest)");
    r = res(MSG_DNS_OK, 300, "192.0.2.5");
    dnsd_cache_put(&c, &e, &r, now);
    is_int((long long)c.n, 3, "bounded: still 3 entries");
    ok(!dnsd_cache_get(&c, &b, now, &got), "least recently used b evicted");
    ok(dnsd_cache_get(&c, &a, now, &got) && dnsd_cache_get(&c, &d, now, &got)
           && dnsd_cache_get(&c, &e, now, &got),
       "a, d, e still there");
    r = res(MSG_DNS_OK, 300, "192.0.2.9");
    dnsd_cache_put(&c, &a, &r, now);
    ok(dnsd_cache_get(&c, &a, now, &got)
           && strcmp(rec_str(&got), "192.0.2.9:5060/udp") == 0
           && c.n == 3,
       "put on an existing key replaces it");
    dnsd_cache_flush(&c);
    ok(c.n == 0 && !dnsd_cache_get(&c, &a, now, &got), "flush empties");
    dnsd_cache_fini(&c);
    is_int(dnsd_cache_init(&c, 0), -EINVAL, "max 0 rejected");
}

/* A bigger run: many keys through a small cache, then every lookup. */
static void test_cache_churn(void)
{
    struct dnsd_cache c;
    struct dnsd_rec r = res(MSG_DNS_OK, 100, "192.0.2.1"), got;
    int i, hits = 0, bad = 0;
    char name[64];

    dnsd_cache_init(&c, 64);
    for (i = 0; i < 1000; i++) {
        struct dnsd_key k;

        snprintf(name, sizeof(name), "h%d.example", i);
        k = mk(name, 0, 0, 0);
        dnsd_cache_put(&c, &k, &r, 0);
    }
    for (i = 0; i < 1000; i++) {
        struct dnsd_key k;

        snprintf(name, sizeof(name), "h%d.example", i);
        k = mk(name, 0, 0, 0);
        if (dnsd_cache_get(&c, &k, 1, &got)) {
            hits++;
            bad += i < 1000 - 64;
        }
    }
    is_int(hits, 64, "churn: exactly the last 64 keys are cached");
    is_int(bad, 0, "churn: no old key survived");
    dnsd_cache_fini(&c);
}

int main(void)
{
    test_key();
    test_literal();
    test_first_step();
    test_naptr();
    test_srv_names();
    test_srv_order();
    test_weighted();
    test_targets();
    test_same_order();
    test_lifetime();
    test_cache();
    test_cache_churn();
    return done_testing();
}
