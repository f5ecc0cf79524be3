# sealdrop — one hand-written Makefile.
#
#   make            build ./sealdrop (client), ./sealdropd (server) and libsealdrop
#   make test       install missing Debian packages, build, run unit + end-to-end tests
#   make check      the same suite built with ASan+UBSan
#   make fuzz       build every libFuzzer target and run each briefly (FUZZ_SECONDS)
#   make bench      throughput benchmarks against raw libsodium (docs/BENCHMARKS.md)
#   make soak       the long reliability runs: crash and power-loss consistency, slowloris,
#                   floods (tests/soak/*.sh; minutes to hours, never part of make test)
#   make fuzz-long  every libFuzzer target for FUZZ_LONG_SECONDS (default 600) each, on a
#                   corpus kept between runs (FUZZ_LONG_DIR); FUZZ_TARGETS="http" picks some
#   make tls-audit  testssl.sh, sslscan and openssl s_client against a running deployment
#   make deb-test   build, install, exercise and purge the Debian packages (root; not in make test)
#   make run        the demo deployment under ./var/demo
#   make install    PREFIX=/usr/local DESTDIR=
#   make po         regenerate the message templates (po/sealdrop.pot, po/sealdropd/sealdropd.pot)
#                   and merge them into the translations (po/*.po, po/sealdropd/*.po)
#
# Sources are found by directory: crypto/*.c is libsealdrop, client/*.c is sealdrop,
# tests/unit/test_*.c each a cmocka binary, tests/fuzz/fuzz_*.c each a libFuzzer target.

PREFIX    ?= /usr/local
DESTDIR   ?=
BUILD     ?= build
CC        ?= cc
PKG_CONFIG ?= pkg-config
FUZZ_SECONDS ?= 20
LOCALEDIR ?= $(PREFIX)/share/locale
# The systemd unit: /lib/systemd/system for PREFIX=/usr (where Debian 12 keeps packaged
# units), else $(PREFIX)/lib/systemd/system (systemd reads /usr/local/lib/systemd/system too).
SYSTEMDUNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
MSGFMT    ?= msgfmt
XGETTEXT  ?= xgettext
MSGMERGE  ?= msgmerge
MSGCMP    ?= msgcmp

PKGS      = libsodium jansson
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
# The server's modules (server/) add OpenSSL (TLS, X.509), LMDB (the store), libevent (the
# loop, bufferevent_openssl, thread-safe event_active), libseccomp (the running server's
# system-call allow-list, server/sandbox.c) and libhttp-parser (no .pc file).
# The client's https.c uses OpenSSL too.
SERVER_PKGS = openssl lmdb libevent libevent_openssl libevent_pthreads libseccomp
SRV_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(SERVER_PKGS) 2>/dev/null)
SRV_LIBS   := $(shell $(PKG_CONFIG) --libs $(SERVER_PKGS) 2>/dev/null) -lhttp_parser
CLI_LIBS   := $(shell $(PKG_CONFIG) --libs openssl 2>/dev/null)

