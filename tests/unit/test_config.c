/* SPDX-License-Identifier: MIT */
/*
 * Tests of the configuration module: defaults, the shipped sample, a complete file, one fixture
 * per mistake with its exact one-line error, the command line, config_print() read back, reload
 * comparison, snapshots and origins, and the files libconfig must never see as they are
 * (directories, NUL bytes, huge lines).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "linkyd/config.h"

#define DATA(name) LINKYD_TEST_DATA "/config/" name
#define HOST       "test-host"

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

/* Write len bytes of text to dir/name with the given mode; the full path goes to ret_path. */
static void
write_bytes(const struct tmpdir *t, const char *name, const char *text, size_t len, mode_t mode,
            char *ret_path, size_t size)
{
	int fd;

	snprintf(ret_path, size, "%s/%s", t->path, name);
	fd = open(ret_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t) len);
	/* chmod after creation: the umask would otherwise mask the bits under test. */
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void
write_file(const struct tmpdir *t, const char *name, const char *text, char *ret_path, size_t size)
{
	write_bytes(t, name, text, strlen(text), 0600, ret_path, size);
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

/* The configuration that args give, or a failed test with its error. */
static const struct linkyd_config *
load_args(struct config_args *args)
{
	char err[CONFIG_ERROR_SIZE] = "";
	const struct linkyd_config *c = NULL;

	if (!args->hostname)
		args->hostname = HOST;
	if (config_load(args, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_non_null(c);
	return c;
}

static const struct linkyd_config *
load_ok(const char *path)
{
	struct config_args args = {.path = path};

	return load_args(&args);
}

/* Loading args fails with r and exactly the message want, on one line, and gives nothing. */
static void
expect_args_error(struct config_args *args, int r, const char *want)
{
	char err[CONFIG_ERROR_SIZE] = "";
	const struct linkyd_config *c = NULL;

	args->hostname = HOST;
	assert_int_equal(config_load(args, &c, err, sizeof(err)), r);
	assert_string_equal(err, want);
	assert_null(strchr(err, '\n'));
	assert_null(c);
}

static void
expect_error(const char *path, int r, const char *want)
{
	struct config_args args = {.path = path};

	expect_args_error(&args, r, want);
}

/* Loading the file holding text fails with "PATH:<want>". */
static void
expect_text_error(const char *text, size_t len, const char *want)
{
	static const char *const names[] = {"linkyd.conf"};
	char path[128], full[CONFIG_ERROR_SIZE];
	struct tmpdir t;

	tmpdir_make(&t);
	write_bytes(&t, names[0], text, len, 0600, path, sizeof(path));
	snprintf(full, sizeof(full), "%s:%s", path, want);
	print_message("%s\n", full);
	expect_error(path, -EINVAL, full);
	tmpdir_remove(&t, names, 1);
}

/* What config_print() writes. Free with free(). */
static char *
printed(const struct linkyd_config *c)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	assert_non_null(out);
	assert_int_equal(config_print(c, out), 0);
	assert_int_equal(fclose(out), 0);
	return text;
}

static void
assert_defaults(const struct linkyd_config *c)
{
	assert_int_equal(c->n_meters, 1);
	assert_string_equal(c->meters[0].name, "meter");
	assert_int_equal(c->meters[0].input.kind, INPUT_SERIAL);
	assert_string_equal(c->meters[0].input.spec, CONFIG_DEFAULT_INPUT);
	assert_string_equal(c->meters[0].input.path, CONFIG_DEFAULT_INPUT);
	assert_int_equal(c->meters[0].mode, TIC_MODE_UNKNOWN);
	assert_string_equal(c->meters[0].topic, CONFIG_DEFAULT_TOPIC);
	assert_string_equal(c->mqtt.url, CONFIG_DEFAULT_URL);
	assert_null(c->mqtt.client_id);
	assert_null(c->mqtt.username);
	assert_null(c->mqtt.password);
	assert_null(c->mqtt.password_file);
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
	assert_string_equal(c->state_dir, CONFIG_DEFAULT_STATE_DIR);
	assert_false(c->anonymise);
	assert_null(c->anonymise_key);
	assert_int_equal(c->publish.policy.kind, PUBLISH_EVERY_FRAME);
	assert_int_equal(c->publish.policy.interval, CONFIG_DEFAULT_INTERVAL);
	assert_int_equal(c->publish.policy.heartbeat, CONFIG_DEFAULT_HEARTBEAT);
	assert_int_equal(c->publish.policy.deadband, 0);
	assert_false(c->publish.label_topics);
	assert_false(c->publish.label_retain);
	assert_true(c->publish.derived);
	assert_true(c->publish.index_guard);
	assert_int_equal(c->publish.n_labels, 0);
	assert_memory_equal(&c->meters[0].publish.policy, &c->publish.policy,
	                    sizeof(c->publish.policy));
	assert_int_equal(c->meters[0].publish.n_labels, 0);
	/* "linkyd-" and 8 hex digits of the host and the device. */
	assert_int_equal(strlen(c->meters[0].client_id), 15);
	assert_memory_equal(c->meters[0].client_id, "linkyd-", 7);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void
test_defaults(void **state)
{
	struct config_args args = {0};
	const struct linkyd_config *c;

	(void) state;
	c = load_args(&args);
	assert_defaults(c);
	assert_null(config_unref(c));
	/* An optional file that does not exist: the defaults too. */
	args.path = DATA("no-such-file.conf");
	args.optional = true;
	c = load_args(&args);
	assert_defaults(c);
	config_unref(c);
	assert_null(config_unref(NULL));
}

/* The shipped sample loads, and as all its settings are commented out, changes nothing. */
static void
test_sample(void **state)
{
	struct config_args none = {0};
	const struct linkyd_config *c, *d;
	char *a, *b;

	(void) state;
	c = load_ok(LINKYD_SAMPLE_CONF);
	d = load_args(&none);
	assert_defaults(c);
	a = printed(c);
	b = printed(d);
	assert_string_equal(a, b);
	free(a);
	free(b);
	config_unref(c);
	config_unref(d);
}

static void
test_full(void **state)
{
	const struct linkyd_config *c;

	(void) state;
	c = load_ok(DATA("full.conf"));
	assert_int_equal(c->n_meters, 3);
	assert_string_equal(c->meters[0].name, "conso");
	assert_string_equal(c->meters[0].input.spec, "serial:/dev/ttyAMA0");
	assert_string_equal(c->meters[0].input.path, "/dev/ttyAMA0");
	assert_int_equal(c->meters[0].mode, TIC_MODE_HISTORIQUE);
	assert_string_equal(c->meters[0].topic, "home/linky/conso");
	assert_string_equal(c->meters[0].client_id, "linkyd-test-conso");
	assert_string_equal(c->meters[1].name, "prod");
	assert_string_equal(c->meters[1].input.path,
	                    "/dev/serial/by-path/platform-3f980000.usb-usb-0:1.3:1.0-port0");
	assert_int_equal(c->meters[1].mode, TIC_MODE_STANDARD);
	assert_string_equal(c->meters[1].topic, "teleinfo/prod");
	assert_string_equal(c->meters[2].name, "meter2");
	assert_string_equal(c->meters[2].input.path, "/dev/ttyUSB1");
	assert_int_equal(c->meters[2].mode, TIC_MODE_UNKNOWN);
	assert_string_equal(c->meters[2].topic, "home/linky/\"third\"");
	assert_int_equal(c->meters[2].n_tariff_names, 2);
	assert_string_equal(c->meters[2].tariff_names[0], "HEURES CREUSES");
	assert_string_equal(c->meters[2].tariff_names[1], "");
	assert_int_equal(c->meters[2].n_distributor_names, 1);
	assert_string_equal(c->meters[2].distributor_names[0], "HC Enedis");
	assert_int_equal(c->meters[1].n_tariff_names, 0);
	assert_string_equal(c->mqtt.url, "mqtts://broker.example.org:8884");
	assert_string_equal(c->mqtt.client_id, "linkyd-test");
	assert_string_equal(c->mqtt.username, "linky");
	assert_string_equal(c->mqtt.password, "s3cr\\et");
	assert_null(c->mqtt.password_file);
	assert_string_equal(c->mqtt.ca_file, "/etc/linkyd/ca.crt");
	assert_string_equal(c->mqtt.cert_file, "/etc/linkyd/client.crt");
	assert_string_equal(c->mqtt.key_file, "/etc/linkyd/client.key");
	assert_false(c->mqtt.verify_hostname);
	assert_int_equal(c->mqtt.keepalive, 60);
	assert_int_equal(c->mqtt.qos, 2);
	assert_true(c->mqtt.retain);
	assert_int_equal(c->mqtt.queue_frames, 100);
	assert_int_equal(c->format, JSON_FORMAT_RAW);
	assert_int_equal(c->verbosity, 2);
	assert_false(c->ha.discovery);
	assert_string_equal(c->ha.prefix, "ha/discovery");
	assert_int_equal(c->ha.expire_after, 0);
	/* The global publish group, inherited by every meter, then conso's own over it. */
	assert_int_equal(c->publish.policy.kind, PUBLISH_ON_CHANGE);
	assert_int_equal(c->publish.policy.deadband, 50);
	assert_int_equal(c->publish.policy.heartbeat, 300);
	assert_int_equal(c->publish.policy.interval, 5);
	assert_true(c->publish.label_topics);
	assert_true(c->publish.label_retain);
	assert_int_equal(c->publish.n_labels, 1);
	assert_false(c->publish.derived);
	assert_false(c->publish.index_guard);
	assert_true(c->anonymise);
	assert_string_equal(c->anonymise_key, "k3y");
	assert_string_equal(c->state_dir, "/tmp/linkyd-state");
	/* The labels start from the group's policy, wherever they stand in it. */
	assert_int_equal(config_label_policy(&c->publish, "PJOURF+1")->kind, PUBLISH_ON_CHANGE);
	assert_int_equal(config_label_policy(&c->publish, "PJOURF+1")->heartbeat, 3600);
	assert_int_equal(config_label_policy(&c->publish, "PJOURF+1")->deadband, 50);
	for (size_t i = 1; i < 3; i++) {
		assert_memory_equal(&c->meters[i].publish.policy, &c->publish.policy,
		                    sizeof(c->publish.policy));
		assert_true(c->meters[i].publish.label_topics);
		assert_int_equal(c->meters[i].publish.n_labels, 1);
	}
	assert_int_equal(c->meters[0].publish.policy.kind, PUBLISH_INTERVAL);
	assert_int_equal(c->meters[0].publish.policy.interval, 30);
	assert_true(c->meters[0].publish.label_topics);
	assert_false(c->meters[0].publish.label_retain);
	assert_int_equal(c->meters[0].publish.n_labels, 2);
	assert_int_equal(config_label_policy(&c->meters[0].publish, "IINST")->kind,
	                 PUBLISH_EVERY_FRAME);
	assert_int_equal(config_label_policy(&c->meters[0].publish, "PJOURF+1")->heartbeat, 3600);
	assert_int_equal(config_label_policy(&c->meters[0].publish, "PAPP")->kind,
	                 PUBLISH_INTERVAL);
	config_unref(c);
}

/* A lone meter without name, input or topic gets the same defaults as no file; a meter takes
 * the global publish settings even when the file has no meters. */
static void
test_lone_meter_defaults(void **state)
{
	static const char *const names[] = {"linkyd.conf"};
	const struct linkyd_config *c;
	struct tmpdir t;
	char path[128];

	(void) state;
	tmpdir_make(&t);
	write_file(&t, names[0], "meters = ( { mode = \"standard\"; } );\n", path, sizeof(path));
	c = load_ok(path);
	assert_int_equal(c->n_meters, 1);
	assert_string_equal(c->meters[0].name, "meter");
	assert_string_equal(c->meters[0].input.path, CONFIG_DEFAULT_INPUT);
	assert_int_equal(c->meters[0].mode, TIC_MODE_STANDARD);
	assert_string_equal(c->meters[0].topic, CONFIG_DEFAULT_TOPIC);
	config_unref(c);

	write_file(&t, names[0], "publish = { policy = \"interval\"; interval = 7; };\n", path,
	           sizeof(path));
	c = load_ok(path);
	assert_int_equal(c->meters[0].publish.policy.kind, PUBLISH_INTERVAL);
	assert_int_equal(c->meters[0].publish.policy.interval, 7);
	config_unref(c);
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
    {"bad-input.conf",
     "2: meters[0].input: expected serial:DEVICE, tcp:HOST:PORT, d2l:[ADDR:]PORT or a device "
     "path such as /dev/ttyUSB0"},
    {"empty-name.conf", "3: meters[0].name: expected a non-empty string without '/'"},
    {"empty-meters.conf", "2: meters: 0 entries: expected 1 to 64"},
    {"dup-name.conf", "6: meters[1].name: 'home' is already the name of meters[0]"},
    {"dup-default-name.conf", "4: meters[1].name: 'meter1' is already the name of meters[0]"},
    {"dup-topic.conf", "4: meters[1].topic: 'linky' is already the topic of meters[0]"},
    {"dup-input.conf", "4: meters[1].input: '/dev/ttyUSB0' is already the input of meters[0]"},
    {"no-input.conf",
     "4: meters[1].input: expected serial:DEVICE, tcp:HOST:PORT, d2l:[ADDR:]PORT or a device "
     "path such as /dev/ttyUSB0 (only a lone meter defaults to /dev/serial0)"},
    {"wildcard-topic.conf",
     "2: meters[0].topic: expected a non-empty topic without wildcards (+, #)"},
    {"cert-no-key.conf", "4: mqtt.cert_file: expected mqtt.key_file too"},
    {"tls-plain.conf", "4: mqtt.ca_file: expected an mqtts:// mqtt.url to use it"},
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
    {"http-listen-name.conf", "3: http.listen: expected \"ADDR:PORT\", \"[IPv6]:PORT\" or "
                              "\"PORT\" (numeric, port 1 to 65535)"},
    {"http-listen-port.conf", "2: http.listen: expected \"ADDR:PORT\", \"[IPv6]:PORT\" or "
                              "\"PORT\" (numeric, port 1 to 65535)"},
    {"http-user-no-password.conf",
     "4: http.username: expected http.password or http.password_file too"},
    {"http-password-both.conf",
     "5: http.password_file: expected http.password or http.password_file, not both"},
    {"http-teleinfo-unknown.conf", "4: http.teleinfo1: 'garage': expected the name of a meter"},
    {"http-teleinfo-same.conf",
     "5: http.teleinfo2: 'home' is already http.teleinfo1: expected another meter"},
    {"http-realm.conf", "2: http.realm: expected printable ASCII without '\"' or '\\'"},
    {"bad-optarif.conf",
     "2: meters[0].optarif: expected \"auto\", \"base\", \"hc\", \"ejp\" or \"tempo\""},
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

/* Mistakes that need a file written for them, each with the line at fault. */
static void
test_bad_texts(void **state)
{
	static const struct {
		const char *text, *error;
	} texts[] = {
	    /* Neither topic may be another's, nor below it: linkyd publishes under each. */
	    {"meters = ( { name = \"a\"; input = \"/dev/a\"; topic = \"x\"; },\n"
	     "           { name = \"b\"; input = \"/dev/b\"; topic = \"x/status\"; } );\n",
	     "2: meters[1].topic: 'x/status' and 'x', the topic of meters[0]: expected topics "
	     "neither of which is below the other"},
	    {"meters = ( { name = \"a\"; input = \"/dev/a\"; topic = \"x/y/z\"; },\n"
	     "           { name = \"b\"; input = \"/dev/b\"; topic = \"x/y\"; } );\n",
	     "2: meters[1].topic: 'x/y' and 'x/y/z', the topic of meters[0]: expected topics "
	     "neither of which is below the other"},
	    {"meters = ( {\n\ttopic = \"homeassistant/linky\"; } );\n",
	     "2: meters[0].topic: 'homeassistant/linky' is below homeassistant.prefix "
	     "'homeassistant': expected a topic outside Home Assistant's discovery"},
	    {"homeassistant = { prefix = \"ha\"; };\nmeters = ( {\n\ttopic = \"ha\"; } );\n",
	     "3: meters[0].topic: 'ha' is below homeassistant.prefix 'ha': expected a topic "
	     "outside Home Assistant's discovery"},
	    /* A name names the state file: no directory in it. */
	    {"meters = ( {\n\tname = \"../etc/passwd\"; } );\n",
	     "2: meters[0].name: expected a non-empty string without '/'"},
	    {"meters = ( {\n\tsilence = 1; } );\n",
	     "2: meters[0].silence: expected an integer from 2 to 3600 (seconds)"},
	    /* MQTT strings: UTF-8. */
	    {"mqtt = {\n\tusername = \"caf\\xe9\"; };\n",
	     "2: mqtt.username: byte 4: expected UTF-8"},
	    {"meters = ( { topic = \"t\\xc0\\xaf\"; } );\n",
	     "1: meters[0].topic: byte 2: expected UTF-8"},
	    {"meters = ( { topic = \"\\xed\\xa0\\x80\"; } );\n",
	     "1: meters[0].topic: byte 1: expected UTF-8"},
	    /* A device path opened from the daemon's working directory, / under systemd. */
	    {"meters = ( { input = \"ttyUSB0\"; } );\n",
	     "1: meters[0].input: 'ttyUSB0': expected an absolute device path such as "
	     "/dev/ttyUSB0"},
	    {"mqtt = {\n\tpassword_file = \"/f\"; };\n",
	     "2: mqtt.password_file: expected mqtt.username too"},
	    {"meters = ( { tariff_names = ( \"HC\", 1 ); } );\n",
	     "1: meters[0].tariff_names[1]: expected a string, not an integer"},
	    {"meters = ( { tariff_names = ( \"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\", "
	     "\"8\", "
	     "\"9\", \"10\", \"11\" ); } );\n",
	     "1: meters[0].tariff_names: 11 entries: expected a list of at most 10 strings"},
	    {"meters = (\n\t{ client_id = \"x\"; } );\n",
	     "2: meters[0].client_id: unknown setting"},
	    /* libconfig: "syntax error" at the end of the file (and the string leaked). */
	    {"mqtt = {\n\tusername = \"abc;\n};\n", "2: expected the closing quote of this string"},
	};
	static const char *const names[] = {"linkyd.conf"};
	char path[128], want[CONFIG_ERROR_SIZE];
	struct tmpdir t;

	(void) state;
	tmpdir_make(&t);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		write_file(&t, names[0], texts[i].text, path, sizeof(path));
		snprintf(want, sizeof(want), "%s:%s", path, texts[i].error);
		print_message("%s\n", want);
		expect_error(path, -EINVAL, want);
	}
	/* The other one's place in the message. */
	write_file(
	    &t, names[0],
	    "mqtt = { username = \"u\";\n\tpassword = \"p\";\n\tpassword_file = \"/f\"; };\n", path,
	    sizeof(path));
	snprintf(want, sizeof(want),
	         "%s:3: mqtt.password_file: expected mqtt.password or mqtt.password_file, not both "
	         "(mqtt.password is at %s:2)",
	         path, path);
	expect_error(path, -EINVAL, want);
	tmpdir_remove(&t, names, 1);
}

/* Strings MQTT cannot carry (a 16-bit length) are refused where they are written, whatever
 * their setting, rather than failing at every connection. */
static void
test_mqtt_strings(void **state)
{
	static const struct {
		const char *before, *after, *error;
	} cases[] = {
	    {"meters = ( {\n\ttopic = \"", "\"; } );\n",
	     "2: meters[0].topic: 70000 bytes: expected at most 200"},
	    {"homeassistant = {\n\tprefix = \"", "\"; };\n",
	     "2: homeassistant.prefix: 70000 bytes: expected at most 100"},
	    {"mqtt = {\n\tusername = \"", "\"; };\n",
	     "2: mqtt.username: 70000 bytes: expected at most 65535"},
	    {"mqtt = { username = \"u\";\n\tpassword = \"", "\"; };\n",
	     "2: mqtt.password: 70000 bytes: expected at most 65535"},
	    {"mqtt = {\n\tclient_id = \"", "\"; };\n",
	     "2: mqtt.client_id: 70000 bytes: expected at most 65535"},
	};
	size_t size = 70000 + 128;
	char *text = malloc(size);

	(void) state;
	assert_non_null(text);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].before);

		memcpy(text, cases[i].before, n);
		memset(text + n, 'a', 70000);
		strcpy(text + n + 70000, cases[i].after);
		expect_text_error(text, strlen(text), cases[i].error);
	}
	free(text);
}

