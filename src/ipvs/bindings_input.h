/* SPDX-License-Identifier: GPL-2.0 */
/* What bindgen reads: the IPVS API plus this module's C helpers. */
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <net/ip_vs.h>
#include "../helpers.h"