WARN      = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wcast-qual -Wformat=2 -Wno-format-nonliteral -Werror
HARDEN    = -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
OPT       ?= -O2 -g
CFLAGS    ?= $(OPT)
# CPPFLAGS and CFLAGS come before WARN: dpkg-buildflags' trailing -Wformat must not lower
# the project's -Wformat=2.
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(CPPFLAGS) $(HARDEN) $(CFLAGS) $(WARN) -Iinclude -I$(BUILD)/gen $(PKG_CFLAGS) $(SRV_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS   ?=
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(LDFLAGS) $(EXTRA_LDFLAGS)
LIBS      = $(PKG_LIBS) -lpthread

LIB_SRC    = $(sort $(wildcard crypto/*.c))
# client/main.c is the sealdrop binary's entry; the rest is a library the tests and the
# load generator link too.
CLIENT_SRC = $(filter-out client/main.c,$(sort $(wildcard client/*.c)))
# server/main.c (sealdropd itself) stays out: the rest is a library the tests link.
SRV_SRC    = $(filter-out server/main.c,$(sort $(wildcard server/*.c)))
UNIT_SRC   = $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC   = $(sort $(wildcard tests/fuzz/fuzz_*.c))
BENCH_SRC  = $(sort $(wildcard tests/bench/bench_*.c))
TOOL_SRC   = $(sort $(wildcard tests/tools/*.c))
# LD_PRELOAD shims the fault and power-loss tests run the server under (tests/preload/).
PRELOAD_SRC = $(sort $(wildcard tests/preload/*.c))

LIB_OBJ    = $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/wordlist.o
CLIENT_OBJ = $(CLIENT_SRC:%.c=$(BUILD)/%.o)
CLIENT_LIB = $(BUILD)/libsealdrop-client.a
LIB        = $(BUILD)/libsealdrop.a
SRV_OBJ    = $(SRV_SRC:%.c=$(BUILD)/%.o)
SRV_LIB    = $(BUILD)/libsealdropd.a
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_BIN  = $(BENCH_SRC:tests/bench/%.c=$(BUILD)/tests/%)
TOOL_BIN   = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
PRELOAD_BIN = $(PRELOAD_SRC:tests/preload/%.c=$(BUILD)/preload/%.so)
# Message catalogues (gettext), one text domain per program: po/LANG.po (the client's,
# from client/*.c and crypto/*.c) becomes $(BUILD)/locale/LANG/LC_MESSAGES/sealdrop.mo,
# po/sealdropd/LANG.po (the server's commands, from server/*.c and crypto/*.c) sealdropd.mo.
LINGUAS    = ko
MO         = $(LINGUAS:%=$(BUILD)/locale/%/LC_MESSAGES/sealdrop.mo)
SRV_MO     = $(LINGUAS:%=$(BUILD)/locale/%/LC_MESSAGES/sealdropd.mo)

.PHONY: all test check soak fuzz fuzz-long fuzz-minimize fuzz-build tls-audit deb-test bench run install uninstall clean deps unit e2e format format-check lint-banned po pot po-check
.DELETE_ON_ERROR:

all: sealdrop sealdropd

deps:
	@scripts/deps.sh

sealdrop: $(BUILD)/sealdrop $(MO)
	ln -sf $(BUILD)/sealdrop $@

$(BUILD)/sealdrop: $(BUILD)/client/main.o $(CLIENT_LIB) $(LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(BUILD)/client/main.o $(CLIENT_LIB) $(LIB) $(LIBS) $(CLI_LIBS)

sealdropd: $(BUILD)/sealdropd $(SRV_MO)
	ln -sf $(BUILD)/sealdropd $@

$(BUILD)/sealdropd: $(BUILD)/server/main.o $(SRV_LIB) $(LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(BUILD)/server/main.o $(SRV_LIB) $(LIB) $(LIBS) $(SRV_LIBS)

# The test build of the server (tests only, never installed): server/server.c once more
# with -DSD_TEST_CLOCK, so SEALDROPD_TEST_TODAY / SEALDROPD_TEST_TODAY_FILE can set the
# date the case deadlines count from (tests/e2e/lib.sh, start_server_testclock). Every
# other object is the release one; the release sealdropd holds none of the clock's code.
SRV_TESTCLOCK_OBJ = $(BUILD)/server/server_testclock.o $(filter-out $(BUILD)/server/server.o,$(SRV_OBJ))

$(BUILD)/server/server_testclock.o: server/server.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DSD_TEST_CLOCK -MMD -MP -c -o $@ $<

$(BUILD)/sealdropd-testclock: $(BUILD)/server/main.o $(SRV_TESTCLOCK_OBJ) $(LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(BUILD)/server/main.o $(SRV_TESTCLOCK_OBJ) $(LIB) $(LIBS) $(SRV_LIBS)

$(CLIENT_LIB): $(CLIENT_OBJ)
	rm -f $@
	ar rcs $@ $(CLIENT_OBJ)

$(LIB): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(SRV_LIB): $(SRV_OBJ)
	rm -f $@
	ar rcs $@ $(SRV_OBJ)

$(BUILD)/gen/wordlist.c: crypto/data/eff_large_wordlist.txt scripts/gen-wordlist.sh
	@mkdir -p $(@D)
	scripts/gen-wordlist.sh $< $@

$(BUILD)/gen/wordlist.o: $(BUILD)/gen/wordlist.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# --- messages (gettext) ----------------------------------------------------------------

# Where each program looks for its catalogue (crypto/i18n.c): the installed directory, and
# the build tree's when the binary that runs is this build tree's. The two objects that
# name these paths (client/i18n.o, server/cmd_cli.o) are rebuilt when either changes (`make
# install PREFIX=/usr` after a plain `make`): the paths are recorded in a file rewritten,
# while the Makefile is read, only when they differ.
I18N_PATHS = $(LOCALEDIR) $(abspath $(BUILD))
ifneq ($(shell cat $(BUILD)/gen/i18n-paths 2>/dev/null),$(I18N_PATHS))
$(shell mkdir -p $(BUILD)/gen && echo '$(I18N_PATHS)' >$(BUILD)/gen/i18n-paths)
endif
$(BUILD)/client/i18n.o $(BUILD)/server/cmd_cli.o: ALL_CFLAGS += -DSD_LOCALEDIR='"$(LOCALEDIR)"' \
  -DSD_BUILD_DIR='"$(abspath $(BUILD))"'
$(BUILD)/client/i18n.o $(BUILD)/server/cmd_cli.o: $(BUILD)/gen/i18n-paths

# --check: a translation whose printf conversions differ from the original fails the build.
$(BUILD)/locale/%/LC_MESSAGES/sealdrop.mo: po/%.po
	@mkdir -p $(@D)
	$(MSGFMT) --check -o $@ $<

$(BUILD)/locale/%/LC_MESSAGES/sealdropd.mo: po/sealdropd/%.po
	@mkdir -p $(@D)
	$(MSGFMT) --check -o $@ $<

# After changing a message in client/*.c, server/*.c or crypto/*.c (the sd_error formats
# too): `make po`, translate what msgfmt --statistics reports as untranslated or fuzzy in
# po/ko.po and po/sealdropd/ko.po, and commit them with the templates. A new server
# catalogue starts from the client's translations of the library's messages.
XGETTEXT_C = $(XGETTEXT) --from-code=UTF-8 --language=C --keyword=_ --keyword=N_ --keyword=SD_N_ \
  --keyword=sd_error:2 --flag=sd_error:2:c-format --keyword=sdd_usage_error:2 \
  --flag=sdd_usage_error:2:c-format --keyword=sdd_warn:2 --flag=sdd_warn:2:c-format \
  --keyword=conn_error:3 --flag=conn_error:3:c-format --keyword=perr:3 --flag=perr:3:c-format \
  --keyword=problem:2 --flag=problem:2:c-format --keyword=check_error:2 --flag=check_error:2:c-format \
  --keyword=sd_scrub_damage:5 --flag=sd_scrub_damage:5:c-format --keyword=case_damage:4 \
  --flag=case_damage:4:c-format \
  --add-location=file --msgid-bugs-address= \
  --package-version=$$(sed -n 's/.*SD_VERSION_STRING "\(.*\)".*/\1/p' include/sealdrop/sealdrop.h)
POT_DIR ?= po
CLIENT_MSG_SRC = $(sort $(wildcard client/*.c crypto/*.c))
SERVER_MSG_SRC = $(sort $(wildcard server/*.c crypto/*.c))
pot:
	@mkdir -p $(POT_DIR)/sealdropd
	$(XGETTEXT_C) --package-name=sealdrop -o $(POT_DIR)/sealdrop.pot $(CLIENT_MSG_SRC)
	$(XGETTEXT_C) --package-name=sealdropd -o $(POT_DIR)/sealdropd/sealdropd.pot $(SERVER_MSG_SRC)

po: pot
	for l in $(LINGUAS); do $(MSGMERGE) --quiet --update --backup=none po/$$l.po po/sealdrop.pot || exit 1; \
	  $(MSGFMT) --check --statistics -o /dev/null po/$$l.po || exit 1; \
	  test -f po/sealdropd/$$l.po || $(MSGMERGE) --quiet --no-fuzzy-matching --compendium po/$$l.po -o po/sealdropd/$$l.po \
	    /dev/null po/sealdropd/sealdropd.pot || exit 1; \
	  $(MSGMERGE) --quiet --update --backup=none po/sealdropd/$$l.po po/sealdropd/sealdropd.pot || exit 1; \
	  $(MSGFMT) --check --statistics -o /dev/null po/sealdropd/$$l.po || exit 1; done

# Whether every catalogue translates every message the sources have now, all of them
# checked and none fuzzy (tests/e2e/i18n.sh runs it): the templates go to $(BUILD)/pot
# (or POT_DIR), the committed files are not touched.
po-check: POT_DIR = $(BUILD)/pot
po-check: pot
	for l in $(LINGUAS); do for p in po/$$l.po:sealdrop.pot po/sealdropd/$$l.po:sealdropd/sealdropd.pot; do \
	  $(MSGCMP) $${p%%:*} $(POT_DIR)/$${p#*:} 2>$(POT_DIR)/msgcmp.err || \
	    { sed 5q $(POT_DIR)/msgcmp.err; echo "$${p%%:*}: does not translate every message of the sources: make po, then translate"; exit 1; }; \
	  st=$$($(MSGFMT) --check --statistics -o /dev/null $${p%%:*} 2>&1) || { echo "$$st"; exit 1; }; \
	  echo "$${p%%:*}: $$st"; case $$st in *untranslated*|*fuzzy*) exit 1;; esac; done; done

$(BUILD)/tests/test_%: tests/unit/test_%.c $(SRV_LIB) $(CLIENT_LIB) $(LIB) tests/unit/unit.h tests/unit/unit_json.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(SRV_LIB) $(CLIENT_LIB) $(LIB) $(LIBS) $(SRV_LIBS) -lcmocka

# Each fuzz target once more, built like the tests (gcc, or ASan under make check) and
# without FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, so the real signature checks run: with
# tests/fuzz/replay.c for a driver, scripts/run-tests.sh replays its committed corpus.
REPLAY_BIN = $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/replay/%)
$(BUILD)/replay/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(SRV_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< tests/fuzz/replay.c $(SRV_LIB) $(LIB) $(LIBS) $(SRV_LIBS)

$(BUILD)/tests/bench_%: tests/bench/bench_%.c tests/bench/bench.h $(SRV_LIB) $(CLIENT_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(SRV_LIB) $(CLIENT_LIB) $(LIB) $(LIBS) $(SRV_LIBS)

# Tools the end-to-end tests use (tests/tools/*.c): e.g. editing a copy of a store.
$(BUILD)/tools/%: tests/tools/%.c $(SRV_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(SRV_LIB) $(LIB) $(LIBS) $(SRV_LIBS)

# A shim is one self-contained file (libc and libdl only): it must not pull the server's
# code into every process it is preloaded into.
$(BUILD)/preload/%.so: tests/preload/%.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(OPT) $(EXTRA_CFLAGS) -fPIC -shared -o $@ $< -ldl -lpthread

-include $(LIB_OBJ:.o=.d) $(CLIENT_OBJ:.o=.d) $(SRV_OBJ:.o=.d) $(BUILD)/client/main.d $(BUILD)/server/main.d \
  $(BUILD)/server/server_testclock.d

# --- tests -----------------------------------------------------------------

# `make test` is the README's command: it installs what is missing, then runs everything.
test: deps lint-banned
	$(MAKE) --no-print-directory all-tests
	@BUILD=$(BUILD) scripts/run-tests.sh

all-tests: sealdrop sealdropd $(BUILD)/sealdropd-testclock $(UNIT_BIN) $(TOOL_BIN) $(PRELOAD_BIN) $(REPLAY_BIN)

# The long runs, each a script under tests/soak/ counted like the e2e tests. SOAK picks
# some (make soak SOAK="crash powerloss"). `deps.sh --soak` adds slowhttptest.
SOAK ?= $(patsubst tests/soak/%.sh,%,$(sort $(wildcard tests/soak/*.sh)))
soak: deps
	@scripts/deps.sh --soak
	$(MAKE) --no-print-directory all-tests $(BUILD)/tests/bench_server
	@BUILD=$(BUILD) scripts/run-tests.sh $(SOAK:%=tests/soak/%.sh)

# Builds the .debs from a copy of the tree, installs them, checks them, purges them
# (scripts/deb-test.sh). Root; never part of make test: it installs system packages.
deb-test: deps
	@scripts/deps.sh --deb
	@scripts/deb-test.sh

# testssl.sh, sslscan and openssl s_client against a demo deployment it starts itself.
tls-audit: deps
	@scripts/deps.sh --soak
	$(MAKE) --no-print-directory sealdrop sealdropd
	@BUILD=$(BUILD) scripts/tls-audit.sh

.PHONY: all-tests

# Banned in crypto/, client/ and server/: raw memcmp on secrets and unbounded string copies.
lint-banned:
	@if grep -nE '\b(memcmp|strcpy|sprintf|strncpy)\(' crypto/*.c client/*.c server/*.c 2>/dev/null; then \
	  echo "banned function (memcmp/strcpy/sprintf/strncpy): see ../shared/STYLE.md" >&2; exit 1; fi

# One style, clang-format's, with the committed .clang-format.
C_SOURCES = $(wildcard crypto/*.c crypto/*.h client/*.c client/*.h server/*.c include/sealdrop/*.h \
	tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h tests/bench/*.c tests/bench/*.h tests/tools/*.c)
format-check:
	@clang-format --dry-run -Werror $(C_SOURCES)

check: deps lint-banned format-check
	$(MAKE) --no-print-directory BUILD=build-check \
	  OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" all-tests
	ln -sf build-check/sealdrop sealdrop; ln -sf build-check/sealdropd sealdropd
	@BUILD=build-check SEALDROP_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 scripts/run-tests.sh; r=$$?; \
	  ln -sf build/sealdrop sealdrop; ln -sf build/sealdropd sealdropd; exit $$r

# Fuzz targets: clang + libFuzzer; the parsers skip KDFs and signature checks in this mode.
FUZZ_BUILD = build-fuzz
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
  -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -Iinclude -I$(FUZZ_BUILD)/gen $(PKG_CFLAGS) $(SRV_CFLAGS)
FUZZ_LIB_OBJ = $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o) $(SRV_SRC:%.c=$(FUZZ_BUILD)/%.o) $(FUZZ_BUILD)/gen/wordlist.o
FUZZ_BIN = $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)

$(FUZZ_BUILD)/gen/wordlist.c: crypto/data/eff_large_wordlist.txt scripts/gen-wordlist.sh
	@mkdir -p $(@D)
	scripts/gen-wordlist.sh $< $@
$(FUZZ_BUILD)/gen/wordlist.o: $(FUZZ_BUILD)/gen/wordlist.c
	clang $(FUZZ_CFLAGS) -c -o $@ $<
$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<
.SECONDARY: $(FUZZ_LIB_OBJ)
-include $(FUZZ_LIB_OBJ:.o=.d)
$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_LIB_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(PKG_LIBS) $(SRV_LIBS) -lpthread

# Targets that install packages first build in a sub-make: pkg-config's flags are read
# when a Makefile is parsed, which on a fresh machine is before deps.sh installed them.
fuzz: deps
	$(MAKE) --no-print-directory fuzz-build
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_TARGETS="$(FUZZ_TARGETS)" scripts/run-fuzz.sh $(FUZZ_BIN)

fuzz-build: $(FUZZ_BIN)

# fuzz-long keeps each target's grown corpus in FUZZ_LONG_DIR/<name>/ and continues from
# it next time; FUZZ_TARGETS="envelope http" picks targets (fuzz, fuzz-long, fuzz-minimize).
# fuzz-minimize merges what grew back into tests/fuzz/corpus/ (-merge=1: only new coverage).
FUZZ_LONG_SECONDS ?= 600
FUZZ_LONG_DIR ?= $(FUZZ_BUILD)/long
FUZZ_TARGETS ?=
fuzz-long: deps
	$(MAKE) --no-print-directory fuzz-build
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_LONG_SECONDS) FUZZ_LONG_DIR=$(FUZZ_LONG_DIR) \
	  FUZZ_TARGETS="$(FUZZ_TARGETS)" scripts/run-fuzz.sh --long $(FUZZ_BIN)

fuzz-minimize: fuzz-build
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_LONG_DIR=$(FUZZ_LONG_DIR) FUZZ_TARGETS="$(FUZZ_TARGETS)" \
	  scripts/run-fuzz.sh --merge $(FUZZ_BIN)

bench:
	@scripts/deps.sh --bench
	$(MAKE) --no-print-directory sealdrop sealdropd $(BENCH_BIN)
	@BUILD=$(BUILD) scripts/bench.sh

run: deps
	$(MAKE) --no-print-directory sealdrop sealdropd
	@scripts/demo.sh

install: sealdrop sealdropd
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/doc/sealdrop
	install -m 0755 $(BUILD)/sealdrop $(DESTDIR)$(PREFIX)/bin/sealdrop
	install -m 0755 $(BUILD)/sealdropd $(DESTDIR)$(PREFIX)/sbin/sealdropd
	install -m 0644 docs/sealdrop.1 $(DESTDIR)$(PREFIX)/share/man/man1/sealdrop.1
	install -m 0644 docs/sealdropd.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/sealdropd.conf.5
	install -m 0644 docs/sealdropd.8 $(DESTDIR)$(PREFIX)/share/man/man8/sealdropd.8
	install -m 0644 docs/sealdrop-format.5 $(DESTDIR)$(PREFIX)/share/man/man5/sealdrop-format.5
	install -d $(DESTDIR)$(PREFIX)/share/man/ko/man1 $(DESTDIR)$(PREFIX)/share/man/ko/man5 \
	  $(DESTDIR)$(PREFIX)/share/man/ko/man8 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions
	install -m 0644 docs/ko/sealdrop.1 $(DESTDIR)$(PREFIX)/share/man/ko/man1/sealdrop.1
	install -m 0644 docs/ko/sealdropd.conf.5 docs/ko/sealdrop-format.5 $(DESTDIR)$(PREFIX)/share/man/ko/man5/
	install -m 0644 docs/ko/sealdropd.8 $(DESTDIR)$(PREFIX)/share/man/ko/man8/sealdropd.8
	install -m 0644 completions/sealdrop.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/sealdrop
	install -m 0644 completions/sealdropd.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/sealdropd
	install -m 0644 completions/_sealdrop completions/_sealdropd $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/
	install -m 0644 README.md docs/FORMAT.md docs/CLI.md docs/THREAT_MODEL.md docs/API.md docs/OPERATIONS.md \
	  docs/STORE.md server/sealdropd.conf.example $(DESTDIR)$(PREFIX)/share/doc/sealdrop/
	install -m 0644 crypto/data/README.md $(DESTDIR)$(PREFIX)/share/doc/sealdrop/WORDLIST.md
	install -d $(DESTDIR)$(PREFIX)/share/doc/sealdrop/guides/ko
	install -m 0644 docs/guides/*.md $(DESTDIR)$(PREFIX)/share/doc/sealdrop/guides/
	install -m 0644 docs/guides/ko/*.md $(DESTDIR)$(PREFIX)/share/doc/sealdrop/guides/ko/
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|/usr/sbin/sealdropd|$(PREFIX)/sbin/sealdropd|g' debian/sealdropd.service \
	  >$(DESTDIR)$(SYSTEMDUNITDIR)/sealdropd.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/sealdropd.service
	for l in $(LINGUAS); do \
	  install -d $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES && \
	  install -m 0644 $(BUILD)/locale/$$l/LC_MESSAGES/sealdrop.mo $(BUILD)/locale/$$l/LC_MESSAGES/sealdropd.mo \
	    $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES/ || exit 1; done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/sealdrop $(DESTDIR)$(PREFIX)/share/man/man1/sealdrop.1
	rm -f $(DESTDIR)$(PREFIX)/sbin/sealdropd $(DESTDIR)$(PREFIX)/share/man/man5/sealdropd.conf.5 \
	  $(DESTDIR)$(PREFIX)/share/man/man8/sealdropd.8
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/sealdrop
	rm -f $(DESTDIR)$(PREFIX)/share/man/man5/sealdrop-format.5 $(DESTDIR)$(PREFIX)/share/man/ko/man1/sealdrop.1 \
	  $(DESTDIR)$(PREFIX)/share/man/ko/man5/sealdropd.conf.5 $(DESTDIR)$(PREFIX)/share/man/ko/man5/sealdrop-format.5 \
	  $(DESTDIR)$(PREFIX)/share/man/ko/man8/sealdropd.8 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/sealdrop \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/sealdropd \
	  $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_sealdrop $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_sealdropd
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/sealdropd.service
	for l in $(LINGUAS); do rm -f $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES/sealdrop.mo \
	  $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES/sealdropd.mo; done

format:
	clang-format -i $(C_SOURCES)

clean:
	rm -rf build build-check build-fuzz sealdrop sealdropd
