#ifndef SIP_MSG_H
#define SIP_MSG_H
/*
 * SUMMARY
 *      sip_msg - SIP parser and header-level message model
 * DESCRIPTION
 *      One header for the whole SIP library in common/sip/:
 *
 *      sip_msg_*  parse a message (start line, header index, framing,
 *                 the fields routing needs), edit it header by header,
 *                 find headers in it, print it (sip_msg.c,
 *                 sip_msg_field.c, sip_msg_edit.c, sip_msg_find.c,
 *                 sip_msg_print.c); frame a TCP stream and peek at the
 *                 Call-ID for netd (sip_msg_frame.c).
 *      sip_hdr_*  header names and types, comma lists, ;params, and the
 *                 small value grammars (sip_hdr.c).
 *      sip_uri_*  URIs and name-addr / addr-spec values (sip_uri.c).
 *      sip_via_*  one via-parm (sip_via.c).
 *
 *      Nothing here allocates. A struct sip_msg is big (about 40 KiB:
 *      a fixed header table plus a text arena); a worker allocates one
 *      at start, calls sip_msg_init() once, and reuses it for every
 *      message: sip_msg_parse() resets it first.
 *
 *      Every struct str handed out points either into the caller's
 *      input buffer or into the message's arena. The input buffer must
 *      stay alive and unchanged while the sip_msg is used; arena text
 *      lives until the next sip_msg_reset()/sip_msg_parse(). Strings
 *      are never NUL-terminated. An absent optional item is a str with
 *      s == NULL; a present but empty one (e.g. ";rport") has s != NULL
 *      and len == 0.
 *
 *      A header value keeps folded continuation lines as they were
 *      written (CRLF or LF followed by SP/HT); the value parsers here
 *      treat CR and LF as linear white space, so callers that use them
 *      never see the difference.
 *
 *      Edits (insert, remove, replace a header; replace or remove one
 *      element of a comma list, such as one via-parm) take effect at
 *      once: the parsed fields below are recomputed for the header type
 *      that changed, so a lookup right after an edit sees the new
 *      value. New text goes to the arena; untouched headers keep
 *      pointing into the input and print byte-identical. The body is
 *      never changed.
 *
 *      Case rules (RFC 3261 section 7.3.1, 19.1.4, 20): header names,
 *      parameter names, URI schemes, hosts and transport tokens compare
 *      case-insensitively; methods, user parts, Call-ID and tag values
 *      compare case-sensitively (callers use str_eq for those).
 * DIAGNOSTICS
 *      Functions return 0 (or a non-negative count or index) on success
 *      and a negative errno on failure. A failed parse or edit leaves a
 *      short static reason in msg->reason, fit for a 400 reason phrase
 *      ("Bad Via", "Missing Call-ID", "Too many headers", ...).
 *      Nothing here logs, panics or exits: all input is untrusted.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "str.h"

/* Headers a parsed message may hold; one more is "Too many headers". */
#define SIP_MAX_HDRS 256
/* Header slots: room for SIP_MAX_HDRS parsed ones plus some inserts. */
#define SIP_HDR_SLOTS (SIP_MAX_HDRS + 32)
/* Bytes of new or replaced text (headers, start line) per message. */
#define SIP_ARENA_SIZE 16384
/* Index meaning "no header" in hdr links and lookups. */
#define SIP_HDR_NONE (-1)
/* Largest Max-Forwards accepted; a larger value is "Bad Max-Forwards". */
#define SIP_MAX_FORWARDS_MAX 255
/* Largest CSeq number (RFC 3261 section 8.1.1.5: less than 2**31). */
#define SIP_CSEQ_MAX 2147483647u
/* Largest Content-Length accepted (a SIP message is at most 64 KiB). */
#define SIP_CONTENT_LENGTH_MAX 65535

