#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tic_reference.py - independent reference decoder for Enedis TIC captures.

This is the cross-check used to produce and verify the expected outputs of the capture tests
(tests/data/<capture>.typed.json, .raw.json and .summary, compared byte for byte by
tests/unit/test_captures.c and tests/decode_cli.sh). It was written from the protocol reference
(docs/tic.md: frames, groups, checksums, horodates, label table, STGE, day profiles) and from the
decoding rules stated at the top of src/tic/parser.c, not by translating the C code, so that a
bug in the C decoder shows up as a difference here. It is slow and simple on purpose: bytes are
collected, then each group is split from its end, after the layouts of docs/tic.md §3 and §4
(last byte = checksum, the byte before it = separator, split the rest on the separator).

Rules implemented:
  * Frames run from STX to ETX. EOT, a new STX or the end of the input abort the frame in
    progress: it is not delivered (one "framing" error and one interrupted frame). A frame ended
    by ETX without a single valid group is not delivered either (an "empty" frame).
  * Groups run from LF to CR. An LF inside a group means its CR was lost: the group is cut
    ("framing") and the LF starts the next one. ETX inside a group cuts it too. A control byte
    inside a group (anything below 0x20 but HT, or DEL) rejects it ("byte") and the decoder
    resynchronises on the next LF. Bytes outside groups are skipped and counted.
  * A byte with bit 7 set is a 7E1 character read 8 bits wide: it is taken with bit 7 cleared
    when its 8 bits have even parity, and is a bad byte otherwise.
  * The mode comes from each group's separator before the checksum: HT = standard (checksum over
    everything up to and including that HT), SP = historique (checksum over LABEL SP VALUE,
    without the last SP; the "mode 2" variant that sums it is also accepted and counted). All
    groups of a frame have the mode of its first valid group.
  * Labels are [A-Z0-9+-], at most 16 characters; values at most 128; groups at most 161 bytes
    between LF and CR, a frame at most 4096 bytes of groups and 128 groups (the C limits).
  * Known labels: mode, horodate presence and value format per the label table (docs/tic.md §5
    and §7, with the value formats of src/tic/check.c); each label once per frame. Unknown
    labels pass as printable text (non-empty, unless a standard group with a horodate), once per
    frame too. Free text (text formats, BBRx's x, unknown labels) never holds a backquote: a
    space whose bit 6 flipped, with the same 6-bit checksum.
  * Error categories, first match wins: checksum; then the label (empty or outside [A-Z0-9+-]:
    "format", over 16 characters: "overlong"); the fields (separators, horodate width:
    "format"); a value over 128 characters ("overlong"); then the value ("format").

Usage:
  tic_reference.py FILE [--format typed|raw]   JSON lines on stdout, summary on stderr, exactly
                                               as `linkyd --decode FILE` prints them
  tic_reference.py --explain FILE              every rejected group/frame with its offset
  tic_reference.py --check DATADIR             compare DATADIR/*.tic with the expected files
"""
import calendar
import glob
import json
import os
import sys

STX, ETX, EOT, HT, LF, CR, SP = 0x02, 0x03, 0x04, 0x09, 0x0A, 0x0D, 0x20

LABEL_MAX, HORODATE_LEN, VALUE_MAX = 16, 13, 128
GROUP_MAX = LABEL_MAX + 1 + HORODATE_LEN + 1 + VALUE_MAX + 2
FRAME_GROUPS, FRAME_BYTES = 128, 4096

ERRORS = ("checksum", "format", "framing", "overlong", "byte")

HIST, STD = "historique", "standard"


# ---- The label table (docs/tic.md §5, §7) ------------------------------------------------

def _digits(width, lo=None, hi=None):
    return ("digits", width, lo, hi)


# name -> (mode, format, horodate)
LABELS = {}


def _add(mode, fmt, horodate, *names):
    for n in names:
        LABELS[n] = (mode, fmt, horodate)


# Historique.
_add(HIST, ("id", 12), False, "ADCO")
_add(HIST, ("optarif",), False, "OPTARIF")
_add(HIST, _digits(2), False, "ISOUSC", "PEJP")
_add(HIST, _digits(9), False, "BASE", "HCHC", "HCHP", "EJPHN", "EJPHPM", "BBRHCJB", "BBRHPJB",
     "BBRHCJW", "BBRHPJW", "BBRHCJR", "BBRHPJR")
_add(HIST, ("oneof", "TH..", "HC..", "HP..", "HN..", "PM..", "HCJB", "HCJW", "HCJR", "HPJB",
            "HPJW", "HPJR"), False, "PTEC")
_add(HIST, ("oneof", "----", "BLEU", "BLAN", "ROUG"), False, "DEMAIN")
_add(HIST, _digits(3), False, "IINST", "IINST1", "IINST2", "IINST3", "ADPS", "ADIR1", "ADIR2",
     "ADIR3", "IMAX", "IMAX1", "IMAX2", "IMAX3")
_add(HIST, _digits(5), False, "PMAX", "PAPP")
_add(HIST, ("letter",), False, "HHPHC")
_add(HIST, ("alnum", 6), False, "MOTDETAT")
_add(HIST, ("ppot",), False, "PPOT")

# Standard.
_add(STD, ("id", 12), False, "ADSC")
_add(STD, ("id", 14), False, "PRM")
_add(STD, _digits(2), False, "VTIC", "PREF", "PCOUP", "NJOURF", "NJOURF+1")
_add(STD, ("empty",), True, "DATE")
_add(STD, ("text", 16), False, "NGTF", "LTARF", "MSG2")
_add(STD, ("text", 32), False, "MSG1")
_add(STD, _digits(9), False, "EAST", "EAIT", "ERQ1", "ERQ2", "ERQ3", "ERQ4",
     *["EASF%02d" % i for i in range(1, 11)], *["EASD%02d" % i for i in range(1, 5)])
_add(STD, _digits(3), False, "IRMS1", "IRMS2", "IRMS3", "URMS1", "URMS2", "URMS3")
_add(STD, _digits(5), False, "SINSTS", "SINSTS1", "SINSTS2", "SINSTS3", "SINSTI")
_add(STD, _digits(5), True, "SMAXSN", "SMAXSN1", "SMAXSN2", "SMAXSN3", "SMAXSN-1", "SMAXSN1-1",
     "SMAXSN2-1", "SMAXSN3-1", "SMAXIN", "SMAXIN-1", "CCASN", "CCASN-1", "CCAIN", "CCAIN-1")
_add(STD, _digits(3), True, "UMOY1", "UMOY2", "UMOY3")
_add(STD, ("stge",), False, "STGE")
_add(STD, _digits(2), True, "DPM1", "DPM2", "DPM3", "FPM1", "FPM2", "FPM3")
_add(STD, ("relais",), False, "RELAIS")
_add(STD, _digits(2, 1, 10), False, "NTARF")
_add(STD, ("profile",), False, "PJOURF+1", "PPOINTE")
# VTIC 01 "pilot" meters (hekmon/linkytic #42), as in the C table.
_add(STD, _digits(5), False, "SINST1", "SINST2", "SINST3")
_add(STD, _digits(5), True, "SMAXN", "SMAXN1", "SMAXN2", "SMAXN3", "SMAXN-1", "SMAXN1-1",
     "SMAXN2-1", "SMAXN3-1")

DIGITS = set("0123456789")
UPPER = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
HEX = DIGITS | set("ABCDEF")
LABEL_CHARS = DIGITS | UPPER | set("+-")


def text(s):
    """Free text: printable ASCII but the backquote, which no meter sends and which a space
    becomes when its bit 6 flips, invisible to the 6-bit checksum (docs/tic.md §11)."""
    return all(0x20 <= ord(c) <= 0x7E and c != "`" for c in s)


def profile_ok(v):
    """1 to 11 blocks HHMMSSSS (SSSS upper-case hex) or NONUTILE, one SP between blocks."""
    blocks = v.split(" ")
    if not 1 <= len(blocks) <= 11:
        return False
    for b in blocks:
        if b == "NONUTILE":
            continue
        if len(b) != 8 or not set(b[:4]) <= DIGITS or not set(b[4:]) <= HEX:
            return False
        if int(b[:2]) > 23 or int(b[2:4]) > 59:
            return False
    return True


def value_ok(fmt, v):
    kind = fmt[0]
    if kind == "digits":
        _, width, lo, hi = fmt
        if len(v) != width or not set(v) <= DIGITS:
            return False
        return lo is None or lo <= int(v) <= hi
    if kind == "id":
        return len(v) == fmt[1] and set(v) <= DIGITS
    if kind == "text":
        return 1 <= len(v) <= fmt[1] and text(v)
    if kind == "empty":
        return v == ""
    if kind == "optarif":
        return v in ("BASE", "HC..", "EJP.") or (len(v) == 4 and v.startswith("BBR")
                                                 and text(v[3]))
    if kind == "oneof":
        return v in fmt[1:]
    if kind == "letter":
        return len(v) == 1 and v in UPPER
    if kind == "alnum":
        return len(v) == fmt[1] and set(v) <= DIGITS | UPPER
    if kind == "ppot":
        return len(v) == 2 and v[0] == "0" and v[1] in HEX
    if kind == "stge":
        return len(v) == 8 and set(v) <= HEX
    if kind == "relais":
        return len(v) == 3 and set(v) <= DIGITS and int(v) <= 255
    if kind == "profile":
        return profile_ok(v)
    raise AssertionError(kind)


def horodate_parse(h):
    """SAAMMJJhhmmss -> (iso, degraded) or None. docs/tic.md §4."""
    if len(h) != 13 or h[0] not in "EHeh " or not set(h[1:]) <= DIGITS:
        return None
    yy, mo, dd, hh, mi, ss = (int(h[i:i + 2]) for i in range(1, 13, 2))
    if not (1 <= mo <= 12 and hh <= 23 and mi <= 59 and ss <= 59):
        return None
    if not 1 <= dd <= calendar.monthrange(2000 + yy, mo)[1]:
        return None     # a date that does not exist (31 April, 29 February 2023)
    iso = "%04d-%02d-%02dT%02d:%02d:%02d" % (2000 + yy, mo, dd, hh, mi, ss)
    offset = {"E": "+02:00", "e": "+02:00", "H": "+01:00", "h": "+01:00", " ": ""}[h[0]]
    return iso + offset, h[0] in "eh"


# ---- Typed values (docs/tic.md §7.1, §8) -------------------------------------------------

STGE_BREAKER = ["closed", "open_overload", "open_overvoltage", "open_load_shedding",
                "open_remote_order", "open_overheat", "open_overheat_low_current", "?"]
STGE_EURIDIS = ["disabled", "enabled", "invalid", "enabled_secured"]
STGE_CPL = ["new_unlocked", "new_locked", "registered", "invalid"]
TEMPO = ["none", "bleu", "blanc", "rouge"]
CONTACT = ["none", "tempo", "open", "close"]


def stge_typed(v):
    r = int(v, 16)

    def bits(lo, n):
        return (r >> lo) & ((1 << n) - 1)

    return {
        "raw": v,
        "dry_contact": "open" if bits(0, 1) else "closed",
        "breaker": STGE_BREAKER[bits(1, 3)],
        "cover_open": bool(bits(4, 1)),
        "overvoltage": bool(bits(6, 1)),
        "overload": bool(bits(7, 1)),
        "producer": bool(bits(8, 1)),
        "injecting": bool(bits(9, 1)),
        "supplier_index": bits(10, 4) + 1,
        "distributor_index": bits(14, 2) + 1,
        "clock_degraded": bool(bits(16, 1)),
        "tic_mode": "standard" if bits(17, 1) else "historique",
        "euridis": STGE_EURIDIS[bits(19, 2)],
        "cpl": STGE_CPL[bits(21, 2)],
        "cpl_synchronised": bool(bits(23, 1)),
        "tempo_today": TEMPO[bits(24, 2)],
        "tempo_tomorrow": TEMPO[bits(26, 2)],
        "peak_notice": bits(28, 2),
        "peak": bits(30, 2),
    }


def profile_typed(v):
    slots = []
    for b in v.split(" "):
        if b == "NONUTILE":
            continue
        action = int(b[4:], 16)
        index = action & 0xF
        slots.append({
            "start": b[:2] + ":" + b[2:4],
            "supplier_index": index if 1 <= index <= 10 else 0,
            "dry_contact": CONTACT[(action >> 14) & 3],
            "virtual_contacts": (action >> 4) & 0x7F,
        })
    return {"raw": v, "slots": slots}


def typed_value(label, v):
    spec = LABELS.get(label)
    kind = spec[1][0] if spec else "text"
    if kind == "digits":
        return int(v)
    if kind == "text":
        return v.strip(" ")
    if kind == "stge":
        return stge_typed(v)
    if kind == "profile":
        return profile_typed(v)
    if kind == "relais":
        n = int(v)
        return {"value": n, "closed": [b + 1 for b in range(8) if n >> b & 1]}
    return v


def frame_json(frame, fmt):
    """One frame as linkyd prints it: compact JSON, keys in frame order."""
    out = {}
    if fmt == "typed":
        out["_mode"] = frame["mode"]
    for label, horodate, value in frame["groups"]:
        if fmt == "raw":
            out[label] = value if horodate is None else horodate + "|" + value
        elif horodate is None:
            out[label] = typed_value(label, value)
        else:
            iso, degraded = horodate_parse(horodate)
            o = {}
            if LABELS.get(label, (None, ("text",)))[1][0] != "empty":
                o["value"] = typed_value(label, value)
            o["date"] = iso
            if degraded:
                o["clock_degraded"] = True
            out[label] = o
    return json.dumps(out, separators=(",", ":"))


# ---- The decoder ----------------------------------------------------------------------------

class Reject(Exception):
    def __init__(self, err, why):
        super().__init__(why)
        self.err = err
        self.why = why


def checksum(data):
    return (sum(data) & 0x3F) + 0x20


class Decoder:
    """Byte-at-a-time decoder. Each rejection is logged in self.log as (offset, error, why, bytes)
    for --explain and for the hand check."""

    def __init__(self):
        self.frames = []
        self.stats = {"frames": 0, "groups": 0, "interrupted": 0, "empty": 0, "hist_excl": 0,
                      "hist_incl": 0, "skipped": 0}
        self.errors = dict.fromkeys(ERRORS, 0)
        self.log = []
        self.in_frame = False
        self.group = None   # bytes of the group in progress (after LF), or None between groups
        self.offset = 0

    def reject(self, err, why, data=b""):
        self.errors[err] += 1
        self.log.append((self.offset, err, why, bytes(data)))

    def interrupt(self, why):
        self.stats["interrupted"] += 1
        self.reject("framing", "frame interrupted: " + why, self.group or b"")
        self.in_frame = False
        self.group = None

    def start_frame(self):
        self.in_frame = True
        self.group = None
        self.cur = []        # valid groups: (label, horodate, value)
        self.cur_mode = None
        self.cur_bytes = 0   # bytes of the valid groups, for the frame limit

    def feed(self, data):
        for b in data:
            self.byte(b)
            self.offset += 1

    def finish(self):
        if self.in_frame:
            self.interrupt("end of input")

    def byte(self, b):
        if b & 0x80:
            if bin(b).count("1") % 2:
                if self.group is not None:
                    self.reject("byte", "8-bit byte 0x%02x with odd parity" % b, self.group)
                    self.group = None
                else:
                    self.stats["skipped"] += 1
                return
            b &= 0x7F
        if b == STX:
            if self.in_frame:
                self.interrupt("STX")
            self.start_frame()
        elif not self.in_frame:
            self.stats["skipped"] += 1
        elif b == ETX:
            if self.group is not None:
                self.reject("framing", "group cut by ETX", self.group)
            self.in_frame = False
            self.group = None
            if self.cur:
                self.frames.append({"mode": self.cur_mode, "groups": self.cur})
                self.stats["frames"] += 1
                self.stats["groups"] += len(self.cur)
            else:
                self.stats["empty"] += 1
                self.log.append((self.offset, "-", "frame without a valid group", b""))
        elif b == EOT:
            self.interrupt("EOT")
        elif self.group is None:
            if b == LF:
                self.group = bytearray()
            else:
                self.stats["skipped"] += 1
        elif b == CR:
            g, self.group = self.group, None
            self.end_group(g)
        elif b == LF:
            self.reject("framing", "group cut by LF (CR lost)", self.group)
            self.group = bytearray()
        elif b < 0x20 and b != HT or b == 0x7F:
            self.reject("byte", "control byte 0x%02x in a group" % b, self.group)
            self.group = None
        elif len(self.group) == GROUP_MAX or self.cur_bytes + len(self.group) == FRAME_BYTES:
            # The byte that does not fit is skipped, like the rest of the group up to the
            # next LF.
            self.reject("overlong", "group over %d bytes" % GROUP_MAX, self.group)
            self.group = None
            self.stats["skipped"] += 1
        else:
            self.group.append(b)

    def end_group(self, g):
        try:
            if len(self.cur) == FRAME_GROUPS:
                raise Reject("overlong", "more than %d groups" % FRAME_GROUPS)
            label, horodate, value, mode, incl = self.split(g)
            self.validate(label, horodate, value, mode)
        except Reject as r:
            self.reject(r.err, r.why, g)
            return
        self.cur_mode = mode
        self.cur.append((label, horodate, value))
        self.cur_bytes += len(g)
        if mode == HIST:
            self.stats["hist_incl" if incl else "hist_excl"] += 1

    @staticmethod
    def split(g):
        """Checksum, then the fields: docs/tic.md §3 and §4 (split from the end)."""
        if len(g) < 3:
            raise Reject("format", "group shorter than 3 bytes")
        c, sep, body = g[-1], g[-2], bytes(g[:-2])
        incl = False
        if sep == HT:
            mode = STD
            if checksum(g[:-1]) != c:
                raise Reject("checksum", "standard checksum %r, expected %r"
                             % (chr(c), chr(checksum(g[:-1]))))
        elif sep == SP:
            mode = HIST
            if checksum(body) != c:
                if checksum(g[:-1]) != c:
                    raise Reject("checksum", "historique checksum %r, expected %r (or %r)"
                                 % (chr(c), chr(checksum(body)), chr(checksum(g[:-1]))))
                incl = True
        else:
            raise Reject("format", "byte before the checksum is neither HT nor SP")
        # The label first: it runs up to the first separator of the group's mode.
        fields = body.split(bytes([sep]))
        if len(fields) < 2:
            raise Reject("format", "no separator between label and value")
        label = fields[0].decode("ascii")
        if not label:
            raise Reject("format", "empty label")
        if len(label) > LABEL_MAX:
            raise Reject("overlong", "label of %d characters" % len(label))
        if not set(label) <= LABEL_CHARS:
            raise Reject("format", "label %r has characters outside [A-Z0-9+-]" % label)
        if mode == HIST:
            # Historique: LABEL SP VALUE, the value never contains SP (docs/tic.md §3.1);
            # validate() checks.
            horodate, value = None, body[len(label) + 1:]
        elif len(fields) == 2:
            horodate, value = None, fields[1]
        elif len(fields) == 3:
            horodate, value = fields[1], fields[2]
            if len(horodate) != HORODATE_LEN:
                raise Reject("format", "horodate field of %d bytes" % len(horodate))
        else:
            raise Reject("format", "%d fields" % len(fields))
        if len(value) > VALUE_MAX:
            raise Reject("overlong", "value of %d characters" % len(value))
        return (label, None if horodate is None else horodate.decode("ascii"),
                value.decode("ascii"), mode, incl)

    def validate(self, label, horodate, value, mode):
        if self.cur_mode is not None and mode != self.cur_mode:
            raise Reject("format", "%s group in a %s frame" % (mode, self.cur_mode))
        if horodate is not None and horodate_parse(horodate) is None:
            raise Reject("format", "bad horodate %r" % horodate)
        if any(lb == label for lb, _, _ in self.cur):
            raise Reject("format", "duplicate label %s" % label)
        spec = LABELS.get(label)
        if spec:
            lmode, fmt, has_horodate = spec
            if lmode != mode:
                raise Reject("format", "%s label in a %s group" % (lmode, mode))
            if has_horodate != (horodate is not None):
                raise Reject("format", "horodate %s" % ("missing" if has_horodate
                                                        else "unexpected"))
            if not value_ok(fmt, value):
                raise Reject("format", "%s: value %r does not match %s" % (label, value, fmt))
        else:
            # Unknown label: free text; historique values never contain SP (docs/tic.md §3.1).
            if value == "" and (horodate is None or mode == HIST):
                raise Reject("format", "unknown label %s with an empty value" % label)
            if not text(value) or (mode == HIST and " " in value):
                raise Reject("format", "unknown label %s: value %r" % (label, value))


def decode(data):
    d = Decoder()
    d.feed(data)
    d.finish()
    return d


def summary(path, d):
    s, e = d.stats, d.errors
    return ("linkyd: %s: %d frames, %d groups; rejected groups: checksum %d, format %d, "
            "framing %d, overlong %d, byte %d; frames interrupted %d, empty %d; historique "
            "checksums %d (+%d summing the last SP); bytes skipped %d"
            % (path, s["frames"], s["groups"], e["checksum"], e["format"], e["framing"],
               e["overlong"], e["byte"], s["interrupted"], s["empty"], s["hist_excl"],
               s["hist_incl"], s["skipped"]))


def expected(d, fmt):
    return "".join(frame_json(f, fmt) + "\n" for f in d.frames)


def check(datadir):
    """Compare every capture's expected files with this decoder. Returns the number of
    mismatches; the summary is compared without the path, which differs between callers."""
    bad = 0
    for path in sorted(glob.glob(os.path.join(datadir, "*.tic"))):
        base = path[:-4]
        with open(path, "rb") as f:
            d = decode(f.read())
        for suffix, text in ((".typed.json", expected(d, "typed")),
                             (".raw.json", expected(d, "raw")),
                             (".summary", summary(os.path.basename(path), d) + "\n")):
            with open(base + suffix) as f:
                want = f.read()
            if suffix == ".summary":
                want = want.split(": ", 2)[2]
                text = text.split(": ", 2)[2]
            if want != text:
                bad += 1
                print("MISMATCH %s%s" % (os.path.basename(base), suffix))
                for i, (a, b) in enumerate(zip(want.splitlines(), text.splitlines())):
                    if a != b:
                        print("  line %d\n    file:      %s\n    reference: %s" % (i + 1, a, b))
                        break
                else:
                    print("  line counts differ: %d vs %d" % (want.count("\n"),
                                                               text.count("\n")))
        print("%-45s %s" % (os.path.basename(path), summary("", d).split(": ", 2)[2]))
    return bad


def main(argv):
    args = argv[1:]
    if len(args) == 2 and args[0] == "--check":
        return 1 if check(args[1]) else 0
    if len(args) == 2 and args[0] == "--explain":
        with open(args[1], "rb") as f:
            d = decode(f.read())
        for off, err, why, g in d.log:
            print("@%-6d %-9s %s: %r" % (off, err, why, g))
        print(summary(args[1], d))
        return 0
    fmt = "typed"
    if len(args) == 3 and args[1] == "--format" and args[2] in ("typed", "raw"):
        fmt = args[2]
    elif len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 64
    path = args[0]
    if path == "-":
        data, name = sys.stdin.buffer.read(), "<stdin>"
    else:
        with open(path, "rb") as f:
            data, name = f.read(), path
    d = decode(data)
    sys.stdout.write(expected(d, fmt))
    print(summary(name, d), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
