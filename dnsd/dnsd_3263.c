/*
 * SUMMARY
 *      dnsd_3263 - RFC 3263 section 4 target selection, without I/O
 * DESCRIPTION
 *      The decisions of "Locating SIP Servers" as pure functions over
 *      records already parsed, so they can be tested without a network
 *      (t/unit/dns_cache.c) and so dnsd_resolve.c only sequences lookups:
 *
 *        key             normalise what sipd asked: lower case, no final
 *                        dot, a sane length and alphabet.
 *        literal         an IP address in the URI is the answer (4.1, 4.2).
 *        first step      port given: A/AAAA only (4.2). No port, no
 *                        transport, [dns] naptr and srv: NAPTR (4.1).
 *                        No port and [dns] srv: SRV for the transport
 *                        (4.2). Else A/AAAA on 5060 (5061 for sips and
 *                        ;transport=tls).
 *        naptr select    flags "s", services SIP+D2U (udp), SIP+D2T (tcp),
 *                        SIPS+D2T (tls; the only one for a sips URI), by
 *                        order then preference; the replacements are the
 *                        SRV names to look up. A sip: URI does not take
 *                        SIPS+D2T: dnsd does not know whether sipd has
 *                        a tls socket.
 *        srv names       no usable NAPTR: _sip._udp then _sip._tcp, or the
 *                        one of the given transport, or _sips._tcp (sips,
 *                        or ;transport=tls: RFC 3263 4.1).
 *        srv order       at lookup time only canonical: by priority,
 *                        then target name and port, so the records kept
 *                        do not depend on the order the server sent.
 *                        Target "." (no service) is dropped.
 *        targets         every address of every host, in host order, IPv4
 *                        before IPv6, addresses sorted, duplicates
 *                        removed, at most DNSD_MAX_CAND, each with its
 *                        SRV name, host, priority and weight.
 *        order           per query (dnsd_3263_order): hosts by SRV name
 *                        (NAPTR order), then priority; within one
 *                        priority RFC 2782's weighted draw (zero weights
 *                        first in the running sum), the random numbers
 *                        coming from the query's seed (the Call-ID hash)
 *                        so every message of one call, a CANCEL and its
 *                        INVITE, gets the same order from the same
 *                        records; a host's addresses rotated by the same
 *                        draws.
 *
 *      Transports: udp, tcp and tls (MSG_PROTO_*). A sips URI resolves to
 *      tls targets only; whether sipd can send them is sipd's call.
 * PROTOCOL
 *      None (pure).
 * DIAGNOSTICS
 *      None: bad input is an error return, never a log line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "dnsd.h"

/* dnsd_3263_name_ok - the alphabet of host names and IP literals */
static int dnsd_3263_name_ok(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
              || c == '.' || c == '_' || c == ':' || c == '[' || c == ']'
              || c == '%'))
            return 0;
    }
    return 1;
}

/*
 * dnsd_3263_key - build the key of a query.
 *      name/len as sipd sent it (not NUL-terminated). The name is lower
 *      cased and one final dot removed. Returns 0, or -EINVAL for an empty
 *      or too long name, a byte outside [a-z0-9._-:[]%], an empty label
 *      (two dots), a proto other than 0/udp/tcp/tls or secure other than
 *      0/1.
 */