/* Header types. Append only: the numbers may be stored in records. */
enum sip_hdr_type {
    SIP_HDR_OTHER = 0,                  /* any header not listed */
    SIP_HDR_VIA,                        /* v */
    SIP_HDR_MAX_FORWARDS,
    SIP_HDR_ROUTE,
    SIP_HDR_RECORD_ROUTE,
    SIP_HDR_CSEQ,
    SIP_HDR_CALL_ID,                    /* i */
    SIP_HDR_FROM,                       /* f */
    SIP_HDR_TO,                         /* t */
    SIP_HDR_CONTENT_LENGTH,             /* l */
    SIP_HDR_CONTACT,                    /* m */
    SIP_HDR_CONTENT_TYPE,               /* c */
    SIP_HDR_PROXY_REQUIRE,
    SIP_HDR_REQUIRE,
    SIP_HDR_SUPPORTED,                  /* k */
    SIP_HDR_UNSUPPORTED,
    SIP_HDR_CONTENT_ENCODING,           /* e */
    SIP_HDR_SUBJECT,                    /* s */
    SIP_HDR_EVENT,                      /* o */
    SIP_HDR_ALLOW_EVENTS,               /* u */
    SIP_HDR_REFER_TO,                   /* r */
    SIP_HDR_REFERRED_BY,                /* b */
    SIP_HDR_ACCEPT_CONTACT,             /* a */
    SIP_HDR_REJECT_CONTACT,             /* j */
    SIP_HDR_REQUEST_DISPOSITION,        /* d */
    SIP_HDR_SESSION_EXPIRES,            /* x */
    SIP_HDR_IDENTITY,                   /* y */
    SIP_HDR_IDENTITY_INFO,              /* n */
    SIP_HDR_ALLOW,
    SIP_HDR_EXPIRES,
    SIP_HDR_AUTHORIZATION,
    SIP_HDR_PROXY_AUTHORIZATION,
    SIP_HDR_WWW_AUTHENTICATE,
    SIP_HDR_PROXY_AUTHENTICATE,
    SIP_HDR_PATH,
    SIP_HDR_USER_AGENT,
    SIP_HDR_SERVER,
    SIP_HDR_NTYPES                      /* keep last */
};

/* Request methods (case-sensitive, RFC 3261 section 7.1). */
enum sip_method {
    SIP_METHOD_OTHER = 0,
    SIP_METHOD_INVITE,
    SIP_METHOD_ACK,
    SIP_METHOD_BYE,
    SIP_METHOD_CANCEL,
    SIP_METHOD_REGISTER,
    SIP_METHOD_OPTIONS,
    SIP_METHOD_INFO,
    SIP_METHOD_PRACK,
    SIP_METHOD_UPDATE,
    SIP_METHOD_SUBSCRIBE,
    SIP_METHOD_NOTIFY,
    SIP_METHOD_REFER,
    SIP_METHOD_MESSAGE,
    SIP_METHOD_PUBLISH
};

/* Transport tokens (Via sent-protocol, ;transport=), case-insensitive. */
enum sip_transport {
    SIP_TP_NONE = 0,                    /* not given */
    SIP_TP_UDP,
    SIP_TP_TCP,
    SIP_TP_TLS,
    SIP_TP_SCTP,
    SIP_TP_WS,
    SIP_TP_WSS,
    SIP_TP_OTHER                        /* a token we do not know */
};

/* What a host part holds. IPv6 hosts are stored without brackets. */
enum sip_host_type {
    SIP_HOST_NONE = 0,
    SIP_HOST_NAME,
    SIP_HOST_IPV4,
    SIP_HOST_IPV6
};

/* URI schemes; anything else is SIP_URI_OTHER (the router says 416). */
enum sip_uri_scheme {
    SIP_URI_OTHER = 0,
    SIP_URI_SIP,
    SIP_URI_SIPS,
    SIP_URI_TEL
};

/*
 * A parsed URI. For sip:/sips: every field below may be set. For tel:
 * the subscriber number is in "user" and its ;params in "params"
 * (host is absent). For other schemes only scheme and opaque are set.
 */
