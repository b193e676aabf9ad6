/* SPDX-License-Identifier: MIT */
/*
 * The paho side of the MQTT publisher, private to src/mqtt/: one MQTTAsync client, the calls
 * made on it, and the bridge from paho's threads to the loop (docs/architecture.md, MQTT).
 * paho's callbacks only append an event to a mutex-protected ring and poke an eventfd; the
 * loop's thread reads the eventfd and takes the events with paho_next_event(). Every other
 * function here is called from the loop's thread only.
 */
#ifndef LINKYD_MQTT_PAHO_H
#define LINKYD_MQTT_PAHO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <MQTTAsync.h>

#define PAHO_EV_RING 1024 /* far above the window in flight plus connection events */

enum paho_ev_type {
	PAHO_EV_CONNECTED,
	PAHO_EV_CONNECT_FAILED,
	PAHO_EV_LOST,
	PAHO_EV_SENT,
	PAHO_EV_SEND_FAILED,
	PAHO_EV_DISCONNECTED,
	PAHO_EV_MESSAGE,
	PAHO_EV_OVERFLOW, /* events were lost, acks among them: resend what is in flight */
};

struct paho_ev {
	enum paho_ev_type type;
	int code;              /* CONNECT_FAILED: paho or CONNACK code; SENT/SEND_FAILED: token;
	                        * MESSAGE: the retained flag */
	char *topic, *payload; /* MESSAGE: copies owned by the event (paho_ev_done) */
	size_t len;
};

struct paho_api;

struct paho {
	const struct paho_api *api; /* the library the client was created by */
	MQTTAsync client;
	int efd; /* readable when events are waiting */

	/* Shared with paho's threads. */
	pthread_mutex_t lock;
	struct paho_ev evs[PAHO_EV_RING];
	size_t ev_head, ev_count;
	bool ev_overflow;
};

/* Create the eventfd and a client for url ("tcp://" or "ssl://" host:port), without
 * persistence. Returns 0, or -errno with the reason logged; paho_done() in both cases. */
int paho_init(struct paho *p, const char *url, const char *client_id);

/* Destroy the client (paho's threads end), then free the events left and close the eventfd. */
void paho_done(struct paho *p);

/* Start connecting with o (its callbacks and context are set here). The outcome arrives as
 * PAHO_EV_CONNECTED or PAHO_EV_CONNECT_FAILED, even when paho refuses at once. */
void paho_connect(struct paho *p, MQTTAsync_connectOptions *o);

/* Hand a message to paho. With ret_token, its outcome arrives as PAHO_EV_SENT or
 * PAHO_EV_SEND_FAILED carrying *ret_token; without, nothing is reported. Returns paho's code. */
int paho_send(struct paho *p, const char *topic, MQTTAsync_message *msg, int *ret_token);

/* Subscribe at QoS 1. Returns paho's code. */
int paho_subscribe(struct paho *p, const char *topic);

/* Disconnect within timeout_ms; PAHO_EV_DISCONNECTED follows in every case. */
void paho_disconnect(struct paho *p, int timeout_ms);

/* paho's message for one of its codes. */
const char *paho_strerror(const struct paho *p, int code);

/* Take the oldest event. Returns false when there is none. The eventfd is written only when an
 * event arrives in an empty ring: after a wake-up, take events until this returns false. */
bool paho_next_event(struct paho *p, struct paho_ev *ret_ev);

/* Free what an event owns. */
void paho_ev_done(struct paho_ev *ev);

#endif
