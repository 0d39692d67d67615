#!/usr/bin/env python3
"""Independent reader of schema/qd.xml (no code shared with the C++ codec).

  sbe_tool.py validate              check the schema against SBE 1.0 rules
  sbe_tool.py markdown              print the message layout tables (docs/protocol.md)
  sbe_tool.py markdown --check F    fail unless F contains those tables verbatim
  sbe_tool.py golden --write DIR    encode tests/data/sbe/messages.json into DIR/<Name>.bin
  sbe_tool.py golden --check DIR    fail unless DIR holds exactly those bytes
  sbe_tool.py cpp OUT               write the C++ declarations (tickflow/sbe/schema.hpp) to OUT

The golden files are what the C++ codec must produce byte for byte, so the
codec is checked against the schema by a second, independent implementation.
"""
import json
import struct
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

SBE_NS = "http://fixprotocol.io/2016/sbe"
PRIMITIVES = {
    "char": ("c", 1), "int8": ("b", 1), "uint8": ("B", 1), "int16": ("h", 2), "uint16": ("H", 2),
    "int32": ("i", 4), "uint32": ("I", 4), "int64": ("q", 8), "uint64": ("Q", 8),
    "float": ("f", 4), "double": ("d", 8),
}
ROOT = Path(__file__).resolve().parent.parent


class SchemaError(Exception):
    pass