struct sip_uri {
    enum sip_uri_scheme scheme_id;
    enum sip_host_type host_type;
    enum sip_transport tp;              /* from ;transport=, or NONE */
    int port;                           /* 0 when absent */
    struct str scheme;                  /* as written, without ':' */
    struct str opaque;                  /* all after "scheme:" */
    struct str user;                    /* escaped form, as written */
    struct str password;
    struct str host;                    /* IPv6 without brackets */
    struct str hostport;                /* host[:port] as written */
    struct str params;                  /* from the first ';' to '?' */
    struct str headers;                 /* after '?' */
    struct str transport;               /* ;transport= value */
    struct str maddr;
    struct str ttl;
    struct str user_param;              /* ;user= value */
    struct str method;                  /* ;method= value */
    struct str lr;                      /* ;lr (present: s != NULL) */
};

/*
 * A name-addr or addr-spec header element (From, To, Route,
 * Record-Route, Contact, ...): ["display"] <uri> *(;param), or a bare
 * uri *(;param) where the uri has no ';' params of its own (RFC 3261
 * section 20.10: a bare uri's ;params belong to the header).
 */
struct sip_uri_addr {
    struct str raw;                     /* the whole element, trimmed */
    struct str display;                 /* unquoted; s NULL when none */
    struct str uri;                     /* without <> */
    struct str params;                  /* ";p=v..." after the uri */
    struct str tag;                     /* ;tag= value */
    int bracketed;                      /* uri was written in <> */
};

/*
 * One via-parm (RFC 3261 section 20.42): sent-protocol sent-by params.
 * "hdr" is the header index that holds it and "raw" its span inside
 * that header's value, so it can be replaced or removed in place.
 */
struct sip_via {
    int hdr;                            /* SIP_HDR_NONE: no such Via */
    enum sip_transport tp;
    enum sip_host_type host_type;
    int port;                           /* 0 when absent */
    int rport;                          /* -1 absent, 0 no value, else */
    struct str raw;                     /* the via-parm, trimmed */
    struct str proto_name;              /* "SIP" */
    struct str proto_ver;               /* "2.0" */
    struct str transport;               /* "UDP", as written */
    struct str sent_by;                 /* host[:port] as written */
    struct str host;                    /* IPv6 without brackets */
    struct str params;                  /* from the first ';' on */
    struct str branch;
    struct str received;
    struct str rport_str;               /* rport value; len 0: no value */
    struct str maddr;
    struct str ttl;
};

/* One header line in the message. */
struct sip_hdr {
    enum sip_hdr_type type;
    unsigned flags;                     /* SIP_HDR_F_* */
    int prev;                           /* list links, SIP_HDR_NONE */
    int next;
    struct str name;                    /* as written, maybe compact */
    struct str value;                   /* trimmed; may hold folds */
    struct str raw;                     /* name to line end incl. CRLF */
};

#define SIP_HDR_F_FOLDED 0x01           /* value spans several lines */
#define SIP_HDR_F_NEW 0x02              /* raw is in the arena */
#define SIP_HDR_F_DEAD 0x04             /* removed: slot not in the list */

/* sip_msg_parse() flags. */
#define SIP_PARSE_STREAM 0x01           /* TCP: Content-Length required */

/*
 * Comma-list iterator over every header of one type, in message
 * order (several Via headers, each with several via-parms, make one
 * list). See sip_hdr_iter_init().
 */
struct sip_hdr_iter {
    enum sip_hdr_type type;
    int hdr;                            /* header being scanned */
    size_t off;                         /* offset in its value */
    int cur;                            /* header of the last element */
};

/*
 * The message. Read the fields; change them only through the
 * functions below. Everything from "flags" up to "hdrs" is cleared by
 * sip_msg_reset() (keep small per-message fields there).
 */
struct sip_msg {
    unsigned flags;                     /* SIP_PARSE_* of this parse */
    const char *reason;                 /* why the last call failed */
    const char *buf;                    /* input given to parse */
    size_t len;
    size_t msg_len;                     /* bytes that are the message */

