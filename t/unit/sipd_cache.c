/*
 * SUMMARY
 *      sipd_cache - unit tests of sipd's alias cache (rculfhash, RCU)
 * DESCRIPTION
 *      sipd_cache.c on its own: a miss, positive and negative answers
 *      kept and given back byte for byte, keys that differ only in
 *      where user ends and host begins, the lifetime (hit just before,
 *      miss at the expiry), a new answer replacing the old, sweep
 *      (expired only) and flush (all, with the count), the bound
 *      (full: -ENOSPC until a sweep makes room), an over-long key, and
 *      then threads: readers looking keys up without a lock while a
 *      writer replaces answers and another thread flushes and sweeps,
 *      every hit checked to be one whole answer for its own key (never
 *      a torn or a freed entry: run it under ASan or TSan too, make
 *      check). Cases are tables where they can be.
 * PROTOCOL
 *      TAP on stdout.
 * DIAGNOSTICS
 *      Exit status: number of failed tests.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-memb.h>

#include "sipd.h"
#include "tap.h"

#define S(lit) ((struct str){(lit), sizeof(lit) - 1})

/* t_alias - an answer: uri NULL for KEEP */
static struct sipd_alias t_alias(const char *uri)
{
    struct sipd_alias a;

    memset(&a, 0, sizeof(a));
    a.state = uri != NULL ? SIPD_ALIAS_SET : SIPD_ALIAS_KEEP;
    if (uri != NULL) {
        a.len = strlen(uri);
        memcpy(a.uri, uri, a.len);
    }
    return a;
}

static void test_basic(void)
{
    struct sipd_cache *c = sipd_cache_new(2, 100);
    struct sipd_alias a = t_alias("sip:bob@b.example"), k = t_alias(NULL);
    struct sipd_alias got;

    ok(c != NULL, "cache made");
    is_int(sipd_cache_get(c, S("alice"), S("a.example"), 1000, &got), 0,
           "empty: miss");
    is_int(sipd_cache_put(c, S("alice"), S("a.example"), &a, 1000), 0,
           "put positive");
    is_int(sipd_cache_put(c, S("nobody"), S("a.example"), &k, 1000), 0,
           "put negative");
    memset(&got, 0, sizeof(got));
    ok(sipd_cache_get(c, S("alice"), S("a.example"), 1000, &got) == 1
           && got.state == SIPD_ALIAS_SET,
       "positive: hit, SET");
    is_mem(got.uri, got.len, "sip:bob@b.example", 17, "positive: the URI");
    memset(&got, 0, sizeof(got));
    ok(sipd_cache_get(c, S("nobody"), S("a.example"), 1000, &got) == 1
           && got.state == SIPD_ALIAS_KEEP && got.len == 0,
       "negative: hit, KEEP");
    is_int(sipd_cache_get(c, S("alice"), S("A.example"), 1000, &got), 0,
           "host compared as given (the caller lower-cases it)");
    is_int(sipd_cache_get(c, S("Alice"), S("a.example"), 1000, &got), 0,
           "user compared byte for byte");
    is_int(sipd_cache_get(c, S("alice"), S("a.example"), 2999, &got), 1,
           "hit 1 ms before the TTL ends");
    is_int(sipd_cache_get(c, S("alice"), S("a.example"), 3000, &got), 0,
           "miss when the TTL ends");
    is_int(sipd_cache_count(c), 2, "2 entries");
    a = t_alias("sip:carol@c.example");
    is_int(sipd_cache_put(c, S("alice"), S("a.example"), &a, 2500), 0,
           "a new answer for alice");
    is_int(sipd_cache_count(c), 2, "replaced, not added: 2 entries");
    ok(sipd_cache_get(c, S("alice"), S("a.example"), 4000, &got) == 1
           && got.len == 19 && memcmp(got.uri, "sip:carol@c.example", 19) == 0,
       "the new answer, with its own lifetime");
    is_int(sipd_cache_sweep(c, 3000), 1, "sweep at 3 s: the old entry goes");
    is_int(sipd_cache_count(c), 1, "1 entry left");
    is_int(sipd_cache_get(c, S("nobody"), S("a.example"), 1000, &got), 0,
           "swept: gone even for an earlier clock");
    is_int(sipd_cache_flush(c), 1, "flush: 1 removed");
    is_int(sipd_cache_count(c), 0, "flush: empty");
    is_int(sipd_cache_get(c, S("alice"), S("a.example"), 2600, &got), 0,
           "flushed: miss");
    sipd_cache_free(c);
}

