--[[
detection_name: curl / Wget
description: Command line HTTP clients, identified by their User-Agent. Pattern-only detector:
the HTTP inspector matches the registered User-Agent patterns; no validate function.
--]]

require "DetectorCommon"
local DC = DetectorCommon

DetectorPackageInfo = {
    name = "curl",
    proto = DC.ipproto.tcp,
    client = {
        init = "DetectorInit",
        clean = "DetectorClean",
        minimum_matches = 1,
    },
}

-- { type, sequence, legacy service, legacy client, client type, legacy payload, payload type, pattern, AppId }
local gUserAgents = {
    { 2, 5, 9, 3, 1, 0, 0, "curl/", 2002 },
    { 2, 5, 9, 4, 1, 0, 0, "Wget/", 2003 },
}

function DetectorInit(detector, config)
    gDetector = detector
    if gDetector.addHttpPattern then
        for _, p in ipairs(gUserAgents) do
            gDetector:addHttpPattern(p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9])
        end
    end
    pcall(function() gDetector:registerAppId(2002) end)
    pcall(function() gDetector:registerAppId(2003) end)
    return gDetector
end

function DetectorClean()
end
