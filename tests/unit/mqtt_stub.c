/* SPDX-License-Identifier: MIT */
/*
 * The MQTT backend stub (see mqtt_stub.h): backend.h's functions over plain arrays, on the test's
 * thread. Every injected event writes the eventfd, so the loop's next turn takes it. A failed
 * allocation aborts: this is test scaffolding.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mqtt_stub.h"

#define STUB_EVENTS 4096

struct backend {
	int efd;
	struct stub_message *sent;
	size_t n_sent, cap_sent;
	size_t acked; /* mqtt_stub_ack_all() went up to here in sent */
	int next_token;
	int refuse;
	unsigned connects, disconnects;
	struct backend_options options;
	char *subs[64];
	size_t n_subs;
	bool wake_on_ack;
	struct backend_event evs[STUB_EVENTS];
	size_t ev_head, ev_count;
};

static struct backend *last;

static char *
copy(const char *s)
{
	char *c = s ? strdup(s) : NULL;

	assert(!s || c);
	return c;
}

static void
free_options(struct backend_options *o)
{
	free((char *) o->username);
	free((char *) o->password);
	free((char *) o->will.topic);
	free((void *) o->will.payload);
	free((char *) o->ca_file);
	free((char *) o->cert_file);
	free((char *) o->key_file);
	*o = (struct backend_options){0};
}

struct backend *
mqtt_stub_last(void)
{
	return last;
}

int
backend_new(const char *url, const char *client_id, struct backend **ret_backend)
{
	struct backend *b = calloc(1, sizeof(*b));

	(void) url;
	(void) client_id;
	assert(b);
	b->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert(b->efd >= 0);
	b->next_token = 1;
	last = b;
	*ret_backend = b;
	return 0;
}

void
mqtt_stub_clear(struct backend *b)
{
	for (size_t i = 0; i < b->n_sent; i++) {
		free(b->sent[i].topic);
		free(b->sent[i].payload);
	}
	b->n_sent = b->acked = 0;
}

struct backend *
backend_free(struct backend *b)
{
	struct backend_event ev;

	if (!b)
		return NULL;
	while (backend_next_event(b, &ev))
		backend_event_done(&ev);
	mqtt_stub_clear(b);
	free(b->sent);
	free_options(&b->options);
	for (size_t i = 0; i < b->n_subs; i++)
		free(b->subs[i]);
	(void) close(b->efd);
	if (last == b)
		last = NULL;
	free(b);
	return NULL;
}

int
backend_fd(const struct backend *b)
{
	return b->efd;
}

void
backend_connect(struct backend *b, const struct backend_options *o)
{
	char *payload = malloc(o->will.len + 1);

	assert(payload);
	memcpy(payload, o->will.payload, o->will.len);
	payload[o->will.len] = '\0';
	free_options(&b->options);
	b->options = *o;
	b->options.username = copy(o->username);
	b->options.password = copy(o->password);
	b->options.will.topic = copy(o->will.topic);
	b->options.will.payload = payload;
	b->options.ca_file = copy(o->ca_file);
	b->options.cert_file = copy(o->cert_file);
	b->options.key_file = copy(o->key_file);
	b->connects++;
}

int
backend_send(struct backend *b, const struct backend_message *msg, int *ret_token)
{
	struct stub_message *s;

	if (b->refuse)
		return b->refuse;
	if (b->n_sent == b->cap_sent) {
		b->cap_sent = b->cap_sent ? 2 * b->cap_sent : 64;
		b->sent = realloc(b->sent, b->cap_sent * sizeof(*b->sent));
		assert(b->sent);
	}
	s = &b->sent[b->n_sent++];
	*s = (struct stub_message){.topic = copy(msg->topic),
	                           .payload = malloc(msg->len + 1),
	                           .len = msg->len,
	                           .qos = msg->qos,
	                           .retain = msg->retain};
	assert(s->payload);
	memcpy(s->payload, msg->payload, msg->len);
	s->payload[msg->len] = '\0';
	if (ret_token) {
		s->token = b->next_token++;
		*ret_token = s->token;
	}
	return 0;
}

int
backend_subscribe(struct backend *b, const char *topic)
{
	assert(b->n_subs < sizeof(b->subs) / sizeof(b->subs[0]));
	b->subs[b->n_subs++] = copy(topic);
	return 0;
}

void
backend_disconnect(struct backend *b, int timeout_ms)
{
	(void) timeout_ms;
	b->disconnects++;
}

bool
backend_next_event(struct backend *b, struct backend_event *ret_ev)
{
	uint64_t n;

	(void) !read(b->efd, &n, sizeof(n));
	if (b->ev_count == 0)
		return false;
	*ret_ev = b->evs[b->ev_head];
	b->ev_head = (b->ev_head + 1) % STUB_EVENTS;
	b->ev_count--;
	return true;
}

