/*
 * SUMMARY
 *      t/unit/cfg - TAP tests for common/cfg*.c
 * DESCRIPTION
 *      cfg_t_cases[] holds one config text per row and either the field
 *      values it must yield or the exact error it must give. Cases that
 *      need long or many lines (limits of repeatable keys, the 4096-byte
 *      line limit) are built at run time. cfg_load_file() is run on a
 *      missing file, a directory, the files in t/data/cfg/ and
 *      etc/sipstage.cfg,
 *      relative to the current directory (the top of the tree).
 *      cfg_t_diffs[] holds one change to a base text per row and the
 *      keys cfg_diff() must report for it.
 * PROTOCOL
 *      None.
 * DIAGNOSTICS
 *      TAP on stdout; the exit status is the number of failures.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "tap.h"

enum cfg_t_kind {
    CFG_TK_END,
    CFG_TK_INT,                          /* int field */
    CFG_TK_U16,                          /* uint16_t field */
    CFG_TK_STR,                          /* char[] field */
    CFG_TK_ADDR,                         /* sockaddr_storage as "IP port" */
    CFG_TK_NET,                          /* struct cfg_net as "IP/LEN" */
};

struct cfg_t_exp {
    enum cfg_t_kind kind;
    size_t off;
    long long i;
    const char *s;
    const char *what;
};

#define XI(f, v) {CFG_TK_INT, offsetof(struct cfg, f), v, NULL, #f}
#define XP(f, v) {CFG_TK_U16, offsetof(struct cfg, f), v, NULL, #f}
#define XS(f, v) {CFG_TK_STR, offsetof(struct cfg, f), 0, v, #f}
#define XA(f, v) {CFG_TK_ADDR, offsetof(struct cfg, f), 0, v, #f}
#define XN(f, v) {CFG_TK_NET, offsetof(struct cfg, f), 0, v, #f}

struct cfg_t_case {
    const char *name;
    const char *text;
    size_t len;                         /* 0 = strlen(text) */
    const char *err;                    /* NULL = must load */
    struct cfg_t_exp exp[16];
};

/* the least config that loads: two lines */
#define L "[net]\nlisten = 127.0.0.1\n"

