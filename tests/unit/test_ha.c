/* SPDX-License-Identifier: MIT */
/*
 * Tests of Home Assistant discovery without a broker: the slug and unique_id rules (stable
 * forever: HA keeps statistics under them), the value templates, and the declare/remove rule fed
 * with hand-made frames through a recording publish function.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "linkyd/ha.h"

static void
test_slug(void **state)
{
	static const char *const cases[][2] = {
	    {"HCHC", "hchc"},
	    {"NJOURF+1", "njourf_plus_1"},
	    {"SMAXSN-1", "smaxsn_minus_1"},
	    {"SMAXSN1-1", "smaxsn1_minus_1"},
	    {"PJOURF+1", "pjourf_plus_1"},
	    {"A.B/C#", "a_b_c_"},
	};
	char slug[HA_SLUG_SIZE], id[128];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(ha_slug(cases[i][0], slug), strlen(cases[i][1]));
		assert_string_equal(slug, cases[i][1]);
	}
	/* The longest label fits, every character expanded. */
	assert_int_equal(ha_slug("----------------", slug), 16 * 7);
	assert_int_equal(ha_unique_id("031764953443", "smaxsn_minus_1", id, sizeof(id)), 34);
	assert_string_equal(id, "linkyd_031764953443_smaxsn_minus_1");
	assert_int_equal(ha_unique_id("031764953443", "east", id, 10), -ENOBUFS);
}

static void
expect_template(const char *label, bool horodated, const char *want)
{
	struct ha_label l = {label, tic_label_find(label, strlen(label)), horodated};
	char buf[256];

	assert_int_equal(ha_value_template(&l, buf, sizeof(buf)), (int) strlen(want));
	assert_string_equal(buf, want);
}

/* What a text, enum or timestamp sensor renders without its value: its own state (HA takes any
 * rendering for one), or "None" (unknown) when it has none. test_ha_templates.py holds every
 * template to HA's rules; these pin the forms. */
#define KEEP "this.state if this.state not in ['unknown', 'unavailable'] else 'None'"

static void
test_templates(void **state)
{
	struct ha_label l = {"SMAXSN-1", tic_label_find("SMAXSN-1", 8), true};
	char buf[256];

	(void) state;
	/* A number: '', which HA ignores for a numeric sensor. */
	expect_template("EAST", false,
	                "{{ value_json.EAST if value_json.EAST is defined else '' }}");
	expect_template("SMAXSN-1", true,
	                "{{ value_json['SMAXSN-1'].value if value_json.get('SMAXSN-1') is not none "
	                "and value_json['SMAXSN-1'].value is defined else '' }}");
	expect_template("PREF", false,
	                "{{ value_json.PREF * 1000 if value_json.PREF is defined else '' }}");
	/* Absent means no overload. */
	expect_template("ADPS", false,
	                "{{ value_json.ADPS if value_json.ADPS is defined else 0 }}");
	expect_template("PTEC", false,
	                "{{ value_json.PTEC if value_json.PTEC is defined else " KEEP " }}");
	expect_template("XYZ", false,
	                "{{ value_json.XYZ if value_json.XYZ is defined else " KEEP " }}");
	expect_template("STGE", false,
	                "{{ value_json.STGE.raw if value_json.STGE is defined and "
	                "value_json.STGE.raw is defined else " KEEP " }}");
	expect_template("DATE", true,
	                "{{ value_json.DATE.date if value_json.DATE is defined and "
	                "value_json.DATE.date is defined else " KEEP " }}");
	expect_template("RELAIS", false,
	                "{{ value_json.RELAIS.value if value_json.RELAIS is defined and "
	                "value_json.RELAIS.value is defined else " KEEP " }}");
	expect_template(
	    "NJOURF+1", false,
	    "{{ value_json['NJOURF+1'] if value_json.get('NJOURF+1') is not none else " KEEP " }}");
	/* Too small a buffer is an error, never a truncated template. */
	assert_int_equal(ha_value_template(&l, buf, 60), -ENOBUFS);
}

/* ---- the declare/remove rule ---------------------------------------------------------------- */

struct record {
	unsigned configs, removals;
	char last_removed[256];
};

static int
record(const char *topic, const char *payload, size_t len, void *ctx)
{
	struct record *r = ctx;

