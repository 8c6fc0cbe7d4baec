#!/usr/bin/perl
# gen.pl - writes t/data/rfc4475/NAME.msg and NAME.expect
#
# The messages of RFC 4475 (SIP torture tests) sections 3.1.1 (valid),
# 3.1.2 (invalid), 3.2.1 and 3.3 (transaction and application layer)
# and 3.4.1, written as the RFC prints them: CRLF line ends, "{NUL}",
# "{BEL}", "{DEL}", "{xHH}" for the bytes the RFC marks as non-printable
# (section 2.2), and <repeat count=N>...</repeat> expanded (section 2.3).
# The RFC's own binary tarball (its appendix) was not available here;
# every message was re-typed from the RFC text. Known differences: the
# binary S/MIME part of mpart01 is replaced by other binary bytes of a
# different length (its Content-Length and boundaries are consistent),
# longreq is rebuilt from the RFC's <repeat> notation.
#
# NAME.expect: what a stateless proxy does with it (RFC 4475's notes for
# a proxy; RFC 3261 16.3):
#   outcome: forward | reply CODE | drop
#   section: the RFC 4475 section
#   max-forwards: N    value the forwarded request must carry
#   note: ...
# Run: perl t/data/rfc4475/gen.pl (from the repository root)
use strict;
use warnings;

my $dir = 't/data/rfc4475';
my $SDP = "v=0\no=mhandley 29739 7272939 IN IP4 192.0.2.3\ns=-\n"
    . "c=IN IP4 192.0.2.4\nt=0 0\nm=audio 49217 RTP/AVP 0 12\n"
    . "m=video 3227 RTP/AVP 31\na=rtpmap:31 LPC\n";
sub sdp { (my $s = $SDP) =~ s/192\.0\.2\.[34]/$_[0]/g; $s }

my @cases;
sub c { push @cases, [@_] }

sub bytes
{
    my ($t) = @_;
    $t =~ s{<repeat count=(\d+)>(.*?)</repeat>}{$2 x $1}ge;
    $t =~ s/\r?\n/\r\n/g;
    $t =~ s/\{NUL\}/\x00/g;
    $t =~ s/\{BEL\}/\x07/g;
    $t =~ s/\{DEL\}/\x7f/g;
    $t =~ s/\{x([0-9A-F]{2})\}/chr(hex($1))/ge;
    return $t;
}

# ---- 3.1.1 valid messages ------------------------------------------
c('wsinv', '3.1.1.1', 'forward', 'max-forwards: 67', <<"M" . sdp('192.0.2.4') =~ s/(o=mhandley.*?)192\.0\.2\.4/${1}192.0.2.3/r);
INVITE sip:vivekg\@chair-dnrc.example.com;unknownparam SIP/2.0
TO :
 sip:vivekg\@chair-dnrc.example.com ;   tag    = 1918181833n
from   : "J Rosenberg \\\\\\""       <sip:jdrosen\@example.com>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: wsinv.ndaksdj\@192.0.2.1
Content-Length   : 150
cseq: 0009
  INVITE
Via  : SIP  /   2.0
 /UDP
    192.0.2.2;branch=390skdjuw
s :
NewFangledHeader:   newfangled value
 continued newfangled value
UnknownHeaderWithUnusualValue: ;;,,;;,;
Content-Type: application/sdp
Route:
 <sip:services.example.com;lr;unknownwith=value;unknown-no-value>
v:  SIP  / 2.0  / TCP     spindle.example.com   ;
  branch  =   z9hG4bK9ikj8  ,
 SIP  /    2.0   / UDP  192.168.255.111   ; branch=
 z9hG4bK30239
m:"Quoted string \\"\\"" <sip:jdrosen\@example.com> ; newparam =
      newvalue ;
  secondparam ; q = 0.33

M