void
backend_event_done(struct backend_event *ev)
{
	free(ev->topic);
	free(ev->payload);
	ev->topic = ev->payload = NULL;
}

bool
backend_before_wait(struct backend *b, bool wake_on_ack)
{
	b->wake_on_ack = wake_on_ack;
	return b->ev_count == 0;
}

const char *
backend_strerror(const struct backend *b, int code)
{
	(void) b;
	(void) code;
	return "stub failure";
}

/* ---- inspection ------------------------------------------------------------------------ */

size_t
mqtt_stub_sent_count(const struct backend *b)
{
	return b->n_sent;
}

const struct stub_message *
mqtt_stub_sent(const struct backend *b, size_t i)
{
	return i < b->n_sent ? &b->sent[i] : NULL;
}

size_t
mqtt_stub_count(const struct backend *b, const char *topic)
{
	size_t n = 0;

	for (size_t i = 0; i < b->n_sent; i++)
		n += strcmp(b->sent[i].topic, topic) == 0;
	return n;
}

const struct stub_message *
mqtt_stub_last_on(const struct backend *b, const char *topic)
{
	for (size_t i = b->n_sent; i > 0; i--)
		if (strcmp(b->sent[i - 1].topic, topic) == 0)
			return &b->sent[i - 1];
	return NULL;
}

unsigned
mqtt_stub_connects(const struct backend *b)
{
	return b->connects;
}

const struct backend_options *
mqtt_stub_options(const struct backend *b)
{
	return &b->options;
}

unsigned
mqtt_stub_disconnects(const struct backend *b)
{
	return b->disconnects;
}

size_t
mqtt_stub_subscriptions(const struct backend *b)
{
	return b->n_subs;
}

const char *
mqtt_stub_subscription(const struct backend *b, size_t i)
{
	return i < b->n_subs ? b->subs[i] : NULL;
}

bool
mqtt_stub_wake_on_ack(const struct backend *b)
{
	return b->wake_on_ack;
}

/* ---- the broker's part ----------------------------------------------------------------- */

void
mqtt_stub_refuse_sends(struct backend *b, int err)
{
	b->refuse = err;
}

void
mqtt_stub_push(struct backend *b, const struct backend_event *ev)
{
	struct backend_event *e;
	uint64_t one = 1;

	assert(b->ev_count < STUB_EVENTS);
	e = &b->evs[(b->ev_head + b->ev_count++) % STUB_EVENTS];
	*e = *ev;
	e->topic = copy(ev->topic);
	if (ev->payload) {
		e->payload = malloc(ev->len + 1);
		assert(e->payload);
		memcpy(e->payload, ev->payload, ev->len);
		e->payload[ev->len] = '\0';
	}
	(void) !write(b->efd, &one, sizeof(one));
}

static void
push_type(struct backend *b, enum backend_event_type type, int token)
{
	mqtt_stub_push(b, &(struct backend_event){.type = type, .token = token});
}

void
mqtt_stub_connected(struct backend *b)
{
	push_type(b, BACKEND_CONNECTED, 0);
}

void
mqtt_stub_connect_failed(struct backend *b, enum backend_failure failure, int code)
{
	mqtt_stub_push(b, &(struct backend_event){
	                      .type = BACKEND_CONNECT_FAILED, .failure = failure, .code = code});
}

void
mqtt_stub_lost(struct backend *b)
{
	/* What was handed over before is gone with the connection. */
	b->acked = b->n_sent;
	push_type(b, BACKEND_LOST, 0);
}

void
mqtt_stub_disconnected(struct backend *b)
{
	push_type(b, BACKEND_DISCONNECTED, 0);
}

void
mqtt_stub_ack(struct backend *b, int token, bool ok)
{
	push_type(b, ok ? BACKEND_SENT : BACKEND_SEND_FAILED, token);
}

size_t
mqtt_stub_ack_all(struct backend *b)
{
	size_t n = 0;

	for (; b->acked < b->n_sent; b->acked++) {
		if (!b->sent[b->acked].token)
			continue;
		mqtt_stub_ack(b, b->sent[b->acked].token, true);
		n++;
	}
	return n;
}

void
mqtt_stub_message(struct backend *b, const char *topic, const char *payload, bool retained)
{
	mqtt_stub_push(b, &(struct backend_event){.type = BACKEND_MESSAGE,
	                                          .topic = (char *) topic,
	                                          .payload = (char *) payload,
	                                          .len = strlen(payload),
	                                          .retained = retained});
}
