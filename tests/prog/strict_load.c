// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Loads brouter's three BPF objects with BPF_F_STRICT_ALIGNMENT, as the
 * verifier of a CPU without efficient unaligned access (MIPS, some ARM)
 * always checks them, and prints "NAME: ok" or the verifier's complaint.
 * Nothing is attached or pinned; exit 0 when all three load.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "brouter/abi.h"
#include "xdp_brouter.skel.h"
#include "tc_ingress.skel.h"
#include "tc_egress.skel.h"

/* ifindexes that exist nowhere: the programs are only verified */
#define FAKE_LAN 1000001
#define FAKE_WAN 1000002
/* a small flow cache, but on: fc_bits 0 would prune the fast path unverified */
#define FC_BITS	 4
#define FC_CPUS	 64

static char vlog[1 << 22];

/* Strict alignment, the verifier's log to vlog, and no pins. */
static void prepare(struct bpf_object *obj)
{
	struct bpf_program *prog;
	struct bpf_map *map;

	bpf_object__for_each_program (prog, obj) {
		bpf_program__set_flags(prog, bpf_program__flags(prog) |
						     BPF_F_STRICT_ALIGNMENT);
		bpf_program__set_log_buf(prog, vlog, sizeof(vlog));
		bpf_program__set_log_level(prog, 1);
	}
	bpf_object__for_each_map (map, obj)
		bpf_map__set_pin_path(map, NULL);
}

static void fake_ports(struct br_consts *c)
{
	c->ifindex[BR_PORT_LAN] = FAKE_LAN;
	c->ifindex[BR_PORT_WAN] = FAKE_WAN;
}

/* The end of the log, where the verifier says why it refused. */
static int report(const char *name, int err)
{
	size_t n = strlen(vlog);

	if (!err) {
		/* the verifier's summary: instructions, stack depth per frame */
		while (n && vlog[n - 1] == '\n')
			vlog[--n] = 0;
		printf("%s: ok\n", name);
		fprintf(stderr, "%s: %s\n", name,
			strrchr(vlog, '\n') ? strrchr(vlog, '\n') + 1 : vlog);
		return 0;
	}
	printf("%s: %s\n%s\n", name, strerror(-err),
	       vlog + (n > 4000 ? n - 4000 : 0));
	return 1;
}

int main(void)
{
	struct xdp_brouter *x = xdp_brouter__open();
	struct tc_ingress *ti = tc_ingress__open();
	struct tc_egress *te = tc_egress__open();
	int bad = 0;

	if (!x || !ti || !te) {
		fprintf(stderr, "open: %s\n", strerror(errno));
		return 2;
	}
	prepare(x->obj);
	fake_ports(&x->rodata->consts);
	x->rodata->consts.fc_bits = FC_BITS;
	bpf_map__set_max_entries(x->maps.flow_cache, FC_CPUS << FC_BITS);
	bad |= report("xdp_brouter", xdp_brouter__load(x));
	vlog[0] = 0;
	prepare(ti->obj);
	fake_ports(&ti->rodata->consts);
	bad |= report("tc_ingress", tc_ingress__load(ti));
	vlog[0] = 0;
	prepare(te->obj);
	fake_ports(&te->rodata->consts);
	bad |= report("tc_egress", tc_egress__load(te));
	tc_egress__destroy(te);
	tc_ingress__destroy(ti);
	xdp_brouter__destroy(x);
	return bad;
}
