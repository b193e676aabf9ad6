/* SPDX-License-Identifier: MIT */
/*
 * MQTT publisher on paho.mqtt.c's MQTTAsync, bridged into the event loop (STYLE.md §8): paho's
 * threads only append events to a mutex-protected ring and poke an eventfd (paho.c); everything
 * else, sending included, happens here, on the loop's thread.
 *
 * linkyd keeps its own queue instead of paho's offline buffer, so that the order, the bound,
 * the drop count and the fate of unacknowledged messages after a reconnect are ours: messages
 * go out in order with a small window in flight; one leaves the queue only when the broker
 * acknowledged it (QoS 1/2) or paho wrote it (QoS 0); after a connection loss every
 * unacknowledged message is sent again, in order (at least once). Nothing is written to disk.
 *
 * Incoming messages (subscriptions) take the same path: paho's thread copies topic and payload
 * into an event and frees its own message; the loop delivers the copy to on_message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "linkyd/log.h"
#include "linkyd/mqtt.h"

#include "paho.h"
#include "queue.h"

/* Messages in flight. A burst (a backlog after an outage) goes out in fewer, larger batches with
 * more: 64 instead of 16 took 40% off the context switches per message in a burst (perf stat
 * on bench/e2e.py). At most this many are sent twice after a connection loss (QoS 1 is at least
 * once anyway). */
#define WINDOW          64
#define BACKOFF_MIN_MS  1000
#define BACKOFF_MAX_MS  30000
#define CONNECT_TIMEOUT 10 /* seconds */
#define STATUS_QUEUE    4  /* room kept for availability messages beyond the frames */
/* ... and for a burst of live messages (discovery configs, label topics), so that they never
 * push frames out. */
#define LIVE_QUEUE 256

struct mqtt {
	struct loop *loop;
	struct paho paho;
	char *url, *client_id, *status_topic;
	const struct mqtt_config *cfg;
	const struct mqtt_callbacks *cb;
	void *userdata;
	enum mqtt_state state;
	bool closing;
	unsigned backoff_ms;
	int last_error;          /* connection failures are logged when this changes */
	uint64_t dropped_before; /* drops logged at the last (re)connect */
	char *subs[MQTT_SUBSCRIPTIONS];
	size_t n_subs;

	struct queue queue;
	struct mqtt_stats stats;

	struct loop_timer reconnect, deadline;
	struct loop_io efd_io;
};

static void
set_state(struct mqtt *m, enum mqtt_state state)
{
	if (m->state == state)
		return;
	m->state = state;
	if (m->cb && m->cb->on_state)
		m->cb->on_state(state, m->userdata);
}

static int
send_one(struct mqtt *m, struct msg *msg)
{
	MQTTAsync_message pub = MQTTAsync_message_initializer;
	int r;

	pub.payload = msg->payload;
	pub.payloadlen = (int) msg->len;
	pub.qos = msg->qos;
	pub.retained = msg->retain;
	r = paho_send(&m->paho, msg->topic, &pub, &msg->token);
	if (r != MQTTASYNC_SUCCESS)
		return r;
	msg->inflight = true;
	m->queue.inflight++;
	return 0;
}

/* Hand the next messages to paho, in order, up to the window. */
static void
pump(struct mqtt *m)
{
	struct queue *q = &m->queue;

	while (m->state == MQTT_CONNECTED && q->inflight < WINDOW && q->sent_upto < q->count) {
		struct msg *msg = queue_at(q, q->sent_upto);

		if (!msg->done && !msg->inflight && send_one(m, msg) != 0)
			return; /* paho refused (disconnecting): the loss event will resend */
		q->sent_upto++;
	}
}

static void
start_disconnect(struct mqtt *m)
{
	paho_disconnect(&m->paho, 1000);
}

static void
finish_close(struct mqtt *m)
{
	if (m->queue.count > 0)
		log_warn("%s: %zu message(s) not delivered at shutdown", m->url, m->queue.count);
	(void) loop_timer_arm(&m->deadline, 0, 0);
	(void) loop_timer_arm(&m->reconnect, 0, 0);
	set_state(m, MQTT_CLOSED);
}

static void
ack(struct mqtt *m, int token, bool ok)
{
	if (queue_ack(&m->queue, token, ok))
		m->stats.sent++;
	if (m->closing && m->queue.count == 0 && m->state == MQTT_CONNECTED)
		start_disconnect(m);
}

