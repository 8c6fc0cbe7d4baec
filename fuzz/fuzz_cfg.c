/*
 * SUMMARY
 *      fuzz_cfg - libFuzzer target for the config parser (common/cfg*.c)
 * DESCRIPTION
 *      Each input is the whole text of a config file, handed to
 *      cfg_load_buf() (the reader cfg_load_file() uses after its read)
 *      from an exact-size copy, so a read past the end is ASan's. The
 *      parse runs twice, into structs that start as different garbage.
 *      Invariants checked on every result:
 *
 *        - the return value is 0 or -1, and the same both times;
 *        - -1: the message is NUL-terminated inside the error buffer
 *          (the guard after it never written), starts with
 *          "fuzz.cfg:LINE: " and LINE is at most the input's line count
 *          (0 for whole-file checks);
 *        - 0: both structs are byte-identical (no field left to the
 *          garbage it started as), every count lies in its array's
 *          bounds (1..CFG_MAX_LISTEN listen lines, at least one
 *          http_allow network), every string is NUL-terminated in its
 *          field, every listen address is IPv4 or IPv6 with the length
 *          of its family, every network's prefix fits its family, and
 *          cfg_diff() finds no key that differs between the two;
 *        - the error buffer is the only output: nothing is allocated,
 *          so there is nothing to free (ASan's leak check would say).
 *
 *      make fuzz builds it with the files named on the FUZZ_SRC line and
 *      seeds it with the configs on the FUZZ_CORPUS line.
 * FUZZ_SRC: common/cfg.c common/cfg_addr.c common/cfg_keys.c common/cfg_value.c common/addr.c common/db_url.c
 * FUZZ_CORPUS: t/data/cfg/*.cfg etc/*.cfg
 */
#include <assert.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CFG_NAME "fuzz.cfg"
#define FUZZ_CFG_ERR 256
#define FUZZ_CFG_GUARD 64

static struct cfg fuzz_cfg_a, fuzz_cfg_b;
static char fuzz_cfg_err[FUZZ_CFG_ERR + FUZZ_CFG_GUARD];

/* fuzz_cfg_lines - how many lines cfg.c counts in the input */
static unsigned fuzz_cfg_lines(const uint8_t *data, size_t size)
{
    unsigned n = size > 0;
    size_t i;

    for (i = 0; i < size; i++)
        if (data[i] == '\n' && i + 1 < size)
            n++;
    return n;
}

/* fuzz_cfg_check_err - "fuzz.cfg:LINE: ..." inside the buffer */
static void fuzz_cfg_check_err(const uint8_t *data, size_t size)
{
    const char *p = fuzz_cfg_err + strlen(FUZZ_CFG_NAME ":");
    char *end;
    unsigned long line;
    size_t i;

    assert(memchr(fuzz_cfg_err, '\0', FUZZ_CFG_ERR) != NULL);
    for (i = FUZZ_CFG_ERR; i < sizeof(fuzz_cfg_err); i++)
        assert(fuzz_cfg_err[i] == 'G');
    assert(strncmp(fuzz_cfg_err, FUZZ_CFG_NAME ":",
                   strlen(FUZZ_CFG_NAME ":")) == 0);
    assert(*p >= '0' && *p <= '9');
    line = strtoul(p, &end, 10);
    assert(end[0] == ':' && end[1] == ' ' && end[2] != '\0');
    assert(line <= fuzz_cfg_lines(data, size));
}

/* fuzz_cfg_str - s is NUL-terminated within its field of size bytes */
#define fuzz_cfg_str(s) assert(memchr((s), '\0', sizeof(s)) != NULL)

static void fuzz_cfg_check_addr(const struct sockaddr_storage *a,
                                socklen_t len, int may_be_unset)
{
    if (a->ss_family == AF_INET)
        assert(len == sizeof(struct sockaddr_in));
    else if (a->ss_family == AF_INET6)
        assert(len == sizeof(struct sockaddr_in6));
    else
        assert(may_be_unset && a->ss_family == 0 && len == 0);
}

