/* SPDX-License-Identifier: MIT */
/* The manifest's schema, for libcyaml: the one place that says which keys a
 * manifest may hold and of which type (docs/manifest.md mirrors it). */
#include "manifest_priv.h"

#define OPT (CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL)
#define STR(key, st, m)                                                        \
	CYAML_FIELD_STRING_PTR(key, OPT, st, m, 0, CYAML_UNLIMITED)
#define REQ_STR(key, st, m)                                                    \
	CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_POINTER, st, m, 1,              \
			       CYAML_UNLIMITED)

static const cyaml_strval_t backend_names[] = {
	{ "auto", MF_BACKEND_AUTO },
	{ "kvm", MF_BACKEND_KVM },
	{ "soft", MF_BACKEND_SOFT },
};

static const cyaml_strval_t executor_names[] = {
	{ "threaded", MF_EXEC_THREADED },
	{ "biglock", MF_EXEC_BIGLOCK },
};

static const cyaml_strval_t irqchip_names[] = {
	{ "auto", MF_IRQCHIP_AUTO },
	{ "user", MF_IRQCHIP_USER },
	{ "kvm", MF_IRQCHIP_KVM },
};

static const cyaml_strval_t isolation_names[] = {
	{ "in-process", MF_ISO_IN_PROCESS },
	{ "process", MF_ISO_PROCESS },
};

static const cyaml_strval_t on_failure_names[] = {
	{ "restart", MF_FAIL_RESTART },
	{ "stop-vm", MF_FAIL_STOP_VM },
	{ "remove", MF_FAIL_REMOVE },
};

static const cyaml_strval_t net_type_names[] = {
	{ "wire", MF_NET_WIRE },
	{ "tap", MF_NET_TAP },
};

static const cyaml_schema_field_t vcpu_fields[] = {
	STR("image", struct mf_vcpu, image),
	STR("cmdline", struct mf_vcpu, cmdline),
	CYAML_FIELD_INT_PTR("priority", OPT, struct mf_vcpu, priority),
	CYAML_FIELD_INT_PTR("host-cpu", OPT, struct mf_vcpu, host_cpu),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t vcpu_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct mf_vcpu, vcpu_fields),
};

static const cyaml_schema_field_t device_fields[] = {
	REQ_STR("type", struct mf_device, type),
	REQ_STR("name", struct mf_device, name),
	CYAML_FIELD_UINT_PTR("slot", OPT, struct mf_device, slot),
	STR("network", struct mf_device, network),
	STR("mac", struct mf_device, mac),
	CYAML_FIELD_BOOL_PTR("link-down", OPT, struct mf_device, link_down),
	CYAML_FIELD_UINT_PTR("port", OPT, struct mf_device, port),
	CYAML_FIELD_UINT_PTR("mmio", OPT, struct mf_device, mmio),
	CYAML_FIELD_UINT_PTR("irq", OPT, struct mf_device, irq),
	STR("serial", struct mf_device, serial),
	CYAML_FIELD_UINT_PTR("id", OPT, struct mf_device, id),
	CYAML_FIELD_INT_PTR("priority", OPT, struct mf_device, priority),
	CYAML_FIELD_INT_PTR("host-cpu", OPT, struct mf_device, host_cpu),
	CYAML_FIELD_BOOL_PTR("fast-path", OPT, struct mf_device, fast_path),
	CYAML_FIELD_ENUM("isolation", CYAML_FLAG_OPTIONAL | CYAML_FLAG_STRICT,
			 struct mf_device, isolation, isolation_names, 2),
	CYAML_FIELD_ENUM("on-failure", CYAML_FLAG_OPTIONAL | CYAML_FLAG_STRICT,
			 struct mf_device, on_failure, on_failure_names, 3),
	CYAML_FIELD_UINT_PTR("max-restarts", OPT, struct mf_device,
			     max_restarts),
	CYAML_FIELD_UINT_PTR("restart-window-ms", OPT, struct mf_device,
			     restart_window_ms),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t device_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct mf_device,
			    device_fields),
};

static const cyaml_schema_field_t vm_fields[] = {
	REQ_STR("name", struct mf_vm, name),
	STR("memory", struct mf_vm, memory),
	CYAML_FIELD_ENUM("cpu", CYAML_FLAG_OPTIONAL | CYAML_FLAG_STRICT,
			 struct mf_vm, backend, backend_names, 3),
	CYAML_FIELD_ENUM("executor", CYAML_FLAG_OPTIONAL | CYAML_FLAG_STRICT,
			 struct mf_vm, executor, executor_names, 2),
	CYAML_FIELD_ENUM("irqchip", CYAML_FLAG_OPTIONAL | CYAML_FLAG_STRICT,
			 struct mf_vm, irqchip, irqchip_names, 3),
	STR("image", struct mf_vm, image),
	STR("cmdline", struct mf_vm, cmdline),
	CYAML_FIELD_SEQUENCE("vcpus", CYAML_FLAG_POINTER, struct mf_vm, vcpus,
			     &vcpu_schema, 1, 16),
	STR("serial", struct mf_vm, serial),
	CYAML_FIELD_INT_PTR("priority", OPT, struct mf_vm, priority),
	CYAML_FIELD_INT_PTR("host-cpu", OPT, struct mf_vm, host_cpu),
	CYAML_FIELD_SEQUENCE("devices", OPT, struct mf_vm, devices,
			     &device_schema, 0, 64),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t vm_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct mf_vm, vm_fields),
};

static const cyaml_schema_field_t network_fields[] = {
	REQ_STR("name", struct mf_network, name),
	CYAML_FIELD_ENUM("type", CYAML_FLAG_OPTIONAL | CYAML_FLAG_STRICT,
			 struct mf_network, type, net_type_names, 2),
	STR("url", struct mf_network, url),
	CYAML_FIELD_BOOL_PTR("listen", OPT, struct mf_network, listen),
	STR("ifname", struct mf_network, ifname),
	STR("pcap", struct mf_network, pcap),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t network_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct mf_network,
			    network_fields),
};

static const cyaml_schema_value_t name_schema = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t trace_fields[] = {
	CYAML_FIELD_BOOL_PTR("enabled", OPT, struct mf_trace, enabled),
	STR("file", struct mf_trace, file),
	CYAML_FIELD_SEQUENCE("actors", OPT, struct mf_trace, actors,
			     &name_schema, 0, CYAML_UNLIMITED),
	CYAML_FIELD_SEQUENCE("kinds", OPT, struct mf_trace, kinds, &name_schema,
			     0, CYAML_UNLIMITED),
	CYAML_FIELD_SEQUENCE("journal", OPT, struct mf_trace, journal,
			     &name_schema, 0, 64),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t doc_fields[] = {
	CYAML_FIELD_SEQUENCE("vms", CYAML_FLAG_POINTER, struct mf_doc, vms,
			     &vm_schema, 1, 16),
	CYAML_FIELD_SEQUENCE("networks", OPT, struct mf_doc, networks,
			     &network_schema, 0, 64),
	CYAML_FIELD_MAPPING_PTR("trace", OPT, struct mf_doc, trace,
				trace_fields),
	CYAML_FIELD_END
};

const cyaml_schema_value_t mf_doc_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct mf_doc, doc_fields),
};
