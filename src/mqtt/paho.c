/* SPDX-License-Identifier: MIT */
/*
 * The MQTT backend (backend.h) on paho.mqtt.c's MQTTAsync, the only file that names paho: the
 * calls linkyd makes on a client, and the bridge from paho's threads to the loop
 * (docs/architecture.md, MQTT). paho's callbacks only append an event to a mutex-protected ring
 * and, when the loop must act now, write an eventfd; everything else runs on the loop's thread.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <MQTTAsync.h>
#include <openssl/crypto.h>

#include "linkyd/log.h"

#include "backend.h"
#include "probe.h"

#define EV_RING          1024 /* far above the window in flight plus connection events */
#define PROBE_TIMEOUT_MS 3000

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

struct backend {
	const struct paho_api *api; /* the library the client was created by */
	MQTTAsync client;
	char *url;         /* paho's form: tcp://host:port or ssl://host:port */
	char *host, *port; /* for the probe */
	bool tls;
	int efd;

	/* Shared with paho's threads and the prober, under lock. */
	pthread_mutex_t lock;
	struct backend_event evs[EV_RING];
	size_t ev_head, ev_count;
	bool ev_overflow;
	bool armed;       /* efd written and not read yet */
	bool wake_on_ack; /* something waits on acks: they wake the loop too */
	bool probing;     /* prober runs, or ended and is not joined yet */
	bool destroyed;   /* no prober may start any more */
	pthread_t prober;
	bool probe_timed_out; /* what paho said, for the prober */
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
 * OpenSSL 3 registers OPENSSL_cleanup() with atexit() when it first initialises. That cleanup
 * frees the thread-local state of every thread that used OpenSSL, paho's receive thread
 * included; but paho's threads are detached, and MQTTAsync_destroy() returns once they are
 * marked stopped, before they have ended. So at exit the receive thread's own thread-local
 * destructor could run during or after the cleanup: a double free, a crash in the thread, or
 * (when LeakSanitizer looks first) its state reported as leaked (ASan, one TLS test in four).
 * Without the atexit cleanup, each thread frees its own state as it ends and the OS takes the
 * rest. The TLS library is loaded, so libcrypto is: RTLD_NOLOAD finds it without loading.
 */
static void
openssl_no_atexit(void)
{
	void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
	__typeof__(OPENSSL_init_crypto) *init;

	if (!h)
		return;
	init = (__typeof__(init)) dlsym(h, "OPENSSL_init_crypto");
	if (init)
		(void) init(OPENSSL_INIT_NO_ATEXIT, NULL);
	(void) dlclose(h); /* paho's library keeps it loaded */
}

/*
 * Load the library for url once. Then, before its first client, turn off what paho does by
 * default that a Raspberry Pi should not pay for: its in-memory trace takes a global mutex and
 * formats every packet (a quarter of its instructions per message, measured with callgrind);
 * and the TLS library initialises OpenSSL for every client (OpenSSL 3 initialises itself when
 * TLS is first used, which the TLS tests exercise).
 */
static const struct paho_api *
load(bool tls, const char *url)
{
	struct paho_lib *lib = &libs[tls];
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
	if (tls)
		openssl_no_atexit();
	init.do_openssl_init = 0;
	lib->api.global_init(&init);
	lib->api.setTraceLevel(MQTTASYNC_TRACE_ERROR);
	return &lib->api;
}

/* ---- paho's threads: record, and wake the loop when it must act now ---------------------- */

static void
push(struct backend *b, struct backend_event ev)
{
	uint64_t one = 1;
	bool queued = false;

	pthread_mutex_lock(&b->lock);
	if (b->ev_count < EV_RING) {
		b->evs[(b->ev_head + b->ev_count++) % EV_RING] = ev;
		queued = true;
	} else {
		b->ev_overflow = true;
	}
	/* An ack nobody waits for is taken at the loop's next wake-up, whatever woke it: at line
	 * rate a wake-up less per QoS 1 message. Written under the lock, so that the loop, which
	 * reads the eventfd under it when armed, always finds what armed promises. */
	if (!b->armed && (!queued || b->wake_on_ack ||
	                  (ev.type != BACKEND_SENT && ev.type != BACKEND_SEND_FAILED))) {
		b->armed = true;
		(void) !write(b->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&b->lock);
	if (!queued)
		backend_event_done(&ev);
}

static void
push_type(struct backend *b, enum backend_event_type type, int token)
{
	push(b, (struct backend_event){.type = type, .token = token});
}

static void
push_failure(struct backend *b, enum backend_failure failure, int code)
{
	push(b, (struct backend_event){
	            .type = BACKEND_CONNECT_FAILED, .failure = failure, .code = code});
}

/* paho requires this callback (MQTTAsync_setCallbacks). Returning 1 tells paho the message is
 * taken: it is freed here whether or not the copy could be made (a lost "online" from Home
 * Assistant only delays discovery to the next one). */
static int
on_message_arrived(void *context, char *topic, int topic_len, MQTTAsync_message *msg)
{
	struct backend *b = context;
	struct backend_event ev = {.type = BACKEND_MESSAGE, .retained = msg->retained != 0};
	size_t tlen = topic_len > 0 ? (size_t) topic_len : strlen(topic);
	size_t plen = msg->payloadlen > 0 ? (size_t) msg->payloadlen : 0;

	ev.topic = strndup(topic, tlen);
	ev.payload = malloc(plen + 1);
	if (ev.topic && ev.payload) {
		memcpy(ev.payload, msg->payload, plen);
		ev.payload[plen] = '\0';
		ev.len = plen;
		push(b, ev);
	} else {
		backend_event_done(&ev);
	}
	b->api->freeMessage(&msg);
	b->api->free(topic);
	return 1;
}

static void
on_connect_ok(void *context, MQTTAsync_successData *response)
{
	(void) response;
	push_type(context, BACKEND_CONNECTED, 0);
}

/* The prober's thread: what the kernel says of a TCP connection to the broker, combined with
 * what paho said (a timeout, or a failure), makes the event. */
static void *
probe_run(void *arg)
{
	struct backend *b = arg;
	struct probe_result r;

	probe_tcp(b->host, b->port, PROBE_TIMEOUT_MS, &r);
	if (!r.accepted)
		push_failure(b, r.failure, r.code);
	else if (b->probe_timed_out)
		push_failure(b, BACKEND_FAIL_NO_CONNACK, 0);
	else if (b->tls)
		push_failure(b, BACKEND_FAIL_TLS, 0);
	else /* refused to paho, accepted now: the broker came back meanwhile */
		push_failure(b, BACKEND_FAIL_OTHER, MQTTASYNC_FAILURE);
	return NULL;
}

/*
 * paho 1.3 says "TCP connect completion failure" when the other end closed the connection after
 * CONNECT, before CONNACK; any other failure without a CONNACK code is -1, "TCP/TLS connect
 * failure" (refused, unreachable, or TLS) or "TCP connect timeout" (no TCP answer, no TLS
 * answer, or no CONNACK), or no words at all (the name did not resolve). Those take a TCP
 * connection of our own to tell apart, on a thread, as it blocks.
 */
static void
on_connect_fail(void *context, MQTTAsync_failureData *response)
{
	struct backend *b = context;
	int code = response ? response->code : MQTTASYNC_FAILURE;
	const char *what = response && response->message ? response->message : "";
	bool started;

	if (code > 0) {
		push_failure(b, BACKEND_FAIL_CONNACK, code);
		return;
	}
	if (code != MQTTASYNC_FAILURE) {
		push_failure(b, BACKEND_FAIL_OTHER, code);
		return;
	}
	if (strstr(what, "completion")) {
		push_failure(b, BACKEND_FAIL_CLOSED, 0);
		return;
	}
	b->probe_timed_out = strstr(what, "timeout") != NULL;
	/* Under the lock: the prober's event may reach the loop (which joins it) before
	 * pthread_create() returns here. */
	pthread_mutex_lock(&b->lock);
	started = !b->destroyed && pthread_create(&b->prober, NULL, probe_run, b) == 0;
	b->probing = started;
	pthread_mutex_unlock(&b->lock);
	if (!started)
		push_failure(b, BACKEND_FAIL_OTHER, code);
}

static void
on_lost(void *context, char *cause)
{
	(void) cause;
	push_type(context, BACKEND_LOST, 0);
}

static void
on_sent(void *context, MQTTAsync_successData *response)
{
	push_type(context, BACKEND_SENT, response ? response->token : 0);
}

static void
on_send_fail(void *context, MQTTAsync_failureData *response)
{
	push_type(context, BACKEND_SEND_FAILED, response ? response->token : 0);
}

static void
on_disconnected(void *context, MQTTAsync_successData *response)
{
	(void) response;
	push_type(context, BACKEND_DISCONNECTED, 0);
}

static void
on_disconnect_fail(void *context, MQTTAsync_failureData *response)
{
	(void) response;
	push_type(context, BACKEND_DISCONNECTED, 0);
}

/* ---- the loop's thread ------------------------------------------------------------------- */

/* "mqtt://host[:port]" -> paho's "tcp://host:port"; mqtts -> "ssl://". */
static int
paho_url(struct backend *b, const char *url)
{
	const char *rest, *port = "";

	if (strncmp(url, "mqtt://", 7) == 0) {
		rest = url + 7;
		port = ":1883";
	} else if (strncmp(url, "mqtts://", 8) == 0) {
		b->tls = true;
		rest = url + 8;
		port = ":8883";
	} else {
		return -EINVAL;
	}
	/* An explicit port: a colon after the host (or after "]" for IPv6 literals). */
	if (strrchr(rest, ':') && (!strchr(rest, ']') || strrchr(rest, ':') > strchr(rest, ']')))
		port = "";
	if (asprintf(&b->url, "%s%s%s", b->tls ? "ssl://" : "tcp://", rest, port) < 0) {
		b->url = NULL;
		return -ENOMEM;
	}
	return probe_split(b->url + 6, &b->host, &b->port);
}

int
backend_new(const char *url, const char *client_id, struct backend **ret_backend)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
	struct backend *b = calloc(1, sizeof(*b));
	int r;

	if (!b)
		return -ENOMEM;
	pthread_mutex_init(&b->lock, NULL);
	b->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->efd < 0) {
		r = log_errno(LOG_ERR, -errno, "cannot create an eventfd for %s", url);
		goto out_free;
	}
	r = paho_url(b, url);
	if (r < 0) {
		log_errno(LOG_ERR, r, "%s: expected mqtt://host[:port] or mqtts://host[:port]",
		          url);
		goto out_free;
	}
	b->api = load(b->tls, url);
	if (!b->api) {
		r = -ELIBACC;
		goto out_free;
	}
	/* No persistence: the queue lives in RAM, the SD card is never written. */
	r = b->api->createWithOptions(&b->client, b->url, client_id, MQTTCLIENT_PERSISTENCE_NONE,
	                              NULL, &co);
	if (r != MQTTASYNC_SUCCESS) {
		log_err("cannot create an MQTT client for %s: %s", url, b->api->strerror(r));
		b->client = NULL;
		r = -EINVAL;
		goto out_free;
	}
	b->api->setCallbacks(b->client, b, on_lost, on_message_arrived, NULL);
	*ret_backend = b;
	return 0;

out_free:
	backend_free(b);
	return r;
}