static const struct cfg_t_case cfg_t_cases[] = {
    /* what a minimal file leaves as defaults */
    {"minimal", L, 0, NULL,
     {XI(nlisten, 1), XI(listen[0].proto, CFG_PROTO_UDP),
      XS(listen[0].host, "127.0.0.1"), XP(listen[0].port, 5060),
      XA(listen[0].addr, "127.0.0.1 5060"),
      XI(listen[0].addrlen, sizeof(struct sockaddr_in)), XI(children, 4),
      XI(stages_sipd, 1), XS(run_dir, "/tmp/sipstage"), XI(nalias, 0),
      XI(nload, 0), XI(ndns_servers, 0), XS(db_url, ""),
      XI(fifo_mode, 0600), XS(file, "t.cfg")}},
    {"every key but listen left out", "\n\n# nothing\n" L, 0, NULL,
     {XI(debug, 2), XS(log_facility, "LOG_DAEMON"), XS(mod_path, "build/lib"),
      XS(fifo_name, "/tmp/sipstage_fifo"), XI(udp_maxbuffer, 4194304),
      XI(tcp_max_connections_per_ip, 64)}},

    /* listen */
    {"listen proto and port", "[net]\nlisten = udp:10.1.2.3:5070\n", 0, NULL,
     {XI(listen[0].proto, CFG_PROTO_UDP), XS(listen[0].host, "10.1.2.3"),
      XP(listen[0].port, 5070), XA(listen[0].addr, "10.1.2.3 5070")}},
    {"listen proto in capitals", "[net]\nlisten = UDP:10.1.2.3\n", 0, NULL,
     {XI(listen[0].proto, CFG_PROTO_UDP), XP(listen[0].port, 5060)}},
    {"listen IPv6 with port", "[net]\nlisten = [::1]:5062\n", 0, NULL,
     {XS(listen[0].host, "::1"), XP(listen[0].port, 5062),
      XA(listen[0].addr, "::1 5062"),
      XI(listen[0].addrlen, sizeof(struct sockaddr_in6))}},
    {"listen IPv6 no port", "[net]\nlisten = udp:[2001:db8::7]\n", 0, NULL,
     {XS(listen[0].host, "2001:db8::7"), XP(listen[0].port, 5060),
      XA(listen[0].addr, "2001:db8::7 5060")}},
    {"several listen lines",
     "[net]\nlisten = 127.0.0.1\nlisten = 127.0.0.1:5070\n"
     "listen = 0.0.0.0:5060 as a.example.com\n"
     "listen = [::]:5060 as [2001:DB8::1]:5062\n",
     0, NULL,
     {XI(nlisten, 4), XP(listen[1].port, 5070), XS(listen[2].host, "0.0.0.0"),
      XS(listen[3].host, "::"), XS(listen[0].adv_host, ""),
      XP(listen[0].adv_port, 0), XS(listen[2].adv_host, "a.example.com"),
      XP(listen[2].adv_port, 5060), XS(listen[3].adv_host, "2001:db8::1"),
      XP(listen[3].adv_port, 5062)}},
    /* advertised addresses (OpenSIPS "as") */
    {"listen as name and port",
     "[net]\nlisten = udp:0.0.0.0:5060 as SIP.Example.com:5080 # pub\n", 0,
     NULL,
     {XI(listen[0].proto, CFG_PROTO_UDP), XS(listen[0].host, "0.0.0.0"),
      XP(listen[0].port, 5060), XA(listen[0].addr, "0.0.0.0 5060"),
      XS(listen[0].adv_host, "sip.example.com"),
      XP(listen[0].adv_port, 5080)}},
    {"listen as IP, tabs, no port: the listen port",
     "[net]\nlisten = tcp:10.0.0.1:5070\tAS\t203.0.113.9\t\n", 0, NULL,
     {XI(listen[0].proto, CFG_PROTO_TCP), XS(listen[0].host, "10.0.0.1"),
      XS(listen[0].adv_host, "203.0.113.9"), XP(listen[0].adv_port, 5070)}},
    {"listen as, quoted", "[net]\nlisten = \"0.0.0.0 as pub.example\"\n", 0,
     NULL, {XS(listen[0].adv_host, "pub.example"), XP(listen[0].adv_port,
                                                       5060)}},
    {"listen wildcard without as", "[net]\nlisten = 127.0.0.1\n"
     "listen = udp:0.0.0.0:5070\n", 0,
     "t.cfg:3: [net] listen: wildcard address 0.0.0.0 needs \"as "
     "HOST[:PORT]\" (the address Via and Record-Route name)", {{0}}},
    {"listen IPv6 wildcard without as", "[net]\nlisten = tcp:[::]:5060\n", 0,
     "t.cfg:2: [net] listen: wildcard address [::] needs \"as HOST[:PORT]\" "
     "(the address Via and Record-Route name)", {{0}}},
    {"listen as without host", "[net]\nlisten = 0.0.0.0 as\n", 0,
     "t.cfg:2: [net] listen: junk \"as\" after the address (expected "
     "\"as HOST[:PORT]\")", {{0}}},
    {"listen as two hosts", "[net]\nlisten = 0.0.0.0 as a.example b\n", 0,
     "t.cfg:2: [net] listen: \"as\" takes one HOST[:PORT]", {{0}}},
    {"listen as bad name", "[net]\nlisten = 0.0.0.0 as a/b\n", 0,
     "t.cfg:2: [net] listen: bad host name \"a/b\" after as", {{0}}},
    {"listen as bad port", "[net]\nlisten = 0.0.0.0 as a.example:0\n", 0,
     "t.cfg:2: [net] listen: bad port \"0\" (1..65535)", {{0}}},
    {"listen as bad IPv6", "[net]\nlisten = 0.0.0.0 as [zz::1]\n", 0,
     "t.cfg:2: [net] listen: bad IPv6 address \"zz::1\"", {{0}}},
    {"listen tcp", "[net]\nlisten = tcp:127.0.0.1:5070\n", 0, NULL,
     {XI(nlisten, 1), XI(listen[0].proto, CFG_PROTO_TCP),
      XS(listen[0].host, "127.0.0.1"), XP(listen[0].port, 5070)}},
    {"listen TCP in capitals, IPv6", "[net]\nlisten = TCP:[::1]\n", 0, NULL,
     {XI(listen[0].proto, CFG_PROTO_TCP), XS(listen[0].host, "::1"),
      XP(listen[0].port, 5060)}},
    {"listen udp and tcp on one port",
     "[net]\nlisten = udp:127.0.0.1:5060\nlisten = tcp:127.0.0.1:5060\n", 0,
     NULL,
     {XI(nlisten, 2), XI(listen[0].proto, CFG_PROTO_UDP),
      XI(listen[1].proto, CFG_PROTO_TCP), XP(listen[1].port, 5060)}},
    {"listen tcp twice",
     "[net]\nlisten = tcp:127.0.0.1\nlisten = tcp:127.0.0.1:5060\n", 0,
     "t.cfg:3: [net] listen: duplicate \"tcp:127.0.0.1:5060\" (first at "
     "line 2)", {{0}}},
    {"listen bad port", "[net]\nlisten = 127.0.0.1:99999\n", 0,
     "t.cfg:2: [net] listen: bad port \"99999\" (1..65535)", {{0}}},
    {"listen port 0", "[net]\nlisten = 127.0.0.1:0\n", 0,
     "t.cfg:2: [net] listen: bad port \"0\" (1..65535)", {{0}}},
    {"listen empty port", "[net]\nlisten = 127.0.0.1:\n", 0,
     "t.cfg:2: [net] listen: bad port \"\" (1..65535)", {{0}}},
    {"listen port not a number", "[net]\nlisten = 127.0.0.1:sip\n", 0,
     "t.cfg:2: [net] listen: bad port \"sip\" (1..65535)", {{0}}},
    {"listen name", "[net]\nlisten = localhost:5060\n", 0,
     "t.cfg:2: [net] listen: \"localhost\" is not a numeric IP address "
     "(listen takes no host names)", {{0}}},
    {"listen bad IPv4", "[net]\nlisten = 1.2.3.256\n", 0,
     "t.cfg:2: [net] listen: \"1.2.3.256\" is not a numeric IP address "
     "(listen takes no host names)", {{0}}},
    {"listen unknown proto", "[net]\nlisten = sctp:127.0.0.1\n", 0,
     "t.cfg:2: [net] listen: unknown transport \"sctp\" (udp, tcp or "
     "tls)", {{0}}},

    /* tls: listen and [tls] */
#define TLS_KEYS "[tls]\ncertificate = /c.pem\nprivate_key = /k.pem\n"
    {"listen tls: default port 5061, [tls] defaults",
     "[net]\nlisten = tls:127.0.0.1\n" TLS_KEYS, 0, NULL,
     {XI(listen[0].proto, CFG_PROTO_TLS), XP(listen[0].port, 5061),
      XS(tls_certificate, "/c.pem"), XS(tls_private_key, "/k.pem"),
      XS(tls_ca_list, ""), XI(tls_verify_client, 0),
      XI(tls_verify_server, 1), XI(tls_min_version, CFG_TLS_V12),
      XS(tls_ciphers, ""), XI(tls_handshake_timeout_ms, 5000)}},
    {"[tls] every key", "[net]\nlisten = TLS:[::1]:5071\n" TLS_KEYS
     "ca_list = /ca.pem\nverify_client = 2\nverify_server = off\n"
     "min_version = tlsv1.3\nciphers = \"HIGH:!aNULL\"\n"
     "handshake_timeout_ms = 250\n", 0, NULL,
     {XI(listen[0].proto, CFG_PROTO_TLS), XP(listen[0].port, 5071),
      XS(tls_ca_list, "/ca.pem"), XI(tls_verify_client, 2),
      XI(tls_verify_server, 0), XI(tls_min_version, CFG_TLS_V13),
      XS(tls_ciphers, "HIGH:!aNULL"), XI(tls_handshake_timeout_ms, 250)}},
    {"tls and tcp on one port are two listen lines",
     "[net]\nlisten = tcp:127.0.0.1:5061\nlisten = tls:127.0.0.1\n"
     TLS_KEYS, 0, NULL, {XI(nlisten, 2), XI(listen[1].proto, CFG_PROTO_TLS)}},
    {"tls listen without certificate", "[net]\nlisten = tls:127.0.0.1\n", 0,
     "t.cfg:0: [tls] certificate: missing (a tls listen line needs it)",
     {{0}}},
    {"tls listen without private_key",
     "[net]\nlisten = tls:127.0.0.1\n[tls]\ncertificate = /c\n", 0,
     "t.cfg:0: [tls] private_key: missing (a tls listen line needs it)",
     {{0}}},
    {"verify_client without ca_list",
     "[net]\nlisten = tls:127.0.0.1\n" TLS_KEYS "verify_client = 1\n", 0,
     "t.cfg:0: [tls] ca_list: missing (verify_client needs the CAs that "
     "sign client certificates)", {{0}}},
    {"[tls] without a tls listen: no file needed",
     L "[tls]\nverify_client = 2\n", 0, NULL, {XI(tls_verify_client, 2)}},
    {"min_version 1.1 refused",
     L "[tls]\nmin_version = TLSv1.1\n", 0,
     "t.cfg:4: [tls] min_version: bad TLS version \"TLSv1.1\" (TLSv1.2 or "
     "TLSv1.3)", {{0}}},
    {"verify_client 3 refused", L "[tls]\nverify_client = 3\n", 0,
     "t.cfg:4: [tls] verify_client: \"3\" out of range (0..2)", {{0}}},
    {"listen bare IPv6", "[net]\nlisten = ::1\n", 0,
     "t.cfg:2: [net] listen: IPv6 address needs brackets: [ADDR]:PORT", {{0}}},
    {"listen bare IPv6 after proto", "[net]\nlisten = udp:fe80::1:5060\n", 0,
     "t.cfg:2: [net] listen: IPv6 address needs brackets: [ADDR]:PORT", {{0}}},
    {"listen unclosed bracket", "[net]\nlisten = [::1:5060\n", 0,
     "t.cfg:2: [net] listen: missing \"]\" after IPv6 address", {{0}}},
    {"listen junk after bracket", "[net]\nlisten = [::1]5060\n", 0,
     "t.cfg:2: [net] listen: junk after \"]\" (expected \":PORT\")", {{0}}},
    {"listen IPv4 in brackets", "[net]\nlisten = [127.0.0.1]\n", 0,
     "t.cfg:2: [net] listen: bad IPv6 address \"127.0.0.1\"", {{0}}},
    {"listen no host", "[net]\nlisten = udp::5060\n", 0,
     "t.cfg:2: [net] listen: missing host", {{0}}},
    {"listen duplicate",
     "[net]\nlisten = 127.0.0.1\n\nlisten = udp:127.0.0.1:5060\n", 0,
     "t.cfg:4: [net] listen: duplicate \"udp:127.0.0.1:5060\" (first at "
     "line 2)", {{0}}},
    {"listen duplicate IPv6", "[net]\nlisten = [::1]\nlisten = [0::1]:5060\n",
     0, "t.cfg:3: [net] listen: duplicate \"udp:[0::1]:5060\" (first at "
        "line 2)", {{0}}},
    {"listen trailing junk", "[net]\nlisten = 127.0.0.1 5060\n", 0,
     "t.cfg:2: [net] listen: junk \"5060\" after the address (expected "
     "\"as HOST[:PORT]\")", {{0}}},
    {"no listen line", "[core]\nchildren = 2\n", 0,
     "t.cfg:0: [net] listen: missing (at least one listen line is "
     "required)", {{0}}},
    {"empty file", "", 0,
     "t.cfg:0: [net] listen: missing (at least one listen line is "
     "required)", {{0}}},

    /* alias and servers */
    {"alias", L "alias = SIP.Example.COM\nalias = [::1]:5061\n"
     "alias = 10.0.0.1:5060\n", 0, NULL,
     {XI(nalias, 3), XS(alias[0].host, "sip.example.com"),
      XP(alias[0].port, 0), XS(alias[1].host, "::1"), XP(alias[1].port, 5061),
      XS(alias[2].host, "10.0.0.1"), XP(alias[2].port, 5060)}},
    {"alias bad name", L "alias = sip/example\n", 0,
     "t.cfg:3: [net] alias: bad host name \"sip/example\"", {{0}}},
    {"alias bad port", L "alias = example.com:70000\n", 0,
     "t.cfg:3: [net] alias: bad port \"70000\" (1..65535)", {{0}}},
    {"dns servers", L "[dns]\nservers = 10.0.0.53\nservers=[::1]:5353\n", 0,
     NULL,
     {XI(ndns_servers, 2), XS(dns_servers[0].host, "10.0.0.53"),
      XP(dns_servers[0].port, 53), XS(dns_servers[1].host, "::1"),
      XP(dns_servers[1].port, 5353)}},
    {"dns server name", L "[dns]\nservers = ns1.example.com\n", 0,
     "t.cfg:4: [dns] servers: \"ns1.example.com\" is not a numeric IP "
     "address (servers takes no host names)", {{0}}},
    {"dns server bad port", L "[dns]\nservers = 10.0.0.53:0\n", 0,
     "t.cfg:4: [dns] servers: bad port \"0\" (1..65535)", {{0}}},

    /* [core] */
    {"core", L "[core]\nchildren = 64\ndaemon = 1\nworking_dir = /\n"
     "chroot_dir = /srv\nuser = nobody\ngroup = 65534\ndo_coredump = 1\n"
     "rt_coredump = 1\nopen_files = 1048576\npid_file = /tmp/p.pid\n"
     "pgid_file = /tmp/p.pgid\nrun_dir = /tmp/r\n", 0, NULL,
     {XI(children, 64), XI(daemon, 1), XS(working_dir, "/"),
      XS(chroot_dir, "/srv"), XS(user, "nobody"), XS(group, "65534"),
      XI(do_coredump, 1), XI(rt_coredump, 1), XI(open_files, 1048576),
      XS(pid_file, "/tmp/p.pid"), XS(pgid_file, "/tmp/p.pgid"),
      XS(run_dir, "/tmp/r")}},
    {"chidlren is children", L "[core]\nchidlren = 7\n", 0, NULL,
     {XI(children, 7)}},
    {"children and chidlren", L "[core]\nchildren = 7\nchidlren = 8\n", 0,
     "t.cfg:5: [core] chidlren: already set at line 4", {{0}}},
    {"children twice", L "[core]\nchildren = 7\n\nchildren = 8\n", 0,
     "t.cfg:6: [core] children: already set at line 4", {{0}}},
    {"children 0", L "[core]\nchildren = 0\n", 0,
     "t.cfg:4: [core] children: \"0\" out of range (1..64)", {{0}}},
    {"children 65", L "[core]\nchildren = 65\n", 0,
     "t.cfg:4: [core] children: \"65\" out of range (1..64)", {{0}}},
    {"children huge", L "[core]\nchildren = 99999999999999999999\n", 0,
     "t.cfg:4: [core] children: bad number \"99999999999999999999\"", {{0}}},
    {"children word", L "[core]\nchildren = four\n", 0,
     "t.cfg:4: [core] children: bad number \"four\"", {{0}}},
    {"children 4x", L "[core]\nchildren = 4x\n", 0,
     "t.cfg:4: [core] children: bad number \"4x\"", {{0}}},
    {"children quoted empty", L "[core]\nchildren = \"\"\n", 0,
     "t.cfg:4: [core] children: bad number \"\"", {{0}}},
    {"children quoted", L "[core]\nchildren = \"12\"\n", 0, NULL,
     {XI(children, 12)}},
    {"children missing value", L "[core]\nchildren =\n", 0,
     "t.cfg:4: [core] children: missing value", {{0}}},
    {"children value is a comment", L "[core]\nchildren = # four\n", 0,
     "t.cfg:4: [core] children: missing value", {{0}}},
    {"children missing =", L "[core]\nchildren 4\n", 0,
     "t.cfg:4: [core] children: missing \"=\"", {{0}}},
    {"children two values", L "[core]\nchildren = 4 5\n", 0,
     "t.cfg:4: [core] children: trailing junk \"5\" (quote values with "
     "spaces or \"#\")", {{0}}},
    {"daemon bad bool", L "[core]\ndaemon = maybe\n", 0,
     "t.cfg:4: [core] daemon: bad boolean \"maybe\" (0/1, yes/no, on/off, "
     "true/false)", {{0}}},
    {"daemon 2", L "[core]\ndaemon = 2\n", 0,
     "t.cfg:4: [core] daemon: bad boolean \"2\" (0/1, yes/no, on/off, "
     "true/false)", {{0}}},
    {"open_files range", L "[core]\nopen_files = -1\n", 0,
     "t.cfg:4: [core] open_files: \"-1\" out of range (0..1048576)", {{0}}},
    {"user 63 bytes",
     L "[core]\nuser = u23456789012345678901234567890123456789012345678901234"
       "567890123\n", 0, NULL,
     {XS(user, "u2345678901234567890123456789012345678901234567890123456789"
               "0123")}},
    {"user 64 bytes",
     L "[core]\nuser = u23456789012345678901234567890123456789012345678901234"
       "5678901234\n", 0,
     "t.cfg:4: [core] user: too long (max 63 bytes)", {{0}}},
    {"run_dir empty", L "[core]\nrun_dir = \"\"\n", 0,
     "t.cfg:4: [core] run_dir: empty value", {{0}}},
    {"pid_file empty", L "[core]\npid_file = \"\"\n", 0, NULL,
     {XS(pid_file, "")}},

    /* booleans, all spellings */
    {"bool spellings", L "[core]\ndaemon = yes\ndo_coredump = ON\n"
     "rt_coredump = True\n[log]\nlog_syslog = 1\n[net]\ntcp_via_alias = 1\n"
     "[dns]\ncache = no\nnaptr = off\nsrv = FALSE\ntry_ipv6 = true\n"
     "[route]\nrecord_route = on\n", 0, NULL,
     {XI(daemon, 1), XI(do_coredump, 1), XI(rt_coredump, 1),
      XI(log_syslog, 1), XI(tcp_via_alias, 1), XI(dns_cache, 0),
      XI(dns_naptr, 0), XI(dns_srv, 0), XI(dns_try_ipv6, 1),
      XI(record_route, 1)}},

    /* [log] */
    {"log", L "[log]\ndebug = 4\nmemlog = -3\nmemdump = 0\nlog_syslog = 1\n"
     "log_name = sipd1\nlog_facility = LOG_LOCAL0\n", 0, NULL,
     {XI(debug, 4), XI(memlog, -3), XI(memdump, 0), XI(log_syslog, 1),
      XS(log_name, "sipd1"), XS(log_facility, "LOG_LOCAL0")}},
    {"debug 5", L "[log]\ndebug = 5\n", 0,
     "t.cfg:4: [log] debug: \"5\" out of range (-3..4)", {{0}}},
    {"debug -4", L "[log]\ndebug = -4\n", 0,
     "t.cfg:4: [log] debug: \"-4\" out of range (-3..4)", {{0}}},
    {"memlog 9", L "[log]\nmemlog = 9\n", 0,
     "t.cfg:4: [log] memlog: \"9\" out of range (-3..4)", {{0}}},
    {"memdump -9", L "[log]\nmemdump = -9\n", 0,
     "t.cfg:4: [log] memdump: \"-9\" out of range (-3..4)", {{0}}},
    {"facility short", L "[log]\nlog_facility = local7\n", 0, NULL,
     {XS(log_facility, "LOG_LOCAL7")}},
    {"facility mixed case", L "[log]\nlog_facility = Log_User\n", 0, NULL,
     {XS(log_facility, "LOG_USER")}},
    {"facility unknown", L "[log]\nlog_facility = LOG_LOCAL8\n", 0,
     "t.cfg:4: [log] log_facility: unknown facility \"LOG_LOCAL8\"", {{0}}},
    {"log_name empty", L "[log]\nlog_name = \"\"\n", 0,
     "t.cfg:4: [log] log_name: empty value", {{0}}},

    /* [net] scalars */
    {"net", L "net_tos = 255\nudp_maxbuffer = 4096\nudp_min_size = 65535\n"
     "tcp_max_size = 256\ntcp_via_alias = 0\ntcp_lifetime = 86400\n"
     "tcp_max_connections = 1\ntcp_max_connections_per_ip = 1048576\n", 0,
     NULL,
     {XI(net_tos, 255), XI(udp_maxbuffer, 4096), XI(udp_min_size, 65535),
      XI(tcp_max_size, 256), XI(tcp_via_alias, 0), XI(tcp_lifetime, 86400),
      XI(tcp_max_connections, 1), XI(tcp_max_connections_per_ip, 1048576)}},
    {"net_tos 256", L "net_tos = 256\n", 0,
     "t.cfg:3: [net] net_tos: \"256\" out of range (0..255)", {{0}}},
    {"udp_maxbuffer small", L "udp_maxbuffer = 100\n", 0,
     "t.cfg:3: [net] udp_maxbuffer: \"100\" out of range (4096..67108864)",
     {{0}}},
    {"udp_min_size big", L "udp_min_size = 65536\n", 0,
     "t.cfg:3: [net] udp_min_size: \"65536\" out of range (0..65535)", {{0}}},
    {"tcp_max_size big", L "tcp_max_size = 65536\n", 0,
     "t.cfg:3: [net] tcp_max_size: \"65536\" out of range (256..65535)",
     {{0}}},
    {"tcp_lifetime 0", L "tcp_lifetime = 0\n", 0,
     "t.cfg:3: [net] tcp_lifetime: \"0\" out of range (1..86400)", {{0}}},
    {"tcp_max_connections 0", L "tcp_max_connections = 0\n", 0,
     "t.cfg:3: [net] tcp_max_connections: \"0\" out of range (1..1048576)",
     {{0}}},
    {"tcp_max_connections_per_ip 0", L "tcp_max_connections_per_ip = 0\n", 0,
     "t.cfg:3: [net] tcp_max_connections_per_ip: \"0\" out of range "
     "(1..1048576)", {{0}}},

    /* [modules] [stages] */
    {"modules", L "[modules]\npath = /opt/mods\nload = mi_fifo\nload = x\n",
     0, NULL, {XS(mod_path, "/opt/mods"), XI(nload, 2),
               XS(load[0], "mi_fifo"), XS(load[1], "x")}},
    {"load empty", L "[modules]\nload = \"\"\n", 0,
     "t.cfg:4: [modules] load: empty value", {{0}}},
    {"path empty", L "[modules]\npath = \"\"\n", 0,
     "t.cfg:4: [modules] path: empty value", {{0}}},
    {"stages", L "[stages]\nsipd = 16\n", 0, NULL, {XI(stages_sipd, 16)}},
    {"stages 17", L "[stages]\nsipd = 17\n", 0,
     "t.cfg:4: [stages] sipd: \"17\" out of range (1..16)", {{0}}},
    {"stages 0", L "[stages]\nsipd = 0\n", 0,
     "t.cfg:4: [stages] sipd: \"0\" out of range (1..16)", {{0}}},

    /* [dns] scalars */
    {"dns", L "[dns]\ntimeout_ms = 60000\ntries = 10\n", 0, NULL,
     {XI(dns_timeout_ms, 60000), XI(dns_tries, 10), XI(dns_cache, 1),
      XI(dns_naptr, 1), XI(dns_srv, 1), XI(dns_try_ipv6, 0)}},
    {"dns timeout 0", L "[dns]\ntimeout_ms = 0\n", 0,
     "t.cfg:4: [dns] timeout_ms: \"0\" out of range (1..60000)", {{0}}},
    {"dns tries 11", L "[dns]\ntries = 11\n", 0,
     "t.cfg:4: [dns] tries: \"11\" out of range (1..10)", {{0}}},

    /* [db] [route] */
    {"db postgres", L "[db]\nurl = postgres://u:pw@127.0.0.1:5432/s\n"
     "pool = 64\n", 0, NULL,
     {XS(db_url, "postgres://u:pw@127.0.0.1:5432/s"), XI(db_pool, 64)}},
    {"db postgresql", L "[db]\nurl = postgresql://127.0.0.1/s\n", 0, NULL,
     {XS(db_url, "postgresql://127.0.0.1/s")}},
    {"db mysql quoted", L "[db]\nurl = \"mysql://u:p#w d@[::1]/s\"\n", 0, NULL,
     {XS(db_url, "mysql://u:p#w d@[::1]/s")}},
    {"db url empty", L "[db]\nurl = \"\"\n", 0, NULL, {XS(db_url, "")}},
    {"db url bad scheme", L "[db]\nurl = http://u:secret@h/s\n", 0,
     "t.cfg:4: [db] url: bad url scheme (postgres://, postgresql:// or "
     "mysql://)", {{0}}},
    {"db url junk is not echoed", L "[db]\nurl = mysql://u:pass word@h/s\n",
     0, "t.cfg:4: [db] url: trailing junk after value", {{0}}},
    {"db url repeatable", L "[db]\nurl = postgres://127.0.0.1/s\n"
     "url = mysql://127.0.0.2:3306/s\nqueue_max = 5\ntimeout_ms = 250\n"
     "cache_ttl = 30\n", 0, NULL,
     {XS(db_url, "postgres://127.0.0.1/s"), XI(ndb_url, 2), XI(db_queue_max, 5),
      XI(db_timeout_ms, 250), XI(db_cache_ttl, 30)}},
    {"db url host name", L "[db]\nurl = postgres://u:secret@db.example/s\n",
     0, "t.cfg:4: [db] url: url host must be an IP address (dbd never "
     "waits on a name lookup)", {{0}}},
    {"db url bad port", L "[db]\nurl = postgres://u:secret@h:99999/s\n", 0,
     "t.cfg:4: [db] url: bad url port", {{0}}},
    {"db url five", L "[db]\nurl = postgres://127.0.0.1/s\n"
     "url = postgres://127.0.0.2/s\nurl = postgres://127.0.0.3/s\n"
     "url = postgres://127.0.0.4/s\nurl = postgres://127.0.0.5/s\n", 0,
     "t.cfg:8: [db] url: too many (max 4)", {{0}}},
    {"db timeout_ms 5", L "[db]\ntimeout_ms = 5\n", 0,
     "t.cfg:4: [db] timeout_ms: \"5\" out of range (10..60000)", {{0}}},
    {"db pool 0", L "[db]\npool = 0\n", 0,
     "t.cfg:4: [db] pool: \"0\" out of range (1..64)", {{0}}},
    {"route", L "[db]\nurl = mysql://127.0.0.1/s\n[route]\nrecord_route = 1\n"
     "db_aliases = 1\n", 0, NULL, {XI(record_route, 1), XI(db_aliases, 1)}},
    {"db_aliases needs url", L "[route]\ndb_aliases = 1\n", 0,
     "t.cfg:0: [route] db_aliases: needs a [db] url", {{0}}},
    {"db_allow needs url", L "[route]\ndb_allow = 1\n", 0,
     "t.cfg:0: [route] db_allow: needs a [db] url", {{0}}},

    /* [mi] */
    {"mi", L "[mi]\nfifo_name = /tmp/f\nfifo_mode = 0660\n", 0, NULL,
     {XS(fifo_name, "/tmp/f"), XI(fifo_mode, 0660)}},
    {"fifo_mode no leading 0", L "[mi]\nfifo_mode = 640\n", 0, NULL,
     {XI(fifo_mode, 0640)}},
    {"fifo_mode 0777", L "[mi]\nfifo_mode = 0777\n", 0, NULL,
     {XI(fifo_mode, 0777)}},
    {"fifo_mode 8", L "[mi]\nfifo_mode = 0680\n", 0,
     "t.cfg:4: [mi] fifo_mode: bad mode \"0680\" (octal, 0000..0777)",
     {{0}}},
    {"fifo_mode setuid", L "[mi]\nfifo_mode = 4755\n", 0,
     "t.cfg:4: [mi] fifo_mode: bad mode \"4755\" (octal, 0000..0777)",
     {{0}}},
    {"fifo_mode signed", L "[mi]\nfifo_mode = -600\n", 0,
     "t.cfg:4: [mi] fifo_mode: bad mode \"-600\" (octal, 0000..0777)",
     {{0}}},

    /* [mi] http_listen, http_allow */
    {"http off", L, 0, NULL,
     {XP(http_listen.port, 0), XI(http_listen.addr.ss_family, 0),
      XI(nhttp_allow, 2), XN(http_allow[0], "127.0.0.0/8"),
      XN(http_allow[1], "::1/128")}},
    {"http_listen", L "[mi]\nhttp_listen = 127.0.0.1:8888\n", 0, NULL,
     {XS(http_listen.host, "127.0.0.1"), XP(http_listen.port, 8888),
      XA(http_listen.addr, "127.0.0.1 8888"),
      XI(http_listen.addrlen, sizeof(struct sockaddr_in))}},
    {"http_listen v6", L "[mi]\nhttp_listen = [::1]:9000\n", 0, NULL,
     {XS(http_listen.host, "::1"), XA(http_listen.addr, "::1 9000")}},
    {"http_listen no port", L "[mi]\nhttp_listen = 127.0.0.1\n", 0,
     "t.cfg:4: [mi] http_listen: missing port (IP:PORT)", {{0}}},
    {"http_listen name", L "[mi]\nhttp_listen = localhost:80\n", 0,
     "t.cfg:4: [mi] http_listen: \"localhost\" is not a numeric IP address "
     "(http_listen takes no host names)", {{0}}},
    {"http_listen twice", L "[mi]\nhttp_listen = 127.0.0.1:1\n"
     "http_listen = 127.0.0.1:2\n", 0,
     "t.cfg:5: [mi] http_listen: already set at line 4", {{0}}},
    {"http_allow", L "[mi]\nhttp_allow = 10.1.2.3/16\nhttp_allow = 192.0.2.7\n"
     "http_allow = 2001:db8::1/32\nhttp_allow = [::1]\n"
     "http_allow = 0.0.0.0/0\n", 0, NULL,
     {XI(nhttp_allow, 5), XN(http_allow[0], "10.1.0.0/16"),
      XN(http_allow[1], "192.0.2.7/32"), XN(http_allow[2], "2001:db8::/32"),
      XN(http_allow[3], "::1/128"), XN(http_allow[4], "0.0.0.0/0")}},
    {"http_allow bad prefix", L "[mi]\nhttp_allow = 10.0.0.0/33\n", 0,
     "t.cfg:4: [mi] http_allow: bad prefix length in \"10.0.0.0/33\" "
     "(0..32)", {{0}}},
    {"http_allow empty prefix", L "[mi]\nhttp_allow = ::/\n", 0,
     "t.cfg:4: [mi] http_allow: bad prefix length in \"::/\" (0..128)",
     {{0}}},
    {"http_allow name", L "[mi]\nhttp_allow = example.com/8\n", 0,
     "t.cfg:4: [mi] http_allow: bad network \"example.com/8\" (IP/LEN)",
     {{0}}},

    /* syntax */
    {"unknown section", L "[core]\n[foo]\nbar = 1\n", 0,
     "t.cfg:4: [foo]: unknown section", {{0}}},
    {"section in capitals", "[Net]\nlisten = 127.0.0.1\n", 0,
     "t.cfg:1: [Net]: unknown section", {{0}}},
    {"unknown key", "[net]\nlisen = 127.0.0.1\n", 0,
     "t.cfg:2: [net] lisen: unknown key", {{0}}},
    {"key in capitals", L "[core]\nChildren = 4\n", 0,
     "t.cfg:4: [core] Children: unknown key", {{0}}},
    {"key in the wrong section", L "[core]\nlisten = 127.0.0.2\n", 0,
     "t.cfg:4: [core] listen: unknown key", {{0}}},
    {"key outside any section", "listen = 127.0.0.1\n", 0,
     "t.cfg:1: listen: key outside any section", {{0}}},
    {"no key", L "[core]\n= 4\n", 0,
     "t.cfg:4: [core]: expected \"key = value\" or \"[section]\"", {{0}}},
    {"bad section line", L "[core\n", 0,
     "t.cfg:3: bad section line (expected \"[name]\")", {{0}}},
    {"junk after section", L "[core] children = 4\n", 0,
     "t.cfg:3: [core]: trailing junk after section", {{0}}},
    {"spaces in section", " [ core ]  # x\n\tchildren=5\n" L, 0, NULL,
     {XI(children, 5)}},
    {"no spaces around =", L "[core]\nchildren=6\nuser=\"a b\"\n", 0, NULL,
     {XI(children, 6), XS(user, "a b")}},
    {"tabs and comments", "# top\n\t[net]\t# net\n\tlisten\t=\t127.0.0.1"
     "\t# lo\n   # indented comment\n[core]\nchildren = 3#no space\n", 0,
     NULL, {XI(nlisten, 1), XI(children, 3)}},
    {"quoted value with #", L "[log]\nlog_name = \"a b # not a comment\"\n",
     0, NULL, {XS(log_name, "a b # not a comment")}},
    {"quoted escapes", L "[log]\nlog_name = \"q\\\"b\\\\s\" # c\n", 0, NULL,
     {XS(log_name, "q\"b\\s")}},
    {"unterminated quote", L "[log]\nlog_name = \"abc\n", 0,
     "t.cfg:4: [log] log_name: unterminated quote", {{0}}},
    {"quote escapes the end", L "[log]\nlog_name = \"abc\\\"\n", 0,
     "t.cfg:4: [log] log_name: unterminated quote", {{0}}},
    {"bad escape", L "[log]\nlog_name = \"a\\nb\"\n", 0,
     "t.cfg:4: [log] log_name: bad escape in quotes (only \\\" and \\\\)",
     {{0}}},
    {"junk after quotes", L "[log]\nlog_name = \"a\" b\n", 0,
     "t.cfg:4: [log] log_name: trailing junk \"b\" (quote values with "
     "spaces or \"#\")", {{0}}},
    {"CRLF", "# crlf\r\n[net]\r\nlisten = 127.0.0.1:5061\r\n\r\n[core]\r\n"
     "children = 9\r\nuser = \"x y\"\r\n", 0, NULL,
     {XP(listen[0].port, 5061), XI(children, 9), XS(user, "x y")}},
    {"CRLF error line", "[net]\r\nlisten = 127.0.0.1\r\n[core]\r\n"
     "children = 0\r\n", 0,
     "t.cfg:4: [core] children: \"0\" out of range (1..64)", {{0}}},
    {"no final newline", "[net]\nlisten = 127.0.0.1:5099", 0, NULL,
     {XP(listen[0].port, 5099)}},
    {"UTF-8 BOM", "\xEF\xBB\xBF[net]\nlisten = 127.0.0.1\n", 0, NULL,
     {XI(nlisten, 1)}},
    {"NUL byte", "[net]\nlisten = 127.0.0.1\n[core]\nuser = a\0b\n", 43,
     "t.cfg:4: [core]: NUL byte in line", {{0}}},
    {"buffer is not NUL-terminated", "[net]\nlisten = 127.0.0.1:5071junk",
     29, NULL, {XP(listen[0].port, 5071)}},
};