/* libconfig drops a NUL and what follows it in a string ("a<NUL>b" was "a", "t\x00u" "tu"). */
static void
test_nul(void **state)
{
	static const char raw[] = "mqtt = { username = \"a\0b\"; };\n";
	static const char escaped[] = "log = {};\nmqtt = { username = \"t\\x00u\"; };\n";
	static const char upper[] = "mqtt = { username = \"t\\X00u\"; };\n";
	static const char *const names[] = {"linkyd.conf"};
	const struct linkyd_config *c;
	struct tmpdir t;
	char path[128];

	(void) state;
	expect_text_error(raw, sizeof(raw) - 1, "1: NUL byte: expected text");
	expect_text_error(escaped, strlen(escaped), "2: \"\\x00\" in a string: expected no NUL");
	expect_text_error(upper, strlen(upper), "1: \"\\x00\" in a string: expected no NUL");
	/* An escaped backslash before "x00" is a backslash; in a comment, nothing. */
	tmpdir_make(&t);
	write_file(&t, names[0],
	           "# \"\\x00\"\nmqtt = { username = \"t\\\\x00u\"; };\n/* \\x00 */\n", path,
	           sizeof(path));
	c = load_ok(path);
	assert_string_equal(c->mqtt.username, "t\\x00u");
	config_unref(c);
	tmpdir_remove(&t, names, 1);
}