int dnsd_3263_key(struct dnsd_key *k, const char *name, size_t len,
                  uint16_t port, uint8_t proto, uint8_t secure)
{
    size_t i;

    memset(k, 0, sizeof(*k));
    if (name == NULL)
        return -EINVAL;
    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > DNSD_NAME_MAX - 12)   /* room for "_sips._tcp." */
        return -EINVAL;
    if (proto != 0 && proto != MSG_PROTO_UDP && proto != MSG_PROTO_TCP
        && proto != MSG_PROTO_TLS)
        return -EINVAL;
    if (secure > 1)
        return -EINVAL;
    for (i = 0; i < len; i++) {
        char c = name[i];

        k->name[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    if (!dnsd_3263_name_ok(k->name, len) || k->name[0] == '.'
        || memmem(k->name, len, "..", 2) != NULL)
        return -EINVAL;
    k->name_len = (uint16_t)len;
    k->port = port;
    k->proto = proto;
    k->secure = secure;
    return 0;
}

/* dnsd_3263_key_hash - FNV-1a over every field of the key */
uint32_t dnsd_3263_key_hash(const struct dnsd_key *k)
{
    uint32_t h = 2166136261u;
    unsigned char tail[4];
    size_t i;

    for (i = 0; i < k->name_len; i++)
        h = (h ^ (unsigned char)k->name[i]) * 16777619u;
    tail[0] = (unsigned char)(k->port >> 8);
    tail[1] = (unsigned char)k->port;
    tail[2] = k->proto;
    tail[3] = k->secure;
    for (i = 0; i < sizeof(tail); i++)
        h = (h ^ tail[i]) * 16777619u;
    return h;
}

/* dnsd_3263_key_eq - same name, port, proto and secure */
int dnsd_3263_key_eq(const struct dnsd_key *a, const struct dnsd_key *b)
{
    return a->name_len == b->name_len && a->port == b->port
           && a->proto == b->proto && a->secure == b->secure
           && memcmp(a->name, b->name, a->name_len) == 0;
}

/*
 * dnsd_3263_proto - the transport when no NAPTR/SRV says otherwise:
 *      the given one, tls for sips, else udp (RFC 3263 4.1).
 */
uint8_t dnsd_3263_proto(const struct dnsd_key *k)
{
    if (k->secure)
        return MSG_PROTO_TLS;
    return k->proto ? k->proto : MSG_PROTO_UDP;
}

/* dnsd_3263_port - the given port, else 5060, or 5061 for TLS */
uint16_t dnsd_3263_port(const struct dnsd_key *k)
{
    if (k->port)
        return k->port;
    return k->secure || k->proto == MSG_PROTO_TLS ? DNSD_PORT_SIPS
                                                  : DNSD_PORT_SIP;
}

/*
 * dnsd_3263_literal - answer a query whose name is an IP address.
 *      Returns 1 with *out filled (one target, status OK, ttl 0), or 0
 *      when the name needs DNS.
 */
int dnsd_3263_literal(const struct dnsd_key *k, struct dnsd_result *out)
{
    struct msg_addr a;

    if (addr_parse(&a, k->name, strlen(k->name), dnsd_3263_port(k)) < 0)
        return 0;
    memset(out, 0, sizeof(*out));
    out->status = MSG_DNS_OK;
    out->ntargets = 1;
    out->targets[0].addr = a;
    out->targets[0].proto = dnsd_3263_proto(k);
    return 1;
}

/*
 * dnsd_3263_first_step - DNSD_STEP_* to start a lookup with, given the
 *      [dns] naptr and srv switches. NAPTR leads to SRV names only, so it
 *      is skipped when SRV is off.
 */
int dnsd_3263_first_step(const struct dnsd_key *k, int naptr, int srv)
{
    if (k->port != 0 || !srv)
        return DNSD_STEP_ADDR;
    if (k->proto == 0 && naptr)
        return DNSD_STEP_NAPTR;
    return DNSD_STEP_SRV;
}

/* dnsd_3263_service - the transport of a NAPTR service, or 0 */
static uint8_t dnsd_3263_service(const char *svc, int secure)
{
    if (secure)
        return strcasecmp(svc, "SIPS+D2T") == 0 ? MSG_PROTO_TLS : 0;
    if (strcasecmp(svc, "SIP+D2U") == 0)
        return MSG_PROTO_UDP;
    if (strcasecmp(svc, "SIP+D2T") == 0)
        return MSG_PROTO_TCP;
    return 0;
}

/* dnsd_3263_naptr_cmp - qsort order: order, then preference, then input */
static int dnsd_3263_naptr_cmp(const void *a, const void *b)
{
    const struct dnsd_naptr *const *x = a;
    const struct dnsd_naptr *const *y = b;

    if ((*x)->order != (*y)->order)
        return (*x)->order < (*y)->order ? -1 : 1;
    if ((*x)->pref != (*y)->pref)
        return (*x)->pref < (*y)->pref ? -1 : 1;
    return *x < *y ? -1 : (*x > *y);
}

/* dnsd_3263_srvname_put - append name (lower-cased) unless present */
static size_t dnsd_3263_srvname_put(struct dnsd_srvname *out, size_t n,
                                    size_t max, const char *name,
                                    uint8_t proto)
{
    size_t len = strlen(name), i;

    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > DNSD_NAME_MAX || n >= max)
        return n;
    for (i = 0; i < len; i++)
        out[n].name[i] = (char)((name[i] >= 'A' && name[i] <= 'Z')
                                    ? name[i] - 'A' + 'a' : name[i]);
    out[n].name[len] = '\0';
    out[n].proto = proto;
    for (i = 0; i < n; i++)
        if (strcmp(out[i].name, out[n].name) == 0
            && out[i].proto == proto)
            return n;
    return n + 1;
}

