/* SPDX-License-Identifier: MIT */
/*
 * Every setting of linkyd, once: its key, its type, where it lives, its range, its default, the
 * words of its error and what a reload of it restarts. table.c walks these rows to set the
 * defaults, copy, compare and free; read.c reads the file with them, print.c prints them. A new
 * setting is one row here (and its member in linkyd/config.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"
#include "linkyd/topics.h"

#define FILE_PATH_MAX 4095           /* bytes: PATH_MAX with its NUL */
#define NAME_MAX_SIZE 249            /* bytes: "<name>.state" is one file name (NAME_MAX 255) */
#define TOPIC_MAX     TOPIC_BASE_MAX /* linkyd/topics.h: what the topics built on it fit in */
#define PREFIX_MAX    TOPIC_PREFIX_MAX
#define LABELS_MAX    256 /* per publish group */
#define METERS_MAX    64

#define EXPECT_STRING "a non-empty string"
#define EXPECT_TOPIC  "a non-empty topic without wildcards (+, #)"
#define EXPECT_PATH   "a file path"
#define EXPECT_NAME   "a non-empty string without '/'"
#define EXPECT_PERIOD "an integer from 1 to 86400 (seconds)"

/* How each type of row is written: key, struct and member, then what that type needs. */
#define FIELD(T, m) .offset = offsetof(T, m), .size = sizeof(((T *) 0)->m)
#define BOOL(k, T, m, d, r)                                                                        \
	{                                                                                          \
		.key = k, .type = CFG_BOOL, FIELD(T, m), .def = d, .expect = "true or false",      \
		.reload = r                                                                        \
	}
#define INT(k, T, m, lo, hi, d, words, r)                                                          \
	{                                                                                          \
		.key = k, .type = CFG_INT, FIELD(T, m), .min = lo, .max = hi, .def = d,            \
		.expect = words, .reload = r                                                       \
	}
#define ENUM(k, T, m, all, d, words, r)                                                            \
	{                                                                                          \
		.key = k, .type = CFG_ENUM, FIELD(T, m), .names = all, .def = d, .expect = words,  \
		.reload = r                                                                        \
	}
/* The rest: .def_str, .valid, .unset, .flags. */
#define STRING(k, T, m, most, words, r, ...)                                                       \
	{                                                                                          \
		.key = k, .type = CFG_STRING, FIELD(T, m), .max = most, .expect = words,           \
		.reload = r, __VA_ARGS__                                                           \
	}
#define SECRET(k, T, m, most, words, r, ...)                                                       \
	{                                                                                          \
		.key = k, .type = CFG_SECRET, FIELD(T, m), .max = most, .expect = words,           \
		.reload = r, __VA_ARGS__                                                           \
	}
#define STRV(k, T, m, n, most, words, r)                                                           \
	{                                                                                          \
		.key = k, .type = CFG_STRV, FIELD(T, m), .count = offsetof(T, n), .max = most,     \
		.expect = words, .flags = CFG_UTF8, .reload = r                                    \
	}
#define INPUT(k, T, m, r)                                                                          \
	{                                                                                          \
		.key = k, .type = CFG_INPUT, FIELD(T, m), .flags = CFG_REQUIRED, .reload = r       \
	}
#define GROUP(k, T, m, table, ...)                                                                 \
	{                                                                                          \
		.key = k, .type = CFG_GROUP, FIELD(T, m), .sub = &table, __VA_ARGS__               \
	}
#define MERGE(T, m, table)                                                                         \
	{                                                                                          \
		.type = CFG_MERGE, FIELD(T, m), .sub = &table                                      \
	}
/* The rest: .flags. */
#define LIST(k, T, m, n, table, lo, hi, d, words, r, ...)                                          \
	{                                                                                          \
		.key = k, .type = CFG_LIST, .offset = offsetof(T, m),                              \
		.size = sizeof(*((T *) 0)->m), .count = offsetof(T, n), .sub = &table, .min = lo,  \
		.max = hi, .def = d, .expect = words, .reload = r, __VA_ARGS__                     \
	}
#define TABLE(rows_, ...)                                                                          \
	{                                                                                          \
		.rows = rows_, .n_rows = sizeof(rows_) / sizeof(rows_[0]), __VA_ARGS__             \
	}

