// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Cgroup paths in the layouts the kubelet (systemd and cgroupfs drivers),
 * containerd, CRI-O and Docker create, as /proc/PID/cgroup shows them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "target/container.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID "1f2e3d4c-5b6a-4789-8abc-def012345678"
#define UID_ "1f2e3d4c_5b6a_4789_8abc_def012345678"

static const struct {
	const char *path, *runtime, *pod_uid, *qos;
} cases[] = {
	/* systemd driver, containerd */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice/"
	  "cri-containerd-" ID ".scope", "containerd", UID, "burstable" },
	/* a guaranteed pod has no QoS level */
	{ "/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" ID ".scope",
	  "containerd", UID, "guaranteed" },
	/* CRI-O */
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/"
	  "crio-" ID ".scope", "cri-o", UID, "besteffort" },
	/* cgroupfs driver: directories, a bare id */
	{ "/kubepods/burstable/pod" UID "/" ID, "", UID, "burstable" },
	{ "/kubepods/pod" UID "/" ID, "", UID, "guaranteed" },
	/* a sub-cgroup inside the container keeps it */
	{ "/kubepods/besteffort/pod" UID "/" ID "/init.scope", "", UID, "besteffort" },
	/* Docker without Kubernetes */
	{ "/system.slice/docker-" ID ".scope", "docker", "", NULL },
	{ "/docker/" ID, "", "", NULL },
};

static void test_layouts(void **state)
{
	struct ms_container c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(container__from_cgroup_path(cases[i].path, &c), 0);
		assert_string_equal(c.id, ID);
		assert_string_equal(c.runtime, cases[i].runtime);
		assert_string_equal(c.pod_uid, cases[i].pod_uid);
		if (cases[i].qos)
			assert_string_equal(c.qos, cases[i].qos);
		else
			assert_null(c.qos);
	}
}

static void test_not_containers(void **state)
{
	static const char *const paths[] = {
		"/", "/system.slice/app.service", "/user.slice/user-1000.slice/session-3.scope",
		/* one hex digit short, one upper-case, a wrong prefix */
		"/docker/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
		"/docker/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		"/system.slice/podman-" ID ".scope",
		/* a pod slice without a container yet (the sandbox's own cgroup) */
		"/kubepods.slice/kubepods-pod" UID_ ".slice",
		"",
	};
	struct ms_container c;

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_int_equal(container__from_cgroup_path(paths[i], &c), -ENOENT);
		assert_string_equal(c.id, "");
		assert_string_equal(c.pod_uid, "");
	}
}

static void test_bad_pod_uid_is_no_pod(void **state)
{
	struct ms_container c;

	(void)state;
	assert_int_equal(container__from_cgroup_path("/kubepods/podnot-a-uid/" ID, &c), 0);
	assert_string_equal(c.id, ID);
	assert_string_equal(c.pod_uid, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_not_containers),
		cmocka_unit_test(test_bad_pod_uid_is_no_pod),
	};

	return cmocka_run_group_tests_name("container", tests, NULL, NULL);
}