    /* Start line. */
    int is_request;                     /* else a response */
    struct str start;                   /* whole line incl. CRLF */
    struct str method;                  /* request */
    enum sip_method method_id;
    struct str ruri_str;
    struct sip_uri ruri;                /* parsed Request-URI */
    struct str version;                 /* "SIP/2.0" as written */
    int status;                         /* response: 100..699 */
    struct str phrase;                  /* response reason-phrase */

    /* Header list (linked, in message order) and first of each type. */
    int head;
    int tail;
    int nhdrs;                          /* live headers */
    int nslots;                         /* slots used in hdrs[] */
    int first[SIP_HDR_NTYPES];
    unsigned short count[SIP_HDR_NTYPES]; /* live headers per type */
    struct str eoh;                     /* the empty line, as written */
    struct str body;

    /* Parsed fields, kept current across edits. */
    long content_length;                /* -1: no Content-Length */
    int max_forwards;                   /* -1: no Max-Forwards */
    uint32_t cseq;
    struct str cseq_method;
    enum sip_method cseq_method_id;
    struct str call_id;
    struct sip_uri_addr from;           /* from.tag */
    struct sip_uri_addr to;             /* to.tag.s == NULL: no tag */
    struct sip_via via1;                /* top via-parm */
    struct sip_via via2;                /* next one; hdr NONE if none */
    int route_hdr;                      /* header of the first Route */
    struct sip_uri_addr route;          /* first Route element */
    size_t print_len;                   /* what sip_msg_print() needs */
    size_t arena_used;

    struct sip_hdr hdrs[SIP_HDR_SLOTS];
    char arena[SIP_ARENA_SIZE];
};

/* -------------------------------------------------------------------
 * sip_msg.c, sip_msg_frame.c: life cycle, parsing, framing
 */

/*
 * sip_msg_init - prepare a freshly allocated message for use
 *      Call once per struct (it is then reused across messages). The
 *      caller owns the memory; there is nothing to free.
 */
void sip_msg_init(struct sip_msg *m);

/*
 * sip_msg_reset - forget the current message
 *      Cheap: clears the per-message fields, not the header table or
 *      the arena. sip_msg_parse() calls it first.
 */
void sip_msg_reset(struct sip_msg *m);

/*
 * sip_msg_parse - parse one SIP message
 *      buf/len is one datagram, or one message framed by netd (flags
 *      SIP_PARSE_STREAM). The buffer is not copied: it must outlive
 *      every use of m, and need not be NUL-terminated.
 *
 *      Framing (RFC 3261 section 18.3): the header block ends at the
 *      first empty line (CRLF CRLF, LF LF or mixed). Without
 *      SIP_PARSE_STREAM, a missing Content-Length means the body runs
 *      to the end of buf; bytes beyond Content-Length are discarded
 *      (msg_len < len). With it, Content-Length is required. A
 *      Content-Length larger than the bytes present is an error.
 *
 *      Checks: start line syntax (any "SIP/x.y" version is accepted and
 *      kept in m->version: the router answers 505 to other versions);
 *      header syntax; at most SIP_MAX_HDRS headers; no NUL byte before
 *      the body; Via, From, To, Call-ID and CSeq present, once each
 *      except Via (Max-Forwards is optional: m->max_forwards == -1);
 *      the Request-URI parses (an unknown scheme is not an error:
 *      m->ruri.scheme_id == SIP_URI_OTHER); Max-Forwards 0..255; CSeq
 *      number < 2**31 and a method token; every via-parm of every Via
 *      header parses; for requests, every Route element is a name-addr
 *      (Route in a response is not looked at). CSeq method and request
 *      method are not compared (the router may).
 *
 *      Returns 0, or -EBADMSG (malformed; m->reason says why), -E2BIG
 *      (more than SIP_MAX_HDRS headers, reason "Too many headers"),
 *      -EINVAL (len == 0 or buf NULL, reason "Empty message"). When the
 *      start line and header index were fine but a field was not, the
 *      other fields are still derived (to build the 400); the message
 *      cannot be edited or printed.
 */
