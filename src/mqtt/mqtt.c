/* SPDX-License-Identifier: MIT */
/*
 * The MQTT front end: queue, window, reconnect back-off, availability and subscriptions, on the
 * loop's thread, in linkyd's own types; the client library hides behind backend.h (paho.c).
 *
 * linkyd keeps its own queue instead of the library's offline buffer, so that the order, the
 * bounds, the drop count and the fate of unacknowledged messages after a reconnect are ours:
 * messages go out in order with a small window in flight; one leaves the queue only when the
 * broker acknowledged it (QoS 1/2) or the backend wrote it (QoS 0); after a connection loss
 * every unacknowledged message is sent again, in order (at least once). Nothing is written to
 * disk.
 *
 * Events are taken by a loop hook, once per wake-up of the loop: acks wake the loop only when
 * something waits on them (a full window with messages behind it, or a close); otherwise the
 * loop takes them when it wakes for the next frame.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "linkyd/log.h"
#include "linkyd/mqtt.h"

#include "backend.h"
#include "queue.h"

/* Messages in flight. A burst (a backlog after an outage) goes out in fewer, larger batches with
 * more: 64 instead of 16 took 40% off the context switches per message in a burst (perf stat
 * on bench/e2e.py). At most this many are sent twice after a connection loss (QoS 1 is at least
 * once anyway). */
#define WINDOW          64
#define BACKOFF_MIN_MS  1000
#define BACKOFF_MAX_MS  30000
#define CONNECT_TIMEOUT 5 /* seconds up to CONNACK: a broker answers in milliseconds */
/* State topics (availability, mode, diagnostics): one message each at most. */
#define STATE_QUEUE 8
/* Live messages (discovery configs, label topics, derived values) besides the frames, so that a
 * burst of them never pushes frames out; refused beyond. */
#define LIVE_QUEUE 256

struct mqtt {
	struct loop *loop;
	struct backend *backend;
	char *url, *client_id, *status_topic;
	char *password; /* read from cfg->password_file, else NULL */
	const struct mqtt_config *cfg;
	const struct mqtt_callbacks *cb;
	void *userdata;
	enum mqtt_state state;
	bool closing;
	unsigned backoff_ms;
	/* Connection failures are logged when these change. */
	int last_failure; /* enum backend_failure, or -1 */
	int last_code;
	uint64_t dropped_before; /* drops logged at the last (re)connect */
	char *subs[MQTT_SUBSCRIPTIONS];
	size_t n_subs;

	struct queue queue;
	struct mqtt_stats stats;

	struct loop_timer reconnect, deadline;
	struct loop_io efd_io;
	struct loop_hook hook;
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
	const struct backend_message bm = {.topic = msg->topic,
	                                   .payload = msg->payload,
	                                   .len = msg->len,
	                                   .qos = msg->qos,
	                                   .retain = msg->retain};
	int r = backend_send(m->backend, &bm, &msg->token);

	if (r < 0)
		return r;
	msg->inflight = true;
	m->queue.inflight++;
	return 0;
}

/* Hand the next messages to the backend, in order, up to the window. */
static void
pump(struct mqtt *m)
{
	struct queue *q = &m->queue;

	while (m->state == MQTT_CONNECTED && q->inflight < WINDOW && q->sent_upto < q->count) {
		struct msg *msg = queue_at(q, q->sent_upto);

		if (!msg->done && !msg->inflight && send_one(m, msg) != 0)
			return; /* refused (disconnecting): the loss event will resend */
		q->sent_upto++;
	}
}

/* Whether acks must wake the loop: a message waits for room in the window, or a close waits
 * for the queue to empty. */
static bool
waits_on_acks(const struct mqtt *m)
{
	const struct queue *q = &m->queue;

	return m->closing || (q->inflight >= WINDOW && q->sent_upto < q->count);
}

