/*
 * SUMMARY
 *      sip_parse - unit tests for the SIP parser, URIs, Via and framing
 * DESCRIPTION
 *      Table-driven: each parse case is a message, the expected return
 *      code and reason, and the sip_msg_dump() lines that must appear
 *      (exact strings). URI, name-addr and Via cases compare a one-line
 *      rendering of every field (sip_uri.c). The message model tests
 *      edit a message (insert, remove, replace, via-parm edits), print
 *      it and compare the exact bytes.
 */
#include <errno.h>

#include "tap.h"
#include "sip_msg.h"

#define CRLF "\r\n"
#define VIA1 "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds" CRLF
#define TO1 "To: Bob <sip:bob@biloxi.com>" CRLF
#define FROM1 "From: Alice <sip:alice@atlanta.com>;tag=1928301774" CRLF
#define CID1 "Call-ID: a84b4c76e66710@pc33.atlanta.com" CRLF
#define CSEQ1 "CSeq: 314159 INVITE" CRLF
#define MF1 "Max-Forwards: 70" CRLF
#define RL "INVITE sip:bob@biloxi.com SIP/2.0" CRLF
/* The mandatory headers minus one, for the "Missing X" cases. */
#define BASE VIA1 MF1 TO1 FROM1 CID1 CSEQ1
/* A literal with its exact length, for messages holding NUL bytes. */
#define SIP_T_MSG(lit) (lit), sizeof(lit) - 1

struct sip_parse_case {
    const char *name;
    const char *msg;
    size_t len;                         /* 0: strlen(msg) */
    unsigned flags;
    int rc;
    const char *reason;                 /* when rc < 0 */
    const char *want[40];               /* dump lines that must appear */
};