c('intmeth', '3.1.1.2', 'forward', 'max-forwards: 254', <<'M');
!interesting-Method0123456789_*+`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0
Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~
To: "BEL:\{BEL} NUL:\{NUL} DEL:\{DEL}" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>
From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%="{xD1}{x80}{xD0}{xB0}{xD0}{xB1}{xD0}{xBE}{xD1}{x82}{xD0}{xB0}{xD1}{x8E}{xD1}{x89}{xD0}{xB8}{xD0}{xB9}";tag=_token~1'+`*%!-.
Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\/"][?}{
CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~
Max-Forwards: 255
extensionHeader-!.%*+_`'~:{xEF}{xBB}{xBF}{xE5}{xA4}{xA7}{xE5}{x81}{x9C}{xE9}{x9B}{xBB}
Content-Length: 0

M

c('esc01', '3.1.1.3', 'forward', 'max-forwards: 86', <<'M' . sdp('192.0.2.1'));
INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0
To: sip:%75se%72@example.com
From: <sip:I%20have%20spaces@example.net>;tag=938
Max-Forwards: 87
i: esc01.239409asdfakjkn23onasd0-3234
CSeq: 234234 INVITE
Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw
C: application/sdp
Contact:
  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>
Content-Length: 150

M

c('escnull', '3.1.1.4', 'forward', 'max-forwards: 69', <<'M');
REGISTER sip:example.com SIP/2.0
To: sip:null-%00-null@example.com
From: sip:null-%00-null@example.com;tag=839923423
Max-Forwards: 70
Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd
CSeq: 14398234 REGISTER
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw
Contact: <sip:%00@host5.example.com>
Contact: <sip:%00%00@host5.example.com>
L:0

M

c('esc02', '3.1.1.5', 'forward', 'max-forwards: 69', <<'M');
RE%47IST%45R sip:registrar.example.com SIP/2.0
To: "%Z%45" <sip:resource@example.com>
From: "%Z%45" <sip:resource@example.com>;tag=f232jadfj23
Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf
Via: SIP/2.0/TCP host.example.com;rport;branch=z9hG4bK209%fzsnel234
CSeq: 29344 RE%47IST%45R
Max-Forwards: 70
Contact: <sip:alias1@host1.example.com>
C%6Fntact: <sip:alias2@host2.example.com>
Contact: <sip:alias3@host3.example.com>
l: 0

M

c('lwsdisp', '3.1.1.6', 'forward', 'max-forwards: 69', <<'M');
OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: caller<sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID: lwsdisp.1234abcd@funky.example.com
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw
l: 0

M

my $vias = join('', map {
    my $n = $_;
    my $name = ('Via', 'v', 'V')[(33 - $n) % 3];
    "$name: SIP/2.0/TCP sip$n.example.com\n" } reverse 1 .. 32);
c('longreq', '3.1.1.7', 'forward', 'max-forwards: 67', <<"M" . sdp('192.0.2.1'));
INVITE sip:user\@example.com SIP/2.0
To: "I have a user name of <repeat count=10>extreme</repeat> proportion" <sip:user\@example.com:6000;unknownparam1=very<repeat count=20>long</repeat>value;longparam<repeat count=25>name</repeat>=shortvalue;very<repeat count=25>long</repeat>ParameterNameWithNoValue>
F: sip:<repeat count=5>amazinglylongcallername</repeat>\@example.net;tag=12<repeat count=50>982</repeat>424;unknownheaderparam<repeat count=20>name</repeat>=unknowheaderparam<repeat count=15>value</repeat>;unknownValueless<repeat count=10>paramname</repeat>
Call-ID: longreq.one<repeat count=20>really</repeat>longcallid
CSeq: 3882340 INVITE
Unknown-<repeat count=20>Long</repeat>-Name: unknown-<repeat count=20>long</repeat>-value; unknown-<repeat count=20>long</repeat>-parameter-name = unknown-<repeat count=20>long</repeat>-parameter-value
Via: SIP/2.0/TCP sip33.example.com
${vias}Max-Forwards: 68
Record-Route: <sip:<repeat count=50>improbable</repeat>\@example.net>,
 <sip:<repeat count=50>very</repeat>long\@example.net>
Contact: <sip:<repeat count=5>amazinglylongcallername</repeat>\@host5.example.net>
Content-Type: application/sdp
l: 150

M

c('dblreq', '3.1.1.8', 'forward', 'max-forwards: 7',
  "note: only the REGISTER leaves; the INVITE after it is discarded",
  <<'M' . "\n" . <<'M2' . sdp('192.0.2.15'));
REGISTER sip:example.com SIP/2.0
To: sip:j.user@example.com
From: sip:j.user@example.com;tag=43251j3j324
Max-Forwards: 8
I: dblreq.0ha0isndaksdj99sdfafnl3lk233412
Contact: sip:j.user@host.example.com
CSeq: 8 REGISTER
Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492
Content-Length: 0

M
INVITE sip:joe@example.com SIP/2.0
t: sip:joe@example.com
From: sip:caller@example.net;tag=141334
Max-Forwards: 8
Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234
Content-Type: application/sdp
Content-Length: 150

M2

c('semiuri', '3.1.1.9', 'forward', 'max-forwards: 2', <<'M');
OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0
To: sip:j_user@example.com
From: sip:caller@example.org;tag=33242
Max-Forwards: 3
Call-ID: semiuri.0ha0isndaksdj
CSeq: 8 OPTIONS
Accept: application/sdp, application/pkcs7-mime,
        multipart/mixed, multipart/signed,
        message/sip, message/sipfrag
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw
l: 0

M

c('transports', '3.1.1.10', 'forward', 'max-forwards: 69', <<'M');
OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: <sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID:  transports.kijh4akdnaqjkwendsasfdj
Accept: application/sdp
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw
Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf
Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj
Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en
Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee
l: 0

M

{
    my $part1 = "Content-Type: text/plain\n\nsome text\n";
    my $bin = join('', map { chr(($_ * 37 + 11) % 256) } 0 .. 199);
    my $part2 = "Content-Type: application/pkcs7-signature; name=smime.p7s\n"
        . "Content-Transfer-Encoding: binary\n"
        . "Content-Disposition: attachment; filename=smime.p7s;\n"
        . "   handling=required\n\n";
    my $body = bytes("--boundary42\n$part1\n--boundary42\n$part2")
        . $bin . "\r\n--boundary42--\r\n";
    my $head = bytes(<<"M");
MESSAGE sip:kumiko\@example.org SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport
Max-Forwards: 70
Route: <sip:127.0.0.1:5080>
Identity: r5mwreLuyDRYBi/0TiPwEsY3rEVsk/G2WxhgTV1PF7hHuLIK0YWVKZhKv9Mj8UeXqkMVbnVq37CD+813gvYjcBUaZngQmXc9WNZSDNGCzA+fWl9MEUHWIZo1CeJebdY/XlgKeTa0Olvq0rt70Q5jiSfbqMJmQFteeivUhkMWYUA=
Contact: <sip:fluffy\@127.0.0.1:5070>
To: <sip:kumiko\@example.org>
From: <sip:fluffy\@example.com>;tag=2fb0dcc9
Call-ID: 3d9485ad0c49859b\@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..
CSeq: 1 MESSAGE
Content-Transfer-Encoding: binary
Content-Type: multipart/mixed;boundary=boundary42
Date: Sat, 10 Dec 2005 17:53:04 GMT
User-Agent: SIPimp.org/0.2.5 (curses)
Content-Length: XLENX

M
    $head =~ s/XLENX/length($body)/e;
    push @cases, ['mpart01', '3.1.1.11', 'forward', 'max-forwards: 69',
                  'note: binary part differs from the RFC (not reproducible here); the Route has no ;lr: strict routing (RFC 3261 16.6 step 6)',
                  'request-line: MESSAGE sip:127.0.0.1:5080 SIP/2.0',
                  'route: Route: <sip:kumiko@example.org>',
                  \($head . $body)];
}

c('unreason', '3.1.1.12', 'drop',
  'note: a response whose top Via is not ours',
  <<'M' . sdp('192.0.2.198'));
SIP/2.0 200 = 2**3 * 5**2 {xD0}{xBD}{xD0}{xBE} {xD1}{x81}{xD1}{x82}{xD0}{xBE} {xD0}{xB4}{xD0}{xB5}{xD0}{xB2}{xD1}{x8F}{xD0}{xBD}{xD0}{xBE}{xD1}{x81}{xD1}{x82}{xD0}{xBE} {xD0}{xB4}{xD0}{xB5}{xD0}{xB2}{xD1}{x8F}{xD1}{x82}{xD1}{x8C} - {xD0}{xBF}{xD1}{x80}{xD0}{xBE}{xD1}{x81}{xD1}{x82}{xD0}{xBE}{xD0}{xB5}
Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923
Call-ID: unreason.1234ksdfak3j2erwedfsASdf
CSeq: 35 INVITE
From: sip:user@example.com;tag=11141343
To: sip:user@example.edu;tag=2229
Content-Length: 154
Content-Type: application/sdp
Contact: <sip:user@host198.example.com>

M

c('noreason', '3.1.1.13', 'drop',
  'note: a response whose top Via is not ours', <<'M');
SIP/2.0 100 
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: noreason.asndj203insdf99223ndf
CSeq: 35 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host105.example.com>

M

# ---- 3.1.2 invalid messages ----------------------------------------
c('badinv01', '3.1.2.1', 'reply 400', <<'M' . sdp('192.0.2.15') =~ s/\n$/\n/r);
INVITE sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=134161461246
Max-Forwards: 7
Call-ID: badinv01.0ha0isndaksdjasdf3234nas
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;;,;,,
Contact: "Joe" <sip:joe@example.org>;;;;
Content-Length: 152
Content-Type: application/sdp

M

c('clerr', '3.1.2.2', 'reply 400', <<'M' . sdp('192.0.2.155'));
INVITE sip:user@example.com SIP/2.0
Max-Forwards: 80
To: sip:j.user@example.com
From: sip:caller@example.net;tag=93942939o2
Contact: <sip:caller@hungry.example.net>
Call-ID: clerr.0ha0isndaksdjweiafasdk3
CSeq: 8 INVITE
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523
Content-Type: application/sdp
Content-Length: 9999

M

c('ncl', '3.1.2.3', 'reply 400', <<'M' . sdp('192.0.2.53'));
INVITE sip:user@example.com SIP/2.0
Max-Forwards: 254
To: sip:j.user@example.com
From: sip:caller@example.net;tag=32394234
Call-ID: ncl.0ha0isndaksdj2193423r542w35
CSeq: 0 INVITE
Via: SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw
Contact: <sip:caller@example53.example.net>
Content-Type: application/sdp
Content-Length: -999

M

c('scalar02', '3.1.2.4', 'reply 400', <<'M');
REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3
To: <sip:user@example.com>
From: <sip:user@example.com>;tag=239232jh3
CSeq: 36893488147419103232 REGISTER
Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32
Max-Forwards: 300
Expires: 1<repeat count=100>0</repeat>
Contact: <sip:user@host129.example.com>
  ;expires=280297596632815
l: 0

M

c('scalarlg', '3.1.2.5', 'drop', 'note: a response, never answered', <<'M');
SIP/2.0 503 Service Unavailable
Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129
To: <sip:user@example.com>
From: <sip:other@example.net>;tag=2easdjfejw
CSeq: 9292394834772304023312 OPTIONS
Call-ID: scalarlg.noase0of0234hn2qofoaf0232aewf2394r
Retry-After: 949302838503028349304023988
Warning: 1812 overture "In Progress"
Content-Length: 0

M

c('quotbal', '3.1.2.6', 'reply 400', <<'M' . sdp('192.0.2.15'));
INVITE sip:user@example.com SIP/2.0
To: "Mr. J. User <sip:j.user@example.com>
From: sip:caller@example.net;tag=93334
Max-Forwards: 10
Call-ID: quotbal.aksdj
Contact: <sip:caller@host59.example.net>
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234
Content-Type: application/sdp
Content-Length: 152

M

c('ltgtruri', '3.1.2.7', 'reply 400', <<'M' . sdp('192.0.2.5'));
INVITE <sip:user@example.com> SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=39291
Max-Forwards: 23
Call-ID: ltgtruri.1@192.0.2.5
CSeq: 1 INVITE
Via: SIP/2.0/UDP 192.0.2.5
Contact: <sip:caller@host5.example.net>
Content-Type: application/sdp
Content-Length: 150

M

c('lwsruri', '3.1.2.8', 'reply 400', <<'M' . sdp('192.0.2.1') =~ s{IN IP4 192.0.2.1\n}{IN IP4 192.0.2.1\n}gr);
INVITE sip:user@example.com; lr SIP/2.0
To: sip:user@example.com;tag=3xfe-9921883-z9f
From: sip:caller@example.net;tag=231413434
Max-Forwards: 5
Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423
CSeq: 2130706432 INVITE
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkdjuw2395
Contact: <sip:caller@host1.example.net>
Content-Type: application/sdp
Content-Length: 150

M

c('lwsstart', '3.1.2.9', 'reply 400', <<'M' . sdp('192.0.2.1'));
INVITE  sip:user@example.com  SIP/2.0
Max-Forwards: 8
To: sip:user@example.com
From: sip:caller@example.net;tag=8814
Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com
CSeq: 1893884 INVITE
Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw3923
Contact: <sip:caller@host1.example.net>
Content-Type: application/sdp
Content-Length: 150

M

c('trws', '3.1.2.10', 'reply 400', <<'M');
OPTIONS sip:remote-target@example.com SIP/2.0  
Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK299342093
To: <sip:remote-target@example.com>
From: <sip:local-resource@example.com>;tag=329429089
Call-ID: trws.oicu34958239neffasdhr2345r
Accept: application/sdp
CSeq: 238923 OPTIONS
Max-Forwards: 70
Content-Length: 0

M

c('escruri', '3.1.2.11', 'reply 400', <<'M' . sdp('192.0.2.1'));
INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=341518
Max-Forwards: 7
Contact: <sip:caller@host39923.example.net>
Call-ID: escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5
CSeq: 149209342 INVITE
Via: SIP/2.0/UDP host-of-the-hour.example.com;branch=z9hG4bKkdjuw
Content-Type: application/sdp
Content-Length: 150

M

c('baddate', '3.1.2.12', 'forward', 'max-forwards: 69',
  'note: a proxy does not parse Date', <<'M' . sdp('192.0.2.1'));
INVITE sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=2234923
Max-Forwards: 70
Call-ID: baddate.239423mnsadf3j23lj42--sedfnm234
CSeq: 1392934 INVITE
Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw
Date: Fri, 01 Jan 2010 16:00:00 EST
Contact: <sip:caller@host5.example.net>
Content-Type: application/sdp
Content-Length: 150

M

c('regbadct', '3.1.2.13', 'forward', 'max-forwards: 69',
  'note: a proxy does not parse Contact; the registrar rejects it', <<'M');
REGISTER sip:example.com SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=998332
Max-Forwards: 70
Call-ID: regbadct.k345asrl3fdbv@192.0.2.1
CSeq: 1 REGISTER
Via: SIP/2.0/UDP 135.180.130.133:5060;branch=z9hG4bKkdjuw
Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E
l: 0

M

c('badaspec', '3.1.2.14', 'reply 400', <<'M');
OPTIONS sip:user@example.org SIP/2.0
Via: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKkdju43234
Max-Forwards: 70
From: "Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423
To: "Watson, Thomas" < sip:t.watson@example.org >
Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3
Accept: application/sdp
CSeq: 3923239 OPTIONS
l: 0

M

c('baddn', '3.1.2.15', 'reply 400', <<'M');
OPTIONS sip:t.watson@example.org SIP/2.0
Via:     SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjuw
Max-Forwards:      70
From:    Bell, Alexander <sip:a.g.bell@example.com>;tag=43
To:      Watson, Thomas <sip:t.watson@example.org>
Call-ID: baddn.31415@c.example.com
Accept: application/sdp
CSeq:    3923239 OPTIONS
l: 0

M

c('badvers', '3.1.2.16', 'reply 505', <<'M');
OPTIONS sip:t.watson@example.org SIP/7.0
Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw
Max-Forwards:     70
From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe
To:      T. Watson <sip:t.watson@example.org>
Call-ID: badvers.31417@c.example.com
CSeq:    1 OPTIONS
l: 0

M

c('mismatch01', '3.1.2.17', 'reply 400', <<'M');
OPTIONS sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: mismatch01.dj0234sxdfl3
CSeq: 8 INVITE
Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw
l: 0

M

c('mismatch02', '3.1.2.18', 'reply 400',
  'note: RFC 4475 prefers 501 but accepts 400', <<'M');
NEWMETHOD sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: mismatch02.dj0234sxdfl3
CSeq: 8 INVITE
Contact: <sip:caller@host.example.net>
Via: SIP/2.0/UDP host.example.net;branch=z9hG4bKkdjuw
Content-Type: application/sdp
l: 138

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.1
c=IN IP4 192.0.2.1
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
M

c('bigcode', '3.1.2.19', 'drop', 'note: a response, never answered', <<'M');
SIP/2.0 4294967301 better not break the receiver
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i
CSeq: 353494 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host105.example.com>

M

# ---- 3.2.1 transaction layer ---------------------------------------
c('badbranch', '3.2.1', 'forward', 'max-forwards: 2',
  'note: branch is only the magic cookie; a proxy forwards', <<'M');
OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:caller@example.org;tag=33242
Max-Forwards: 3
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK
Accept: application/sdp
Call-ID: badbranch.sadonfo23i420jv0as0derf3j3n
CSeq: 8 OPTIONS
l: 0

M

# ---- 3.3 application layer -----------------------------------------
c('insuf', '3.3.1', 'reply 400', <<'M' . sdp('192.0.2.95'));
INVITE sip:user@example.com SIP/2.0
CSeq: 193942 INVITE
Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf
Content-Type: application/sdp
l: 152

M

c('unkscm', '3.3.2', 'reply 416', <<'M');
OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=384
Max-Forwards: 3
Call-ID: unkscm.nasdfasser0q239nwsdfasdkl34
CSeq: 3923423 OPTIONS
Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bKkdjuw39234
Content-Length: 0

M

c('novelsc', '3.3.3', 'reply 416', <<'M');
OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=384
Max-Forwards: 3
Call-ID: novelsc.asdfasser0q239nwsdfasdkl34
CSeq: 3923423 OPTIONS
Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bKkdjuw39234
Content-Length: 0

M

c('unksm2', '3.3.4', 'forward', 'max-forwards: 69', <<'M');
REGISTER sip:example.com SIP/2.0
To: isbn:2983792873
From: <http://www.example.com>;tag=3234233
Call-ID: unksm2.daksdj@hyphenated-host.example.com
CSeq: 234902 REGISTER
Max-Forwards: 70
Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw
Contact: <name:John_Smith>
l: 0

M

c('bext01', '3.3.5', 'reply 420', <<'M');
OPTIONS sip:user@example.com SIP/2.0
To: sip:j_user@example.com
From: sip:caller@example.net;tag=242etr
Max-Forwards: 6
Call-ID: bext01.0ha0isndaksdj
Require: nothingSupportsThis, nothingSupportsThisEither
Proxy-Require: noProxiesSupportThis, norDoAnyProxiesSupportThis
CSeq: 8 OPTIONS
Via: SIP/2.0/TLS fold-and-staple.example.com;branch=z9hG4bKkdjuw
Content-Length: 0

M

c('invut', '3.3.6', 'forward', 'max-forwards: 69', <<'M');
INVITE sip:user@example.com SIP/2.0
Contact: <sip:caller@host5.example.net>
To: sip:j.user@example.com
From: sip:caller@example.net;tag=8392034
Max-Forwards: 70
Call-ID: invut.0ha0isndaksdjadsfij34n23d
CSeq: 235448 INVITE
Via: SIP/2.0/UDP somehost.example.com;branch=z9hG4bKkdjuw
Content-Type: application/unknownformat
Content-Length: 40

<audio>
 <pcmu port="443"/>
</audio>
M

c('regaut01', '3.3.7', 'forward', 'max-forwards: 69', <<'M');
REGISTER sip:example.com SIP/2.0
To: sip:j.user@example.com
From: sip:j.user@example.com;tag=87321hj23128
Max-Forwards: 8
Call-ID: regaut01.0ha0isndaksdj
CSeq: 9338 REGISTER
Via: SIP/2.0/TCP 192.0.2.253;branch=z9hG4bKkdjuw
Authorization: NoOneKnowsThisScheme opaque-data=here
Content-Length:0

M
$cases[-1][3] = 'max-forwards: 7';

c('multi01', '3.3.8', 'reply 400', <<'M' . sdp('192.0.2.15'));
INVITE sip:user@company.com SIP/2.0
Contact: <sip:caller@host25.example.net>
Via: SIP/2.0/UDP 192.0.2.25;branch=z9hG4bKkdjuw
Max-Forwards: 70
CSeq: 5 INVITE
Call-ID: multi01.98asdh@192.0.2.1
CSeq: 59 INVITE
Call-ID: multi01.98asdh@192.0.2.2
From: sip:caller@example.com;tag=3413415
To: sip:user@example.com
To: sip:other@example.net
From: sip:caller@example.net;tag=2923420123
Content-Type: application/sdp
l: 152
Contact: <sip:caller@host36.example.net>
Max-Forwards: 5

M

c('mcl01', '3.3.9', 'reply 400', <<'M');
OPTIONS sip:user@example.com SIP/2.0
Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bK293423
To: sip:user@example.com
From: sip:other@example.net;tag=3923942
Call-ID: mcl01.fhn2323orihawfdoa3o4r52o3irsdf
CSeq: 15932 OPTIONS
Content-Length: 13
Max-Forwards: 60
Content-Length: 5
Content-Type: text/plain

There's no way to know how many octets are supposed to be here.
M

c('bcast', '3.3.10', 'drop',
  'note: a response whose top Via is not ours; with ours on top it must not go to 255.255.255.255',
  <<'M');
SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923
Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1saber23
Call-ID: bcast.0293ax0skdjf
CSeq: 30 INVITE
From: sip:user@example.com;tag=11141343
To: sip:user@example.edu;tag=2229
Content-Length: 0
Contact: <sip:user@host28.example.com>

M

c('zeromf', '3.3.11', 'reply 483', <<'M');
OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=3ghsd41
Call-ID: zeromf.jfasdlfnm2o2l43r5u0asdfas
CSeq: 39234321 OPTIONS
Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw2349i
Max-Forwards: 0
Content-Length: 0

M

c('cparam01', '3.3.12', 'forward', 'max-forwards: 69', <<'M');
REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP saturn.example.com:5060;branch=z9hG4bKkdjuw
Max-Forwards: 70
From: sip:watson@example.com;tag=DkfVgjkrtMwaerKKpe
To: sip:watson@example.com
Call-ID: cparam01.70710@saturn.example.com
CSeq: 2 REGISTER
Contact: sip:+19725552222@gw1.example.net;unknownparam
l: 0

M

c('cparam02', '3.3.13', 'forward', 'max-forwards: 69', <<'M');
REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP saturn.example.com:5060;branch=z9hG4bKkdjuw
Max-Forwards: 70
From: sip:watson@example.com;tag=838293
To: sip:watson@example.com
Call-ID: cparam02.70710@saturn.example.com
CSeq: 3 REGISTER
Contact: <sip:+19725552222@gw1.example.net;unknownparam>
l: 0

M

c('regescrt', '3.3.14', 'forward', 'max-forwards: 69', <<'M');
REGISTER sip:example.com SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=8
Max-Forwards: 70
Call-ID: regescrt.k345asrl3fdbv@192.0.2.1
CSeq: 14398234 REGISTER
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw
M: <sip:user@example.com?Route=%3Csip:sip.example.com%3E>
L:0

M

c('sipinsip', '3.3.15', 'forward', 'max-forwards: 69', <<'M');
INVITE sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=2234923
Max-Forwards: 70
Call-ID: sipinsip.k345asrl3fdbv@192.0.2.1
CSeq: 1 INVITE
Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw
Contact: <sip:sip%3Auser%40example.com@company.com;other-param=summit>
l: 0

M

c('sdp01', '3.3.16', 'forward', 'max-forwards: 69', <<'M' . sdp('192.0.2.5'));
INVITE sip:user@example.com SIP/2.0
To: sip:j_user@example.com
Contact: <sip:caller@host15.example.net>
From: sip:caller@example.net;tag=234
Max-Forwards: 5
Call-ID: sdp01.ndaksdj9342dasdd
Accept: text/nobodyKnowsThis
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw
Content-Length: 150
Content-Type: application/sdp

M
$cases[-1][3] = 'max-forwards: 4';

# ---- 3.4.1 backward compatibility ----------------------------------
c('inv2543', '3.4.1', 'forward', 'max-forwards: 70',
  'note: no Max-Forwards: "Max-Forwards: 70" is added', <<'M' . sdp('192.0.2.1'));
INVITE sip:UserB@example.com SIP/2.0
Via: SIP/2.0/UDP iftgw.example.com
From: <sip:+13035551111@ift.client.example.net;user=phone>
Record-Route: <sip:UserB@example.com;maddr=ss1.example.com>
To: sip:+16505552222@ss1.example.net;user=phone
Call-ID: inv2543.1717@ift.client.example.com
CSeq: 56 INVITE
Content-Type: application/sdp

M

for my $c (@cases) {
    my ($name, $sec, $out, @rest) = @$c;
    my $msg = pop @rest;
    my $b = ref $msg ? $$msg : bytes($msg);
    open(my $f, '>:raw', "$dir/$name.msg") or die "$name: $!";
    print $f $b;
    close $f;
    open($f, '>', "$dir/$name.expect") or die "$name: $!";
    print $f "outcome: $out\nsection: $sec\n", map { "$_\n" } @rest;
    close $f;
}
printf "%d messages\n", scalar @cases;
