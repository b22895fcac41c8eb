-- DetectorCommon.lua: helper library for ids detectors (written for this project).
--
-- Detectors do `require "DetectorCommon"` and then `local DC = DetectorCommon`. The constant
-- tables carry the values of the OpenAppID detector API (protocol numbers, flow flag bits,
-- validate return codes); the helper functions have the names and arguments detectors use.
-- In ids each detector gets its own copy of this library (it runs in the detector's own
-- environment), so the flow and host trackers below are per detector.

local bit = require "bit"

local function readonly_copy(t)
    local c = {}
    for k, v in pairs(t) do c[k] = v end
    return c
end

-- IP protocol numbers (IANA).
local ipproto = {
    ip = 0, hopopts = 0, icmp = 1, igmp = 2, ipip = 4, tcp = 6, egp = 8, pup = 12, udp = 17,
    idp = 22, tp = 29, ipv6 = 41, routing = 43, fragment = 44, rsvp = 46, gre = 47, esp = 50,
    ah = 51, icmpv6 = 58, none = 59, dstopts = 60, mtp = 92, encap = 98, pim = 103, comp = 108,
    sctp = 132, raw = 255,
}

-- Flow flag bits understood by DetectorFlow:setFlowFlag/getFlowFlag/clearFlowFlag.
local flowFlags = {
    sslSession        = 0x00100000,
    httpSession       = 0x00200000,
    udpReversed       = 0x00400000,
    incompatible      = 0x00800000,
    ignoreHost        = 0x01000000,
    ignoreTcpSeq      = 0x02000000,
    clientAppDetected = 0x04000000,
    gotBanner         = 0x08000000,
    notAService       = 0x10000000,
    logUnknown        = 0x20000000,
    continue          = 0x40000000,
    serviceDetected   = 0x80000000,
}

-- Return codes of a service detector's validate function.
local serviceStatus = {
    success = 0, inProcess = 10, needReassembly = 11, notCompatible = 12, invalidClient = 13,
    reversed = 14, nomatch = 100, enull = -10, einvalid = -11, enomem = -12, fail = 1000,
}

-- Return codes of a client detector's validate function.
local clientStatus = {
    success = 0, inProcess = 10, enull = -10, einvalid = -11, enomem = -12, fail = 1000,
}

local flowDirection = { fromInitiator = 0, fromResponder = 1 }

local logLevel = { crit = 0, err = 1, warning = 2, notice = 3, info = 4, debug = 5 }

local flowProtocol = { tcp = 4, udp = 8 }

-- Big-endian bytes of `s` (first `n` bytes) as a number.
local function binaryStringToNumber(s, n)
    local v = 0
    for i = 1, n do
        v = bit.lshift(v, 8) + (s:byte(i) or 0)
    end
    return v
end

-- Little-endian bytes of `s` (first `n` bytes) as a number.
local function reverseBinaryStringToNumber(s, n)
    local v = 0
    for i = n, 1, -1 do
        v = bit.lshift(v, 8) + (s:byte(i) or 0)
    end
    return v
end

local function getShortHostFormat(s) return binaryStringToNumber(s, 2) end
local function getLongHostFormat(s) return binaryStringToNumber(s, 4) end

-- "0x" followed by the hex of the first `len` bytes of `data`.
local function getStringValue(data, len)
    local parts = { "0x" }
    for i = 1, len do
        parts[#parts + 1] = string.format("%.2x", data:byte(i) or 0)
    end
    return table.concat(parts)
end

-- Dotted quad of an address as returned by getPktSrcAddr/getPktDstAddr. Pass 1 as
-- `bigendian` for those values (lowest byte first); 0 prints the highest byte first.
local function intToIPv4(ip, bigendian)
    local b = {}
    for i = 0, 3 do
        b[i + 1] = bit.band(bit.rshift(ip, 8 * i), 0xff)
    end
    if (bigendian or 1) > 0 then
        return string.format("%d.%d.%d.%d", b[1], b[2], b[3], b[4])
    end
    return string.format("%d.%d.%d.%d", b[4], b[3], b[2], b[1])
end

-- Numeric form of a dotted quad (the four octets multiplied together, as detectors expect).
local function ntop(text)
    local a, b, c, d = string.match(text or "", "(%d+)%.(%d+)%.(%d+)%.(%d+)")
    if d then return a * b * c * d end
    return nil
end

-- `pattern` is { bytes, offset }: 1 when the packet has those bytes at that offset, else nil.
local function checkPattern(detector, pattern)
    if detector:matchSimplePattern(pattern[1], #pattern[1], pattern[2]) == 0 then
        return 1
    end
    return nil
end

local function noop() end

-- Forwards to the detector's log method (level info) when a detector wants real logging.
local function realLog(detector, fmt, ...)
    if detector and detector.log then
        detector:log(logLevel.info, fmt:format(...))
    end
end

DetectorCommon = {
    ipproto = readonly_copy(ipproto),
    flowFlags = readonly_copy(flowFlags),
    serviceStatus = readonly_copy(serviceStatus),
    clientStatus = readonly_copy(clientStatus),
    flowDirection = readonly_copy(flowDirection),
    logLevel = readonly_copy(logLevel),
    flowProtocol = readonly_copy(flowProtocol),
    ntop = ntop,
    printf = noop,        -- detectors call DC.printf for debugging; silent by default
    log = noop,           -- DC.log(detector, fmt, ...); set DC.log = DC.realLog to enable
    realLog = realLog,
    getShortHostFormat = getShortHostFormat,
    getLongHostFormat = getLongHostFormat,
    binaryStringToNumber = binaryStringToNumber,
    reverseBinaryStringToNumber = reverseBinaryStringToNumber,
    getStringValue = getStringValue,
    intToIPv4 = intToIPv4,
    checkPattern = checkPattern,
}

-- A bounded table: once `limit` keys are held, adding a new key evicts the oldest one.
local function boundedTracker(limit)
    local data, order, head = {}, {}, 1
    local t = {}
    function t.add(key, value)
        if data[key] == nil then
            -- Skip entries deleted since they were added.
            while #order - head + 1 >= limit do
                local old = order[head]
                order[head] = nil
                head = head + 1
                data[old] = nil
            end
            order[#order + 1] = key
        end
        data[key] = value
        return value
    end
    function t.get(key) return data[key] end
    function t.del(key) data[key] = nil end
    function t.count()
        local n = 0
        for _ in pairs(data) do n = n + 1 end
        return n
    end
    function t.setSize(n) limit = math.max(1, n) end
    return t
end

local flows = boundedTracker(5000)
flowTrackerModule = {
    addFlowTracker = function(key, data) return flows.add(key, data) end,
    getFlowTracker = function(key) return flows.get(key) end,
    delFlowTracker = function(key) flows.del(key) end,
    printFlowTracker = function() print("flow tracker entries: " .. flows.count()) end,
    setFlowTrackerSize = function(n) flows.setSize(n) end,
}

local hosts = boundedTracker(5000)
local function hostKey(ip) return string.format("%.8x", ip) end
hostServiceTrackerModule = {
    addHostServiceTracker = function(ip, data) return hosts.add(hostKey(ip), data) end,
    getHostServiceTracker = function(ip) return hosts.get(hostKey(ip)) end,
    delHostServiceTracker = function(ip) hosts.del(hostKey(ip)) end,
    printHostServiceTracker = function() print("host tracker entries: " .. hosts.count()) end,
    setHostServiceTrackerSize = function(n) hosts.setSize(n) end,
}

return DetectorCommon