/*
 * dnsd_3263_naptr_select - the SRV names a NAPTR answer points to.
 *      in[0..n) as parsed (any order); secure: a sips URI. Writes at most
 *      max names to out in the order to try them and returns how many.
 *      Records with flags other than "s", services other than those we
 *      can use, or an empty replacement are skipped.
 */
size_t dnsd_3263_naptr_select(const struct dnsd_naptr *in, size_t n,
                              int secure, struct dnsd_srvname *out,
                              size_t max)
{
    const struct dnsd_naptr *v[DNSD_MAX_RR];
    size_t i, nv = 0, nout = 0;
    uint8_t proto;

    for (i = 0; i < n && nv < DNSD_MAX_RR; i++)
        if (strcasecmp(in[i].flags, "s") == 0)
            v[nv++] = &in[i];
    qsort(v, nv, sizeof(v[0]), dnsd_3263_naptr_cmp);
    for (i = 0; i < nv; i++) {
        if ((proto = dnsd_3263_service(v[i]->service, secure)) == 0)
            continue;
        nout = dnsd_3263_srvname_put(out, nout, max, v[i]->replacement,
                                     proto);
    }
    return nout;
}

/*
 * dnsd_3263_srv_names - the SRV names to try without NAPTR (RFC 3263
 *      4.1 last paragraphs): the given transport's, else udp then tcp;
 *      _sips._tcp for sips. Returns how many were written (max >= 2).
 */
size_t dnsd_3263_srv_names(const struct dnsd_key *k,
                           struct dnsd_srvname *out, size_t max)
{
    char name[DNSD_NAME_MAX + 16];      /* the key keeps names short */
    size_t n = 0;

    if (k->secure || k->proto == MSG_PROTO_TLS) {
        snprintf(name, sizeof(name), "_sips._tcp.%s", k->name);
        return dnsd_3263_srvname_put(out, n, max, name, MSG_PROTO_TLS);
    }
    if (k->proto == 0 || k->proto == MSG_PROTO_UDP) {
        snprintf(name, sizeof(name), "_sip._udp.%s", k->name);
        n = dnsd_3263_srvname_put(out, n, max, name, MSG_PROTO_UDP);
    }
    if (k->proto == 0 || k->proto == MSG_PROTO_TCP) {
        snprintf(name, sizeof(name), "_sip._tcp.%s", k->name);
        n = dnsd_3263_srvname_put(out, n, max, name, MSG_PROTO_TCP);
    }
    return n;
}

/* dnsd_3263_rand - xorshift64*: the next draw from *seed (never 0) */
uint32_t dnsd_3263_rand(uint64_t *seed)
{
    uint64_t x = *seed ? *seed : 0x9e3779b97f4a7c15ull;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *seed = x;
    return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

/*
 * dnsd_3263_srv_cmp - qsort order: usable targets before ".", then
 *      priority, target name, port, weight: canonical, whatever order
 *      the server sent the records in.
 */
static int dnsd_3263_srv_cmp(const void *a, const void *b)
{
    const struct dnsd_srv *x = a, *y = b;
    int xd = x->target[0] == '\0' || strcmp(x->target, ".") == 0;
    int yd = y->target[0] == '\0' || strcmp(y->target, ".") == 0;
    int c;

    if (xd != yd)
        return xd - yd;
    if (x->prio != y->prio)
        return x->prio < y->prio ? -1 : 1;
    if ((c = strcasecmp(x->target, y->target)) != 0)
        return c;
    if (x->port != y->port)
        return x->port < y->port ? -1 : 1;
    return (x->weight > y->weight) - (x->weight < y->weight);
}

/*
 * dnsd_3263_srv_order - v[0..n) in canonical order (dnsd_3263_srv_cmp):
 *      priority ascending; the weighted draw is per query
 *      (dnsd_3263_order). Records with target "." or "" go to the end:
 *      dnsd_3263_srv_hosts() skips them.
 */
void dnsd_3263_srv_order(struct dnsd_srv *v, size_t n)
{
    qsort(v, n, sizeof(v[0]), dnsd_3263_srv_cmp);
}

/* dnsd_3263_host_put - one host entry from name/port/proto */
static void dnsd_3263_host_put(struct dnsd_host *h, const char *name,
                               uint16_t port, uint8_t proto)
{
    size_t len = strlen(name), i;

    memset(h, 0, sizeof(*h));
    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len > DNSD_NAME_MAX)
        len = DNSD_NAME_MAX;
    for (i = 0; i < len; i++)
        h->name[i] = (char)((name[i] >= 'A' && name[i] <= 'Z')
                                ? name[i] - 'A' + 'a' : name[i]);
    h->name[len] = '\0';
    h->port = port;
    h->proto = proto;
}

