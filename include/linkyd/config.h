/* SPDX-License-Identifier: MIT */
/*
 * linkyd's configuration: built-in defaults, then /etc/linkyd.conf (libconfig syntax), then the
 * command line, as an immutable, reference-counted snapshot. Every setting is one row of a table
 * (src/config/settings.c) that drives its default, reading, checks, printing, copy and reload.
 * This module never logs: errors come back as one line "FILE:LINE: setting: what was expected".
 */
#ifndef LINKYD_CONFIG_H
#define LINKYD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "linkyd/json.h"
#include "linkyd/tic.h"

#define CONFIG_DEFAULT_INPUT            "/dev/serial0"
#define CONFIG_DEFAULT_URL              "mqtt://localhost:1883"
#define CONFIG_DEFAULT_TOPIC            "teleinfo"
#define CONFIG_DEFAULT_QUEUE            4096 /* frames: over an hour at one frame a second or slower */
#define CONFIG_ERROR_SIZE               512
#define CONFIG_DEFAULT_HA_PREFIX        "homeassistant"
#define CONFIG_DEFAULT_HA_EXPIRE        120 /* seconds; 0 = never expire */
#define CONFIG_DEFAULT_INTERVAL         10  /* seconds, policy "interval" */
#define CONFIG_DEFAULT_HEARTBEAT        60  /* seconds, policy "on_change": under expire_after */
#define CONFIG_DEFAULT_SILENCE          15  /* seconds */
#define CONFIG_D2L_SILENCE              300 /* seconds, a d2l: input's default */
#define CONFIG_DEFAULT_STATE_DIR        "/var/lib/linkyd" /* systemd's StateDirectory=linkyd */
#define CONFIG_MQTT_STRING_MAX          65535 /* bytes: MQTT strings carry a 16-bit length */
#define CONFIG_DEFAULT_HTTP_REALM       "linkyd"
#define CONFIG_DEFAULT_HTTP_CONNECTIONS 16 /* a few pollers and scrapers, each with keep-alive */
#define CONFIG_DEFAULT_HTTP_PER_IP      4
#define CONFIG_DEFAULT_HTTP_TIMEOUT     15 /* seconds: over the 5 s between HA's polls */

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

/* Where a meter's bytes come from: a kind and its fields, parsed from the meter's "input"
 * string (src/config/input.c, one row per kind). */
enum input_kind {
	INPUT_SERIAL, /* serial:DEVICE, or a bare device path */
	INPUT_TCP,    /* tcp:HOST:PORT, a serial bridge's raw stream */
	INPUT_D2L, /* d2l:[ADDR:]PORT, a server for Eesmart D2L modules (several may share one) */
};

struct input_config {
	enum input_kind kind;
	char *spec;    /* as configured, for logs: "serial:/dev/ttyUSB0" */
	char *path;    /* INPUT_SERIAL: the device */
	char *host;    /* INPUT_TCP: a name, an IPv4 address or an IPv6 one (without brackets);
	                * INPUT_D2L: the numeric address to listen on, NULL for any */
	unsigned port; /* INPUT_TCP, INPUT_D2L: 1 to 65535 */
};

/* Which historique tariff option a standard meter's indexes are served as on the EcoDevice API
 * (src/http/ecodevice.c), for the contracts whose NGTF the guess does not know. */
enum http_optarif {
	HTTP_OPTARIF_AUTO, /* from NGTF */
	HTTP_OPTARIF_BASE,
	HTTP_OPTARIF_HC,
	HTTP_OPTARIF_EJP,
	HTTP_OPTARIF_TEMPO,
};

struct meter_config {
	char *name;                /* unique; used in logs, the state file and the client id */
	struct input_config input; /* unique */
	enum tic_mode mode;        /* TIC_MODE_UNKNOWN = auto-detect */
	int silence; /* seconds without a valid frame that make a silence (a network source: a dead
	              * connection, reconnected) */
	char *topic; /* base topic: frames on it, availability on <topic>/status; no meter's
	              * topic is another's or below it */
	char *client_id; /* the effective MQTT client id, unique among the meters: mqtt.client_id
	                  * alone for one meter, "<client_id>-<name>" for several, or else
	                  * "linkyd-" and a hash of the host name and the input */
	struct publish_config publish; /* the global publish settings, then the meter's own */
	char **tariff_names; /* names of EASF01, EASF02... (NULL entries: learned), or NULL */
	size_t n_tariff_names;
	char **distributor_names; /* the same for EASD01..04 */
	size_t n_distributor_names;
	/* INPUT_D2L only, and required there: the module's id (12 digits, as on its label), its
	 * AES-128 key and IV (32 hexadecimal digits each, from Eesmart). NULL otherwise. */
	char *d2l_id;
	char *d2l_key;
	char *d2l_iv;
	enum http_optarif optarif; /* the EcoDevice API's tariff option for a standard meter */
};

