/*
 * SUMMARY
 *      sip_uri - unit tests for URIs, name-addr, Via, params and framing
 * DESCRIPTION
 *      Each table row is an input, the expected return code and a
 *      one-line rendering of every field the parser set (absent fields
 *      are left out, present-but-empty ones print as "key="), compared
 *      as an exact string. Then sip_msg_frame() and
 *      sip_msg_peek_callid(), which netd uses without a full parse.
 */
#include <errno.h>

#include "tap.h"
#include "sip_msg.h"

struct sip_t_case {
    const char *in;
    int rc;
    const char *want;                   /* rendering when rc == 0 */
};

/* sip_t_put - append " key=value" when the value is present */
static void sip_t_put(char *buf, size_t cap, const char *key, struct str v)
{
    size_t n = strlen(buf);

    if (v.s != NULL)
        snprintf(buf + n, cap - n, "%s%s=%.*s", n ? " " : "", key,
                 (int)v.len, v.s);
}

/* sip_t_num - append " key=n" */
static void sip_t_num(char *buf, size_t cap, const char *key, long v)
{
    size_t n = strlen(buf);

    snprintf(buf + n, cap - n, "%s%s=%ld", n ? " " : "", key, v);
}

static const struct sip_t_case sip_t_uris[] = {
    {"sip:alice@atlanta.com", 0,
     "id=1 scheme=sip user=alice host=atlanta.com hostport=atlanta.com "
     "ht=1 port=0 tp=0"},
    {"SIP:Alice:secretword@Atlanta.COM:5060;transport=TCP", 0,
     "id=1 scheme=SIP user=Alice password=secretword host=Atlanta.COM "
     "hostport=Atlanta.COM:5060 params=;transport=TCP transport=TCP ht=1 "
     "port=5060 tp=2"},
    {"sips:alice@atlanta.com?subject=project%20x&priority=urgent", 0,
     "id=2 scheme=sips user=alice host=atlanta.com hostport=atlanta.com "
     "headers=subject=project%20x&priority=urgent ht=1 port=0 tp=0"},
    {"sip:+1-212-555-1212:1234@gateway.com;user=phone", 0,
     "id=1 scheme=sip user=+1-212-555-1212 password=1234 host=gateway.com "
     "hostport=gateway.com params=;user=phone user_param=phone ht=1 "
     "port=0 tp=0"},
    {"sip:alice;day=tuesday@atlanta.com", 0,
     "id=1 scheme=sip user=alice;day=tuesday host=atlanta.com "
     "hostport=atlanta.com ht=1 port=0 tp=0"},
    {"sip:192.0.2.4", 0,
     "id=1 scheme=sip host=192.0.2.4 hostport=192.0.2.4 ht=2 port=0 tp=0"},
    {"sip:[2001:db8::10]:5070;lr;maddr=239.255.255.1;ttl=15;method=REGISTER",
     0, "id=1 scheme=sip host=2001:db8::10 hostport=[2001:db8::10]:5070 "
     "params=;lr;maddr=239.255.255.1;ttl=15;method=REGISTER "
     "maddr=239.255.255.1 ttl=15 method=REGISTER lr= ht=3 port=5070 tp=0"},
    {"sip:p.example.com;LR;Transport=sctp", 0,
     "id=1 scheme=sip host=p.example.com hostport=p.example.com "
     "params=;LR;Transport=sctp transport=sctp lr= ht=1 port=0 tp=4"},
    {"sip:h;transport=foo", 0,
     "id=1 scheme=sip host=h hostport=h params=;transport=foo "
     "transport=foo ht=1 port=0 tp=7"},
    {"tel:+358-555-1234567;postd=pp22", 0,
     "id=3 scheme=tel user=+358-555-1234567 params=;postd=pp22 ht=0 "
     "port=0 tp=0"},
    {"mailto:bob@example.com", 0, "id=0 scheme=mailto ht=0 port=0 tp=0"},
    {"urn:service:sos", 0, "id=0 scheme=urn ht=0 port=0 tp=0"},
    {"sip:", -EBADMSG, NULL},
    {"sip:@host", -EBADMSG, NULL},
    {"sip:user@", -EBADMSG, NULL},
    {"sip:a@b:0", -EBADMSG, NULL},
    {"sip:a@b:65536", -EBADMSG, NULL},
    {"sip:a@b:99999999999999999999999", -EBADMSG, NULL},
    {"sip:a@b:", -EBADMSG, NULL},
    {"sip:a@[2001:db8::1", -EBADMSG, NULL},
    {"sip:a@[not:v6]", -EBADMSG, NULL},
    {"sip:a@300.1.1.1", -EBADMSG, NULL},
    {"sip:a@1.2.3", -EBADMSG, NULL},
    {"sip:a@h..com", -EBADMSG, NULL},
    {"sip:a@h/x", -EBADMSG, NULL},
    {"sip:a b@h", -EBADMSG, NULL},
    {"sip:a@h;transport=", -EBADMSG, NULL},
    {"sip:a@h;=x", -EBADMSG, NULL},
    {"sip:<a@h>", -EBADMSG, NULL},
    {"sip:a@h\t", -EBADMSG, NULL},
    {"1sip:a@h", -EBADMSG, NULL},
    {":a@h", -EBADMSG, NULL},
    {"nocolon", -EBADMSG, NULL},
    {"tel:", -EBADMSG, NULL},
    {"tel:;x=1", -EBADMSG, NULL},
    {"", -EBADMSG, NULL},
};

