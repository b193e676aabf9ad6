/* SPDX-License-Identifier: MIT */
/*
 * linkyd's configuration: /etc/linkyd.conf (libconfig syntax) merged over built-in defaults.
 * This module never logs: errors come back as one line "FILE:LINE: what was expected".
 */
#ifndef LINKYD_CONFIG_H
#define LINKYD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "linkyd/json.h"
#include "linkyd/tic.h"

#define CONFIG_DEFAULT_INPUT     "/dev/serial0"
#define CONFIG_DEFAULT_URL       "mqtt://localhost:1883"
#define CONFIG_DEFAULT_TOPIC     "teleinfo"
#define CONFIG_DEFAULT_QUEUE     4096 /* frames: over an hour at one frame a second or slower */
#define CONFIG_ERROR_SIZE        512
#define CONFIG_DEFAULT_HA_PREFIX "homeassistant"
#define CONFIG_DEFAULT_HA_EXPIRE 120 /* seconds; 0 = never expire */
#define CONFIG_DEFAULT_INTERVAL  10  /* seconds, policy "interval" */
#define CONFIG_DEFAULT_HEARTBEAT 60  /* seconds, policy "on_change": under expire_after */
#define CONFIG_DEFAULT_STATE_DIR "/var/lib/linkyd" /* systemd's StateDirectory=linkyd */

/* When a label is published (src/publish/policy.c). */
enum publish_policy {
	PUBLISH_EVERY_FRAME, /* every frame (default) */
	PUBLISH_INTERVAL,    /* at most every interval seconds */
	PUBLISH_ON_CHANGE,   /* when the value changed by deadband or more, or heartbeat passed */
};

struct policy {
	enum publish_policy kind;
	unsigned interval;  /* seconds, PUBLISH_INTERVAL */
	uint64_t deadband;  /* PUBLISH_ON_CHANGE: smaller numeric changes are no change */
	unsigned heartbeat; /* seconds, PUBLISH_ON_CHANGE: publish at least this often */
};

/* A per-label override of a meter's policy. */
struct label_policy {
	char *label;
	struct policy policy;
};

/* What a meter publishes besides its frames, and when. */
struct publish_config {
	struct policy policy;
	struct label_policy *labels; /* overrides; the last one naming a label wins */
	size_t n_labels;
	bool label_topics; /* also publish each label on <topic>/<LABEL> */
	bool label_retain; /* retain those */
	bool derived;      /* publish derived values (<topic>/derived, <topic>/energy) */
	bool index_guard;  /* hold back energy indexes that go backwards or jump */
};

struct meter_config {
	char *name;         /* unique; used in logs and the MQTT client id */
	char *device;       /* serial device path ("serial:" prefix removed) */
	enum tic_mode mode; /* TIC_MODE_UNKNOWN = auto-detect */
	char *topic;        /* base topic: frames on it, availability on <topic>/status */
	struct publish_config publish; /* the global publish settings, then the meter's own */
	char **tariff_names; /* names of EASF01, EASF02... (NULL entries: learned), or NULL */
	size_t n_tariff_names;
	char **distributor_names; /* the same for EASD01..04 */
	size_t n_distributor_names;
};

struct mqtt_config {
	char *url;       /* mqtt://host[:port] or mqtts://host[:port] */
	char *client_id; /* NULL = derived from the host name and the first device */
	char *username;
	char *password;  /* from "password" or read from "password_file" */
	char *ca_file;   /* NULL = the system's trust store (mqtts only) */
	char *cert_file; /* client certificate (optional, with key_file) */
	char *key_file;
	bool verify_hostname;
	int keepalive; /* seconds */
	int qos;       /* 0, 1 or 2 */
	bool retain;   /* retain frame messages */
	unsigned queue_frames;
	/* Read by mqtt_new() (mqtt_password_load()) when set, instead of password. */
	char *password_file;
};

/* Home Assistant MQTT discovery (src/ha/). */
struct ha_config {
	bool discovery;   /* publish discovery configs (typed format only) */
	char *prefix;     /* discovery prefix; HA's birth message is on <prefix>/status */
	int expire_after; /* seconds after which HA marks a sensor stale, 0 = never */
};

struct linkyd_config {
	struct meter_config *meters;
	size_t n_meters;
	struct mqtt_config mqtt;
	struct ha_config ha;
	struct publish_config publish; /* the base of every meter's */
	enum json_format format;
	bool anonymise;      /* replace ADCO/ADSC/PRM with pseudonyms in all output */
	char *anonymise_key; /* their key's secret; NULL: from /etc/machine-id */
	char *state_dir;     /* derived values' state files, <state_dir>/<meter name>.state */
	int verbosity;       /* log level: 0 notice, 1 info, 2 debug */
};

/* Fill c with the defaults: one meter "meter" on CONFIG_DEFAULT_INPUT, auto mode, topic
 * CONFIG_DEFAULT_TOPIC, broker CONFIG_DEFAULT_URL, QoS 1, typed JSON, Home Assistant discovery
 * on with prefix CONFIG_DEFAULT_HA_PREFIX. Returns 0 or -ENOMEM.
 * (Not "config_init": libconfig exports that name and calls it through the PLT.) */
int config_defaults(struct linkyd_config *c);

/* Read path over the values already in c. Unknown keys, wrong types and bad values are errors.
 * Returns 0, -ENOENT if the file does not exist (err set too), or -EINVAL with err holding
 * one line "PATH:LINE: message". */
int config_load(struct linkyd_config *c, const char *path, char *err, size_t err_size);

/* Replace the meters with one per input spec ("serial:/dev/ttyAMA0" or a bare path), named
 * after the device, topic CONFIG_DEFAULT_TOPIC (or "<topic>/<name>" when there are several).
 * Returns 0, -EINVAL (err set) or -ENOMEM. */
int config_set_inputs(struct linkyd_config *c, char *const *specs, size_t n, char *err,
                      size_t err_size);

/* Checks that need the whole configuration (unique names and topics, TLS files only with
 * mqtts...). Returns 0 or -EINVAL with err set. */
int config_validate(const struct linkyd_config *c, char *err, size_t err_size);

/* Print the effective configuration in libconfig syntax, secrets masked. */
void config_print(const struct linkyd_config *c, FILE *out);

/* "every_frame", "interval" or "on_change". */
const char *config_policy_name(enum publish_policy kind);

/* The policy of label in p: its last override, or p's own. */
const struct policy *config_label_policy(const struct publish_config *p, const char *label);

bool config_publish_equal(const struct publish_config *a, const struct publish_config *b);

/* Whether a meter running with m (from old) can carry on under fresh, the reloaded
 * configuration: fresh has an equal meter and nothing it shares with others changed. */
bool config_meter_kept(const struct linkyd_config *old, const struct linkyd_config *fresh,
                       const struct meter_config *m);

/* Free everything c owns; c can be initialised again. */
void config_done(struct linkyd_config *c);

#endif
