-- Wireshark dissector for LWF, the Libertaria Wire Frame, version 1 (docs/lwf.md), on EtherType
-- 0x4C57. Written from the spec: every header field, the flags one by one, the frame class, the
-- payload and padding, the signature when SIGNED, the CRC-32C checked, the ANNOUNCE body.
-- The payload of DATA is XChaCha20-Poly1305 ciphertext: shown as bytes, never decrypted.
--
--   wireshark -X lua_script:tools/wireshark/lwf.lua capture.pcap
--   tshark -r capture.pcap -X lua_script:tools/wireshark/lwf.lua -T fields -e lwf.type -e lwf.crc.status
--
-- Or copy it to ~/.local/lib/wireshark/plugins/. Needs Wireshark 3.x or later (Lua 5.2, bit32).

local lwf = Proto("lwf", "Libertaria Wire Frame")

local HEADER_LEN, SIGNATURE_LEN, CRC_LEN, TAG_LEN = 84, 64, 4, 16
local ANNOUNCE_BODY_LEN = 40
local CLASSES = { [128] = true, [512] = true, [1350] = true }

local FLAG = { ENCRYPTED = 0x01, SIGNED = 0x02, RELAYABLE = 0x04, FRAGMENTED = 0x08, PRIORITY = 0x10 }
local TYPES = { [1] = "DATA", [2] = "ANNOUNCE" }
local SOLICIT = { [0] = "no", [1] = "yes (answer with your own ANNOUNCE)" }

local f = lwf.fields
f.magic          = ProtoField.uint16("lwf.magic", "Magic", base.HEX)
f.version        = ProtoField.uint8("lwf.version", "Version", base.DEC)
f.flags          = ProtoField.uint8("lwf.flags", "Flags", base.HEX)
f.encrypted      = ProtoField.bool("lwf.flags.encrypted", "Encrypted", 8, nil, FLAG.ENCRYPTED)
f.signed         = ProtoField.bool("lwf.flags.signed", "Signed", 8, nil, FLAG.SIGNED)
f.relayable      = ProtoField.bool("lwf.flags.relayable", "Relayable", 8, nil, FLAG.RELAYABLE)
f.fragmented     = ProtoField.bool("lwf.flags.fragmented", "Fragmented", 8, nil, FLAG.FRAGMENTED)
f.priority       = ProtoField.bool("lwf.flags.priority", "Priority", 8, nil, FLAG.PRIORITY)
f.flags_reserved = ProtoField.uint8("lwf.flags.reserved", "Reserved bits (must be 0)", base.HEX, nil, 0xE0)
f.type           = ProtoField.uint8("lwf.type", "Type", base.DEC, TYPES)
f.hop_limit      = ProtoField.uint8("lwf.hop_limit", "Hop limit", base.DEC)
f.service        = ProtoField.uint16("lwf.service", "Service", base.DEC)
f.src            = ProtoField.bytes("lwf.src", "Source CellID", base.NONE)
f.dst            = ProtoField.bytes("lwf.dst", "Destination CellID", base.NONE)
f.sequence       = ProtoField.uint64("lwf.sequence", "Sequence", base.DEC)
f.message_id     = ProtoField.uint32("lwf.message_id", "Message id", base.HEX)
f.frag_index     = ProtoField.uint16("lwf.fragment_index", "Fragment index", base.DEC)
f.frag_count     = ProtoField.uint16("lwf.fragment_count", "Fragment count", base.DEC)
f.payload_length = ProtoField.uint16("lwf.payload_length", "Payload length", base.DEC)
f.src_service    = ProtoField.uint16("lwf.src_service", "Source service", base.DEC)
f.nonce          = ProtoField.bytes("lwf.nonce", "Nonce", base.NONE)
f.class          = ProtoField.uint16("lwf.class", "Frame class (bytes)", base.DEC)
f.payload        = ProtoField.bytes("lwf.payload", "Payload", base.NONE)
f.ciphertext_len = ProtoField.uint16("lwf.plaintext_length", "Plaintext length (payload - tag)", base.DEC)
f.padding        = ProtoField.uint16("lwf.padding", "Padding (bytes)", base.DEC)
f.padding_zero   = ProtoField.bool("lwf.padding.zero", "Padding all zero")
f.sig_present    = ProtoField.bool("lwf.signature.present", "Signature present")
f.signature      = ProtoField.bytes("lwf.signature", "Ed25519 signature", base.NONE)
f.crc            = ProtoField.uint32("lwf.crc", "CRC-32C", base.HEX)
f.crc_computed   = ProtoField.uint32("lwf.crc.computed", "CRC-32C computed", base.HEX)
f.crc_status     = ProtoField.string("lwf.crc.status", "CRC-32C status")
f.ann_public_key = ProtoField.bytes("lwf.announce.public_key", "Public key (Ed25519)", base.NONE)
f.ann_mac        = ProtoField.ether("lwf.announce.mac", "MAC")
f.ann_solicit    = ProtoField.uint8("lwf.announce.solicit", "Solicit", base.DEC, SOLICIT)
f.ann_reserved   = ProtoField.uint8("lwf.announce.reserved", "Reserved", base.DEC)

local e_crc = ProtoExpert.new("lwf.crc.bad", "CRC-32C mismatch", expert.group.CHECKSUM, expert.severity.ERROR)
local e_class = ProtoExpert.new("lwf.class.bad", "Length is not an LWF class (128, 512, 1350)",
                                expert.group.MALFORMED, expert.severity.ERROR)
local e_layout = ProtoExpert.new("lwf.layout.bad", "Header, payload, signature and CRC do not fit the frame",
                                 expert.group.MALFORMED, expert.severity.ERROR)
