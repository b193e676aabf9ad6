/* SPDX-License-Identifier: MIT */
/*
 * The publish settings a meter can have of its own: its policy (every frame, at most every N
 * seconds, or on change with a dead-band and a heartbeat), per-label overrides, per-label
 * topics and derived values. The global publish group sets them for every meter; a meter's publish
 * group changes some of them for that meter alone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "setting.h"

#define PERIOD_MAX   86400      /* seconds: a day */
#define DEADBAND_MAX 1000000000 /* more than any TIC number's change */

static int
policy_kind_parse(const char *s, enum publish_policy *ret)
{
	for (int k = PUBLISH_EVERY_FRAME; k <= PUBLISH_ON_CHANGE; k++)
		if (strcmp(s, config_policy_name((enum publish_policy) k)) == 0) {
			*ret = (enum publish_policy) k;
			return 0;
		}
	return -EINVAL;
}

/* One of the policy's own keys. Returns 0, -EINVAL, or 1 when key is not one of them. */
static int
policy_setting(struct load *l, const config_setting_t *s, struct policy *pol)
{
	const char *key = config_setting_name(s), *v;
	long long n;
	int r;

	if (strcmp(key, "policy") == 0) {
		r = cfg_get_string(l, s, EXPECT_POLICY, &v);
		if (r == 0 && policy_kind_parse(v, &pol->kind) < 0)
			r = cfg_fail(l, s, NULL, "expected " EXPECT_POLICY);
		return r;
	}
	if (strcmp(key, "interval") == 0 || strcmp(key, "heartbeat") == 0) {
		r = cfg_get_int(l, s, 1, PERIOD_MAX, EXPECT_PERIOD, &n);
		if (r == 0)
			*(key[0] == 'i' ? &pol->interval : &pol->heartbeat) = (unsigned) n;
		return r;
	}
	if (strcmp(key, "deadband") == 0) {
		r = cfg_get_int(l, s, 0, DEADBAND_MAX, EXPECT_DEADBAND, &n);
		if (r == 0)
			pol->deadband = (uint64_t) n;
		return r;
	}
	return 1;
}

/* A label as the meter sends it: what could never match one is a typo worth an error. */
static bool
label_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > TIC_LABEL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

/* { label = "PAPP"; policy = "on_change"; deadband = 100; }: starts from base. */
static int
parse_label(struct load *l, const config_setting_t *g, const struct policy *base,
            struct label_policy *ret)
{
	const char *v;
	int r = 0;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return cfg_fail(l, g, NULL, "expected a group { label = \"PAPP\"; ... }, not %s",
		                cfg_type_name(g));
	ret->policy = *base;
	for (int k = 0; r == 0 && k < config_setting_length(g); k++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned) k);

		if (strcmp(config_setting_name(s), "label") == 0) {
			r = cfg_get_string(l, s, EXPECT_LABEL, &v);
			if (r == 0 && !label_valid(v))
				r = cfg_fail(l, s, NULL, "expected " EXPECT_LABEL);
			if (r == 0)
				r = cfg_set_str(&ret->label, v);
		} else if ((r = policy_setting(l, s, &ret->policy)) > 0) {
			r = cfg_unknown(l, s);
		}
	}
	if (r == 0 && !ret->label)
		r = cfg_fail(l, g, ".label", "expected " EXPECT_LABEL);
	return r;
}

/* labels = ( ... ): added after the overrides already there, which they win over. */
static int
parse_labels(struct load *l, const config_setting_t *s, struct publish_config *p)
{
	size_t n;
	struct label_policy *all;
	int r = 0;

	if (config_setting_type(s) != CONFIG_TYPE_LIST)
		return cfg_fail(l, s, NULL,
		                "expected a list of groups ( { label = ...; }, ... ), not %s",
		                cfg_type_name(s));
	n = (size_t) config_setting_length(s);
	all = realloc(p->labels, (p->n_labels + n) * sizeof(*all));
	if (!all && p->n_labels + n > 0)
		return -ENOMEM;
	p->labels = all;
	for (size_t i = 0; i < n && r == 0; i++) {
		struct label_policy *lp = &p->labels[p->n_labels];

		*lp = (struct label_policy){0};
		r = parse_label(l, config_setting_get_elem(s, (unsigned) i), &p->policy, lp);
		p->n_labels++;
	}
	return r;
}