static void test_keys(void)
{
    static const struct {
        const char *user, *host, *uri;
    } t[] = {
        {"ab", "c", "sip:1@x"},
        {"a", "bc", "sip:2@x"},
        {"abc", "", "sip:3@x"},
        {"", "abc", "sip:4@x"},
        {"o'brien", "example.com", "sip:5@x"},
        {"';DROP/**/TABLE/**/dbaliases;--", "example.com", "sip:6@x"},
        {"back\\slash", "example.com", "sip:7@x"},
        {"100%_x", "example.com", "sip:8@x"},
        {"j\xc3\xbcrgen", "example.com", "sip:9@x"},
    };
    struct sipd_cache *c = sipd_cache_new(60, 100);
    struct sipd_alias a, got;
    struct str u, h;
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        a = t_alias(t[i].uri);
        u = (struct str){t[i].user, strlen(t[i].user)};
        h = (struct str){t[i].host, strlen(t[i].host)};
        if (sipd_cache_put(c, u, h, &a, 0) != 0)
            diag("put %zu failed", i);
    }
    is_int(sipd_cache_count(c), (long long)(sizeof(t) / sizeof(t[0])),
           "every key is its own entry");
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        u = (struct str){t[i].user, strlen(t[i].user)};
        h = (struct str){t[i].host, strlen(t[i].host)};
        memset(&got, 0, sizeof(got));
        ok(sipd_cache_get(c, u, h, 1, &got) == 1
               && got.len == strlen(t[i].uri)
               && memcmp(got.uri, t[i].uri, got.len) == 0,
           "key \"%s\" @ \"%s\": its own answer", t[i].user, t[i].host);
    }
    sipd_cache_free(c);
}

static void test_bound(void)
{
    struct sipd_cache *c = sipd_cache_new(1, 10);
    struct sipd_alias k = t_alias(NULL), got;
    static char big[70000];
    char user[16];
    int i, err = 0;

    for (i = 0; i < 10; i++) {
        snprintf(user, sizeof(user), "u%d", i);
        err |= sipd_cache_put(c, (struct str){user, strlen(user)},
                              S("h"), &k, 0);
    }
    is_int(err, 0, "10 entries fit a cache of 10");
    is_int(sipd_cache_put(c, S("u10"), S("h"), &k, 0), -ENOSPC,
           "the 11th: -ENOSPC");
    is_int(sipd_cache_get(c, S("u10"), S("h"), 0, &got), 0,
           "and it is not kept");
    is_int(sipd_cache_put(c, S("u3"), S("h"), &k, 500), -ENOSPC,
           "full: not even a replacement");
    is_int(sipd_cache_sweep(c, 1000), 10, "sweep at the TTL: all 10 go");
    is_int(sipd_cache_put(c, S("u10"), S("h"), &k, 1000), 0,
           "room again after the sweep");
    memset(big, 'x', sizeof(big));
    is_int(sipd_cache_put(c, (struct str){big, sizeof(big)}, S("h"), &k,
                          1000),
           -E2BIG, "a user over 64 KiB: -E2BIG");
    sipd_cache_free(c);
}

/* --- threads ----------------------------------------------------------- */

#define T_KEYS 64
#define T_READERS 3
#define T_ROUNDS 40000