/* sip_t_uri - render a parsed URI */
static void sip_t_uri(const struct sip_uri *u, char *buf, size_t cap)
{
    buf[0] = 0;
    sip_t_num(buf, cap, "id", u->scheme_id);
    sip_t_put(buf, cap, "scheme", u->scheme);
    sip_t_put(buf, cap, "user", u->user);
    sip_t_put(buf, cap, "password", u->password);
    sip_t_put(buf, cap, "host", u->host);
    sip_t_put(buf, cap, "hostport", u->hostport);
    sip_t_put(buf, cap, "params", u->params);
    sip_t_put(buf, cap, "headers", u->headers);
    sip_t_put(buf, cap, "transport", u->transport);
    sip_t_put(buf, cap, "maddr", u->maddr);
    sip_t_put(buf, cap, "ttl", u->ttl);
    sip_t_put(buf, cap, "user_param", u->user_param);
    sip_t_put(buf, cap, "method", u->method);
    sip_t_put(buf, cap, "lr", u->lr);
    sip_t_num(buf, cap, "ht", u->host_type);
    sip_t_num(buf, cap, "port", u->port);
    sip_t_num(buf, cap, "tp", u->tp);
}

static const struct sip_t_case sip_t_addrs[] = {
    {"\"Bob B\" <sip:bob@biloxi.com>;tag=a6c85cf", 0,
     "raw=\"Bob B\" <sip:bob@biloxi.com>;tag=a6c85cf display=Bob B "
     "uri=sip:bob@biloxi.com params=;tag=a6c85cf tag=a6c85cf br=1"},
    {"Bob <sip:bob@biloxi.com;transport=tcp>", 0,
     "raw=Bob <sip:bob@biloxi.com;transport=tcp> display=Bob "
     "uri=sip:bob@biloxi.com;transport=tcp params= br=1"},
    {"<sip:p1.example.com;lr>", 0,
     "raw=<sip:p1.example.com;lr> uri=sip:p1.example.com;lr params= br=1"},
    {"  sip:bob@biloxi.com ; tag = 12 ;x  ", 0,
     "raw=sip:bob@biloxi.com ; tag = 12 ;x uri=sip:bob@biloxi.com "
     "params=; tag = 12 ;x tag=12 br=0"},
    {"sip:bob@biloxi.com;TAG=Xy", 0,
     "raw=sip:bob@biloxi.com;TAG=Xy uri=sip:bob@biloxi.com params=;TAG=Xy "
     "tag=Xy br=0"},
    {"\"\" <sip:a@b>", 0,
     "raw=\"\" <sip:a@b> display= uri=sip:a@b params= br=1"},
    {"\"a\\\"b\"<sip:a@b>;tag=1;tag=2", 0,
     "raw=\"a\\\"b\"<sip:a@b>;tag=1;tag=2 display=a\\\"b uri=sip:a@b "
     "params=;tag=1;tag=2 tag=1 br=1"},
    {"<sip:a@b>;x=\"q;q\";tag=z", 0,
     "raw=<sip:a@b>;x=\"q;q\";tag=z uri=sip:a@b params=;x=\"q;q\";tag=z "
     "tag=z br=1"},
    {"Anonymous <sip:c8oqz84zk7z@privacy.org>;tag=hyh8", 0,
     "raw=Anonymous <sip:c8oqz84zk7z@privacy.org>;tag=hyh8 "
     "display=Anonymous uri=sip:c8oqz84zk7z@privacy.org params=;tag=hyh8 "
     "tag=hyh8 br=1"},
    {"<sip:a@b", -EBADMSG, NULL},
    {"\"unclosed <sip:a@b>", -EBADMSG, NULL},
    {"\"x\" sip:a@b", -EBADMSG, NULL},
    {"<>", -EBADMSG, NULL},
    {"<sip:a@b> junk", -EBADMSG, NULL},
    {"<sip:a@b>;tag", -EBADMSG, NULL},
    {"<sip:a@b>;tag=", -EBADMSG, NULL},
    {"sip:a b@c", -EBADMSG, NULL},
    {"Bad\"Name <sip:a@b>", -EBADMSG, NULL},
    {"", -EBADMSG, NULL},
};

/* sip_t_addr - render a parsed name-addr */
static void sip_t_addr(const struct sip_uri_addr *a, char *buf, size_t cap)
{
    buf[0] = 0;
    sip_t_put(buf, cap, "raw", a->raw);
    sip_t_put(buf, cap, "display", a->display);
    sip_t_put(buf, cap, "uri", a->uri);
    sip_t_put(buf, cap, "params", a->params.s ? a->params : STR_LIT(""));
    sip_t_put(buf, cap, "tag", a->tag);
    sip_t_num(buf, cap, "br", a->bracketed);
}

static const struct sip_t_case sip_t_vias[] = {
    {"SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds", 0,
     "raw=SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds proto=SIP "
     "ver=2.0 transport=UDP sent_by=pc33.atlanta.com host=pc33.atlanta.com "
     "params=;branch=z9hG4bK776asdhds branch=z9hG4bK776asdhds tp=1 ht=1 "
     "port=0 rport=-1"},
    {"SIP / 2.0 / TCP 192.0.2.1 : 5090 ; branch = z9hG4bK1 ; rport ; "
     "received=192.0.2.99", 0,
     "raw=SIP / 2.0 / TCP 192.0.2.1 : 5090 ; branch = z9hG4bK1 ; rport ; "
     "received=192.0.2.99 proto=SIP ver=2.0 transport=TCP "
     "sent_by=192.0.2.1 : 5090 host=192.0.2.1 params=; branch = z9hG4bK1 ; "
     "rport ; received=192.0.2.99 branch=z9hG4bK1 received=192.0.2.99 "
     "rport_str= tp=2 ht=2 port=5090 rport=0"},
    {"SIP/2.0/UDP [2001:db8::1]:5060;rport=5061;received=2001:db8::2", 0,
     "raw=SIP/2.0/UDP [2001:db8::1]:5060;rport=5061;received=2001:db8::2 "
     "proto=SIP ver=2.0 transport=UDP sent_by=[2001:db8::1]:5060 "
     "host=2001:db8::1 params=;rport=5061;received=2001:db8::2 "
     "received=2001:db8::2 rport_str=5061 tp=1 ht=3 port=5060 rport=5061"},
    {"SIP/2.0/udp h;MADDR=224.0.0.1;TTL=1;x=\"y\";BRANCH=z9hG4bKq", 0,
     "raw=SIP/2.0/udp h;MADDR=224.0.0.1;TTL=1;x=\"y\";BRANCH=z9hG4bKq "
     "proto=SIP ver=2.0 transport=udp sent_by=h host=h "
     "params=;MADDR=224.0.0.1;TTL=1;x=\"y\";BRANCH=z9hG4bKq "
     "branch=z9hG4bKq maddr=224.0.0.1 ttl=1 tp=1 ht=1 port=0 rport=-1"},
    {"SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks", 0,
     "raw=SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks "
     "proto=SIP ver=2.0 transport=WSS sent_by=df7jal23ls0d.invalid "
     "host=df7jal23ls0d.invalid params=;branch=z9hG4bK56sdasks "
     "branch=z9hG4bK56sdasks tp=6 ht=1 port=0 rport=-1"},
    {"SIP/2.0/UDP h:65535", 0,
     "raw=SIP/2.0/UDP h:65535 proto=SIP ver=2.0 transport=UDP "
     "sent_by=h:65535 host=h tp=1 ht=1 port=65535 rport=-1"},
    {"SIP/2.0/UDP", -EBADMSG, NULL},
    {"SIP/2.0/UDP ", -EBADMSG, NULL},
    {"SIP/2.0/UDPh", -EBADMSG, NULL},
    {"SIP/2.0 h", -EBADMSG, NULL},
    {"SIP/2.0/UDP h:", -EBADMSG, NULL},
    {"SIP/2.0/UDP h:0", -EBADMSG, NULL},
    {"SIP/2.0/UDP h:65536", -EBADMSG, NULL},
    {"SIP/2.0/UDP h:1x", -EBADMSG, NULL},
    {"SIP/2.0/UDP [::1", -EBADMSG, NULL},
    {"SIP/2.0/UDP [zz::1]", -EBADMSG, NULL},
    {"SIP/2.0/UDP ::1", -EBADMSG, NULL},
    {"SIP/2.0/UDP h;rport=0", -EBADMSG, NULL},
    {"SIP/2.0/UDP h;rport=65536", -EBADMSG, NULL},
    {"SIP/2.0/UDP h;rport=", -EBADMSG, NULL},
    {"SIP/2.0/UDP h;ttl=256", -EBADMSG, NULL},
    {"SIP/2.0/UDP h;branch=", -EBADMSG, NULL},
    {"SIP/2.0/UDP h;received", -EBADMSG, NULL},
    {"SIP/2.0/UDP h;;branch=z9hG4bK1", -EBADMSG, NULL},
    {"SIP/2.0/UDP h;x=\"unclosed", -EBADMSG, NULL},
    {"SIP/2.0/UDP h x", -EBADMSG, NULL},
    {"", -EBADMSG, NULL},
};