/* What tests/fuzz/fuzz_config.c found, each input as it was reduced. */
static void
test_fuzz_findings(void **state)
{
	/* libconfig 1.5 leaks a string its parser takes nowhere (LeakSanitizer): refused first. */
	static const char *const stray[] = {
	    "\"\"\n",
	    "log = { level = \"info\"; };\n\"x\"\n",
	    "mqtt = {\n\t\"username\" = \"u\"; };\n",
	    "meters = ( { input = \"/dev/a\"; } \"c\" );\n",
	    "state_dir = \"/var/lib/x\", \"y\";\n",
	    "meters = ( {\n\ttariff_names = ( \"a\" 1 \"b\" ); } );\n",
	};
	static const char *const lines[] = {"1", "2", "2", "1", "1", "2"};
	static const char *const names[] = {"linkyd.conf"};
	const struct linkyd_config *c;
	char path[128], want[64], *deep;
	struct tmpdir t;

	(void) state;
	for (size_t i = 0; i < sizeof(stray) / sizeof(stray[0]); i++) {
		snprintf(want, sizeof(want), "%s: syntax error: a string where none may be",
		         lines[i]);
		expect_text_error(stray[i], strlen(stray[i]), want);
	}
	/* Strings where the parser takes them: values, list elements, pieces of one string. */
	tmpdir_make(&t);
	write_file(&t, names[0],
	           "mqtt = { username = \"u\" \"v\"; password: \"p\"; };\n"
	           "meters = ( { input = \"/dev/a\"; tariff_names = [ \"x\", \"y\" ]; },\n"
	           "\t{ input = \"/dev/b\"; tariff_names = ( \"z\" ); } );\n",
	           path, sizeof(path));
	c = load_ok(path);
	assert_string_equal(c->mqtt.username, "uv");
	assert_string_equal(c->meters[0].tariff_names[1], "y");
	assert_string_equal(c->meters[1].tariff_names[0], "z");
	config_unref(c);
	/* An empty list of label policies added nothing to the inherited one by realloc() of 0
	 * bytes and NULL + 0 (UBSan). */
	write_file(&t, names[0],
	           "publish = { labels = ( ); };\nmeters = ( { publish = { labels = ( ); }; } );\n",
	           path, sizeof(path));
	c = load_ok(path);
	assert_int_equal(c->publish.n_labels, 0);
	assert_int_equal(c->meters[0].publish.n_labels, 0);
	config_unref(c);
	tmpdir_remove(&t, names, 1);
	/* A value quoted in an error, on one line whatever it holds. */
	expect_text_error("meters = ( { input = \"a\nb\"; } );\n",
	                  strlen("meters = ( { input = \"a\nb\"; } );\n"),
	                  "1: meters[0].input: 'a?b': expected an absolute device path such as "
	                  "/dev/ttyUSB0");
	/* Nesting the scanner follows is bounded. */
	deep = calloc(1, 128);
	assert_non_null(deep);
	strcpy(deep, "a = ");
	memset(deep + 4, '(', 65);
	expect_text_error(deep, strlen(deep),
	                  "1: expected at most 64 groups, lists and arrays within each other");
	free(deep);
}

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Whatever the file, it is refused or read at once: libconfig took 42 s of CPU for a single
 * 10 MB line (the square of its length), and a quadratic time in the settings of a group. */
