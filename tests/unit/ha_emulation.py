# SPDX-License-Identifier: MIT
"""
What Home Assistant does with an MQTT discovery config's templates when a message arrives on its
topics, reduced to the parts that linkyd's configs use: the rules test_ha_templates.py's
docstring sums up, read in Home Assistant core's code (2025), which the comments here cite by
file under homeassistant/. For test_ha_templates.py and tests/integration/test_homeassistant.py;
needs Python 3 and jinja2 (Debian: python3-jinja2).
"""
import copy
import datetime
import json

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

PAYLOAD_NONE = "None"
MAX_LENGTH_STATE = 255
NON_NUMERIC_DEVICE_CLASSES = {"date", "enum", "timestamp"}
ATTRIBUTES_BLOCKED = {"assumed_state", "available", "device_class", "device_info",
                      "entity_category", "entity_picture", "entity_registry_enabled_default",
                      "extra_state_attributes", "force_update", "icon", "friendly_name",
                      "should_poll", "state", "supported_features", "unique_id",
                      "unit_of_measurement"}
SENSOR_ATTRIBUTES_BLOCKED = {"last_reset", "state_class"}


class Log(list):
    """What Home Assistant would log, as (level, message), INFO and above; "raised" for a render
    that raised and that HA dropped without logging."""

    def add(self, level, message):
        self.append((level, message))


def environment(log):
    """A template environment whose Undefined logs to log as HA's LoggingUndefined does, and
    notes in env.linkyd_missed each missing key a render looked up."""

    class LoggingUndefined(jinja2.Undefined):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            env.linkyd_missed.append(self._undefined_message)

        def _log_message(self):
            log.add("warning", f"Template variable warning: {self._undefined_message}")

        def _fail_with_undefined_error(self, *args, **kwargs):
            try:
                return super()._fail_with_undefined_error(*args, **kwargs)
            except self._undefined_exception:
                log.add("error", f"Template variable error: {self._undefined_message}")
                raise

        def __str__(self):
            self._log_message()
            return super().__str__()

        def __iter__(self):
            self._log_message()
            return super().__iter__()

        def __bool__(self):
            self._log_message()
            return super().__bool__()

    env = ImmutableSandboxedEnvironment(undefined=LoggingUndefined)
    env.linkyd_log = log
    env.linkyd_missed = []  # every missing key looked up, whether it logged or not
    env.linkyd_cache = {}
    env.linkyd_loads = json.loads  # value_json from the payload
    return env


class ThisState:
    """`this` in a template: the entity's state object."""

    def __init__(self, state, attributes):
        self.state = state
        self.attributes = attributes


class RenderError(Exception):
    """The render raised: HA drops the message (after logging, or silently: see render())."""


def render(env, template, payload, this=None, default=False):
    """The stripped rendering of template for payload (a str), as Template's
    async_render_with_possible_json_value and MqttValueTemplate give it; default: the caller
    passed one (a sensor's value template does). What HA logs goes to env's log."""
    compiled = env.linkyd_cache.get(template)
    if compiled is None:
        compiled = env.linkyd_cache[template] = env.from_string(template)
    variables = {"value": payload, "entity_id": "sensor.linkyd", "name": "linkyd",
                 "this": this or ThisState("unknown", {})}
    try:
        variables["value_json"] = env.linkyd_loads(payload)
    except ValueError:
        pass
    try:
        return compiled.render(**variables).strip()
    except jinja2.TemplateError as ex:
        # An UndefinedError from arithmetic or a subscript on a missing key does not go through
        # LoggingUndefined's override: with a default, HA drops it without a word; without one
        # it logs an ERROR and goes on with the payload itself as the rendering.
        if default:
            env.linkyd_log.add("raised", f"{ex} (dropped in silence)")
            raise RenderError(str(ex)) from ex
        env.linkyd_log.add("error", f"Error parsing value: {ex}")
        return payload
    except Exception as ex:
        # TEMPLATE_ERRORS (mqtt/const.py): MqttValueTemplateException, which the entity's
        # message callback (mqtt/entity.py) logs as a WARNING before dropping the message.
        env.linkyd_log.add("warning", f"{type(ex).__name__}: {ex} rendering template")
        raise RenderError(str(ex)) from ex


def parse_datetime(text):
    """dt_util.parse_datetime: a datetime, or None when text is not an ISO 8601 date-time."""
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        return None


def numeric_state_expected(device_class, state_class, unit):
    if device_class in NON_NUMERIC_DEVICE_CLASSES:
        return False
    return state_class is not None or unit is not None or device_class is not None


