// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Pod name, namespace and container name from fixtures of the runtimes'
 * state on a host (tests/fixtures/container/host/: containerd's shim bundle
 * and CRI-O's storage), reached from the cgroup paths the kubelet creates.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "target/container.h"
#include "target/podinfo.h"

#define HOST "tests/fixtures/container/host"
#define CA "3f1c9a0e5b7d2468ace0135792468bdf0e1a2b3c4d5e6f708192a3b4c5d6e7f8"
#define SA "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29180716253443526170819a0b1c2d"
#define CB "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
#define CC "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"
#define CD "d00dfeedd00dfeedd00dfeedd00dfeedd00dfeedd00dfeedd00dfeedd00dfeed"
#define U1_ "5b0e4a3c_2f1d_4e6b_9a87_0c1d2e3f4a5b"
#define U1 "5b0e4a3c-2f1d-4e6b-9a87-0c1d2e3f4a5b"
#define U2_ "7c6d5e4f_3a2b_4c1d_8e9f_a0b1c2d3e4f5"

static int pod_of(const char *cgroup_path, struct ms_pod *pod)
{
	struct ms_container c;

	assert_int_equal(container__from_cgroup_path(cgroup_path, &c), 0);
	return podinfo__read(HOST, &c, pod);
}

static void test_containerd(void **state)
{
	struct ms_pod p;

	(void)state;
	assert_int_equal(pod_of("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
				U1_ ".slice/cri-containerd-" CA ".scope", &p), 0);
	assert_string_equal(p.name, "web-7d9f8c6b5-x2k4q");
	assert_string_equal(p.namespace, "shop");
	assert_string_equal(p.container, "api");
	assert_string_equal(p.source, "containerd");
	/* the cgroupfs driver's bare id: any runtime's state may hold it */
	assert_int_equal(pod_of("/kubepods/burstable/pod" U1 "/" CA, &p), 0);
	assert_string_equal(p.container, "api");
}

static void test_crio(void **state)
{
	struct ms_pod p;

	(void)state;
	assert_int_equal(pod_of("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
				U2_ ".slice/crio-" CB ".scope", &p), 0);
	assert_string_equal(p.name, "db-0");
	assert_string_equal(p.namespace, "data");
	assert_string_equal(p.container, "postgres");
	assert_string_equal(p.source, "cri-o");
	/* containerd's scope is not looked up in CRI-O's storage */
	assert_int_equal(pod_of("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
				U2_ ".slice/cri-containerd-" CB ".scope", &p), -ENOENT);
	assert_string_equal(p.name, "");
}

static void test_not_named(void **state)
{
	struct ms_pod p;

	(void)state;
	/* the pod's sandbox (pause) container has no container name */
	assert_int_equal(pod_of("/kubepods/burstable/pod" U1 "/" SA, &p), -ENOENT);
	/* a state file of another pod UID under this id */
	assert_int_equal(pod_of("/kubepods/burstable/pod" U1 "/" CD, &p), -ENOENT);
	/* a truncated spec */
	assert_int_equal(pod_of("/kubepods/burstable/pod" U1 "/" CC, &p), -EINVAL);
	assert_string_equal(p.namespace, "");
	/* Docker alone: no pod, nothing read */
	assert_int_equal(pod_of("/docker/" CA, &p), -ENOENT);
	/* the host's /run not mounted where the daemon looks */
	struct ms_container c;

	assert_int_equal(container__from_cgroup_path("/kubepods/pod" U1 "/" CA, &c), 0);
	assert_int_equal(podinfo__read("/nonexistent", &c, &p), -ENOENT);
}

static void test_spec_values(void **state)
{
	static const struct {
		const char *json;
		int ret;
	} cases[] = {
		{ "{\"annotations\":{\"io.kubernetes.pod.name\":\"a.b-1\","
		  "\"io.kubernetes.pod.namespace\":\"ns\",\"io.kubernetes.container.name\":\"c\"}}", 0 },
		/* a label value that would break the exposition format */
		{ "{\"annotations\":{\"io.kubernetes.pod.name\":\"a\\\"}\\n\","
		  "\"io.kubernetes.pod.namespace\":\"ns\",\"io.kubernetes.container.name\":\"c\"}}",
		  -EINVAL },
		/* a namespace is a DNS label: no dots, at most 63 */
		{ "{\"annotations\":{\"io.kubernetes.pod.name\":\"a\","
		  "\"io.kubernetes.pod.namespace\":\"n.s\",\"io.kubernetes.container.name\":\"c\"}}",
		  -EINVAL },
		{ "{\"annotations\":{\"io.kubernetes.pod.name\":\"a\",\"io.kubernetes.pod.namespace\":"
		  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
		  "\"io.kubernetes.container.name\":\"c\"}}", -EINVAL },
		/* a container name without its pod */
		{ "{\"annotations\":{\"io.kubernetes.cri.container-name\":\"c\"}}", -EINVAL },
		{ "{\"annotations\":{\"io.kubernetes.pod.name\":7,"
		  "\"io.kubernetes.pod.namespace\":\"ns\",\"io.kubernetes.container.name\":\"c\"}}",
		  -EINVAL },
		{ "{\"annotations\":[]}", -ENOENT },
		{ "{}", -ENOENT },
		{ "[1,2]", -ENOENT },
		{ "", -EINVAL },
		{ "{\"annotations\":{", -EINVAL },
	};
	struct ms_pod p;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = podinfo__parse_spec(cases[i].json, strlen(cases[i].json), "", &p);

		assert_int_equal(r, cases[i].ret);
		if (r)
			assert_string_equal(p.name, "");
	}
	assert_int_equal(podinfo__parse_spec(cases[0].json, strlen(cases[0].json), "", &p), 0);
	assert_string_equal(p.name, "a.b-1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_containerd),
		cmocka_unit_test(test_crio),
		cmocka_unit_test(test_not_named),
		cmocka_unit_test(test_spec_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