	(void) payload;
	if (len == 0) {
		r->removals++;
		snprintf(r->last_removed, sizeof(r->last_removed), "%s", topic);
	} else {
		r->configs++;
	}
	return 0;
}

/* A valid value of label (the values do not matter to discovery, but a group is typed only with
 * a value its label takes). */
static const char *
value_of(const char *label)
{
	static const char *const values[][2] = {
	    {"ADCO", "012345678910"}, {"BASE", "001234567"}, {"HHPHC", "A"}};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		if (strcmp(label, values[i][0]) == 0)
			return values[i][1];
	return "001"; /* IINST, ADPS */
}

/* A historique frame of the given labels, typed as the parser delivers them. */
static void
feed(struct ha_discovery *d, const char *const *labels, size_t n)
{
	struct tic_group groups[16];
	struct tic_frame f = {
	    .mode = TIC_MODE_HISTORIQUE, .n_groups = (unsigned) n, .groups = groups};

	for (size_t i = 0; i < n; i++) {
		const char *value = value_of(labels[i]);

		groups[i] = (struct tic_group){.label = labels[i],
		                               .value = value,
		                               .def = tic_label_find(labels[i], strlen(labels[i])),
		                               .label_len = (uint8_t) strlen(labels[i]),
		                               .value_len = (uint8_t) strlen(value)};
		assert_int_equal(tic_group_type(&groups[i]), 0);
	}
	ha_discovery_frame(d, &f);
}

static void
test_rule(void **state)
{
	static const char *const full[] = {"ADCO", "BASE", "IINST", "HHPHC"};
	static const char *const no_adco[] = {"BASE", "IINST", "HHPHC"};
	static const char *const lacking[] = {"ADCO", "BASE", "IINST"};
	static const char *const alarm[] = {"ADCO", "IINST", "ADPS"};
	struct ha_config cfg = {.discovery = true, .prefix = "ha", .expire_after = 120};
	struct ha_discovery *d;
	struct record r = {0};

	(void) state;
	assert_int_equal(ha_discovery_new(&cfg, "linky", record, &r, &d), 0);
	/* No serial yet: nothing declared. */
	feed(d, no_adco, 3);
	assert_int_equal(r.configs, 0);
	assert_string_equal(ha_discovery_serial(d), "");
	/* The serial: 4 labels, ADPS (mono, from IINST), 9 diagnostics. */
	feed(d, full, 4);
	assert_string_equal(ha_discovery_serial(d), "012345678910");
	assert_int_equal(ha_discovery_count(d), 5);
	assert_int_equal(r.configs, 5 + 9);
	/* Alarm frames do not count; nine frames without HHPHC are not enough. */
	for (int i = 0; i < 20; i++)
		feed(d, alarm, 3);
	for (int i = 0; i < HA_ABSENT_FRAMES - 1; i++)
		feed(d, lacking, 3);
	assert_int_equal(r.removals, 0);
	feed(d, lacking, 3);
	assert_int_equal(r.removals, 1);
	assert_string_equal(r.last_removed, "ha/sensor/linkyd_012345678910/hhphc/config");
	assert_int_equal(ha_discovery_count(d), 4);
	/* ADPS, absent all along, stays. */
	for (int i = 0; i < 3 * HA_ABSENT_FRAMES; i++)
		feed(d, lacking, 3);
	assert_int_equal(r.removals, 1);
	/* Republish: every declared config again, diagnostics too. */
	r.configs = 0;
	ha_discovery_republish(d);
	assert_int_equal(r.configs, 4 + 9);
	ha_discovery_free(d);
}

/* ---- the derived values' sensors ------------------------------------------------------------- */

struct capture_configs {
	unsigned n, removals;
	cJSON *by_slug[32];
	char slugs[32][96];
};

static int
capture_config(const char *topic, const char *payload, size_t len, void *ctx)
{
	struct capture_configs *c = ctx;
	const char *slug = strstr(topic, "/derived_");

	assert_non_null(slug);
	if (len == 0) {
		c->removals++;
		return 0;
	}
	assert_true(c->n < 32);
	snprintf(c->slugs[c->n], sizeof(c->slugs[0]), "%.*s",
	         (int) (strrchr(topic, '/') - slug - 1), slug + 1);
	c->by_slug[c->n] = cJSON_Parse(payload);
	assert_non_null(c->by_slug[c->n]);
	c->n++;
	return 0;
}

