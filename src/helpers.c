// SPDX-License-Identifier: GPL-2.0
/*
 * Wrappers for static inline functions and macros only; all logic is in
 * Rust. Module metadata lives in the Rust module! block.
 */
#include <linux/build_bug.h>
#include <linux/lockdep.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>
#include <net/ip_vs.h>

#include "helpers.h"

/*
 * The Rust adapter reads these fields directly (src/ipvs/). bindgen follows
 * a field that moves, but a field whose type or meaning changes must stop
 * the build here instead of being misread: the destination flags word did
 * change in 6.12.y and 7.2 (IP_VS_DEST_F_AVAILABLE moved to cflags).
 */
#define IP_VS_MH_RS_FIELD(type, field, want)                                  \
	static_assert(__same_type(((type *)0)->field, want),                \
		      "ip_vs_mh (Rust): " #type "." #field " is no longer " \
		      #want "; review its reader in src/ipvs/ before building")
IP_VS_MH_RS_FIELD(struct ip_vs_dest, flags, volatile unsigned int);
IP_VS_MH_RS_FIELD(struct ip_vs_dest, weight, atomic_t);
IP_VS_MH_RS_FIELD(struct ip_vs_dest, last_weight, atomic_t);
IP_VS_MH_RS_FIELD(struct ip_vs_dest, port, __be16);
IP_VS_MH_RS_FIELD(struct ip_vs_dest, addr, union nf_inet_addr);
IP_VS_MH_RS_FIELD(struct ip_vs_service, flags, unsigned int);
IP_VS_MH_RS_FIELD(struct ip_vs_service, num_dests, __u32);
IP_VS_MH_RS_FIELD(struct ip_vs_service, sched_data, void *);
IP_VS_MH_RS_FIELD(struct ip_vs_service, ipvs, struct netns_ipvs *);
IP_VS_MH_RS_FIELD(struct netns_ipvs, service_mutex, struct mutex);
IP_VS_MH_RS_FIELD(struct ip_vs_iphdr, hdr_flags, int);
IP_VS_MH_RS_FIELD(struct ip_vs_iphdr, protocol, __s16);
IP_VS_MH_RS_FIELD(struct ip_vs_iphdr, len, __u32);
#ifndef IP_VS_DEST_F_OVERLOAD
#error "ip_vs_mh (Rust): IP_VS_DEST_F_OVERLOAD is gone from <net/ip_vs.h>; review Dest::overloaded"
#endif

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

/* Writers hold the service's configuration mutex: lockdep checks it. */
void *ip_vs_mh_rs_sched_data_locked(const struct ip_vs_service *svc)
{
	return rcu_dereference_protected(*(void __rcu *const *)&svc->sched_data,
					 lockdep_is_held(&svc->ipvs->service_mutex));
}

void ip_vs_mh_rs_publish_sched_data(struct ip_vs_service *svc, void *data)
{
	rcu_assign_pointer(*(void __rcu **)&svc->sched_data, data);
}