/*
 * dnsd_3263_srv_hosts - the hosts of ordered SRV records v[0..n), each
 *      with its port and the transport proto of the SRV name. Skips "."
 *      targets (RFC 2782: service not available). At most max; returns
 *      the number written.
 */
size_t dnsd_3263_srv_hosts(const struct dnsd_srv *v, size_t n,
                           uint8_t proto, struct dnsd_host *out, size_t max)
{
    size_t i, k = 0;

    for (i = 0; i < n && k < max; i++) {
        if (v[i].target[0] == '\0' || strcmp(v[i].target, ".") == 0)
            continue;
        dnsd_3263_host_put(&out[k], v[i].target, v[i].port, proto);
        out[k].prio = v[i].prio;
        out[k].weight = v[i].weight;
        k++;
    }
    return k;
}

/* dnsd_3263_host_default - the URI's own host, port and transport */
void dnsd_3263_host_default(const struct dnsd_key *k, struct dnsd_host *h)
{
    dnsd_3263_host_put(h, k->name, dnsd_3263_port(k), dnsd_3263_proto(k));
}

/* dnsd_3263_target_put - append unless full or already there */
static void dnsd_3263_target_put(struct dnsd_rec *out, const struct msg_addr *a,
                                 const struct dnsd_host *h, size_t hi)
{
    struct dnsd_cand *c;
    struct msg_dns_target t;
    size_t i;

    if (out->n >= DNSD_MAX_CAND)
        return;
    memset(&t, 0, sizeof(t));
    t.addr = *a;
    t.addr.port = htons(h->port);
    t.proto = h->proto;
    for (i = 0; i < out->n; i++)
        if (memcmp(&out->c[i].t, &t, sizeof(t)) == 0)
            return;
    c = &out->c[out->n++];
    memset(c, 0, sizeof(*c));
    c->t = t;
    c->set = h->set;
    c->host = (uint8_t)hi;
    c->prio = h->prio;
    c->weight = h->weight;
}

/* dnsd_3263_addr_cmp - canonical address order within one family */
static int dnsd_3263_addr_cmp(const void *a, const void *b)
{
    const struct msg_addr *x = a, *y = b;

    return memcmp(x->ip, y->ip, sizeof(x->ip));
}

/*
 * dnsd_3263_targets - the candidates of hosts h[0..n) with their
 *      addresses filled in: host order, IPv4 before IPv6, addresses
 *      sorted. Only out->c and out->n are written (appended to).
 */
void dnsd_3263_targets(const struct dnsd_host *h, size_t n,
                       struct dnsd_rec *out)
{
    struct msg_addr v[DNSD_HOST_ADDRS];
    size_t i, f, j, m;

    for (i = 0; i < n; i++) {
        for (f = 0; f < 2; f++) {
            m = h[i].naddr[f] < DNSD_HOST_ADDRS ? h[i].naddr[f]
                                                 : DNSD_HOST_ADDRS;
            memcpy(v, h[i].addr[f], m * sizeof(v[0]));
            qsort(v, m, sizeof(v[0]), dnsd_3263_addr_cmp);
            for (j = 0; j < m; j++)
                dnsd_3263_target_put(out, &v[j], &h[i], i);
        }
    }
}

/* One host of a candidate list, for the per-query order. */
struct dnsd_3263_grp {
    uint8_t host;
    uint8_t set;
    uint16_t prio;
    uint16_t weight;
};

/* dnsd_3263_mix - a 64-bit generator state from a 16-bit seed */
static uint64_t dnsd_3263_mix(uint16_t seed)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ull;

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/*
 * dnsd_3263_draw - RFC 2782 within one priority: g[0..n) still to
 *      place; move the drawn one to g[0]. Zero weights go first in the
 *      running sum, so they are chosen only when the draw is 0.
 */
