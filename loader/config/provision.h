/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tunnel.provision: what the HB46PP client sends and where it keeps its
 * state, for tunnel.mode = "auto". Owned strings, so a reload can compare
 * old and new with memcmp (the parser zeroes it first).
 */
#ifndef BR_CONFIG_PROVISION_H
#define BR_CONFIG_PROVISION_H

#include <limits.h>
#include <stdbool.h>

#include "provision/hb46pp.h"

#define PROV_FIELD_LEN	      (HB_FIELD_MAX + 1)
/* 3.3: no OUI of brouter's own; AC-DE-48 is the IEEE's for private use */
#define PROV_VENDORID_DEFAULT "acde48-brouter"
#define PROV_PRODUCT_DEFAULT  "brouter"

struct prov_cfg {
	char vendorid[7 + HB_VENDOR_CODE_MAX + 1];
	char product[PROV_FIELD_LEN];
	char version[PROV_FIELD_LEN]; /* BR_VERSION with "_" for "." */
	char user[PROV_FIELD_LEN];    /* "" when not set */
	char pass[PROV_FIELD_LEN];
	char server[HB_NAME_MAX + 1]; /* host user/pass belong to; "": any */
	char url[HB_URL_MAX];	      /* "": discovery by the TXT record */
	bool verify;	       /* with url: check the certificate (t=b) */
	char cafile[PATH_MAX]; /* "": the system's CAs */
	char state_dir[PATH_MAX];
	unsigned int methods; /* HB_BIT()s brouterd asks for */
	unsigned int timeout; /* seconds per request */
};

void prov_cfg_defaults(struct prov_cfg *p);

/* @p as the client library takes it (strings borrowed from @p). */
void prov_cfg_conf(const struct prov_cfg *p, struct hb_conf *out);

#endif /* BR_CONFIG_PROVISION_H */
