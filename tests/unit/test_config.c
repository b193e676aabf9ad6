/* SPDX-License-Identifier: MIT */
/*
 * Tests of the configuration module: defaults, the shipped sample, a complete file, one fixture
 * per mistake with its exact one-line error, -i inputs, and config_print() read back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "linkyd/config.h"

#define DATA(name) LINKYD_TEST_DATA "/config/" name

/* ---- helpers ------------------------------------------------------------------------------ */

struct tmpdir {
	char path[64];
};

static void
tmpdir_make(struct tmpdir *t)
{
	const char *base = getenv("TMPDIR");

	snprintf(t->path, sizeof(t->path), "%s/linkyd-test-XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(t->path));
}

/* Write text to dir/name with the given mode; the full path goes to ret_path. */
static void
write_file(const struct tmpdir *t, const char *name, const char *text, mode_t mode, char *ret_path,
           size_t size)
{
	int fd;

	snprintf(ret_path, size, "%s/%s", t->path, name);
	fd = open(ret_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
	/* chmod after creation: the umask would otherwise mask the bits under test. */
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void
tmpdir_remove(struct tmpdir *t, const char *const *names, size_t n)
{
	char path[128];

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", t->path, names[i]);
		(void) unlink(path);
	}
	assert_int_equal(rmdir(t->path), 0);
}

static void
assert_str_or_null(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

/* Every value equal; the password only when check_password is set. */
static void
assert_config_equal(const struct linkyd_config *a, const struct linkyd_config *b,
                    bool check_password)
{
	assert_int_equal(a->n_meters, b->n_meters);
	for (size_t i = 0; i < a->n_meters; i++) {
		assert_string_equal(a->meters[i].name, b->meters[i].name);
		assert_string_equal(a->meters[i].device, b->meters[i].device);
		assert_int_equal(a->meters[i].mode, b->meters[i].mode);
		assert_string_equal(a->meters[i].topic, b->meters[i].topic);
		assert_true(config_publish_equal(&a->meters[i].publish, &b->meters[i].publish));
	}
	assert_true(config_publish_equal(&a->publish, &b->publish));
	assert_str_or_null(a->mqtt.url, b->mqtt.url);
	assert_str_or_null(a->mqtt.client_id, b->mqtt.client_id);
	assert_str_or_null(a->mqtt.username, b->mqtt.username);
	if (check_password)
		assert_str_or_null(a->mqtt.password, b->mqtt.password);
	assert_str_or_null(a->mqtt.ca_file, b->mqtt.ca_file);
	assert_str_or_null(a->mqtt.cert_file, b->mqtt.cert_file);
	assert_str_or_null(a->mqtt.key_file, b->mqtt.key_file);
	assert_int_equal(a->mqtt.verify_hostname, b->mqtt.verify_hostname);
	assert_int_equal(a->mqtt.keepalive, b->mqtt.keepalive);
	assert_int_equal(a->mqtt.qos, b->mqtt.qos);
	assert_int_equal(a->mqtt.retain, b->mqtt.retain);
	assert_int_equal(a->mqtt.queue_frames, b->mqtt.queue_frames);
	assert_int_equal(a->format, b->format);
	assert_int_equal(a->verbosity, b->verbosity);
	assert_int_equal(a->ha.discovery, b->ha.discovery);
	assert_str_or_null(a->ha.prefix, b->ha.prefix);
	assert_int_equal(a->ha.expire_after, b->ha.expire_after);
}

static void
assert_defaults(const struct linkyd_config *c)
{
	assert_int_equal(c->n_meters, 1);
	assert_string_equal(c->meters[0].name, "meter");
	assert_string_equal(c->meters[0].device, CONFIG_DEFAULT_INPUT);
	assert_int_equal(c->meters[0].mode, TIC_MODE_UNKNOWN);
	assert_string_equal(c->meters[0].topic, CONFIG_DEFAULT_TOPIC);
	assert_string_equal(c->mqtt.url, CONFIG_DEFAULT_URL);
	assert_null(c->mqtt.client_id);
	assert_null(c->mqtt.username);
	assert_null(c->mqtt.password);
	assert_null(c->mqtt.ca_file);
	assert_null(c->mqtt.cert_file);
	assert_null(c->mqtt.key_file);
	assert_true(c->mqtt.verify_hostname);
	assert_int_equal(c->mqtt.keepalive, 30);
	assert_int_equal(c->mqtt.qos, 1);
	assert_false(c->mqtt.retain);
	assert_int_equal(c->mqtt.queue_frames, CONFIG_DEFAULT_QUEUE);
	assert_int_equal(c->format, JSON_FORMAT_TYPED);
	assert_int_equal(c->verbosity, 0);
	assert_true(c->ha.discovery);
	assert_string_equal(c->ha.prefix, "homeassistant");
	assert_int_equal(c->ha.expire_after, 120);
	assert_int_equal(c->publish.policy.kind, PUBLISH_EVERY_FRAME);
	assert_int_equal(c->publish.policy.interval, CONFIG_DEFAULT_INTERVAL);
	assert_int_equal(c->publish.policy.heartbeat, CONFIG_DEFAULT_HEARTBEAT);
	assert_int_equal(c->publish.policy.deadband, 0);
	assert_false(c->publish.label_topics);
	assert_false(c->publish.label_retain);
	assert_int_equal(c->publish.n_labels, 0);
	assert_true(config_publish_equal(&c->meters[0].publish, &c->publish));
}

/* Load path over the defaults and expect failure r with exactly the message want. */
static void
expect_error(const char *path, int r, const char *want)
{
	char err[CONFIG_ERROR_SIZE] = "";
	struct linkyd_config c;

	assert_int_equal(config_defaults(&c), 0);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), r);
	assert_string_equal(err, want);
	assert_null(strchr(err, '\n'));
	/* A failed load leaves the configuration as it was: a bad reload changes nothing. */
	assert_defaults(&c);
	config_done(&c);
}

static void
load_ok(struct linkyd_config *c, const char *path)
{
	char err[CONFIG_ERROR_SIZE] = "";

	assert_int_equal(config_defaults(c), 0);
	if (config_load(c, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(config_validate(c, err, sizeof(err)), 0);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void
test_defaults(void **state)
{
	char err[CONFIG_ERROR_SIZE] = "";
	struct linkyd_config c;

	(void) state;
	assert_int_equal(config_defaults(&c), 0);
	assert_defaults(&c);
	assert_int_equal(config_validate(&c, err, sizeof(err)), 0);
	config_done(&c);
	/* config_done() leaves c ready for another config_defaults(), and is harmless twice. */
	config_done(&c);
	assert_int_equal(config_defaults(&c), 0);
	config_done(&c);
}

/* The shipped sample loads, and as all its settings are commented out, changes nothing. */
static void
test_sample(void **state)
{
	struct linkyd_config c;

	(void) state;
	load_ok(&c, LINKYD_SAMPLE_CONF);
	assert_defaults(&c);
	config_done(&c);
}

static void
test_full(void **state)
{
	struct linkyd_config c;

	(void) state;
	load_ok(&c, DATA("full.conf"));
	assert_int_equal(c.n_meters, 3);
	assert_string_equal(c.meters[0].name, "conso");
	assert_string_equal(c.meters[0].device, "/dev/ttyAMA0");
	assert_int_equal(c.meters[0].mode, TIC_MODE_HISTORIQUE);
	assert_string_equal(c.meters[0].topic, "home/linky/conso");
	assert_string_equal(c.meters[1].name, "prod");
	assert_string_equal(c.meters[1].device,
	                    "/dev/serial/by-path/platform-3f980000.usb-usb-0:1.3:1.0-port0");
	assert_int_equal(c.meters[1].mode, TIC_MODE_STANDARD);
	assert_string_equal(c.meters[1].topic, "teleinfo/prod");
	assert_string_equal(c.meters[2].name, "meter2");
	assert_string_equal(c.meters[2].device, "/dev/ttyUSB1");
	assert_int_equal(c.meters[2].mode, TIC_MODE_UNKNOWN);
	assert_string_equal(c.meters[2].topic, "home/linky/\"third\"");
	assert_string_equal(c.mqtt.url, "mqtts://broker.example.org:8884");
	assert_string_equal(c.mqtt.client_id, "linkyd-test");
	assert_string_equal(c.mqtt.username, "linky");
	assert_string_equal(c.mqtt.password, "s3cr\\et");
	assert_string_equal(c.mqtt.ca_file, "/etc/linkyd/ca.crt");
	assert_string_equal(c.mqtt.cert_file, "/etc/linkyd/client.crt");
	assert_string_equal(c.mqtt.key_file, "/etc/linkyd/client.key");
	assert_false(c.mqtt.verify_hostname);
	assert_int_equal(c.mqtt.keepalive, 60);
	assert_int_equal(c.mqtt.qos, 2);
	assert_true(c.mqtt.retain);
	assert_int_equal(c.mqtt.queue_frames, 100);
	assert_int_equal(c.format, JSON_FORMAT_RAW);
	assert_int_equal(c.verbosity, 2);
	assert_false(c.ha.discovery);
	assert_string_equal(c.ha.prefix, "ha/discovery");
	assert_int_equal(c.ha.expire_after, 0);
	/* The global publish group, inherited by every meter, then conso's own over it. */
	assert_int_equal(c.publish.policy.kind, PUBLISH_ON_CHANGE);
	assert_int_equal(c.publish.policy.deadband, 50);
	assert_int_equal(c.publish.policy.heartbeat, 300);
	assert_int_equal(c.publish.policy.interval, 5);
	assert_true(c.publish.label_topics);
	assert_true(c.publish.label_retain);
	assert_int_equal(c.publish.n_labels, 1);
	/* The labels start from the group's policy, wherever they stand in it. */
	assert_int_equal(config_label_policy(&c.publish, "PJOURF+1")->kind, PUBLISH_ON_CHANGE);
	assert_int_equal(config_label_policy(&c.publish, "PJOURF+1")->heartbeat, 3600);
	assert_int_equal(config_label_policy(&c.publish, "PJOURF+1")->deadband, 50);
	assert_true(config_publish_equal(&c.meters[1].publish, &c.publish));
	assert_true(config_publish_equal(&c.meters[2].publish, &c.publish));
	assert_int_equal(c.meters[0].publish.policy.kind, PUBLISH_INTERVAL);
	assert_int_equal(c.meters[0].publish.policy.interval, 30);
	assert_true(c.meters[0].publish.label_topics);
	assert_false(c.meters[0].publish.label_retain);
	assert_int_equal(c.meters[0].publish.n_labels, 2);
	assert_int_equal(config_label_policy(&c.meters[0].publish, "IINST")->kind,
	                 PUBLISH_EVERY_FRAME);
	assert_int_equal(config_label_policy(&c.meters[0].publish, "PJOURF+1")->heartbeat, 3600);
	assert_int_equal(config_label_policy(&c.meters[0].publish, "PAPP")->kind, PUBLISH_INTERVAL);
	config_done(&c);
}

/* A lone meter without name, input or topic gets the same defaults as no file. */
static void
test_lone_meter_defaults(void **state)
{
	struct tmpdir t;
	char path[128];
	struct linkyd_config c;
	static const char *const names[] = {"linkyd.conf"};

	(void) state;
	tmpdir_make(&t);
	write_file(&t, names[0], "meters = ( { mode = \"standard\"; } );\n", 0644, path,
	           sizeof(path));
	load_ok(&c, path);
	assert_int_equal(c.n_meters, 1);
	assert_string_equal(c.meters[0].name, "meter");
	assert_string_equal(c.meters[0].device, CONFIG_DEFAULT_INPUT);
	assert_int_equal(c.meters[0].mode, TIC_MODE_STANDARD);
	assert_string_equal(c.meters[0].topic, CONFIG_DEFAULT_TOPIC);
	config_done(&c);
	tmpdir_remove(&t, names, 1);
}

struct bad_file {
	const char *file;
	const char *error; /* after "PATH:" */
};

static const struct bad_file bad_files[] = {
    {"syntax.conf", "4: syntax error"},
    {"unknown-top.conf", "4: speed: unknown setting"},
    {"unknown-meter.conf", "3: meters[0].speed: unknown setting"},
    {"unknown-mqtt.conf", "4: mqtt.port: unknown setting"},
    {"type-qos.conf", "3: mqtt.qos: expected 0, 1 or 2, not a string"},
    {"type-keepalive.conf", "3: mqtt.keepalive: expected an integer from 5 to 3600 (seconds), "
                            "not a floating-point number"},
    {"type-retain.conf", "3: mqtt.retain: expected true or false, not an integer"},
    {"type-meters.conf", "2: meters: expected a list of groups ( { ... }, ... ), not a group"},
    {"type-meter-entry.conf",
     "4: meters[1]: expected a group { name = ...; input = ...; }, not a string"},
    {"type-mqtt.conf", "2: mqtt: expected a group { ... }, not a string"},
    {"qos-range.conf", "7: mqtt.qos: expected 0, 1 or 2"},
    {"keepalive-range.conf", "2: mqtt.keepalive: expected an integer from 5 to 3600 (seconds)"},
    {"queue-range.conf", "2: mqtt.queue: expected an integer from 1 to 1000000 (frames)"},
    {"bad-mode.conf", "5: meters[0].mode: expected \"auto\", \"historique\" or \"standard\""},
    {"bad-format.conf", "3: publish.format: expected \"typed\" or \"raw\""},
    {"bad-level.conf", "2: log.level: expected \"notice\", \"info\" or \"debug\""},
    {"bad-url.conf", "3: mqtt.url: expected mqtt://host[:port] or mqtts://host[:port]"},
    {"bad-url-port.conf", "3: mqtt.url: expected mqtt://host[:port] or mqtts://host[:port]"},
    {"bad-input.conf", "2: meters[0].input: expected serial:DEVICE or a device path such as "
                       "/dev/ttyUSB0"},
    {"empty-name.conf", "3: meters[0].name: expected a non-empty string"},
    {"empty-meters.conf", "2: meters: expected at least one meter"},
    {"dup-name.conf", "6: meters[1].name: 'home' is already the name of meters[0]"},
    {"dup-default-name.conf", "4: meters[1].name: 'meter1' is already the name of meters[0]"},
    {"dup-topic.conf", "4: meters[1].topic: 'linky' is already the topic of meters[0]"},
    {"dup-input.conf", "4: meters[1].input: '/dev/ttyUSB0' is already the input of meters[0]"},
    {"no-input.conf", "4: meters[1].input: expected serial:DEVICE or a device path such as "
                      "/dev/ttyUSB0 (only a lone meter defaults to /dev/serial0)"},
    {"wildcard-topic.conf",
     "2: meters[0].topic: expected a non-empty topic without wildcards (+, #)"},
    {"cert-no-key.conf", "4: mqtt.cert_file: expected mqtt.key_file too"},
    {"tls-plain.conf", "4: mqtt.ca_file: expected an mqtts:// mqtt.url to use it"},
    {"password-both.conf", "5: mqtt.password_file: expected mqtt.password or "
                           "mqtt.password_file, not both (mqtt.password is on line 4)"},
    {"password-no-user.conf", "3: mqtt.password: expected mqtt.username too"},
    {"unknown-ha.conf", "4: homeassistant.retain: unknown setting"},
    {"type-ha.conf", "2: homeassistant: expected a group { ... }, not a boolean"},
    {"type-ha-discovery.conf", "3: homeassistant.discovery: expected true or false, not a string"},
    {"ha-expire-range.conf",
     "3: homeassistant.expire_after: expected an integer from 0 to 86400 (seconds, 0 = never)"},
    {"ha-prefix-wildcard.conf",
     "3: homeassistant.prefix: expected a non-empty topic without wildcards (+, #)"},
    {"bad-policy.conf",
     "3: publish.policy: expected \"every_frame\", \"interval\" or \"on_change\""},
    {"type-labels.conf", "2: publish.labels: expected a list of groups ( { label = ...; }, ... ), "
                         "not a group"},
    {"label-deadband.conf", "3: publish.labels[0].deadband: expected an integer from 0 to "
                            "1000000000"},
    {"label-missing.conf", "3: meters[0].publish.labels[0].label: expected a TIC label such as "
                           "\"PAPP\" (1 to 16 printable characters)"},
    {"label-name.conf", "2: publish.labels[0].label: expected a TIC label such as \"PAPP\" (1 "
                        "to 16 printable characters)"},
    {"unknown-meter-publish.conf", "2: meters[0].publish.bogus: unknown setting"},
    {"heartbeat-expire.conf",
     "4: publish.heartbeat: 120 s: expected less than homeassistant.expire_after (120 s), or "
     "Home Assistant shows the meter unavailable between frames"},
    {"interval-expire.conf", "5: meters[1].publish: a pause of 600 s between frames: expected "
                             "less than homeassistant.expire_after (120 s)"},
};

static void
test_bad_files(void **state)
{
	char path[256], want[CONFIG_ERROR_SIZE];

	(void) state;
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/config/%s", LINKYD_TEST_DATA, bad_files[i].file);
		snprintf(want, sizeof(want), "%s:%s", path, bad_files[i].error);
		print_message("%s\n", want);
		expect_error(path, -EINVAL, want);
	}
}

/* An error inside an @include'd file names that file and its line. */
static void
test_include(void **state)
{
	static const char *const names[] = {"part.inc", "linkyd.conf"};
	char part[128], conf[128], text[256], want[CONFIG_ERROR_SIZE];
	struct tmpdir t;

	(void) state;
	tmpdir_make(&t);
	write_file(&t, names[0], "mqtt = {\n\tqos = 5;\n};\n", 0644, part, sizeof(part));
	snprintf(text, sizeof(text), "meters = ( { name = \"home\"; } );\n@include \"%s\"\n", part);
	write_file(&t, names[1], text, 0644, conf, sizeof(conf));
	snprintf(want, sizeof(want), "%s:2: mqtt.qos: expected 0, 1 or 2", part);
	expect_error(conf, -EINVAL, want);
	tmpdir_remove(&t, names, 2);
}

static void
test_missing_file(void **state)
{
	(void) state;
	expect_error(DATA("no-such-file.conf"), -ENOENT,
	             DATA("no-such-file.conf") ": No such file or directory");
	expect_error(LINKYD_TEST_DATA "/config", -EISDIR,
	             LINKYD_TEST_DATA "/config: Is a directory");
}

static void
test_password_file(void **state)
{
	static const char *const names[] = {"secret", "linkyd.conf", "empty"};
	char secret[128], conf[128], empty[128], text[512], want[CONFIG_ERROR_SIZE];
	struct linkyd_config c;
	struct tmpdir t;

	(void) state;
	tmpdir_make(&t);
	write_file(&t, names[0], "pa ss\n", 0600, secret, sizeof(secret));
	snprintf(text, sizeof(text),
	         "mqtt = {\n\tusername = \"linky\";\n\tpassword_file = \"%s\";\n};\n", secret);
	write_file(&t, names[1], text, 0644, conf, sizeof(conf));

	/* 0600 and 0400 are private: the password is its first line, newline excluded. */
	load_ok(&c, conf);
	assert_string_equal(c.mqtt.password, "pa ss");
	config_done(&c);
	assert_int_equal(chmod(secret, 0400), 0);
	load_ok(&c, conf);
	assert_string_equal(c.mqtt.password, "pa ss");
	config_done(&c);

	/* Group or world access, even only execute or write, is refused. */
	assert_int_equal(chmod(secret, 0644), 0);
	snprintf(want, sizeof(want),
	         "%s:3: mqtt.password_file: '%s' has mode 0644: expected no access for group "
	         "and others (chmod 600)",
	         conf, secret);
	expect_error(conf, -EINVAL, want);
	assert_int_equal(chmod(secret, 0620), 0);
	snprintf(want, sizeof(want),
	         "%s:3: mqtt.password_file: '%s' has mode 0620: expected no access for group "
	         "and others (chmod 600)",
	         conf, secret);
	expect_error(conf, -EINVAL, want);

	/* Missing: -EINVAL, not -ENOENT, which would mean "no configuration file" to main. */
	assert_int_equal(unlink(secret), 0);
	snprintf(want, sizeof(want), "%s:3: mqtt.password_file: '%s': No such file or directory",
	         conf, secret);
	expect_error(conf, -EINVAL, want);

	write_file(&t, names[2], "\n", 0600, empty, sizeof(empty));
	snprintf(text, sizeof(text),
	         "mqtt = {\n\tusername = \"linky\";\n\n\tpassword_file = \"%s\";\n};\n", empty);
	write_file(&t, names[1], text, 0644, conf, sizeof(conf));
	snprintf(want, sizeof(want),
	         "%s:4: mqtt.password_file: '%s' is empty: expected the password", conf, empty);
	expect_error(conf, -EINVAL, want);

	tmpdir_remove(&t, names, 3);
}

static void
test_set_inputs(void **state)
{
	char *two[] = {"serial:/dev/ttyAMA0", "/dev/ttyUSB0"};
	char *one[] = {"/dev/serial/by-id/usb-FTDI_FT230X_Basic_UART_DJ00XXXX-if00-port0"};
	char *scheme[] = {"tcp:192.168.1.20:3000"};
	char *twice[] = {"/dev/ttyUSB0", "serial:/dev/ttyUSB0"};
	char *same_name[] = {"/dev/ttyUSB0", "/dev/serial/ttyUSB0"};
	char *empty_dev[] = {"serial:"};
	char err[CONFIG_ERROR_SIZE] = "";
	struct linkyd_config c;

	(void) state;
	assert_int_equal(config_defaults(&c), 0);
	assert_int_equal(config_set_inputs(&c, two, 2, err, sizeof(err)), 0);
	assert_int_equal(c.n_meters, 2);
	assert_string_equal(c.meters[0].name, "ttyAMA0");
	assert_string_equal(c.meters[0].device, "/dev/ttyAMA0");
	assert_int_equal(c.meters[0].mode, TIC_MODE_UNKNOWN);
	assert_string_equal(c.meters[0].topic, "teleinfo/ttyAMA0");
	assert_string_equal(c.meters[1].name, "ttyUSB0");
	assert_string_equal(c.meters[1].device, "/dev/ttyUSB0");
	assert_string_equal(c.meters[1].topic, "teleinfo/ttyUSB0");
	assert_int_equal(config_validate(&c, err, sizeof(err)), 0);

	/* A single input keeps the plain topic. */
	assert_int_equal(config_set_inputs(&c, one, 1, err, sizeof(err)), 0);
	assert_int_equal(c.n_meters, 1);
	assert_string_equal(c.meters[0].name, "usb-FTDI_FT230X_Basic_UART_DJ00XXXX-if00-port0");
	assert_string_equal(c.meters[0].device, one[0]);
	assert_string_equal(c.meters[0].topic, CONFIG_DEFAULT_TOPIC);

	/* Errors leave the meters as they were. */
	assert_int_equal(config_set_inputs(&c, scheme, 1, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "-i: expected serial:DEVICE or a device path such as "
	                         "/dev/ttyUSB0, not 'tcp:192.168.1.20:3000'");
	assert_int_equal(config_set_inputs(&c, twice, 2, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "-i: '/dev/ttyUSB0' is given twice");
	assert_int_equal(config_set_inputs(&c, same_name, 2, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "-i: '/dev/ttyUSB0' and '/dev/serial/ttyUSB0' would both be named "
	                         "'ttyUSB0'");
	assert_int_equal(config_set_inputs(&c, empty_dev, 1, err, sizeof(err)), -EINVAL);
	assert_int_equal(config_set_inputs(&c, one, 0, err, sizeof(err)), -EINVAL);
	assert_int_equal(c.n_meters, 1);
	assert_string_equal(c.meters[0].device, one[0]);
	config_done(&c);
}

/* config_validate() names the setting, without a file. */
static void
test_validate(void **state)
{
	char err[CONFIG_ERROR_SIZE] = "";
	struct linkyd_config c;

	(void) state;
	assert_int_equal(config_defaults(&c), 0);
	c.mqtt.cert_file = strdup("/etc/linkyd/client.crt");
	free(c.mqtt.url);
	c.mqtt.url = strdup("mqtts://broker");
	assert_int_equal(config_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "mqtt.cert_file: expected mqtt.key_file too");
	c.mqtt.key_file = strdup("/etc/linkyd/client.key");
	assert_int_equal(config_validate(&c, err, sizeof(err)), 0);
	free(c.mqtt.url);
	c.mqtt.url = strdup("mqtt://");
	assert_int_equal(config_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "mqtt.url: expected mqtt://host[:port] or mqtts://host[:port]");
	config_done(&c);
}

static void
test_urls(void **state)
{
	static const struct {
		const char *url;
		bool ok;
	} urls[] = {
	    {"mqtt://localhost", true},
	    {"mqtt://localhost:1883", true},
	    {"mqtts://broker.example.org", true},
	    {"mqtts://10.0.0.2:8883", true},
	    {"mqtt://[::1]:1883", true},
	    {"mqtt://[fe80::1]", true},
	    {"mqtt://", false},
	    {"mqtt://host:", false},
	    {"mqtt://host:0", false},
	    {"mqtt://host:99999", false},
	    {"mqtt://host/", false},
	    {"mqtt://user:pw@host", false},
	    {"ssl://host", false},
	    {"MQTT://host", false},
	    {"mqtt://[::1", false},
	    {"mqtt://host:18x3", false},
	};
	char err[CONFIG_ERROR_SIZE];
	struct linkyd_config c;

	(void) state;
	assert_int_equal(config_defaults(&c), 0);
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		free(c.mqtt.url);
		c.mqtt.url = strdup(urls[i].url);
		print_message("%s\n", urls[i].url);
		assert_int_equal(config_validate(&c, err, sizeof(err)), urls[i].ok ? 0 : -EINVAL);
	}
	config_done(&c);
}

/* Print, read the output back, compare: for full.conf and for the defaults. */
static void
round_trip(const char *path)
{
	static const char *const names[] = {"printed.conf"};
	char *text = NULL, printed[128];
	struct linkyd_config a, b;
	struct tmpdir t;
	size_t size = 0;
	FILE *out;

	if (path)
		load_ok(&a, path);
	else
		assert_int_equal(config_defaults(&a), 0);
	out = open_memstream(&text, &size);
	assert_non_null(out);
	config_print(&a, out);
	assert_int_equal(fclose(out), 0);
	print_message("%s", text);

	if (a.mqtt.password) {
		assert_non_null(strstr(text, "password = \"********\";"));
		assert_null(strstr(text, a.mqtt.password));
	}
	if (a.mqtt.username)
		assert_non_null(strstr(text, a.mqtt.username));

	tmpdir_make(&t);
	write_file(&t, names[0], text, 0600, printed, sizeof(printed));
	load_ok(&b, printed);
	assert_config_equal(&a, &b, false);
	if (a.mqtt.password)
		assert_string_equal(b.mqtt.password, "********");
	else
		assert_null(b.mqtt.password);
	config_done(&a);
	config_done(&b);
	free(text);
	tmpdir_remove(&t, names, 1);
}

static void
test_print(void **state)
{
	(void) state;
	round_trip(DATA("full.conf"));
	round_trip(NULL);
	round_trip(LINKYD_SAMPLE_CONF);
}

/* Reload: which meters carry on. */
static void
test_meter_kept(void **state)
{
	static const char *const names[] = {"old.conf", "new.conf"};
	static const char *const meters =
	    "meters = ( { name = \"a\"; input = \"/dev/ttyUSB0\"; },\n"
	    "           { name = \"b\"; input = \"/dev/ttyUSB1\"; } );\n";
	static const struct {
		const char *extra;
		bool a, b; /* kept */
	} cases[] = {
	    {"", true, true},
	    {"log = { level = \"debug\"; };\n", true, true},
	    {"publish = { format = \"raw\"; };\n", false, false},
	    {"mqtt = { qos = 0; };\n", false, false},
	    {"homeassistant = { prefix = \"ha\"; };\n", false, false},
	    {"publish = { anonymise = true; anonymise_key = \"k\"; };\n", false, false},
	    {"state_dir = \"/tmp\";\n", false, false},
	    {"publish = { label_topics = true; };\n", false, false},
	};
	char old_path[128], new_path[128], text[512];
	struct linkyd_config old, fresh;
	struct tmpdir t;

	(void) state;
	tmpdir_make(&t);
	write_file(&t, names[0], meters, 0600, old_path, sizeof(old_path));
	load_ok(&old, old_path);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s", cases[i].extra);
		snprintf(text, sizeof(text), "%s%s", meters, cases[i].extra);
		write_file(&t, names[1], text, 0600, new_path, sizeof(new_path));
		load_ok(&fresh, new_path);
		assert_int_equal(config_meter_kept(&old, &fresh, &old.meters[0]), cases[i].a);
		assert_int_equal(config_meter_kept(&old, &fresh, &old.meters[1]), cases[i].b);
		config_done(&fresh);
	}
	/* One meter's own settings restart that meter alone. */
	snprintf(text, sizeof(text),
	         "meters = ( { name = \"a\"; input = \"/dev/ttyUSB0\"; },\n"
	         "           { name = \"b\"; input = \"/dev/ttyUSB1\"; "
	         "tariff_names = ( \"HC\" ); } );\n");
	write_file(&t, names[1], text, 0600, new_path, sizeof(new_path));
	load_ok(&fresh, new_path);
	assert_true(config_meter_kept(&old, &fresh, &old.meters[0]));
	assert_false(config_meter_kept(&old, &fresh, &old.meters[1]));
	config_done(&fresh);
	config_done(&old);
	tmpdir_remove(&t, names, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),     cmocka_unit_test(test_sample),
	    cmocka_unit_test(test_full),         cmocka_unit_test(test_lone_meter_defaults),
	    cmocka_unit_test(test_bad_files),    cmocka_unit_test(test_include),
	    cmocka_unit_test(test_missing_file), cmocka_unit_test(test_password_file),
	    cmocka_unit_test(test_set_inputs),   cmocka_unit_test(test_validate),
	    cmocka_unit_test(test_urls),         cmocka_unit_test(test_print),
	    cmocka_unit_test(test_meter_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