/* By value. */
static const char *const mode_names[] = {"auto", "historique", "standard", NULL};
static const char *const format_names[] = {"typed", "raw", NULL};
static const char *const policy_names[] = {"every_frame", "interval", "on_change", NULL};
static const char *const level_names[] = {"notice", "info", "debug", NULL};
static const char *const optarif_names[] = {"auto", "base", "hc", "ejp", "tempo", NULL};

/* A label as the meter sends it: what could never match one is a typo worth an error. */
static bool
label_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > TIC_LABEL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

/* n characters, each accepted by ok(). */
static bool
all_of(const char *s, size_t n, int (*ok)(int))
{
	if (strlen(s) != n)
		return false;
	for (; *s; s++)
		if (!ok((unsigned char) *s))
			return false;
	return true;
}

/* A D2L module's id as its label prints it, zeros included. */
static bool
d2l_id_valid(const char *s)
{
	return all_of(s, 12, isdigit);
}

/* An AES-128 key or IV: 16 bytes in hexadecimal. */
static bool
hex128_valid(const char *s)
{
	return all_of(s, 32, isxdigit);
}

/* A meter's name names its state file: no directory in it. */
static bool
name_valid(const char *s)
{
	return !strchr(s, '/');
}

static bool
listen_valid(const char *s)
{
	struct config_listen l;

	return config_listen_parse(s, &l) == 0;
}

/* Basic authentication sends "user:password": a ':' in the user would end it early. */
static bool
user_valid(const char *s)
{
	return !strchr(s, ':');
}

/* The realm goes between the quotes of WWW-Authenticate as it is. */
static bool
realm_valid(const char *s)
{
	for (; *s; s++)
		if (*s < ' ' || *s > '~' || *s == '"' || *s == '\\')
			return false;
	return true;
}

static bool
url_valid(const char *s)
{
	return cfg_url_valid(s, NULL);
}

/* ---- publish: the global group, and a meter's own over it ---------------------------------- */

static const struct cfg_row policy_rows[] = {
    ENUM("policy", struct policy, kind, policy_names, PUBLISH_EVERY_FRAME,
         "\"every_frame\", \"interval\" or \"on_change\"", RELOAD_METER),
    INT("interval", struct policy, interval, 1, 86400, CONFIG_DEFAULT_INTERVAL, EXPECT_PERIOD,
        RELOAD_METER),
    INT("deadband", struct policy, deadband, 0, 1000000000, 0, "an integer from 0 to 1000000000",
        RELOAD_METER),
    INT("heartbeat", struct policy, heartbeat, 1, 86400, CONFIG_DEFAULT_HEARTBEAT, EXPECT_PERIOD,
        RELOAD_METER),
};
static const struct cfg_table policy_table = TABLE(policy_rows);

/* A label's policy starts from its group's. */
static int
label_init(void *elem, const void *parent)
{
	struct label_policy *lp = elem;
	const struct publish_config *p = parent;

	lp->policy = p->policy;
	return 0;
}

static const struct cfg_row label_rows[] = {
    STRING("label", struct label_policy, label, TIC_LABEL_MAX,
           "a TIC label such as \"PAPP\" (1 to 16 printable characters)", RELOAD_METER,
           .valid = label_valid, .flags = CFG_REQUIRED),
    MERGE(struct label_policy, policy, policy_table),
};
static const struct cfg_table label_table =
    TABLE(label_rows, .expect = "a group { label = \"PAPP\"; ... }", .init = label_init);

static const struct cfg_row publish_rows[] = {
    MERGE(struct publish_config, policy, policy_table),
    BOOL("label_topics", struct publish_config, label_topics, false, RELOAD_METER),
    BOOL("label_retain", struct publish_config, label_retain, false, RELOAD_METER),
    BOOL("derived", struct publish_config, derived, true, RELOAD_METER),
    BOOL("index_guard", struct publish_config, index_guard, true, RELOAD_METER),
    /* Late: each label starts from its group's policy, wherever the file puts it. */
    LIST("labels", struct publish_config, labels, n_labels, label_table, 0, LABELS_MAX, 0,
         "a list of groups ( { label = ...; }, ... )", RELOAD_METER,
         .flags = CFG_LATE | CFG_APPEND),
};
static const struct cfg_table publish_table = TABLE(publish_rows);

