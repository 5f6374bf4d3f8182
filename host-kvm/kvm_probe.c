/* SPDX-License-Identifier: MIT */
/*
 * What this host's KVM can do, found out by trying it on a scratch VM with
 * the in-kernel irqchip. On the PVM-based KVM of the development hosts, the
 * local APIC's periodic timer delivers its first interrupt and no more (the
 * VCPU then sleeps in kvm_vcpu_block for good).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_vm.h"

#define PROBE_MEM  0x10000u
#define PROBE_CODE 0x1000u
#define PROBE_GDT  0x2000u
#define PROBE_IDT  0x3000u
#define PROBE_PORT 0x11 /* yes; 0x12: no */
#define PROBE_RUNS 8	/* the guest exits at its 1st OUT; bound anyway */

struct probe {
	int kvm, vm, cpu;
	uint8_t *mem;
	struct kvm_run *run;
	size_t run_size;
};

/* Flat code (0x08) and data (0x10): interrupt delivery reads CS from it. */
static void write_gdt(uint8_t *mem)
{
	static const uint64_t gdt[3] = { 0, 0x00cf9b000000ffffull,
					 0x00cf93000000ffffull };

	memcpy(mem + PROBE_GDT, gdt, sizeof(gdt));
}

/*
 * The periodic timer of KVM's local APIC (in-kernel irqchip): 200 us
 * periods, vector 0x40, taken in a sti/nop/cli window; the handler counts
 * (EBX), EOIs and drops its frame without IRET (which PVM cannot emulate). Yes
 * after 3 interrupts; no after 20 reloads of the current count without them, or
 * after 10^5 polls (the bound if the timer does not count at all).
 */
static void write_timer_guest(uint8_t *mem)
{
	static const uint8_t code[] = {
		0xbc, 0x00, 0x80, 0x00, 0x00,		  /* mov esp, 0x8000 */
		0x0f, 0x01, 0x15, 0x00, 0x21, 0x00, 0x00, /* lgdt [0x2100] */
		0x0f, 0x01, 0x1d, 0x08, 0x21, 0x00, 0x00, /* lidt [0x2108] */
		0xb0, 0xff, 0xe6, 0x21, 0xe6, 0xa1,	  /* mask both 8259s */
		0xc7, 0x05, 0xf0, 0x00, 0xe0, 0xfe, 0xff, 0x01, 0,    0, /* SVR
									  */
		0xc7, 0x05, 0xe0, 0x03, 0xe0, 0xfe, 0x0b, 0,	0,    0, /* div
									    1 */
		0xc7, 0x05, 0x20, 0x03, 0xe0, 0xfe, 0x40, 0,	0x02, 0, /* LVT
									  */
		0xc7, 0x05, 0x80, 0x03, 0xe0, 0xfe, 0x40, 0x0d, 0x03, 0, 0x31,
		0xdb, 0x31, 0xf6, 0x31, 0xff, /* ebx, esi, edi = 0 */
		0xb9, 0xa0, 0x86, 0x01, 0x00, /* mov ecx, 100000 */
		0xfb, 0x90, 0xfa,	      /* loop: sti; nop; cli */
		0x83, 0xfb, 0x03, 0x73, 0x17, /* cmp ebx, 3; jae yes */
		0x49, 0x74, 0x11,	      /* dec ecx; jz no */
		0xa1, 0x90, 0x03, 0xe0, 0xfe, /* mov eax, [current count] */
		0x39, 0xf8, 0x76, 0x01, 0x46, /* reloaded: inc esi */
		0x89, 0xc7, 0x83, 0xfe, 0x14, 0x72, 0xe4, /* esi < 20: loop */
		0xe6, 0x12, 0xf4, /* no: out 0x12; hlt */
		0xe6, 0x11, 0xf4, /* yes: out 0x11; hlt */
	};
	static const uint8_t handler[] = {
		0x43,						/* inc ebx */
		0xc7, 0x05, 0xb0, 0x00, 0xe0, 0xfe, 0, 0, 0, 0, /* EOI */
		0x83, 0xc4, 0x0c, 0xeb, 0xbc, /* add esp, 12; jmp loop */
	};
	uint8_t *g = mem + PROBE_IDT + 0x40 * 8;

	write_gdt(mem);
	memcpy(mem + PROBE_CODE, code, sizeof(code));
	memcpy(mem + PROBE_CODE + 0x80, handler, sizeof(handler));
	mem[0x2100] = 23, mem[0x2102] = 0x00, mem[0x2103] = 0x20;
	mem[0x2108] = 0x07, mem[0x2109] = 0x02, mem[0x210b] = 0x30;
	g[0] = 0x80, g[1] = 0x10, g[2] = 0x08, g[5] = 0x8e;
}