def load(path):
    root = ET.parse(path).getroot()
    if root.tag != "{%s}messageSchema" % SBE_NS:
        raise SchemaError("root element must be sbe:messageSchema")
    for attr in ("id", "version", "byteOrder", "package"):
        if attr not in root.attrib:
            raise SchemaError("messageSchema lacks %s" % attr)
    if root.attrib["byteOrder"] != "littleEndian":
        raise SchemaError("byteOrder must be littleEndian")
    types, enums, composites, lengths, nulls, enum_values = {}, {}, {}, {}, {}, {}
    for el in root.find("types"):
        name = el.attrib["name"]
        if name in types or name in enums or name in composites:
            raise SchemaError("type %s defined twice" % name)
        if el.tag == "type":
            prim = el.attrib["primitiveType"]
            if prim not in PRIMITIVES:
                raise SchemaError("type %s: unknown primitiveType %s" % (name, prim))
            types[name] = prim
            lengths[name] = int(el.attrib.get("length", "1"))
            if "nullValue" in el.attrib:
                nulls[name] = el.attrib["nullValue"]
            if lengths[name] != 1 and prim != "char":
                raise SchemaError("type %s: only char arrays are supported" % name)
        elif el.tag == "enum":
            enc = el.attrib["encodingType"]
            if enc not in ("uint8", "uint16", "char"):
                raise SchemaError("enum %s: encodingType %s not allowed" % (name, enc))
            values = {}
            limit = 1 << (8 * PRIMITIVES[enc][1])
            for v in el.findall("validValue"):
                n = int(v.text)
                if not 0 <= n < limit - 1:  # the top value is the null value
                    raise SchemaError("enum %s: %s=%d does not fit %s" % (name, v.attrib["name"], n, enc))
                if n in values.values():
                    raise SchemaError("enum %s: value %d repeated" % (name, n))
                values[v.attrib["name"]] = n
                enum_values.setdefault(name, []).append((v.attrib["name"], n, v.attrib.get("description", "")))
            enums[name] = (enc, values)
        elif el.tag == "composite":
            composites[name] = [(t.attrib["name"], t.attrib["primitiveType"]) for t in el.findall("type")]
    for required in ("messageHeader", "groupSizeEncoding"):
        if required not in composites:
            raise SchemaError("composite %s missing" % required)

    def field_prim(field_type):
        if field_type in types:
            return types[field_type]
        if field_type in enums:
            return enums[field_type][0]
        raise SchemaError("unknown field type %s" % field_type)

    def fields_of(el, where):
        out, offset, ids = [], 0, set()
        for f in el.findall("field"):
            prim = field_prim(f.attrib["type"])
            count = lengths.get(f.attrib["type"], 1)
            size = PRIMITIVES[prim][1] * count
            if "offset" in f.attrib and int(f.attrib["offset"]) != offset:
                raise SchemaError("%s.%s: offset mismatch" % (where, f.attrib["name"]))
            fid = int(f.attrib["id"])
            if fid in ids:
                raise SchemaError("%s: field id %d repeated" % (where, fid))
            ids.add(fid)
            since = int(f.attrib.get("sinceVersion", "0"))
            # SBE's extension rule: a field added by a later version goes after every older one,
            # so a decoder of the older version reads the block it knows and skips the rest.
            if out and since < out[-1]["since"]:
                raise SchemaError("%s.%s: sinceVersion %d after a field of version %d" % (
                    where, f.attrib["name"], since, out[-1]["since"]))
            out.append({"name": f.attrib["name"], "type": f.attrib["type"],
                        "prim": prim if count == 1 else "%s[%d]" % (prim, count), "char_array": count > 1,
                        "offset": offset, "size": size, "since": since,
                        "description": f.attrib.get("description", "")})
            offset += size
        return out, offset

    messages, ids = [], set()
    for m in root.findall("{%s}message" % SBE_NS):
        name, mid = m.attrib["name"], int(m.attrib["id"])
        if mid in ids:
            raise SchemaError("message id %d repeated" % mid)
        ids.add(mid)
        fields, block = fields_of(m, name)
        if int(m.attrib.get("blockLength", block)) != block:
            raise SchemaError("%s: blockLength %s but fields take %d" % (name, m.attrib["blockLength"], block))
        if not fields or fields[0]["name"] != "messageType" or fields[0]["type"] != "MessageType":
            raise SchemaError("%s: first field must be messageType" % name)
        if enums["MessageType"][1].get(name) != mid:
            raise SchemaError("%s: MessageType value must equal the template id %d" % (name, mid))
        groups = []
        for g in m.findall("group"):
            gfields, gblock = fields_of(g, name + "." + g.attrib["name"])
            if g.attrib.get("dimensionType", "groupSizeEncoding") not in composites:
                raise SchemaError("%s: unknown dimensionType" % name)
            since = int(g.attrib.get("sinceVersion", "0"))
            if groups and since < groups[-1]["since"]:
                raise SchemaError("%s.%s: sinceVersion %d after a group of version %d" % (
                    name, g.attrib["name"], since, groups[-1]["since"]))
            groups.append({"name": g.attrib["name"], "fields": gfields, "block": gblock, "since": since,
                           "description": g.attrib.get("description", "")})
        messages.append({"name": name, "id": mid, "fields": fields, "block": block, "groups": groups,
                         "description": m.attrib.get("description", "")})
    return {"id": int(root.attrib["id"]), "version": int(root.attrib["version"]),
            "types": types, "enums": enums, "messages": messages, "lengths": lengths, "nulls": nulls,
            "enum_values": enum_values,
            "header": sum(PRIMITIVES[p][1] for _, p in composites["messageHeader"]),
            "group_header": sum(PRIMITIVES[p][1] for _, p in composites["groupSizeEncoding"])}


def markdown(schema):
    lines = []
    for m in schema["messages"]:
        total = 8 + m["block"]
        extra = ""
        old = [f for f in m["fields"] if f["since"] <= 1]
        v1 = old[-1]["offset"] + old[-1]["size"] if old else 0
        if v1 != m["block"]:
            extra += " (version 1: %d)" % (8 + v1)
        for g in m["groups"]:
            since = " (since version %d)" % g["since"] if g["since"] > 1 else ""
            extra += " + 4 + %d × %s%s" % (g["block"], g["name"], since)
        lines.append("### %s (templateId %d) — %d bytes%s\n" % (m["name"], m["id"], total, extra))
        if m["description"]:
            lines.append(m["description"] + ".\n")
        lines.append("| offset | field | type | wire type | size |")
        lines.append("|---:|---|---|---|---:|")
        lines.append("| 0 | messageHeader | composite | 4 × uint16 | 8 |")
        for f in m["fields"]:
            since = " (since version %d)" % f["since"] if f["since"] > 1 else ""
            lines.append("| %d | %s%s | %s | %s | %d |" % (
                8 + f["offset"], f["name"], since, f["type"], f["prim"], f["size"]))
        off = "%d" % (8 + m["block"])
        for g in m["groups"]:
            lines.append("| %s | %s (group dimension) | groupSizeEncoding | 2 × uint16 | 4 |" % (off, g["name"]))
            for f in g["fields"]:
                lines.append("| %s + 4 + %d·i | %s[i].%s | %s | %s | %d |" % (
                    off, g["block"], g["name"], f["name"], f["type"], f["prim"], f["size"]))
            off = "end of %s" % g["name"]
        lines.append("")
    return "\n".join(lines)


