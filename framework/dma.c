/* SPDX-License-Identifier: MIT */
/*
 * Device DMA: guest RAM is read and written directly; a range that lands in
 * a device's MMIO becomes messages to its owner (possibly the caller itself),
 * so DMA can never re-enter a device.
 */
#include <errno.h>
#include <string.h>

#include <actorvm/trace.h>

#include "internal.h"
#include "iso.h"

static void note(struct avm_actor *a, bool write, uint64_t gpa, const void *buf,
		 size_t len, int status)
{
	if (a->rt->exec->on_dma)
		a->rt->exec->on_dma(a, write, gpa, buf, len, status);
}

/* The MMIO entry holding all of [gpa, gpa+len), within a read section. */
static const struct avm_map_entry *mmio_owner(avm_runtime *rt, uint64_t gpa,
					      size_t len)
{
	const struct avm_map_entry *e =
		avm_addrmap_lookup(&rt->maps, AVM_SPACE_MMIO, gpa);

	if (!e || len - 1 > e->last - gpa)
		return NULL;
	return e;
}

/*
 * Bus mastering. The flag carries no other data, so what makes it race-free
 * is that it is one atomic; release/acquire (free on x86) orders it after
 * whatever the writer did before, e.g. a PCI host's map updates. A guest
 * that needs its later accesses to see the change orders them itself, as on
 * real hardware: it reads the command register back, and that reply happens
 * after the store.
 */
int avm_dma_enable(avm_runtime *rt, avm_actor_id id, bool on)
{
	struct avm_actor *a = avm__actor(rt, id);

	if (!a)
		return -ENOENT;
	atomic_store_explicit(&a->dma_off, !on, memory_order_release);
	if (a->iso)
		avm__iso_dma_enable(a, on);
	return 0;
}

static bool dma_refused(const struct avm_actor *a)
{
	if (a->isoc)
		return avm__isoc_dma_off((struct avm_actor *)a);
	return atomic_load_explicit(&a->dma_off, memory_order_acquire);
}

static unsigned chunk_size(uint64_t off, size_t left)
{
	unsigned n = 8;

	/* Naturally aligned pieces, as a bus would split the burst. */
	while (n > 1 && (n > left || (off & (n - 1))))
		n >>= 1;
	return n;
}

static int post_writes(struct avm_actor *a, const struct avm_map_entry *e,
		       uint64_t gpa, const uint8_t *p, size_t len)
{
	uint64_t off = gpa - e->base;
	int err = 0;

	while (len && !err) {
		struct avm_msg m = { .kind = AVM_MSG_WRITE,
				     .access.region = e->region };
		unsigned n = chunk_size(off, len);

		memcpy(&m.access.value, p,
		       n); /* little-endian, as the guest sees it */
		m.access.offset = off;
		m.access.size = (uint8_t)n;
		m.src = a->id;
		m.corr = avm__corr(a);
		m.cause = a->cur_corr;
		err = avm__post(e->actor, &m, a);
		off += n;
		p += n;
		len -= n;
	}
	return err;
}

static int dma_write(struct avm_actor *a, uint64_t gpa, const void *buf,
		     size_t len)
{
	const struct avm_map_entry *e;
	void *host;
	int err;

	if (!len)
		return 0;
	if (dma_refused(a)) {
		note(a, true, gpa, buf, len, -EPERM);
		return -EPERM;
	}
	if (gpa + (len - 1) < gpa)
		return -EFAULT;
	host = avm_ram_ptr(a->rt, gpa, len);
	if (host) {
		memcpy(host, buf, len);
		note(a, true, gpa, buf, len, 0);
		return 0;
	}
	avm_read_lock();
	e = mmio_owner(a->rt, gpa, len);
	err = e ? post_writes(a, e, gpa, buf, len) : -EFAULT;
	avm_read_unlock();
	note(a, true, gpa, buf, len, err);
	return err;
}