lwf.experts = { e_crc, e_class, e_layout }

-- CRC-32C (Castagnoli, reflected 0x82F63B78), table-driven, as docs/lwf.md section 6 pins it.
local crc_table = {}
for i = 0, 255 do
    local c = i
    for _ = 1, 8 do
        if bit32.band(c, 1) ~= 0 then
            c = bit32.bxor(bit32.rshift(c, 1), 0x82F63B78)
        else
            c = bit32.rshift(c, 1)
        end
    end
    crc_table[i] = c
end

local function crc32c(bytes, len)
    local c = 0xFFFFFFFF
    for i = 0, len - 1 do
        c = bit32.bxor(crc_table[bit32.band(bit32.bxor(c, bytes:get_index(i)), 0xFF)], bit32.rshift(c, 8))
    end
    return bit32.bxor(c, 0xFFFFFFFF)
end

local function all_zero(range)
    local bytes = range:bytes()
    for i = 0, bytes:len() - 1 do
        if bytes:get_index(i) ~= 0 then return false end
    end
    return true
end

-- The header after the flags byte: (field, offset, length), in wire order (docs/lwf.md, section 4).
local HEADER_FIELDS = {
    { f.type, 4, 1 }, { f.hop_limit, 5, 1 }, { f.service, 6, 2 }, { f.src, 8, 16 }, { f.dst, 24, 16 },
    { f.sequence, 40, 8 }, { f.message_id, 48, 4 }, { f.frag_index, 52, 2 }, { f.frag_count, 54, 2 },
    { f.payload_length, 56, 2 }, { f.src_service, 58, 2 }, { f.nonce, 60, 24 },
}

local function dissect_header(tvb, tree)
    tree:add(f.magic, tvb(0, 2))
    tree:add(f.version, tvb(2, 1))
    local flags = tree:add(f.flags, tvb(3, 1))
    for _, field in ipairs({ f.encrypted, f.signed, f.relayable, f.fragmented, f.priority, f.flags_reserved }) do
        flags:add(field, tvb(3, 1))
    end
    for _, h in ipairs(HEADER_FIELDS) do
        tree:add(h[1], tvb(h[2], h[3]))
    end
end

local function dissect_announce(body, tree)
    tree:add(f.ann_public_key, body(0, 32))
    tree:add(f.ann_mac, body(32, 6))
    tree:add(f.ann_solicit, body(38, 1))
    tree:add(f.ann_reserved, body(39, 1))
end

local function dissect_crc(tvb, size, tree)
    local stored = tvb(size - CRC_LEN, CRC_LEN):uint()
    local computed = crc32c(tvb(0, size - CRC_LEN):bytes(), size - CRC_LEN)
    local item = tree:add(f.crc, tvb(size - CRC_LEN, CRC_LEN))
    item:add(f.crc_computed, computed):set_generated()
    local good = stored == computed
    item:add(f.crc_status, good and "good" or "bad"):set_generated()
    if not good then item:add_proto_expert_info(e_crc) end
    return good
end

function lwf.dissector(tvb, pinfo, tree)
    local size = tvb:len()
    if size < HEADER_LEN + CRC_LEN then return 0 end
    pinfo.cols.protocol = "LWF"
    local root = tree:add(lwf, tvb(), "Libertaria Wire Frame")
    root:add(f.class, size):set_generated()
    if not CLASSES[size] then root:add_proto_expert_info(e_class) end
    dissect_header(tvb, root)

    local flags, ftype = tvb(3, 1):uint(), tvb(4, 1):uint()
    local signed = bit32.band(flags, FLAG.SIGNED) ~= 0
    local encrypted = bit32.band(flags, FLAG.ENCRYPTED) ~= 0
    local payload_length = tvb(56, 2):uint()
    local signature_len = signed and SIGNATURE_LEN or 0
    local tail = size - CRC_LEN - signature_len -- where padding ends
    root:add(f.sig_present, signed):set_generated()

    if HEADER_LEN + payload_length > tail then
        root:add_proto_expert_info(e_layout)
    else
        local payload = tvb(HEADER_LEN, payload_length)
        local item = root:add(f.payload, payload)
        if encrypted and payload_length >= TAG_LEN then
            item:add(f.ciphertext_len, payload_length - TAG_LEN):set_generated()
        end
        if ftype == 2 and payload_length == ANNOUNCE_BODY_LEN then
            dissect_announce(payload, item)
        end
        local padding = tail - HEADER_LEN - payload_length
        local pad = root:add(f.padding, padding):set_generated()
        if padding > 0 then
            pad:add(f.padding_zero, all_zero(tvb(HEADER_LEN + payload_length, padding))):set_generated()
        end
        if signed then root:add(f.signature, tvb(tail, SIGNATURE_LEN)) end
    end
    local good = dissect_crc(tvb, size, root)

    local kind = TYPES[ftype] or string.format("type %d", ftype)
    local info = string.format("%s %s -> %s seq=%s len=%d class=%d", kind, tostring(tvb(8, 4):bytes()),
                               tostring(tvb(24, 4):bytes()), tostring(tvb(40, 8):uint64()), payload_length, size)
    if bit32.band(flags, FLAG.FRAGMENTED) ~= 0 then
        info = info .. string.format(" frag %d/%d id=0x%08x", tvb(52, 2):uint(), tvb(54, 2):uint(), tvb(48, 4):uint())
    end
    if not good then info = info .. " [BAD CRC]" end
    pinfo.cols.info = info
    return size
end

DissectorTable.get("ethertype"):add(0x4C57, lwf)