def encode(schema, name, values):
    m = next(x for x in schema["messages"] if x["name"] == name)
    out = struct.pack("<HHHH", m["block"], m["id"], schema["id"], schema["version"])

    def pack(f, v):
        if f["char_array"]:
            data = v.encode("ascii")
            if len(data) > f["size"]:
                raise SchemaError("%s: '%s' is longer than %d bytes" % (f["name"], v, f["size"]))
            return data + b"\0" * (f["size"] - len(data))
        if f["type"] in ("Decimal", "DecimalHigh") and isinstance(v, str):
            whole, _, frac = v.partition(".")
            raw = (int(whole + frac) << 4) | len(frac)  # 128-bit: Decimal holds bits 63..0, DecimalHigh 127..64
            if f["type"] == "DecimalHigh":
                return struct.pack("<q", raw >> 64)
            return struct.pack("<Q", raw & ((1 << 64) - 1))
        if f["type"] in schema["enums"]:
            v = schema["enums"][f["type"]][1][v] if isinstance(v, str) else v
        return struct.pack("<" + PRIMITIVES[f["prim"]][0], v)

    for f in m["fields"]:
        out += pack(f, name if f["name"] == "messageType" else values[f["name"]])
    for g in m["groups"]:
        entries = values[g["name"]]
        out += struct.pack("<HH", g["block"], len(entries))
        for e in entries:
            for f in g["fields"]:
                out += pack(f, e[f["name"]])
    return out


def golden(schema, mode, directory):
    directory = Path(directory)
    spec = json.loads((ROOT / "tests/data/sbe/messages.json").read_text())
    bad = 0
    for name, values in spec.items():
        data = encode(schema, name, values)
        path = directory / (name + ".bin")
        if mode == "--write":
            path.write_bytes(data)
        elif not path.exists() or path.read_bytes() != data:
            print("golden mismatch: %s" % path)
            bad += 1
    missing = {x["name"] for x in schema["messages"]} - set(spec)
    if missing:
        print("messages without golden bytes: %s" % ", ".join(sorted(missing)))
        bad += 1
    print("%d golden messages %s" % (len(spec), "written" if mode == "--write" else "checked"))
    return bad == 0


# C++ for each schema type: (type, default initialiser or None for the type's own default).
# A field whose type is missing here stops the build, naming it: add its C++ type.
CPP_TYPES = {
    "ClientId": ("ClientId", "0"), "SymbolId": ("SymbolId", "0"), "GatewayId": ("std::uint16_t", "0"),
    "RequestId": ("RequestId", "0"), "SequenceNumber": ("std::uint32_t", "0"),
    "MessageCount": ("std::uint32_t", "0"), "OptionalSymbolId": ("SymbolId", "kNoSymbol"),
    "SymbolCount": ("std::uint16_t", "0"), "TradeCount": ("std::uint64_t", "0"),
    "UnixNanos": ("UnixNanos", None), "OptionalUnixNanos": ("UnixNanos", "UnixNanos::Min()"),
    "Decimal": ("Decimal", None), "KeyBits": ("std::uint64_t", "0"), "FrameCounter": ("std::uint64_t", "0"),
    "TagLow": ("std::uint64_t", "0"), "TagHigh": ("std::uint32_t", "0"),
    "SpeedPermille": ("std::uint32_t", "0"), "SymbolPattern": ("std::string", None),
}
# The high halves of wider values: field <x>High of this type joins field <x> into one C++ field.
HIGH_HALVES = {"SequenceHigh": {"std::uint32_t": "std::uint64_t"}, "DecimalHigh": {"Decimal": "WideDecimal"}}
# Enums declared by core (their C++ names are the library's): only their range is generated.
CORE_ENUMS = {"TimeResolution"}
# C++ field names that are not the snake_case of the schema's.
CPP_NAMES = {"fromTime": "from", "toTime": "to", "speed": "speed_permille", "errorCode": "code"}
CPP_INT = {"uint8": "std::uint8_t", "uint16": "std::uint16_t", "char": "char"}