static const struct sip_parse_case sip_parse_cases[] = {
    {"RFC 3261 INVITE", RL BASE
     "Contact: <sip:alice@pc33.atlanta.com>" CRLF
     "Content-Type: application/sdp" CRLF
     "Content-Length: 4" CRLF CRLF "v=0\n", 0, 0, 0, NULL,
     {"method: INVITE", "ruri: sip:bob@biloxi.com", "ruri.scheme: sip",
      "ruri.user: bob", "ruri.host: biloxi.com", "ruri.host_type: name",
      "version: SIP/2.0",
      "hdr 0 Via: Via = SIP/2.0/UDP pc33.atlanta.com;"
      "branch=z9hG4bK776asdhds",
      "hdr 6 Contact: Contact = <sip:alice@pc33.atlanta.com>",
      "hdr 7 Content-Type: Content-Type = application/sdp",
      "max_forwards: 70", "content_length: 4", "cseq: 314159",
      "cseq.method: INVITE", "call_id: a84b4c76e66710@pc33.atlanta.com",
      "from.display: Alice", "from.uri: sip:alice@atlanta.com",
      "from.tag: 1928301774", "to.display: Bob",
      "to.uri: sip:bob@biloxi.com", "via1.hdr: 0", "via1.proto: SIP",
      "via1.version: 2.0", "via1.transport: UDP",
      "via1.sent_by: pc33.atlanta.com", "via1.host: pc33.atlanta.com",
      "via1.host_type: name", "via1.port: 0",
      "via1.branch: z9hG4bK776asdhds", "via1.rport: -1",
      "body_len: 4", "msg_len: 352"}},
    {"200 OK, two Via headers",
     "SIP/2.0 200 OK" CRLF
     "Via: SIP/2.0/UDP server10.biloxi.com;branch=z9hG4bKnashds8;"
     "received=192.0.2.3" CRLF
     "Via: SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1"
     CRLF
     "To: Bob <sip:bob@biloxi.com>;tag=a6c85cf" CRLF FROM1 CID1 CSEQ1
     "Content-Length: 0" CRLF CRLF, 0, 0, 0, NULL,
     {"status: 200", "phrase: OK", "version: SIP/2.0", "to.tag: a6c85cf",
      "via1.hdr: 0", "via1.host: server10.biloxi.com",
      "via1.received: 192.0.2.3", "via1.branch: z9hG4bKnashds8",
      "via2.hdr: 1", "via2.host: bigbox3.site3.atlanta.com",
      "via2.branch: z9hG4bK77ef4c2312983.1", "max_forwards: -1",
      "content_length: 0", "body_len: 0"}},
    {"compact forms",
     "MESSAGE sip:bob@biloxi.com SIP/2.0" CRLF
     "v: SIP/2.0/TCP 10.0.0.1:5070;branch=z9hG4bKc" CRLF
     "t: <sip:bob@biloxi.com>" CRLF "f: <sip:a@b.c>;tag=x" CRLF
     "i: cid1" CRLF "CSeq: 1 MESSAGE" CRLF "m: <sip:a@10.0.0.1>" CRLF
     "c: text/plain" CRLF "k: path" CRLF "s: hi" CRLF "e: gzip" CRLF
     "o: presence" CRLF "r: <sip:c@d>" CRLF "b: <sip:e@f>" CRLF
     "u: dialog" CRLF "x: 90" CRLF "y: abc" CRLF "a: *;audio" CRLF
     "j: *;video" CRLF "d: proxy" CRLF "n: <http://x>" CRLF
     "l: 2" CRLF CRLF "hi", 0, 0, 0, NULL,
     {"method: MESSAGE", "hdr 0 Via: v = SIP/2.0/TCP 10.0.0.1:5070;"
      "branch=z9hG4bKc", "hdr 1 To: t = <sip:bob@biloxi.com>",
      "hdr 2 From: f = <sip:a@b.c>;tag=x", "hdr 3 Call-ID: i = cid1",
      "hdr 5 Contact: m = <sip:a@10.0.0.1>",
      "hdr 6 Content-Type: c = text/plain", "hdr 7 Supported: k = path",
      "hdr 8 Subject: s = hi", "hdr 9 Content-Encoding: e = gzip",
      "hdr 10 Event: o = presence", "hdr 11 Refer-To: r = <sip:c@d>",
      "hdr 12 Referred-By: b = <sip:e@f>",
      "hdr 13 Allow-Events: u = dialog",
      "hdr 14 Session-Expires: x = 90", "hdr 15 Identity: y = abc",
      "hdr 16 Accept-Contact: a = *;audio",
      "hdr 17 Reject-Contact: j = *;video",
      "hdr 18 Request-Disposition: d = proxy",
      "hdr 19 Identity-Info: n = <http://x>",
      "hdr 20 Content-Length: l = 2", "call_id: cid1", "from.tag: x",
      "via1.transport: TCP", "via1.port: 5070", "via1.host_type: ipv4",
      "content_length: 2", "body_len: 2"}},
    {"names are case-insensitive",
     "OPTIONS sip:carol@chicago.com SIP/2.0" CRLF
     "VIA: SIP/2.0/udp h.example.com;BRANCH=z9hG4bKx" CRLF
     "max-forwards: 10" CRLF "TO: <sip:carol@chicago.com>" CRLF
     "FROM: <sip:a@b.c>;TAG=Ab1" CRLF "CALL-ID: Xy" CRLF
     "cseq: 7 OPTIONS" CRLF "V: SIP/2.0/UDP g.example.com;branch=z9hG4bKy"
     CRLF "L: 0" CRLF CRLF, 0, 0, 0, NULL,
     {"max_forwards: 10", "cseq: 7", "call_id: Xy", "from.tag: Ab1",
      "via1.transport: udp", "via1.branch: z9hG4bKx", "via2.hdr: 6",
      "via2.host: g.example.com", "content_length: 0"}},
    {"folded lines",
     RL "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1,\r\n"
     "  SIP/2.0/UDP b.example.com\r\n\t;branch=z9hG4bK2" CRLF
     "Max-Forwards:" CRLF " 69" CRLF TO1 FROM1 CID1
     "CSeq: 314159" CRLF "\tINVITE" CRLF
     "Subject: I know you're there," CRLF
     "         pick up the phone" CRLF CRLF, 0, 0, 0, NULL,
     {"hdr 0 Via folded: Via = SIP/2.0/UDP a.example.com;branch=z9hG4bK1,"
      "\\r\\n  SIP/2.0/UDP b.example.com\\r\\n\\x09;branch=z9hG4bK2",
      "hdr 6 Subject folded: Subject = I know you're there,\\r\\n"
      "         pick up the phone",
      "max_forwards: 69", "cseq: 314159", "cseq.method: INVITE",
      "via1.host: a.example.com", "via1.branch: z9hG4bK1", "via2.hdr: 0",
      "via2.raw: SIP/2.0/UDP b.example.com\\r\\n\\x09;branch=z9hG4bK2",
      "via2.host: b.example.com", "via2.branch: z9hG4bK2",
      "content_length: -1", "body_len: 0"}},
    {"multi-value Via, IPv6 sent-by, rport",
     RL "Via: SIP/2.0/UDP [2001:db8::9:1]:5062;branch=z9hG4bKa;rport"
     " , SIP/2.0/TLS h.example.com:5061 ;received=192.0.2.1 ;rport = 5080"
     " ;maddr=224.2.0.1;ttl=16, SIP/2.0/UDP c.example.com" CRLF
     TO1 FROM1 CID1 CSEQ1 CRLF, 0, 0, 0, NULL,
     {"via1.raw: SIP/2.0/UDP [2001:db8::9:1]:5062;branch=z9hG4bKa;rport",
      "via1.sent_by: [2001:db8::9:1]:5062", "via1.host: 2001:db8::9:1",
      "via1.host_type: ipv6", "via1.port: 5062", "via1.rport: 0",
      "via1.params: ;branch=z9hG4bKa;rport", "via2.hdr: 0",
      "via2.transport: TLS", "via2.sent_by: h.example.com:5061",
      "via2.port: 5061", "via2.received: 192.0.2.1", "via2.rport: 5080",
      "via2.maddr: 224.2.0.1", "via2.ttl: 16",
      "via2.params: ;received=192.0.2.1 ;rport = 5080 ;maddr=224.2.0.1;"
      "ttl=16", "max_forwards: -1"}},
    {"bare LF line ends",
     "BYE sip:bob@192.0.2.4 SIP/2.0\n"
     "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnashds10\n"
     "Max-Forwards: 70\nFrom: <sip:a@b.c>;tag=1\nTo: <sip:bob@d.e>;tag=2\n"
     "Call-ID: c2\nCSeq: 2 BYE\nContent-Length: 0\n\n", 0, 0, 0, NULL,
     {"method: BYE", "ruri.host: 192.0.2.4", "ruri.host_type: ipv4",
      "hdr 0 Via: Via = SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnashds10",
      "to.tag: 2", "via1.port: 5060", "cseq.method: BYE",
      "content_length: 0", "msg_len: 193"}},
    {"leading CRLF before the start line",
     CRLF CRLF RL BASE CRLF, 0, 0, 0, NULL, {"method: INVITE"}},
    {"Max-Forwards 0 and bounds", RL VIA1 "Max-Forwards: 0" CRLF TO1 FROM1
     CID1 CSEQ1 CRLF, 0, 0, 0, NULL, {"max_forwards: 0"}},
    {"Max-Forwards 255", RL VIA1 "Max-Forwards: 255" CRLF TO1 FROM1 CID1
     CSEQ1 CRLF, 0, 0, 0, NULL, {"max_forwards: 255"}},
    {"Max-Forwards 256", RL VIA1 "Max-Forwards: 256" CRLF TO1 FROM1 CID1
     CSEQ1 CRLF, 0, 0, -EBADMSG, "Bad Max-Forwards", {NULL}},
    {"Max-Forwards huge", RL VIA1 "Max-Forwards: 99999999999999999999999"
     CRLF TO1 FROM1 CID1 CSEQ1 CRLF, 0, 0, -EBADMSG, "Bad Max-Forwards",
     {NULL}},
    {"Max-Forwards not a number", RL VIA1 "Max-Forwards: 7a" CRLF TO1
     FROM1 CID1 CSEQ1 CRLF, 0, 0, -EBADMSG, "Bad Max-Forwards", {NULL}},
    {"Max-Forwards twice", RL BASE MF1 CRLF, 0, 0, -EBADMSG,
     "Bad Max-Forwards", {NULL}},
    {"missing Via", RL MF1 TO1 FROM1 CID1 CSEQ1 CRLF, 0, 0, -EBADMSG,
     "Missing Via", {NULL}},
    {"missing To", RL VIA1 MF1 FROM1 CID1 CSEQ1 CRLF, 0, 0, -EBADMSG,
     "Missing To", {NULL}},
    {"missing From", RL VIA1 MF1 TO1 CID1 CSEQ1 CRLF, 0, 0, -EBADMSG,
     "Missing From", {NULL}},
    {"missing Call-ID", RL VIA1 MF1 TO1 FROM1 CSEQ1 CRLF, 0, 0, -EBADMSG,
     "Missing Call-ID", {NULL}},
    {"missing CSeq", RL VIA1 MF1 TO1 FROM1 CID1 CRLF, 0, 0, -EBADMSG,
     "Missing CSeq", {NULL}},
    {"response missing Via", "SIP/2.0 180 Ringing" CRLF TO1 FROM1 CID1
     CSEQ1 CRLF, 0, 0, -EBADMSG, "Missing Via", {NULL}},
    {"CSeq without method", RL VIA1 TO1 FROM1 CID1 "CSeq: 1" CRLF CRLF, 0,
     0, -EBADMSG, "Bad CSeq", {NULL}},
    {"CSeq without number", RL VIA1 TO1 FROM1 CID1 "CSeq: INVITE" CRLF
     CRLF, 0, 0, -EBADMSG, "Bad CSeq", {NULL}},
    {"CSeq 2**31", RL VIA1 TO1 FROM1 CID1 "CSeq: 2147483648 INVITE" CRLF
     CRLF, 0, 0, -EBADMSG, "Bad CSeq", {NULL}},
    {"CSeq 2**31-1", RL VIA1 TO1 FROM1 CID1 "CSeq: 2147483647 INVITE" CRLF
     CRLF, 0, 0, 0, NULL, {"cseq: 2147483647"}},
    {"CSeq huge", RL VIA1 TO1 FROM1 CID1
     "CSeq: 184467440737095516161844674407370955161 INVITE" CRLF CRLF, 0,
     0, -EBADMSG, "Bad CSeq", {NULL}},
    {"CSeq negative", RL VIA1 TO1 FROM1 CID1 "CSeq: -1 INVITE" CRLF CRLF,
     0, 0, -EBADMSG, "Bad CSeq", {NULL}},
    {"CSeq two methods", RL VIA1 TO1 FROM1 CID1 "CSeq: 1 INVITE BYE" CRLF
     CRLF, 0, 0, -EBADMSG, "Bad CSeq", {NULL}},
    {"CSeq twice", RL BASE CSEQ1 CRLF, 0, 0, -EBADMSG, "Duplicate CSeq",
     {NULL}},
    {"Call-ID twice", RL BASE "i: other" CRLF CRLF, 0, 0, -EBADMSG,
     "Duplicate Call-ID", {NULL}},
    {"Call-ID with LWS", RL VIA1 TO1 FROM1 "Call-ID: a b" CRLF CSEQ1 CRLF,
     0, 0, -EBADMSG, "Bad Call-ID", {NULL}},
    {"Call-ID empty", RL VIA1 TO1 FROM1 "Call-ID:" CRLF CSEQ1 CRLF, 0, 0,
     -EBADMSG, "Bad Call-ID", {NULL}},
    {"Content-Length not a number", RL BASE "Content-Length: 1x" CRLF CRLF
     "1", 0, 0, -EBADMSG, "Bad Content-Length", {NULL}},
    {"Content-Length negative", RL BASE "Content-Length: -1" CRLF CRLF, 0,
     0, -EBADMSG, "Bad Content-Length", {NULL}},
    {"Content-Length huge", RL BASE
     "Content-Length: 18446744073709551617" CRLF CRLF, 0, 0, -EBADMSG,
     "Bad Content-Length", {NULL}},
    {"Content-Length beyond the datagram", RL BASE "l: 10" CRLF CRLF
     "12345", 0, 0, -EBADMSG, "Bad Content-Length", {NULL}},
    {"Content-Length headers disagree", RL BASE "l: 1" CRLF
     "Content-Length: 2" CRLF CRLF "12", 0, 0, -EBADMSG,
     "Bad Content-Length", {NULL}},
    {"Content-Length headers agree", RL BASE "l: 2" CRLF
     "Content-Length: 2" CRLF CRLF "12", 0, 0, 0, NULL,
     {"content_length: 2"}},
    {"bytes after the body are discarded", RL BASE "l: 2" CRLF CRLF
     "12345", 0, 0, 0, NULL, {"body_len: 2", "msg_len: 267"}},
    {"no Content-Length on UDP: body to the end", RL BASE CRLF "12345", 0,
     0, 0, NULL, {"content_length: -1", "body_len: 5", "msg_len: 264"}},
    {"no Content-Length on TCP", RL BASE CRLF, 0, SIP_PARSE_STREAM,
     -EBADMSG, "Missing Content-Length", {NULL}},
    {"Content-Length on TCP", RL BASE "l: 5" CRLF CRLF "12345", 0,
     SIP_PARSE_STREAM, 0, NULL, {"body_len: 5"}},
    {"NUL in the start line", SIP_T_MSG("INVITE sip:bob@biloxi.com\0 SIP/2.0"
     CRLF BASE CRLF), 0, -EBADMSG, "Bad start line", {NULL}},
    {"NUL in a header value", SIP_T_MSG(RL BASE "Subject: a\0b" CRLF CRLF),
     0, -EBADMSG, "NUL byte in header", {NULL}},
    {"NUL in a header name", SIP_T_MSG(RL BASE "Sub\0ject: ab" CRLF CRLF),
     0, -EBADMSG, "Bad header", {NULL}},
    {"NUL in the body is fine", SIP_T_MSG(RL BASE "l: 3" CRLF CRLF "a\0b"),
     0, 0, NULL, {"body_len: 3"}},
    {"0-byte input", "", 0, 0, -EINVAL, "Empty message", {NULL}},
    {"1-byte input", "I", 0, 0, -EBADMSG, "Bad start line", {NULL}},
    {"only CRLF", CRLF CRLF, 0, 0, -EINVAL, "Empty message", {NULL}},
    {"no empty line", RL BASE, 0, 0, -EBADMSG, "Missing empty line",
     {NULL}},
    {"truncated header", RL BASE "Subject: x", 0, 0, -EBADMSG,
     "Missing empty line", {NULL}},
    {"header without colon", RL BASE "Subject x" CRLF CRLF, 0, 0,
     -EBADMSG, "Bad header", {NULL}},
    {"continuation of the start line", RL " folded" CRLF BASE CRLF, 0, 0,
     -EBADMSG, "Bad header", {NULL}},
    {"space in a header name", RL BASE "Sub ject: x" CRLF CRLF, 0, 0,
     -EBADMSG, "Bad header", {NULL}},
    {"Via without sent-by", RL "Via: SIP/2.0/UDP" CRLF TO1 FROM1 CID1
     CSEQ1 CRLF, 0, 0, -EBADMSG, "Bad Via", {NULL}},
    {"Via without transport", RL "Via: SIP/2.0 h.example.com" CRLF TO1
     FROM1 CID1 CSEQ1 CRLF, 0, 0, -EBADMSG, "Bad Via", {NULL}},
    {"Via port 0", RL "Via: SIP/2.0/UDP h.example.com:0" CRLF TO1 FROM1
     CID1 CSEQ1 CRLF, 0, 0, -EBADMSG, "Bad Via", {NULL}},
    {"Via port 65536", RL "Via: SIP/2.0/UDP h.example.com:65536" CRLF TO1
     FROM1 CID1 CSEQ1 CRLF, 0, 0, -EBADMSG, "Bad Via", {NULL}},
    {"Via rport not a number", RL "Via: SIP/2.0/UDP h;rport=x" CRLF TO1
     FROM1 CID1 CSEQ1 CRLF, 0, 0, -EBADMSG, "Bad Via", {NULL}},
    {"Via unclosed IPv6", RL "Via: SIP/2.0/UDP [::1;branch=z9hG4bK1" CRLF
     TO1 FROM1 CID1 CSEQ1 CRLF, 0, 0, -EBADMSG, "Bad Via", {NULL}},
    {"Via bad IPv4", RL "Via: SIP/2.0/UDP 1.2.3.999;branch=z9hG4bK1" CRLF
     TO1 FROM1 CID1 CSEQ1 CRLF, 0, 0, -EBADMSG, "Bad Via", {NULL}},
    {"Via empty element", RL "Via: SIP/2.0/UDP a,,SIP/2.0/UDP b" CRLF TO1
     FROM1 CID1 CSEQ1 CRLF, 0, 0, -EBADMSG, "Bad Via", {NULL}},
    {"Via branch without value", RL "Via: SIP/2.0/UDP a;branch" CRLF TO1
     FROM1 CID1 CSEQ1 CRLF, 0, 0, -EBADMSG, "Bad Via", {NULL}},
    {"Via garbage after params", RL "Via: SIP/2.0/UDP a;branch=z9 x" CRLF
     TO1 FROM1 CID1 CSEQ1 CRLF, 0, 0, -EBADMSG, "Bad Via", {NULL}},
    {"third via-parm is checked too", RL VIA1 "Via: SIP/2.0/UDP b, garbage"
     CRLF TO1 FROM1 CID1 CSEQ1 CRLF, 0, 0, -EBADMSG, "Bad Via", {NULL}},
    {"empty Via header", RL VIA1 "Via:" CRLF TO1 FROM1 CID1 CSEQ1 CRLF, 0,
     0, -EBADMSG, "Bad Via", {NULL}},
    {"second Route entry is checked too", RL BASE
     "Route: <sip:a;lr>, <sip:b" CRLF CRLF, 0, 0, -EBADMSG, "Bad Route",
     {NULL}},
    {"Route in a response is not parsed", "SIP/2.0 200 OK" CRLF BASE
     "Route: <sip:b" CRLF CRLF, 0, 0, 0, NULL, {"status: 200"}},
    {"From unclosed <", RL VIA1 TO1 "From: <sip:a@b;tag=1" CRLF CID1 CSEQ1
     CRLF, 0, 0, -EBADMSG, "Bad From", {NULL}},
    {"From tag without value", RL VIA1 TO1 "From: <sip:a@b>;tag" CRLF
     CID1 CSEQ1 CRLF, 0, 0, -EBADMSG, "Bad From", {NULL}},
    {"To twice", RL BASE TO1 CRLF, 0, 0, -EBADMSG, "Duplicate To",
     {NULL}},
    {"From and To in other forms", RL VIA1
     "To: sip:bob@biloxi.com ;tag=t1" CRLF
     "From: \"A \\\"q\\\" <x>\" <sip:alice@atlanta.com>;tag=f1;x=\"a;b\""
     CRLF CID1 CSEQ1 CRLF, 0, 0, 0, NULL,
     {"to.uri: sip:bob@biloxi.com", "to.tag: t1", "to.params: ;tag=t1",
      "from.display: A \\\\\"q\\\\\" <x>", "from.tag: f1",
      "from.params: ;tag=f1;x=\"a;b\""}},
    {"Route entries", RL BASE
     "Route: <sip:p1.example.com;lr>,<sip:p2.example.com;lr>" CRLF
     "Route: sip:p3.example.com" CRLF CRLF, 0, 0, 0, NULL,
     {"route.uri: sip:p1.example.com;lr"}},
    {"Route bare", RL BASE "Route: sip:p3.example.com;lr" CRLF CRLF, 0, 0,
     0, NULL, {"route.uri: sip:p3.example.com", "route.params: ;lr"}},
    {"Route bad", RL BASE "Route: <sip:p1" CRLF CRLF, 0, 0, -EBADMSG,
     "Bad Route", {NULL}},
    {"request-line extra element", "INVITE sip:bob@biloxi.com SIP/2.0 x"
     CRLF BASE CRLF, 0, 0, -EBADMSG, "Bad Request-Line", {NULL}},
    {"request-line double SP", "INVITE  sip:bob@biloxi.com SIP/2.0" CRLF
     BASE CRLF, 0, 0, -EBADMSG, "Bad Request-URI", {NULL}},
    {"request-line SP in URI", "INVITE sip:bob@bil oxi.com SIP/2.0" CRLF
     BASE CRLF, 0, 0, -EBADMSG, "Bad Request-URI", {NULL}},
    {"request-line no version", "INVITE sip:bob@biloxi.com" CRLF BASE CRLF,
     0, 0, -EBADMSG, "Bad Request-Line", {NULL}},
    {"request-line HTTP", "GET / HTTP/1.1" CRLF BASE CRLF, 0, 0, -EBADMSG,
     "Bad Request-Line", {NULL}},
    {"bad method token", "INV(ITE sip:bob@biloxi.com SIP/2.0" CRLF BASE
     CRLF, 0, 0, -EBADMSG, "Bad Method", {NULL}},
    {"SIP/7.0 is kept for a 505", "INVITE sip:bob@biloxi.com SIP/7.0" CRLF
     BASE CRLF, 0, 0, 0, NULL, {"version: SIP/7.0"}},
    {"unknown method", "NEWMETHOD sip:bob@biloxi.com SIP/2.0" CRLF BASE
     CRLF, 0, 0, 0, NULL, {"method: NEWMETHOD"}},
    {"unsupported scheme is not a parse error",
     "INVITE mailto:bob@biloxi.com SIP/2.0" CRLF BASE CRLF, 0, 0, 0, NULL,
     {"ruri.scheme: mailto"}},
    {"tel URI", "INVITE tel:+1-201-555-0123;phone-context=x SIP/2.0" CRLF
     BASE CRLF, 0, 0, 0, NULL,
     {"ruri.scheme: tel", "ruri.user: +1-201-555-0123",
      "ruri.params: ;phone-context=x"}},
    {"sips URI with everything",
     "INVITE sips:al%20ice:pw@[2001:db8::1]:5071;transport=TLS;maddr=10.1.1.1"
     ";ttl=5;user=phone;method=INVITE;lr?Subject=x&Priority=y SIP/2.0" CRLF
     BASE CRLF, 0, 0, 0, NULL,
     {"ruri.scheme: sips", "ruri.user: al%20ice", "ruri.password: pw",
      "ruri.host: 2001:db8::1", "ruri.host_type: ipv6", "ruri.port: 5071",
      "ruri.transport: TLS", "ruri.maddr: 10.1.1.1", "ruri.ttl: 5",
      "ruri.user_param: phone", "ruri.method: INVITE", "ruri.lr: yes",
      "ruri.headers: Subject=x&Priority=y"}},
    {"status code 99", "SIP/2.0 99 Odd" CRLF BASE CRLF, 0, 0, -EBADMSG,
     "Bad Status-Code", {NULL}},
    {"status code 4 digits", "SIP/2.0 2000 OK" CRLF BASE CRLF, 0, 0,
     -EBADMSG, "Bad Status-Code", {NULL}},
    {"status without phrase", "SIP/2.0 200" CRLF BASE CRLF, 0, 0, 0, NULL,
     {"status: 200", "phrase: "}},
    {"status bad version", "SIP/2 200 OK" CRLF BASE CRLF, 0, 0, -EBADMSG,
     "Bad Status-Line", {NULL}},
    {"Proxy-Require is indexed", RL BASE "Proxy-Require: foo, bar" CRLF
     "Require: 100rel" CRLF "Unsupported: x" CRLF CRLF, 0, 0, 0, NULL,
     {"hdr 6 Proxy-Require: Proxy-Require = foo, bar",
      "hdr 7 Require: Require = 100rel",
      "hdr 8 Unsupported: Unsupported = x"}},
};