static const char *
connect_error(const struct mqtt *m, int code)
{
	/* Positive codes are the broker's CONNACK refusals (MQTT 3.1.1 §3.2.2.3). */
	static const char *const connack[] = {"",
	                                      "unacceptable protocol version",
	                                      "client identifier rejected",
	                                      "server unavailable",
	                                      "bad user name or password",
	                                      "not authorised"};

	if (code > 0 && code < 6)
		return connack[code];
	/* paho says no more than "failure", for TCP and TLS alike. */
	if ((code == MQTTASYNC_FAILURE || code == 0) && strncmp(m->url, "ssl://", 6) == 0)
		return "connection or TLS handshake failed (broker address, its certificate, "
		       "ca_file, the name in the URL, or a client certificate it requires)";
	if (code == MQTTASYNC_FAILURE || code == 0)
		return "connection refused or unreachable";
	return paho_strerror(&m->paho, code);
}

static void
schedule_reconnect(struct mqtt *m)
{
	(void) loop_timer_arm(&m->reconnect, m->backoff_ms, 0);
	m->backoff_ms = m->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : m->backoff_ms * 2;
}

static void
publish_online(struct mqtt *m)
{
	MQTTAsync_message pub = MQTTAsync_message_initializer;

	pub.payload = (void *) "online";
	pub.payloadlen = 6;
	pub.qos = 1;
	pub.retained = 1;
	/* Not queued: it must precede the backlog, and the next connect sends it again. */
	(void) paho_send(&m->paho, m->status_topic, &pub, NULL);
}

static void
subscribe_now(struct mqtt *m, const char *topic)
{
	/* No response options: a refused subscription only loses Home Assistant's birth
	 * messages, and the next reconnect asks again. */
	int r = paho_subscribe(&m->paho, topic);

	if (r != MQTTASYNC_SUCCESS)
		log_warn("%s: cannot subscribe to %s: %s", m->url, topic,
		         paho_strerror(&m->paho, r));
}

/* Returns true when the client closed: on_state(MQTT_CLOSED) ran, and the owner may be
 * tearing down, so m must not be touched any more. */
static bool
handle(struct mqtt *m, const struct paho_ev *ev)
{
	switch (ev->type) {
	case PAHO_EV_CONNECTED:
		if (m->closing)
			break;
		log_notice("connected to %s as '%s'; %zu message(s) queued", m->url, m->client_id,
		           m->queue.count);
		if (m->stats.dropped > m->dropped_before)
			log_warn("%s: %llu frame(s) dropped while the broker was away (queue full)",
			         m->url,
			         (unsigned long long) (m->stats.dropped - m->dropped_before));
		m->dropped_before = m->stats.dropped;
		m->backoff_ms = BACKOFF_MIN_MS;
		m->last_error = 0;
		publish_online(m);
		for (size_t i = 0; i < m->n_subs; i++)
			subscribe_now(m, m->subs[i]);
		set_state(m, MQTT_CONNECTED);
		pump(m);
		break;
	case PAHO_EV_MESSAGE:
		if (!m->closing && m->cb && m->cb->on_message)
			m->cb->on_message(ev->topic, ev->payload, ev->len, ev->code != 0,
			                  m->userdata);
		break;
	case PAHO_EV_CONNECT_FAILED:
		if (m->closing) {
			finish_close(m);
			return true;
		}
		if (ev->code != m->last_error)
			log_warn("cannot connect to %s: %s; retrying every %us at most", m->url,
			         connect_error(m, ev->code), BACKOFF_MAX_MS / 1000);
		m->last_error = ev->code;
		schedule_reconnect(m);
		break;
	case PAHO_EV_LOST:
		queue_requeue_inflight(&m->queue);
		/* Discovery configs are published again on connect, label topics and derived values
		 * superseded: the queue is for the frames now. */
		queue_drop_extra(&m->queue);
		if (m->closing) {
			finish_close(m);
			return true;
		}
		log_warn("connection to %s lost; queueing frames (up to %u) until it is back",
		         m->url, m->cfg->queue_frames);
		m->last_error = MQTTASYNC_DISCONNECTED;
		set_state(m, MQTT_CONNECTING);
		schedule_reconnect(m);
		break;
	case PAHO_EV_SENT:
	case PAHO_EV_SEND_FAILED:
		ack(m, ev->code, ev->type == PAHO_EV_SENT);
		break;
	case PAHO_EV_DISCONNECTED:
		finish_close(m);
		return true;
	case PAHO_EV_OVERFLOW:
		/* Acks were lost: resend what is in flight (duplicates, no loss). */
		queue_requeue_inflight(&m->queue);
		break;
	}
	return false;
}

