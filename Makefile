# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# brouter: `make deps && make`, `make demo`, `make check`, `make bench`.

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
LDLIBS     := -lbpf -lelf -lz -lconfig -lmnl -lnftables -lcurl -ljansson -lresolv

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
LIB_SRCS    := $(wildcard $(addprefix loader/,$(addsuffix /*.c,common config fw tunnel provision)))
DAEMON_SRCS := $(wildcard loader/daemon/*.c)
CTL_SRCS    := $(wildcard loader/ctl/*.c)
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
LIB         := $(BUILD)/libbrouter.a
CTL_LIB     := $(BUILD)/libbrouterctl.a
UNIT_TESTS  := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
DEPFILES     = $(shell find $(BUILD) -name '*.d' 2>/dev/null)

DEPS := clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool make gcc \
        iproute2 iputils-ping ethtool nftables radvd curl iperf3 tcpdump clang-format \
        python3 python3-scapy python3-pytest libcmocka-dev libconfig-dev pkg-config \
        libmnl-dev libnftables-dev libcurl4-openssl-dev libjansson-dev \
        dnsmasq openssl python3-cryptography

all: $(BUILD)/brouterd $(BUILD)/brouterctl

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

# One cmocka program per tests/unit/test_*.c, linked against the libraries.
$(BUILD)/unit/%: $(BUILD)/tests/unit/%.o $(CTL_LIB) $(LIB)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) -lcmocka

# Programs the namespace tests drive (tests/ns/*.c), linked like the unit tests.
NS_TOOLS := $(patsubst tests/ns/%.c,$(BUILD)/ns/%,$(wildcard tests/ns/*.c))
$(BUILD)/ns/%: $(BUILD)/tests/ns/%.o $(LIB)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

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

# `make bench` (< 10 min), `make bench QUICK=1` (< 1 min: checks the rig works)
bench: all $(BENCH_OBJS)
	$(PYTHON) tests/bench/bench.py $(if $(filter 1 yes true,$(QUICK)),--quick)

.PHONY: bench

deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEPS)

demo: all
	$(PYTHON) tests/ns/demo.py

check: all unit $(BENCH_OBJS) $(NS_TOOLS)
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

.PHONY: all deps demo check unit clean format-check

-include $(DEPFILES)