static void
test_bounds(void **state)
{
	static const char *const names[] = {"linkyd.conf"};
	size_t size = 10 * 1000 * 1000, n = 0;
	char *text = malloc(size + 1), path[128], want[CONFIG_ERROR_SIZE];
	struct tmpdir t;
	double t0;

	(void) state;
	assert_non_null(text);
	tmpdir_make(&t);
	memset(text, 'a', size);
	memcpy(text, "# ", 2);
	text[size - 1] = '\n';
	write_bytes(&t, names[0], text, size, 0600, path, sizeof(path));
	snprintf(want, sizeof(want),
	         "%s:1: expected at most 262144 bytes, its @include files included", path);
	t0 = seconds();
	expect_error(path, -EINVAL, want);
	assert_true(seconds() - t0 < 1.0);

	/* Within the size, a line too long. */
	write_bytes(&t, names[0], text, 200000, 0600, path, sizeof(path));
	snprintf(want, sizeof(want), "%s:1: line longer than 131072 bytes", path);
	expect_error(path, -EINVAL, want);

	/* Too many settings, even in a file small enough. */
	for (int i = 0; i < 2049; i++)
		n += (size_t) sprintf(text + n, "a%d=1;\n", i);
	write_bytes(&t, names[0], text, n, 0600, path, sizeof(path));
	snprintf(want, sizeof(want), "%s:2049: expected at most 2048 settings", path);
	t0 = seconds();
	expect_error(path, -EINVAL, want);
	assert_true(seconds() - t0 < 1.0);
	free(text);
	tmpdir_remove(&t, names, 1);
}

/* A FIFO or a terminal never blocks the loop. */
static void
test_fifo(void **state)
{
	static const char *const names[] = {"fifo"};
	const struct linkyd_config *c;
	struct tmpdir t;
	char path[128];
	double t0;

	(void) state;
	tmpdir_make(&t);
	snprintf(path, sizeof(path), "%s/%s", t.path, names[0]);
	assert_int_equal(mkfifo(path, 0600), 0);
	t0 = seconds();
	c = load_ok(path); /* no writer: an empty file */
	assert_true(seconds() - t0 < 1.0);
	assert_defaults(c);
	config_unref(c);
	tmpdir_remove(&t, names, 1);
}

/* @include: files put in their place by linkyd, so that libconfig never opens one; errors name
 * the file and line of the directive, or of the setting inside the included file. */
