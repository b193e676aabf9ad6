// SPDX-License-Identifier: MIT
//
// Runs a Node-RED flow's core nodes on MQTT messages without Node-RED (Node.js only), for
// tests/examples/test_node_red_flow.py: "mqtt in" (topic filters, json/utf8/auto-detect
// payloads), "function" (its JavaScript, as Node-RED calls it), "switch" and "change" (the rule
// kinds below), "debug" (what it would show). A rule or option it does not know is an error
// rather than a guess, so the flow cannot use one unchecked.
//
// Standard input: {"flow": PATH, "messages": [{"topic": T, "payload": STRING}, ...]}.
// Standard output: {"events": [{"message": I, "debug": NAME, "value": V}, ...]}, in the order
// the debug nodes got them.
"use strict";

const fs = require("fs");

const input = JSON.parse(fs.readFileSync(0, "utf8"));
const nodes = JSON.parse(fs.readFileSync(input.flow, "utf8"));
const byId = new Map(nodes.map((n) => [n.id, n]));
const events = [];
let current = -1; // index of the message being delivered

function topicMatches(filter, topic) {
    const f = filter.split("/");
    const t = topic.split("/");
    for (let i = 0; i < f.length; i++) {
        if (f[i] === "#") {
            return true;
        }
        if (i >= t.length || (f[i] !== "+" && f[i] !== t[i])) {
            return false;
        }
    }
    return f.length === t.length;
}

function getProp(msg, path) {
    return path.split(".").reduce((o, k) => (o === undefined || o === null ? undefined : o[k]),
        msg);
}

function setProp(msg, path, value) {
    const keys = path.split(".");
    let o = msg;
    for (const k of keys.slice(0, -1)) {
        if (typeof o[k] !== "object" || o[k] === null) {
            o[k] = {};
        }
        o = o[k];
    }
    o[keys[keys.length - 1]] = value;
}

// A rule's value, typed as the editor's type selector says.
function typed(value, type, msg) {
    switch (type) {
    case "str":
        return String(value);
    case "num":
        return Number(value);
    case "bool":
        return value === "true";
    case "json":
        return JSON.parse(value);
    case "msg":
        return getProp(msg, value);
    default:
        throw new Error(`value type "${type}" not supported`);
    }
}

function msgProp(node, propertyType) {
    if ((propertyType || "msg") !== "msg") {
        throw new Error(`${node.type} "${node.name}": property type ${propertyType}`);
    }
}

// Node-RED gives each wire but the first its own copy of a message, made when it is sent:
// before any receiver can change it.
function send(node, outputs) {
    outputs.forEach((msgs, port) => {
        if (msgs === null || msgs === undefined) {
            return;
        }
        for (const msg of Array.isArray(msgs) ? msgs : [msgs]) {
            const targets = node.wires[port] || [];
            const copies = targets.map((id, i) => (i === 0 ? msg : JSON.parse(JSON.stringify(msg))));
            targets.forEach((id, i) => receive(byId.get(id), copies[i]));
        }
    });
}

const compare = {
    // Node-RED's switch compares with == and !=, not === and !==.
    eq: (a, b) => a == b,
    neq: (a, b) => a != b,
    lt: (a, b) => a < b,
    lte: (a, b) => a <= b,
    gt: (a, b) => a > b,
    gte: (a, b) => a >= b,
};

function runSwitch(node, msg) {
    msgProp(node, node.propertyType);
    const value = getProp(msg, node.property);
    const outputs = node.rules.map(() => null);
    let matched = false;
    for (const [i, rule] of node.rules.entries()) {
        let hit;
        if (rule.t === "else") {
            hit = !matched;
        } else if (compare[rule.t]) {
            hit = compare[rule.t](value, typed(rule.v, rule.vt, msg));
        } else {
            throw new Error(`switch "${node.name}": rule "${rule.t}" not supported`);
        }
        if (hit) {
            outputs[i] = msg;
            matched = true;
            if (node.checkall !== "true") {
                break;
            }
        }
    }
    send(node, outputs);
}

function runChange(node, msg) {
    for (const rule of node.rules) {
        msgProp(node, rule.pt);
        if (rule.t === "set") {
            setProp(msg, rule.p, typed(rule.to, rule.tot, msg));
        } else {
            throw new Error(`change "${node.name}": rule "${rule.t}" not supported`);
        }
    }
    send(node, [msg]);
}

function memory() {
    const values = new Map();
    return { get: (k) => values.get(k), set: (k, v) => values.set(k, v) };
}

const compiled = new Map();

function runFunction(node, msg) {
    if (!compiled.has(node.id)) {
        const api = {
            id: node.id,
            name: node.name,
            status: () => {},
            send: (out) => send(node, Array.isArray(out) ? out : [out]),
            done: () => {},
            log: () => {},
            warn: (w) => {
                throw new Error(`function "${node.name}" warned: ${w}`);
            },
            error: (e) => {
                throw new Error(`function "${node.name}" failed: ${e}`);
            },
        };
        // The arguments Node-RED hands a function node's body.
        const body = new Function("msg", "node", "context", "flow", "global", "env", "RED",
            node.func);
        const ctx = { context: memory(), flow: memory(), global: memory() };
        compiled.set(node.id, (m) => body(m, api, ctx.context, ctx.flow, ctx.global,
            { get: () => undefined }, {}));
    }
    const result = compiled.get(node.id)(msg);
    if (result === null || result === undefined) {
        return;
    }
    send(node, Array.isArray(result) ? result : [result]);
}

function receive(node, msg) {
    switch (node.type) {
    case "function":
        runFunction(node, msg);
        break;
    case "switch":
        runSwitch(node, msg);
        break;
    case "change":
        runChange(node, msg);
        break;
    case "debug": {
        const value = node.complete === "true" ? msg : getProp(msg, node.complete);
        events.push({ message: current, debug: node.name, value: value });
        break;
    }
    default:
        throw new Error(`node type "${node.type}" not supported`);
    }
}

function payloadFor(node, text) {
    switch (node.datatype) {
    case "utf8":
        return text;
    case "json":
        return JSON.parse(text);
    case "auto-detect":
        try {
            return JSON.parse(text);
        } catch (e) {
            return text;
        }
    default:
        throw new Error(`mqtt in "${node.name}": datatype "${node.datatype}" not supported`);
    }
}

input.messages.forEach((m, i) => {
    current = i;
    for (const node of nodes) {
        if (node.type === "mqtt in" && topicMatches(node.topic, m.topic)) {
            let payload;
            try {
                payload = payloadFor(node, m.payload);
            } catch (e) {
                // Node-RED logs a payload that is not JSON and sends nothing.
                continue;
            }
            send(node, [{ topic: m.topic, payload: payload, qos: 1, retain: false }]);
        }
    }
});
process.stdout.write(JSON.stringify({ events: events }));
