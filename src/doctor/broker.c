/* SPDX-License-Identifier: MIT */
/*
 * The broker check, through the daemon's own MQTT client: it resolves, connects, verifies TLS,
 * authenticates (each failure told apart, with its fix), then a round trip: one non-retained
 * message on <first meter's topic>/doctor/<client id>, to which it subscribed. Then Home
 * Assistant: its birth message on <prefix>/status, and linkyd's retained discovery configs. The
 * client has an id of its own, no last will and no online/offline: nothing retained changes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doctor.h"
#include "linkyd/mqtt.h"
#include "linkyd/topics.h"

#define CONNECT_MS   8000 /* mqtt.c's connect timeout (5 s) and a resolver's */
#define ROUNDTRIP_MS 3000
#define BIRTH_MS     2000 /* HA publishes its birth when it starts, retained only if told */

/* How long to wait for Home Assistant's birth message (a test sets it shorter). */
static unsigned
birth_ms(void)
{
	const char *e = getenv("LINKYD_DOCTOR_BIRTH_MS");
	long ms = e ? strtol(e, NULL, 10) : 0;

	return ms > 0 && ms < 60000 ? (unsigned) ms : BIRTH_MS;
}
#define CLOSE_MS 1000

struct probe {
	struct loop *loop;
	const struct linkyd_config *c;
	struct mqtt *mqtt;
	struct loop_timer timer;
	enum { P_CONNECTING, P_FAILED, P_WAITING, P_DONE, P_CLOSED } phase;
	enum mqtt_failure failure;
	char why[256];
	char test_topic[TOPIC_SIZE], ha_status[TOPIC_SIZE], ha_configs[TOPIC_SIZE];
	uint64_t sent_ms, back_ms, connected_ms;
	bool birth, birth_retained;
	char birth_payload[32];
	unsigned *configs; /* retained linkyd configs, per meter */
};

static void
on_state(enum mqtt_state state, void *userdata)
{
	struct probe *p = userdata;

	if (state == MQTT_CLOSED) {
		p->phase = P_CLOSED;
		loop_quit(p->loop, 0);
		return;
	}
	if (state != MQTT_CONNECTED || p->phase != P_CONNECTING)
		return;
	p->phase = P_WAITING;
	p->connected_ms = p->sent_ms = loop_now_ms();
	/* After the subscriptions, which the client sends first on the same connection. */
	if (mqtt_publish(p->mqtt, p->test_topic, "linkyd --doctor", 15, false) < 0)
		p->sent_ms = 0;
	(void) loop_timer_arm(&p->timer, ROUNDTRIP_MS > birth_ms() ? ROUNDTRIP_MS : birth_ms(), 0);
}

static void
on_connect_failed(enum mqtt_failure kind, const char *why, void *userdata)
{
	struct probe *p = userdata;

	if (p->phase != P_CONNECTING)
		return;
	p->phase = P_FAILED;
	p->failure = kind;
	snprintf(p->why, sizeof(p->why), "%s", why);
	loop_quit(p->loop, 0);
}

/* Whether a discovery config's payload points at topic: its state topic, or one below. */
static bool
points_at(const char *payload, size_t len, const char *topic)
{
	char key[TOPIC_SIZE + 32];
	const char *at;

	snprintf(key, sizeof(key), "\"state_topic\":\"%s", topic);
	at = memmem(payload, len, key, strlen(key));
	if (!at)
		return false;
	at += strlen(key);
	return at < payload + len && (*at == '"' || *at == '/');
}

static bool
all_seen(const struct probe *p)
{
	return p->back_ms && (p->birth || loop_now_ms() >= p->connected_ms + birth_ms());
}