/* The global group: what every meter starts from, and what only applies to all of them. */
static const struct cfg_row global_publish_rows[] = {
    ENUM("format", struct linkyd_config, format, format_names, JSON_FORMAT_TYPED,
         "\"typed\" or \"raw\"", RELOAD_ALL),
    MERGE(struct linkyd_config, publish, publish_table),
    BOOL("anonymise", struct linkyd_config, anonymise, false, RELOAD_ALL),
    SECRET("anonymise_key", struct linkyd_config, anonymise_key, CONFIG_MQTT_STRING_MAX,
           EXPECT_STRING, RELOAD_ALL, .unset = "derived from /etc/machine-id"),
};
static const struct cfg_table global_publish_table = TABLE(global_publish_rows);

/* ---- meters ------------------------------------------------------------------------------ */

/* A meter's publish settings start from the global group's. */
static int
meter_init(void *elem, const void *parent)
{
	struct meter_config *m = elem;
	const struct linkyd_config *c = parent;

	cfg_free(&publish_table, &m->publish);
	return cfg_copy(&publish_table, &m->publish, &c->publish);
}

/* The defaults that depend on the meter's place and its other settings. */
static int
meter_finish(void *elem, size_t i, size_t n, const char *path, struct problem *p)
{
	struct meter_config *m = elem;
	char expect[128], key[PATH_SIZE];

	/* Index 0 is "meter", like the built-in default; the others "meter1", "meter2"... */
	if (!m->name) {
		if (i == 0)
			m->name = strdup("meter");
		else if (asprintf(&m->name, "meter%zu", i) < 0)
			m->name = NULL;
		if (!m->name)
			return -ENOMEM;
	}
	/* Guessing the device of a second meter would open the first one's twice. */
	if (!m->input.spec && n > 1) {
		(void) snprintf(key, sizeof(key), "%s.input", path);
		return cfg_blame(p, key, "expected %s (only a lone meter defaults to %s)",
		                 input_expect(expect, sizeof(expect)), CONFIG_DEFAULT_INPUT);
	}
	if (!m->input.spec && input_parse(CONFIG_DEFAULT_INPUT, &m->input) < 0)
		return -ENOMEM;
	if (!m->topic && !(m->topic = cfg_default_topic(CONFIG_DEFAULT_TOPIC, m->name, n)))
		return -ENOMEM;
	return 0;
}

static const struct cfg_row meter_rows[] = {
    STRING("name", struct meter_config, name, NAME_MAX_SIZE, EXPECT_NAME, RELOAD_METER,
           .valid = name_valid, .flags = CFG_REQUIRED | CFG_UTF8),
    INPUT("input", struct meter_config, input, RELOAD_METER),
    ENUM("mode", struct meter_config, mode, mode_names, TIC_MODE_UNKNOWN,
         "\"auto\", \"historique\" or \"standard\"", RELOAD_METER),
    INT("silence", struct meter_config, silence, 2, 3600, CONFIG_DEFAULT_SILENCE,
        "an integer from 2 to 3600 (seconds)", RELOAD_METER),
    STRING("topic", struct meter_config, topic, TOPIC_MAX, EXPECT_TOPIC, RELOAD_METER,
           .valid = cfg_topic_valid, .flags = CFG_REQUIRED | CFG_UTF8),
    STRING("client_id", struct meter_config, client_id, CONFIG_MQTT_STRING_MAX, EXPECT_STRING,
           RELOAD_METER, .flags = CFG_COMPUTED | CFG_UTF8),
    GROUP("publish", struct meter_config, publish, publish_table, .flags = CFG_INHERITS,
          .reload = RELOAD_METER),
    STRV("tariff_names", struct meter_config, tariff_names, n_tariff_names, 10,
         "a list of at most 10 strings", RELOAD_METER),
    STRV("distributor_names", struct meter_config, distributor_names, n_distributor_names, 4,
         "a list of at most 4 strings", RELOAD_METER),
    /* A d2l: input's module (input.c checks that it has all three and others none). */
    STRING("d2l_id", struct meter_config, d2l_id, 12,
           "the D2L module's id, 12 digits as on its label (leading zeros included)", RELOAD_METER,
           .valid = d2l_id_valid, .flags = CFG_HIDE_UNSET),
    SECRET("key", struct meter_config, d2l_key, 32,
           "32 hexadecimal digits: the module's AES key, from Eesmart", RELOAD_METER,
           .valid = hex128_valid, .flags = CFG_HIDE_UNSET),
    SECRET("iv", struct meter_config, d2l_iv, 32,
           "32 hexadecimal digits: the module's AES IV, from Eesmart", RELOAD_METER,
           .valid = hex128_valid, .flags = CFG_HIDE_UNSET),
    /* Read by the HTTP API at each request: nothing to restart. */
    ENUM("optarif", struct meter_config, optarif, optarif_names, HTTP_OPTARIF_AUTO,
         "\"auto\", \"base\", \"hc\", \"ejp\" or \"tempo\"", RELOAD_NONE),
};
static const struct cfg_table meter_table =
    TABLE(meter_rows, .expect = "a group { name = ...; input = ...; }", .init = meter_init,
          .finish = meter_finish);

