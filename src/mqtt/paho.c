/* SPDX-License-Identifier: MIT */
/*
 * The paho side of the MQTT publisher (see paho.h): the MQTTAsync functions linkyd calls, the
 * callbacks that run on paho's threads, and the event ring they fill for the loop.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "linkyd/log.h"

#include "paho.h"

/* Every paho function linkyd calls, so that a client always uses the library that made it. */
struct paho_api {
	__typeof__(MQTTAsync_global_init) *global_init;
	__typeof__(MQTTAsync_setTraceLevel) *setTraceLevel;
	__typeof__(MQTTAsync_createWithOptions) *createWithOptions;
	__typeof__(MQTTAsync_setCallbacks) *setCallbacks;
	__typeof__(MQTTAsync_connect) *connect;
	__typeof__(MQTTAsync_sendMessage) *sendMessage;
	__typeof__(MQTTAsync_subscribe) *subscribe;
	__typeof__(MQTTAsync_disconnect) *disconnect;
	__typeof__(MQTTAsync_destroy) *destroy;
	__typeof__(MQTTAsync_freeMessage) *freeMessage;
	__typeof__(MQTTAsync_free) *free;
	__typeof__(MQTTAsync_strerror) *strerror;
};

/*
 * paho comes as two libraries: with TLS, it maps libssl and libcrypto (1.8 MiB resident once
 * loaded), which plain mqtt:// never needs. So neither is linked: the one a URL needs is
 * loaded on first use, RTLD_LOCAL, so that both can live in one process when a reload switches
 * between mqtt:// and mqtts:// (their symbols have the same names; each client calls the
 * library that created it). A library stays loaded until exit: its threads may outlive a
 * client briefly, and paho's global state does not support unloading. The table is the
 * module's one mutable global, used from the loop's thread only.
 */
static struct paho_lib {
	const char *soname;
	struct paho_api api; /* all NULL until loaded */
} libs[] = {{"libpaho-mqtt3a.so.1", {0}}, {"libpaho-mqtt3as.so.1", {0}}};

#define RESOLVE(api, handle, f) ((api)->f = (__typeof__((api)->f)) dlsym(handle, "MQTTAsync_" #f))

static bool
resolve(struct paho_api *api, void *h)
{
	return RESOLVE(api, h, global_init) && RESOLVE(api, h, setTraceLevel) &&
	       RESOLVE(api, h, createWithOptions) && RESOLVE(api, h, setCallbacks) &&
	       RESOLVE(api, h, connect) && RESOLVE(api, h, sendMessage) &&
	       RESOLVE(api, h, subscribe) && RESOLVE(api, h, disconnect) &&
	       RESOLVE(api, h, destroy) && RESOLVE(api, h, freeMessage) && RESOLVE(api, h, free) &&
	       RESOLVE(api, h, strerror);
}

/*
 * Load the library for url once. Then, before its first client, turn off what paho does by
 * default that a Raspberry Pi should not pay for: its in-memory trace takes a global mutex and
 * formats every packet (a quarter of its instructions per message, measured with callgrind);
 * and the TLS library initialises OpenSSL for every client (OpenSSL 3 initialises itself when
 * TLS is first used, which the TLS tests exercise).
 */
static const struct paho_api *
load(const char *url)
{
	struct paho_lib *lib = &libs[strncmp(url, "ssl://", 6) == 0];
	MQTTAsync_init_options init = MQTTAsync_init_options_initializer;
	void *h;

	if (lib->api.connect)
		return &lib->api;
	h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		log_err(
		    "cannot load %s for %s: %s (is Debian's package libpaho-mqtt1.3 installed?)",
		    lib->soname, url, dlerror());
		return NULL;
	}
	if (!resolve(&lib->api, h)) {
		log_err("%s: %s (paho.mqtt.c 1.3 or later is needed)", lib->soname, dlerror());
		lib->api = (struct paho_api){0};
		(void) dlclose(h);
		return NULL;
	}
	init.do_openssl_init = 0;
	lib->api.global_init(&init);
	lib->api.setTraceLevel(MQTTASYNC_TRACE_ERROR);
	return &lib->api;
}

/* ---- paho's threads: record and wake the loop, nothing else ------------------------------- */

/* The eventfd is written only when the ring was empty: the loop takes events until the ring is
 * empty again, so the ones added meanwhile need no wake-up of their own (a write less per ack
 * on paho's receive thread in a burst). */
static void
push_ev(struct paho *p, struct paho_ev ev)
{
	uint64_t one = 1;
	bool queued = false, wake;

	pthread_mutex_lock(&p->lock);
	wake = p->ev_count == 0 && !p->ev_overflow;
	if (p->ev_count < PAHO_EV_RING) {
		p->evs[(p->ev_head + p->ev_count++) % PAHO_EV_RING] = ev;
		queued = true;
	} else {
		p->ev_overflow = true;
	}
	pthread_mutex_unlock(&p->lock);
	if (!queued)
		paho_ev_done(&ev);
	if (wake)
		(void) !write(p->efd, &one, sizeof(one));
}

static void
push(struct paho *p, enum paho_ev_type type, int code)
{
	push_ev(p, (struct paho_ev){.type = type, .code = code});
}

/* paho requires this callback (MQTTAsync_setCallbacks). Returning 1 tells paho the message is
 * taken: it is freed here whether or not the copy could be made (a lost "online" from Home
 * Assistant only delays discovery to the next one). */