int sip_msg_parse(struct sip_msg *m, const char *buf, size_t len,
                  unsigned flags);

/*
 * sip_msg_frame - find where a message ends in a byte stream
 *      For netd's TCP framing: looks for the empty line and the
 *      Content-Length in buf/len without building an index. Leading
 *      CRLFs (keep-alives) are part of what is reported as *skip.
 *      Returns 0 with *skip, *hdr_len (start line to the empty line
 *      inclusive) and *body_len set when a whole message is present;
 *      -EAGAIN when more bytes are needed; -EBADMSG when the header
 *      block cannot be framed (no or bad Content-Length).
 */
int sip_msg_frame(const char *buf, size_t len, size_t *skip,
                  size_t *hdr_len, size_t *body_len);

/*
 * sip_msg_peek_callid - find the Call-ID value without a full parse
 *      For netd's per-Call-ID hashing. Returns 0 with *callid pointing
 *      into buf, or -ENOENT.
 */
int sip_msg_peek_callid(const char *buf, size_t len, struct str *callid);

/*
 * sip_msg_version_ok - the start line says SIP/2.0
 *      "SIP" compares case-insensitively, "2.0" exactly. 0 means the
 *      router should answer 505.
 */
int sip_msg_version_ok(const struct sip_msg *m);

/* -------------------------------------------------------------------
 * sip_msg_field.c: the parsed fields
 */

/* sip_msg_method_id - map a method token (case-sensitive) */
enum sip_method sip_msg_method_id(struct str method);

/* -------------------------------------------------------------------
 * sip_msg_edit.c: header-level changes
 *
 * "line" arguments are one header line without its line end
 * ("Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1"); the CRLF is added.
 * A line must not contain CR, LF or NUL and must be "name: value"
 * with a token name. When the header is of a parsed type (Via,
 * Max-Forwards, CSeq, Call-ID, From, To, Route, Content-Length), the
 * new value must parse as that type (the same checks as
 * sip_msg_parse()); a bad one is rejected with -EINVAL and nothing
 * changes but the arena. A second header of a single-valued type
 * (Max-Forwards, CSeq, Call-ID, From, To, Content-Length) is refused
 * ("Duplicate header"). Errors: -EINVAL (bad argument or text,
 * m->reason set), -ENOSPC (arena full), -E2BIG (no header slot left).
 * Changing Content-Length does not change the body.
 */

/*
 * All edits need a message that sip_msg_parse() accepted (-EINVAL
 * otherwise). Header indexes given must be live (not removed).
 */

/*
 * sip_msg_hdr_insert - insert a new header line
 *      before: the index of an existing header to insert in front of
 *      (m->head for the very top, m->first[SIP_HDR_VIA] for "before
 *      the first Via"), or SIP_HDR_NONE to append after the last.
 *      Returns the new header's index (stable until reset).
 */
int sip_msg_hdr_insert(struct sip_msg *m, int before, struct str line);

/*
 * sip_msg_hdr_insertf - sip_msg_hdr_insert() with printf formatting
 *      Formats straight into the arena.
 */