/* ---- the rest ----------------------------------------------------------------------------- */

static const struct cfg_row mqtt_rows[] = {
    STRING("url", struct mqtt_config, url, FILE_PATH_MAX,
           "mqtt://host[:port] or mqtts://host[:port]", RELOAD_ALL, .def_str = CONFIG_DEFAULT_URL,
           .valid = url_valid, .flags = CFG_REQUIRED),
    STRING("client_id", struct mqtt_config, client_id, CONFIG_MQTT_STRING_MAX, EXPECT_STRING,
           RELOAD_ALL, .flags = CFG_UTF8,
           .unset = "\"linkyd-\" and a hash of the host name and each meter's input"),
    STRING("username", struct mqtt_config, username, CONFIG_MQTT_STRING_MAX, EXPECT_STRING,
           RELOAD_ALL, .flags = CFG_UTF8),
    SECRET("password", struct mqtt_config, password, CONFIG_MQTT_STRING_MAX, EXPECT_STRING,
           RELOAD_ALL),
    STRING("password_file", struct mqtt_config, password_file, FILE_PATH_MAX, EXPECT_PATH,
           RELOAD_ALL),
    STRING("ca_file", struct mqtt_config, ca_file, FILE_PATH_MAX, EXPECT_PATH, RELOAD_ALL,
           .unset = "the system's trust store"),
    STRING("cert_file", struct mqtt_config, cert_file, FILE_PATH_MAX, EXPECT_PATH, RELOAD_ALL),
    STRING("key_file", struct mqtt_config, key_file, FILE_PATH_MAX, EXPECT_PATH, RELOAD_ALL),
    BOOL("verify_hostname", struct mqtt_config, verify_hostname, true, RELOAD_ALL),
    INT("keepalive", struct mqtt_config, keepalive, 5, 3600, 30,
        "an integer from 5 to 3600 (seconds)", RELOAD_ALL),
    INT("qos", struct mqtt_config, qos, 0, 2, 1, "0, 1 or 2", RELOAD_ALL),
    BOOL("retain", struct mqtt_config, retain, false, RELOAD_ALL),
    INT("queue", struct mqtt_config, queue_frames, 1, 1000000, CONFIG_DEFAULT_QUEUE,
        "an integer from 1 to 1000000 (frames)", RELOAD_ALL),
};
static const struct cfg_table mqtt_table = TABLE(mqtt_rows);

static const struct cfg_row ha_rows[] = {
    BOOL("discovery", struct ha_config, discovery, true, RELOAD_ALL),
    STRING("prefix", struct ha_config, prefix, PREFIX_MAX, EXPECT_TOPIC, RELOAD_ALL,
           .def_str = CONFIG_DEFAULT_HA_PREFIX, .valid = cfg_topic_valid,
           .flags = CFG_REQUIRED | CFG_UTF8),
    INT("expire_after", struct ha_config, expire_after, 0, 86400, CONFIG_DEFAULT_HA_EXPIRE,
        "an integer from 0 to 86400 (seconds, 0 = never)", RELOAD_ALL),
};
static const struct cfg_table ha_table = TABLE(ha_rows);

