-- One allocation from a fixed window, atomically.
-- KEYS[1]: the window's counter; KEYS[2]: the deduplication key
-- ARGV[1]: max amount; ARGV[2]: amount; ARGV[3]: "1" for best effort; ARGV[4]: window (ms);
-- ARGV[5]: how long to remember the deduplication id (ms); ARGV[6]: "1" to deduplicate
-- Returns {granted, ms until the window ends}.
if ARGV[6] == "1" then
  local seen = redis.call("GET", KEYS[2])
  if seen then
    return {tonumber(seen), redis.call("PTTL", KEYS[1])}
  end
end
local max = tonumber(ARGV[1])
local amount = tonumber(ARGV[2])
local used = tonumber(redis.call("GET", KEYS[1]) or "0")
local available = max - used
local granted = 0
if amount > 0 then
  if amount <= available then
    granted = amount
  elseif ARGV[3] == "1" and available > 0 then
    granted = available
  end
end
if granted > 0 then
  -- The window starts with its first allocation and ends when the counter expires.
  if redis.call("INCRBY", KEYS[1], granted) == granted then
    redis.call("PEXPIRE", KEYS[1], ARGV[4])
  end
end
if ARGV[6] == "1" then
  redis.call("SET", KEYS[2], granted, "PX", ARGV[5])
end
return {granted, redis.call("PTTL", KEYS[1])}
