--[[
detection_name: SSH
description: Secure Shell, identified by the server's version banner ("SSH-2.0-...").
--]]

require "DetectorCommon"
local DC = DetectorCommon

DetectorPackageInfo = {
    name = "SSH",
    proto = DC.ipproto.tcp,
    server = {
        init = "DetectorInit",
        validate = "DetectorValidator",
        clean = "DetectorClean",
    },
}

local gServiceId = 20012      -- legacy service id of SSH in appMapping.data
local gSfAppIdSsh = 846

function DetectorInit(detector, config)
    gDetector = detector
    gDetector:init("ssh", "DetectorValidator", "DetectorClean")
    gDetector:addPort(DC.ipproto.tcp, 22)
    gDetector:registerPattern(DC.ipproto.tcp, "SSH-", 4, 0)
    pcall(function() gDetector:registerAppId(gSfAppIdSsh) end)
    return gDetector
end

function DetectorValidator()
    local size = gDetector:getPacketSize()
    local dir = gDetector:getPacketDir()
    local flow = gDetector:getFlow()

    if size == 0 or dir ~= DC.flowDirection.fromResponder then
        gDetector:inProcessService()
        return DC.serviceStatus.inProcess
    end
    -- "SSH-protoversion-softwareversion"
    -- getPcreGroups returns the whole match first, then the groups
    local _, proto, software = gDetector:getPcreGroups("^SSH-([12]\\.[0-9]+)-([^ \r\n]+)", 0)
    if proto then
        local _, version = gDetector:getPcreGroups("^SSH-[0-9.]+-" .. "[^_]*_([0-9][^ \r\n]*)", 0)
        flow:setFlowFlag(DC.flowFlags.serviceDetected)
        gDetector:addService(gServiceId, software, version or proto, gSfAppIdSsh)
        return DC.serviceStatus.success
    end
    gDetector:failService()
    return DC.serviceStatus.nomatch
end

function DetectorClean()
end