static void
events_ready(struct loop_io *io, uint32_t events)
{
	struct mqtt *m = container_of(io, struct mqtt, efd_io);
	struct paho_ev ev;
	uint64_t n;

	(void) events;
	(void) !read(io->fd, &n, sizeof(n));
	while (paho_next_event(&m->paho, &ev)) {
		bool closed = handle(m, &ev);

		paho_ev_done(&ev);
		if (closed)
			return; /* the events left go with the client (paho_done) */
	}
	/* Refill the window once all acks are in, not after each: paho gets the messages back
	 * to back, and its send thread takes them in one wake-up. */
	pump(m);
}

static void
connect_now(struct mqtt *m)
{
	MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;

	o.keepAliveInterval = m->cfg->keepalive;
	o.cleansession = 1;
	o.connectTimeout = CONNECT_TIMEOUT;
	o.username = m->cfg->username;
	o.password = m->cfg->password;
	will.topicName = m->status_topic;
	will.message = "offline";
	will.retained = 1;
	will.qos = 1;
	o.will = &will;
	if (strncmp(m->url, "ssl://", 6) == 0) {
		/* No ca_file: OpenSSL's default paths, i.e. the system's trust store. */
		ssl.trustStore = m->cfg->ca_file;
		ssl.keyStore = m->cfg->cert_file;
		ssl.privateKey = m->cfg->key_file;
		ssl.enableServerCertAuth = 1;
		ssl.verify = m->cfg->verify_hostname;
		o.ssl = &ssl;
	}
	paho_connect(&m->paho, &o);
}

static void
reconnect_due(struct loop_timer *t)
{
	struct mqtt *m = container_of(t, struct mqtt, reconnect);

	if (!m->closing)
		connect_now(m);
}

static void
deadline_due(struct loop_timer *t)
{
	struct mqtt *m = container_of(t, struct mqtt, deadline);

	log_warn("%s: shutdown deadline reached", m->url);
	finish_close(m);
}

/* "mqtt://host[:port]" -> paho's "tcp://host:port"; mqtts -> "ssl://". */
static char *
paho_url(const char *url)
{
	const char *scheme, *rest;
	const char *port = "";
	char *out;

	if (strncmp(url, "mqtt://", 7) == 0) {
		scheme = "tcp://";
		rest = url + 7;
		port = ":1883";
	} else if (strncmp(url, "mqtts://", 8) == 0) {
		scheme = "ssl://";
		rest = url + 8;
		port = ":8883";
	} else {
		return NULL;
	}
	/* An explicit port: a colon after the host (or after "]" for IPv6 literals). */
	if (strrchr(rest, ':') && (!strchr(rest, ']') || strrchr(rest, ':') > strchr(rest, ']')))
		port = "";
	if (asprintf(&out, "%s%s%s", scheme, rest, port) < 0)
		return NULL;
	return out;
}

int
mqtt_new(struct loop *loop, const struct mqtt_config *cfg, const char *client_id,
         const char *status_topic, const struct mqtt_callbacks *cb, void *userdata,
         struct mqtt **ret_mqtt)
{
	struct mqtt *m = calloc(1, sizeof(*m));
	int r = -ENOMEM;

	if (!m)
		return -ENOMEM;
	m->loop = loop;
	m->cfg = cfg;
	m->cb = cb;
	m->userdata = userdata;
	m->state = MQTT_CONNECTING;
	m->backoff_ms = BACKOFF_MIN_MS;
	m->reconnect.io.fd = m->deadline.io.fd = m->efd_io.fd = -1;
	m->paho.efd = -1; /* for mqtt_free() before paho_init() */
	m->url = paho_url(cfg->url);
	m->client_id = strdup(client_id);
	m->status_topic = strdup(status_topic);
	if (queue_init(&m->queue, cfg->queue_frames + STATUS_QUEUE + LIVE_QUEUE) < 0 || !m->url ||
	    !m->client_id || !m->status_topic)
		goto out_free;