struct mqtt_config {
	char *url;       /* mqtt://host[:port] or mqtts://host[:port] */
	char *client_id; /* as configured, or NULL; each meter's own is meter_config.client_id */
	char *username;
	char *password;      /* written in the file, or NULL */
	char *password_file; /* the path of a file holding it, as configured, or NULL: read where
	                      * it is used (config_where() tells where it was set) */
	char *ca_file;       /* NULL = the system's trust store (mqtts only) */
	char *cert_file;     /* client certificate (optional, with key_file) */
	char *key_file;
	bool verify_hostname;
	int keepalive; /* seconds */
	int qos;       /* 0, 1 or 2 */
	bool retain;   /* retain frame messages */
	unsigned queue_frames;
};

/* Home Assistant MQTT discovery (src/ha/). */
struct ha_config {
	bool discovery;   /* publish discovery configs (typed format only) */
	char *prefix;     /* discovery prefix; HA's birth message is on <prefix>/status */
	int expire_after; /* seconds after which HA marks a sensor stale, 0 = never */
};

/* The HTTP API (src/http/): off while listen is NULL. */
struct http_config {
	char *listen;        /* "ADDR:PORT", "[ADDR6]:PORT" or "PORT" (on 127.0.0.1) */
	char *username;      /* Basic authentication when set, with a password */
	char *password;      /* written in the file, or NULL */
	char *password_file; /* the path of a file holding it, read when the server starts */
	char *realm;         /* the challenge's realm */
	char *teleinfo1;     /* the meter served as EcoDevice input 1, NULL: the first meter */
	char *teleinfo2;     /* ... as input 2, NULL: the next meter, if any */
	unsigned max_connections;
	unsigned max_per_ip;
	int timeout; /* seconds a connection may stay idle */
};

/* An address to listen on, parsed from http.listen. */
struct config_listen {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network order, 4 or 16 bytes */
	unsigned port;
};

/* Parse "ADDR:PORT", "[ADDR6]:PORT" or a lone "PORT" (127.0.0.1) into *ret; numeric addresses
 * only, so that nothing blocks on a name server. Returns 0 or -EINVAL. */
int config_listen_parse(const char *s, struct config_listen *ret);

struct linkyd_config {
	struct meter_config *meters;
	size_t n_meters;
	struct mqtt_config mqtt;
	struct ha_config ha;
	struct http_config http;
	struct publish_config publish; /* the base of every meter's */
	enum json_format format;
	bool anonymise;      /* replace ADCO/ADSC/PRM with pseudonyms in all output */
	char *anonymise_key; /* their key's secret; NULL: from /etc/machine-id */
	char *state_dir;     /* derived values' state files, <state_dir>/<meter name>.state */
	int verbosity;       /* log level: 0 notice, 1 info, 2 debug */
};

/* What the command line sets; it goes over the file. */
struct config_args {
	const char *path;    /* the configuration file; NULL: none, the defaults */
	bool optional;       /* a missing file is no error (the default path) */
	char *const *inputs; /* -i: one meter per input spec, replacing the file's meters */
	size_t n_inputs;
	const char *mqtt_url; /* --mqtt */
	const char *topic;    /* --topic: the meters' topics, "<topic>/<name>" for several */
	const char *format;   /* --format */
	const char *http;     /* --http: http.listen */
	int verbosity;        /* -v: raises log.level */
	const char *hostname; /* hashed into the default client ids; NULL: none */
};

/* Load a configuration: the defaults, the file args->path, then the rest of args; then check
 * the whole. On success *ret_config is a new snapshot holding one reference (config_unref() it).
 * Returns 0; -ENOENT when the file does not exist and is not optional; -EINVAL for anything
 * wrong with it; -ENOMEM. err always gets one line then: "FILE:LINE: setting: what was
 * expected", or "--option: setting: ..." for a value of the command line. */
int config_load(const struct config_args *args, const struct linkyd_config **ret_config, char *err,
                size_t err_size);

/* One more reference to c; returns c. Snapshots never change: whoever holds one reads it
 * freely, from the loop's thread (the count is not atomic). */
const struct linkyd_config *config_ref(const struct linkyd_config *c);

/* Drop a reference; the last one frees c. NULL-safe; returns NULL. */
const struct linkyd_config *config_unref(const struct linkyd_config *c);

/* Where setting path ("mqtt.password_file", "meters[1].topic") was set: "FILE:LINE", or the
 * option of the command line ("--topic"). NULL for a default. Valid as long as c. */
const char *config_where(const struct linkyd_config *c, const char *path);

/* Print the effective configuration in libconfig syntax, secrets masked; it reads back as the
 * same configuration. Returns 0 or -ENOMEM. */
int config_print(const struct linkyd_config *c, FILE *out);

/* "every_frame", "interval" or "on_change". */
const char *config_policy_name(enum publish_policy kind);

/* The policy of label in p: its last override, or p's own. */
const struct policy *config_label_policy(const struct publish_config *p, const char *label);

/* Whether a meter running with m (from old, or a snapshot old kept it from) carries on under
 * fresh, the reloaded configuration: fresh has the same meter, and nothing every meter uses
 * changed. What a change restarts is each setting's row (nothing, its meter, every meter). */
bool config_meter_kept(const struct linkyd_config *old, const struct linkyd_config *fresh,
                       const struct meter_config *m);

#endif
