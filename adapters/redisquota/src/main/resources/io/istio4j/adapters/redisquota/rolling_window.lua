-- One allocation from a rolling window counted in buckets, atomically, on Redis's clock.
-- KEYS[1]: sorted set of bucket starts (score = member = bucket start, ms);
-- KEYS[2]: hash of bucket start -> amount granted in that bucket; KEYS[3]: the deduplication key
-- ARGV[1]: max amount; ARGV[2]: amount; ARGV[3]: "1" for best effort; ARGV[4]: window (ms);
-- ARGV[5]: bucket (ms); ARGV[6]: how long to remember the deduplication id (ms); ARGV[7]: "1" to deduplicate
-- Returns {granted, window (ms)}.
local window = tonumber(ARGV[4])
local amount = tonumber(ARGV[2])
if ARGV[7] == "1" then
  -- Remember the id with the amount asked for (what a grant usually is); a retry finds it.
  if not redis.call("SET", KEYS[3], amount, "NX", "PX", ARGV[6]) then
    return {tonumber(redis.call("GET", KEYS[3])), window}
  end
end
local bucket = tonumber(ARGV[5])
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- A bucket counts until it lies wholly before the window, so no window ever holds more than max.
local expired = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", now - window - bucket)
if #expired > 0 then
  redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now - window - bucket)
  redis.call("HDEL", KEYS[2], unpack(expired))
end
local used = 0
for _, v in ipairs(redis.call("HVALS", KEYS[2])) do
  used = used + tonumber(v)
end
local max = tonumber(ARGV[1])
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
  local start = now - (now % bucket)
  redis.call("ZADD", KEYS[1], start, start)
  redis.call("HINCRBY", KEYS[2], start, granted)
  redis.call("PEXPIRE", KEYS[1], window + bucket)
  redis.call("PEXPIRE", KEYS[2], window + bucket)
end
if ARGV[7] == "1" and granted ~= amount then
  redis.call("SET", KEYS[3], granted, "PX", ARGV[6])
end
return {granted, window}