/* sip_has_line - the dump holds this exact line */
static int sip_has_line(const char *dump, const char *line)
{
    size_t n = strlen(line);
    const char *p = dump;

    while ((p = strstr(p, line)) != NULL) {
        if ((p == dump || p[-1] == '\n') && p[n] == '\n')
            return 1;
        p++;
    }
    return 0;
}

static struct sip_msg sip_m;
static char sip_dump[65536];
static char sip_out[65536];

/* sip_run_case - parse one case and check it */
static void sip_run_case(const struct sip_parse_case *c)
{
    size_t len = c->len ? c->len : strlen(c->msg);
    int r = sip_msg_parse(&sip_m, c->msg, len, c->flags);
    ssize_t n;
    int i;

    if (!is_int(r, c->rc, "%s: rc", c->name))
        diag("reason %s", sip_m.reason ? sip_m.reason : "(none)");
    if (c->rc < 0) {
        is_str(sip_m.reason, c->reason, "%s: reason", c->name);
        return;
    }
    if (r < 0)
        return;
    ok(sip_msg_dump(&sip_m, sip_dump, sizeof(sip_dump)) > 0, "%s: dump",
       c->name);
    for (i = 0; c->want[i] != NULL; i++)
        if (!ok(sip_has_line(sip_dump, c->want[i]), "%s: %s", c->name,
                c->want[i]))
            diag("dump:\n%s", sip_dump);
    /* Untouched, the message prints as it came (leading CRLFs aside). */
    n = sip_msg_print(&sip_m, sip_out, sizeof(sip_out));
    is_mem(sip_out, n < 0 ? 0 : (size_t)n, sip_m.start.s,
           (size_t)(sip_m.buf + sip_m.msg_len - sip_m.start.s),
           "%s: prints byte-identical", c->name);
}

