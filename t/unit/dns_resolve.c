/*
 * SUMMARY
 *      dns_resolve - dnsd's resolver against a real DNS server (dnsmasq)
 * DESCRIPTION
 *      Starts dnsmasq on 127.0.0.1 on a free port with fixed records,
 *      points dnsd's c-ares channel at it and drives dnsd_resolve_query()
 *      in an ev loop, as dnsd does, checking the answers a sipd would get:
 *      A only when a port is given, SRV (udp then tcp), NAPTR -> SRV,
 *      sips, NXDOMAIN, the TTL, IPv6 with try_ipv6, coalescing of
 *      duplicate queries, cache hits, TIMEOUT from a server that never
 *      answers and ERROR from a port nothing listens on. Without dnsmasq
 *      that part is skipped.
 *
 *      A tiny DNS responder (t_fake_*, a forked child) answers what
 *      dnsmasq cannot: REFUSED, SERVFAIL, silence, NXDOMAIN and NODATA
 *      for NAPTR only, with SRV records behind, so every NAPTR failure
 *      is seen to fall through to SRV (and an SRV failure to A); a
 *      negative answer with a large SOA minimum is seen capped in the
 *      cache; and a blacklisted target is seen left out of the answer.
 *
 *      The Makefile links daemon objects only into tests named after the
 *      daemon ("dnsd_*"); this file compiles the modules it drives.
 * PROTOCOL
 *      TAP on stdout; DNS to the dnsmasq it started.
 * DIAGNOSTICS
 *      Exit status: number of failed tests. dnsmasq is killed (by its
 *      pid) at the end, also when a test fails.
 */
#include "../../dnsd/dnsd_3263.c"
#include "../../dnsd/dnsd_ares.c"
#include "../../dnsd/dnsd_bl.c"
#include "../../dnsd/dnsd_cache.c"
#include "../../dnsd/dnsd_resolve.c"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "tap.h"

#define T_MAXQ 128

struct t_ans {
    int done;
    int link;
    struct dnsd_result r;
};

static struct t_ans t_ans[T_MAXQ];
static pid_t t_dnsmasq = -1;

static void t_on_answer(void *arg, int link, uint64_t qid,
                        const struct dnsd_result *r)
{
    (void)arg;
    if (qid >= T_MAXQ)
        return;
    t_ans[qid].done++;
    t_ans[qid].link = link;
    t_ans[qid].r = *r;
}

static const char *t_targets(const struct dnsd_result *r)
{
    static char out[2048];
    char ip[INET6_ADDRSTRLEN];
    size_t i, off = 0;

    out[0] = '\0';
    for (i = 0; i < r->ntargets; i++) {
        const struct msg_dns_target *t = &r->targets[i];

        inet_ntop(t->addr.family, t->addr.ip, ip, sizeof(ip));
        off += (size_t)snprintf(out + off, sizeof(out) - off,
                                "%s%s%s%s:%u/%s", i ? " " : "",
                                t->addr.family == AF_INET6 ? "[" : "", ip,
                                t->addr.family == AF_INET6 ? "]" : "",
                                ntohs(t->addr.port),
                                t->proto == MSG_PROTO_TLS   ? "tls"
                                : t->proto == MSG_PROTO_TCP ? "tcp"
                                                            : "udp");
    }
    return out;
}

/* t_udp_port - a free UDP port on 127.0.0.1; *keep: leave it bound */
static int t_udp_port(int *keep)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_DGRAM, 0), port;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0
        || getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        return -1;
    port = ntohs(sa.sin_port);
    if (keep != NULL)
        *keep = fd;
    else
        close(fd);
    return port;
}

