# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# brouter: `make deps && make`, `make demo`, `make check`, `make bench`,
# `make install` / `make uninstall` (PREFIX, DESTDIR).

.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:

BUILD    ?= build
CLANG    ?= clang
CC       ?= gcc
BPFTOOL  ?= bpftool
PYTHON   ?= /usr/bin/python3
ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine)

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -Wall -Werror -I$(ARCH_INC) -Iinclude -Ibpf
CFLAGS     ?= -O2 -g
CFLAGS     += -Wall -Wextra -Werror -std=gnu11 -Iinclude -Iloader -I$(BUILD) -D_GNU_SOURCE
LDLIBS     := -lxdp -lbpf -lelf -lz -lconfig -lmnl -lnftables -lcurl -ljansson -lresolv

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_PROGS  := xdp_brouter tc_ingress tc_egress
BPF_OBJS   := $(BPF_PROGS:%=$(BUILD)/%.bpf.o)
SKELS      := $(BPF_PROGS:%=$(BUILD)/%.skel.h)

# User space, by folder (see README "Source tree"): the shared code is one
# static library that both programs and the unit tests link; a new .c file
# in a folder is built without editing a list.
LIB_SRCS    := $(wildcard $(addprefix loader/,$(addsuffix /*.c,common config fw tunnel fp4 provision metrics)))
DAEMON_SRCS := $(wildcard loader/daemon/*.c)
CTL_SRCS    := $(wildcard loader/ctl/*.c)
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
LIB         := $(BUILD)/libbrouter.a
CTL_LIB     := $(BUILD)/libbrouterctl.a
UNIT_TESTS  := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
DEPFILES     = $(shell find $(BUILD) -name '*.d' 2>/dev/null)

DEPS := clang llvm libbpf-dev libxdp-dev xdp-tools libelf-dev zlib1g-dev bpftool make gcc \
        iproute2 iputils-ping ethtool nftables radvd isc-dhcp-client curl iperf3 tcpdump \
        clang-format \
        python3 python3-scapy python3-pytest libcmocka-dev libconfig-dev pkg-config \
        libmnl-dev libnftables-dev scdoc systemd strace libcurl4-openssl-dev libjansson-dev \
        dnsmasq openssl python3-cryptography \
        conntrack prometheus

# Installation: `make install PREFIX=/usr DESTDIR=/tmp/pkg`. The config
# file stays in /etc/brouter whatever the prefix: brouterd looks there.
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/brouter
UNITDIR    ?= $(PREFIX)/lib/systemd/system
CONFDIR    := /etc/brouter
MANS       := $(BUILD)/man/brouterd.8 $(BUILD)/man/brouterctl.8 $(BUILD)/man/brouter.conf.5
UNITS      := $(BUILD)/systemd/brouterd.service $(BUILD)/systemd/brouterd@.service
VERSION    := $(shell sed -n 's/^\#define BR_VERSION "\(.*\)"/\1/p' include/brouter/abi.h)

all: $(BUILD)/brouterd $(BUILD)/brouterctl $(MANS) $(UNITS) $(BUILD)/brouter.conf

$(BUILD)/%.bpf.o: bpf/%.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

# brouterd's objects include the skeletons: build those first.
$(call obj,$(DAEMON_SRCS)): | $(SKELS)

$(BUILD)/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(call obj,$(LIB_SRCS))
$(CTL_LIB): $(filter-out %/ctl/main.o,$(call obj,$(CTL_SRCS)))
$(LIB) $(CTL_LIB):
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/brouterd: $(call obj,$(DAEMON_SRCS)) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/brouterctl: $(call obj,$(CTL_SRCS)) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# The paths baked into man pages and units: rewritten when PREFIX & co
# change, so `make install PREFIX=/usr` after `make` regenerates them.
$(BUILD)/paths: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)echo '$(SBINDIR) $(DOCDIR)' | cmp -s - $@ || echo '$(SBINDIR) $(DOCDIR)' > $@

# Man pages: one scdoc source each (man/), the version and paths filled in.
$(BUILD)/man/%: man/%.scd include/brouter/abi.h $(BUILD)/paths
	$(call msg,SCDOC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' $< | scdoc > $@

# Both units from one file: brouterd@LAN:WAN passes its instance name as the ports.
$(BUILD)/systemd/brouterd.service $(BUILD)/systemd/brouterd@.service: dist/brouterd.service.in $(BUILD)/paths
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' \
		-e 's|@PORTS@|$(if $(findstring @,$(@F)), %i)|' \
		-e 's|@WHAT@|$(if $(findstring @,$(@F)), on %i)|' $< > $@

# The config installed as /etc/brouter/brouter.conf: the example with every
# setting commented out, so nothing it shows for illustration (ports,
# pinholes, a tunnel) takes effect until the operator chooses it.
$(BUILD)/brouter.conf: loader/config/brouter.conf.example Makefile
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q){ printf '%s\n' \
		'# Installed by make install: every setting below is commented out, so' \
		'# brouterd runs on its built-in defaults until you uncomment and edit' \
		'# what you need (lan and wan first, unless brouterd@LAN:WAN names the' \
		'# ports). See brouter.conf(5); make uninstall keeps this file once changed.' \
		'#'; \
	  sed -e '/^[[:space:]]*#/b' -e '/^[[:space:]]*$$/b' -e 's/^/#/' $<; } > $@

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(CONFDIR)
	install -m 0755 $(BUILD)/brouterd $(BUILD)/brouterctl $(DESTDIR)$(SBINDIR)/
	install -m 0644 $(filter %.8,$(MANS)) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(filter %.5,$(MANS)) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(UNITS) $(DESTDIR)$(UNITDIR)/
	install -m 0644 loader/config/brouter.conf.example $(DESTDIR)$(DOCDIR)/
	@if [ -e $(DESTDIR)$(CONFDIR)/brouter.conf ]; then \
		echo "keeping $(DESTDIR)$(CONFDIR)/brouter.conf"; \
	else \
		echo "install -m 0644 $(BUILD)/brouter.conf $(DESTDIR)$(CONFDIR)/"; \
		install -m 0644 $(BUILD)/brouter.conf $(DESTDIR)$(CONFDIR)/; \
	fi

# Removes what install put there; the config only while it is unchanged.
uninstall: $(BUILD)/brouter.conf
	rm -f $(DESTDIR)$(SBINDIR)/brouterd $(DESTDIR)$(SBINDIR)/brouterctl \
		$(patsubst $(BUILD)/man/%,$(DESTDIR)$(MANDIR)/man8/%,$(filter %.8,$(MANS))) \
		$(patsubst $(BUILD)/man/%,$(DESTDIR)$(MANDIR)/man5/%,$(filter %.5,$(MANS))) \
		$(patsubst $(BUILD)/systemd/%,$(DESTDIR)$(UNITDIR)/%,$(UNITS)) \
		$(DESTDIR)$(DOCDIR)/brouter.conf.example
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null
	@if cmp -s $(BUILD)/brouter.conf $(DESTDIR)$(CONFDIR)/brouter.conf; then \
		echo "rm -f $(DESTDIR)$(CONFDIR)/brouter.conf"; \
		rm -f $(DESTDIR)$(CONFDIR)/brouter.conf; \
		rmdir $(DESTDIR)$(CONFDIR) 2>/dev/null || true; \
	elif [ -e $(DESTDIR)$(CONFDIR)/brouter.conf ]; then \
		echo "keeping $(DESTDIR)$(CONFDIR)/brouter.conf: it was changed"; \
	fi

# One cmocka program per tests/unit/test_*.c, linked against the libraries.
$(BUILD)/unit/%: $(BUILD)/tests/unit/%.o $(CTL_LIB) $(LIB)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) -lcmocka

# test_attach drives the daemon's attach.c against a kernel it stands in for.
$(BUILD)/unit/test_attach: $(BUILD)/tests/unit/test_attach.o \
		$(call obj,loader/daemon/attach.c) $(CTL_LIB) $(LIB)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) -lcmocka

# Programs the namespace tests drive (tests/ns/*.c), linked like the unit tests.
NS_TOOLS := $(patsubst tests/ns/%.c,$(BUILD)/ns/%,$(wildcard tests/ns/*.c))
$(BUILD)/ns/%: $(BUILD)/tests/ns/%.o $(LIB)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# tests/prog/test_alignment.py: the three objects verified with strict alignment
STRICT_LOAD := $(BUILD)/tests/strict_load
$(STRICT_LOAD): $(BUILD)/tests/prog/strict_load.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)
$(BUILD)/tests/prog/strict_load.o: | $(SKELS)

unit: $(UNIT_TESTS)
	$(Q)set -e; for t in $(UNIT_TESTS); do $$t; done

# Benchmark rig (tests/bench, see README "Performance"): its own XDP
# generator, sink and reference redirect; ip6tables and sysctl for the
# Linux bridge references.
BENCH_PROGS := gen sink redirect cost tun_cost
BENCH_OBJS  := $(BENCH_PROGS:%=$(BUILD)/bench/%.bpf.o)
DEPS        += iptables procps

$(BUILD)/bench:
	$(Q)mkdir -p $@

$(BUILD)/bench/%.bpf.o: tests/bench/%.bpf.c | $(BUILD)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

# `make bench` (< 10 min), `make bench QUICK=1` (< 1 min: checks the rig works);
# BASE=DIR also measures the brouterd of build directory DIR (before/after)
bench: all $(BENCH_OBJS)
	$(if $(BASE),BROUTER_BENCH_BASE=$(abspath $(BASE))) \
	$(PYTHON) tests/bench/bench.py $(if $(filter 1 yes true,$(QUICK)),--quick)

.PHONY: bench

deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEPS)

demo: all
	$(PYTHON) tests/ns/demo.py

check: all unit $(BENCH_OBJS) $(NS_TOOLS) $(STRICT_LOAD)
	$(PYTHON) -m pytest -v tests/

clean:
	rm -rf $(BUILD)

# clang-format (.clang-format: kernel style) on the C lines changed since
# FORMAT_BASE, as the kernel uses it: whole-file reformatting would rewrap
# hand-broken lines for no gain. `make format-check FORMAT_BASE=HEAD~3`.
FORMAT_BASE ?= HEAD
format-check:
	$(Q)out=$$(git clang-format --diff $(FORMAT_BASE) -- 'bpf/*.[ch]' 'loader/*.[ch]' \
		'include/*.h' 'tests/unit/*.c' 'tests/bench/*.[ch]'); \
	case "$$out" in ""|"no modified files to format"|"clang-format did not modify any files") ;; \
	*) printf '%s\n' "$$out"; exit 1 ;; esac

FORCE:

.PHONY: all deps demo check unit clean format-check install uninstall FORCE

-include $(DEPFILES)