/* sip_t_via - render a parsed via-parm */
static void sip_t_via(const struct sip_via *v, char *buf, size_t cap)
{
    buf[0] = 0;
    sip_t_put(buf, cap, "raw", v->raw);
    sip_t_put(buf, cap, "proto", v->proto_name);
    sip_t_put(buf, cap, "ver", v->proto_ver);
    sip_t_put(buf, cap, "transport", v->transport);
    sip_t_put(buf, cap, "sent_by", v->sent_by);
    sip_t_put(buf, cap, "host", v->host);
    sip_t_put(buf, cap, "params", v->params);
    sip_t_put(buf, cap, "branch", v->branch);
    sip_t_put(buf, cap, "received", v->received);
    sip_t_put(buf, cap, "rport_str", v->rport_str);
    sip_t_put(buf, cap, "maddr", v->maddr);
    sip_t_put(buf, cap, "ttl", v->ttl);
    sip_t_num(buf, cap, "tp", v->tp);
    sip_t_num(buf, cap, "ht", v->host_type);
    sip_t_num(buf, cap, "port", v->port);
    sip_t_num(buf, cap, "rport", v->rport);
}

/* sip_t_tables - run the three tables */
static void sip_t_tables(void)
{
    char got[1024];
    struct sip_uri u;
    struct sip_uri_addr a;
    struct sip_via v;
    size_t i;
    int r;

    for (i = 0; i < sizeof(sip_t_uris) / sizeof(sip_t_uris[0]); i++) {
        const struct sip_t_case *c = &sip_t_uris[i];

        r = sip_uri_parse((struct str){c->in, strlen(c->in)}, &u);
        is_int(r, c->rc, "uri %s: rc", c->in);
        if (r == 0 && c->rc == 0) {
            sip_t_uri(&u, got, sizeof(got));
            is_str(got, c->want, "uri %s: fields", c->in);
        }
    }
    for (i = 0; i < sizeof(sip_t_addrs) / sizeof(sip_t_addrs[0]); i++) {
        const struct sip_t_case *c = &sip_t_addrs[i];

        r = sip_uri_addr_parse((struct str){c->in, strlen(c->in)}, &a);
        is_int(r, c->rc, "addr %s: rc", c->in);
        if (r == 0 && c->rc == 0) {
            sip_t_addr(&a, got, sizeof(got));
            is_str(got, c->want, "addr %s: fields", c->in);
        }
    }
    for (i = 0; i < sizeof(sip_t_vias) / sizeof(sip_t_vias[0]); i++) {
        const struct sip_t_case *c = &sip_t_vias[i];

        r = sip_via_parse((struct str){c->in, strlen(c->in)}, &v);
        is_int(r, c->rc, "via %s: rc", c->in);
        if (r == 0 && c->rc == 0) {
            sip_t_via(&v, got, sizeof(got));
            is_str(got, c->want, "via %s: fields", c->in);
        }
    }
}