static void
on_message(const char *topic, const void *payload, size_t len, bool retained, void *userdata)
{
	struct probe *p = userdata;
	size_t plen = strlen(p->ha_configs) - strlen("+/+/+/config");

	if (strcmp(topic, p->test_topic) == 0 && !p->back_ms) {
		p->back_ms = loop_now_ms();
	} else if (strcmp(topic, p->ha_status) == 0) {
		p->birth = true;
		p->birth_retained = retained;
		snprintf(p->birth_payload, sizeof(p->birth_payload), "%.*s",
		         (int) (len < 31 ? len : 31), (const char *) payload);
	} else if (retained && strncmp(topic, p->ha_configs, plen) == 0 &&
	           strstr(topic + plen, "/linkyd_")) {
		for (size_t i = 0; i < p->c->n_meters; i++)
			p->configs[i] += points_at(payload, len, p->c->meters[i].topic);
	}
	if (p->phase != P_WAITING)
		return;
	if (all_seen(p)) {
		p->phase = P_DONE;
		loop_quit(p->loop, 0);
	} else if (p->back_ms && !p->birth) {
		/* Only the birth message left to wait for: until its time is up, no longer. */
		uint64_t due = p->connected_ms + birth_ms(), now = loop_now_ms();

		(void) loop_timer_arm(&p->timer, due > now ? due - now : 1, 0);
	}
}

static void
time_up(struct loop_timer *t)
{
	struct probe *p = container_of(t, struct probe, timer);

	if (p->phase == P_CONNECTING)
		snprintf(p->why, sizeof(p->why), "no answer within %d s", CONNECT_MS / 1000);
	loop_quit(p->loop, 0);
}

static const struct mqtt_callbacks mqtt_cbs = {
    .on_state = on_state, .on_connect_failed = on_connect_failed, .on_message = on_message};

static const char *
failure_fix(enum mqtt_failure kind, bool tls)
{
	switch (kind) {
	case MQTT_FAIL_NETWORK:
		return "check the host and port in mqtt.url (or --mqtt), that the broker runs "
		       "(systemctl status mosquitto) and listens on that address, not only on "
		       "127.0.0.1 of another machine";
	case MQTT_FAIL_PROTOCOL:
		return tls ? "the port must be the broker's TLS listener (often 8883)"
		           : "the port must be the broker's plain MQTT listener (often 1883); for "
		             "its TLS listener use mqtts://";
	case MQTT_FAIL_TLS:
		return "mqtt.ca_file must hold the CA that signed the broker's certificate, the "
		       "host in the URL must be a name in that certificate (or verify_hostname = "
		       "false), and the port the broker's TLS listener";
	case MQTT_FAIL_AUTH:
		return "set mqtt.username and mqtt.password (or password_file) to an account of "
		       "the broker (mosquitto_passwd), allowed by its ACL to publish and subscribe "
		       "under the meter's topic";
	}
	return NULL;
}

static void
report_ha(struct doctor_report *r, const struct probe *p)
{
	const struct linkyd_config *c = p->c;

	if (!c->ha.discovery || c->format != JSON_FORMAT_TYPED) {
		report_line(r, DOCTOR_OK, "Home Assistant", NULL,
		            "discovery off (ha.discovery = false, or the raw format)");
		return;
	}
	if (!p->birth)
		report_line(r, DOCTOR_WARNING, "Home Assistant",
		            "nothing to do if Home Assistant runs and uses this broker: linkyd "
		            "publishes its configs again when HA announces itself; check HA's MQTT "
		            "integration and its discovery prefix",
		            "discovery prefix '%s': no birth message on %s within %.1f s (Home "
		            "Assistant does not retain it by default, so it is only seen when HA "
		            "starts)",
		            c->ha.prefix, p->ha_status, birth_ms() / 1000.0);
	else if (strcmp(p->birth_payload, "online") != 0)
		report_line(r, DOCTOR_WARNING, "Home Assistant",
		            "start Home Assistant, or check its MQTT integration",
		            "discovery prefix '%s': Home Assistant says '%s' on %s", c->ha.prefix,
		            p->birth_payload, p->ha_status);
	else
		report_line(r, DOCTOR_OK, "Home Assistant", NULL,
		            "discovery prefix '%s': Home Assistant is online (%s on %s)",
		            c->ha.prefix, p->birth_retained ? "retained" : "seen", p->ha_status);
	for (size_t i = 0; i < c->n_meters; i++)
		report_line(r, DOCTOR_OK, "Home Assistant", NULL,
		            "meter '%s': %u discovery config(s) retained on the broker%s",
		            c->meters[i].name, p->configs[i],
		            p->configs[i] ? "" : " (linkyd publishes them once it reads frames)");
}

