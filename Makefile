# sipstage - the only Makefile (non-recursive). Output goes to build/,
# or build-$(SAN)/ for a sanitizer build (make SAN=address).
#
#   make            build everything
#   make test       install what is missing, build, run the whole suite
#   make run        install what is missing, build, run mid in the
#                   foreground on etc/sipstage.cfg
#   make check      the unit tests under ASan+UBSan, and TSan
#   make bench      benchmarks (bench/run; installs Kamailio, gnuplot-nox,
#                   perf with scripts/deps bench); tables on stdout, CSV
#                   and bench.png in $(B)/bench/
#   make bench-wakeups  only the wake-up pass (context switches, syscalls)
#   make bench-db   only the database bench (bench/db: aliases over
#                   PostgreSQL, sipstage against Kamailio's alias_db)
#   make clean

# BUILD names another output folder (make BUILD=build-mine), so that two
# people can build and test one checkout side by side; the tests find it
# through SIPSTAGE_BUILD.
SAN ?=
ifeq ($(SAN),)
B := $(or $(BUILD),build)
SANFLAGS :=
else
B := $(or $(BUILD),build-$(SAN))
SANFLAGS := -fsanitize=$(SAN) -fno-omit-frame-pointer
endif

CC ?= cc
CFLAGS_STD := -std=c11 -D_GNU_SOURCE -O2 -g -pthread \
	-Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -fno-common -fPIC -MMD -MP
INCS := -Icommon -Icommon/sip -I$(B)/gen

# The build id ps and version show (common/build.h); BUILD_ID=... names it.
BUILD_ID ?= $(or $(shell git describe --always --dirty 2>/dev/null),unknown)
ALL_CFLAGS := $(CFLAGS_STD) $(INCS) $(SANFLAGS) $(CFLAGS)
LDLIBS_BASE := -pthread $(SANFLAGS)