/* sip_too_many - SIP_MAX_HDRS headers parse, one more does not */
static void sip_too_many(void)
{
    static char buf[32768];
    size_t n = 0;
    int i;
    int r;

    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", RL BASE);
    for (i = 6; i < SIP_MAX_HDRS; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-H%d: %d\r\n", i,
                              i);
    memcpy(buf + n, CRLF, 2);
    r = sip_msg_parse(&sip_m, buf, n + 2, 0);
    is_int(r, 0, "%d headers parse", SIP_MAX_HDRS);
    is_int(sip_m.nhdrs, SIP_MAX_HDRS, "nhdrs is %d", SIP_MAX_HDRS);
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-One-More: 1\r\n");
    memcpy(buf + n, CRLF, 2);
    r = sip_msg_parse(&sip_m, buf, n + 2, 0);
    is_int(r, -E2BIG, "%d headers: -E2BIG", SIP_MAX_HDRS + 1);
    is_str(sip_m.reason, "Too many headers", "reason Too many headers");
}

/* sip_every_prefix - every truncation of a message fails cleanly */
static void sip_every_prefix(void)
{
    static const char msg[] = RL BASE "l: 3" CRLF CRLF "abc";
    size_t len = sizeof(msg) - 1;
    size_t i;
    int bad = 0;

    for (i = 0; i < len; i++) {
        /* A copy of exactly i bytes, so ASan sees any overread. */
        char *b = malloc(i ? i : 1);

        memcpy(b, msg, i);
        if (sip_msg_parse(&sip_m, b, i, 0) == 0)
            bad++;
        free(b);
    }
    is_int(bad, 0, "no proper prefix of a message parses");
    is_int(sip_msg_parse(&sip_m, msg, len, 0), 0, "the whole one does");
}