def snake(name):
    return CPP_NAMES.get(name) or "".join("_" + c.lower() if c.isupper() else c for c in name)


def cpp_comment(text, indent=""):
    return "".join("%s// %s\n" % (indent, line) for line in text.split("\n")) if text else ""


def cpp(schema):
    out = ["// Generated by schema/sbe_tool.py cpp from schema/qd.xml at build time: do not edit.",
           "// The QD messages as plain values: ids, enum values, field types and block lengths",
           "// come from the schema; encoding and decoding are in tickflow/sbe/codec.hpp.",
           "#pragma once", "", "#include <cstdint>", "#include <string>", "#include <vector>", "",
           '#include "tickflow/core/decimal.hpp"', '#include "tickflow/core/ids.hpp"',
           '#include "tickflow/core/resolution.hpp"', '#include "tickflow/core/time.hpp"',
           '#include "tickflow/core/wide_decimal.hpp"', "", "namespace tickflow::sbe {", "",
           "inline constexpr std::uint16_t kSchemaId = %d;" % schema["id"],
           "inline constexpr std::uint16_t kSchemaVersion = %d;" % schema["version"],
           "inline constexpr std::size_t kHeaderSize = %d;  // messageHeader" % schema["header"],
           "inline constexpr std::size_t kGroupHeaderSize = %d;  // groupSizeEncoding" % schema["group_header"],
           "inline constexpr SymbolId kNoSymbol = %s;  // OptionalSymbolId's null value" % schema["nulls"]["OptionalSymbolId"],
           "inline constexpr std::size_t kMaxPatternLength = %d;  // SymbolPattern: char[%d], NUL-padded" % (
               schema["lengths"]["SymbolPattern"], schema["lengths"]["SymbolPattern"]), ""]
    for name, (enc, _) in schema["enums"].items():
        values = schema["enum_values"][name]
        lo, hi = min(v for _, v, _ in values), max(v for _, v, _ in values)
        contiguous = len(values) == hi - lo + 1
        if name in CORE_ENUMS:
            if lo != 0 or not contiguous:
                raise SchemaError("enum %s: a core enum must run from 0 without holes" % name)
            out += ["// %s is declared in core; the schema's values run 0..%d." % (name, hi),
                    "constexpr bool Valid(%s v) { return static_cast<std::uint8_t>(v) <= %d; }" % (name, hi), ""]
            continue
        out.append("enum class %s : %s {" % (name, CPP_INT[enc]))
        for vname, n, desc in values:
            out.append("  k%s = %d,%s" % (vname, n, "  // " + desc if desc else ""))
        out += ["};", ""]
        if contiguous:
            cond = "v <= %d" % hi if lo == 0 else "v >= %d && v <= %d" % (lo, hi)
            out += ["constexpr bool Valid(%s x) {" % name,
                    "  const auto v = static_cast<%s>(x);" % CPP_INT[enc], "  return %s;" % cond, "}"]
        else:
            out += ["constexpr bool Valid(%s x) {" % name, "  switch (x) {"]
            out += ["    case %s::k%s:" % (name, vname) for vname, _, _ in values]
            out += ["      return true;", "  }", "  return false;", "}"]
        out += ["constexpr const char* ToString(%s x) {" % name, "  switch (x) {"]
        for vname, _, desc in values:
            out.append('    case %s::k%s: return "%s";' % (name, vname, (desc or vname).replace('"', '\\"')))
        out += ["  }", '  return "undefined %s";' % name, "}", ""]

    def cpp_type(type_name, where):
        if type_name in schema["enums"]:
            first = schema["enum_values"][type_name][0]
            if type_name in CORE_ENUMS:
                return type_name, "%s{}" % type_name
            return type_name, "%s::k%s" % (type_name, first[0])
        if type_name not in CPP_TYPES:
            raise SchemaError("%s: type %s has no C++ type: add it to CPP_TYPES in schema/sbe_tool.py" % (where, type_name))
        return CPP_TYPES[type_name]

    for m in schema["messages"]:
        fields = []  # [name, type, default, description]
        for f in m["fields"][1:]:  # messageType is the message's kType
            where = "%s.%s" % (m["name"], f["name"])
            if f["type"] in HIGH_HALVES:
                low = next((x for x in fields if x[0] == snake(f["name"][:-len("High")])), None)
                wider = HIGH_HALVES[f["type"]].get(low[1]) if low and f["name"].endswith("High") else None
                if wider is None:
                    raise SchemaError("%s: a %s must follow the field it extends, named <field>High" % (where, f["type"]))
                low[1] = wider
                low[3] = "%s and %s as one value" % (f["name"][:-len("High")], f["name"])
                continue
            t, d = cpp_type(f["type"], where)
            fields.append([snake(f["name"]), t, d, f["description"]])
        out.append(cpp_comment(m["description"]).rstrip("\n"))
        out.append("struct %s {" % m["name"])
        out.append("  static constexpr MessageType kType = MessageType::k%s;" % m["name"])
        out.append("  static constexpr std::uint16_t kBlockLength = %d;" % m["block"])
        old = [f for f in m["fields"] if f["since"] <= 1]
        v1 = old[-1]["offset"] + old[-1]["size"]
        if v1 != m["block"]:
            out.append("  static constexpr std::uint16_t kMinBlockLength = %d;  // version 1" % v1)
        for g in m["groups"]:
            if len(g["fields"]) != 1:
                raise SchemaError("%s.%s: only groups of one field have a C++ form" % (m["name"], g["name"]))
            singular = g["name"][0].upper() + g["name"][1:].removesuffix("s")
            out.append("  static constexpr std::uint16_t k%sBlockLength = %d;" % (singular, g["block"]))
        for name, t, d, desc in fields:
            out.append(cpp_comment(desc, "  ") + "  %s %s%s;" % (t, name, " = " + d if d else ""))
        for g in m["groups"]:
            t, _ = cpp_type(g["fields"][0]["type"], m["name"] + "." + g["name"])
            desc = g.get("description", "")
            out.append(cpp_comment(desc, "  ") + "  std::vector<%s> %s;" % (t, snake(g["name"])))
        decimals = [n for n, t, _, _ in fields if t in ("Decimal", "WideDecimal")]
        if decimals:  # the same digits and scale, not only the same value: 1.50 is not 1.5 on the wire
            terms = ["a.%s.SameRepresentation(b.%s)" % (n, n) if n in decimals else "a.%s == b.%s" % (n, n)
                     for n, _, _, _ in fields]
            out.append("  friend bool operator==(const %s& a, const %s& b) {" % (m["name"], m["name"]))
            out.append("    return " + " &&\n           ".join(terms) + ";")
            out.append("  }")
        else:
            out.append("  friend bool operator==(const %s&, const %s&) = default;" % (m["name"], m["name"]))
        out += ["};", ""]
    out += ["}  // namespace tickflow::sbe", ""]
    return "\n".join(out)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    try:
        schema = load(ROOT / "schema/qd.xml")
    except (SchemaError, KeyError, ValueError) as e:
        print("schema/qd.xml: invalid: %s" % e, file=sys.stderr)
        return 1
    if argv[1] == "validate":
        print("schema/qd.xml: valid, %d messages" % len(schema["messages"]))
        return 0
    if argv[1] == "markdown" and len(argv) == 4 and argv[2] == "--check":
        if markdown(schema) not in Path(argv[3]).read_text():
            print("%s is out of date: regenerate its tables with sbe_tool.py markdown" % argv[3])
            return 1
        print("%s matches the schema" % argv[3])
        return 0
    if argv[1] == "markdown":
        print(markdown(schema))
        return 0
    if argv[1] == "cpp" and len(argv) == 3:
        try:
            text = cpp(schema)
        except SchemaError as e:
            print("schema/qd.xml: no C++ form: %s" % e, file=sys.stderr)
            return 1
        out = Path(argv[2])
        if not out.exists() or out.read_text() != text:  # unchanged: keep the timestamp, rebuild nothing
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text)
        return 0
    if argv[1] == "golden" and len(argv) == 4:
        return 0 if golden(schema, argv[2], argv[3]) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