static void dnsd_3263_draw(struct dnsd_3263_grp *g, size_t n, uint64_t *s)
{
    struct dnsd_3263_grp t;
    uint64_t sum = 0, run = 0, r;
    size_t i, z = 0;

    for (i = 0; i < n; i++) {
        sum += g[i].weight;
        if (g[i].weight == 0) {
            t = g[i];
            memmove(&g[z + 1], &g[z], (i - z) * sizeof(g[0]));
            g[z++] = t;
        }
    }
    r = sum ? dnsd_3263_rand(s) % (sum + 1) : 0;
    for (i = 0; i + 1 < n; i++) {
        run += g[i].weight;
        if (run >= r)
            break;
    }
    t = g[i];
    memmove(&g[1], &g[0], i * sizeof(g[0]));
    g[0] = t;
}

/* dnsd_3263_groups - the hosts of in, in order of first appearance */
static size_t dnsd_3263_groups(const struct dnsd_rec *in,
                               struct dnsd_3263_grp *g)
{
    size_t i, k, ng = 0;

    for (i = 0; i < in->n && i < DNSD_MAX_CAND; i++) {
        for (k = 0; k < ng && g[k].host != in->c[i].host; k++)
            ;
        if (k < ng)
            continue;
        g[ng].host = in->c[i].host;
        g[ng].set = in->c[i].set;
        g[ng].prio = in->c[i].prio;
        g[ng].weight = in->c[i].weight;
        ng++;
    }
    return ng;
}

/* dnsd_3263_emit - host g's candidates of one family, rotated by *s */
static size_t dnsd_3263_emit(const struct dnsd_rec *in, uint8_t host,
                             uint16_t family, uint64_t *s,
                             struct msg_dns_target *out, size_t n,
                             size_t max)
{
    size_t idx[DNSD_MAX_CAND], m = 0, i, start;

    for (i = 0; i < in->n && i < DNSD_MAX_CAND; i++)
        if (in->c[i].host == host && in->c[i].t.addr.family == family)
            idx[m++] = i;
    start = m > 1 ? dnsd_3263_rand(s) % m : 0;
    for (i = 0; i < m && n < max; i++)
        out[n++] = in->c[idx[(start + i) % m]].t;
    return n;
}

/*
 * dnsd_3263_order - the targets of in for one query, in the order to
 *      try them (see DESCRIPTION), into out[0..max). The same in and
 *      seed always give the same order. Returns how many were written.
 */
size_t dnsd_3263_order(const struct dnsd_rec *in, uint16_t seed,
                       struct msg_dns_target *out, size_t max)
{
    struct dnsd_3263_grp g[DNSD_MAX_CAND], t;
    uint64_t s = dnsd_3263_mix(seed);
    size_t ng = dnsd_3263_groups(in, g), i, j, n = 0;

    for (i = 1; i < ng; i++) {          /* stable: by set, then priority */
        t = g[i];
        for (j = i; j > 0 && (g[j - 1].set > t.set
                              || (g[j - 1].set == t.set
                                  && g[j - 1].prio > t.prio));
             j--)
            g[j] = g[j - 1];
        g[j] = t;
    }
    for (i = 0; i < ng; i = j) {
        for (j = i; j < ng && g[j].set == g[i].set && g[j].prio == g[i].prio;
             j++)
            ;
        for (; i + 1 < j; i++)
            dnsd_3263_draw(&g[i], j - i, &s);
    }
    for (i = 0; i < ng; i++) {
        n = dnsd_3263_emit(in, g[i].host, AF_INET, &s, out, n, max);
        n = dnsd_3263_emit(in, g[i].host, AF_INET6, &s, out, n, max);
    }
    return n;
}

/*
 * dnsd_3263_status - the MSG_DNS_* of a step that produced no target:
 *      a timeout wins (the servers are the problem, 503), then any other
 *      error, else the name has no such records (NXDOMAIN, 478).
 */
uint16_t dnsd_3263_status(unsigned seen)
{
    if (seen & DNSD_SEEN_TIMEOUT)
        return MSG_DNS_TIMEOUT;
    if (seen & DNSD_SEEN_ERROR)
        return MSG_DNS_ERROR;
    return MSG_DNS_NXDOMAIN;
}