/* sip_version - sip_msg_version_ok() */
static void sip_version(void)
{
    static const char v20[] = "OPTIONS sip:a@b SIP/2.0" CRLF BASE CRLF;
    static const char v20l[] = "OPTIONS sip:a@b sip/2.0" CRLF BASE CRLF;
    static const char v21[] = "OPTIONS sip:a@b SIP/2.1" CRLF BASE CRLF;

    sip_msg_parse(&sip_m, v20, sizeof(v20) - 1, 0);
    is_int(sip_msg_version_ok(&sip_m), 1, "SIP/2.0 is ok");
    sip_msg_parse(&sip_m, v20l, sizeof(v20l) - 1, 0);
    is_int(sip_msg_version_ok(&sip_m), 1, "sip/2.0 is ok");
    is_int(sip_m.method_id, SIP_METHOD_OPTIONS, "method id OPTIONS");
    sip_msg_parse(&sip_m, v21, sizeof(v21) - 1, 0);
    is_int(sip_msg_version_ok(&sip_m), 0, "SIP/2.1 is not (505)");
    is_int(sip_m.ruri.scheme_id, SIP_URI_SIP, "scheme id sip");
}

/* The message the model tests edit. */
#define MODEL_MSG \
    "INVITE sip:bob@192.0.2.4 SIP/2.0" CRLF \
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa;rport," \
    " SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb" CRLF \
    "Max-Forwards: 70" CRLF \
    "Route: <sip:proxy.example.com;lr>, <sip:p2.example.com;lr>" CRLF \
    "To: <sip:bob@biloxi.com>" CRLF \
    "From: <sip:alice@atlanta.com>;tag=1" CRLF \
    "Call-ID: abc" CRLF \
    "CSeq: 1 INVITE" CRLF \
    "Content-Length: 4" CRLF CRLF "body"

static const char sip_model_msg[] = MODEL_MSG;

/* sip_model_parse - parse the model message afresh */
static void sip_model_parse(void)
{
    int r = sip_msg_parse(&sip_m, sip_model_msg, sizeof(sip_model_msg) - 1,
                          0);

    if (r < 0)
        diag("model parse: %d %s", r, sip_m.reason);
}

