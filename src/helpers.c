// SPDX-License-Identifier: GPL-2.0
/*
 * Wrappers for static inline functions and macros only; all logic is in
 * Rust. Module metadata lives in the Rust module! block.
 */
#include <linux/rcupdate.h>
#include <linux/skbuff.h>
#include <net/ip_vs.h>

#include "helpers.h"

void ip_vs_mh_rs_dest_hold(struct ip_vs_dest *dest)
{
	ip_vs_dest_hold(dest);
}

void ip_vs_mh_rs_dest_put(struct ip_vs_dest *dest)
{
	ip_vs_dest_put(dest);
}

/* Copies the two 16-bit ports at @offset; false if the packet is too short. */
bool ip_vs_mh_rs_ports(const struct sk_buff *skb, int offset, __be16 *ports)
{
	__be16 buf[2];
	const __be16 *p = skb_header_pointer(skb, offset, sizeof(buf), buf);

	if (!p)
		return false;
	ports[0] = p[0];
	ports[1] = p[1];
	return true;
}

/* svc->sched_data holds the current table, published with RCU. */
void *ip_vs_mh_rs_sched_data(const struct ip_vs_service *svc)
{
	return rcu_dereference(*(void __rcu *const *)&svc->sched_data);
}

/* Writers run under the IPVS configuration mutex. */
void *ip_vs_mh_rs_sched_data_locked(const struct ip_vs_service *svc)
{
	return rcu_dereference_protected(*(void __rcu *const *)&svc->sched_data, 1);
}

void ip_vs_mh_rs_publish_sched_data(struct ip_vs_service *svc, void *data)
{
	rcu_assign_pointer(*(void __rcu **)&svc->sched_data, data);
}