class Entity:
    """One entity of a discovery config, and the state HA keeps for it."""

    def __init__(self, component, config):
        self.component = component
        self.configure(config)
        self.native = None
        self.available = True
        self.extras = {}
        self.last_reset = None

    def configure(self, config):
        """A config, or a new one for the same entity (which keeps its state)."""
        self.config = config
        self.device_class = config.get("device_class")
        self.state_class = config.get("state_class")
        self.unit = config.get("unit_of_measurement")
        self.options = config.get("options")
        self.numeric = self.component == "sensor" and numeric_state_expected(
            self.device_class, self.state_class, self.unit)

    @property
    def kind(self):
        """What the entity is, for messages: numeric, text, enum, timestamp, binary."""
        if self.component == "binary_sensor":
            return "binary"
        if self.numeric:
            return "numeric"
        return self.device_class or "text"

    def topics(self):
        return {self.config.get("state_topic"), self.config.get("json_attributes_topic")} - {None}

    def state(self, log=None):
        """The state string HA would write (SensorEntity.state), logging an ERROR if it would
        refuse the value."""
        if not self.available:
            return "unavailable"
        value = self.native
        if value is None:
            return "unknown"
        if self.component == "binary_sensor":
            return "on" if value else "off"
        if self.device_class == "timestamp":
            if value.tzinfo is None:
                if log is not None:
                    log.add("error", f"timestamp {value} without a time zone")
                return "unknown"
            return value.astimezone(datetime.timezone.utc).isoformat(timespec="seconds")
        if self.options is not None and value not in self.options:
            if log is not None:
                log.add("error", f"{value!r} is not among the options")
            return "unknown"
        if self.numeric:
            try:
                number = int(value) if "." not in value and "e" not in value else float(value)
            except ValueError:
                if log is not None:
                    log.add("error", f"non-numeric value {value!r}")
                return "unknown"
            return str(number)
        return value

    def attributes(self):
        """The state's attributes, as `this.attributes` shows them (Entity._async_write_ha_state:
        the extra ones only while available)."""
        attrs = {"friendly_name": self.config.get("name")}
        for key, value in (("device_class", self.device_class), ("state_class", self.state_class),
                           ("unit_of_measurement", self.unit), ("options", self.options)):
            if value is not None:
                attrs[key] = value
        if self.available:
            attrs.update(self.extras)
        return attrs

    def this(self):
        return ThisState(self.state(), self.attributes())

    def observable(self):
        """What HA shows of the entity: state, extra attributes, last_reset."""
        return (self.state(), json.dumps(self.extras, sort_keys=True),
                self.last_reset and self.last_reset.isoformat())

    def copy(self):
        return copy.deepcopy(self)

    def receive(self, env, topic, payload):
        """Process a message as HA does: every template of the entity on that topic. What HA
        logs goes to env's log."""
        this = self.this()
        if topic == self.config.get("state_topic"):
            # expire_after: a message makes the entity available again (mqtt/sensor.py).
            self.available = True
            try:
                if self.component == "binary_sensor":
                    self._binary(env, payload, this)
                else:
                    self._sensor(env, payload, this)
                    if "last_reset_value_template" in self.config:
                        self._last_reset(env, payload, this)
            except RenderError:
                pass
            self.state(env.linkyd_log)
        if topic == self.config.get("json_attributes_topic"):
            try:
                self._attributes(env, payload, this)
            except RenderError:
                pass

    def _render(self, env, key, payload, this, default=False):
        template = self.config.get(key)
        if template is None:
            return payload
        return render(env, template, payload, this, default)

    def _sensor(self, env, payload, this):
        log = env.linkyd_log
        value = self._render(env, "value_template", payload, this, default=True)
        if value == PAYLOAD_NONE:
            self.native = None
            return
        if self.numeric:
            if value != "":
                self.native = value
            return
        if self.options and value not in self.options:
            log.add("warning", f"Ignoring invalid option {value!r}")
            return
        if self.device_class in (None, "enum"):
            if len(value) <= MAX_LENGTH_STATE:
                self.native = value
                return
            log.add("warning", f"state of {len(value)} characters")
        when = parse_datetime(value)
        if when is None:
            log.add("warning", f"Invalid state message {value!r}")
            self.native = None
            return
        self.native = when.date() if self.device_class == "date" else when

    def _last_reset(self, env, payload, this):
        value = self._render(env, "last_reset_value_template", payload, this)
        if not value:
            return
        when = parse_datetime(value)
        if when is None:
            env.linkyd_log.add("warning", f"Invalid last_reset message {value!r}")
        else:
            self.last_reset = when

    def _binary(self, env, payload, this):
        value = self._render(env, "value_template", payload, this)
        if not value.strip():
            return
        if value == self.config.get("payload_on", "ON"):
            self.native = True
        elif value == self.config.get("payload_off", "OFF"):
            self.native = False
        elif value == PAYLOAD_NONE:
            self.native = None
        else:
            env.linkyd_log.add("info", f"No matching payload found, template output {value!r}")

    def _attributes(self, env, payload, this):
        log = env.linkyd_log
        value = self._render(env, "json_attributes_template", payload, this)
        try:
            attrs = json.loads(value)
        except ValueError:
            log.add("warning", f"Erroneous JSON: {value}")
            return
        if not isinstance(attrs, dict):
            log.add("warning", "JSON result was not a dictionary")
            return
        blocked = ATTRIBUTES_BLOCKED | (SENSOR_ATTRIBUTES_BLOCKED
                                        if self.component == "sensor" else set())
        self.extras = {k: v for k, v in attrs.items() if k not in blocked}