static const char *t_dnsmasq_bin(void)
{
    static const char *const cand[] = {"/usr/sbin/dnsmasq",
                                       "/usr/bin/dnsmasq",
                                       "/usr/local/sbin/dnsmasq"};
    size_t i;

    for (i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
        if (access(cand[i], X_OK) == 0)
            return cand[i];
    return NULL;
}

/* t_dnsmasq_start - dnsmasq on port with the test's records */
static int t_dnsmasq_start(const char *bin, int port)
{
    char portarg[32];
    int i, devnull;

    snprintf(portarg, sizeof(portarg), "--port=%d", port);
    if ((t_dnsmasq = fork()) < 0)
        return -1;
    if (t_dnsmasq == 0) {
        devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(devnull, 1);
        execl(bin, bin, "--keep-in-foreground", "--conf-file=/dev/null",
              "--no-resolv", "--no-hosts", portarg,
              "--listen-address=127.0.0.1", "--bind-interfaces",
              "--pid-file=", "--local-ttl=60", "--local=/test/",
              "--host-record=a.test,192.0.2.10",
              "--host-record=b.test,192.0.2.11,2001:db8::11",
              "--host-record=c.test,192.0.2.12",
              "--srv-host=_sip._udp.srv.test,b.test,5070,10,0",
              "--srv-host=_sip._tcp.srv.test,a.test,5071,20,0",
              "--srv-host=_sips._tcp.srv.test,c.test,5072,10,0",
              "--naptr-record=naptr.test,20,10,S,SIP+D2U,,"
              "_sip._udp.naptr.test",
              "--naptr-record=naptr.test,10,10,S,SIP+D2T,,"
              "_sip._tcp.naptr.test",
              "--naptr-record=naptr.test,5,10,S,SIP+D2S,,"
              "_sip._sctp.naptr.test",
              "--srv-host=_sip._tcp.naptr.test,a.test,5080,10,0",
              "--srv-host=_sip._udp.naptr.test,b.test,5090,10,0",
              "--srv-host=_sip._udp.dot.test,.",
              (char *)NULL);
        _exit(127);
    }
    /* Ready when its TCP socket accepts (it listens on both). */
    for (i = 0; i < 200; i++) {
        struct sockaddr_in sa;
        int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
        close(fd);
        if (rc == 0)
            return 0;
        if (waitpid(t_dnsmasq, NULL, WNOHANG) == t_dnsmasq) {
            t_dnsmasq = -1;
            return -1;
        }
        usleep(20000);
    }
    return -1;
}

static void t_dnsmasq_stop(void)
{
    if (t_dnsmasq > 0) {
        kill(t_dnsmasq, SIGTERM);
        waitpid(t_dnsmasq, NULL, 0);
        t_dnsmasq = -1;
    }
}

/* t_wait - run the loop until every qid in [from, to) is answered */
static int t_wait(struct ev *ev, int from, int to, int ms)
{
    int64_t end = ev_now_ms() + ms;
    int i, all;

    for (;;) {
        all = 1;
        for (i = from; i < to; i++)
            all &= t_ans[i].done > 0;
        if (all || ev_now_ms() > end)
            return all;
        ev_run_once(ev, 50);
    }
}

static void t_q(struct dnsd_resolve *r, uint64_t qid, const char *name,
                uint16_t port, uint8_t proto, uint8_t secure)
{
    struct dnsd_key k;

    if (dnsd_3263_key(&k, name, strlen(name), port, proto, secure) < 0) {
        diag("bad key %s", name);
        return;
    }
    dnsd_resolve_query(r, &k, 0, 0, qid);
}

static void t_cfg(struct cfg *c, int port, int timeout_ms)
{
    cfg_defaults(c);
    snprintf(c->dns_servers[0].host, sizeof(c->dns_servers[0].host),
             "127.0.0.1");
    c->dns_servers[0].port = (uint16_t)port;
    c->ndns_servers = 1;
    c->dns_timeout_ms = timeout_ms;
    c->dns_tries = 1;
}

static const struct {
    const char *name;
    uint16_t port;
    uint8_t proto, secure;
    uint16_t status;
    const char *want;
    const char *what;
} t_cases[] = {
    {"a.test", 5062, 0, 0, MSG_DNS_OK, "192.0.2.10:5062/udp",
     "port given: A only, udp"},
    {"A.Test.", 5062, MSG_PROTO_TCP, 0, MSG_DNS_OK, "192.0.2.10:5062/tcp",
     "port and transport given"},
    {"a.test", 0, 0, 0, MSG_DNS_OK, "192.0.2.10:5060/udp",
     "no NAPTR, no SRV: A on 5060"},
    {"a.test", 0, 0, 1, MSG_DNS_OK, "192.0.2.10:5061/tls",
     "sips, no SRV: A on 5061/tls"},
    {"srv.test", 0, 0, 0, MSG_DNS_OK,
     "192.0.2.11:5070/udp 192.0.2.10:5071/tcp",
     "no NAPTR: SRV _sip._udp then _sip._tcp"},
    {"srv.test", 0, MSG_PROTO_TCP, 0, MSG_DNS_OK, "192.0.2.10:5071/tcp",
     "transport tcp: SRV _sip._tcp only"},
    {"srv.test", 0, 0, 1, MSG_DNS_OK, "192.0.2.12:5072/tls",
     "sips: SRV _sips._tcp"},
    {"naptr.test", 0, 0, 0, MSG_DNS_OK,
     "192.0.2.10:5080/tcp 192.0.2.11:5090/udp",
     "NAPTR by order (D2T 10 before D2U 20, D2S skipped) -> SRV -> A"},
    {"nx.test", 0, 0, 0, MSG_DNS_NXDOMAIN, "", "no such name: NXDOMAIN"},
    {"nx.test", 5060, 0, 0, MSG_DNS_NXDOMAIN, "",
     "no such name with port: NXDOMAIN"},
    {"dot.test", 0, MSG_PROTO_UDP, 0, MSG_DNS_NXDOMAIN, "",
     "SRV target \".\": service not available"},
    {"192.0.2.99", 0, 0, 0, MSG_DNS_OK, "192.0.2.99:5060/udp",
     "IP literal answered without DNS"},
};

#define T_NCASES (sizeof(t_cases) / sizeof(t_cases[0]))

static void t_main_cases(struct ev *ev, struct dnsd_resolve *r)
{
    size_t i;

    for (i = 0; i < T_NCASES; i++)
        t_q(r, i, t_cases[i].name, t_cases[i].port, t_cases[i].proto,
            t_cases[i].secure);
    ok(t_wait(ev, 0, (int)T_NCASES, 5000), "every query answered");
    for (i = 0; i < T_NCASES; i++) {
        is_int(t_ans[i].r.status, t_cases[i].status, "%s: status",
               t_cases[i].what);
        is_str(t_targets(&t_ans[i].r), t_cases[i].want, "%s: targets",
               t_cases[i].what);
        is_int(t_ans[i].done, 1, "%s: answered once", t_cases[i].what);
    }
    is_int(t_ans[0].r.ttl, 60, "TTL of the A record (dnsmasq local-ttl)");
    is_int(t_ans[8].r.ttl, DNSD_NEG_TTL,
           "negative answer without SOA: %d s", DNSD_NEG_TTL);
}

static void t_coalesce_cache(struct ev *ev, struct dnsd_resolve *r,
                             struct stats_slot *st)
{
    int base = 20, i;

    memset(st, 0, sizeof(*st));
    dnsd_cache_flush(r->cache);
    for (i = 0; i < 3; i++)
        t_q(r, (uint64_t)(base + i), "srv.test", 0, 0, 0);
    is_int((long long)r->nlookups, 1, "3 equal queries: one lookup");
    is_int((long long)st->v[STAT_DNS_COALESCED], 2, "2 coalesced");
    ok(t_wait(ev, base, base + 3, 5000), "all 3 answered");
    for (i = 0; i < 3; i++)
        is_str(t_targets(&t_ans[base + i].r),
               "192.0.2.11:5070/udp 192.0.2.10:5071/tcp",
               "coalesced waiter %d: the answer", i);
    t_q(r, (uint64_t)(base + 3), "SRV.test.", 0, 0, 0);
    is_int(t_ans[base + 3].done, 1, "same name again: answered at once");
    is_int((long long)st->v[STAT_DNS_CACHE_HITS], 1, "from the cache");
    ok(t_ans[base + 3].r.ttl <= 60 && t_ans[base + 3].r.ttl > 0,
       "cached TTL counts down (%u)", t_ans[base + 3].r.ttl);
    t_q(r, (uint64_t)(base + 4), "nx.test", 0, 0, 0);
    ok(t_wait(ev, base + 4, base + 5, 5000), "nx.test answered");
    t_q(r, (uint64_t)(base + 5), "nx.test", 0, 0, 0);
    ok(t_ans[base + 5].done == 1
           && t_ans[base + 5].r.status == MSG_DNS_NXDOMAIN,
       "NXDOMAIN cached too");
    is_int((long long)r->nlookups, 0, "no lookup left in flight");
}

static void t_ipv6(struct ev *ev, struct dnsd_resolve *r)
{
    int q = 30;

    r->ipv6 = 1;
    t_q(r, (uint64_t)q, "b.test", 5000, 0, 0);
    ok(t_wait(ev, q, q + 1, 5000), "try_ipv6: answered");
    is_str(t_targets(&t_ans[q].r),
           "192.0.2.11:5000/udp [2001:db8::11]:5000/udp",
           "try_ipv6: A then AAAA");
    r->ipv6 = 0;
}

/* t_timeouts - a port nobody listens on, and one that never answers */
static void t_timeouts(void)
{
    struct dnsd_ares *a = NULL;
    struct dnsd_resolve r;
    struct ev ev;
    struct cfg c;
    int sink = -1, port, q = 40;
    int64_t t0;

    ev_init(&ev);
    port = t_udp_port(&sink);
    t_cfg(&c, port, 300);
    is_int(dnsd_ares_init(&a, &ev, &c), 0, "c-ares on a silent server");
    dnsd_resolve_init(&r, a, NULL, &c, t_on_answer, NULL);
    t0 = ev_now_ms();
    t_q(&r, (uint64_t)q, "a.test", 0, 0, 0);
    ok(t_wait(&ev, q, q + 1, 5000), "silent server: answered");
    is_int(t_ans[q].r.status, MSG_DNS_TIMEOUT, "silent server: TIMEOUT");
    ok(ev_now_ms() - t0 >= 550 && ev_now_ms() - t0 < 1500,
       "NAPTR timeout fell through to SRV; stopped after two silent "
       "steps (%lld ms)", (long long)(ev_now_ms() - t0));
    dnsd_ares_free(a);
    dnsd_resolve_fini(&r);
    close(sink);

    port = t_udp_port(NULL);
    t_cfg(&c, port, 300);
    is_int(dnsd_ares_init(&a, &ev, &c), 0, "c-ares on a closed port");
    dnsd_resolve_init(&r, a, NULL, &c, t_on_answer, NULL);
    t_q(&r, (uint64_t)(q + 1), "srv.test", 0, 0, 0);
    ok(t_wait(&ev, q + 1, q + 2, 5000), "closed port: answered");
    is_int(t_ans[q + 1].r.status, MSG_DNS_ERROR,
           "closed port: ERROR (refused at once, not a timeout)");

    /* Shutting down with a lookup out answers it (ERROR), once. */
    t_q(&r, (uint64_t)(q + 2), "c.test", 0, 0, 0);
    dnsd_ares_free(a);
    ok(t_ans[q + 2].done == 1 && t_ans[q + 2].r.status == MSG_DNS_ERROR,
       "channel destroyed: pending lookup answered ERROR");
    is_int((long long)r.nlookups, 0, "and freed");
    dnsd_resolve_fini(&r);
    ev_close(&ev);
}

/* ---- a DNS responder for the failures dnsmasq cannot make -------- */

#define T_RC_DROP (-1)                  /* no answer at all */

static pid_t t_fake = -1;

/*
 * t_fake_rule - what the responder says to (name, type): an rcode, or
 * T_RC_DROP; *rr the record to answer with (SRV target or A), *soa 1 to
 * put a SOA (minimum 7200) in a negative answer.
 *
 *   NAME.test NAPTR     the name says: refused, servfail, drop, nx,
 *                       nodata; anything else NODATA
 *   _sip._udp.NAME.test SRV 10 0 5070 h.test (REFUSED for allref and
 *                       srvref)
 *   _sip._tcp.NAME.test REFUSED (a partial SRV failure is harmless)
 *   h.test A            192.0.2.50; srvref.test A 192.0.2.51
 *   negsoa.test         NXDOMAIN for everything, SOA minimum 7200
 */
static int t_fake_rule(const char *name, int type, int *rr, int *soa)
{
    static const char *const nrc[] = {"refused", "servfail", "drop", "nx",
                                      "nodata"};
    static const int rc[] = {5, 2, T_RC_DROP, 3, 0};
    size_t i;

    *rr = 0;
    *soa = 0;
    if (strstr(name, "negsoa") != NULL) {
        *soa = 1;
        return 3;
    }
    if (strstr(name, "allref") != NULL)
        return 5;
    if (type == DNSD_T_NAPTR) {
        for (i = 0; i < 5; i++)
            if (strncmp(name, nrc[i], strlen(nrc[i])) == 0)
                return rc[i];
        return 0;
    }
    if (type == DNSD_T_SRV && strncmp(name, "_sip._udp.", 10) == 0)
        return strstr(name, "srvref") != NULL ? 5 : (*rr = 1, 0);
    if (type == DNSD_T_SRV)
        return 5;
    if (type == DNSD_T_A && (strcmp(name, "h.test") == 0
                             || strcmp(name, "srvref.test") == 0))
        return (*rr = name[0] == 'h' ? 50 : 51), 0;
    return 0;
}

/* t_fake_answer - the reply to query q[0..n) in out; its length or 0 */
static size_t t_fake_answer(const unsigned char *q, size_t n,
                            unsigned char *out)
{
    static const unsigned char srv[] = {0, 10, 0, 0, 0x13, 0xce, 1, 'h',
                                        4, 't', 'e', 's', 't', 0};
    char name[256];
    size_t p = 12, k = 0, len;
    int type, rc, rr, soa;

    while (p < n && q[p] != 0 && k + q[p] + 1 < sizeof(name)) {
        if (k > 0)
            name[k++] = '.';
        memcpy(name + k, q + p + 1, q[p]);
        k += q[p];
        p += 1 + (size_t)q[p];
    }
    name[k] = 0;
    if (p + 5 > n)
        return 0;
    type = q[p + 1] << 8 | q[p + 2];
    len = p + 5;                        /* header + question */
    if ((rc = t_fake_rule(name, type, &rr, &soa)) == T_RC_DROP)
        return 0;
    memcpy(out, q, len);
    out[2] = 0x84 | (q[2] & 1);         /* QR, AA, RD copied */
    out[3] = (unsigned char)(0x80 | rc);
    memset(out + 6, 0, 6);
    if (rr != 0) {
        unsigned char h[] = {0xc0, 12, 0, (unsigned char)type, 0, 1,
                             0, 0, 0, 60, 0, 0};
        out[7] = 1;
        h[11] = type == DNSD_T_SRV ? sizeof(srv) : 4;
        memcpy(out + len, h, sizeof(h));
        len += sizeof(h);
        if (type == DNSD_T_SRV) {
            memcpy(out + len, srv, sizeof(srv));
            len += sizeof(srv);
        } else {
            unsigned char a[] = {192, 0, 2, (unsigned char)rr};
            memcpy(out + len, a, 4);
            len += 4;
        }
    } else if (soa) {                   /* SOA TTL 3600, minimum 7200 */
        static const unsigned char s[] = {
            0xc0, 12, 0, 6, 0, 1, 0, 0, 0x0e, 0x10, 0, 22, 0, 0,
            0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1,
            0, 0, 0x1c, 0x20};
        out[9] = 1;
        memcpy(out + len, s, sizeof(s));
        len += sizeof(s);
    }
    return len;
}

/* t_fake_start - the responder on 127.0.0.1:port (a child) */
static int t_fake_start(int *port)
{
    unsigned char q[512], a[1024];
    struct sockaddr_in sa;
    socklen_t sl;
    int fd;
    ssize_t n;
    size_t len;

    if ((*port = t_udp_port(&fd)) < 0)
        return -1;
    if ((t_fake = fork()) < 0)
        return -1;
    if (t_fake > 0) {
        close(fd);
        return 0;
    }
    for (;;) {
        sl = sizeof(sa);
        n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&sa, &sl);
        if (n < 12)
            continue;
        if ((len = t_fake_answer(q, (size_t)n, a)) > 0)
            sendto(fd, a, len, 0, (struct sockaddr *)&sa, sl);
    }
}