COMMON_SRC := $(wildcard common/*.c common/sip/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/obj/%.o)
LIBCOMMON := $(B)/lib/libcommon.a

# dbd joins when its folder has a main (dbd/dbd.c).
DAEMONS := mid netd sipd dnsd $(if $(wildcard dbd/dbd.c),dbd)
BINS := $(DAEMONS:%=$(B)/bin/%)

mid_LIBS := -lnanomsg -lmicrohttpd -ljansson
netd_LIBS := -lnanomsg -ldl -rdynamic
sipd_LIBS := -lnanomsg -lurcu-memb -lurcu-cds
dnsd_LIBS := -lnanomsg -lcares
dbd_LIBS := -lnanomsg -ldl -rdynamic

PROTOS := udp tcp tls
PROTO_LIBS := $(PROTOS:%=$(B)/lib/proto_%.so)
# proto_tls.so is the stream transport of proto_tcp.so (proto_tcp.c,
# proto_tcp_out.c, linked as they are) under OpenSSL; only it links
# libssl. -Bsymbolic: each library binds its own copy of those symbols.
proto_tls_SHARED := netd/proto/proto_tcp.c netd/proto/proto_tcp_out.c
proto_tls_LDLIBS := -lssl -lcrypto
define proto_rules
proto_$(1)_OBJ := $$(patsubst %.c,$$(B)/obj/%.o,$$(wildcard netd/proto/proto_$(1).c netd/proto/proto_$(1)_*.c) $$(proto_$(1)_SHARED))
$$(B)/lib/proto_$(1).so: $$(proto_$(1)_OBJ)
	@mkdir -p $$(@D)
	$$(CC) -shared -Wl,-Bsymbolic -o $$@ $$(proto_$(1)_OBJ) $$(proto_$(1)_LDLIBS) $$(LDLIBS_BASE)
endef

# DB backends: build/lib/db_NAME.so from dbd/db/db_NAME.c and
# dbd/db/db_NAME_*.c, dlopened by dbd for its URL's scheme; each links
# only its own client library.
DBS := $(filter postgres mysql,$(patsubst dbd/db/db_%.c,%,$(wildcard dbd/db/db_*.c)))
DB_LIBS := $(DBS:%=$(B)/lib/db_%.so)
db_postgres_LDLIBS := -lpq
db_mysql_LDLIBS := -lmariadb
$(B)/obj/dbd/db/db_postgres.o $(B)/obj/dbd/db/db_postgres_%.o: \
	ALL_CFLAGS += $(or $(shell pkg-config --cflags libpq 2>/dev/null),\
	-I/usr/include/postgresql)
define db_rules
db_$(1)_OBJ := $$(patsubst %.c,$$(B)/obj/%.o,$$(wildcard dbd/db/db_$(1).c dbd/db/db_$(1)_*.c))
$$(B)/lib/db_$(1).so: $$(db_$(1)_OBJ) $$(LIBCOMMON)
	@mkdir -p $$(@D)
	$$(CC) -shared -o $$@ $$(db_$(1)_OBJ) $$(db_$(1)_LDLIBS) $$(LDLIBS_BASE)
endef

UNIT_SRC := $(wildcard t/unit/*.c)
UNIT_BIN := $(UNIT_SRC:t/unit/%.c=$(B)/t/unit/%.t)

.PHONY: all test unit run check bench bench-deps bench-wakeups bench-db clean deps check-style fuzz FORCE

TOOLS := $(B)/t/db_try $(B)/t/db_seq \
	$(if $(filter dbd,$(DAEMONS)),$(B)/t/dbd_loop)

all: $(BINS) $(PROTO_LIBS) $(DB_LIBS) $(UNIT_BIN) $(TOOLS)

# Test tools: programs the .t files run (t/tools/NAME.c).
$(B)/t/%: t/tools/%.c $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBCOMMON) -ldl $(LDLIBS_BASE)


define daemon_rules
$(1)_SRC := $$(wildcard $(1)/*.c)
$(1)_OBJ := $$($(1)_SRC:%.c=$$(B)/obj/%.o)
$$(B)/bin/$(1): $$($(1)_OBJ) $$(LIBCOMMON)
	@mkdir -p $$(@D)
	$$(CC) -o $$@ $$($(1)_OBJ) $$(LIBCOMMON) $$($(1)_LIBS) $$(LDLIBS_BASE)
endef
$(foreach d,$(DAEMONS),$(eval $(call daemon_rules,$(d))))

# dbd_loop runs dbd's engine (its objects but dbd.o, which holds main)
# on rings of its own: t/710-dbd-loop.t.
ifneq ($(filter dbd,$(DAEMONS)),)
$(B)/t/dbd_loop: t/tools/dbd_loop.c $(filter-out $(B)/obj/dbd/dbd.o,$(dbd_OBJ)) $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Idbd -o $@ $< $(filter-out $(B)/obj/dbd/dbd.o,$(dbd_OBJ)) \
		$(LIBCOMMON) $(dbd_LIBS) $(LDLIBS_BASE)
endif

# Transport libraries: build/lib/proto_NAME.so from netd/proto/proto_NAME*.c,
# dlopened by netd (which exports its symbols to them: -rdynamic).
$(foreach p,$(PROTOS),$(eval $(call proto_rules,$(p))))
$(foreach d,$(DBS),$(eval $(call db_rules,$(d))))
$(db_mysql_OBJ): ALL_CFLAGS += $(shell pkg-config --cflags libmariadb)

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Rewritten only when the id changes: an unchanged tree does not relink.
$(B)/gen/build_id.h: FORCE
	@mkdir -p $(@D)
	@echo '#define SIPSTAGE_BUILD_ID "$(BUILD_ID)"' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(B)/obj/common/build.o: $(B)/gen/build_id.h
FORCE:

$(LIBCOMMON): $(COMMON_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $(COMMON_OBJ)

# A unit test links libcommon and, when t/unit/NAME.c is about a daemon
# module (NAME = sipd_route, dnsd_cache, mid_jsonrpc ...), that daemon's
# objects except the one holding its main(), and its libraries.
unit_daemon = $(filter $(DAEMONS),$(firstword $(subst _, ,$(1))))
unit_objs = $(if $(call unit_daemon,$(1)),$(filter-out \
	$(B)/obj/$(call unit_daemon,$(1))/$(call unit_daemon,$(1)).o,\
	$($(call unit_daemon,$(1))_OBJ)))

.SECONDEXPANSION:
$(B)/t/unit/%.t: t/unit/%.c $(LIBCOMMON) $$(call unit_objs,$$*)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -It -Isipd -Idnsd -Inetd -Idbd -Imid -o $@ $< \
		$(call unit_objs,$*) $(LIBCOMMON) -lnanomsg -lcares -lurcu-memb \
		-lurcu-cds -ldl $($(call unit_daemon,$*)_LIBS) $(LDLIBS_BASE)

deps:
	@scripts/deps

unit: all
	prove -e '' $(UNIT_BIN)

test: deps
	$(MAKE) all
	prove -e '' $(UNIT_BIN)
	prove -j2 t/*.t

run: deps
	$(MAKE) all
	$(B)/bin/mid -f etc/sipstage.cfg

# The tree built by clang (its warnings, -Werror, differ from gcc's),
# then the unit tests and the whole integration suite under ASan+UBSan,
# then under TSan. The harness fails a test on any sanitizer line in a log.
# t/tsan.supp: races TSan reports inside liburcu, which is not
# instrumented (sipd/sipd_rcu.h says what sipd tells TSan itself).
SAN_ENV := UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	TSAN_OPTIONS=halt_on_error=0:second_deadlock_stack=1:suppressions=$(CURDIR)/t/tsan.supp

check: deps
	@scripts/deps clang
	$(MAKE) CC=clang BUILD=build-clang all
	$(MAKE) SAN=address,undefined all
	$(SAN_ENV) prove -e '' build-address,undefined/t/unit/*.t
	$(SAN_ENV) SIPSTAGE_BUILD=build-address,undefined prove -j2 t/*.t
	$(MAKE) SAN=thread all
	$(SAN_ENV) prove -e '' build-thread/t/unit/*.t
	$(SAN_ENV) SIPSTAGE_BUILD=build-thread prove -j2 t/*.t

bench-deps:
	scripts/deps bench

bench: all bench-deps
	SIPSTAGE_BUILD=$(B) bench/run

bench-wakeups: all bench-deps
	SIPSTAGE_BUILD=$(B) bench/load wakeups

bench-db: all bench-deps
	SIPSTAGE_BUILD=$(B) bench/db

# libFuzzer targets (clang). FUZZ_TIME bounds each run, in seconds;
# FUZZ_TARGETS="fuzz_cfg fuzz_mi" runs only those. Each target's header
# comment names its sources (" * FUZZ_SRC: "), its seeds
# (" * FUZZ_CORPUS: ") and the libraries it links (" * FUZZ_LIBS: ").
# -Wno-comment: a FUZZ_SRC glob such as common/sip/*.c opens a comment
# inside the header comment.
FUZZ_TIME ?= 60
FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -Wno-comment -D_GNU_SOURCE -Icommon \
	-Icommon/sip -Imid -Inetd -Isipd -Idnsd -Idbd -Ibuild/gen
FUZZ_TARGETS ?= $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))

fuzz:
	@scripts/deps clang
	@mkdir -p build/fuzz
	@set -e; for f in $(FUZZ_TARGETS); do \
		$(FUZZ_CC) $(FUZZ_FLAGS) -o build/fuzz/$$f fuzz/$$f.c \
			$$(sed -n 's/^ \* FUZZ_SRC: //p' fuzz/$$f.c) \
			$$(sed -n 's/^ \* FUZZ_LIBS: //p' fuzz/$$f.c); \
		rm -rf build/fuzz/corpus-$$f; mkdir -p build/fuzz/corpus-$$f; \
		seeds=$$(sed -n 's/^ \* FUZZ_CORPUS: //p' fuzz/$$f.c); \
		for m in $${seeds:-t/data/sip/*.msg t/data/rfc4475/*.msg}; do \
			d=$${m%/*}; cp $$m build/fuzz/corpus-$$f/$${d##*/}_$${m##*/}; \
		done; \
		echo "== $$f for $(FUZZ_TIME) s"; \
		build/fuzz/$$f -max_total_time=$(FUZZ_TIME) -timeout=5 \
			-artifact_prefix=build/fuzz/ build/fuzz/corpus-$$f; \
	done

# make install [PREFIX=/usr/local] [DESTDIR=] [SYSCONFDIR=/etc]
#
# mid execs netd, sipd, dnsd and dbd from the directory its own binary is in
# (/proc/self/exe, mid_spawn.c), so the daemons stay together in a
# private directory, PREFIX/lib/sipstage/bin (Postfix keeps its daemons in
# libexec the same way: they are not commands), with the transports
# beside it in PREFIX/lib/sipstage/lib, the layout of build/: the default
# [modules] path "build/lib" (BIN/../lib) finds them too. Operators get
# PREFIX/sbin/sipstage-mid (a relative symlink to mid) and
# PREFIX/sbin/sipctl; the schema files "sipctl db init" runs go to
# PREFIX/share/sipstage/db. The config goes to DESTDIR/SYSCONFDIR/sipstage
# and is never overwritten; run_dir, fifo_name and [modules] path are set
# for the installed layout, and the systemd unit and sipctl are
# rewritten for PREFIX and SYSCONFDIR.
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
INST_LIB := $(PREFIX)/lib/sipstage
INST_CFG := $(SYSCONFDIR)/sipstage/sipstage.cfg
INSTALL ?= install
MAN8 := man/mid.8 man/sipctl.8
MAN5 := man/sipstage.cfg.5

.PHONY: install
install: $(BINS) $(PROTO_LIBS) $(DB_LIBS)
	$(INSTALL) -d $(DESTDIR)$(INST_LIB)/bin $(DESTDIR)$(INST_LIB)/lib \
		$(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/sipstage/db \
		$(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(SYSCONFDIR)/sipstage
	$(INSTALL) -m 0755 $(BINS) $(DESTDIR)$(INST_LIB)/bin/
	$(INSTALL) -m 0644 $(PROTO_LIBS) $(DB_LIBS) $(DESTDIR)$(INST_LIB)/lib/
	ln -sfn ../lib/sipstage/bin/mid $(DESTDIR)$(PREFIX)/sbin/sipstage-mid
	sed -e 's|^SIPCTL_BIN=[^ ]*|SIPCTL_BIN=../lib/sipstage/bin|' \
		-e 's|^SIPCTL_CFG=[^ ]*|SIPCTL_CFG=$(INST_CFG)|' \
		-e 's|^SIPCTL_DB=[^ ]*|SIPCTL_DB=../share/sipstage/db|' \
		scripts/sipctl >$(DESTDIR)$(PREFIX)/sbin/sipctl.tmp
	chmod 0755 $(DESTDIR)$(PREFIX)/sbin/sipctl.tmp
	mv -f $(DESTDIR)$(PREFIX)/sbin/sipctl.tmp $(DESTDIR)$(PREFIX)/sbin/sipctl
	$(INSTALL) -m 0644 $(MAN8) $(DESTDIR)$(PREFIX)/share/man/man8/
	$(INSTALL) -m 0644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5/
	$(INSTALL) -m 0644 etc/db/postgres.sql etc/db/mysql.sql \
		$(DESTDIR)$(PREFIX)/share/sipstage/db/
	$(INSTALL) -m 0644 etc/sipctl.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/sipctl
	sed -e 's|/usr/local/|$(PREFIX)/|g' \
		-e 's|/etc/sipstage/|$(SYSCONFDIR)/sipstage/|g' \
		etc/sipstage.service >$(DESTDIR)$(SYSTEMDDIR)/sipstage.service
	chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/sipstage.service
	@if [ -e $(DESTDIR)$(INST_CFG) ]; then \
		echo "install: $(DESTDIR)$(INST_CFG) exists: left alone"; \
	else \
		sed -e 's|^run_dir = .*|run_dir = /run/sipstage|' \
		    -e 's|^fifo_name = .*|fifo_name = /run/sipstage/mi_fifo|' \
		    -e 's|^#path = build/lib.*|path = $(INST_LIB)/lib|' \
		    -e 's|build/bin/mid|$(PREFIX)/sbin/sipstage-mid|g' \
		    etc/sipstage.cfg >$(DESTDIR)$(INST_CFG) && \
		chmod 0644 $(DESTDIR)$(INST_CFG) && \
		echo "install: $(DESTDIR)$(INST_CFG)"; \
	fi

check-style:
	scripts/check-style

clean:
	rm -rf build build-*

-include $(COMMON_OBJ:.o=.d) $(foreach d,$(DAEMONS),$($(d)_OBJ:.o=.d)) \
	$(foreach p,$(PROTOS),$(proto_$(p)_OBJ:.o=.d)) \
	$(foreach d,$(DBS),$(db_$(d)_OBJ:.o=.d)) $(UNIT_BIN:.t=.d)
