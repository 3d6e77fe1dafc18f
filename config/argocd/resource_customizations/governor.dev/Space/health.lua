-- Argo CD health of a Governor resource (governor.dev/v1alpha1).
--
-- Reads only what every Governor kind publishes for this purpose:
-- status.observedGeneration against metadata.generation, and the kstatus
-- summary conditions Ready (positive polarity) and Stalled (abnormal-true).
-- No other condition is read, so kinds can add conditions of either polarity
-- without changing their health.
--
--   generation not yet observed   Progressing (conditions describe an older spec)
--   Stalled=True                  Degraded    (bad input; fixing the spec is needed)
--   Ready=True                    Healthy
--   otherwise                     Progressing (Ready False/Unknown/absent, not stalled)
--
-- Runs without Lua's optional libraries, as scripts from argocd-cm do.
local hs = {}

local function find(conditions, kind)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local function describe(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if c ~= nil and c.reason ~= nil and c.reason ~= "" then
    return c.reason
  end
  return fallback
end

local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for Governor to reconcile"
  return hs
end

local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed ~= generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for Governor to observe generation " .. generation
  return hs
end

local stalled = find(obj.status.conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled, "Stalled")
  return hs
end

local ready = find(obj.status.conditions, "Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready, "Ready")
  return hs
end

hs.status = "Progressing"
hs.message = describe(ready, "Waiting for Ready")
return hs