static int cfg_t_addr(const struct sockaddr_storage *ss, char *buf,
                      size_t size)
{
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
    char ip[INET6_ADDRSTRLEN];

    if (ss->ss_family == AF_INET) {
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
        return snprintf(buf, size, "%s %u", ip, ntohs(s4->sin_port));
    }
    if (ss->ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        return snprintf(buf, size, "%s %u", ip, ntohs(s6->sin6_port));
    }
    return snprintf(buf, size, "family %d", ss->ss_family);
}

static void cfg_t_net(const struct cfg_net *n, char *buf, size_t size)
{
    char ip[INET6_ADDRSTRLEN] = "?";

    inet_ntop(n->family, n->addr, ip, sizeof(ip));
    snprintf(buf, size, "%s/%d", ip, n->prefix);
}

static void cfg_t_expect(const char *name, const struct cfg *c,
                         const struct cfg_t_exp *e)
{
    const char *f = (const char *)c + e->off;
    char buf[128];

    switch (e->kind) {
    case CFG_TK_INT:
        is_int(*(const int *)f, e->i, "%s: %s", name, e->what);
        break;
    case CFG_TK_U16:
        is_int(*(const uint16_t *)f, e->i, "%s: %s", name, e->what);
        break;
    case CFG_TK_STR:
        is_str(f, e->s, "%s: %s", name, e->what);
        break;
    case CFG_TK_ADDR:
        cfg_t_addr((const struct sockaddr_storage *)f, buf, sizeof(buf));
        is_str(buf, e->s, "%s: %s", name, e->what);
        break;
    case CFG_TK_NET:
        cfg_t_net((const struct cfg_net *)f, buf, sizeof(buf));
        is_str(buf, e->s, "%s: %s", name, e->what);
        break;
    case CFG_TK_END:
        break;
    }
}