int sip_msg_hdr_insertf(struct sip_msg *m, int before, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * sip_msg_hdr_remove - remove header idx
 *      Other indexes stay valid. Removing a mandatory header (the last
 *      Via, Call-ID...) is allowed; the parsed field becomes absent.
 */
int sip_msg_hdr_remove(struct sip_msg *m, int idx);

/*
 * sip_msg_hdr_replace - replace the whole line of header idx
 *      The index stays the same; the type may change with the name.
 */
int sip_msg_hdr_replace(struct sip_msg *m, int idx, struct str line);

/*
 * sip_msg_elem_replace - replace one element of a comma list in place
 *      elem must be a span inside m->hdrs[idx].value as handed out by
 *      sip_hdr_iter_next(), struct sip_via.raw or struct
 *      sip_uri_addr.raw of this message (and not stale: taken after the
 *      last edit of that header). The rest of the line keeps its bytes.
 */
int sip_msg_elem_replace(struct sip_msg *m, int idx, struct str elem,
                         struct str text);

/*
 * sip_msg_elem_remove - remove one element of a comma list
 *      Removes the element and one neighbouring comma; removes the
 *      whole header when it was the only element (pop a Route, strip
 *      our Via from a response).
 */
int sip_msg_elem_remove(struct sip_msg *m, int idx, struct str elem);

/*
 * sip_msg_via_replace - replace a via-parm (v->hdr, v->raw) in place
 *      v may point at m->via1 or m->via2: it is read before the edit.
 */
int sip_msg_via_replace(struct sip_msg *m, const struct sip_via *v,
                        struct str text);

/*
 * sip_msg_via_set_param - set ;name=value on a via-parm in place
 *      Replaces the value of an existing parameter (name compared
 *      case-insensitively) or appends ";name=value". value.s == NULL
 *      writes a flag ";name". For RFC 3581:
 *      set_param(m, &m->via1, "received", ip), then "rport", port.
 */
int sip_msg_via_set_param(struct sip_msg *m, const struct sip_via *v,
                          struct str name, struct str value);

/* sip_msg_via_remove - remove a via-parm (its header if it was alone) */
int sip_msg_via_remove(struct sip_msg *m, const struct sip_via *v);

/*
 * sip_msg_set_ruri - replace the Request-URI of a request
 *      The new uri is parsed into m->ruri first; -EINVAL when it does
 *      not parse or m is a response.
 */
int sip_msg_set_ruri(struct sip_msg *m, struct str uri);

/* -------------------------------------------------------------------
 * sip_msg_find.c: lookups in the header index
 */

/*
 * sip_msg_hdr_find - next header of a type
 *      Returns the index of the first header of "type" after header
 *      "after" in message order (after == SIP_HDR_NONE: from the top),
 *      or -ENOENT.
 */
int sip_msg_hdr_find(const struct sip_msg *m, enum sip_hdr_type type,
                     int after);

/*
 * sip_msg_hdr_find_name - next header with this name
 *      Case-insensitive; a long name also matches its compact form and
 *      the other way round. Returns an index or -ENOENT.
 */
int sip_msg_hdr_find_name(const struct sip_msg *m, struct str name,
                          int after);

/* -------------------------------------------------------------------
 * sip_msg_print.c: output
 */

/*
 * sip_msg_print - serialize the message
 *      Writes the start line, the headers in order, the empty line and
 *      the body to out (cap bytes). Untouched headers and the body come
 *      out byte-identical. Does not NUL-terminate. Returns the length
 *      written (== m->print_len) or -ENOSPC when cap is too small, in
 *      which case nothing past out[cap - 1] was written.
 */
ssize_t sip_msg_print(const struct sip_msg *m, char *out, size_t cap);

/*
 * sip_msg_dump - a text dump of the parsed fields, for tests and logs
 *      One "name: value" line per field (see the .expect files in
 *      t/data/sip); bytes outside printable ASCII are escaped.
 *      Meant for a parsed message. NUL-terminates when it returns
 *      >= 0. Returns the length without the NUL, or -ENOSPC.
 */
ssize_t sip_msg_dump(const struct sip_msg *m, char *out, size_t cap);

/* -------------------------------------------------------------------
 * sip_hdr.c: names, lists, params, value grammars
 */

/* sip_hdr_type_of - header type of a name (long or compact form) */
enum sip_hdr_type sip_hdr_type_of(struct str name);

/* sip_hdr_name - the long name of a type ("Via"); "" for OTHER */
const char *sip_hdr_name(enum sip_hdr_type type);

/*
 * sip_hdr_iter_init - iterate the comma-separated elements of every
 *      header of one type, in message order. Commas inside quoted
 *      strings and <> do not split.
 */
void sip_hdr_iter_init(struct sip_hdr_iter *it, const struct sip_msg *m,
                       enum sip_hdr_type type);

/*
 * sip_hdr_iter_next - the next element, trimmed of LWS
 *      Returns 1 with *elem set and it->cur = its header index; 0 at
 *      the end; -EBADMSG for an empty element or an unclosed quote or
 *      <. The iterator must not be used across an edit.
 */
int sip_hdr_iter_next(struct sip_hdr_iter *it, const struct sip_msg *m,
                      struct str *elem);

/*
 * sip_hdr_list_next - split the next comma element off a value
 *      *rest is advanced past the element and its comma. Returns 1
 *      with *elem, 0 when *rest is empty, -EBADMSG as above.
 */
int sip_hdr_list_next(struct str *rest, struct str *elem);

/*
 * sip_hdr_param_next - split the next ;name[=value] off a param list
 *      *rest is a "params" field above: LWS, then ';' (LWS is allowed
 *      around ';' and '=').
 *      Values may be tokens, hosts (IPv6 too) or quoted strings (kept
 *      with their quotes). Returns 1 with *name and *value (value.s
 *      NULL when there is no '='), 0 at the end, -EBADMSG on bad
 *      syntax.
 */
int sip_hdr_param_next(struct str *rest, struct str *name, struct str *value);

/*
 * sip_hdr_param_find - look a parameter up by name (case-insensitive)
 *      Returns 1 and sets *value (s NULL for a flag), 0 when absent,
 *      -EBADMSG on bad syntax.
 */
int sip_hdr_param_find(struct str params, const char *name,
                       struct str *value);

/*
 * sip_hdr_parse_uint - a decimal number 0..max, nothing else
 *      Returns 0 with *out, or -EBADMSG (empty, not a digit, > max).
 */
int sip_hdr_parse_uint(struct str s, unsigned long max, unsigned long *out);

/*
 * sip_hdr_parse_cseq - "1*DIGIT LWS method"
 *      Returns 0 or -EBADMSG.
 */
int sip_hdr_parse_cseq(struct str value, uint32_t *num, struct str *method);

/* sip_hdr_trim - strip LWS (SP, HT, CR, LF) from both ends */
struct str sip_hdr_trim(struct str s);

/* -------------------------------------------------------------------
 * sip_uri.c
 */

/*
 * sip_uri_parse - parse a URI (no <>, no display name)
 *      sip/sips: [user[:password]@]host[:port][;params][?headers];
 *      tel: number[;params]; other schemes: "scheme:" 1*char. Schemes
 *      compare case-insensitively. Returns 0, or -EBADMSG (bad syntax,
 *      bad host, port not 1..65535, LWS or control characters inside).
 */
int sip_uri_parse(struct str in, struct sip_uri *u);

/*
 * sip_uri_addr_parse - parse one name-addr / addr-spec element
 *      Accepts "Display" <uri>;params, Display <uri>;params, <uri> and
 *      a bare uri;params. Does not parse the uri itself. Returns 0 or
 *      -EBADMSG.
 */
int sip_uri_addr_parse(struct str in, struct sip_uri_addr *a);

/* sip_uri_host_type - classify a host (no brackets); NONE if invalid */
enum sip_host_type sip_uri_host_type(struct str host);

/* sip_uri_transport - map a transport token, case-insensitive */
enum sip_transport sip_uri_transport(struct str token);

/* -------------------------------------------------------------------
 * sip_via.c
 */

/*
 * sip_via_parse - parse one via-parm (not a comma list)
 *      Fills everything but v->hdr (set to SIP_HDR_NONE). rport: -1
 *      absent, 0 present without value, else 1..65535. Returns 0 or
 *      -EBADMSG (bad sent-protocol, bad sent-by, bad port or rport).
 */
int sip_via_parse(struct str in, struct sip_via *v);

#endif