/* The HTTP server compares and applies these itself on a reload: no meter restarts. */
static const struct cfg_row http_rows[] = {
    STRING("listen", struct http_config, listen, 64,
           "\"ADDR:PORT\", \"[IPv6]:PORT\" or \"PORT\" (numeric, port 1 to 65535)", RELOAD_NONE,
           .valid = listen_valid, .unset = "no HTTP API"),
    STRING("username", struct http_config, username, 255, "a non-empty string without ':'",
           RELOAD_NONE, .valid = user_valid, .unset = "no authentication"),
    SECRET("password", struct http_config, password, 255, EXPECT_STRING, RELOAD_NONE),
    STRING("password_file", struct http_config, password_file, FILE_PATH_MAX, EXPECT_PATH,
           RELOAD_NONE),
    STRING("realm", struct http_config, realm, 64, "printable ASCII without '\"' or '\\'",
           RELOAD_NONE, .def_str = CONFIG_DEFAULT_HTTP_REALM, .valid = realm_valid,
           .flags = CFG_REQUIRED),
    STRING("teleinfo1", struct http_config, teleinfo1, NAME_MAX_SIZE, "a meter's name", RELOAD_NONE,
           .unset = "the first meter"),
    STRING("teleinfo2", struct http_config, teleinfo2, NAME_MAX_SIZE, "a meter's name", RELOAD_NONE,
           .unset = "the next meter, or none"),
    INT("max_connections", struct http_config, max_connections, 1, 1024,
        CONFIG_DEFAULT_HTTP_CONNECTIONS, "an integer from 1 to 1024", RELOAD_NONE),
    INT("max_per_ip", struct http_config, max_per_ip, 1, 1024, CONFIG_DEFAULT_HTTP_PER_IP,
        "an integer from 1 to 1024", RELOAD_NONE),
    INT("timeout", struct http_config, timeout, 1, 3600, CONFIG_DEFAULT_HTTP_TIMEOUT,
        "an integer from 1 to 3600 (seconds)", RELOAD_NONE),
};
static const struct cfg_table http_table = TABLE(http_rows);

static const struct cfg_row log_rows[] = {
    ENUM("level", struct linkyd_config, verbosity, level_names, 0,
         "\"notice\", \"info\" or \"debug\"", RELOAD_NONE),
};
static const struct cfg_table log_table = TABLE(log_rows);

/* Rows print in this order. */
static const struct cfg_row root_rows[] = {
    /* Late: every meter starts from the global publish group, wherever the file puts it. */
    LIST("meters", struct linkyd_config, meters, n_meters, meter_table, 1, METERS_MAX, 1,
         "a list of groups ( { ... }, ... )", RELOAD_METER, .flags = CFG_LATE),
    GROUP("mqtt", struct linkyd_config, mqtt, mqtt_table),
    /* At offset 0: its settings are the root struct's, the publish_config among them. */
    {.key = "publish", .type = CFG_GROUP, .sub = &global_publish_table},
    STRING("state_dir", struct linkyd_config, state_dir, FILE_PATH_MAX, EXPECT_PATH, RELOAD_ALL,
           .def_str = CONFIG_DEFAULT_STATE_DIR, .flags = CFG_REQUIRED),
    GROUP("homeassistant", struct linkyd_config, ha, ha_table),
    GROUP("http", struct linkyd_config, http, http_table),
    {.key = "log", .type = CFG_GROUP, .sub = &log_table},
};
const struct cfg_table cfg_root = TABLE(root_rows);

/* ---- what other modules ask of the settings ------------------------------------------------ */

const char *
config_policy_name(enum publish_policy kind)
{
	return kind <= PUBLISH_ON_CHANGE ? policy_names[kind] : policy_names[0];
}

const struct policy *
config_label_policy(const struct publish_config *p, const char *label)
{
	for (size_t i = p->n_labels; i-- > 0;)
		if (strcmp(p->labels[i].label, label) == 0)
			return &p->labels[i].policy;
	return &p->policy;
}
