-- One allocation from a fixed window, atomically, in as few commands as the common case allows
-- (a new request id that is granted in full: SET NX, INCRBY, PTTL).
-- KEYS[1]: the window's counter; KEYS[2]: the deduplication key
-- ARGV[1]: max amount; ARGV[2]: amount; ARGV[3]: "1" for best effort; ARGV[4]: window (ms);
-- ARGV[5]: how long to remember the deduplication id (ms); ARGV[6]: "1" to deduplicate
-- Returns, when the whole amount is granted (the common case), the ms until the window ends as one
-- integer; otherwise {granted, ms until the window ends}. Redis' conversions of Lua values are a
-- measurable part of the script's cost, so arguments are passed on as the strings they arrive as and
-- the common reply is not a table.
if ARGV[6] == "1" and not redis.call("SET", KEYS[2], ARGV[2], "NX", "PX", ARGV[5]) then
  -- A retry: answer what the first call was granted (remembered with its id).
  return {tonumber(redis.call("GET", KEYS[2])), redis.call("PTTL", KEYS[1])}
end
local amount = tonumber(ARGV[2])
if amount <= 0 then
  if amount < 0 and ARGV[6] == "1" then
    redis.call("SET", KEYS[2], 0, "PX", ARGV[5]) -- nothing is given back: a retry is granted 0 too
  end
  return {0, redis.call("PTTL", KEYS[1])}
end
local used = redis.call("INCRBY", KEYS[1], ARGV[2])
if used == amount then
  -- The window starts with its first allocation and ends when the counter expires.
  redis.call("PEXPIRE", KEYS[1], ARGV[4])
end
local max = tonumber(ARGV[1])
if used <= max then
  local ttl = redis.call("PTTL", KEYS[1])
  return ttl >= 0 and ttl or 0
end
local before = used - amount
local granted = 0
if ARGV[3] == "1" and before < max then
  granted = max - before
end
redis.call("DECRBY", KEYS[1], amount - granted)
if ARGV[6] == "1" then
  redis.call("SET", KEYS[2], granted, "PX", ARGV[5])
end
return {granted, redis.call("PTTL", KEYS[1])}