static void
start_disconnect(struct mqtt *m)
{
	backend_disconnect(m->backend, 1000);
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

/* What kind of failure, for the owner's advice. */
static enum mqtt_failure
failure_kind(const struct backend_event *ev)
{
	switch (ev->failure) {
	case BACKEND_FAIL_NO_NAME:
	case BACKEND_FAIL_REFUSED:
	case BACKEND_FAIL_UNREACHABLE:
	case BACKEND_FAIL_TIMEOUT:
		return MQTT_FAIL_NETWORK;
	case BACKEND_FAIL_TLS:
		return MQTT_FAIL_TLS;
	case BACKEND_FAIL_CONNACK:
		/* 4: bad user name or password, 5: not authorised (MQTT 3.1.1 §3.2.2.3). */
		return ev->code == 4 || ev->code == 5 ? MQTT_FAIL_AUTH : MQTT_FAIL_PROTOCOL;
	case BACKEND_FAIL_NO_CONNACK:
	case BACKEND_FAIL_CLOSED:
	case BACKEND_FAIL_OTHER:
		break;
	}
	return MQTT_FAIL_PROTOCOL;
}

/* What happened, in the user's words. */
static void
describe_failure(const struct mqtt *m, const struct backend_event *ev, char *buf, size_t size)
{
	/* MQTT 3.1.1 §3.2.2.3. */
	static const char *const connack[] = {"",
	                                      "unacceptable protocol version",
	                                      "client identifier rejected",
	                                      "server unavailable",
	                                      "bad user name or password",
	                                      "not authorised"};
	bool tls = strncmp(m->url, "mqtts://", 8) == 0;

	switch (ev->failure) {
	case BACKEND_FAIL_NO_NAME:
		snprintf(buf, size, "the host name does not resolve (%s)", gai_strerror(ev->code));
		break;
	case BACKEND_FAIL_REFUSED:
		snprintf(buf, size, "connection refused (no broker listens on that port)");
		break;
	case BACKEND_FAIL_UNREACHABLE:
		snprintf(buf, size, "host unreachable (%s)", strerror(ev->code));
		break;
	case BACKEND_FAIL_TIMEOUT:
		snprintf(buf, size,
		         "the host does not answer (down, or a firewall drops the packets)");
		break;
	case BACKEND_FAIL_NO_CONNACK:
		if (tls)
			snprintf(
			    buf, size,
			    "no TLS handshake or CONNACK within %d s: not an MQTT broker over TLS",
			    CONNECT_TIMEOUT);
		else
			snprintf(
			    buf, size,
			    "no CONNACK within %d s: not an MQTT broker, or a TLS port reached "
			    "with mqtt://",
			    CONNECT_TIMEOUT);
		break;
	case BACKEND_FAIL_CLOSED:
		/* TLS 1.3 refuses a missing client certificate after the client's handshake is
		 * over, when the CONNECT is on its way: it ends here, not as a handshake failure.
		 */
		snprintf(
		    buf, size, "the connection was closed before the broker's CONNACK: %s",
		    tls ? "the broker refused the TLS session (a client certificate it "
		          "requires) or the CONNECT, or it is not an MQTT broker"
		        : "a TLS port reached with mqtt://, not an MQTT broker, or a CONNECT it "
		          "could not accept");
		break;
	case BACKEND_FAIL_TLS:
		snprintf(buf, size,
		         "TLS handshake failed (the broker's certificate, ca_file, the name in the "
		         "URL, a client certificate it requires, or a plain MQTT port reached with "
		         "mqtts://)");
		break;
	case BACKEND_FAIL_CONNACK:
		snprintf(buf, size, "the broker refused the connection: %s",
		         ev->code > 0 && ev->code < 6 ? connack[ev->code] : "unknown reason");
		break;
	case BACKEND_FAIL_OTHER:
		snprintf(buf, size, "%s", backend_strerror(m->backend, ev->code));
		break;
	}
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
	const struct backend_message online = {
	    .topic = m->status_topic, .payload = "online", .len = 6, .qos = 1, .retain = true};

	if (!m->status_topic)
		return;
	/* Not queued: it must precede the backlog, and the next connect sends it again. */
	(void) backend_send(m->backend, &online, NULL);
}

static void
subscribe_now(struct mqtt *m, const char *topic)
{
	/* Unacknowledged: a refused subscription only loses Home Assistant's birth messages, and
	 * the next reconnect asks again. */
	int r = backend_subscribe(m->backend, topic);

	if (r < 0)
		log_errno(LOG_WARNING, r, "%s: cannot subscribe to %s", m->url, topic);
}

static void
connected(struct mqtt *m)
{
	log_notice("connected to %s as '%s'; %zu message(s) queued", m->url, m->client_id,
	           m->queue.count);
	if (m->stats.dropped > m->dropped_before)
		log_warn("%s: %llu frame(s) dropped while the broker was away (queue full)", m->url,
		         (unsigned long long) (m->stats.dropped - m->dropped_before));
	m->dropped_before = m->stats.dropped;
	m->backoff_ms = BACKOFF_MIN_MS;
	m->last_failure = -1;
	publish_online(m);
	for (size_t i = 0; i < m->n_subs; i++)
		subscribe_now(m, m->subs[i]);
	set_state(m, MQTT_CONNECTED);
}

static void
connect_failed(struct mqtt *m, const struct backend_event *ev)
{
	char why[256];
	bool news = (int) ev->failure != m->last_failure || ev->code != m->last_code;

	if (news || (m->cb && m->cb->on_connect_failed))
		describe_failure(m, ev, why, sizeof(why));
	if (news)
		log_warn("cannot connect to %s: %s; retrying every %us at most", m->url, why,
		         BACKOFF_MAX_MS / 1000);
	m->last_failure = (int) ev->failure;
	m->last_code = ev->code;
	schedule_reconnect(m);
	if (m->cb && m->cb->on_connect_failed)
		m->cb->on_connect_failed(failure_kind(ev), why, m->userdata);
}

static void
lost(struct mqtt *m)
{
	queue_requeue_inflight(&m->queue);
	/* Discovery configs are published again on connect, label topics and derived values
	 * superseded: the queue is for the frames and states now. */
	queue_drop_live(&m->queue);
	log_warn("connection to %s lost; queueing frames (up to %u) until it is back", m->url,
	         m->cfg->queue_frames);
	m->last_failure = -1;
	set_state(m, MQTT_CONNECTING);
	schedule_reconnect(m);
}

/* Returns true when the client closed: on_state(MQTT_CLOSED) ran, and the owner may be
 * tearing down, so m must not be touched any more. */
static bool
handle(struct mqtt *m, const struct backend_event *ev)
{
	switch (ev->type) {
	case BACKEND_CONNECTED:
		connected(m);
		break;
	case BACKEND_MESSAGE:
		/* Closing: the owner is winding down and publishes nothing more. */
		if (!m->closing && m->cb && m->cb->on_message)
			m->cb->on_message(ev->topic, ev->payload, ev->len, ev->retained,
			                  m->userdata);
		break;
	case BACKEND_CONNECT_FAILED:
		connect_failed(m, ev);
		break;
	case BACKEND_LOST:
		if (m->closing) {
			finish_close(m);
			return true;
		}
		lost(m);
		break;
	case BACKEND_SENT:
	case BACKEND_SEND_FAILED:
		ack(m, ev->token, ev->type == BACKEND_SENT);
		break;
	case BACKEND_DISCONNECTED:
		finish_close(m);
		return true;
	case BACKEND_OVERFLOW:
		/* Acks were lost: resend what is in flight (duplicates, no loss). */
		queue_requeue_inflight(&m->queue);
		break;
	}
	return false;
}

/* Take every event, refill the window once they are all in (the backend gets the messages
 * back to back, and its send thread takes them in one wake-up), and tell the backend whether
 * acks must wake the loop before it waits. Runs before every wait of the loop. */
static void
before_wait(struct loop_hook *hook)
{
	struct mqtt *m = container_of(hook, struct mqtt, hook);
	struct backend_event ev;

	if (m->state == MQTT_CLOSED) {
		/* Late events of a closed client: nobody listens any more. */
		while (backend_next_event(m->backend, &ev))
			backend_event_done(&ev);
		return;
	}
	do {
		while (backend_next_event(m->backend, &ev)) {
			bool closed = handle(m, &ev);

			backend_event_done(&ev);
			if (closed)
				return; /* the events left go with the client, or the next turn */
		}
		pump(m);
	} while (!backend_before_wait(m->backend, waits_on_acks(m)));
}

/* The eventfd only wakes the loop: the hook above takes the events before it waits again. */
static void
events_ready(struct loop_io *io, uint32_t events)
{
	(void) io;
	(void) events;
}

static void
connect_now(struct mqtt *m)
{
	const struct mqtt_config *c = m->cfg;
	const struct backend_options o = {
	    .username = c->username,
	    .password = m->password ? m->password : c->password,
	    .keepalive = c->keepalive,
	    .connect_timeout = CONNECT_TIMEOUT,
	    .will = {.topic = m->status_topic,
	             .payload = "offline",
	             .len = 7,
	             .qos = 1,
	             .retain = true},
	    .ca_file = c->ca_file,
	    .cert_file = c->cert_file,
	    .key_file = c->key_file,
	    .verify_hostname = c->verify_hostname,
	};

	backend_connect(m->backend, &o);
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

/* What MQTT cannot carry is refused here, with its name, rather than sent for the broker to
 * drop the connection without a word. */
static int
check_length(const char *what, const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (len <= MQTT_STRING_MAX)
		return 0;
	log_err("the MQTT %s is %zu bytes long: MQTT allows %d at most", what, len,
	        MQTT_STRING_MAX);
	return -EINVAL;
}

static int
load_password(struct mqtt *m)
{
	char err[512];
	int r;

	if (!m->cfg->password_file)
		return 0;
	r = mqtt_password_load(m->cfg->password_file, &m->password, err, sizeof(err));
	if (r < 0)
		log_err("mqtt.password_file %s", err);
	return r;
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
	m->last_failure = -1;
	m->reconnect.io.fd = m->deadline.io.fd = m->efd_io.fd = -1;
	m->url = strdup(cfg->url);
	m->client_id = strdup(client_id);
	m->status_topic = status_topic ? strdup(status_topic) : NULL;
	if (queue_init(&m->queue, cfg->queue_frames + STATE_QUEUE + LIVE_QUEUE) < 0 || !m->url ||
	    !m->client_id || (status_topic && !m->status_topic))
		goto out_free;
	r = check_length("user name", cfg->username);
	if (r == 0)
		r = check_length("password", cfg->password);
	if (r == 0)
		r = check_length("client id", client_id);
	if (r == 0)
		r = load_password(m);
	if (r < 0)
		goto out_free;

	r = backend_new(cfg->url, client_id, &m->backend);
	if (r < 0)
		goto out_free;
	r = loop_add(loop, &m->efd_io, backend_fd(m->backend), EPOLLIN, events_ready);
	if (r < 0)
		goto out_free;
	r = loop_timer_init(loop, &m->reconnect, reconnect_due);
	if (r < 0)
		goto out_free;
	r = loop_timer_init(loop, &m->deadline, deadline_due);
	if (r < 0)
		goto out_free;
	loop_hook_add(loop, &m->hook, before_wait);
	connect_now(m);
	*ret_mqtt = m;
	return 0;

out_free:
	mqtt_free(m);
	return r;
}

/* The oldest frame not handed to the backend yet; q->count when there is none. */
static size_t
oldest_frame_kept(const struct queue *q)
{
	for (size_t i = 0; i < q->count; i++) {
		const struct msg *msg = queue_at(q, i);

		if (msg->kind == MSG_FRAME && !msg->inflight)
			return i;
	}
	return q->count;
}

/* Make room for a message of kind on topic within its bound: 0 when it may be queued, 1 when a
 * new frame is dropped instead, -ENOBUFS when a message is refused. */
static int
make_room(struct mqtt *m, enum msg_kind kind, const char *topic)
{
	struct queue *q = &m->queue;
	size_t i;

	switch (kind) {
	case MSG_FRAME:
		if (q->n[MSG_FRAME] == 0 || q->n[MSG_FRAME] < m->cfg->queue_frames)
			return 0;
		/* Logged once per outage here, summed up at the reconnect. */
		if (m->stats.dropped == m->dropped_before)
			log_warn("%s: queue full (%u frames), dropping the oldest", m->url,
			         m->cfg->queue_frames);
		m->stats.dropped++;
		/* A frame in flight cannot be taken back from the backend and will most likely
		 * arrive: dropping it would count a frame that is delivered, and let the backend
		 * hold more than the bound. When every frame queued is in flight (a bound below
		 * the window), the new one is the frame that never reaches the broker. */
		i = oldest_frame_kept(q);
		if (i == q->count)
			return 1;
		queue_remove(q, i);
		return 0;
	case MSG_STATE:
		/* Only the latest state of a topic matters, sent or not. */
		i = queue_find(q, MSG_STATE, topic);
		if (i == q->count && q->n[MSG_STATE] >= STATE_QUEUE)
			i = queue_find(q, MSG_STATE, NULL);
		if (i < q->count)
			queue_remove(q, i);
		return 0;
	case MSG_LIVE:
		/* A later one supersedes it, a reconnect sends the configs again. */
		return q->n[MSG_LIVE] >= LIVE_QUEUE ? -ENOBUFS : 0;
	case MSG_KINDS:
		break;
	}
	return -EINVAL;
}

static int
enqueue(struct mqtt *m, const char *topic, const void *payload, size_t len, bool retain, int qos,
        enum msg_kind kind)
{
	int r;

	/* The broker would drop the connection over a wildcard, and the queue resend it forever. */
	if (!*topic || strpbrk(topic, "+#"))
		return -EINVAL;
	r = make_room(m, kind, topic);
	if (r < 0)
		return r;
	/* Accepted even when dropped at once (counted by make_room()), as a frame dropped later
	 * was: queued = sent + dropped + pending, for the frames. */
	if (r == 0) {
		r = queue_push(&m->queue, topic, payload, len, retain, qos, kind);
		if (r < 0)
			return r;
	}
	m->stats.queued++;
	pump(m);
	return 0;
}

int
mqtt_publish(struct mqtt *m, const char *topic, const void *payload, size_t len, bool retain)
{
	return enqueue(m, topic, payload, len, retain, m->cfg->qos, MSG_FRAME);
}

int
mqtt_publish_state(struct mqtt *m, const char *topic, const void *payload, size_t len, bool retain)
{
	return enqueue(m, topic, payload, len, retain, m->cfg->qos, MSG_STATE);
}

int
mqtt_publish_live(struct mqtt *m, const char *topic, const void *payload, size_t len, bool retain,
                  int qos)
{
	if (m->state != MQTT_CONNECTED)
		return -ENOTCONN;
	return enqueue(m, topic, payload, len, retain, qos < 0 ? m->cfg->qos : qos, MSG_LIVE);
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
	if (!m->status_topic || mqtt_publish_state(m, m->status_topic, "offline", 7, true) < 0)
		start_disconnect(m);
}

struct mqtt *
mqtt_free(struct mqtt *m)
{
	if (!m)
		return NULL;
	loop_hook_del(m->loop, &m->hook);
	if (m->efd_io.fd >= 0)
		loop_del(m->loop, &m->efd_io);
	m->backend = backend_free(m->backend);
	loop_timer_done(m->loop, &m->reconnect);
	loop_timer_done(m->loop, &m->deadline);
	queue_done(&m->queue);
	for (size_t i = 0; i < m->n_subs; i++)
		free(m->subs[i]);
	if (m->password)
		explicit_bzero(m->password, strlen(m->password));
	free(m->password);
	free(m->url);
	free(m->client_id);
	free(m->status_topic);
	free(m);
	return NULL;
}