static void cfg_t_run(const struct cfg_t_case *t)
{
    size_t len = t->len ? t->len : strlen(t->text);
    char err[512] = "";
    struct cfg c;
    int rc, i;

    rc = cfg_load_buf(&c, "t.cfg", t->text, len, err, sizeof(err));
    if (t->err != NULL) {
        is_str(rc == 0 ? "(loaded)" : err, t->err, "%s: error", t->name);
        return;
    }
    if (!is_int(rc, 0, "%s: loads", t->name))
        diag("%s", err);
    for (i = 0; t->exp[i].kind != CFG_TK_END; i++)
        cfg_t_expect(t->name, &c, &t->exp[i]);
}

/* cfg_t_many - n lines "key = PRE<i>POST" of one repeatable key */
static void cfg_t_many(const char *head, const char *key, const char *pre,
                       const char *post, int n, const char *want)
{
    size_t size = 64 + (size_t)n * 80, off;
    char *buf = malloc(size), err[256] = "";
    struct cfg c;
    int i, rc;

    off = (size_t)snprintf(buf, size, "%s", head);
    for (i = 0; i < n; i++)
        off += (size_t)snprintf(buf + off, size - off, "%s = %s%d%s\n", key,
                                pre, i + 1, post);
    rc = cfg_load_buf(&c, "t.cfg", buf, off, err, sizeof(err));
    if (want != NULL)
        is_str(rc == 0 ? "(loaded)" : err, want, "%s x%d: error", key, n);
    else if (!is_int(rc, 0, "%s x%d: loads", key, n))
        diag("%s", err);
    free(buf);
}