/* sip_t_helpers - host types, transports, numbers, lists, params */
static void sip_t_helpers(void)
{
    struct str rest = STR_LIT(" a , \"b,c\" ,<d,e>,f");
    struct str elem;
    struct str name;
    struct str val;
    unsigned long n;
    char got[128] = "";
    int r;

    is_int(sip_uri_host_type(STR_LIT("example.com.")), SIP_HOST_NAME,
           "FQDN with trailing dot");
    is_int(sip_uri_host_type(STR_LIT("255.255.255.255")), SIP_HOST_IPV4,
           "IPv4");
    is_int(sip_uri_host_type(STR_LIT("1.2.3.4.5")), SIP_HOST_NONE,
           "five octets");
    is_int(sip_uri_host_type(STR_LIT("0001.2.3.4")), SIP_HOST_NONE,
           "four-digit octet");
    is_int(sip_uri_host_type(STR_LIT("::ffff:1.2.3.4")), SIP_HOST_IPV6,
           "IPv4-mapped IPv6");
    is_int(sip_uri_transport(STR_LIT("Udp")), SIP_TP_UDP, "Udp");
    is_int(sip_uri_transport(STR_LIT("tLs")), SIP_TP_TLS, "tLs");
    is_int(sip_uri_transport(STR_LIT("")), SIP_TP_NONE, "no transport");
    is_int(sip_uri_transport(STR_LIT("quic")), SIP_TP_OTHER, "quic");
    is_int(sip_hdr_parse_uint(STR_LIT("65535"), 65535, &n), 0, "65535");
    is_int((long long)n, 65535, "value 65535");
    is_int(sip_hdr_parse_uint(STR_LIT("65536"), 65535, &n), -EBADMSG,
           "65536 > max");
    is_int(sip_hdr_parse_uint(STR_LIT("99999999999999999999999999"),
                              (unsigned long)-1, &n), -EBADMSG,
           "overflow");
    is_int(sip_hdr_parse_uint(STR_LIT(""), 10, &n), -EBADMSG, "empty");
    is_int(sip_hdr_parse_uint(STR_LIT("+1"), 10, &n), -EBADMSG, "+1");
    while ((r = sip_hdr_list_next(&rest, &elem)) > 0)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "[%.*s]",
                 (int)elem.len, elem.s);
    is_int(r, 0, "list ends cleanly");
    is_str(got, "[a][\"b,c\"][<d,e>][f]", "commas in quotes and <> stay");
    rest = STR_LIT("a,");
    is_int(sip_hdr_list_next(&rest, &elem), -EBADMSG, "trailing comma");
    rest = STR_LIT("<a,b");
    is_int(sip_hdr_list_next(&rest, &elem), -EBADMSG, "unclosed <");
    rest = STR_LIT(";a=1 ; b ;c=\"x\\\"y\"");
    got[0] = 0;
    while (sip_hdr_param_next(&rest, &name, &val) > 0)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "[%.*s|%s%.*s]",
                 (int)name.len, name.s, val.s ? "=" : "",
                 (int)val.len, val.s ? val.s : "");
    is_str(got, "[a|=1][b|][c|=\"x\\\"y\"]", "params with flags, quotes");
    is_int(sip_hdr_param_find(STR_LIT(";A=1;b"), "a", &val), 1, "find A");
    is_int(sip_hdr_param_find(STR_LIT(";A=1;b"), "c", &val), 0, "no c");
    is_int(sip_hdr_param_find(STR_LIT(";A=1 x"), "c", &val), -EBADMSG,
           "bad params");
}

