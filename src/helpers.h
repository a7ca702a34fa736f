/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C wrappers for the static inline functions and macros of <net/ip_vs.h>,
 * RCU and module parameters that the Rust adapter needs; Rust cannot call
 * those directly.
 */
#ifndef IP_VS_MH_RS_HELPERS_H
#define IP_VS_MH_RS_HELPERS_H

#include <linux/types.h>

struct ip_vs_dest;
struct ip_vs_service;
struct sk_buff;

void ip_vs_mh_rs_dest_hold(struct ip_vs_dest *dest);
void ip_vs_mh_rs_dest_put(struct ip_vs_dest *dest);
bool ip_vs_mh_rs_ports(const struct sk_buff *skb, int offset, __be16 *ports);
void *ip_vs_mh_rs_sched_data(const struct ip_vs_service *svc);
void *ip_vs_mh_rs_sched_data_locked(const struct ip_vs_service *svc);
void ip_vs_mh_rs_publish_sched_data(struct ip_vs_service *svc, void *data);
void ip_vs_mh_rs_param_lock(void);
void ip_vs_mh_rs_param_unlock(void);

#endif
