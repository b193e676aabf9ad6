/* SPDX-License-Identifier: MIT */
/*
 * config_print(): the effective configuration in libconfig syntax, the password masked, so that
 * what the daemon will run with can be checked before it starts.
 */
#include <stdio.h>

#include "config-internal.h"

#define PASSWORD_MASK "********"

static const char *
mode_name(enum tic_mode mode)
{
	switch (mode) {
	case TIC_MODE_HISTORIQUE:
		return "historique";
	case TIC_MODE_STANDARD:
		return "standard";
	default:
		return "auto";
	}
}

/* A libconfig string literal: quotes, backslashes and control bytes escaped. */
static void
print_string(FILE *out, const char *s)
{
	(void) fputc('"', out);
	for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
		switch (*p) {
		case '"':
			(void) fputs("\\\"", out);
			break;
		case '\\':
			(void) fputs("\\\\", out);
			break;
		case '\n':
			(void) fputs("\\n", out);
			break;
		case '\r':
			(void) fputs("\\r", out);
			break;
		case '\t':
			(void) fputs("\\t", out);
			break;
		case '\f':
			(void) fputs("\\f", out);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				(void) fprintf(out, "\\x%02x", *p);
			else
				(void) fputc(*p, out);
		}
	}
	(void) fputc('"', out);
}

/* "\tkey = "value";" or, for an unset optional string, a comment saying what happens instead. */
static void
print_setting(FILE *out, const char *key, const char *value, const char *unset)
{
	if (!value) {
		(void) fprintf(out, "\t# %s: not set%s%s\n", key, unset ? ", " : "",
		               unset ? unset : "");
		return;
	}
	(void) fprintf(out, "\t%s = ", key);
	print_string(out, value);
	(void) fputs(";\n", out);
}

static void
print_policy(FILE *out, const struct policy *p)
{
	(void) fprintf(out, "policy = \"%s\"; interval = %u; deadband = %llu; heartbeat = %u;",
	               config_policy_name(p->kind), p->interval, (unsigned long long) p->deadband,
	               p->heartbeat);
}

/* The settings of a publish group a meter may have, one per line after indent; the label
 * overrides from the first skip_labels on (a meter's start with the global ones it inherits). */
static void
print_publish(FILE *out, const struct publish_config *p, size_t skip_labels, const char *indent)
{
	(void) fprintf(out, "%s", indent);
	print_policy(out, &p->policy);
	(void) fprintf(
	    out, "\n%slabel_topics = %s; label_retain = %s; derived = %s; index_guard = %s;\n",
	    indent, p->label_topics ? "true" : "false", p->label_retain ? "true" : "false",
	    p->derived ? "true" : "false", p->index_guard ? "true" : "false");
	if (p->n_labels <= skip_labels)
		return;
	(void) fprintf(out, "%slabels = (\n", indent);
	for (size_t i = skip_labels; i < p->n_labels; i++) {
		(void) fprintf(out, "%s\t{ label = ", indent);
		print_string(out, p->labels[i].label);
		(void) fputs("; ", out);
		print_policy(out, &p->labels[i].policy);
		(void) fprintf(out, " }%s\n", i + 1 < p->n_labels ? "," : "");
	}
	(void) fprintf(out, "%s);\n", indent);
}

/* "\t\tkey = ( "a", "b" );" for a meter's list of names, nothing for none. */
static void
print_names(FILE *out, const char *key, char *const *v, size_t n)
{
	if (n == 0)
		return;
	(void) fprintf(out, "\t\t%s = ( ", key);
	for (size_t i = 0; i < n; i++) {
		print_string(out, v[i] ? v[i] : "");
		(void) fputs(i + 1 < n ? ", " : " );\n", out);
	}
}

void
config_print(const struct linkyd_config *c, FILE *out)
{
	const struct mqtt_config *m = &c->mqtt;
	int level = c->verbosity < 0 ? 0 : c->verbosity > 2 ? 2 : c->verbosity;

	(void) fputs("# linkyd: effective configuration (password and anonymise_key masked)\n",
	             out);
	(void) fputs("meters = (\n", out);
	for (size_t i = 0; i < c->n_meters; i++) {
		const struct meter_config *mc = &c->meters[i];

		(void) fputs("\t{ name = ", out);
		print_string(out, mc->name ? mc->name : "");
		(void) fputs("; input = ", out);
		print_string(out, mc->device ? mc->device : "");
		(void) fprintf(out, "; mode = \"%s\"; topic = ", mode_name(mc->mode));
		print_string(out, mc->topic ? mc->topic : "");
		/* Only what differs from the global publish group, as one would write it. */
		if (config_publish_equal(&mc->publish, &c->publish) && !mc->n_tariff_names &&
		    !mc->n_distributor_names) {
			(void) fprintf(out, "; }%s\n", i + 1 < c->n_meters ? "," : "");
			continue;
		}
		(void) fputs(";\n", out);
		print_names(out, "tariff_names", mc->tariff_names, mc->n_tariff_names);
		print_names(out, "distributor_names", mc->distributor_names,
		            mc->n_distributor_names);
		if (!config_publish_equal(&mc->publish, &c->publish)) {
			(void) fputs("\t\tpublish = {\n", out);
			print_publish(out, &mc->publish, c->publish.n_labels, "\t\t\t");
			(void) fputs("\t\t};\n", out);
		}
		(void) fprintf(out, "\t}%s\n", i + 1 < c->n_meters ? "," : "");
	}
	(void) fputs(");\n", out);
	(void) fputs("mqtt = {\n", out);
	print_setting(out, "url", m->url, NULL);
	print_setting(out, "client_id", m->client_id,
	              "derived from the host name and each meter's device");
	print_setting(out, "username", m->username, NULL);
	print_setting(out, "password", m->password ? PASSWORD_MASK : NULL, NULL);
	print_setting(out, "ca_file", m->ca_file, "the system's trust store");
	print_setting(out, "cert_file", m->cert_file, NULL);
	print_setting(out, "key_file", m->key_file, NULL);
	(void) fprintf(out, "\tverify_hostname = %s;\n", m->verify_hostname ? "true" : "false");
	(void) fprintf(out, "\tkeepalive = %d;\n", m->keepalive);
	(void) fprintf(out, "\tqos = %d;\n", m->qos);
	(void) fprintf(out, "\tretain = %s;\n", m->retain ? "true" : "false");
	(void) fprintf(out, "\tqueue = %u;\n", m->queue_frames);
	(void) fputs("};\n", out);
	(void) fprintf(out, "publish = {\n\tformat = \"%s\";\n", json_format_name(c->format));
	print_publish(out, &c->publish, 0, "\t");
	(void) fprintf(out, "\tanonymise = %s;\n", c->anonymise ? "true" : "false");
	print_setting(out, "anonymise_key", c->anonymise_key ? PASSWORD_MASK : NULL,
	              "derived from /etc/machine-id");
	(void) fputs("};\n", out);
	(void) fputs("state_dir = ", out);
	print_string(out, c->state_dir ? c->state_dir : CONFIG_DEFAULT_STATE_DIR);
	(void) fputs(";\n", out);
	(void) fprintf(out, "homeassistant = {\n\tdiscovery = %s;\n",
	               c->ha.discovery ? "true" : "false");
	print_setting(out, "prefix", c->ha.prefix, NULL);
	(void) fprintf(out, "\texpire_after = %d;\n};\n", c->ha.expire_after);
	(void) fprintf(out, "log = { level = \"%s\"; };\n", cfg_level_names[level]);
}
