// SPDX-License-Identifier: GPL-2.0
/*
 * Wrappers for static inline functions and macros only; all logic is in
 * Rust. Module metadata lives in the Rust module! block, but for the
 * parameter module! cannot declare (a writable one, parsed from text).
 */
#include <linux/build_bug.h>
#include <linux/lockdep.h>
#include <linux/moduleparam.h>
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

/*
 * service_tab_index: its value and operations are Rust's
 * (src/ipvs/writable_param.rs), which calls them under the module's
 * parameter mutex, as the kernel does. Parsing allocates: built into a
 * kernel, its value on the command line is read with the device
 * initcalls (as this module's init), not before the allocator is up as a
 * module_param_cb would be.
 */
struct ip_vs_mh_rs_writable_param;
extern struct ip_vs_mh_rs_writable_param ip_vs_mh_rs_service_tab_index;
extern const struct kernel_param_ops ip_vs_mh_rs_service_tab_index_ops;
device_param_cb(service_tab_index, &ip_vs_mh_rs_service_tab_index_ops,
		&ip_vs_mh_rs_service_tab_index, 0644);
__MODULE_PARM_TYPE(service_tab_index, "string");
MODULE_PARM_DESC(service_tab_index,
		 "Table sizes of services that use the scheduler mh, by service: entries SERVICE=INDEX separated by commas, SERVICE as tcp:ADDR:PORT, udp:..., sctp:... (IPv6 in brackets) or fwm:MARK, INDEX 8 to 17 as for tab_index (e.g. tcp:10.0.0.1:80=16,fwm:7=9); root may rewrite it, and a service's table takes its new size at its next destination change. Other services of mh get tab_index");

void ip_vs_mh_rs_param_lock(void)
{
	kernel_param_lock(THIS_MODULE);
}

void ip_vs_mh_rs_param_unlock(void)
{
	kernel_param_unlock(THIS_MODULE);
}