static int post_read(struct avm_actor *a, uint64_t gpa, size_t len,
		     uint64_t *token)
{
	const struct avm_map_entry *e;
	struct avm_msg m = { .kind = AVM_MSG_READ,
			     .access.size = (uint8_t)len };
	int err;

	if (len != 1 && len != 2 && len != 4 && len != 8)
		return -EFAULT;
	m.fw.flags = AVM_MF_DMA_READ;
	m.src = a->id;
	m.corr = avm__corr(a);
	m.cause = a->cur_corr;
	avm_read_lock();
	e = mmio_owner(a->rt, gpa, len);
	if (e) {
		m.access.region = e->region;
		m.access.offset = gpa - e->base;
		err = avm__post(e->actor, &m, a);
	} else {
		err = -EFAULT;
	}
	avm_read_unlock();
	if (err)
		return err;
	if (token)
		*token = m.corr;
	return AVM_DMA_PENDING;
}

static int dma_read(struct avm_actor *a, uint64_t gpa, void *buf, size_t len,
		    uint64_t *token)
{
	void *host;
	int err;

	if (!len)
		return 0;
	if (dma_refused(a)) {
		note(a, false, gpa, NULL, len, -EPERM);
		return -EPERM;
	}
	if (gpa + (len - 1) < gpa)
		return -EFAULT;
	host = avm_ram_ptr(a->rt, gpa, len);
	if (host) {
		memcpy(buf, host, len);
		note(a, false, gpa, buf, len, 0);
		return 0;
	}
	err = post_read(a, gpa, len, token);
	note(a, false, gpa, NULL, len, err);
	return err;
}

/* --- The journal (actorvm/trace.h): DMA is input (reads) and output --- */

static int dma_read_journaled(struct avm_actor *a, uint64_t gpa, void *buf,
			      size_t len, uint64_t *token)
{
	struct avm_journal_entry e = { .type = AVM_J_DMA_READ,
				       .addr = gpa,
				       .size = (uint32_t)len };
	const struct avm_journal_entry *r;
	uint64_t tok = 0;

	if (avm__jmode(a) == AVM_JMODE_REPLAY) {
		r = avm__journal(a, &e);
		if (!r)
			return -EIO;
		if (!r->result && r->data_len == len)
			memcpy(buf, r->data, len);
		if (token && r->result == AVM_DMA_PENDING)
			*token = r->value;
		return r->result;
	}
	e.result = dma_read(a, gpa, buf, len, &tok);
	if (e.result == AVM_DMA_PENDING && token)
		*token = tok;
	e.value = e.result == AVM_DMA_PENDING ? tok : 0;
	e.data = e.result ? NULL : buf;
	e.data_len = e.result ? 0 : (uint32_t)len;
	avm__journal(a, &e);
	return e.result;
}

static int dma_write_journaled(struct avm_actor *a, uint64_t gpa,
			       const void *buf, size_t len)
{
	struct avm_journal_entry e = { .type = AVM_J_DMA_WRITE,
				       .addr = gpa,
				       .size = (uint32_t)len,
				       .data = buf,
				       .data_len = (uint32_t)len };
	const struct avm_journal_entry *r;

	if (avm__jmode(a) == AVM_JMODE_REPLAY) {
		r = avm__journal(a, &e);
		return r ? r->result : -EIO;
	}
	e.result = dma_write(a, gpa, buf, len);
	avm__journal(a, &e);
	return e.result;
}

int avm_dma_read(avm_ctx *ctx, uint64_t gpa, void *buf, size_t len,
		 uint64_t *token)
{
	struct avm_actor *a = ctx->self;

	/* A length the journal cannot hold is refused whether it runs or not,
	 * so that a run and its replay take the same path. */
	if (len > UINT32_MAX)
		return -EINVAL;
	return avm__jmode(a) ? dma_read_journaled(a, gpa, buf, len, token)
			     : dma_read(a, gpa, buf, len, token);
}

int avm_dma_write(avm_ctx *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct avm_actor *a = ctx->self;

	if (len > UINT32_MAX)
		return -EINVAL;
	return avm__jmode(a) ? dma_write_journaled(a, gpa, buf, len)
			     : dma_write(a, gpa, buf, len);
}
