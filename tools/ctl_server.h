/* SPDX-License-Identifier: MIT */
/**
 * DOC: ctl_server - the control socket of `actorvm run --ctl URL`
 *
 * An nng REP socket listening on a URL, served by one thread of its own:
 * each request (a protobuf CtlRequest, proto/control.proto) gets exactly one
 * CtlResponse. The thread holds one accessor per VM runtime and is the only
 * user of them; it reads the VMs' status through the runtime (never the
 * fields mf_wait() writes), posts pause/resume to the VCPUs' control lanes,
 * and toggles trace recording. A stop request only raises a flag that the
 * thread running mf_wait() polls with ctl_server_stop_requested().
 * See docs/ctl.md.
 */
#ifndef CTL_SERVER_H
#define CTL_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct mf_run;
struct ctl_server;

/* Requests larger than this are refused undecoded (CTL_ERR_TOO_LARGE). */
#define CTL_MAX_REQUEST 4096
/* Longest VM or actor name a filter may hold. */
#define CTL_MAX_NAME 128
/* Actors listed per VM by `stats` (the runtime's default table holds 64). */
#define CTL_MAX_ACTORS 256

/**
 * ctl_server_start() - listen on @url and serve @run's VMs, which must have
 * been started and must outlive the server. Returns 0 with *@out set, or a
 * negative errno with @err (of @len bytes) saying why.
 */
int ctl_server_start(struct ctl_server **out, const char *url,
		     struct mf_run *run, char *err, size_t len);

/** ctl_server_stop_requested() - whether a client asked the run to stop. */
bool ctl_server_stop_requested(const struct ctl_server *s);

/**
 * ctl_server_stop() - stop serving (a request in progress is finished),
 * free the accessors and close the socket. NULL is a no-op. Call before the
 * VMs are freed.
 */
void ctl_server_stop(struct ctl_server *s);

#endif /* CTL_SERVER_H */