/* sip_t_frame - sip_msg_frame() over a byte stream */
static void sip_t_frame(void)
{
    static const char two[] = "\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\n"
                              "Content-Length: 3\r\nX: y\r\n\r\nabc"
                              "OPTIONS sip:a@b SIP/2.0\r\n";
    size_t skip;
    size_t hl;
    size_t bl;
    size_t i;
    int again = 0;

    is_int(sip_msg_frame(two, sizeof(two) - 1, &skip, &hl, &bl), 0,
           "frame the first message");
    is_int((long long)skip, 4, "skip the keep-alive CRLFs");
    is_int((long long)hl, 52, "header length");
    is_int((long long)bl, 3, "body length");
    for (i = 0; i < 4 + 52 + 3; i++)
        if (sip_msg_frame(two, i, &skip, &hl, &bl) == -EAGAIN)
            again++;
    is_int(again, 4 + 52 + 3, "every prefix wants more bytes");
    is_int(sip_msg_frame("A\r\nX: y\r\n\r\n", 11, &skip, &hl, &bl),
           -EBADMSG, "no Content-Length on a stream");
    is_int(sip_msg_frame("A\r\nl: x\r\n\r\n", 11, &skip, &hl, &bl),
           -EBADMSG, "bad Content-Length");
    is_int(sip_msg_frame("A\nl: 0\n\n", 8, &skip, &hl, &bl), 0,
           "bare LF and a compact Content-Length");
    is_int((long long)hl, 8, "header length with LFs");
}

/* sip_t_peek - sip_msg_peek_callid() */
static void sip_t_peek(void)
{
    static const char m1[] = "INVITE sip:a@b SIP/2.0\r\nVia: x\r\n"
                             "i:  abc@h \r\n\r\nCall-ID: body";
    static const char m2[] = "INVITE sip:a@b SIP/2.0\r\nVia: x\r\n\r\n"
                             "Call-ID: body\r\n";
    static const char m3[] = "Call-ID: a\r\n\r\n";
    struct str cid;

    is_int(sip_msg_peek_callid(m1, sizeof(m1) - 1, &cid), 0, "compact i");
    is_mem(cid.s, cid.len, "abc@h", 5, "value trimmed");
    is_int(sip_msg_peek_callid(m2, sizeof(m2) - 1, &cid), -ENOENT,
           "not in the body");
    is_int(sip_msg_peek_callid(m3, sizeof(m3) - 1, &cid), -ENOENT,
           "not in the start line");
    is_int(sip_msg_peek_callid("", 0, &cid), -ENOENT, "empty");
}

int main(void)
{
    sip_t_tables();
    sip_t_helpers();
    sip_t_frame();
    sip_t_peek();
    return done_testing();
}