/* fuzz_cfg_check_ok - a loaded struct the daemons can use as it is */
static void fuzz_cfg_check_ok(const struct cfg *c)
{
    int i;

    assert(c->nlisten >= 1 && c->nlisten <= CFG_MAX_LISTEN);
    assert(c->nalias >= 0 && c->nalias <= CFG_MAX_ALIAS);
    assert(c->nload >= 0 && c->nload <= CFG_MAX_LOAD);
    assert(c->ndns_servers >= 0 && c->ndns_servers <= CFG_MAX_DNS);
    assert(c->ndb_url >= 0 && c->ndb_url <= CFG_MAX_DB_URL);
    assert(c->nhttp_allow >= 1 && c->nhttp_allow <= CFG_MAX_HTTP_ALLOW);
    assert(c->stages_sipd >= 1 && c->stages_sipd <= CFG_MAX_SIPD);
    assert(c->children >= 1 && c->children <= CFG_MAX_CHILDREN);
    for (i = 0; i < c->nlisten; i++) {
        const struct cfg_listen *l = &c->listen[i];

        assert(l->proto >= CFG_PROTO_UDP && l->proto <= CFG_PROTO_TLS);
        fuzz_cfg_str(l->host);
        fuzz_cfg_str(l->adv_host);
        fuzz_cfg_check_addr(&l->addr, l->addrlen, 0);
    }
    for (i = 0; i < c->nalias; i++)
        fuzz_cfg_str(c->alias[i].host);
    for (i = 0; i < c->nload; i++)
        fuzz_cfg_str(c->load[i]);
    for (i = 0; i < c->ndns_servers; i++)
        fuzz_cfg_str(c->dns_servers[i].host);
    for (i = 0; i < c->ndb_url; i++)
        fuzz_cfg_str(c->db_url[i]);
    for (i = 0; i < c->nhttp_allow; i++) {
        const struct cfg_net *n = &c->http_allow[i];

        assert(n->family == AF_INET || n->family == AF_INET6);
        assert(n->prefix >= 0 && n->prefix <= (n->family == AF_INET ? 32
                                                                    : 128));
    }
    fuzz_cfg_check_addr(&c->http_listen.addr, c->http_listen.addrlen, 1);
    fuzz_cfg_str(c->run_dir);
    fuzz_cfg_str(c->fifo_name);
    fuzz_cfg_str(c->mod_path);
    fuzz_cfg_str(c->log_facility);
    fuzz_cfg_str(c->tls_certificate);
    fuzz_cfg_str(c->tls_private_key);
    assert(c->tls_min_version == CFG_TLS_V12
           || c->tls_min_version == CFG_TLS_V13);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    int ra, rb;

    assert(buf != NULL);
    memcpy(buf, data, size);
    memset(&fuzz_cfg_a, 0xa5, sizeof(fuzz_cfg_a));
    memset(&fuzz_cfg_b, 0x5a, sizeof(fuzz_cfg_b));
    memset(fuzz_cfg_err, 'G', sizeof(fuzz_cfg_err));
    ra = cfg_load_buf(&fuzz_cfg_a, FUZZ_CFG_NAME, buf, size, fuzz_cfg_err,
                      FUZZ_CFG_ERR);
    assert(ra == 0 || ra == -1);
    if (ra < 0)
        fuzz_cfg_check_err(data, size);
    rb = cfg_load_buf(&fuzz_cfg_b, FUZZ_CFG_NAME, buf, size, fuzz_cfg_err,
                      FUZZ_CFG_ERR);
    assert(rb == ra);
    if (ra == 0) {
        fuzz_cfg_check_ok(&fuzz_cfg_a);
        assert(memcmp(&fuzz_cfg_a, &fuzz_cfg_b, sizeof(fuzz_cfg_a)) == 0);
        assert(cfg_diff(&fuzz_cfg_a, &fuzz_cfg_b, NULL, 0) == 0);
    }
    free(buf);
    return 0;
}