struct backend *
backend_free(struct backend *b)
{
	struct backend_event ev;
	bool probing;

	if (!b)
		return NULL;
	if (b->client)
		b->api->destroy(&b->client);
	/* paho calls back no more, but for a callback already running: it finds destroyed set.
	 * The prober may still be connecting. */
	pthread_mutex_lock(&b->lock);
	b->destroyed = true;
	probing = b->probing;
	pthread_mutex_unlock(&b->lock);
	if (probing)
		(void) pthread_join(b->prober, NULL);
	while (backend_next_event(b, &ev))
		backend_event_done(&ev);
	if (b->efd >= 0)
		(void) close(b->efd);
	pthread_mutex_destroy(&b->lock);
	free(b->url);
	free(b->host);
	free(b->port);
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
	MQTTAsync_connectOptions c = MQTTAsync_connectOptions_initializer;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	int r;

	c.keepAliveInterval = o->keepalive;
	c.cleansession = 1;
	c.connectTimeout = o->connect_timeout;
	/* 3.1.1 only: by default paho tries 3.1 after 3.1.1 fails, so a listener that never
	 * answers took twice the timeout to report. */
	c.MQTTVersion = MQTTVERSION_3_1_1;
	c.username = o->username;
	c.password = o->password;
	if (o->will.topic) {
		will.topicName = o->will.topic;
		will.payload.data = o->will.payload;
		will.payload.len = (int) o->will.len;
		will.message = NULL; /* the binary payload above is used */
		will.retained = o->will.retain;
		will.qos = o->will.qos;
		c.will = &will;
	}
	if (b->tls) {
		/* No ca_file: OpenSSL's default paths, i.e. the system's trust store. */
		ssl.trustStore = o->ca_file;
		ssl.keyStore = o->cert_file;
		ssl.privateKey = o->key_file;
		ssl.enableServerCertAuth = 1;
		ssl.verify = o->verify_hostname;
		c.ssl = &ssl;
	}
	c.onSuccess = on_connect_ok;
	c.onFailure = on_connect_fail;
	c.context = b;
	r = b->api->connect(b->client, &c);
	if (r != MQTTASYNC_SUCCESS)
		push_failure(b, BACKEND_FAIL_OTHER, r);
}