static void t_fake_stop(void)
{
    if (t_fake > 0) {
        kill(t_fake, SIGKILL);
        waitpid(t_fake, NULL, 0);
        t_fake = -1;
    }
}

static void t_fallthrough(void)
{
    static const struct {
        const char *name;
        uint16_t status;
        const char *want;
        const char *what;
    } t[] = {
        {"refused.test", MSG_DNS_OK, "192.0.2.50:5070/udp",
         "NAPTR REFUSED -> SRV"},
        {"servfail.test", MSG_DNS_OK, "192.0.2.50:5070/udp",
         "NAPTR SERVFAIL -> SRV"},
        {"drop.test", MSG_DNS_OK, "192.0.2.50:5070/udp",
         "NAPTR timeout -> SRV"},
        {"nx.test", MSG_DNS_OK, "192.0.2.50:5070/udp",
         "NAPTR NXDOMAIN -> SRV"},
        {"nodata.test", MSG_DNS_OK, "192.0.2.50:5070/udp",
         "NAPTR NODATA -> SRV"},
        {"srvref.test", MSG_DNS_OK, "192.0.2.51:5060/udp",
         "NAPTR and SRV REFUSED -> A"},
        {"allref.test", MSG_DNS_ERROR, "", "everything REFUSED: ERROR"},
        {"negsoa.test", MSG_DNS_NXDOMAIN, "", "NXDOMAIN with a SOA"},
    };
    size_t i, n = sizeof(t) / sizeof(t[0]);
    struct dnsd_ares *a = NULL;
    struct dnsd_resolve r;
    struct dnsd_cache cache;
    struct dnsd_bl bl;
    struct msg_dns_target f;
    struct ev ev;
    struct cfg c;
    int port, q = 60;

    if (t_fake_start(&port) < 0) {
        ok(0, "fake DNS responder started");
        return;
    }
    ev_init(&ev);
    t_cfg(&c, port, 300);
    is_int(dnsd_ares_init(&a, &ev, &c), 0, "c-ares on the responder");
    dnsd_cache_init(&cache, 64);
    dnsd_resolve_init(&r, a, &cache, &c, t_on_answer, NULL);
    for (i = 0; i < n; i++)
        t_q(&r, (uint64_t)(q + (int)i), t[i].name, 0, 0, 0);
    ok(t_wait(&ev, q, q + (int)n, 5000), "fallthrough: every query answered");
    for (i = 0; i < n; i++) {
        is_int(t_ans[q + i].r.status, t[i].status, "%s: status", t[i].what);
        is_str(t_targets(&t_ans[q + i].r), t[i].want, "%s: targets",
               t[i].what);
    }
    /* the negative answer said 3600 s (SOA TTL; minimum 7200): the
     * cache keeps it 300 s at most */
    t_q(&r, (uint64_t)(q + 20), "negsoa.test", 0, 0, 0);
    ok(t_ans[q + 20].done == 1 && t_ans[q + 20].r.status == MSG_DNS_NXDOMAIN
           && t_ans[q + 20].r.ttl <= DNSD_NEG_TTL_MAX
           && t_ans[q + 20].r.ttl > DNSD_NEG_TTL,
       "negative cache hit: SOA value capped at %d s (ttl %u)",
       DNSD_NEG_TTL_MAX, t_ans[q + 20].r.ttl);
    t_q(&r, (uint64_t)(q + 21), "allref.test", 0, 0, 0);
    ok(t_ans[q + 21].done == 1 && t_ans[q + 21].r.status == MSG_DNS_ERROR,
       "REFUSED answer cached briefly (hit)");

    /* the blacklist: the only target skipped -> ERROR; flushed -> back */
    dnsd_bl_init(&bl, 60);
    r.bl = &bl;
    memset(&f, 0, sizeof(f));
    f.addr.family = AF_INET;
    inet_pton(AF_INET, "192.0.2.50", f.addr.ip);
    f.addr.port = htons(5070);
    dnsd_bl_add(&bl, &f.addr, MSG_PROTO_UDP, MSG_FAIL_REFUSED, ev_now_ms());
    t_q(&r, (uint64_t)(q + 22), "refused.test", 0, 0, 0);
    ok(t_ans[q + 22].done == 1 && t_ans[q + 22].r.status == MSG_DNS_ERROR
           && t_ans[q + 22].r.ntargets == 0,
       "every target blacklisted: ERROR, no target (sipd: 503)");
    dnsd_bl_flush(&bl);
    t_q(&r, (uint64_t)(q + 23), "refused.test", 0, 0, 0);
    is_str(t_targets(&t_ans[q + 23].r), "192.0.2.50:5070/udp",
           "blacklist flushed: the target is back");
    dnsd_ares_free(a);
    dnsd_resolve_fini(&r);
    dnsd_cache_fini(&cache);
    ev_close(&ev);
    t_fake_stop();
}