static void cfg_t_limits(void)
{
    cfg_t_many("[net]\n", "listen", "127.0.0.", ":5060", 16, NULL);
    cfg_t_many("[net]\n", "listen", "127.0.0.", ":5060", 17,
               "t.cfg:18: [net] listen: too many (max 16)");
    cfg_t_many(L, "alias", "h", ".example.com", 16, NULL);
    cfg_t_many(L, "alias", "h", ".example.com", 17,
               "t.cfg:19: [net] alias: too many (max 16)");
    cfg_t_many(L "[modules]\n", "load", "m", "", 32, NULL);
    cfg_t_many(L "[modules]\n", "load", "m", "", 33,
               "t.cfg:36: [modules] load: too many (max 32)");
    cfg_t_many(L "[dns]\n", "servers", "10.0.0.", ":53", 8, NULL);
    cfg_t_many(L "[dns]\n", "servers", "10.0.0.", "", 9,
               "t.cfg:12: [dns] servers: too many (max 8)");
}

/* cfg_t_long - a comment line of n bytes as line 2, after "[core]" */
static void cfg_t_long(size_t n, const char *want)
{
    size_t size = n + 64;
    char *buf = malloc(size), err[256] = "";
    struct cfg c;
    size_t off = 0;
    int rc;

    off += (size_t)snprintf(buf, size, "[core]\n#");
    memset(buf + off, 'x', n - 1);
    off += n - 1;
    off += (size_t)snprintf(buf + off, size - off, "\r\n" L);
    rc = cfg_load_buf(&c, "t.cfg", buf, off, err, sizeof(err));
    if (want != NULL)
        is_str(rc == 0 ? "(loaded)" : err, want, "line of %zu bytes", n);
    else if (!is_int(rc, 0, "line of %zu bytes loads", n))
        diag("%s", err);
    free(buf);
}