int
backend_send(struct backend *b, const struct backend_message *msg, int *ret_token)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTAsync_message pub = MQTTAsync_message_initializer;
	int r;

	pub.payload = (void *) msg->payload;
	pub.payloadlen = (int) msg->len;
	pub.qos = msg->qos;
	pub.retained = msg->retain;
	if (ret_token) {
		ro.onSuccess = on_sent;
		ro.onFailure = on_send_fail;
		ro.context = b;
	}
	r = b->api->sendMessage(b->client, msg->topic, &pub, ret_token ? &ro : NULL);
	if (r == MQTTASYNC_SUCCESS && ret_token)
		*ret_token = ro.token;
	/* paho's out-of-memory code (-99) is not in its public header. */
	return r == MQTTASYNC_SUCCESS ? 0 : r == MQTTASYNC_DISCONNECTED ? -ENOTCONN : -EINVAL;
}

int
backend_subscribe(struct backend *b, const char *topic)
{
	int r = b->api->subscribe(b->client, topic, 1, NULL);

	return r == MQTTASYNC_SUCCESS ? 0 : r == MQTTASYNC_DISCONNECTED ? -ENOTCONN : -EINVAL;
}

void
backend_disconnect(struct backend *b, int timeout_ms)
{
	MQTTAsync_disconnectOptions o = MQTTAsync_disconnectOptions_initializer;

	o.timeout = timeout_ms;
	o.onSuccess = on_disconnected;
	o.onFailure = on_disconnect_fail;
	o.context = b;
	if (b->api->disconnect(b->client, &o) != MQTTASYNC_SUCCESS)
		push_type(b, BACKEND_DISCONNECTED, 0);
}