static int
on_message_arrived(void *context, char *topic, int topic_len, MQTTAsync_message *msg)
{
	struct paho *p = context;
	struct paho_ev ev = {.type = PAHO_EV_MESSAGE, .code = msg->retained};
	size_t tlen = topic_len > 0 ? (size_t) topic_len : strlen(topic);
	size_t plen = msg->payloadlen > 0 ? (size_t) msg->payloadlen : 0;

	ev.topic = strndup(topic, tlen);
	ev.payload = malloc(plen + 1);
	if (ev.topic && ev.payload) {
		memcpy(ev.payload, msg->payload, plen);
		ev.payload[plen] = '\0';
		ev.len = plen;
		push_ev(p, ev);
	} else {
		paho_ev_done(&ev);
	}
	p->api->freeMessage(&msg);
	p->api->free(topic);
	return 1;
}

static void
on_connect_ok(void *context, MQTTAsync_successData *response)
{
	(void) response;
	push(context, PAHO_EV_CONNECTED, 0);
}

static void
on_connect_fail(void *context, MQTTAsync_failureData *response)
{
	push(context, PAHO_EV_CONNECT_FAILED, response ? response->code : MQTTASYNC_FAILURE);
}

static void
on_lost(void *context, char *cause)
{
	(void) cause;
	push(context, PAHO_EV_LOST, 0);
}

static void
on_sent(void *context, MQTTAsync_successData *response)
{
	push(context, PAHO_EV_SENT, response ? response->token : 0);
}

static void
on_send_fail(void *context, MQTTAsync_failureData *response)
{
	push(context, PAHO_EV_SEND_FAILED, response ? response->token : 0);
}

static void
on_disconnected(void *context, MQTTAsync_successData *response)
{
	(void) response;
	push(context, PAHO_EV_DISCONNECTED, 0);
}

static void
on_disconnect_fail(void *context, MQTTAsync_failureData *response)
{
	(void) response;
	push(context, PAHO_EV_DISCONNECTED, 0);
}

/* ---- the loop's thread ------------------------------------------------------------------- */

int
paho_init(struct paho *p, const char *url, const char *client_id)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
	int r;

	*p = (struct paho){.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
	if (p->efd < 0)
		return log_errno(LOG_ERR, -errno, "cannot create an eventfd for %s", url);
	pthread_mutex_init(&p->lock, NULL);
	p->api = load(url);
	if (!p->api)
		return -ELIBACC;
	/* No persistence: the queue lives in RAM, the SD card is never written. */
	r = p->api->createWithOptions(&p->client, url, client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL,
	                              &co);
	if (r != MQTTASYNC_SUCCESS) {
		log_err("cannot create an MQTT client for %s: %s", url, p->api->strerror(r));
		return -EINVAL;
	}
	p->api->setCallbacks(p->client, p, on_lost, on_message_arrived, NULL);
	return 0;
}

void
paho_done(struct paho *p)
{
	struct paho_ev ev;

	if (p->efd < 0)
		return; /* paho_init() failed early or never ran */
	if (p->client)
		p->api->destroy(&p->client);
	/* paho's threads are gone: free the messages never delivered. */
	while (paho_next_event(p, &ev))
		paho_ev_done(&ev);
	if (p->efd >= 0)
		(void) close(p->efd);
	pthread_mutex_destroy(&p->lock);
}

void
paho_connect(struct paho *p, MQTTAsync_connectOptions *o)
{
	int r;

	o->onSuccess = on_connect_ok;
	o->onFailure = on_connect_fail;
	o->context = p;
	r = p->api->connect(p->client, o);
	if (r != MQTTASYNC_SUCCESS)
		push(p, PAHO_EV_CONNECT_FAILED, r);
}

int
paho_send(struct paho *p, const char *topic, MQTTAsync_message *msg, int *ret_token)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	int r;

	if (!ret_token)
		return p->api->sendMessage(p->client, topic, msg, NULL);
	ro.onSuccess = on_sent;
	ro.onFailure = on_send_fail;
	ro.context = p;
	r = p->api->sendMessage(p->client, topic, msg, &ro);
	if (r == MQTTASYNC_SUCCESS)
		*ret_token = ro.token;
	return r;
}

int
paho_subscribe(struct paho *p, const char *topic)
{
	return p->api->subscribe(p->client, topic, 1, NULL);
}

void
paho_disconnect(struct paho *p, int timeout_ms)
{
	MQTTAsync_disconnectOptions o = MQTTAsync_disconnectOptions_initializer;

	o.timeout = timeout_ms;
	o.onSuccess = on_disconnected;
	o.onFailure = on_disconnect_fail;
	o.context = p;
	if (p->api->disconnect(p->client, &o) != MQTTASYNC_SUCCESS)
		push(p, PAHO_EV_DISCONNECTED, 0);
}

const char *
paho_strerror(const struct paho *p, int code)
{
	return p->api->strerror(code);
}

bool
paho_next_event(struct paho *p, struct paho_ev *ret_ev)
{
	bool got = true;

	pthread_mutex_lock(&p->lock);
	if (p->ev_count > 0) {
		*ret_ev = p->evs[p->ev_head];
		p->ev_head = (p->ev_head + 1) % PAHO_EV_RING;
		p->ev_count--;
	} else if (p->ev_overflow) {
		/* Reported once the ring is empty, after the events that did fit. */
		p->ev_overflow = false;
		*ret_ev = (struct paho_ev){.type = PAHO_EV_OVERFLOW};
	} else {
		got = false;
	}
	pthread_mutex_unlock(&p->lock);
	return got;
}

void
paho_ev_done(struct paho_ev *ev)
{
	free(ev->topic);
	free(ev->payload);
	ev->topic = ev->payload = NULL;
}
