-- Wireshark dissector for UTCP, identity-addressed reliable streams, version 1 (docs/utcp.md), on
-- EtherType 0x88B5. Written from the spec: every header field, the flags one by one, the cleartext
-- handshake bodies (HELLO, WELCOME, CONFIRM) field by field, and each sealed body as its
-- ChaCha20-Poly1305 ciphertext and tag with the nonce it was sealed under (never decrypted: the
-- keys never leave the nodes). Every rule of sections 3 and 4 a frame breaks is expert info.
--
--   wireshark -X lua_script:tools/wireshark/utcp.lua capture.pcap
--   tshark -r capture.pcap -X lua_script:tools/wireshark/utcp.lua -T fields -e utcp.type -e utcp.sequence
--
-- Or copy it to ~/.local/lib/wireshark/plugins/. Needs Wireshark 3.x or later (Lua 5.2, bit32).

local utcp = Proto("utcp", "UTCP Identity-Addressed Streams")

local HEADER_LEN, FRAME_MAX, TAG_LEN, WINDOW_MAX, VERSION = 56, 1472, 16, 4096, 1
local FLAG = { KEY_PHASE = 0x01, REPLY = 0x02 }
local SPACE = { STREAM = 0, CONTROL = 1 }

-- Section 4, one row per type: name, sealed, sequence space, and the body lengths allowed
-- (`min`..`max`, and for NACK 10 + 16 n plaintext). REPLY: whether the flag may be set.
local TYPES = {
    [0x01] = { name = "HELLO",   len = 128 },
    [0x02] = { name = "WELCOME", len = 128 },
    [0x03] = { name = "CONFIRM", len = 160 },
    [0x04] = { name = "DATA",    sealed = true, space = SPACE.STREAM,  min = 16, max = 1416, stream = true },
    [0x05] = { name = "NACK",    sealed = true, space = SPACE.CONTROL, nack = true, reply = true },
    [0x06] = { name = "WINDOW",  sealed = true, space = SPACE.CONTROL, len = 24, reply = true },
    [0x07] = { name = "SYNC",    sealed = true, space = SPACE.CONTROL, len = 24 },
    [0x08] = { name = "FIN",     sealed = true, space = SPACE.STREAM,  len = 16, stream = true },
    [0x09] = { name = "RESET",   sealed = true, space = SPACE.CONTROL, len = 17 },
    [0x0A] = { name = "PING",    sealed = true, space = SPACE.CONTROL, len = 24, reply = true },
}
local TYPE_NAMES = {}
for k, t in pairs(TYPES) do TYPE_NAMES[k] = t.name end
local SPACE_NAMES = { [SPACE.STREAM] = "stream", [SPACE.CONTROL] = "control" }
local NACK_FIXED, NACK_RANGE, NACK_RANGES_MAX = 10, 16, 64

local f = utcp.fields
f.version        = ProtoField.uint8("utcp.version", "Version", base.DEC)
f.type           = ProtoField.uint8("utcp.type", "Type", base.HEX, TYPE_NAMES)
f.flags          = ProtoField.uint8("utcp.flags", "Flags", base.HEX)
f.key_phase      = ProtoField.bool("utcp.flags.key_phase", "Key phase (epoch mod 2)", 8, nil, FLAG.KEY_PHASE)
f.reply          = ProtoField.bool("utcp.flags.reply", "Reply", 8, nil, FLAG.REPLY)
f.flags_reserved = ProtoField.uint8("utcp.flags.reserved", "Reserved bits (must be 0)", base.HEX, nil, 0xFC)
f.reserved       = ProtoField.uint8("utcp.reserved", "Reserved", base.HEX)
f.dst            = ProtoField.bytes("utcp.dst", "Destination CellID", base.NONE)
f.src            = ProtoField.bytes("utcp.src", "Source CellID", base.NONE)
f.session        = ProtoField.uint32("utcp.session", "Session id", base.HEX)
f.stream         = ProtoField.uint16("utcp.stream", "Stream id", base.DEC)
f.length         = ProtoField.uint16("utcp.length", "Body length", base.DEC)
f.sequence       = ProtoField.uint64("utcp.sequence", "Sequence", base.DEC)
f.window         = ProtoField.uint32("utcp.window", "Receive window (frames)", base.DEC)
f.hello_eph      = ProtoField.bytes("utcp.hello.ephemeral", "Initiator's ephemeral X25519 key", base.NONE)
f.hello_pk       = ProtoField.bytes("utcp.hello.public_key", "Initiator's Ed25519 public key", base.NONE)
f.hello_padding  = ProtoField.bytes("utcp.hello.padding", "Padding (64 zero bytes: no amplification)", base.NONE)
f.hello_pad_zero = ProtoField.bool("utcp.hello.padding_zero", "Padding all zero")
f.welcome_eph    = ProtoField.bytes("utcp.welcome.ephemeral", "Responder's ephemeral X25519 key", base.NONE)
f.welcome_pk     = ProtoField.bytes("utcp.welcome.public_key", "Responder's Ed25519 public key", base.NONE)
f.welcome_sig    = ProtoField.bytes("utcp.welcome.signature", "Responder's signature over the transcript", base.NONE)
f.confirm_eph_i  = ProtoField.bytes("utcp.confirm.initiator_ephemeral", "Initiator's ephemeral X25519 key", base.NONE)
f.confirm_eph_r  = ProtoField.bytes("utcp.confirm.responder_ephemeral", "Responder's ephemeral X25519 key", base.NONE)
f.confirm_pk     = ProtoField.bytes("utcp.confirm.public_key", "Initiator's Ed25519 public key", base.NONE)
f.confirm_sig    = ProtoField.bytes("utcp.confirm.signature", "Initiator's signature over the transcript", base.NONE)
f.space          = ProtoField.uint32("utcp.space", "Sequence space", base.DEC, SPACE_NAMES)
f.nonce          = ProtoField.bytes("utcp.nonce", "Nonce (space || sequence)", base.NONE)
f.ciphertext     = ProtoField.bytes("utcp.ciphertext", "Ciphertext (ChaCha20-Poly1305)", base.NONE)
f.plaintext_len  = ProtoField.uint16("utcp.plaintext_length", "Plaintext length", base.DEC)
f.tag            = ProtoField.bytes("utcp.tag", "Poly1305 tag", base.NONE)
f.body           = ProtoField.bytes("utcp.body", "Body (not decoded)", base.NONE)

local function expert_malformed(name, text)
    return ProtoExpert.new(name, text, expert.group.MALFORMED, expert.severity.ERROR)
end
local e = {
    short      = expert_malformed("utcp.short", "Shorter than the 56-byte UTCP header"),
    version    = expert_malformed("utcp.version.bad", "Version is not 1: the rest is not decoded"),
    length     = expert_malformed("utcp.length.bad", "Body length is not the frame's length minus 56"),
    too_long   = expert_malformed("utcp.too_long", "Longer than 1472 bytes"),
    type       = expert_malformed("utcp.type.unknown", "Unknown type"),
    body_len   = expert_malformed("utcp.length.type_bad", "Body length not allowed for this type"),
    flags      = expert_malformed("utcp.flags.bad", "Flags not allowed for this type"),
    reserved   = expert_malformed("utcp.reserved.bad", "Reserved byte is not 0"),
    stream     = expert_malformed("utcp.stream.bad", "Stream id: 1..65535 for DATA and FIN, 0 otherwise"),
    session    = expert_malformed("utcp.session.zero", "Session id 0"),
    sequence   = expert_malformed("utcp.sequence.bad", "Sequence: 0 in the handshake, from 1 in sealed frames"),
    window     = expert_malformed("utcp.window.bad", "Window above 4096 frames"),
    same_ends  = expert_malformed("utcp.src.is_dst", "Source CellID equals the destination"),
    padding    = expert_malformed("utcp.hello.padding.bad", "HELLO padding is not all zero"),
}
utcp.experts = { e.short, e.version, e.length, e.too_long, e.type, e.body_len, e.flags, e.reserved, e.stream,
                 e.session, e.sequence, e.window, e.same_ends, e.padding }

-- The header after the flags byte: (name, field, offset, length), in wire order (section 3).
local HEADER_FIELDS = {
    { "reserved", f.reserved, 3, 1 }, { "dst", f.dst, 4, 16 }, { "src", f.src, 20, 16 },
    { "session", f.session, 36, 4 }, { "stream", f.stream, 40, 2 }, { "length", f.length, 42, 2 },
    { "sequence", f.sequence, 44, 8 }, { "window", f.window, 52, 4 },
}

-- The cleartext handshake bodies, field by field (section 4).
local HANDSHAKE_BODIES = {
    [0x01] = { { f.hello_eph, 0, 32 }, { f.hello_pk, 32, 32 }, { f.hello_padding, 64, 64 } },
    [0x02] = { { f.welcome_eph, 0, 32 }, { f.welcome_pk, 32, 32 }, { f.welcome_sig, 64, 64 } },
    [0x03] = { { f.confirm_eph_i, 0, 32 }, { f.confirm_eph_r, 32, 32 }, { f.confirm_pk, 64, 32 },
               { f.confirm_sig, 96, 64 } },
}

-- The header from the flags on; returns its tree items by name, for the rules to flag.
local function dissect_header(tvb, tree)
    local items = { flags = tree:add(f.flags, tvb(2, 1)) }
    for _, field in ipairs({ f.key_phase, f.reply, f.flags_reserved }) do
        items.flags:add(field, tvb(2, 1))
    end
    for _, h in ipairs(HEADER_FIELDS) do
        items[h[1]] = tree:add(h[2], tvb(h[3], h[4]))
    end
    return items
end

local function body_length_ok(t, length)
    if t.len then return length == t.len end
    if t.nack then
        local ranges = (length - TAG_LEN - NACK_FIXED) / NACK_RANGE
        return ranges >= 1 and ranges <= NACK_RANGES_MAX and ranges == math.floor(ranges)
    end
    return length >= t.min and length <= t.max
end

-- Sections 3 and 4's rules on the header a dissector can see without keys: (item to flag, expert,
-- whether the rule holds), in header order.
local function header_rules(tvb, t, items)
    local flags, stream = tvb(2, 1):uint(), tvb(40, 2):uint()
    local sequence, length = tvb(44, 8):uint64(), tvb(42, 2):uint()
    local allowed = 0
    if t.sealed then allowed = FLAG.KEY_PHASE + (t.reply and FLAG.REPLY or 0) end
    return {
        { items.flags, e.flags, bit32.band(flags, bit32.bnot(allowed)) == 0 },
        { items.reserved, e.reserved, tvb(3, 1):uint() == 0 },
        { items.src, e.same_ends, tostring(tvb(4, 16):bytes()) ~= tostring(tvb(20, 16):bytes()) },
        { items.session, e.session, tvb(36, 4):uint() ~= 0 },
        { items.stream, e.stream, (t.stream and stream ~= 0) or (not t.stream and stream == 0) },
        { items.length, e.body_len, body_length_ok(t, length) },
        { items.sequence, e.sequence, (t.sealed and sequence ~= UInt64(0)) or (not t.sealed and sequence == UInt64(0)) },
        { items.window, e.window, tvb(52, 4):uint() <= WINDOW_MAX },
    }
end

-- Returns false when the body breaks a rule (the HELLO's padding).
local function dissect_handshake(body, ftype, tree)
    for _, h in ipairs(HANDSHAKE_BODIES[ftype]) do
        tree:add(h[1], body(h[2], h[3]))
    end
    if ftype ~= 0x01 then return true end
    local zero = tostring(body(64, 64):bytes()) == string.rep("00", 64)
    local item = tree:add(f.hello_pad_zero, zero):set_generated()
    if not zero then item:add_proto_expert_info(e.padding) end
    return zero
end

local function dissect_sealed(tvb, body, t, tree)
    tree:add(f.space, t.space):set_generated()
    -- The nonce is on the wire only in part (the space is the type's): shown from its own bytes.
    local nonce = ByteArray.new(string.format("%08x", t.space)) .. tvb(44, 8):bytes()
    tree:add(f.nonce, nonce:tvb("UTCP nonce")(0, 12)):set_generated()
    local n = body:len()
    if n < TAG_LEN then return end
    tree:add(f.plaintext_len, n - TAG_LEN):set_generated()
    if n > TAG_LEN then tree:add(f.ciphertext, body(0, n - TAG_LEN)) end
    tree:add(f.tag, body(n - TAG_LEN, TAG_LEN))
end

function utcp.dissector(tvb, pinfo, tree)
    local size = tvb:len()
    pinfo.cols.protocol = "UTCP"
    local root = tree:add(utcp, tvb(), "UTCP Identity-Addressed Streams")
    if size < HEADER_LEN then
        root:add_proto_expert_info(e.short)
        pinfo.cols.info = string.format("UTCP frame of %d bytes [SHORT]", size)
        return size
    end
    local version = root:add(f.version, tvb(0, 1))
    if tvb(0, 1):uint() ~= VERSION then
        version:add_proto_expert_info(e.version)
        pinfo.cols.info = string.format("UTCP version %d [BAD VERSION]", tvb(0, 1):uint())
        return size
    end
    local ftype = tvb(1, 1):uint()
    local type_item = root:add(f.type, tvb(1, 1))
    local items = dissect_header(tvb, root)
    local length = tvb(42, 2):uint()
    local notes = {}
    if size > FRAME_MAX then
        root:add_proto_expert_info(e.too_long)
        notes[#notes + 1] = "TOO LONG"
    end
    local length_ok = HEADER_LEN + length == size
    if not length_ok then
        root:add_proto_expert_info(e.length)
        notes[#notes + 1] = "BAD LENGTH"
    end
    local t = TYPES[ftype]
    if not t then
        type_item:add_proto_expert_info(e.type)
        notes[#notes + 1] = "UNKNOWN TYPE"
    else
        for _, rule in ipairs(header_rules(tvb, t, items)) do
            if not rule[3] then
                rule[1]:add_proto_expert_info(rule[2])
                notes[#notes + 1] = "MALFORMED"
            end
        end
    end
    if length_ok and length > 0 then
        local body = tvb(HEADER_LEN, length)
        if t and not t.sealed and length == t.len then
            if not dissect_handshake(body, ftype, root) then notes[#notes + 1] = "MALFORMED" end
        elseif t and t.sealed then
            dissect_sealed(tvb, body, t, root)
        else
            root:add(f.body, body)
        end
    end

    local info = string.format("%s %s -> %s session=0x%08x", TYPE_NAMES[ftype] or string.format("type 0x%02x", ftype),
                               tostring(tvb(20, 4):bytes()), tostring(tvb(4, 4):bytes()), tvb(36, 4):uint())
    if t and t.stream then info = info .. string.format(" stream=%d", tvb(40, 2):uint()) end
    if t and t.sealed then info = info .. string.format(" seq=%s", tostring(tvb(44, 8):uint64())) end
    info = info .. string.format(" len=%d window=%d", length, tvb(52, 4):uint())
    if #notes > 0 then info = info .. " [" .. notes[1] .. "]" end
    pinfo.cols.info = info
    return size
end

DissectorTable.get("ethertype"):add(0x88B5, utcp)