static void
test_include(void **state)
{
	static const char *const names[] = {"part.inc", "linkyd.conf", "self.conf", "empty.inc"};
	char part[128], conf[128], self[128], empty[128], text[1024], want[CONFIG_ERROR_SIZE];
	const struct linkyd_config *c;
	struct tmpdir t;

	(void) state;
	tmpdir_make(&t);
	/* An error inside the included file: its name and line. */
	write_file(&t, names[0], "mqtt = {\n\tqos = 5;\n};\n", part, sizeof(part));
	snprintf(text, sizeof(text), "meters = ( { name = \"home\"; } );\n@include \"%s\"\n", part);
	write_file(&t, names[1], text, conf, sizeof(conf));
	snprintf(want, sizeof(want), "%s:2: mqtt.qos: expected 0, 1 or 2", part);
	expect_error(conf, -EINVAL, want);

	/* Lines after a directive keep their numbers, and what follows it on its line too. */
	write_file(&t, names[0], "mqtt = {\n\tqos = 2;\n}; # no newline", part, sizeof(part));
	write_file(&t, names[3], "", empty, sizeof(empty));
	snprintf(text, sizeof(text),
	         "/* @include \"/nowhere\"\n"
	         "   @include \"/nowhere\" */\n"
	         " \t@include \"%s\" log = { level = \"info\"; };\n"
	         "@include \"%s\"\n"
	         "# @include \"/nowhere\"\n"
	         "state_dir = \"\n@include \\\"/nowhere\\\"\";\n"
	         "publish = { bogus = 1; };\n",
	         part, empty);
	write_file(&t, names[1], text, conf, sizeof(conf));
	snprintf(want, sizeof(want), "%s:8: publish.bogus: unknown setting", conf);
	expect_error(conf, -EINVAL, want);
	text[strlen(text) - strlen("publish = { bogus = 1; };\n")] = '\0';
	write_file(&t, names[1], text, conf, sizeof(conf));
	c = load_ok(conf);
	assert_int_equal(c->mqtt.qos, 2);
	assert_int_equal(c->verbosity, 1);
	assert_string_equal(c->state_dir, "\n@include \"/nowhere\"");
	snprintf(want, sizeof(want), "%s:2", part);
	assert_string_equal(config_where(c, "mqtt.qos"), want);
	snprintf(want, sizeof(want), "%s:3", conf);
	assert_string_equal(config_where(c, "log.level"), want);
	snprintf(want, sizeof(want), "%s:6", conf);
	assert_string_equal(config_where(c, "state_dir"), want);
	config_unref(c);

	/* What cannot be included: the line of the directive, never a dead daemon. */
	write_file(&t, names[1], "log = { level = \"info\"; };\n@include \"/tmp\"\n", conf,
	           sizeof(conf));
	snprintf(want, sizeof(want), "%s:2: @include: '/tmp': Is a directory", conf);
	expect_error(conf, -EINVAL, want);
	write_file(&t, names[1], "\n\n  @include \"/no/such/file\"\n", conf, sizeof(conf));
	snprintf(want, sizeof(want), "%s:3: @include: '/no/such/file': No such file or directory",
	         conf);
	expect_error(conf, -EINVAL, want);
	write_file(&t, names[1], "@include \"\"\n", conf, sizeof(conf));
	snprintf(want, sizeof(want),
	         "%s:1: @include: expected \"PATH\" on one line (with \\\\ and \\\" as its only "
	         "escapes)",
	         conf);
	expect_error(conf, -EINVAL, want);
	/* A file that includes itself. */
	snprintf(self, sizeof(self), "%s/%s", t.path, names[2]);
	snprintf(text, sizeof(text), "@include \"%s\"\n", self);
	write_file(&t, names[2], text, self, sizeof(self));
	snprintf(want, sizeof(want), "%s:1: @include: '%s': expected at most 10 nested files", self,
	         self);
	expect_error(self, -EINVAL, want);
	tmpdir_remove(&t, names, 4);
}

static void
test_missing_file(void **state)
{
	(void) state;
	expect_error(DATA("no-such-file.conf"), -ENOENT,
	             DATA("no-such-file.conf") ": No such file or directory");
	expect_error(LINKYD_TEST_DATA "/config", -EINVAL,
	             LINKYD_TEST_DATA "/config: Is a directory");
}

/* The password file is read where it is used (src/mqtt): the configuration keeps its path, and
 * where it was set for that reader's errors. */
static void
test_password_file(void **state)
{
	static const char *const names[] = {"linkyd.conf"};
	const struct linkyd_config *c;
	char conf[128], want[CONFIG_ERROR_SIZE];
	struct tmpdir t;

	(void) state;
	tmpdir_make(&t);
	write_file(&t, names[0],
	           "mqtt = {\n\tusername = \"linky\";\n\tpassword_file = \"/etc/linkyd/pw\";\n};\n",
	           conf, sizeof(conf));
	c = load_ok(conf);
	assert_string_equal(c->mqtt.password_file, "/etc/linkyd/pw");
	assert_null(c->mqtt.password);
	snprintf(want, sizeof(want), "%s:3", conf);
	assert_string_equal(config_where(c, "mqtt.password_file"), want);
	snprintf(want, sizeof(want), "%s:2", conf);
	assert_string_equal(config_where(c, "mqtt.username"), want);
	snprintf(want, sizeof(want), "%s:1", conf);
	assert_string_equal(config_where(c, "mqtt"), want);
	assert_null(config_where(c, "mqtt.password"));
	assert_null(config_where(c, "mqtt.qos"));
	config_unref(c);
	tmpdir_remove(&t, names, 1);
}

