/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SG_IO transport (src/host/sg.c) without SCSI hardware: opening what is
 * not a SCSI device fails cleanly with the right errno and reason, and the
 * host/driver status mapping is exact.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/sg.h"
#include "host/url.h"

static void test_missing_device(void **state)
{
	struct pp_conn *c = (struct pp_conn *)1;

	(void)state;
	assert_int_equal(pp_sg_open("/dev/prpath-test-no-such-device", 1000, &c), -ENOENT);
	assert_null(c);
	assert_string_equal(pp_transport_last_error(),
			    "/dev/prpath-test-no-such-device: no such device");
	/* the same through the URL dispatcher, both syntaxes */
	c = (struct pp_conn *)1;
	assert_int_equal(pp_conn_open_url("/dev/prpath-test-no-such-device", NULL, 0, 0, &c),
			 -ENOENT);
	assert_null(c);
	assert_int_equal(pp_conn_open_url("sg:/dev/prpath-test-no-such-sg9", NULL, 0, 0, &c),
			 -ENOENT);
	assert_null(c);
}

static void test_not_scsi(void **state)
{
	struct pp_conn *c = (struct pp_conn *)1;

	(void)state;
	/* a character device that knows nothing of SG_IO */
	assert_int_equal(pp_sg_open("/dev/null", 1000, &c), -ENOTTY);
	assert_null(c);
	assert_non_null(strstr(pp_transport_last_error(),
			       "/dev/null: not a SCSI device that takes SG_IO"));
	assert_int_equal(pp_conn_open_url("/dev/null", NULL, 0, 0, &c), -ENOTTY);
	assert_int_equal(pp_conn_open_url("sg:/dev/zero", NULL, 0, 0, &c), -ENOTTY);
	assert_null(c);
}

static void test_regular_file(void **state)
{
	char path[] = "/tmp/prpath-test-sg-XXXXXX";
	struct pp_conn *c = (struct pp_conn *)1;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(pp_sg_open(path, 0, &c), -ENOTTY);
	assert_null(c);
	assert_string_equal(strstr(pp_transport_last_error(), "not a device node"),
			    "not a device node");
	unlink(path);
}

/* Runs in a child when the tests run as root: root opens anything. */
static int no_permission_check(const char *path)
{
	struct pp_conn *c = (struct pp_conn *)1;

	if (pp_sg_open(path, 0, &c) != -EACCES || c)
		return 1;
	if (!strstr(pp_transport_last_error(), "permission denied"))
		return 2;
	return 0;
}

static void test_no_permission(void **state)
{
	char path[] = "/tmp/prpath-test-sg-XXXXXX";
	int fd, st = -1;
	pid_t pid;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(path, 0), 0);
	if (geteuid() != 0) {
		assert_int_equal(no_permission_check(path), 0);
	} else {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (setgid(65534) || setuid(65534))
				_exit(3);
			_exit(no_permission_check(path));
		}
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	unlink(path);
}

static void test_bad_args(void **state)
{
	struct pp_conn *c = (struct pp_conn *)1;

	(void)state;
	assert_int_equal(pp_sg_open("dev/sg0", 0, &c), -EINVAL);
	assert_null(c);
	assert_int_equal(pp_sg_open(NULL, 0, &c), -EINVAL);
	assert_int_equal(pp_sg_open("/dev/null", 0, NULL), -EINVAL);
}

static void test_status_mapping(void **state)
{
	(void)state;
	assert_int_equal(pp_sg_map_host_status(0x00), 0);
	assert_int_equal(pp_sg_map_host_status(0x01), -ENOTCONN);
	assert_int_equal(pp_sg_map_host_status(0x03), -ETIMEDOUT);
	assert_int_equal(pp_sg_map_host_status(0x08), -ECONNRESET);
	assert_int_equal(pp_sg_map_host_status(0x0e), -ECONNRESET);
	assert_int_equal(pp_sg_map_host_status(0x0f), -ENOTCONN);
	assert_int_equal(pp_sg_map_host_status(0x07), -EIO);
	assert_int_equal(pp_sg_map_host_status(0x77), -EIO);
	assert_int_equal(pp_sg_map_driver_status(0x00), 0);
	assert_int_equal(pp_sg_map_driver_status(0x08), 0); /* DRIVER_SENSE */
	assert_int_equal(pp_sg_map_driver_status(0x06), -ETIMEDOUT);
	assert_int_equal(pp_sg_map_driver_status(0x04), -EIO);
	assert_int_equal(pp_sg_map_driver_status(0x01), -EBUSY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_device),
		cmocka_unit_test(test_not_scsi),
		cmocka_unit_test(test_regular_file),
		cmocka_unit_test(test_no_permission),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_status_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
