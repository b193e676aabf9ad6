#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Every Home Assistant discovery template linkyd publishes, rendered the way Home Assistant renders
it, on what linkyd publishes for each capture in tests/data/ (both TIC modes), and again with
each key of those payloads missing: a missing key must neither make Home Assistant log nor change
what it shows, and a present one must render as before.

What Home Assistant does (core, 2025; files under homeassistant/), which ha_emulation.py
implements:

  rendering: helpers/template.py (helpers/template/__init__.py since 2025.9)
    Template.async_render_with_possible_json_value, TemplateEnvironment, make_logging_undefined;
    components/mqtt/models.py MqttValueTemplate
    - an ImmutableSandboxedEnvironment; variables value (the payload), value_json (the payload
      parsed, if JSON), entity_id, name and this (TemplateStateFromEntityId: this.state is the
      entity's state string, "unknown" before it has one; this.attributes its attributes); the
      result is stripped;
    - its Undefined logs a WARNING "Template variable warning" when printed, iterated or tested
      for truth ({{ value_json.MISSING }}), and an ERROR "Template variable error" before
      raising when an attribute of it is read (value_json.MISSING.value); `default` and
      `is defined` look at it without logging; jinja2 binds Undefined's operators and [] to its
      base class's method, so value_json.MISSING * 1000 and value_json.MISSING['1'] raise with
      no such ERROR;
    - a jinja2 error is dropped in silence when the caller gave a default (a sensor's value
      template: PayloadSentinel.DEFAULT, the state stays as it was), otherwise logged as an
      ERROR "Error parsing value" with the payload itself standing for the rendering; any other
      exception (TypeError...) is an MqttValueTemplateException, which the entity's message
      callback (components/mqtt/entity.py) logs as a WARNING, dropping the message.

  sensor: components/mqtt/sensor.py MqttSensor._update_state and _update_last_reset;
  components/sensor/__init__.py _numeric_state_expected and SensorEntity.state;
  components/mqtt/const.py PAYLOAD_NONE; components/mqtt/util.py check_state_too_long
    - numeric when it has a state_class, a unit, or a device class other than date, enum and
      timestamp;
    - "None" makes the state unknown, whatever the kind;
    - numeric: "" is ignored, at DEBUG level (the state is kept); anything else is the new
      value, and SensorEntity.state raises (an ERROR) unless it is a number;
    - with options (enum): a rendering not among them is ignored with a WARNING;
    - no device class, or enum: the rendering is the new state, "" included; over 255
      characters, a WARNING and unknown;
    - timestamp: the rendering must parse as a date and time (else a WARNING and unknown); the
      state is that instant in UTC, isoformat(timespec="seconds");
    - last_reset_value_template: "" is ignored (DEBUG); anything else must be a date and time,
      else a WARNING.

  binary_sensor: components/mqtt/binary_sensor.py MqttBinarySensor._state_message_received
    - "" is ignored (DEBUG); "ON"/"OFF" set it, "None" makes it unknown; anything else is
      ignored with an INFO "No matching payload found".

  attributes: components/mqtt/entity.py MqttAttributesMixin._attributes_message_received,
  MQTT_ATTRIBUTES_BLOCKED; components/mqtt/sensor.py MQTT_SENSOR_ATTRIBUTES_BLOCKED
    - the rendering must be a JSON object (else a WARNING: "Erroneous JSON", "JSON result was
      not a dictionary"); it replaces the extra attributes, less the blocked keys
      (friendly_name, device_class, unit_of_measurement... and a sensor's state_class and
      last_reset). An unavailable entity shows no extra attributes.

So the render that keeps an entity's state without a word, when its key is missing:
  numeric sensor, binary sensor, last_reset: "" (HA ignores it);
  text, enum, timestamp sensor: its own state, this.state, or "None" when that is unknown or
    unavailable ("unknown" is no enum option and no date: a WARNING);
  attributes: the ones it has, this.attributes (HA filters out friendly_name);
  an overload alarm (ADPS, ADIRx) is the exception: absent means no overload, 0.

The test: ha_dump (the real discovery, index guard and derived-value code) plays each capture
three times and says what linkyd publishes: the configs, the frames as the guard left them,
<topic>/derived and <topic>/energy; <topic>/diagnostics is made here in meter.c's shape. Each
message goes to the entities on its topic as HA would process it, and:
  (a) on the real payloads nothing is logged, and wherever the templates of
      tests/data/ha-templates-before.json (commit 245e274) rendered without looking up a missing
      key, today's render the same; where they did (a held index, an ADIR short frame...), the
      entity keeps its state or gets what they rendered;
  (b) with each key removed in turn (the frames' top-level keys; every key at every depth of the
      derived, energy and diagnostics payloads), for the entity as the stream left it, one that
      has no state yet and one that expired: nothing is logged and nothing raises, and each of
      state, attributes and last_reset ends as the whole payload leaves it, or kept (back from
      unavailable: what it had, or unknown).

Run by CTest (HA_DUMP and LINKYD_TEST_DATA set), or by hand from the repository root after a
build: python3 tests/unit/test_ha_templates.py. Exits 77 (skipped) when jinja2 is missing.
"""
import glob
import json
import os
import re
import subprocess
import sys
import unittest

try:
    import jinja2  # noqa: F401
except ImportError:
    print("jinja2 is not installed (Debian: python3-jinja2): skipped")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ha_emulation as ha  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.environ.get("LINKYD_TEST_DATA", os.path.join(ROOT, "tests", "data"))
DUMP = os.environ.get("HA_DUMP", os.path.join(ROOT, "build", "release", "tests", "ha_dump"))
PREFIX = "homeassistant"
TOPIC = "linky"
# Each template, its topic, and what it sets in Entity.observable().
TEMPLATES = (("value_template", "state_topic", 0),
             ("json_attributes_template", "json_attributes_topic", 1),
             ("last_reset_value_template", "state_topic", 2))
# Overload alarms: absent means no overload, so they fall back to 0, not to their last state.
ALARMS = {"adps", "adir1", "adir2", "adir3"}
# The MQTT sink's diagnostics (src/sink/mqtt.c): a line in use, and one without a meter yet.
DIAGNOSTICS = [
    {"mode": "standard", "line": "ok", "speed": 9600, "reconnects": 0, "frames_per_minute": 34,
     "checksum_errors": 2, "format_errors": 0, "last_frame": "2025-03-07T12:43:50Z",
     "last_frame_age": 1},
    {"mode": "absent", "line": "absent", "speed": 1200, "reconnects": 3, "frames_per_minute": 0,
     "checksum_errors": 0, "format_errors": 0, "last_frame": None, "last_frame_age": None},
]


def messages(capture):
    """[(topic, payload)] as ha_dump gives them for the capture played three times (enough for
    the index guard to accept a one-frame capture's indexes)."""
    out = subprocess.run([DUMP, capture, "3"], check=True, capture_output=True, text=True,
                         env=dict(os.environ, TZ="Europe/Paris")).stdout
    return [tuple(line.split("\t", 1)) for line in out.splitlines()]


def without_each_key(obj, deep, path=()):
    """(path, copy of obj without the key at path) for each key, at every depth if deep."""
    for key, value in obj.items():
        yield path + (key,), {k: v for k, v in obj.items() if k != key}
        if deep and isinstance(value, dict):
            for sub, smaller in without_each_key(value, deep, path + (key,)):
                yield sub, dict(obj, **{key: smaller})


class Reading(dict):
    """A JSON object that notes in Reading.seen the keys a template looks up, and ALL when it
    reads the object whole (iterates it, dumps it): a key no template looked up can be removed
    without changing a rendering."""

    ALL = object()
    seen = set()

    def __getitem__(self, key):
        Reading.seen.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        Reading.seen.add(key)
        return super().__contains__(key)

    def get(self, key, default=None):
        Reading.seen.add(key)
        return super().get(key, default)

    def _whole(self, method, *args):
        Reading.seen.add(Reading.ALL)
        return getattr(super(), method)(*args)

    def __iter__(self):
        return self._whole("__iter__")

    def __len__(self):
        return self._whole("__len__")

    def keys(self):
        return self._whole("keys")

    def items(self):
        return self._whole("items")

    def values(self):
        return self._whole("values")


def reading_loads(payload):
    return json.loads(payload, object_hook=Reading)


def domoticz_reads(template):
    """The expression Domoticz's MQTT Auto Discovery keeps of a value template and reads the
    value with (domoticz hardware/MQTTAutoDiscover.cpp, CleanValueTemplate(): braces and quotes
    out, cut at the first "|", ".split(" and "if value_json.", a leading "(" taken for a
    calculation and cut at its first operator; its {% if %}...{% endif %} branch is for
    templates linkyd does not write)."""
    assert "endif" not in template
    text = re.sub(r"[{}'\"]", "", template)
    for cut in ("|", ".split(", "if value_json."):
        text = text.split(cut, 1)[0]
    text = text.strip()
    if text.startswith("("):
        text = re.split(r"[/+-]", text[1:], 1)[0].strip()
    return text


def slug_of(config):
    return re.sub(r"^linkyd_[^_]+_", "", config["unique_id"])


class Templates(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(DATA, "ha-templates-before.json")) as f:
            cls.before = json.load(f)["templates"]
        cls.log = ha.Log()
        cls.env = ha.environment(cls.log)

    def quiet(self, what, fn, *args):
        """fn(*args), asserting that HA would log nothing (DEBUG aside)."""
        del self.log[:]
        result = fn(*args)
        if self.log:
            self.fail(f"{what}: Home Assistant logs {list(self.log)}")
        return result

    def check_before(self, entity, topic, payload, where):
        """(a): where the templates before looked up no missing key, today's render the same.
        Returns {index in observable(): (render before, render today)} for the others."""
        old = self.before.get(slug_of(entity.config), {})
        this = entity.this()
        missed = {}
        for key, key_topic, i in TEMPLATES:
            if key not in entity.config or key not in old or entity.config[key_topic] != topic:
                continue
            del self.log[:]
            del self.env.linkyd_missed[:]
            try:
                want = ha.render(self.env, old[key], payload, this)
            except ha.RenderError:
                want = None
            touched = bool(self.log or self.env.linkyd_missed)
            got = self.quiet(f"{where}: {key}", ha.render, self.env, entity.config[key], payload,
                             this)
            if touched:
                missed[i] = (want, got)
            else:
                self.assertEqual(got, want, f"{where}: {key} {entity.config[key]!r}")
        return missed

    def check_missing(self, entity, topic, payload, deep, where):
        """(b): each key removed in turn, three states of the entity."""
        obj = json.loads(payload)
        fresh = ha.Entity(entity.component, entity.config)
        expired = entity.copy()
        expired.available = False
        before = entity.observable()
        for start, name in ((entity, "with a state"), (fresh, "unknown"),
                            (expired, "unavailable")):
            whole = start.copy()
            Reading.seen = set()
            self.env.linkyd_loads = reading_loads
            try:
                self.quiet(f"{where}, {name}", whole.receive, self.env, topic, payload)
            finally:
                self.env.linkyd_loads = json.loads
            read = Reading.seen
            # Each of state, extra attributes and last_reset as the whole payload leaves it, or
            # kept. Back from unavailable: what it had or unknown, and no extra attributes (HA
            # shows none on an unavailable entity).
            if start is expired:
                kept = [{before[0], "unknown"}, {before[1], "{}"}, {before[2]}]
            else:
                kept = [{part} for part in start.observable()]
            if slug_of(entity.config) in ALARMS:
                kept[0].add("0")
            for path, smaller in without_each_key(obj, deep):
                if path[-1] not in read and Reading.ALL not in read:
                    continue
                e = start.copy()
                what = f"{where}, {name}, without {'.'.join(path)}"
                self.quiet(what, e.receive, self.env, topic, json.dumps(smaller))
                for part, ok, got in zip(whole.observable(), kept, e.observable()):
                    self.assertIn(got, ok | {part},
                                  f"{what}: {e.kind} {e.config.get('value_template')!r}")

    def play(self, capture, msgs):
        """Process msgs as HA would, checking each entity at each message. Returns the entities
        and {slug: the first failure of the entity}."""
        entities = {}
        checked = set()
        failed = {}
        for i, (topic, payload) in enumerate(msgs):
            where = f"{os.path.basename(capture)} message {i} on {topic}"
            if topic.startswith(PREFIX + "/"):
                if not payload:
                    entities.pop(topic, None)
                elif topic in entities:
                    entities[topic].configure(json.loads(payload))
                else:
                    entities[topic] = ha.Entity(topic.split("/")[1], json.loads(payload))
                continue
            for entity in [e for e in entities.values() if topic in e.topics()]:
                slug = slug_of(entity.config)
                if slug in failed:
                    continue
                self.kinds.add(entity.kind)
                self.kinds |= {key for key, _, _ in TEMPLATES[1:] if key in entity.config}
                try:
                    self.check_message(entity, topic, payload, f"{where}, {slug}",
                                       (slug, topic, payload) not in checked)
                except AssertionError as ex:
                    failed[slug] = str(ex)
                checked.add((slug, topic, payload))
        return entities, failed

    def check_message(self, entity, topic, payload, where, first):
        """Both checks for an entity and a message (the missing keys the first time the entity
        sees that payload), then the message itself."""
        missed = self.check_before(entity, topic, payload, where)
        if first:
            self.check_missing(entity, topic, payload, topic != TOPIC, where)
        before = entity.observable()
        self.quiet(where, entity.receive, self.env, topic, payload)
        # A key the templates before missed: kept, or what they rendered (ADPS's 0).
        for i, (want, got) in missed.items():
            if got != want:
                self.assertEqual(entity.observable()[i], before[i],
                                 f"{where}: {entity.kind} rendered {got!r}")

    def test_domoticz_reads_the_same(self):
        """Domoticz reads linkyd's discovery too (README): it must find the same key in each
        value template as before."""
        configs = {}
        for capture in sorted(glob.glob(os.path.join(DATA, "*.tic"))):
            for topic, payload in messages(capture):
                if topic.startswith(PREFIX + "/") and payload:
                    config = json.loads(payload)
                    configs[slug_of(config)] = config["value_template"]
        for slug, template in configs.items():
            if slug in self.before:
                self.assertEqual(domoticz_reads(template),
                                 domoticz_reads(self.before[slug]["value_template"]), slug)

    def test_captures(self):
        captures = sorted(glob.glob(os.path.join(DATA, "*.tic")))
        modes = set()
        declared = 0
        self.kinds = set()
        for capture in captures:
            with self.subTest(capture=os.path.basename(capture)):
                msgs = messages(capture)
                diag = [(TOPIC + "/diagnostics", json.dumps(d)) for d in DIAGNOSTICS]
                entities, failed = self.play(capture, msgs + diag)
                declared += len(entities)
                modes |= {json.loads(p)["_mode"] for t, p in msgs if t == TOPIC}
                self.assertEqual(failed, {}, "\n".join(f"{s}: {m}" for s, m in failed.items()))
        # What the test covers: both modes, every kind of entity and template.
        self.assertEqual(modes, {"historique", "standard"})
        self.assertEqual(self.kinds, {"numeric", "text", "enum", "timestamp", "binary",
                                      "json_attributes_template", "last_reset_value_template"})
        self.assertGreater(declared, 300)


if __name__ == "__main__":
    unittest.main()