int
cfg_parse_publish(struct load *l, const config_setting_t *g, struct publish_config *p,
                  cfg_setting_fn other)
{
	const config_setting_t *labels = NULL;
	int r = cfg_expect_group(l, g);

	/* The labels start from the group's policy wherever they stand in it: read them last. */
	for (int k = 0; r == 0 && k < config_setting_length(g); k++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned) k);
		const char *key = config_setting_name(s);

		if (strcmp(key, "labels") == 0)
			labels = s;
		else if (strcmp(key, "label_topics") == 0)
			r = cfg_get_bool(l, s, &p->label_topics);
		else if (strcmp(key, "label_retain") == 0)
			r = cfg_get_bool(l, s, &p->label_retain);
		else if (strcmp(key, "derived") == 0)
			r = cfg_get_bool(l, s, &p->derived);
		else if (strcmp(key, "index_guard") == 0)
			r = cfg_get_bool(l, s, &p->index_guard);
		else if ((r = policy_setting(l, s, &p->policy)) > 0)
			r = other ? other(l, s) : cfg_unknown(l, s);
	}
	if (r == 0 && labels)
		r = parse_labels(l, labels, p);
	return r;
}

/* ---- copies and comparisons ------------------------------------------------------------- */

const char *
config_policy_name(enum publish_policy kind)
{
	switch (kind) {
	case PUBLISH_INTERVAL:
		return "interval";
	case PUBLISH_ON_CHANGE:
		return "on_change";
	default:
		return "every_frame";
	}
}

int
cfg_publish_copy(struct publish_config *dst, const struct publish_config *src)
{
	*dst = *src;
	dst->labels = NULL;
	dst->n_labels = 0;
	if (src->n_labels == 0)
		return 0;
	dst->labels = calloc(src->n_labels, sizeof(*dst->labels));
	if (!dst->labels)
		return -ENOMEM;
	for (size_t i = 0; i < src->n_labels; i++) {
		dst->labels[i].policy = src->labels[i].policy;
		dst->n_labels++;
		if (cfg_set_str(&dst->labels[i].label, src->labels[i].label) < 0) {
			cfg_publish_free(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

void
cfg_publish_free(struct publish_config *p)
{
	for (size_t i = 0; i < p->n_labels; i++)
		free(p->labels[i].label);
	free(p->labels);
	p->labels = NULL;
	p->n_labels = 0;
}

static bool
policy_equal(const struct policy *a, const struct policy *b)
{
	return a->kind == b->kind && a->interval == b->interval && a->deadband == b->deadband &&
	       a->heartbeat == b->heartbeat;
}

bool
config_publish_equal(const struct publish_config *a, const struct publish_config *b)
{
	if (!policy_equal(&a->policy, &b->policy) || a->label_topics != b->label_topics ||
	    a->label_retain != b->label_retain || a->derived != b->derived ||
	    a->index_guard != b->index_guard || a->n_labels != b->n_labels)
		return false;
	for (size_t i = 0; i < a->n_labels; i++)
		if (strcmp(a->labels[i].label, b->labels[i].label) != 0 ||
		    !policy_equal(&a->labels[i].policy, &b->labels[i].policy))
			return false;
	return true;
}

const struct policy *
config_label_policy(const struct publish_config *p, const char *label)
{
	for (size_t i = p->n_labels; i-- > 0;)
		if (strcmp(p->labels[i].label, label) == 0)
			return &p->labels[i].policy;
	return &p->policy;
}
