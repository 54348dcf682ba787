// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * How the tc programs are attached (loader/daemon/attach.c), against a
 * kernel this machine cannot be: one without tcx links (Linux before
 * 6.6), which refuses their attach type with EINVAL. The libbpf calls
 * attach.c makes are defined here, and the test's definitions are the
 * ones the linker gives it; each records what was asked. The tcx path
 * on the real kernel is tested in tests/ns/test_integration.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon/attach.h"

/* What the kernel under test answers, and what it was asked. */
static struct {
	int tcx_errno;	/* a tcx bpf_link_create() fails with it; 0: works */
	int filter_err; /* bpf_tc_attach() returns it */
	int links;	/* tcx links made */
	int updates;	/* tcx links given another program */
	int hooks;	/* clsact qdiscs made */
	int filters[2]; /* cls_bpf filters attached: ingress, egress */
	int removed[2]; /* cls_bpf filters removed */
	int qdisc_destroyed;
} k;

int bpf_link_create(int prog_fd, int target_fd, enum bpf_attach_type type,
		    const struct bpf_link_create_opts *opts)
{
	(void)prog_fd;
	(void)target_fd;
	(void)opts;
	assert_true(type == 46 || type == 47); /* BPF_TCX_INGRESS, _EGRESS */
	if (k.tcx_errno) {
		errno = k.tcx_errno;
		return -1;
	}
	k.links++;
	return eventfd(0, EFD_CLOEXEC); /* an fd attach.c may close */
}

int bpf_link_update(int link_fd, int new_prog_fd,
		    const struct bpf_link_update_opts *opts)
{
	(void)link_fd;
	(void)new_prog_fd;
	(void)opts;
	k.updates++;
	return 0;
}

int bpf_tc_hook_create(struct bpf_tc_hook *hook)
{
	(void)hook;
	k.hooks++;
	return k.hooks > 1 ? -EEXIST : 0;
}

int bpf_tc_hook_destroy(struct bpf_tc_hook *hook)
{
	/* libbpf removes the qdisc for both points; for one, its filters */
	if (hook->attach_point == (BPF_TC_INGRESS | BPF_TC_EGRESS))
		k.qdisc_destroyed++;
	return 0;
}

static int dir_of(const struct bpf_tc_hook *hook)
{
	return hook->attach_point == BPF_TC_EGRESS;
}

int bpf_tc_attach(const struct bpf_tc_hook *hook, struct bpf_tc_opts *opts)
{
	(void)opts;
	if (k.filter_err)
		return k.filter_err;
	k.filters[dir_of(hook)]++;
	return 0;
}

int bpf_tc_detach(const struct bpf_tc_hook *hook,
		  const struct bpf_tc_opts *opts)
{
	(void)opts;
	k.removed[dir_of(hook)]++;
	return -ENOENT; /* nothing of an earlier brouterd's there */
}

static struct br_port_attach port(enum br_tc_attach want)
{
	struct br_port_attach pa = { .ifname = "eth0",
				     .ifindex = 2,
				     .xdp_link = -1,
				     .tc_want = want,
				     .tc_link = { -1, -1 } };

	memset(&k, 0, sizeof(k));
	return pa;
}

/* auto on a kernel without tcx: clsact, for ingress and egress alike. */
static void test_auto_without_tcx_falls_back_to_clsact(void **state)
{
	struct br_port_attach pa = port(BR_TC_ATTACH_AUTO);

	(void)state;
	k.tcx_errno = EINVAL;
	assert_int_equal(attach_tc_ingress(&pa, 7), 0);
	assert_int_equal(pa.tc_how, BR_TC_ATTACH_CLSACT);
	assert_int_equal(k.hooks, 1);
	assert_int_equal(k.filters[0], 1);
	assert_true(pa.tc_created_hook);
	assert_int_equal(attach_tc_egress(&pa, 8, BR_EGRESS_FP4), 0);
	assert_int_equal(k.filters[1], 1);
	detach_tc_egress(&pa, BR_EGRESS_FP4);
	detach_tc_ingress(&pa);
	assert_int_equal(k.removed[0], 1);
	assert_int_equal(k.removed[1], 1);
	assert_int_equal(k.qdisc_destroyed, 1);
	/* decided once: attaching again (a port back) does not ask again */
	k.tcx_errno = 0;
	assert_int_equal(attach_tc_ingress(&pa, 9), 0);
	assert_int_equal(k.links, 0);
	assert_int_equal(k.filters[0], 2);
}

/* tcx asked for on a kernel without it: an error, and nothing made. */
static void test_tcx_required_without_tcx_fails_cleanly(void **state)
{
	struct br_port_attach pa = port(BR_TC_ATTACH_TCX);

	(void)state;
	k.tcx_errno = EINVAL;
	assert_int_equal(attach_tc_ingress(&pa, 7), -EINVAL);
	assert_int_equal(k.hooks, 0);
	assert_int_equal(k.filters[0], 0);
	assert_false(pa.tc_attached);
}

/* auto with tcx: links, updated in place, closed on detach; no qdisc. */
static void test_auto_with_tcx_uses_links(void **state)
{
	struct br_port_attach pa = port(BR_TC_ATTACH_AUTO);

	(void)state;
	assert_int_equal(attach_tc_ingress(&pa, 7), 0);
	assert_int_equal(pa.tc_how, BR_TC_ATTACH_TCX);
	assert_int_equal(attach_tc_egress(&pa, 8, BR_EGRESS_TUNNEL), 0);
	assert_int_equal(k.links, 2);
	assert_int_equal(k.hooks, 0);
	assert_int_equal(k.filters[0] + k.filters[1], 0);
	/* a filter left by an earlier clsact brouterd is looked for */
	assert_int_equal(k.removed[0], 1);
	assert_int_equal(attach_tc_ingress(&pa, 9), 0);
	assert_int_equal(k.updates, 1);
	assert_int_equal(k.links, 2);
	detach_tc_egress(&pa, BR_EGRESS_TUNNEL);
	detach_tc_ingress(&pa);
	assert_int_equal(pa.tc_link[0], -1);
	assert_int_equal(pa.tc_link[1], -1);
	assert_int_equal(k.qdisc_destroyed, 0);
}

/* A filter the kernel refuses: the clsact qdisc made for it goes too. */
static void test_refused_filter_takes_its_new_qdisc_away(void **state)
{
	struct br_port_attach pa = port(BR_TC_ATTACH_CLSACT);

	(void)state;
	k.filter_err = -EPERM;
	assert_int_equal(attach_tc_ingress(&pa, 7), -EPERM);
	assert_int_equal(k.hooks, 1);
	assert_int_equal(k.qdisc_destroyed, 1);
	assert_false(pa.tc_created_hook);
	assert_false(pa.tc_attached);
}

/* clsact configured: tcx is never tried. */
static void test_clsact_configured_never_tries_tcx(void **state)
{
	struct br_port_attach pa = port(BR_TC_ATTACH_CLSACT);

	(void)state;
	assert_int_equal(attach_tc_ingress(&pa, 7), 0);
	assert_int_equal(k.links, 0);
	assert_int_equal(k.filters[0], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auto_without_tcx_falls_back_to_clsact),
		cmocka_unit_test(test_tcx_required_without_tcx_fails_cleanly),
		cmocka_unit_test(test_auto_with_tcx_uses_links),
		cmocka_unit_test(test_clsact_configured_never_tries_tcx),
		cmocka_unit_test(test_refused_filter_takes_its_new_qdisc_away),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
