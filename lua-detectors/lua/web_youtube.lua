--[[
detection_name: YouTube / Google
description: Web applications identified from HTTP host, URL, TLS server name and DNS queries.
Pattern-only detector.
--]]

require "DetectorCommon"
local DC = DetectorCommon

DetectorPackageInfo = {
    name = "web_google_youtube",
    proto = DC.ipproto.tcp,
    client = {
        init = "DetectorInit",
        clean = "DetectorClean",
    },
}

-- { legacy payload id, AppId, host pattern }
local gHosts = {
    { 100, 929, "youtube.com" },
    { 100, 929, "youtu.be" },
    { 100, 929, "googlevideo.com" },
    { 101, 184, "google.com" },
}

-- addAppUrl: service, client, client type, payload (legacy ids), payload type, host, path, scheme, query, AppId
local gUrls = {
    { 0, 0, 0, 100, 0, "www.youtube.com", "/watch", "http:", "v=", 929 },
    { 0, 0, 0, 105, 0, "www.google-analytics.com", "/collect", "http:", "", 2011 },
}

function DetectorInit(detector, config)
    gDetector = detector
    for _, h in ipairs(gHosts) do
        gDetector:addHttpPattern(1, 0, 0, 0, 0, h[1], 0, h[3], h[2])
        if gDetector.addSSLCertPattern then
            gDetector:addSSLCertPattern(0, h[2], h[3])
        end
        if gDetector.addDNSHostPattern then
            gDetector:addDNSHostPattern(0, h[2], h[3])
        end
    end
    if gDetector.addAppUrl then
        for _, u in ipairs(gUrls) do
            gDetector:addAppUrl(u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10])
        end
    end
    if gDetector.addSSLCnamePattern then
        gDetector:addSSLCnamePattern(0, 184, "Google LLC")
    end
    return gDetector
end

function DetectorClean()
end