static void cfg_t_defaults(void)
{
    struct cfg c;

    memset(&c, 0x5a, sizeof(c));
    cfg_defaults(&c);
    is_int(c.children, 4, "default children");
    is_int(c.daemon, 0, "default daemon");
    is_str(c.working_dir, "", "default working_dir");
    is_str(c.chroot_dir, "", "default chroot_dir");
    is_str(c.user, "", "default user");
    is_str(c.group, "", "default group");
    is_int(c.do_coredump, 0, "default do_coredump");
    is_int(c.rt_coredump, 0, "default rt_coredump");
    is_int(c.open_files, 0, "default open_files");
    is_str(c.pid_file, "", "default pid_file");
    is_str(c.pgid_file, "", "default pgid_file");
    is_str(c.run_dir, "/tmp/sipstage", "default run_dir");
    is_int(c.debug, 2, "default debug");
    is_int(c.memlog, 4, "default memlog");
    is_int(c.memdump, 4, "default memdump");
    is_int(c.log_syslog, 0, "default log_syslog");
    is_str(c.log_name, "sipstage", "default log_name");
    is_str(c.log_facility, "LOG_DAEMON", "default log_facility");
    is_int(c.nlisten, 0, "default nlisten");
    is_int(c.nalias, 0, "default nalias");
    is_int(c.net_tos, 0, "default net_tos");
    is_int(c.udp_maxbuffer, 4194304, "default udp_maxbuffer");
    is_int(c.udp_min_size, 0, "default udp_min_size");
    is_int(c.tcp_max_size, 65535, "default tcp_max_size");
    is_int(c.tcp_via_alias, 0, "default tcp_via_alias");
    is_int(c.tcp_lifetime, 120, "default tcp_lifetime");
    is_int(c.tcp_max_connections, 2048, "default tcp_max_connections");
    is_int(c.tcp_max_connections_per_ip, 64,
           "default tcp_max_connections_per_ip");
    is_str(c.mod_path, "build/lib", "default path");
    is_int(c.nload, 0, "default nload");
    is_int(c.stages_sipd, 1, "default sipd");
    is_int(c.ndns_servers, 0, "default ndns_servers");
    is_int(c.dns_cache, 1, "default dns cache");
    is_int(c.dns_naptr, 1, "default dns naptr");
    is_int(c.dns_srv, 1, "default dns srv");
    is_int(c.dns_try_ipv6, 0, "default dns try_ipv6");
    is_int(c.dns_timeout_ms, 2000, "default dns timeout_ms");
    is_int(c.dns_tries, 2, "default dns tries");
    is_str(c.db_url[0], "", "default db url");
    is_int(c.db_pool, 4, "default db pool");
    is_int(c.record_route, 0, "default record_route");
    is_int(c.db_aliases, 0, "default db_aliases");
    is_str(c.fifo_name, "/tmp/sipstage_fifo", "default fifo_name");
    is_int(c.fifo_mode, 0600, "default fifo_mode");
    is_int(c.http_listen.port, 0, "default http_listen: off");
    is_int(c.nhttp_allow, 0, "default http_allow: none before a load");
    is_str(c.file, "", "default file");
}

