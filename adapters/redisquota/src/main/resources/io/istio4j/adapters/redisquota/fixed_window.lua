-- One allocation from a fixed window, atomically, in as few commands as the common case allows
-- (a new request id that is granted: SET NX, INCRBY, PTTL).
-- KEYS[1]: the window's counter; KEYS[2]: the deduplication key
-- ARGV[1]: max amount; ARGV[2]: amount; ARGV[3]: "1" for best effort; ARGV[4]: window (ms);
-- ARGV[5]: how long to remember the deduplication id (ms); ARGV[6]: "1" to deduplicate
-- Returns {granted, ms until the window ends}.
local amount = tonumber(ARGV[2])
if ARGV[6] == "1" then
  -- Remember the id with the amount asked for (what a grant usually is); a retry finds it.
  if not redis.call("SET", KEYS[2], amount, "NX", "PX", ARGV[5]) then
    return {tonumber(redis.call("GET", KEYS[2])), redis.call("PTTL", KEYS[1])}
  end
end
local max = tonumber(ARGV[1])
local granted = 0
if amount > 0 then
  local used = redis.call("INCRBY", KEYS[1], amount)
  if used == amount then
    -- The window starts with its first allocation and ends when the counter expires.
    redis.call("PEXPIRE", KEYS[1], ARGV[4])
  end
  if used <= max then
    granted = amount
  else
    local before = used - amount
    if ARGV[3] == "1" and before < max then
      granted = max - before
    end
    redis.call("DECRBY", KEYS[1], amount - granted)
  end
end
if ARGV[6] == "1" and granted ~= amount then
  redis.call("SET", KEYS[2], granted, "PX", ARGV[5])
end
return {granted, redis.call("PTTL", KEYS[1])}