	r = paho_init(&m->paho, m->url, client_id);
	if (r < 0)
		goto out_free;
	r = loop_add(loop, &m->efd_io, m->paho.efd, EPOLLIN, events_ready);
	if (r < 0)
		goto out_free;
	r = loop_timer_init(loop, &m->reconnect, reconnect_due);
	if (r < 0)
		goto out_free;
	r = loop_timer_init(loop, &m->deadline, deadline_due);
	if (r < 0)
		goto out_free;
	connect_now(m);
	*ret_mqtt = m;
	return 0;

out_free:
	mqtt_free(m);
	return r;
}

/* Queue a message. Frames (and availability) are bounded by the configured queue, the oldest
 * dropped and counted beyond; live messages (extra: discovery configs, label topics, derived
 * values) by LIVE_QUEUE besides, a new one refused beyond (a later one supersedes it, a
 * reconnect sends the configs again): they never push a frame out, even during a stall that
 * the connection state does not show yet. */
static int
enqueue(struct mqtt *m, const char *topic, const void *payload, size_t len, bool retain, int qos,
        bool extra)
{
	size_t limit = m->cfg->queue_frames + STATUS_QUEUE;
	int r;

	/* The broker would drop the connection over a wildcard, and the queue resend it forever. */
	if (!*topic || strpbrk(topic, "+#"))
		return -EINVAL;
	if (extra && m->queue.extra >= LIVE_QUEUE)
		return -ENOBUFS;
	while (!extra && m->queue.count - m->queue.extra >= limit) {
		/* Live messages older than the oldest frame go first, uncounted. */
		bool frame = !queue_at(&m->queue, 0)->extra;

		/* Logged once per outage here, summed up at the reconnect. */
		if (frame && m->stats.dropped == m->dropped_before)
			log_warn("%s: queue full (%zu messages), dropping the oldest", m->url,
			         limit);
		queue_pop_front(&m->queue);
		m->stats.dropped += frame;
	}
	r = queue_push(&m->queue, topic, payload, len, retain, qos, extra);
	if (r < 0)
		return r;
	m->stats.queued++;
	pump(m);
	return 0;
}

int
mqtt_publish(struct mqtt *m, const char *topic, const void *payload, size_t len, bool retain)
{
	return enqueue(m, topic, payload, len, retain, m->cfg->qos, false);
}

int
mqtt_subscribe(struct mqtt *m, const char *topic)
{
	if (m->n_subs == MQTT_SUBSCRIPTIONS)
		return -ENOSPC;
	m->subs[m->n_subs] = strdup(topic);
	if (!m->subs[m->n_subs])
		return -ENOMEM;
	if (m->state == MQTT_CONNECTED)
		subscribe_now(m, m->subs[m->n_subs]);
	m->n_subs++;
	return 0;
}

int
mqtt_publish_live(struct mqtt *m, const char *topic, const void *payload, size_t len, bool retain,
                  int qos)
{
	if (m->state != MQTT_CONNECTED)
		return -ENOTCONN;
	return enqueue(m, topic, payload, len, retain, qos < 0 ? m->cfg->qos : qos, true);
}

enum mqtt_state
mqtt_state(const struct mqtt *m)
{
	return m->state;
}

struct mqtt_stats
mqtt_stats(const struct mqtt *m)
{
	struct mqtt_stats s = m->stats;

	s.pending = m->queue.count;
	return s;
}

void
mqtt_close(struct mqtt *m, unsigned timeout_ms)
{
	m->closing = true;
	(void) loop_timer_arm(&m->reconnect, 0, 0);
	if (m->state != MQTT_CONNECTED) {
		finish_close(m);
		return;
	}
	(void) loop_timer_arm(&m->deadline, timeout_ms, 0);
	if (mqtt_publish(m, m->status_topic, "offline", 7, true) < 0)
		start_disconnect(m);
}

struct mqtt *
mqtt_free(struct mqtt *m)
{
	if (!m)
		return NULL;
	if (m->efd_io.fd >= 0)
		loop_del(m->loop, &m->efd_io);
	paho_done(&m->paho);
	loop_timer_done(m->loop, &m->reconnect);
	loop_timer_done(m->loop, &m->deadline);
	queue_done(&m->queue);
	for (size_t i = 0; i < m->n_subs; i++)
		free(m->subs[i]);
	free(m->url);
	free(m->client_id);
	free(m->status_topic);
	free(m);
	return NULL;
}
