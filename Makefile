# bounce - GNU Makefile
#
#   make                 build all programs into build/
#   make check           run every test (make check SAN=1: with ASan+UBSan;
#                        make check VALGRIND=1: every program under valgrind)
#   make demo            run the pipeline over the bundled sample
#   make bench           speed and memory figures (and Sisimai's, if there)
#   make fuzz            run the libFuzzer targets (FUZZTIME=seconds each)
#   make install PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DESTDIR ?=

CC      ?= cc
CFLAGS  ?= -O2 -g
SAN     ?= 0
VALGRIND ?= 0
FUZZTIME ?= 60

ifeq ($(SAN),1)
B       ?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined
else
B       ?= build
SANFLAGS =
endif

PROGS   = $(patsubst cmd/%.c,%,$(wildcard cmd/*.c))
LIBSRC  = $(wildcard lib/*.c)
LIBOBJ  = $(LIBSRC:lib/%.c=$(B)/lib/%.o)
MAN     = $(wildcard man/*.[1-8])

# Debian packages the build, the tests and the extras need.
PKG_BUILD = gcc make pkg-config libgmime-3.0-dev libtdb-dev tdb-tools \
            libcurl4-openssl-dev
PKG_TEST  = perl mandoc dovecot-imapd dovecot-pop3d openssl
PKG_BENCH = libsisimai-perl time
PKG_FUZZ  = clang libclang-rt-14-dev
PKG_VALGRIND = valgrind

# Lazily expanded: the packages may be installed by the deps step first.
PKGCFLAGS = $(shell pkg-config --cflags gmime-3.0 tdb libcurl)
PKGLIBS   = $(shell pkg-config --libs gmime-3.0 tdb libcurl)
ALLCFLAGS = -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -Ilib $(PKGCFLAGS) \
            $(SANFLAGS) $(CFLAGS)
ALLLDFLAGS = $(SANFLAGS) $(LDFLAGS)

# need PACKAGES: install what is missing (as root), or name it and stop.
define need
@missing=""; \
if command -v dpkg-query >/dev/null 2>&1; then \
  for p in $(1); do \
    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
      grep -q 'ok installed' || missing="$$missing $$p"; \
  done; \
fi; \
if [ -n "$$missing" ]; then \
  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
    echo "bounce: installing Debian packages:$$missing"; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-get install -y -q $$missing >/dev/null 2>&1 || \
      { apt-get update -q >/dev/null && apt-get install -y -q $$missing; } \
      || { echo "bounce: apt-get install$$missing failed" >&2; exit 1; }; \
  else \
    echo "bounce: missing Debian packages:$$missing" >&2; \
    echo "bounce: install them with: sudo apt-get install$$missing" >&2; \
    exit 1; \
  fi; \
fi
endef

all: $(PROGS:%=$(B)/%)

$(B)/.deps-build:
	$(call need,$(PKG_BUILD))
	@mkdir -p $(B)/lib $(B)/cmd $(B)/tests && touch $@

$(B)/.deps-test:
	$(call need,$(PKG_TEST))
	@mkdir -p $(B) && touch $@

$(B)/lib/%.o: lib/%.c $(wildcard lib/*.h) | $(B)/.deps-build
	$(CC) $(ALLCFLAGS) -c -o $@ $<

$(B)/cmd/%.o: cmd/%.c lib/bounce.h | $(B)/.deps-build
	$(CC) $(ALLCFLAGS) -c -o $@ $<

# The built-in rules of bclassify: lib/rules.bcr as one C string.
LIBOBJ += $(B)/lib/rules.o

$(B)/lib/rules.c: lib/rules.bcr | $(B)/.deps-build
	{ echo '/* Generated from lib/rules.bcr; do not edit. */'; \
	  echo 'const char bclass_builtin[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' \
	      -e 's/^/"/' -e 's/$$/\\n"/' lib/rules.bcr; \
	  echo ';'; } >$@.tmp && mv $@.tmp $@

$(B)/lib/rules.o: $(B)/lib/rules.c
	$(CC) $(ALLCFLAGS) -c -o $@ $<

$(B)/libbounce.a: $(LIBOBJ)
	rm -f $@
	ar rcs $@ $(LIBOBJ)

$(B)/%: $(B)/cmd/%.o $(B)/libbounce.a
	$(CC) $(ALLLDFLAGS) -o $@ $< $(B)/libbounce.a $(PKGLIBS)

# C unit tests for lib/
$(B)/tests/unit: tests/unit.c $(B)/libbounce.a | $(B)/.deps-build
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $< $(B)/libbounce.a $(PKGLIBS)

ifeq ($(VALGRIND),1)
# The tests run the programs through wrappers; every valgrind report
# lands in $(VG)/log, and any report fails the check.
VG = $(B)/valgrind
check: all $(B)/tests/unit $(B)/.deps-test
	$(call need,$(PKG_VALGRIND))
	@rm -rf $(VG) && mkdir -p $(VG)/tests $(VG)/log
	@vg=$$(command -v valgrind); for p in $(PROGS) tests/unit; do \
	  printf '#!/bin/sh\nexec '$$vg' -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --suppressions=%s --log-file=%s/%%p.log %s "$$@"\n' \
	    $(CURDIR)/tests/valgrind.supp $(CURDIR)/$(VG)/log \
	    $(CURDIR)/$(B)/$$p >$(VG)/$$p && chmod +x $(VG)/$$p; \
	done
	@BIN=$(CURDIR)/$(VG) SAN=0 VALGRIND=1 prove -f tests/*.t; rc=$$?; \
	for f in $(VG)/log/*.log; do \
	  [ -s "$$f" ] && { cat "$$f"; rc=1; }; \
	done; \
	[ $$rc = 0 ] && echo "valgrind: no reports"; exit $$rc
else
check: all $(B)/tests/unit $(B)/.deps-test
	BIN=$(CURDIR)/$(B) SAN=$(SAN) prove -f tests/*.t
endif

demo: all
	@sh tests/demo.sh $(CURDIR)/$(B)

bench: all
	$(call need,$(PKG_BENCH))
	@sh tests/bench.sh $(CURDIR)/$(B)

fuzz:
	$(call need,$(PKG_FUZZ) $(PKG_BUILD))
	@sh tests/fuzz.sh $(FUZZTIME)

install: all
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(PROGS:%=$(B)/%) $(DESTDIR)$(BINDIR)
	for m in $(MAN); do \
	  s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
	  install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s; \
	done

clean:
	rm -rf build build-san build-fuzz

.PHONY: all check demo bench fuzz install clean
.SECONDARY:
