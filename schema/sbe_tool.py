#!/usr/bin/env python3
"""Independent reader of schema/qd.xml (no code shared with the C++ codec).

  sbe_tool.py validate              check the schema against SBE 1.0 rules
  sbe_tool.py markdown              print the message layout tables (docs/protocol.md)
  sbe_tool.py markdown --check F    fail unless F contains those tables verbatim
  sbe_tool.py golden --write DIR    encode tests/data/sbe/messages.json into DIR/<Name>.bin
  sbe_tool.py golden --check DIR    fail unless DIR holds exactly those bytes

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
    types, enums, composites, lengths = {}, {}, {}, {}
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
                        "offset": offset, "size": size, "since": since})
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
            groups.append({"name": g.attrib["name"], "fields": gfields, "block": gblock, "since": since})
        messages.append({"name": name, "id": mid, "fields": fields, "block": block, "groups": groups,
                         "description": m.attrib.get("description", "")})
    return {"id": int(root.attrib["id"]), "version": int(root.attrib["version"]),
            "types": types, "enums": enums, "messages": messages}


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
    if argv[1] == "golden" and len(argv) == 4:
        return 0 if golden(schema, argv[2], argv[3]) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