int main(void)
{
    const char *bin = t_dnsmasq_bin();
    struct dnsd_ares *a = NULL;
    struct dnsd_resolve r;
    struct dnsd_cache cache;
    struct stats_slot st;
    struct ev ev;
    struct cfg c;
    char want[64];
    int port;

    log_level_set(LOG_L_ERR);
    atexit(t_fake_stop);
    t_fallthrough();
    if (bin == NULL) {
        diag("dnsmasq not installed (apt-get install dnsmasq): skipped");
        return done_testing();
    }
    port = t_udp_port(NULL);
    if (t_dnsmasq_start(bin, port) < 0) {
        diag("dnsmasq did not start on port %d: skipped", port);
        return done_testing();
    }
    atexit(t_dnsmasq_stop);
    ev_init(&ev);
    t_cfg(&c, port, 1000);
    is_int(dnsd_ares_init(&a, &ev, &c), 0, "c-ares on dnsmasq :%d", port);
    snprintf(want, sizeof(want), "127.0.0.1:%d", port);
    is_str(dnsd_ares_servers(a), want, "[dns] servers given to c-ares");
    dnsd_cache_init(&cache, 64);
    dnsd_resolve_init(&r, a, &cache, &c, t_on_answer, NULL);
    memset(&st, 0, sizeof(st));
    r.st = &st;

    t_main_cases(&ev, &r);
    t_coalesce_cache(&ev, &r, &st);
    t_ipv6(&ev, &r);
    is_int((long long)dnsd_ares_pending(a), 0, "no c-ares query left");

    dnsd_ares_free(a);
    dnsd_resolve_fini(&r);
    dnsd_cache_fini(&cache);
    ev_close(&ev);
    t_dnsmasq_stop();
    t_timeouts();
    return done_testing();
}
