#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Home Assistant MQTT discovery, end to end: the daemon against a real mosquitto and a real
subscriber. The configs are checked key by key against HA's MQTT sensor / binary_sensor schema
(required keys, known keys only, device classes with the units HA accepts), their templates are
applied to the frames that arrived, and re-discovery (HA's "online", a broker restart) and the
removal of a vanished label are exercised. Run by CTest, or by hand:
LINKYD=build/linkyd python3 tests/integration/test_homeassistant.py [-k NAME]. Exits 77 (skipped)
when mosquitto or jinja2 (python3-jinja2) is not installed.
"""
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit"))
import harness as h  # noqa: E402

try:
    import ha_emulation as ha  # noqa: E402
except ImportError:
    print("skipped: jinja2 (python3-jinja2) not installed", file=sys.stderr)
    sys.exit(77)

PREFIX = "homeassistant"

# The keys of HA's MQTT sensor and binary_sensor discovery schemas that linkyd may use.
COMMON_KEYS = {"name", "unique_id", "state_topic", "value_template", "availability_topic", "qos",
               "device", "o", "device_class", "entity_category", "expire_after",
               "json_attributes_topic", "json_attributes_template"}
SENSOR_KEYS = COMMON_KEYS | {"state_class", "unit_of_measurement", "last_reset_value_template",
                             "options"}
DEVICE_KEYS = {"identifiers", "name", "manufacturer", "model", "serial_number", "sw_version"}
# HA's units per sensor device class (2025: VA only for apparent_power, varh reactive_energy).
UNITS = {"energy": {"Wh", "kWh", "MWh"}, "apparent_power": {"VA"},
         "reactive_energy": {"varh", "kvarh"}, "current": {"A", "mA"}, "voltage": {"V", "mV"},
         "power": {"W", "kW"}, "duration": {"s", "min", "h", "d"}, "timestamp": {None},
         "enum": {None}}
STATE_CLASSES = {"measurement", "total", "total_increasing"}
BINARY_CLASSES = {"problem", "safety", "power", "running"}


def render(template, obj, this_state="kept"):
    """What Home Assistant's template renders for value_json = obj and an entity whose state is
    this_state (tests/unit/ha_emulation.py), failing if HA would log anything: the text, or None
    for the empty rendering HA ignores."""
    log = ha.Log()
    text = ha.render(ha.environment(log), template, json.dumps(obj), ha.ThisState(this_state, {}))
    if log:
        raise AssertionError(f"Home Assistant logs {list(log)} rendering {template!r}")
    return text if text != "" else None


class Discovery(unittest.TestCase):

    def configs(self, rig):
        """{config topic: payload (dict, or None for a deletion)}, the latest of each."""
        out = {}
        for msg in rig.sub.messages():
            if msg.topic.startswith(PREFIX + "/") and msg.topic.endswith("/config"):
                out[msg.topic] = json.loads(msg.payload) if msg.payload else None
        return out

    def wait_configs(self, rig, n, timeout=10):
        rig.sub.wait_for(lambda _: sum(v is not None for v in self.configs(rig).values()) >= n,
                         timeout, f"{n} discovery configs")
        return self.configs(rig)

    def check_schema(self, topic, c, rig, serial, model):
        component, node, slug = re.fullmatch(
            rf"{PREFIX}/(sensor|binary_sensor)/([^/]+)/([a-z0-9_]+)/config", topic).groups()
        self.assertEqual(node, f"linkyd_{serial}")
        self.assertLessEqual(set(c), SENSOR_KEYS if component == "sensor" else COMMON_KEYS,
                             topic)
        for key in ("name", "unique_id", "state_topic", "value_template", "device", "o"):
            self.assertIn(key, c, topic)
        self.assertEqual(c["unique_id"], f"linkyd_{serial}_{slug}")
        derived = slug.startswith("derived_")
        self.assertIn(c["state_topic"], (rig.topic + "/derived", rig.topic + "/energy")
                      if derived else (rig.topic, rig.topic + "/diagnostics"))
        if derived and c.get("entity_category") != "diagnostic":
            # A value never to be taken for what the meter said.
            self.assertRegex(c["name"], r"\((estimated|derived)\)")
        self.assertEqual(c["availability_topic"], rig.topic + "/status")
        self.assertEqual(c["qos"], 1)
        self.assertEqual(set(c["device"]), DEVICE_KEYS)
        self.assertEqual(c["device"]["identifiers"], [f"linkyd_{serial}"])
        self.assertEqual(c["device"]["name"], f"Linky {serial}")
        self.assertEqual(c["device"]["manufacturer"], "Enedis")
        self.assertEqual(c["device"]["model"], model)
        self.assertEqual(c["device"]["serial_number"], serial)
        self.assertRegex(c["device"]["sw_version"], r"^\d+\.\d+\.\d+$")
        self.assertEqual(c["o"]["name"], "linkyd")
        self.assertEqual(set(c["o"]), {"name", "sw", "url"})
        if c["state_topic"] == rig.topic:
            self.assertEqual(c["expire_after"], 120)
        if "entity_category" in c:
            self.assertEqual(c["entity_category"], "diagnostic")
        if component == "binary_sensor":
            self.assertIn(c.get("device_class"), BINARY_CLASSES)
            return
        if "state_class" in c:
            self.assertIn(c["state_class"], STATE_CLASSES)
        if "device_class" in c:
            self.assertIn(c.get("unit_of_measurement"), UNITS[c["device_class"]], topic)
        if c.get("device_class") == "energy":
            self.assertIn(c.get("state_class"), {"total", "total_increasing"})

    def run_capture(self, name, serial, model, expect, repeat=2):
        """Feed a capture (a file name, or its bytes), check every config, and the expected
        {slug: (class, state class, unit, value)} against the configs and the last frame
        carrying each label."""
        rig = h.Rig(self)
        got, _ = rig.feed((name if isinstance(name, bytes) else h.capture(name)) * repeat)
        frames = [json.loads(p) for p in got]
        configs = self.wait_configs(rig, len(expect))
        by_slug = {}
        for topic, c in configs.items():
            self.check_schema(topic, c, rig, serial, model)
            by_slug[topic.split("/")[-2]] = (topic, c)
            # Retained, so that HA gets them whenever it subscribes.
            self.assertIsNotNone(h.retained(rig.broker, topic), topic)
        for slug, (cls, state_class, unit, value) in expect.items():
            with self.subTest(slug=slug):
                self.assertIn(slug, by_slug)
                c = by_slug[slug][1]
                self.assertEqual(c.get("device_class"), cls)
                self.assertEqual(c.get("state_class"), state_class)
                self.assertEqual(c.get("unit_of_measurement"), unit)
                if value is not None:
                    self.assertEqual(render(c["value_template"], frames[-1]), str(value))
        return rig, by_slug, frames

    def test_historique_mono(self):
        rig, by_slug, frames = self.run_capture(
            "historique-hchp-mono-03.tic", "811775412275", "Linky (historique)", {
                "hchc": ("energy", "total_increasing", "Wh", 4070290),
                "hchp": ("energy", "total_increasing", "Wh", 6438891),
                "papp": ("apparent_power", "measurement", "VA", 1090),
                "iinst": ("current", "measurement", "A", 4),
                "isousc": ("current", None, "A", 45),
                "ptec": (None, None, None, "HP.."),
                "adco": (None, None, None, "811775412275"),
                "adps": ("current", None, "A", 0),  # declared before any overload
                "diag_mode": (None, None, None, None),
            })
        self.assertEqual(by_slug["adco"][1]["entity_category"], "diagnostic")
        self.assertNotIn("entity_category", by_slug["hchc"][1])
        self.assertNotIn("adir1", by_slug)
        # The line's health, on <topic>/diagnostics, read by the diagnostic sensors.
        diag = json.loads(rig.sub.wait_count(rig.topic + "/diagnostics", 1, 5)[-1])
        for slug, value in (("diag_mode", "historique"), ("diag_checksum_errors", 0),
                            ("diag_format_errors", 0)):
            c = by_slug[slug][1]
            self.assertEqual(c["state_topic"], rig.topic + "/diagnostics")
            self.assertEqual(c["entity_category"], "diagnostic")
            self.assertEqual(render(c["value_template"], diag), str(value))
        self.assertIn(render(by_slug["diag_speed"][1]["value_template"], diag), ("1200", "9600"))
        self.assertRegex(render(by_slug["diag_last_frame"][1]["value_template"], diag),
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(by_slug["diag_last_frame"][1]["device_class"], "timestamp")
        self.assertEqual(rig.daemon.at_most(h.LOG_WARNING), [])

    def test_historique_tri(self):
        # Its first frame has no ADCO: discovery waits for the serial; the ADIR short frames
        # neither remove nor blank the other labels.
        rig, by_slug, frames = self.run_capture(
            "historique-hchp-tri-adir-01.tic", "123456789012", "Linky (historique)", {
                "iinst1": ("current", "measurement", "A", 1),
                "imax2": ("current", None, "A", 60),
                "pmax": ("power", None, "W", 8611),
                "adir1": ("current", None, "A", 0),
                "adir2": ("current", None, "A", 0),
                "adir3": ("current", None, "A", 0),
                "hchp": ("energy", "total_increasing", "Wh", 11651343),
            }, repeat=1)
        self.assertNotIn("adps", by_slug)
        short = next(f for f in frames if "ADIR1" in f)
        self.assertEqual(render(by_slug["adir1"][1]["value_template"], short), "1")
        self.assertEqual(render(by_slug["optarif"][1]["value_template"], short), "kept")
        self.assertIsNone(render(by_slug["hchc"][1]["value_template"], short))

    def test_historique_tempo_tri(self):
        # No real capture of a historique Tempo triphasé meter exists in the samples: this one
        # is built from the spec's label set (docs/tic.md §5), with valid checksums.
        groups = [("ADCO", "021861348497"), ("OPTARIF", "BBR("), ("ISOUSC", "30"),
                  ("BBRHCJB", "012345678"), ("BBRHPJB", "023456789"),
                  ("BBRHCJW", "001234567"), ("BBRHPJW", "002345678"),
                  ("BBRHCJR", "000123456"), ("BBRHPJR", "000234567"), ("PTEC", "HPJW"),
                  ("DEMAIN", "ROUG"), ("IINST1", "005"), ("IINST2", "012"),
                  ("IINST3", "003"), ("IMAX1", "060"), ("IMAX2", "060"), ("IMAX3", "060"),
                  ("PMAX", "09000"), ("PAPP", "04530"), ("HHPHC", "Y"),
                  ("MOTDETAT", "000000"), ("PPOT", "00")]
        frame = h.STX + b"".join(h.historique_group(*g) for g in groups) + h.ETX
        rig, by_slug, frames = self.run_capture(
            frame, "021861348497", "Linky (historique)", {
                "bbrhcjb": ("energy", "total_increasing", "Wh", 12345678),
                "bbrhpjb": ("energy", "total_increasing", "Wh", 23456789),
                "bbrhcjw": ("energy", "total_increasing", "Wh", 1234567),
                "bbrhpjw": ("energy", "total_increasing", "Wh", 2345678),
                "bbrhcjr": ("energy", "total_increasing", "Wh", 123456),
                "bbrhpjr": ("energy", "total_increasing", "Wh", 234567),
                "ptec": (None, None, None, "HPJW"),
                "demain": (None, None, None, "ROUG"),
                "iinst2": ("current", "measurement", "A", 12),
                "imax3": ("current", None, "A", 60),
                "pmax": ("power", None, "W", 9000),
                "papp": ("apparent_power", "measurement", "VA", 4530),
                "isousc": ("current", None, "A", 30),
                "adir1": ("current", None, "A", 0),
                "adir3": ("current", None, "A", 0),
            })
        self.assertNotIn("adps", by_slug)   # a triphasé meter warns with ADIRx
        self.assertNotIn("hchc", by_slug)   # only what the meter sends
        self.assertNotIn("iinst", by_slug)
        self.assertEqual(by_slug["optarif"][1]["entity_category"], "diagnostic")
        self.assertNotIn("entity_category", by_slug["bbrhpjr"][1])

    def test_standard_producer(self):
        rig, by_slug, frames = self.run_capture(
            "standard-mono-prod-hchp-noise-01.tic", "031764953443", "Linky (standard)", {
                "east": ("energy", "total_increasing", "Wh", None),
                "eait": ("energy", "total_increasing", "Wh", None),
                "erq1": ("reactive_energy", "total_increasing", "varh", None),
                "pref": ("apparent_power", None, "VA", 12000),
                "pcoup": ("apparent_power", None, "VA", 12000),
                "sinsti": ("apparent_power", "measurement", "VA", None),
                "smaxsn_minus_1": ("apparent_power", None, "VA", None),
                "urms1": ("voltage", "measurement", "V", None),
                "irms1": ("current", "measurement", "A", None),
                "date": ("timestamp", None, None, None),
                "stge": (None, None, None, None),
                "stge_overload": ("problem", None, None, "OFF"),
                "stge_tempo_today": (None, None, None, "none"),
                "stge_supplier_index": (None, None, None, 2),
                "njourf_plus_1": (None, None, None, None),
            })
        last = next(f for f in reversed(frames) if "EAST" in f and "STGE" in f)
        self.assertEqual(render(by_slug["east"][1]["value_template"], last), str(last["EAST"]))
        self.assertEqual(render(by_slug["smaxsn_minus_1"][1]["value_template"], last),
                         str(last["SMAXSN-1"]["value"]))
        self.assertEqual(render(by_slug["date"][1]["value_template"], last),
                         last["DATE"]["date"])
        self.assertEqual(render(by_slug["njourf_plus_1"][1]["value_template"], last),
                         str(last["NJOURF+1"]))
        stge = by_slug["stge"][1]
        self.assertEqual(render(stge["value_template"], last), "003AC701")
        self.assertEqual(stge["json_attributes_topic"], rig.topic)
        self.assertEqual(json.loads(render(stge["json_attributes_template"], last)),
                         last["STGE"])
        self.assertEqual(by_slug["pref"][1]["entity_category"], "diagnostic")
        self.assertTrue(by_slug["stge_overload"][0].startswith(PREFIX + "/binary_sensor/"))
        self.assertNotIn("adps", by_slug)

    def test_rediscovery(self):
        rig = h.Rig(self)
        rig.feed(h.capture("historique-hchp-mono-03.tic"))
        topic = f"{PREFIX}/sensor/linkyd_811775412275/hchc/config"
        rig.sub.wait_count(topic, 1, 10)
        # Home Assistant restarted: its birth message brings every config again.
        h.publish(rig.broker, PREFIX + "/status", "online")
        rig.sub.wait_count(topic, 2, 10)
        rig.daemon.wait_log(r"Home Assistant is online")
        # A broker without persistence restarts empty: the reconnect publishes them again.
        mark = rig.daemon.mark()
        rig.broker.kill()
        rig.daemon.wait_log(r"connection to \S+ lost", 5, after=mark)
        rig.broker.start()
        rig.daemon.wait_log(r"connected to ", 15, after=mark)
        h.wait_until(lambda: h.retained(rig.broker, topic, timeout=1), 10,
                     "the config retained again")
        self.assertEqual(json.loads(h.retained(rig.broker, topic))["unique_id"],
                         "linkyd_811775412275_hchc")
        # The retained energy per period too, with the next frame (the queue dropped live
        # messages with the connection, and the broker lost its retained ones).
        self.assertIsNone(h.retained(rig.broker, rig.topic + "/energy", timeout=1))
        rig.feed(h.capture("historique-hchp-mono-03.tic"))
        h.wait_until(lambda: h.retained(rig.broker, rig.topic + "/energy", timeout=1), 10,
                     "the energy retained again")

    def test_removal(self):
        rig = h.Rig(self)

        def frame(i, with_hhphc):
            groups = [("ADCO", "012345678910"), ("OPTARIF", "BASE"), ("ISOUSC", "30"),
                      ("BASE", f"{i:09d}"), ("PTEC", "TH.."), ("IINST", "001"),
                      ("IMAX", "090"), ("PAPP", "00230")]
            groups += [("HHPHC", "A")] if with_hhphc else []
            return h.STX + b"".join(h.historique_group(*g) for g in groups) + h.ETX

        topic = f"{PREFIX}/sensor/linkyd_012345678910/hhphc/config"
        rig.feed(b"".join(frame(i, True) for i in range(3)))
        rig.sub.wait_count(topic, 1, 10)
        # An overload's frames (with ADPS) do not count as absences...
        adps = (h.STX + b"".join(h.historique_group(*g) for g in (
            ("ADCO", "012345678910"), ("BASE", "000000100"), ("IINST", "035"),
            ("ADPS", "035"))) + h.ETX)
        rig.feed(adps * 12)
        self.assertEqual(rig.sub.payloads(topic)[-1] != "", True)
        # ... nine ordinary frames without it are not enough, the tenth is.
        rig.feed(b"".join(frame(i, False) for i in range(10, 19)))
        self.assertNotEqual(rig.sub.payloads(topic)[-1], "")
        rig.feed(frame(19, False))
        rig.sub.wait_payload(topic, "", 5)
        self.assertIsNone(h.retained(rig.broker, topic, timeout=1))
        # The alarm stays declared; the other labels too.
        self.assertIsNotNone(h.retained(rig.broker, topic.replace("hhphc", "adps")))
        self.assertIsNotNone(h.retained(rig.broker, topic.replace("hhphc", "base")))
        # Back again: declared again.
        rig.feed(frame(20, True))
        rig.sub.wait_for(lambda _: rig.sub.payloads(topic)[-1] != "", 5, "a new config")

    def test_raw_format_no_discovery(self):
        rig = h.Rig(self, args=["--format", "raw"])
        rig.feed(h.capture("historique-hchp-mono-03.tic"))
        rig.daemon.wait_log(r"discovery needs the typed format")
        rig.sub.wait_count(rig.topic + "/diagnostics", 1, 5)
        self.assertEqual(self.configs(rig), {})


if __name__ == "__main__":
    h.main()