static void
report_broker(struct doctor_report *r, const struct probe *p)
{
	const char *url = p->c->mqtt.url;
	bool tls = strncmp(url, "mqtts://", 8) == 0;

	if (p->phase == P_FAILED) {
		static const char *const kinds[] = {[MQTT_FAIL_NETWORK] = "network",
		                                    [MQTT_FAIL_PROTOCOL] = "protocol",
		                                    [MQTT_FAIL_TLS] = "TLS",
		                                    [MQTT_FAIL_AUTH] = "authentication"};

		report_line(r, DOCTOR_PROBLEM, "broker", failure_fix(p->failure, tls),
		            "cannot connect to %s (%s): %s", url, kinds[p->failure], p->why);
		return;
	}
	if (p->phase == P_CONNECTING) {
		report_line(r, DOCTOR_PROBLEM, "broker", failure_fix(MQTT_FAIL_NETWORK, tls),
		            "cannot connect to %s: %s", url, p->why);
		return;
	}
	if (!p->back_ms) {
		report_line(r, DOCTOR_PROBLEM, "broker",
		            "the broker's ACL must let this user publish and subscribe under the "
		            "meter's topic",
		            "connected to %s%s, but the test message on %s did not come back "
		            "within %d s",
		            url, tls ? " (TLS verified)" : "", p->test_topic, ROUNDTRIP_MS / 1000);
		return;
	}
	report_line(r, DOCTOR_OK, "broker", NULL,
	            "connected to %s%s%s; a test message came back in %llu ms", url,
	            tls ? " (TLS verified)" : "", p->c->mqtt.username ? ", authenticated" : "",
	            (unsigned long long) (p->back_ms - p->sent_ms));
	report_ha(r, p);
}

void
check_broker(struct doctor_report *r, struct loop *loop, const struct linkyd_config *c)
{
	struct probe p = {.loop = loop, .c = c, .timer.io.fd = -1};
	char client_id[32];
	int e;

	snprintf(client_id, sizeof(client_id), "linkyd-doctor-%d", (int) getpid());
	snprintf(p.test_topic, sizeof(p.test_topic), "%s/doctor/%s", c->meters[0].topic, client_id);
	(void) topic_ha_status(c->ha.prefix, p.ha_status, sizeof(p.ha_status));
	snprintf(p.ha_configs, sizeof(p.ha_configs), "%s/+/+/+/config", c->ha.prefix);
	p.configs = calloc(c->n_meters, sizeof(*p.configs));
	if (!p.configs) {
		report_line(r, DOCTOR_PROBLEM, "broker", NULL, "out of memory");
		return;
	}
	e = loop_timer_init(loop, &p.timer, time_up);
	if (e == 0)
		e = mqtt_new(loop, &c->mqtt, client_id, NULL, &mqtt_cbs, &p, &p.mqtt);
	if (e == 0)
		e = mqtt_subscribe(p.mqtt, p.test_topic);
	if (e == 0)
		e = mqtt_subscribe(p.mqtt, p.ha_status);
	if (e == 0)
		e = mqtt_subscribe(p.mqtt, p.ha_configs);
	if (e < 0) {
		report_line(r, DOCTOR_PROBLEM, "broker", "see the configuration check",
		            "cannot set up a client for %s: %s", c->mqtt.url, strerror(-e));
		goto out;
	}
	(void) loop_timer_arm(&p.timer, CONNECT_MS, 0);
	(void) loop_run(loop);
	report_broker(r, &p);
	/* Disconnect cleanly, within a deadline of mqtt_close()'s own. */
	mqtt_close(p.mqtt, CLOSE_MS);
	if (p.phase != P_CLOSED) {
		(void) loop_timer_arm(&p.timer, CLOSE_MS + 500, 0);
		(void) loop_run(loop);
	}
out:
	mqtt_free(p.mqtt);
	loop_timer_done(loop, &p.timer);
	free(p.configs);
}
