/* SPDX-License-Identifier: MIT */
/*
 * Comparing configurations on reload: which running meters carry on and which restart, so that
 * a reload reconnects only what changed.
 */
#include <string.h>

#include "config-internal.h"

static bool
str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool
mqtt_equal(const struct mqtt_config *a, const struct mqtt_config *b)
{
	return str_eq(a->url, b->url) && str_eq(a->client_id, b->client_id) &&
	       str_eq(a->username, b->username) && str_eq(a->password, b->password) &&
	       str_eq(a->ca_file, b->ca_file) && str_eq(a->cert_file, b->cert_file) &&
	       str_eq(a->key_file, b->key_file) && a->verify_hostname == b->verify_hostname &&
	       a->keepalive == b->keepalive && a->qos == b->qos && a->retain == b->retain &&
	       a->queue_frames == b->queue_frames;
}

static bool
strv_eq(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!str_eq(a[i], b[i]))
			return false;
	return true;
}

static bool
meter_equal(const struct meter_config *a, const struct meter_config *b)
{
	return str_eq(a->name, b->name) && str_eq(a->device, b->device) && a->mode == b->mode &&
	       str_eq(a->topic, b->topic) && config_publish_equal(&a->publish, &b->publish) &&
	       strv_eq(a->tariff_names, a->n_tariff_names, b->tariff_names, b->n_tariff_names) &&
	       strv_eq(a->distributor_names, a->n_distributor_names, b->distributor_names,
	               b->n_distributor_names);
}

/* What every meter takes from the global configuration when it starts; the format decides
 * whether discovery configs are published at all. */
static bool
publish_globals_equal(const struct linkyd_config *a, const struct linkyd_config *b)
{
	return a->anonymise == b->anonymise && str_eq(a->anonymise_key, b->anonymise_key) &&
	       str_eq(a->state_dir, b->state_dir) && a->format == b->format;
}

static bool
ha_equal(const struct ha_config *a, const struct ha_config *b)
{
	return a->discovery == b->discovery && str_eq(a->prefix, b->prefix) &&
	       a->expire_after == b->expire_after;
}

bool
config_meter_kept(const struct linkyd_config *old, const struct linkyd_config *fresh,
                  const struct meter_config *m)
{
	/* Discovery subscribes at connect and keeps what it declared: restart on a change. */
	if (!ha_equal(&old->ha, &fresh->ha) || !publish_globals_equal(old, fresh))
		return false;
	/* The client id depends on whether there is one meter or several. */
	if (!mqtt_equal(&old->mqtt, &fresh->mqtt) || (old->n_meters == 1) != (fresh->n_meters == 1))
		return false;
	for (size_t j = 0; j < fresh->n_meters; j++)
		if (meter_equal(m, &fresh->meters[j]))
			return true;
	return false;
}