static void flat(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct kvm_segment){ .limit = 0xffffffff,
				   .selector = sel,
				   .type = type,
				   .present = 1,
				   .db = 1,
				   .s = 1,
				   .g = 1 };
}

static int enter(struct probe *p)
{
	struct kvm_regs r = { .rip = PROBE_CODE, .rflags = 0x2 };
	struct kvm_sregs sr;

	if (ioctl(p->cpu, KVM_GET_SREGS, &sr))
		return -errno;
	flat(&sr.cs, 0x08, 0xb);
	flat(&sr.ds, 0x10, 0x3);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	sr.cr0 |= 1;
	return ioctl(p->cpu, KVM_SET_SREGS, &sr) ||
			       ioctl(p->cpu, KVM_SET_REGS, &r)
		       ? -errno
		       : 0;
}

static int set_up(struct probe *p)
{
	struct kvm_userspace_memory_region mr = { .memory_size = PROBE_MEM };
	long sz;

	if ((p->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0 ||
	    (p->vm = ioctl(p->kvm, KVM_CREATE_VM, 0)) < 0 ||
	    ioctl(p->vm, KVM_CREATE_IRQCHIP, 0))
		return -errno;
	p->mem = mmap(NULL, PROBE_MEM, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->mem == MAP_FAILED) {
		p->mem = NULL;
		return -errno;
	}
	write_timer_guest(p->mem);
	mr.userspace_addr = (uint64_t)(uintptr_t)p->mem;
	if (ioctl(p->vm, KVM_SET_USER_MEMORY_REGION, &mr) ||
	    (p->cpu = ioctl(p->vm, KVM_CREATE_VCPU, 0)) < 0 ||
	    (sz = ioctl(p->kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) <= 0)
		return -errno;
	p->run_size = (size_t)sz;
	p->run = mmap(NULL, p->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      p->cpu, 0);
	if (p->run == MAP_FAILED) {
		p->run = NULL;
		return -errno;
	}
	return enter(p);
}

static void tear_down(struct probe *p)
{
	if (p->run)
		munmap(p->run, p->run_size);
	if (p->mem)
		munmap(p->mem, PROBE_MEM);
	if (p->cpu >= 0)
		close(p->cpu);
	if (p->vm >= 0)
		close(p->vm);
	if (p->kvm >= 0)
		close(p->kvm);
}

/* 1: yes; 0: no (the timer guest said so: reason in @why); 2: another
 * exit (reason still to give); negative errno: no probe. */
static int run_guest(struct probe *p, char *why, size_t len)
{
	for (int i = 0; i < PROBE_RUNS; i++) {
		if (ioctl(p->cpu, KVM_RUN, 0))
			return errno == EINTR ? 0 : -errno;
		if (p->run->exit_reason == KVM_EXIT_IO)
			return p->run->io.port == PROBE_PORT ? 1 : 0;
		if (p->run->exit_reason != KVM_EXIT_INTR)
			break;
	}
	return 2;
}

static int run_probe(struct probe *p, char *why, size_t len)
{
	struct kvm_regs r = { 0 };
	int ret = run_guest(p, why, len);

	if (ret != 0 && ret != 2)
		return ret;
	if (ret == 0) {
		ioctl(p->cpu, KVM_GET_REGS, &r);
		snprintf(why, len,
			 "KVM's in-kernel local APIC timer stopped after %u "
			 "periodic interrupt(s)",
			 (unsigned)r.rbx);
		return 0;
	}
	snprintf(why, len, "the timer probe ended in KVM exit %u",
		 p->run->exit_reason);
	return 0;
}

bool kvm_periodic_timer_usable(char *why, size_t len)
{
	struct probe p = { .kvm = -1, .vm = -1, .cpu = -1 };
	int ret = set_up(&p);

	if (!ret)
		ret = run_probe(&p, why, len);
	if (ret < 0)
		snprintf(why, len, "KVM probe: %s", strerror(-ret));
	tear_down(&p);
	return ret > 0;
}