static void cfg_t_full(void)
{
    char err[512] = "", a[128];
    struct cfg c;

    if (!is_int(cfg_load_file(&c, "t/data/cfg/full.cfg", err, sizeof(err)),
                0, "full.cfg loads"))
        diag("%s", err);
    is_str(c.file, "t/data/cfg/full.cfg", "full: file");
    is_int(c.children, 8, "full: chidlren");
    is_int(c.daemon, 1, "full: daemon");
    is_str(c.working_dir, "/var/lib/sipstage", "full: working_dir");
    is_str(c.chroot_dir, "/srv/chroot", "full: chroot_dir");
    is_str(c.user, "sip", "full: user");
    is_str(c.group, "sip", "full: group");
    is_int(c.do_coredump, 1, "full: do_coredump");
    is_int(c.rt_coredump, 1, "full: rt_coredump");
    is_int(c.open_files, 65536, "full: open_files");
    is_str(c.pid_file, "/run/sipstage/mid.pid", "full: pid_file");
    is_str(c.pgid_file, "/run/sipstage/mid.pgid", "full: pgid_file");
    is_str(c.run_dir, "/run/sipstage", "full: run_dir");
    is_int(c.debug, -3, "full: debug");
    is_int(c.memlog, 1, "full: memlog");
    is_int(c.memdump, -1, "full: memdump");
    is_int(c.log_syslog, 1, "full: log_syslog");
    is_str(c.log_name, "sip stage", "full: log_name");
    is_str(c.log_facility, "LOG_LOCAL5", "full: log_facility");
    is_int(c.nlisten, 3, "full: nlisten");
    cfg_t_addr(&c.listen[0].addr, a, sizeof(a));
    is_str(a, "127.0.0.1 5060", "full: listen 0");
    cfg_t_addr(&c.listen[1].addr, a, sizeof(a));
    is_str(a, "127.0.0.2 5070", "full: listen 1");
    cfg_t_addr(&c.listen[2].addr, a, sizeof(a));
    is_str(a, "::1 5080", "full: listen 2");
    is_int(c.nalias, 2, "full: nalias");
    is_str(c.alias[0].host, "sip.example.com", "full: alias 0 host");
    is_int(c.alias[0].port, 0, "full: alias 0 port");
    is_str(c.alias[1].host, "proxy.example.com", "full: alias 1 host");
    is_int(c.alias[1].port, 5061, "full: alias 1 port");
    is_int(c.net_tos, 184, "full: net_tos");
    is_int(c.udp_maxbuffer, 1048576, "full: udp_maxbuffer");
    is_int(c.udp_min_size, 32, "full: udp_min_size");
    is_int(c.tcp_max_size, 4096, "full: tcp_max_size");
    is_int(c.tcp_via_alias, 1, "full: tcp_via_alias");
    is_int(c.tcp_lifetime, 300, "full: tcp_lifetime");
    is_int(c.tcp_max_connections, 100, "full: tcp_max_connections");
    is_str(c.mod_path, "/usr/lib/sipstage", "full: path");
    is_int(c.nload, 2, "full: nload");
    is_str(c.load[1], "stats", "full: load 1");
    is_int(c.stages_sipd, 3, "full: sipd");
    is_int(c.ndns_servers, 2, "full: ndns_servers");
    is_str(c.dns_servers[0].host, "127.0.0.53", "full: servers 0 host");
    is_int(c.dns_servers[0].port, 53, "full: servers 0 port");
    is_str(c.dns_servers[1].host, "::1", "full: servers 1 host");
    is_int(c.dns_servers[1].port, 5353, "full: servers 1 port");
    is_int(c.dns_cache + c.dns_naptr + c.dns_srv, 0, "full: cache naptr srv");
    is_int(c.dns_try_ipv6, 1, "full: try_ipv6");
    is_int(c.dns_timeout_ms, 500, "full: timeout_ms");
    is_int(c.dns_tries, 4, "full: tries");
    is_str(c.db_url[0], "mysql://sip:p#ss@127.0.0.1:3306/sipstage",
           "full: url");
    is_int(c.db_pool, 8, "full: pool");
    is_int(c.record_route, 1, "full: record_route");
    is_int(c.db_aliases, 1, "full: db_aliases");
    is_str(c.fifo_name, "/run/sipstage/fifo", "full: fifo_name");
    is_int(c.fifo_mode, 0660, "full: fifo_mode");
}

static void cfg_t_files(void)
{
    char err[512] = "";
    struct cfg c;

    is_int(cfg_load_file(&c, "t/data/cfg/missing.cfg", err, sizeof(err)),
           -1, "missing file fails");
    is_str(err, "t/data/cfg/missing.cfg: cannot open: No such file or "
                "directory", "missing file: error");
    is_str(c.run_dir, "/tmp/sipstage", "missing file: defaults filled");
    cfg_load_file(&c, "t/data/cfg", err, sizeof(err));
    is_str(err, "t/data/cfg: cannot read: Is a directory", "directory");
    cfg_load_file(&c, "t/data/cfg/unknown_key.cfg", err, sizeof(err));
    is_str(err, "t/data/cfg/unknown_key.cfg:7: [core] threads: unknown key",
           "error names the file");
    if (!is_int(cfg_load_file(&c, "etc/sipstage.cfg", err, sizeof(err)), 0,
                "etc/sipstage.cfg loads"))
        diag("%s", err);
    is_int(c.nlisten, 1, "etc: one listen line");
    is_int(c.listen[0].proto, CFG_PROTO_UDP, "etc: udp");
    is_str(c.listen[0].host, "127.0.0.1", "etc: 127.0.0.1");
    is_int(c.listen[0].port, 5060, "etc: port 5060");
    is_int(c.children, 4, "etc: children");
    is_int(c.stages_sipd, 1, "etc: sipd");
    is_str(c.run_dir, "/tmp/sipstage", "etc: run_dir");
    is_str(c.fifo_name, "/tmp/sipstage_fifo", "etc: fifo_name");
    is_str(c.db_url[0], "", "etc: no db");
}

/*
 * cfg_diff: one row per case, the text after the common base and the
 * keys cfg_diff must report against the base, in table order, as
 * "sect key" with "!" after a key that needs a full restart, and the
 * stages a reload restarts for the keys that do not (CFG_S_*: the
 * stages that read them).
 */
#define DIFF_BASE "[net]\nlisten = 127.0.0.1\nalias = a.example\n"
#define DIFF_DNS (CFG_S_DNSD | CFG_S_SIPD)