/* sip_is_print - print the message and compare with want */
static void sip_is_print(const char *want, const char *name)
{
    ssize_t n = sip_msg_print(&sip_m, sip_out, sizeof(sip_out));

    is_mem(sip_out, n < 0 ? 0 : (size_t)n, want, strlen(want), "%s", name);
    is_int((long long)sip_m.print_len, n, "%s: print_len", name);
}

/* sip_is_str - a struct str equals a C string */
static void sip_is_sv(struct str got, const char *want, const char *name)
{
    is_mem(got.s, got.len, want, strlen(want), "%s", name);
}

/* sip_model_proxy - the edits a stateless proxy makes, step by step */
static void sip_model_proxy(void)
{
    int r;

    sip_model_parse();
    r = sip_msg_hdr_insert(&sip_m, sip_m.first[SIP_HDR_VIA],
                           STR_LIT("Via: SIP/2.0/UDP 192.0.2.10;"
                                   "branch=z9hG4bKnew"));
    ok(r >= 0, "insert Via before the first Via");
    is_int(sip_m.first[SIP_HDR_VIA], r, "the new Via is first");
    sip_is_sv(sip_m.via1.branch, "z9hG4bKnew", "via1 is the new Via");
    sip_is_sv(sip_m.via2.branch, "z9hG4bKa", "via2 is the sender's");
    is_int(sip_m.via2.rport, 0, "via2 rport without value");
    is_int(sip_m.count[SIP_HDR_VIA], 2, "two Via headers");
    r = sip_msg_hdr_replace(&sip_m, sip_m.first[SIP_HDR_MAX_FORWARDS],
                            STR_LIT("Max-Forwards: 69"));
    is_int(r, 0, "replace Max-Forwards");
    is_int(sip_m.max_forwards, 69, "max_forwards is 69 at once");
    r = sip_msg_via_set_param(&sip_m, &sip_m.via2, STR_LIT("received"),
                              STR_LIT("198.51.100.7"));
    is_int(r, 0, "set received on the sender's via-parm");
    sip_is_sv(sip_m.via2.received, "198.51.100.7", "via2.received");
    r = sip_msg_via_set_param(&sip_m, &sip_m.via2, STR_LIT("rport"),
                              STR_LIT("5062"));
    is_int(r, 0, "set rport");
    is_int(sip_m.via2.rport, 5062, "via2.rport is 5062");
    r = sip_msg_elem_remove(&sip_m, sip_m.route_hdr, sip_m.route.raw);
    is_int(r, 0, "pop the first Route entry");
    sip_is_sv(sip_m.route.uri, "sip:p2.example.com;lr", "route is next");
    sip_is_print("INVITE sip:bob@192.0.2.4 SIP/2.0" CRLF
                 "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKnew" CRLF
                 "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa;rport=5062;"
                 "received=198.51.100.7, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb"
                 CRLF "Max-Forwards: 69" CRLF
                 "Route: <sip:p2.example.com;lr>" CRLF
                 "To: <sip:bob@biloxi.com>" CRLF
                 "From: <sip:alice@atlanta.com>;tag=1" CRLF
                 "Call-ID: abc" CRLF "CSeq: 1 INVITE" CRLF
                 "Content-Length: 4" CRLF CRLF "body",
                 "proxy edits print exactly");
    r = sip_msg_elem_remove(&sip_m, sip_m.route_hdr, sip_m.route.raw);
    is_int(r, 0, "pop the last Route entry");
    is_int(sip_m.route_hdr, SIP_HDR_NONE, "no Route left");
    is_int(sip_m.first[SIP_HDR_ROUTE], SIP_HDR_NONE, "no Route header");
    memcpy(sip_dump, sip_out, sizeof(sip_out));
    r = (int)sip_msg_print(&sip_m, sip_dump, sizeof(sip_dump));
    is_int(sip_msg_parse(&sip_m, sip_dump, (size_t)r, 0), 0,
           "the printed message parses again");
    sip_is_sv(sip_m.via2.received, "198.51.100.7", "with received");
}

/* sip_model_edits - the other edit functions */
static void sip_model_edits(void)
{
    int r;
    int mf;

    sip_model_parse();
    r = sip_msg_elem_replace(&sip_m, sip_m.via2.hdr, sip_m.via2.raw,
                             STR_LIT("SIP/2.0/TCP [2001:db8::2]:5070"));
    is_int(r, 0, "replace the second via-parm in place");
    is_int(sip_m.via2.port, 5070, "via2 port 5070");
    is_int(sip_m.via2.host_type, SIP_HOST_IPV6, "via2 IPv6");
    r = sip_msg_via_remove(&sip_m, &sip_m.via1);
    is_int(r, 0, "remove the top via-parm of a two-parm header");
    is_int(sip_m.via1.port, 5070, "via1 is the old via2");
    is_int(sip_m.via2.hdr, SIP_HDR_NONE, "no via2 now");
    mf = sip_m.first[SIP_HDR_MAX_FORWARDS];
    is_int(sip_msg_hdr_remove(&sip_m, mf), 0, "remove Max-Forwards");
    is_int(sip_m.max_forwards, -1, "max_forwards -1");
    is_int(sip_msg_hdr_remove(&sip_m, mf), -EINVAL, "remove it twice");
    is_int(sip_msg_hdr_replace(&sip_m, mf, STR_LIT("X: y")), -EINVAL,
           "replace a removed header");
    r = sip_msg_hdr_insertf(&sip_m, SIP_HDR_NONE, "Max-Forwards: %d", 70);
    ok(r >= 0, "insertf Max-Forwards at the end");
    is_int(sip_m.tail, r, "it is the last header");
    is_int(sip_m.max_forwards, 70, "max_forwards 70");
    is_int(sip_msg_hdr_remove(&sip_m, sip_m.first[SIP_HDR_CONTENT_LENGTH]),
           0, "remove Content-Length");
    is_int(sip_m.content_length, -1, "content_length -1");
    r = sip_msg_hdr_insert(&sip_m, sip_m.head, STR_LIT("l: 4"));
    ok(r >= 0, "insert compact Content-Length at the top");
    is_int(sip_m.head, r, "it is the first header");
    is_int(sip_m.content_length, 4, "content_length 4");
    r = sip_msg_set_ruri(&sip_m, STR_LIT("sip:carol@198.51.100.9:5080"));
    is_int(r, 0, "set the Request-URI");
    is_int(sip_m.ruri.port, 5080, "ruri port");
    sip_is_sv(sip_m.method, "INVITE", "method survives");
    r = sip_msg_hdr_replace(&sip_m, sip_m.first[SIP_HDR_TO],
                            STR_LIT("t: <sip:bob@biloxi.com>;tag=99"));
    is_int(r, 0, "replace To with a compact form");
    sip_is_sv(sip_m.to.tag, "99", "to.tag at once");
    r = sip_msg_hdr_replace(&sip_m, sip_m.first[SIP_HDR_CALL_ID],
                            STR_LIT("X-Old-Call-ID: abc"));
    is_int(r, 0, "replace Call-ID by another header");
    is_int(sip_m.call_id.s == NULL, 1, "call_id absent");
    is_int(sip_msg_hdr_find_name(&sip_m, STR_LIT("x-old-call-id"),
                                 SIP_HDR_NONE) >= 0, 1, "find it by name");
    sip_is_print("INVITE sip:carol@198.51.100.9:5080 SIP/2.0" CRLF
                 "l: 4" CRLF
                 "Via: SIP/2.0/TCP [2001:db8::2]:5070" CRLF
                 "Route: <sip:proxy.example.com;lr>, <sip:p2.example.com;lr>"
                 CRLF "t: <sip:bob@biloxi.com>;tag=99" CRLF
                 "From: <sip:alice@atlanta.com>;tag=1" CRLF
                 "X-Old-Call-ID: abc" CRLF "CSeq: 1 INVITE" CRLF
                 "Max-Forwards: 70" CRLF CRLF "body",
                 "edits print exactly");
}

