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

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -Wall -Werror -I$(ARCH_INC) -Iinclude
CFLAGS     ?= -O2 -g
CFLAGS     += -Wall -Wextra -Werror -std=gnu11 -Iinclude -I$(BUILD) -D_GNU_SOURCE
LDLIBS     := -lbpf -lelf -lz -lconfig -lmnl -lnftables

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
BPF_HDRS   := $(wildcard bpf/*.h) include/brouter.h

CONFIG_SRCS := loader/config.c loader/config_val.c loader/config_fw.c \
               loader/config_pin.c loader/policy.c loader/policy_map.c \
               loader/config_tunnel.c loader/mape_rule.c
DAEMON_SRCS := loader/brouterd.c loader/options.c loader/log.c loader/sys.c \
               loader/netdev.c loader/attach.c loader/ra.c loader/prefixes.c \
               loader/droplog.c loader/stats.c $(CONFIG_SRCS) \
               loader/tunnel.c loader/tunnel_run.c loader/rtnl.c loader/nft.c \
               loader/ct.c
CTL_SRCS    := loader/brouterctl.c loader/log.c loader/sys.c loader/stats.c loader/flows.c \
               loader/mape_rule.c loader/ctl_mape.c loader/ctl_tunnel.c
LOADER_HDRS := $(wildcard loader/*.h) include/brouter.h

DEPS := clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool make gcc \
        iproute2 iputils-ping ethtool nftables radvd curl iperf3 tcpdump clang-format \
        python3 python3-scapy python3-pytest libcmocka-dev libconfig-dev pkg-config \
        libmnl-dev libnftables-dev

all: $(BUILD)/brouterd $(BUILD)/brouterctl

$(BUILD):
	$(Q)mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

$(BUILD)/brouterd: $(DAEMON_SRCS) $(LOADER_HDRS) $(SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DAEMON_SRCS) -o $@ $(LDLIBS)

$(BUILD)/brouterctl: $(CTL_SRCS) $(LOADER_HDRS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(CTL_SRCS) -o $@ $(LDLIBS)

UNIT_TESTS := $(BUILD)/test_options $(BUILD)/test_mape $(BUILD)/test_config \
              $(BUILD)/test_policy \
              $(BUILD)/test_tunnel_cfg $(BUILD)/test_tunnel_nft

$(BUILD)/test_options: tests/unit/test_options.c loader/options.c loader/log.c $(LOADER_HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< loader/options.c loader/log.c -o $@ $(LDLIBS) -lcmocka

$(BUILD)/test_mape: tests/unit/test_mape.c loader/mape_rule.c loader/ctl_mape.c loader/log.c $(LOADER_HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< loader/mape_rule.c loader/ctl_mape.c loader/log.c -o $@ $(LDLIBS) -lcmocka

$(BUILD)/test_config: tests/unit/test_config.c $(CONFIG_SRCS) loader/options.c loader/log.c $(LOADER_HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(CONFIG_SRCS) loader/options.c loader/log.c -o $@ $(LDLIBS) -lcmocka

$(BUILD)/test_policy: tests/unit/test_policy.c loader/policy.c loader/policy_map.c loader/log.c $(LOADER_HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< loader/policy.c loader/policy_map.c loader/log.c -o $@ $(LDLIBS) -lcmocka

TUNNEL_CFG_SRCS := loader/config_tunnel.c loader/config_val.c loader/mape_rule.c \
                   loader/options.c loader/policy.c loader/log.c
$(BUILD)/test_tunnel_cfg: tests/unit/test_tunnel_cfg.c $(TUNNEL_CFG_SRCS) $(LOADER_HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(TUNNEL_CFG_SRCS) -o $@ $(LDLIBS) -lcmocka

$(BUILD)/test_tunnel_nft: tests/unit/test_tunnel_nft.c loader/nft.c loader/mape_rule.c loader/log.c $(LOADER_HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< loader/nft.c loader/mape_rule.c loader/log.c -o $@ $(LDLIBS) -lcmocka

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

$(BUILD)/bench/%.bpf.o: tests/bench/%.bpf.c tests/bench/bench.h tests/bench/flow.h | $(BUILD)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# `make bench` (< 10 min), `make bench QUICK=1` (< 1 min: checks the rig works)
bench: all $(BENCH_OBJS)
	$(PYTHON) tests/bench/bench.py $(if $(filter 1 yes true,$(QUICK)),--quick)

.PHONY: bench

deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEPS)

demo: all
	$(PYTHON) tests/demo.py

check: all unit $(BENCH_OBJS)
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