bool
backend_next_event(struct backend *b, struct backend_event *ret_ev)
{
	bool got = true, join = false;
	uint64_t n;

	pthread_mutex_lock(&b->lock);
	if (b->armed) {
		(void) !read(b->efd, &n, sizeof(n));
		b->armed = false;
	}
	if (b->ev_count > 0) {
		*ret_ev = b->evs[b->ev_head];
		b->ev_head = (b->ev_head + 1) % EV_RING;
		b->ev_count--;
	} else if (b->ev_overflow) {
		/* Reported once the ring is empty, after the events that did fit. */
		b->ev_overflow = false;
		*ret_ev = (struct backend_event){.type = BACKEND_OVERFLOW};
	} else {
		got = false;
	}
	/* The prober's event is its last act: join it, so that the next attempt may probe. */
	if (got && ret_ev->type == BACKEND_CONNECT_FAILED && b->probing) {
		b->probing = false;
		join = true;
	}
	pthread_mutex_unlock(&b->lock);
	if (join)
		(void) pthread_join(b->prober, NULL);
	return got;
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
	bool idle;

	pthread_mutex_lock(&b->lock);
	b->wake_on_ack = wake_on_ack;
	idle = b->ev_count == 0 && !b->ev_overflow;
	pthread_mutex_unlock(&b->lock);
	return idle;
}

const char *
backend_strerror(const struct backend *b, int code)
{
	return b->api->strerror(code);
}
