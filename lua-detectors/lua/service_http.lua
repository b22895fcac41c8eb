--[[
detection_name: HTTP
description: HTTP/1.x servers, identified by the status line of the response.
--]]

require "DetectorCommon"
local DC = DetectorCommon
local FT = flowTrackerModule

DetectorPackageInfo = {
    name = "HTTP",
    proto = DC.ipproto.tcp,
    server = {
        init = "DetectorInit",
        validate = "DetectorValidator",
        clean = "DetectorClean",
    },
}

local gServiceId = 9
local gSfAppIdHttp = 676

local gPorts = { 80, 8000, 8008, 8080, 8888 }
local gPatterns = {
    -- { bytes, offset }
    response = { "HTTP/1.", 0 },
}

function DetectorInit(detector, config)
    gDetector = detector
    gDetector:init("http", "DetectorValidator", "DetectorClean")
    for _, port in ipairs(gPorts) do
        gDetector:addPort(DC.ipproto.tcp, port)
    end
    for _, p in pairs(gPatterns) do
        gDetector:registerPattern(DC.ipproto.tcp, p[1], #p[1], p[2])
    end
    pcall(function() gDetector:registerAppId(gSfAppIdHttp) end)
    return gDetector
end

function DetectorValidator()
    local flowKey = gDetector:getFlow():getFlowKey()
    local size = gDetector:getPacketSize()
    local dir = gDetector:getPacketDir()

    if dir == DC.flowDirection.fromInitiator then
        -- Remember that the client spoke first; the verdict comes with the response.
        if size > 0 then FT.addFlowTracker(flowKey, { sawRequest = true }) end
        gDetector:inProcessService()
        return DC.serviceStatus.inProcess
    end
    if size < 12 then
        gDetector:inProcessService()
        return DC.serviceStatus.inProcess
    end
    FT.delFlowTracker(flowKey)
    if DC.checkPattern(gDetector, gPatterns.response) then
        -- group 0 is the whole match, group 1 the header value
        local _, server = gDetector:getPcreGroups("\r\nServer: ([^\r\n]+)", 0)
        gDetector:addService(gServiceId, server or "", "", gSfAppIdHttp)
        return DC.serviceStatus.success
    end
    gDetector:failService()
    return DC.serviceStatus.nomatch
end

function DetectorClean()
end