/* sip_model_elems - removing each element of a three-element list */
static void sip_model_elems(void)
{
    static const char msg[] = RL VIA1 "Route: <sip:a>, <sip:b> ,<sip:c>"
                              CRLF TO1 FROM1 CID1 CSEQ1 CRLF;
    static const char *const want[] = {
        "Route: <sip:b> ,<sip:c>" CRLF,
        "Route: <sip:a>, <sip:c>" CRLF,
        "Route: <sip:a>, <sip:b>" CRLF,
    };
    struct sip_hdr_iter it;
    struct str elem;
    int i;
    int k;

    for (i = 0; i < 3; i++) {
        sip_msg_parse(&sip_m, msg, sizeof(msg) - 1, 0);
        sip_hdr_iter_init(&it, &sip_m, SIP_HDR_ROUTE);
        for (k = 0; k <= i; k++)
            sip_hdr_iter_next(&it, &sip_m, &elem);
        is_int(sip_msg_elem_remove(&sip_m, it.cur, elem), 0,
               "remove Route element %d", i);
        sip_msg_print(&sip_m, sip_out, sizeof(sip_out));
        ok(strstr(sip_out, want[i]) != NULL, "element %d gone", i);
    }
}

/* sip_model_refused - bad edits change nothing */
static void sip_model_refused(void)
{
    static const struct {
        const char *line;
        const char *reason;
    } bad[] = {
        {"Max-Forwards: abc", "Duplicate header"},
        {"Max-Forwards: 10", "Duplicate header"},
        {"CSeq: 2 INVITE", "Duplicate header"},
        {"Via: garbage", "Bad Via"},
        {"Via: SIP/2.0/UDP a, ", "Bad Via"},
        {"No colon here", "Bad header"},
        {": no name", "Bad header"},
        {"Subject: two\r\nlines", "Bad header"},
        {"", "Bad header"},
        {"Route: <sip:x", "Bad Route"},
        {"From: <sip:x>;tag", "Duplicate header"},
    };
    static const struct {
        enum sip_hdr_type type;
        const char *line;
        const char *reason;
    } badrep[] = {
        {SIP_HDR_MAX_FORWARDS, "Max-Forwards: abc", "Bad Max-Forwards"},
        {SIP_HDR_MAX_FORWARDS, "Max-Forwards: 256", "Bad Max-Forwards"},
        {SIP_HDR_FROM, "From: <sip:x>;tag", "Bad From"},
        {SIP_HDR_TO, "t: <sip:x", "Bad To"},
        {SIP_HDR_CSEQ, "CSeq: x", "Bad CSeq"},
        {SIP_HDR_CALL_ID, "i: a b", "Bad Call-ID"},
        {SIP_HDR_CONTENT_LENGTH, "l: -4", "Bad Content-Length"},
        {SIP_HDR_VIA, "Via: junk", "Bad Via"},
        {SIP_HDR_VIA, "Via: SIP/2.0/UDP a, junk", "Bad Via"},
        {SIP_HDR_ROUTE, "Route: <sip:a>, <sip:b", "Bad Route"},
        {SIP_HDR_SUBJECT, "Via: junk", "Bad Via"},
        {SIP_HDR_SUBJECT, "CSeq: 1 INVITE", "Duplicate header"},
    };
    size_t i;
    int r;

    sip_model_parse();
    is_int(sip_msg_hdr_insert(&sip_m, SIP_HDR_NONE, STR_LIT("Subject: x")),
           8, "insert a Subject");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = sip_msg_hdr_insert(&sip_m, SIP_HDR_NONE,
                               (struct str){bad[i].line, strlen(bad[i].line)});
        is_int(r, -EINVAL, "refused insert %zu", i);
        is_str(sip_m.reason, bad[i].reason, "reason: %s", bad[i].reason);
    }
    for (i = 0; i < sizeof(badrep) / sizeof(badrep[0]); i++) {
        r = sip_msg_hdr_replace(&sip_m, sip_m.first[badrep[i].type],
                                (struct str){badrep[i].line,
                                             strlen(badrep[i].line)});
        is_int(r, -EINVAL, "refused replace %zu", i);
        is_str(sip_m.reason, badrep[i].reason, "reason: %s",
               badrep[i].reason);
    }
    is_int(sip_m.max_forwards, 70, "max_forwards still 70");
    is_int(sip_m.cseq, 1, "cseq still 1");
    is_int(sip_m.via2.hdr, 0, "via2 still there");
    is_mem(sip_m.from.tag.s, sip_m.from.tag.len, "1", 1, "from tag still 1");
    r = sip_msg_hdr_insert(&sip_m, 9999, STR_LIT("X: y"));
    is_int(r, -EINVAL, "insert before a bad index");
    r = sip_msg_elem_replace(&sip_m, sip_m.via1.hdr, STR_LIT("x"),
                             STR_LIT("y"));
    is_int(r, -EINVAL, "element not in the header");
    r = sip_msg_via_set_param(&sip_m, &sip_m.via1, STR_LIT("bad name"),
                              STR_LIT("1"));
    is_int(r, -EINVAL, "bad parameter name");
    r = sip_msg_via_set_param(&sip_m, &sip_m.via1, STR_LIT("rport"),
                              STR_LIT("99999"));
    is_int(r, -EINVAL, "rport out of range");
    r = sip_msg_set_ruri(&sip_m, STR_LIT("sip:a b"));
    is_int(r, -EINVAL, "bad Request-URI");
    is_int(sip_msg_hdr_remove(&sip_m, sip_m.first[SIP_HDR_SUBJECT]), 0,
           "remove the Subject again");
    sip_is_print(MODEL_MSG, "refused edits left the message alone");
    sip_msg_parse(&sip_m, "", 0, 0);
    r = sip_msg_hdr_insert(&sip_m, SIP_HDR_NONE, STR_LIT("X: y"));
    is_int(r, -EINVAL, "no edits on an unparsed message");
    is_int(sip_msg_print(&sip_m, sip_out, sizeof(sip_out)), -ENOSPC,
           "nothing to print");
}

