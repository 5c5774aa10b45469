// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Bytes sent and received by protocol, TCP connects and retransmits of tracked executions. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"

#define AF_UNIX		1
#define AF_INET		2
#define AF_INET6	10
#define IPPROTO_TCP	6
#define IPPROTO_UDP	17
#define IPPROTO_UDPLITE	136
#define MSG_PEEK	2
#define TCP_ESTABLISHED	1
#define TCP_SYN_SENT	2
#define TCP_CLOSE	7

/*
 * TCP sockets of tracked executions, for the events that run in softirq
 * context where current is not the owner (retransmits, connect completion).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WW_MAX_SOCKS);
	__type(key, __u64);
	__type(value, struct ww_sock);
} socks SEC(".maps");

static __always_inline int proto_of(const struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;
	__u16 protocol;

	if (family == AF_UNIX)
		return WW_NET_UNIX;
	if (family != AF_INET && family != AF_INET6)
		return WW_NET_OTHER;
	protocol = sk->sk_protocol;
	if (protocol == IPPROTO_TCP)
		return WW_NET_TCP;
	if (protocol == IPPROTO_UDP || protocol == IPPROTO_UDPLITE)
		return WW_NET_UDP;
	return WW_NET_OTHER;
}

static __always_inline void remember_sock(const struct sock *sk, __u64 exec_id, __u64 connect_ts)
{
	__u64 key = (__u64)sk;
	struct ww_sock val = { .exec_id = exec_id, .connect_ts = connect_ts };

	if (!connect_ts && bpf_map_lookup_elem(&socks, &key))
		return;
	if (bpf_map_update_elem(&socks, &key, &val, BPF_ANY))
		count_event(WW_CNT_SOCK_MAP_FULL);
}

static __always_inline int count_bytes(struct sock *sk, int len, int dir)
{
	struct ww_exec_stats *s;
	struct ww_task *t;
	int proto;

	if (len <= 0)
		return 0;
	s = current_exec_stats(&t);
	if (!s)
		return 0;
	proto = proto_of(sk);
	s->net_bytes[proto & (WW_NET_MAX - 1)][dir] += len;
	if (proto == WW_NET_TCP)
		remember_sock(sk, t->exec_id, 0);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(ww_send, struct sock *sk, int ret, int flags)
{
	return count_bytes(sk, ret, 0);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(ww_recv, struct sock *sk, int ret, int flags)
{
	if (flags & MSG_PEEK)
		return 0;	/* the bytes stay queued and are counted when read */
	return count_bytes(sk, ret, 1);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(ww_sock_state, const struct sock *sk, const int oldstate, const int newstate)
{
	struct ww_exec_stats *s;
	struct ww_sock *ws;
	struct ww_task *t;
	__u64 key = (__u64)sk;
	__u64 lat;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	if (newstate == TCP_SYN_SENT) {
		s = current_exec_stats(&t);
		if (!s)
			return 0;
		s->connects++;
		remember_sock(sk, t->exec_id, bpf_ktime_get_ns());
		return 0;
	}
	ws = bpf_map_lookup_elem(&socks, &key);
	if (!ws)
		return 0;
	if (oldstate == TCP_SYN_SENT && ws->connect_ts) {
		s = bpf_map_lookup_elem(&exec_stats, &ws->exec_id);
		if (s && newstate == TCP_ESTABLISHED) {
			lat = bpf_ktime_get_ns() - ws->connect_ts;
			s->connect_ns += lat;
			if (lat > s->connect_max_ns)
				s->connect_max_ns = lat;
		} else if (s) {
			s->connects_failed++;
		}
		ws->connect_ts = 0;
	}
	if (newstate == TCP_CLOSE)
		bpf_map_delete_elem(&socks, &key);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(ww_retransmit, const struct sock *sk)
{
	struct ww_exec_stats *s;
	struct ww_sock *ws;
	__u64 key = (__u64)sk;

	ws = bpf_map_lookup_elem(&socks, &key);
	if (!ws)
		return 0;
	s = bpf_map_lookup_elem(&exec_stats, &ws->exec_id);
	if (s)
		s->tcp_retransmits++;
	return 0;
}