/* -i, --mqtt, --topic, --format, -v over the file; errors name the option. */
static void
test_command_line(void **state)
{
	char *two[] = {"serial:/dev/ttyAMA0", "/dev/ttyUSB0"};
	char *one[] = {"/dev/serial/by-id/usb-FTDI_FT230X_Basic_UART_DJ00XXXX-if00-port0"};
	char *scheme[] = {"ftp:192.168.1.20:3000"};
	char *bridges[] = {"tcp:192.168.1.20:3000", "tcp:[fe80::1]:23", "tcp:linky.local:8888"};
	char *bad_bridges[] = {"tcp:192.168.1.20", "tcp:host:0",   "tcp:host:65536", "tcp::23",
	                       "tcp:fe80::1:23",   "tcp:host:23x", "tcp:a/b:1"};
	char *twice[] = {"/dev/ttyUSB0", "serial:/dev/ttyUSB0"};
	char *same_name[] = {"/dev/ttyUSB0", "/dev/serial/ttyUSB0"};
	char *empty_dev[] = {"serial:"};
	struct config_args args = {.path = DATA("full.conf"), .inputs = two, .n_inputs = 2};
	const struct linkyd_config *c;

	(void) state;
	c = load_args(&args);
	assert_int_equal(c->n_meters, 2);
	assert_string_equal(c->meters[0].name, "ttyAMA0");
	assert_string_equal(c->meters[0].input.spec, "serial:/dev/ttyAMA0");
	assert_string_equal(c->meters[0].input.path, "/dev/ttyAMA0");
	assert_int_equal(c->meters[0].mode, TIC_MODE_UNKNOWN);
	assert_string_equal(c->meters[0].topic, "teleinfo/ttyAMA0");
	assert_string_equal(c->meters[0].client_id, "linkyd-test-ttyAMA0");
	assert_string_equal(c->meters[1].name, "ttyUSB0");
	assert_string_equal(c->meters[1].input.path, "/dev/ttyUSB0");
	assert_string_equal(c->meters[1].topic, "teleinfo/ttyUSB0");
	/* The file's global publish group still applies. */
	assert_int_equal(c->meters[1].publish.policy.kind, PUBLISH_ON_CHANGE);
	assert_string_equal(config_where(c, "meters"), "-i");
	assert_null(config_where(c, "meters[0].topic"));
	config_unref(c);

	/* A single input keeps the plain topic; --topic, --mqtt, --format, -v. */
	args = (struct config_args){.inputs = one,
	                            .n_inputs = 1,
	                            .topic = "home/linky",
	                            .mqtt_url = "mqtt://[::1]:1884",
	                            .format = "raw",
	                            .verbosity = 5};
	c = load_args(&args);
	assert_int_equal(c->n_meters, 1);
	assert_string_equal(c->meters[0].name, "usb-FTDI_FT230X_Basic_UART_DJ00XXXX-if00-port0");
	assert_string_equal(c->meters[0].input.path, one[0]);
	assert_string_equal(c->meters[0].topic, "home/linky");
	assert_string_equal(c->mqtt.url, "mqtt://[::1]:1884");
	assert_int_equal(c->format, JSON_FORMAT_RAW);
	assert_int_equal(c->verbosity, 2);
	assert_string_equal(config_where(c, "meters[0].topic"), "--topic");
	assert_string_equal(config_where(c, "mqtt.url"), "--mqtt");
	config_unref(c);
	args = (struct config_args){.inputs = two, .n_inputs = 2, .topic = "home/linky"};
	c = load_args(&args);
	assert_string_equal(c->meters[1].topic, "home/linky/ttyUSB0");
	config_unref(c);

	/* Serial bridges: host and port, an IPv6 address without its brackets; named HOST:PORT. */
	args = (struct config_args){.inputs = bridges, .n_inputs = 3};
	c = load_args(&args);
	assert_int_equal(c->meters[0].input.kind, INPUT_TCP);
	assert_string_equal(c->meters[0].input.host, "192.168.1.20");
	assert_int_equal(c->meters[0].input.port, 3000);
	assert_string_equal(c->meters[0].name, "192.168.1.20:3000");
	assert_string_equal(c->meters[1].input.host, "fe80::1");
	assert_int_equal(c->meters[1].input.port, 23);
	assert_string_equal(c->meters[2].input.host, "linky.local");
	assert_string_equal(c->meters[2].input.spec, "tcp:linky.local:8888");
	config_unref(c);

	/* Errors give nothing. */
	args = (struct config_args){.inputs = scheme, .n_inputs = 1};
	expect_args_error(&args, -EINVAL,
	                  "-i: meters[0].input: 'ftp:192.168.1.20:3000': expected serial:DEVICE, "
	                  "tcp:HOST:PORT, d2l:[ADDR:]PORT or a device path such as /dev/ttyUSB0");
	for (size_t i = 0; i < sizeof(bad_bridges) / sizeof(bad_bridges[0]); i++) {
		char want[CONFIG_ERROR_SIZE];

		snprintf(want, sizeof(want),
		         "-i: meters[0].input: '%s': expected serial:DEVICE, tcp:HOST:PORT, "
		         "d2l:[ADDR:]PORT or a device path such as /dev/ttyUSB0",
		         bad_bridges[i]);
		args = (struct config_args){.inputs = &bad_bridges[i], .n_inputs = 1};
		expect_args_error(&args, -EINVAL, want);
	}
	args = (struct config_args){.inputs = twice, .n_inputs = 2};
	expect_args_error(&args, -EINVAL,
	                  "-i: meters[1].input: '/dev/ttyUSB0' is already the input of meters[0]");
	args = (struct config_args){.inputs = same_name, .n_inputs = 2};
	expect_args_error(&args, -EINVAL,
	                  "-i: meters[1].name: 'ttyUSB0' is already the name of meters[0]");
	args = (struct config_args){.inputs = empty_dev, .n_inputs = 1};
	expect_args_error(&args, -EINVAL,
	                  "-i: meters[0].input: 'serial:': expected serial:DEVICE, tcp:HOST:PORT, "
	                  "d2l:[ADDR:]PORT or a device path such as /dev/ttyUSB0");
	args = (struct config_args){.topic = "a/#"};
	expect_args_error(&args, -EINVAL,
	                  "--topic: meters[0].topic: expected a non-empty topic without wildcards "
	                  "(+, #)");
	args = (struct config_args){.format = "json"};
	expect_args_error(&args, -EINVAL,
	                  "--format: publish.format: expected \"typed\" or \"raw\"");
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

	(void) state;
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		struct config_args args = {.mqtt_url = urls[i].url};

		print_message("%s\n", urls[i].url);
		if (urls[i].ok)
			config_unref(load_args(&args));
		else
			expect_args_error(&args, -EINVAL,
			                  "--mqtt: mqtt.url: expected mqtt://host[:port] or "
			                  "mqtts://host[:port]");
	}
}

/* --http and what http.listen takes: numeric addresses only, a lone port on the loopback. */
static void
test_http_listen(void **state)
{
	static const struct {
		const char *listen;
		int family;
		const char *addr;
		unsigned port;
	} ok[] = {
	    {"8080", AF_INET, "127.0.0.1", 8080},
	    {"0.0.0.0:80", AF_INET, "0.0.0.0", 80},
	    {"192.168.1.2:65535", AF_INET, "192.168.1.2", 65535},
	    {"[::1]:8080", AF_INET6, "::1", 8080},
	    {"[::]:1", AF_INET6, "::", 1},
	};
	static const char *const bad[] = {
	    "",           "0",       "65536",      ":8080",           "host:8080",
	    "1.2.3:80",   "[::1]",   "[::1]8080",  "::1:8080",        "1.2.3.4:",
	    "1.2.3.4:8x", "[::1:80", "1.2.3.4:-1", "1.2.3.4:00080000"};
	const struct linkyd_config *c;
	char text[INET6_ADDRSTRLEN];

	(void) state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct config_args args = {.http = ok[i].listen};
		struct config_listen l;

		print_message("%s\n", ok[i].listen);
		c = load_args(&args);
		assert_string_equal(c->http.listen, ok[i].listen);
		assert_string_equal(config_where(c, "http.listen"), "--http");
		assert_int_equal(config_listen_parse(ok[i].listen, &l), 0);
		assert_int_equal(l.family, ok[i].family);
		assert_int_equal(l.port, ok[i].port);
		assert_non_null(inet_ntop(l.family, l.addr, text, sizeof(text)));
		assert_string_equal(text, ok[i].addr);
		config_unref(c);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config_args args = {.http = bad[i]};

		print_message("'%s'\n", bad[i]);
		expect_args_error(&args, -EINVAL,
		                  "--http: http.listen: expected \"ADDR:PORT\", \"[IPv6]:PORT\" or "
		                  "\"PORT\" (numeric, port 1 to 65535)");
	}
	/* Off by default; the rest at its defaults. */
	c = load_ok(NULL);
	assert_null(c->http.listen);
	assert_null(c->http.username);
	assert_string_equal(c->http.realm, CONFIG_DEFAULT_HTTP_REALM);
	assert_int_equal(c->http.max_connections, CONFIG_DEFAULT_HTTP_CONNECTIONS);
	assert_int_equal(c->meters[0].optarif, HTTP_OPTARIF_AUTO);
	config_unref(c);
}

/* -i replaces the meters, and so the file's choice of HTTP inputs among them. */
static void
test_http_inputs_replaced(void **state)
{
	static char *const one[] = {"/dev/ttyUSB0"};
	struct config_args args = {.path = DATA("full.conf"), .inputs = one, .n_inputs = 1};
	const struct linkyd_config *c;

	(void) state;
	c = load_ok(DATA("full.conf"));
	assert_string_equal(c->http.teleinfo1, "prod");
	assert_string_equal(c->http.listen, "[::1]:8080");
	assert_int_equal(c->meters[2].optarif, HTTP_OPTARIF_TEMPO);
	config_unref(c);
	c = load_args(&args);
	assert_null(c->http.teleinfo1);
	assert_null(c->http.teleinfo2);
	assert_null(config_where(c, "http.teleinfo1"));
	assert_string_equal(c->http.listen, "[::1]:8080");
	config_unref(c);
}