/* sip_model_limits - print cap, arena and slot exhaustion */
static void sip_model_limits(void)
{
    static char big[2000];
    size_t need;
    int n;
    int r;

    sip_model_parse();
    need = sip_m.print_len;
    memset(sip_out, '#', need + 8);
    is_int(sip_msg_print(&sip_m, sip_out, need - 1), -ENOSPC,
           "print with cap one short");
    ok(sip_out[need - 1] == '#' && sip_out[need] == '#',
       "nothing written past cap");
    is_int(sip_msg_print(&sip_m, sip_out, 0), -ENOSPC, "print with cap 0");
    is_int(sip_msg_print(&sip_m, sip_out, need), (long long)need,
           "print with the exact cap");
    is_int(sip_msg_dump(&sip_m, sip_dump, 10), -ENOSPC, "dump too small");
    memset(big, 'x', sizeof(big));
    memcpy(big, "Subject: ", 9);
    for (n = 0; (r = sip_msg_hdr_insert(&sip_m, SIP_HDR_NONE,
                                        (struct str){big, sizeof(big)}))
                >= 0; n++)
        ;
    is_int(r, -ENOSPC, "arena full after %d big headers", n);
    is_int(n, SIP_ARENA_SIZE / (sizeof(big) + 2), "as many as fit");
    is_int(sip_msg_hdr_replace(&sip_m, sip_m.first[SIP_HDR_MAX_FORWARDS],
                               STR_LIT("Max-Forwards: 1")) == 0
               || sip_m.max_forwards == 70, 1,
           "a failed replace keeps the old value");
    sip_model_parse();
    for (n = 0; (r = sip_msg_hdr_insert(&sip_m, sip_m.head,
                                        STR_LIT("X-A: 1"))) >= 0; n++)
        ;
    is_int(r, -E2BIG, "header slots full");
    is_int(n, SIP_HDR_SLOTS - 8, "after %d inserts", SIP_HDR_SLOTS - 8);
    r = (int)sip_msg_print(&sip_m, sip_dump, sizeof(sip_dump));
    ok(r > 0, "still prints");
    is_int(sip_msg_parse(&sip_m, sip_dump, (size_t)r, 0), -E2BIG,
           "and has too many headers to parse again");
}

/* sip_model_lookups - find, find_name, iterators */
static void sip_model_lookups(void)
{
    static const char msg[] = RL "v: SIP/2.0/UDP a;branch=z9hG4bK1, "
                              "SIP/2.0/UDP b" CRLF MF1 TO1 FROM1 CID1 CSEQ1
                              "Proxy-Require: foo , bar" CRLF
                              "Via: SIP/2.0/UDP c" CRLF
                              "Proxy-Require: baz" CRLF
                              "X-Foo: 1" CRLF "x-foo: 2" CRLF CRLF;
    struct sip_hdr_iter it;
    struct str elem;
    char got[256] = "";
    int i;

    is_int(sip_msg_parse(&sip_m, msg, sizeof(msg) - 1, 0), 0, "parse");
    sip_hdr_iter_init(&it, &sip_m, SIP_HDR_VIA);
    while (sip_hdr_iter_next(&it, &sip_m, &elem) > 0)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "[%.*s]%d",
                 (int)elem.len, elem.s, it.cur);
    is_str(got, "[SIP/2.0/UDP a;branch=z9hG4bK1]0[SIP/2.0/UDP b]0"
                "[SIP/2.0/UDP c]7", "all via-parms in order");
    got[0] = 0;
    sip_hdr_iter_init(&it, &sip_m, SIP_HDR_PROXY_REQUIRE);
    while (sip_hdr_iter_next(&it, &sip_m, &elem) > 0)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "[%.*s]",
                 (int)elem.len, elem.s);
    is_str(got, "[foo][bar][baz]", "Proxy-Require option tags");
    is_int(sip_msg_hdr_find_name(&sip_m, STR_LIT("VIA"), SIP_HDR_NONE), 0,
           "find_name VIA finds v");
    is_int(sip_msg_hdr_find_name(&sip_m, STR_LIT("v"), 0), 7,
           "find_name v after 0 finds Via");
    i = sip_msg_hdr_find_name(&sip_m, STR_LIT("X-FOO"), SIP_HDR_NONE);
    is_int(i, 9, "find_name X-FOO");
    is_int(sip_msg_hdr_find_name(&sip_m, STR_LIT("X-FOO"), i), 10,
           "and the next one");
    is_int(sip_msg_hdr_find_name(&sip_m, STR_LIT("X-FOO"), 10), -ENOENT,
           "and no more");
    is_int(sip_msg_hdr_find(&sip_m, SIP_HDR_CONTACT, SIP_HDR_NONE), -ENOENT,
           "no Contact");
    is_int(sip_hdr_type_of(STR_LIT("proxy-require")), SIP_HDR_PROXY_REQUIRE,
           "type of proxy-require");
    is_int(sip_hdr_type_of(STR_LIT("Q")), SIP_HDR_OTHER, "type of Q");
    is_str(sip_hdr_name(SIP_HDR_RECORD_ROUTE), "Record-Route", "name");
}

/* sip_failed_fields - a 400 can still be built after a field failed */
static void sip_failed_fields(void)
{
    static const char msg[] = RL VIA1 "Max-Forwards: x" CRLF TO1 FROM1 CID1
                              CSEQ1 CRLF;

    is_int(sip_msg_parse(&sip_m, msg, sizeof(msg) - 1, 0), -EBADMSG,
           "Bad Max-Forwards");
    is_str(sip_m.reason, "Bad Max-Forwards", "reason kept");
    sip_is_sv(sip_m.via1.branch, "z9hG4bK776asdhds", "via1 still derived");
    sip_is_sv(sip_m.call_id, "a84b4c76e66710@pc33.atlanta.com",
              "call_id still derived");
    sip_is_sv(sip_m.from.tag, "1928301774", "from tag still derived");
    is_int(sip_m.cseq, 314159, "cseq still derived");
    is_int(sip_msg_hdr_remove(&sip_m, 0), -EINVAL, "but no edits");
}

int main(void)
{
    size_t i;

    sip_msg_init(&sip_m);
    for (i = 0; i < sizeof(sip_parse_cases) / sizeof(sip_parse_cases[0]);
         i++)
        sip_run_case(&sip_parse_cases[i]);
    sip_too_many();
    sip_every_prefix();
    sip_version();
    sip_model_proxy();
    sip_model_edits();
    sip_model_elems();
    sip_model_refused();
    sip_model_limits();
    sip_model_lookups();
    sip_failed_fields();
    return done_testing();
}