static const struct cfg_t_diff {
    const char *name;
    const char *text;                   /* appended to DIFF_BASE */
    const char *want;                   /* "" = no difference */
    unsigned stages;                    /* union over the reload keys */
} cfg_t_diffs[] = {
    {"same text", "", "", 0},
    {"same values, other spelling",
     "[core]\nchidlren = 4\ndaemon = no\n[log]\nlog_facility = daemon\n", "",
     0},
    {"a live key", "[core]\nchildren = 8\n", "core children", CFG_S_SIPD},
    {"the seed's spelling counts once", "[core]\nchidlren = 8\n",
     "core children", CFG_S_SIPD},
    {"a restart key", "[core]\nrun_dir = /tmp/x\n", "core run_dir!", 0},
    {"a second listen line", "listen = tcp:127.0.0.1\n", "net listen!", 0},
    {"a second alias", "alias = b.example\n", "net alias", CFG_S_SIPD},
    {"mode", "[mi]\nfifo_mode = 0660\n", "mi fifo_mode!", 0},
    {"both, in table order",
     "[mi]\nfifo_name = /tmp/f\n[core]\nchildren = 2\n[dns]\ncache = 0\n",
     "core children,dns cache,mi fifo_name!", CFG_S_SIPD | CFG_S_DNSD},
    {"a compatibility key", "[log]\nmemlog = 1\n", "log memlog", 0},
    {"http", "[mi]\nhttp_listen = 127.0.0.1:8080\nhttp_allow = 10.0.0.0/8\n",
     "mi http_listen!,mi http_allow", 0},
    {"http_allow spelt as its default", "[mi]\nhttp_allow = 127.0.0.1/8\n"
     "http_allow = ::1\n", "", 0},
    /* who reads what: a reload restarts only those */
    {"dnsd only", "[dns]\nblacklist_s = 5\n", "dns blacklist_s", CFG_S_DNSD},
    {"dns waits are sipd's too", "[dns]\ntimeout_ms = 500\ntries = 3\n",
     "dns timeout_ms,dns tries", DIFF_DNS},
    {"netd only", "[net]\ntcp_lifetime = 30\nudp_min_size = 4\n",
     "net udp_min_size,net tcp_lifetime", CFG_S_NETD},
    {"tls is netd's", "[tls]\nciphers = HIGH\n", "tls ciphers", CFG_S_NETD},
    {"route is sipd's", "[route]\nrecord_route = 1\n", "route record_route",
     CFG_S_SIPD},
    {"mid only", "[stages]\nhang_ms = 3000\nsipd = 2\n[log]\ndebug = 3\n",
     "log debug,stages sipd,stages hang_ms", 0},
    {"every stage drops to the user", "[core]\nuser = nobody\n", "core user",
     CFG_S_ALL},
    {"db pool", "[db]\npool = 8\n", "db pool", CFG_S_DBD},
    {"modules path", "[modules]\npath = /opt/m\n", "modules path",
     CFG_S_NETD | CFG_S_DBD},
};

/* cfg_t_diff_load - DIFF_BASE plus text into *c; 0 or -1 */
static int cfg_t_diff_load(struct cfg *c, const char *text)
{
    char buf[1024], err[256];
    int n = snprintf(buf, sizeof(buf), "%s%s", DIFF_BASE, text);

    if (cfg_load_buf(c, "t.cfg", buf, (size_t)n, err, sizeof(err)) < 0) {
        diag("%s", err);
        return -1;
    }
    return 0;
}

static void cfg_t_diff(void)
{
    static struct cfg a, b;
    struct cfg_change ch[8];
    char got[256];
    unsigned stages;
    size_t i, off;
    int n, k;

    for (i = 0; i < sizeof(cfg_t_diffs) / sizeof(cfg_t_diffs[0]); i++) {
        const struct cfg_t_diff *d = &cfg_t_diffs[i];

        if (cfg_t_diff_load(&a, "") < 0 || cfg_t_diff_load(&b, d->text) < 0) {
            ok(0, "diff %s: loads", d->name);
            continue;
        }
        n = cfg_diff(&a, &b, ch, 8);
        got[0] = '\0';
        stages = 0;
        for (k = 0, off = 0; k < n && k < 8; k++) {
            off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%s %s%s",
                                    k ? "," : "", ch[k].sect, ch[k].key,
                                    ch[k].apply == CFG_RESTART ? "!" : "");
            if (ch[k].apply == CFG_RELOAD)
                stages |= ch[k].stages;
        }
        is_str(got, d->want, "diff %s", d->name);
        is_int((int)stages, (int)d->stages, "diff %s: stages", d->name);
        is_int(cfg_diff(&b, &a, NULL, 0), n, "diff %s: symmetric", d->name);
    }
    /* more differences than room: the count, and only max stored */
    cfg_t_diff_load(&a, "");
    cfg_t_diff_load(&b, "[core]\nchildren = 2\ndaemon = 1\nuser = u\n");
    memset(ch, 0, sizeof(ch));
    is_int(cfg_diff(&a, &b, ch, 1), 3, "diff: count past max");
    is_str(ch[0].key, "children", "diff: the first one stored");
    ok(ch[1].key == NULL, "diff: nothing past max");
}

/* cfg_net_match: addresses against the default list and a /20 */
static void cfg_t_match(void)
{
    static const struct {
        const char *ip;
        int want;
    } t[] = {
        {"127.0.0.1", 1},        {"127.255.0.9", 1},   {"128.0.0.1", 0},
        {"::1", 1},              {"::2", 0},           {"::ffff:127.0.0.2", 1},
        {"::ffff:10.0.0.1", 0},  {"10.1.16.1", 1},     {"10.1.31.255", 1},
        {"10.1.32.0", 0},        {"10.1.15.255", 0},
    };
    char err[256];
    struct sockaddr_storage ss;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    struct cfg c;
    size_t i;

    static const char text[] = L "[mi]\nhttp_allow = 10.1.17.0/20\n"
                               "http_allow = 127.0.0.0/8\nhttp_allow = ::1\n";

    if (cfg_load_buf(&c, "t.cfg", text, strlen(text), err, sizeof(err)) < 0)
        diag("%s", err);
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        memset(&ss, 0, sizeof(ss));
        if (inet_pton(AF_INET, t[i].ip, &s4->sin_addr) == 1)
            ss.ss_family = AF_INET;
        else if (inet_pton(AF_INET6, t[i].ip, &s6->sin6_addr) == 1)
            ss.ss_family = AF_INET6;
        is_int(cfg_net_match(c.http_allow, c.nhttp_allow,
                             (struct sockaddr *)&ss),
               t[i].want, "match %s", t[i].ip);
    }
    ss.ss_family = AF_UNIX;
    is_int(cfg_net_match(c.http_allow, c.nhttp_allow, (struct sockaddr *)&ss),
           0, "match: not an IP address");
}

static void cfg_t_misc(void)
{
    char err[8];
    struct cfg c;

    is_str(cfg_proto_name(CFG_PROTO_UDP), "udp", "proto name udp");
    is_str(cfg_proto_name(CFG_PROTO_TCP), "tcp", "proto name tcp");
    is_str(cfg_proto_name(0), "?", "proto name unknown");
    memset(err, 'x', sizeof(err));
    cfg_load_buf(&c, "t.cfg", "[x]\n", 4, err, sizeof(err));
    is_str(err, "t.cfg:1", "a short err buffer is cut and terminated");
    memset(err, 'x', sizeof(err));
    cfg_load_buf(&c, "t.cfg", "[x]\n", 4, err, 1);
    is_int(err[0], 0, "err of one byte");
}

int main(void)
{
    size_t i;

    for (i = 0; i < sizeof(cfg_t_cases) / sizeof(cfg_t_cases[0]); i++)
        cfg_t_run(&cfg_t_cases[i]);
    cfg_t_limits();
    cfg_t_long(4096, NULL);
    cfg_t_long(4097, "t.cfg:2: [core]: line too long (max 4096 bytes)");
    cfg_t_defaults();
    cfg_t_full();
    cfg_t_files();
    cfg_t_misc();
    cfg_t_diff();
    cfg_t_match();
    return done_testing();
}