/* Print, read the output back, print again: the same text. */
static void
round_trip(const char *path, const char *expect_in_output)
{
	static const char *const names[] = {"printed.conf"};
	const struct linkyd_config *a, *b;
	char *text, *again, file[128];
	struct config_args none = {0};
	struct tmpdir t;

	a = path ? load_ok(path) : load_args(&none);
	text = printed(a);
	print_message("%s", text);
	if (a->mqtt.password) {
		assert_non_null(strstr(text, "password = \"********\";"));
		assert_null(strstr(text, a->mqtt.password));
	}
	if (expect_in_output)
		assert_non_null(strstr(text, expect_in_output));
	tmpdir_make(&t);
	write_file(&t, names[0], text, file, sizeof(file));
	b = load_ok(file);
	again = printed(b);
	assert_string_equal(text, again);
	config_unref(a);
	config_unref(b);
	free(text);
	free(again);
	tmpdir_remove(&t, names, 1);
}

static void
test_print(void **state)
{
	(void) state;
	round_trip(DATA("full.conf"), "\t\t# client_id: \"linkyd-test-conso\" (worked out)\n");
	round_trip(NULL, "# username: not set\n");
	round_trip(LINKYD_SAMPLE_CONF, "input = \"/dev/serial0\";");
}

/* Client ids are each meter's, worked out once, never cut: cut to 23 bytes, two long ones were
 * the same, and the broker kept kicking one meter out for the other. */
static void
test_client_ids(void **state)
{
	static const char *const names[] = {"linkyd.conf"};
	static const char two[] = "meters = ( { name = \"a\"; input = \"/dev/a\"; },\n"
	                          "           { name = \"b\"; input = \"/dev/b\"; } );\n";
	static const char head[] = "mqtt = {\n\tclient_id = \"";
	const struct linkyd_config *c, *d;
	struct config_args args = {0};
	char path[128], text[512], *big, *out;
	struct tmpdir t;
	size_t n;

	(void) state;
	tmpdir_make(&t);
	snprintf(text, sizeof(text), "mqtt = { client_id = \"linkyd-garage-basement-main\"; };\n%s",
	         two);
	write_file(&t, names[0], text, path, sizeof(path));
	c = load_ok(path);
	assert_string_equal(c->meters[0].client_id, "linkyd-garage-basement-main-a");
	assert_string_equal(c->meters[1].client_id, "linkyd-garage-basement-main-b");
	out = printed(c);
	assert_non_null(strstr(out, "\"linkyd-garage-basement-main-a\""));
	assert_non_null(strstr(out, "\"linkyd-garage-basement-main-b\""));
	free(out);
	config_unref(c);

	/* One meter: the id alone. */
	write_file(&t, names[0], "mqtt = { client_id = \"linkyd-garage-basement-main\"; };\n", path,
	           sizeof(path));
	c = load_ok(path);
	assert_string_equal(c->meters[0].client_id, "linkyd-garage-basement-main");
	config_unref(c);

	/* None: a hash of the host and the device, stable, different per host and device. */
	write_file(&t, names[0], two, path, sizeof(path));
	c = load_ok(path);
	d = load_ok(path);
	assert_string_equal(c->meters[0].client_id, d->meters[0].client_id);
	assert_string_not_equal(c->meters[0].client_id, c->meters[1].client_id);
	config_unref(d);
	args = (struct config_args){.path = path, .hostname = "other-host"};
	d = load_args(&args);
	assert_string_not_equal(c->meters[0].client_id, d->meters[0].client_id);
	config_unref(d);
	/* "serial:" or not, the same device, the same id. */
	write_file(&t, names[0],
	           "meters = ( { name = \"a\"; input = \"serial:/dev/a\"; },\n"
	           "           { name = \"b\"; input = \"/dev/b\"; } );\n",
	           path, sizeof(path));
	d = load_ok(path);
	assert_string_equal(c->meters[0].client_id, d->meters[0].client_id);
	config_unref(d);
	config_unref(c);

	/* With the names, longer than MQTT can carry: refused, not cut. */
	big = malloc(sizeof(head) + 65535 + sizeof(two) + 8);
	assert_non_null(big);
	n = strlen(head);
	memcpy(big, head, n);
	memset(big + n, 'i', 65535);
	snprintf(big + n + 65535, sizeof(two) + 8, "\"; };\n%s", two);
	write_bytes(&t, names[0], big, strlen(big), 0600, path, sizeof(path));
	snprintf(text, sizeof(text),
	         "%s:3: meters[0].client_id: 65537 bytes: expected at most 65535", path);
	expect_error(path, -EINVAL, text);
	free(big);
	tmpdir_remove(&t, names, 1);
}

#define D2L_KEY "12341234123412341234123412341234"
#define D2L_IV  "fc91837fa2bdba1f9fe985452fdb925e"

/* D2L inputs: meters may share a listener, told apart by their module's id, which is theirs
 * alone; the three settings are required there and refused elsewhere; the key and IV are
 * secrets; client ids differ per module. */
