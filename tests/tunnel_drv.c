// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test driver for loader/tunnel.c while brouterd does not call it yet:
 * next to a running brouterd (same pin directory), attach tc_brouter_out
 * on the WAN egress, read the config's "tunnel" group, tunnel_start(),
 * follow the WAN once a second, tunnel_stop() on SIGTERM/SIGINT.
 *
 *   tunnel_drv PIN_DIR WAN CONFIG
 *
 * Built by tests/test_tunnel.py only when BROUTER_TUNNEL_DRV=1.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "brouter.h"
#include "config_tunnel.h"
#include "log.h"
#include "tunnel.h"
#include "tc_egress.skel.h"

#define DRV_TC_HANDLE 0xb4
#define DRV_TC_PRIO 0xb4

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DRV_TC_HANDLE, .priority = DRV_TC_PRIO);
	struct tunnel t = { 0 };
	struct tunnel_cfg cfg;
	struct tc_egress *skel;
	struct signalfd_siginfo si;
	struct pollfd pfd;
	sigset_t mask;
	config_t conf;
	int ifindex, err, ret = 1;

	br_prog_name = "tunnel_drv";
	br_log_level = BR_LOG_DEBUG;
	if (argc != 4) {
		fprintf(stderr, "usage: tunnel_drv PIN_DIR WAN CONFIG\n");
		return 2;
	}
	ifindex = if_nametoindex(argv[2]);
	if (!ifindex) {
		pr_err("%s: %s", argv[2], strerror(errno));
		return 1;
	}
	config_init(&conf);
	if (config_read_file(&conf, argv[3]) != CONFIG_TRUE) {
		pr_err("%s:%d: %s", argv[3], config_error_line(&conf), config_error_text(&conf));
		return 1;
	}
	if (!config_lookup(&conf, "tunnel") ||
	    config_tunnel_parse(config_lookup(&conf, "tunnel"), &cfg, argv[3]))
		return 1;
	config_destroy(&conf);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	pfd.fd = signalfd(-1, &mask, 0);
	pfd.events = POLLIN;

	oo.pin_root_path = argv[1];
	skel = tc_egress__open_opts(&oo);
	if (!skel)
		return 1;
	skel->rodata->consts.ifindex[BR_PORT_WAN] = ifindex;
	err = tc_egress__load(skel);
	if (err) {
		pr_err("load tc_egress: %s", strerror(-err));
		goto out;
	}
	hook.ifindex = ifindex;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		pr_err("clsact: %s", strerror(-err));
		goto out;
	}
	opts.prog_fd = bpf_program__fd(skel->progs.tc_brouter_out);
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		pr_err("attach tc egress: %s", strerror(-err));
		goto out;
	}
	err = tunnel_start(&t, &cfg, argv[2], ifindex, bpf_map__fd(skel->maps.tun_out),
			   bpf_map__fd(skel->maps.tun_in));
	if (!err) {
		pr_info("tunnel ready");
		while (poll(&pfd, 1, 1000) >= 0) {
			if (pfd.revents & POLLIN) {
				if (read(pfd.fd, &si, sizeof(si)) > 0)
					break;
			}
			tunnel_tick(&t);
		}
		ret = 0;
	}
	tunnel_stop(&t);
	opts.prog_fd = opts.prog_id = opts.flags = 0;
	bpf_tc_detach(&hook, &opts);
out:
	tc_egress__destroy(skel);
	return ret;
}