static const cJSON *
config_of(const struct capture_configs *c, const char *slug)
{
	for (unsigned i = 0; i < c->n; i++)
		if (strcmp(c->slugs[i], slug) == 0)
			return c->by_slug[i];
	fail_msg("no config for %s", slug);
	return NULL;
}

static const char *
field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
test_derived(void **state)
{
	struct ha_device dev = {.prefix = "ha",
	                        .topic = "linky",
	                        .serial = "041776199277",
	                        .mode = TIC_MODE_STANDARD,
	                        .expire_after = 120};
	struct derive_info info = {
	    .phases = 3,
	    .power = true,
	    .tariff = true,
	    .tempo = true,
	    .n_registers = 2,
	    .registers = {{"EASF01", "HC BLEU", true}, {"EASD01", "EASD01", false}}};
	struct capture_configs c = {0};
	const cJSON *o;

	(void) state;
	assert_int_equal(ha_publish_derived(&dev, &info, false, capture_config, &c), 0);
	/* power, 3 loads, tariff, 2 Tempo colours, rejections; 3 totals, today and this month of
	 * the one tariff register (not the distributor's). */
	assert_int_equal(c.n, 8 + 5);
	o = config_of(&c, "derived_energy_day");
	assert_string_equal(field(o, "unique_id"), "linkyd_041776199277_derived_energy_day");
	assert_string_equal(field(o, "name"), "Energy today (derived)");
	assert_string_equal(field(o, "state_topic"), "linky/energy");
	assert_string_equal(field(o, "device_class"), "energy");
	assert_string_equal(field(o, "state_class"), "total");
	assert_string_equal(field(o, "unit_of_measurement"), "Wh");
	assert_string_equal(field(o, "value_template"),
	                    "{{ value_json.day.total if value_json.day is defined and "
	                    "value_json.day.total is defined else '' }}");
	assert_string_equal(field(o, "last_reset_value_template"),
	                    "{{ value_json.day.start if value_json.day is defined and "
	                    "value_json.day.start is defined else '' }}");
	assert_null(cJSON_GetObjectItem(o, "expire_after"));
	o = config_of(&c, "derived_energy_month_easf01");
	assert_string_equal(field(o, "name"), "Energy this month HC BLEU (derived)");
	assert_string_equal(
	    field(o, "value_template"),
	    "{{ value_json.month.registers.EASF01 if value_json.month is defined and "
	    "value_json.month.registers is defined and "
	    "value_json.month.registers.EASF01 is defined else '' }}");
	o = config_of(&c, "derived_power");
	assert_string_equal(field(o, "name"), "Active power (estimated)");
	assert_string_equal(field(o, "state_topic"), "linky/derived");
	assert_string_equal(field(o, "device_class"), "power");
	assert_string_equal(field(o, "state_class"), "measurement");
	assert_int_equal(cJSON_GetObjectItem(o, "expire_after")->valueint, 120);
	o = config_of(&c, "derived_load_2");
	assert_string_equal(field(o, "value_template"),
	                    "{{ value_json.load_pct['2'] if value_json.load_pct is defined and "
	                    "value_json.load_pct['2'] is defined else '' }}");
	assert_string_equal(field(o, "unit_of_measurement"), "%");
	o = config_of(&c, "derived_tempo_tomorrow");
	assert_string_equal(field(o, "device_class"), "enum");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "options")), 4);
	/* An enum: "unknown" is not among its options, so "None" when it has no state. */
	assert_string_equal(
	    field(o, "value_template"),
	    "{{ value_json.tempo_tomorrow if value_json.tempo_tomorrow is defined else "
	    "this.state if this.state not in ['unknown', 'unavailable'] else 'None' "
	    "}}");
	o = config_of(&c, "derived_index_rejected");
	assert_string_equal(field(o, "entity_category"), "diagnostic");
	for (unsigned i = 0; i < c.n; i++)
		cJSON_Delete(c.by_slug[i]);
	/* Removal deletes the same set. */
	c = (struct capture_configs){0};
	assert_int_equal(ha_publish_derived(&dev, &info, true, capture_config, &c), 0);
	assert_int_equal(c.removals, 13);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_slug),
	    cmocka_unit_test(test_templates),
	    cmocka_unit_test(test_rule),
	    cmocka_unit_test(test_derived),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