struct t_shared {
    struct sipd_cache *c;
    int stop;
    long hits[T_READERS];
    long bad[T_READERS];
    long puts;
};

/* t_uri - the answer for key i in version v: "sip:uI@vV.example" */
static struct sipd_alias t_ver(int i, long v)
{
    char uri[64];

    snprintf(uri, sizeof(uri), "sip:u%d@v%ld.example", i, v);
    return t_alias(uri);
}

static void *t_reader(void *arg)
{
    struct t_shared *s = ((void **)arg)[0];
    int id = (int)(long)((void **)arg)[1];
    struct sipd_alias got;
    char user[16], want[16];
    int i, r, n;

    urcu_memb_register_thread();
    for (r = 0; r < T_ROUNDS && !__atomic_load_n(&s->stop, __ATOMIC_RELAXED);
         r++) {
        i = r % T_KEYS;
        n = snprintf(user, sizeof(user), "u%d", i);
        if (!sipd_cache_get(s->c, (struct str){user, (size_t)n}, S("h"), 0,
                            &got))
            continue;
        s->hits[id]++;
        n = snprintf(want, sizeof(want), "sip:u%d@v", i);
        if (got.state != SIPD_ALIAS_SET || got.len < (size_t)n + 9
            || memcmp(got.uri, want, (size_t)n) != 0
            || memcmp(got.uri + got.len - 8, ".example", 8) != 0)
            s->bad[id]++;
    }
    urcu_memb_unregister_thread();
    return NULL;
}

static void *t_writer(void *arg)
{
    struct t_shared *s = arg;
    struct sipd_alias a;
    char user[16];
    long v;
    int n;

    urcu_memb_register_thread();
    for (v = 0; v < T_ROUNDS && !__atomic_load_n(&s->stop, __ATOMIC_RELAXED);
         v++) {
        n = snprintf(user, sizeof(user), "u%ld", v % T_KEYS);
        a = t_ver((int)(v % T_KEYS), v);
        if (sipd_cache_put(s->c, (struct str){user, (size_t)n}, S("h"), &a,
                           0) == 0)
            s->puts++;
        if (v % 5000 == 4999)
            sipd_cache_flush(s->c);
        else if (v % 1000 == 999)
            sipd_cache_sweep(s->c, 0);  /* nothing expired: removes 0 */
    }
    urcu_memb_unregister_thread();
    return NULL;
}

static void test_threads(void)
{
    struct t_shared s;
    pthread_t rd[T_READERS], wr;
    void *args[T_READERS][2];
    long hits = 0, bad = 0;
    int i;

    memset(&s, 0, sizeof(s));
    s.c = sipd_cache_new(3600, 1000);
    pthread_create(&wr, NULL, t_writer, &s);
    for (i = 0; i < T_READERS; i++) {
        args[i][0] = &s;
        args[i][1] = (void *)(long)i;
        pthread_create(&rd[i], NULL, t_reader, args[i]);
    }
    pthread_join(wr, NULL);
    __atomic_store_n(&s.stop, 1, __ATOMIC_RELAXED);
    for (i = 0; i < T_READERS; i++) {
        pthread_join(rd[i], NULL);
        hits += s.hits[i];
        bad += s.bad[i];
    }
    ok(s.puts == T_ROUNDS, "writer: %ld answers kept", s.puts);
    is_int(bad, 0, "%d readers, %ld hits while answers were replaced, "
           "swept and flushed: every hit a whole answer of its own key",
           T_READERS, hits);
    ok(sipd_cache_count(s.c) <= T_KEYS,
       "entries never pass the number of keys (%ld)", sipd_cache_count(s.c));
    sipd_cache_free(s.c);
}

int main(void)
{
    urcu_memb_register_thread();
    test_basic();
    test_keys();
    test_bound();
    test_threads();
    urcu_memb_unregister_thread();
    return done_testing();
}