static void
test_d2l(void **state)
{
	static const char *const names[] = {"linkyd.conf"};
	static const char key[] = D2L_KEY, iv[] = D2L_IV;
	static const struct {
		const char *meters, *error;
	} bad[] = {
	    {"{ input = \"d2l:8008\";\n d2l_id = \"011601000001\"; key = \"" D2L_KEY "\"; }",
	     "1: meters[0].iv: expected it for input 'd2l:8008': a D2L module needs its id, key "
	     "and "
	     "IV (see etc/linkyd.conf)"},
	    {"{ input = \"d2l:8008\"; key = \"" D2L_KEY "\"; iv = \"" D2L_IV "\"; }",
	     "1: meters[0].d2l_id: expected it for input 'd2l:8008': a D2L module needs its id, "
	     "key and IV (see etc/linkyd.conf)"},
	    {"{ input = \"/dev/ttyUSB0\";\n key = \"" D2L_KEY "\"; }",
	     "2: meters[0].key: only for a d2l:[ADDR:]PORT input, not '/dev/ttyUSB0'"},
	    {"{ input = \"d2l:8008\"; d2l_id = \"11601000001\"; key = \"" D2L_KEY
	     "\"; iv = \"" D2L_IV "\"; }",
	     "1: meters[0].d2l_id: expected the D2L module's id, 12 digits as on its label "
	     "(leading "
	     "zeros included)"},
	    {"{ input = \"d2l:8008\"; d2l_id = \"011601000001\";\n key = \"" D2L_KEY
	     "a\"; iv = \"" D2L_IV "\"; }",
	     "2: meters[0].key: 33 bytes: expected at most 32"},
	    {"{ input = \"d2l:8008\"; d2l_id = \"011601000001\"; key = \"" D2L_KEY "\";\n"
	     " iv = \"fc91837fa2bdba1f9fe985452fdb925g\"; }",
	     "2: meters[0].iv: expected 32 hexadecimal digits: the module's AES IV, from Eesmart"},
	    {"{ name = \"a\"; input = \"d2l:8008\"; d2l_id = \"011601000001\"; key = \"" D2L_KEY
	     "\"; iv = "
	     "\"" D2L_IV
	     "\"; },\n{ name = \"b\"; input = \"d2l:9009\";\n d2l_id = \"011601000001\"; "
	     "key = \"" D2L_KEY "\"; iv = \"" D2L_IV "\"; }",
	     "3: meters[1].d2l_id: '011601000001' is already the d2l_id of meters[0]"},
	    {"{ input = \"d2l:localhost:8008\"; }",
	     "1: meters[0].input: expected serial:DEVICE, tcp:HOST:PORT, d2l:[ADDR:]PORT or a "
	     "device path such as /dev/ttyUSB0"},
	    {"{ input = \"d2l:0\"; }",
	     "1: meters[0].input: expected serial:DEVICE, tcp:HOST:PORT, d2l:[ADDR:]PORT or a "
	     "device path such as /dev/ttyUSB0"},
	};
	char path[128], text[1024], want[CONFIG_ERROR_SIZE], *out;
	const struct linkyd_config *c;
	struct tmpdir t;

	(void) state;
	tmpdir_make(&t);
	/* Two modules on one port, a third on an address of its own. */
	snprintf(text, sizeof(text),
	         "meters = (\n"
	         " { name = \"a\"; input = \"d2l:8008\"; d2l_id = \"011601000001\"; key = \"%s\"; "
	         "iv = \"%s\"; },\n"
	         " { name = \"b\"; input = \"d2l:8008\"; d2l_id = \"011601000002\"; key = \"%s\"; "
	         "iv = \"%s\"; silence = 20; },\n"
	         " { name = \"c\"; input = \"d2l:[::1]:9009\"; d2l_id = \"000000000123\"; "
	         "key = \"%s\"; iv = \"%s\"; },\n"
	         " { name = \"d\"; input = \"/dev/ttyUSB0\"; } );\n",
	         key, iv, key, iv, key, iv);
	write_file(&t, names[0], text, path, sizeof(path));
	c = load_ok(path);
	assert_int_equal(c->meters[0].input.kind, INPUT_D2L);
	assert_null(c->meters[0].input.host);
	assert_int_equal(c->meters[0].input.port, 8008);
	assert_string_equal(c->meters[1].d2l_id, "011601000002");
	assert_string_equal(c->meters[2].input.host, "::1");
	assert_int_equal(c->meters[2].input.port, 9009);
	assert_string_equal(c->meters[0].d2l_key, key);
	assert_string_equal(c->meters[0].d2l_iv, iv);
	assert_null(c->meters[3].d2l_id);
	/* A module pushes a frame now and then: a longer silence by default, as set otherwise. */
	assert_int_equal(c->meters[0].silence, CONFIG_D2L_SILENCE);
	assert_int_equal(c->meters[1].silence, 20);
	assert_int_equal(c->meters[3].silence, CONFIG_DEFAULT_SILENCE);
	assert_string_not_equal(c->meters[0].client_id, c->meters[1].client_id);
	/* Masked, and nothing of them for the serial meter. */
	out = printed(c);
	assert_null(strstr(out, key));
	assert_null(strstr(out, iv));
	assert_non_null(strstr(out, "\t\tkey = \"********\";\n\t\tiv = \"********\";\n"));
	assert_non_null(strstr(out, "d2l_id = \"000000000123\";"));
	free(out);
	config_unref(c);
	/* Masked, the key and IV are no longer valid: no round trip through print. */

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "meters = ( %s );\n", bad[i].meters);
		write_file(&t, names[0], text, path, sizeof(path));
		snprintf(want, sizeof(want), "%s:%s", path, bad[i].error);
		print_message("%s\n", want);
		expect_error(path, -EINVAL, want);
	}
	tmpdir_remove(&t, names, 1);
}

/* Snapshots: counted references, and each remembers where its settings came from. */
static void
test_snapshot(void **state)
{
	const struct linkyd_config *c;
	char want[256];

	(void) state;
	c = load_ok(DATA("full.conf"));
	assert_ptr_equal(config_ref(c), c);
	assert_ptr_equal(config_ref(c), c);
	assert_null(config_unref(c));
	assert_null(config_unref(c));
	/* Still there: one reference left. */
	assert_string_equal(c->meters[0].name, "conso");
	assert_string_equal(config_where(c, "meters[0].name"), DATA("full.conf") ":4");
	assert_string_equal(config_where(c, "meters[0]"), DATA("full.conf") ":3");
	assert_string_equal(config_where(c, "publish.labels[0].heartbeat"),
	                    DATA("full.conf") ":37");
	snprintf(want, sizeof(want), "%s:%d", DATA("full.conf"), 12);
	assert_string_equal(config_where(c, "meters[0].publish.labels[0].label"), want);
	assert_null(config_where(c, "meters[1].topic")); /* a default */
	assert_null(config_where(c, "no.such.setting"));
	config_unref(c);
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
		const char *text;
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
	    /* One meter's own settings restart that meter alone. */
	    {"#", true, false},
	    /* The same device written another way. */
	    {"meters = ( { name = \"a\"; input = \"serial:/dev/ttyUSB0\"; },\n"
	     "           { name = \"b\"; input = \"/dev/ttyUSB1\"; } );\n",
	     true, true},
	    /* A client id changes both (each adds the meter's name to it). */
	    {"mqtt = { client_id = \"x\"; };\n", false, false},
	};
	char old_path[128], new_path[128], text[512];
	const struct linkyd_config *old, *fresh;
	struct tmpdir t;

	(void) state;
	tmpdir_make(&t);
	write_file(&t, names[0], meters, old_path, sizeof(old_path));
	old = load_ok(old_path);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].text);
		if (strcmp(cases[i].text, "#") == 0)
			snprintf(text, sizeof(text),
			         "meters = ( { name = \"a\"; input = \"/dev/ttyUSB0\"; },\n"
			         "           { name = \"b\"; input = \"/dev/ttyUSB1\"; "
			         "tariff_names = ( \"HC\" ); } );\n");
		else if (strncmp(cases[i].text, "meters", 6) == 0)
			snprintf(text, sizeof(text), "%s", cases[i].text);
		else
			snprintf(text, sizeof(text), "%s%s", meters, cases[i].text);
		write_file(&t, names[1], text, new_path, sizeof(new_path));
		fresh = load_ok(new_path);
		assert_int_equal(config_meter_kept(old, fresh, &old->meters[0]), cases[i].a);
		assert_int_equal(config_meter_kept(old, fresh, &old->meters[1]), cases[i].b);
		config_unref(fresh);
	}
	/* A meter removed: the other carries on, if its topic stays (a lone meter's default
	 * topic is another). */
	write_file(
	    &t, names[1],
	    "meters = ( { name = \"a\"; input = \"/dev/ttyUSB0\"; topic = \"teleinfo/a\"; } );\n",
	    new_path, sizeof(new_path));
	fresh = load_ok(new_path);
	assert_true(config_meter_kept(old, fresh, &old->meters[0]));
	assert_false(config_meter_kept(old, fresh, &old->meters[1]));
	config_unref(fresh);
	config_unref(old);
	tmpdir_remove(&t, names, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_sample),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_lone_meter_defaults),
	    cmocka_unit_test(test_bad_files),
	    cmocka_unit_test(test_bad_texts),
	    cmocka_unit_test(test_mqtt_strings),
	    cmocka_unit_test(test_nul),
	    cmocka_unit_test(test_fuzz_findings),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_fifo),
	    cmocka_unit_test(test_include),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_password_file),
	    cmocka_unit_test(test_command_line),
	    cmocka_unit_test(test_urls),
	    cmocka_unit_test(test_print),
	    cmocka_unit_test(test_http_listen),
	    cmocka_unit_test(test_http_inputs_replaced),
	    cmocka_unit_test(test_client_ids),
	    cmocka_unit_test(test_snapshot),
	    cmocka_unit_test(test_meter_kept),
	    cmocka_unit_test(test_d2l),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
