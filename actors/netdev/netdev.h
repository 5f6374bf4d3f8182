/* SPDX-License-Identifier: MIT */
/**
 * DOC: network backends for NIC actors
 *
 * Each backend is an actor without regions. It sits on the far side of a
 * NIC's "net" port: frames the NIC transmits arrive as %AVM_MSG_FRAME
 * messages (payload = the frame without FCS), and frames from the outside
 * go to the NIC through the backend's port "nic" as %AVM_MSG_FRAME too.
 * Carrier changes go to the NIC as %NETDEV_MSG_LINK (value 0 down, 1 up),
 * which is the value of E1000_MSG_LINK.
 *
 * Backends:
 *
 * - "wire": an nng PAIR socket (inproc://, ipc://, tcp://), one nng message
 *   per frame holding the raw frame bytes.
 * - "tap": a Linux tap interface (/dev/net/tun, IFF_TAP | IFF_NO_PI).
 * - "pcap": a pass-through between a NIC and another backend that writes
 *   every frame to a pcap file (nanosecond timestamps, LINKTYPE_ETHERNET).
 * - "hub": N ports; a frame from port k goes out of every other port.
 *
 * Every backend answers a %NETDEV_MSG_STAT request (avm_request() or
 * avm_harness_request()) with the counter @user.arg (&enum netdev_stat).
 * See docs/network.md.
 */
#ifndef ACTORVM_NETDEV_H
#define ACTORVM_NETDEV_H

#include <stdbool.h>
#include <stdint.h>

#include <actorvm/actor.h>

/**
 * enum netdev_msg_kind - messages of the backends.
 * @NETDEV_MSG_LINK: to the NIC: carrier is now @user.value (0 down, 1 up).
 * Equal to E1000_MSG_LINK, so a backend needs no NIC header.
 * @NETDEV_MSG_STAT: a request to a backend: answer counter @user.arg.
 */
enum netdev_msg_kind {
	NETDEV_MSG_LINK = AVM_MSG_USER,
	NETDEV_MSG_STAT = AVM_MSG_USER + 0x4e00,
};

/**
 * enum netdev_stat - counters of a backend ("out" = from the NIC towards
 * the outside, "in" = from the outside towards the NIC).
 * @NETDEV_STAT_OUT_FRAMES: frames from the NIC sent on.
 * @NETDEV_STAT_OUT_BYTES: their bytes.
 * @NETDEV_STAT_OUT_DROPPED: frames from the NIC lost (peer absent or full,
 *   write error, empty frame).
 * @NETDEV_STAT_IN_FRAMES: frames delivered to the NIC.
 * @NETDEV_STAT_IN_BYTES: their bytes.
 * @NETDEV_STAT_IN_DROPPED: incoming frames dropped (empty, larger than
 *   %AVM_MSG_MAX_PAYLOAD, or the "nic" port unbound).
 * @NETDEV_STAT_LINK_CHANGES: carrier messages sent to the NIC.
 * @NETDEV_STAT_ERRORS: backend errors (nng/read/write/file errors other than
 *   "would block").
 * @NETDEV_STAT_COUNT: number of counters.
 */
enum netdev_stat {
	NETDEV_STAT_OUT_FRAMES = 0,
	NETDEV_STAT_OUT_BYTES,
	NETDEV_STAT_OUT_DROPPED,
	NETDEV_STAT_IN_FRAMES,
	NETDEV_STAT_IN_BYTES,
	NETDEV_STAT_IN_DROPPED,
	NETDEV_STAT_LINK_CHANGES,
	NETDEV_STAT_ERRORS,
	NETDEV_STAT_COUNT
};

/** NETDEV_BURST - default frames read per handler before continuing. */
#define NETDEV_BURST 32

/* --- wire ----------------------------------------------------------------- */

/** Ports of the wire, tap and pcap backends: "nic" first. */
enum netdev_port { NETDEV_PORT_NIC = 0, NETDEV_PORT_NET = 1 };

/** Watch ids of the wire backend. */
enum wire_watch { WIRE_WATCH_RECV = 0, WIRE_WATCH_LINK = 1 };

/** WIRE_RECV_MAX - nng's receive limit: larger messages break the pipe. */
#define WIRE_RECV_MAX 65536

/**
 * struct wire_config - the "wire" backend.
 * @url: nng address: inproc://name, ipc:///path or tcp://host:port.
 * @listen: listen on @url (true) or dial it (false, retried in the
 *   background until the listener appears).
 * @pair0: use the PAIR v0 protocol instead of v1 (both ends must agree).
 * @no_carrier: never send %NETDEV_MSG_LINK to the NIC.
 * @burst: messages received per handler (0: %NETDEV_BURST).
 * @sendbuf: messages nng may queue for sending (0: 64).
 * @recvbuf: messages nng may queue on receipt (0: 64).
 */
struct wire_config {
	const char *url;
	bool listen;
	bool pair0;
	bool no_carrier;
	unsigned burst;
	int sendbuf;
	int recvbuf;
};

/** wire_ops - the device type "wire". */
extern const struct avm_device_ops wire_ops;

/* --- tap ------------------------------------------------------------------ */

/** Watch id of the tap backend. */
#define TAP_WATCH 0

/**
 * struct tap_config - the "tap" backend.
 * @ifname: interface name ("" or NULL: the kernel picks tapN).
 * @burst: frames read per handler (0: %NETDEV_BURST).
 */
struct tap_config {
	const char *ifname;
	unsigned burst;
};

/** tap_ops - the device type "tap". */
extern const struct avm_device_ops tap_ops;

/* --- pcap ----------------------------------------------------------------- */

/**
 * enum pcap_side - the binding argument telling pcap where a frame comes
 * from: bind the NIC's "net" port to pcap with %PCAP_FROM_NIC and the
 * backend's "nic" port to pcap with %PCAP_FROM_NET.
 */
enum pcap_side { PCAP_FROM_NIC = 0, PCAP_FROM_NET = 1 };

/** PCAP_TIMER_FLUSH - timer id of the delayed flush. */
#define PCAP_TIMER_FLUSH 0

/** PCAP_MAGIC_NS - the magic of a pcap file with nanosecond timestamps. */
#define PCAP_MAGIC_NS 0xa1b23c4du

/**
 * struct pcap_config - the "pcap" pass-through.
 * @path: file to write (truncated).
 * @snaplen: bytes kept per frame (0: 65535).
 * @wallclock: timestamps are wall-clock time (avm_now() plus the offset at
 *   init) instead of avm_now() as is (virtual in the deterministic executor).
 * @flush_ns: delay of the flush after a write (0: 100 ms).
 */
struct pcap_config {
	const char *path;
	uint32_t snaplen;
	bool wallclock;
	uint64_t flush_ns;
};

/** pcap_ops - the device type "pcap". Ports "nic" and "net". */
extern const struct avm_device_ops pcap_ops;

/* --- hub ------------------------------------------------------------------ */

/** HUB_MAX_PORTS - ports "p0".."p7". */
#define HUB_MAX_PORTS 8

/**
 * struct hub_config - the "hub" backend.
 * @count: ports in use, 2..%HUB_MAX_PORTS (0: %HUB_MAX_PORTS).
 *
 * Wiring: avm_bind(rt, nic_k, "net", hub, k) and
 * avm_bind(rt, hub, "p<k>", nic_k, 0): a frame arriving with frame.input k goes
 * out of every other port below @count.
 */
struct hub_config {
	unsigned count;
};

/** hub_ops - the device type "hub". */
extern const struct avm_device_ops hub_ops;

#endif /* ACTORVM_NETDEV_H */
