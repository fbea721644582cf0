/*
 * Lua runs atomically in Redis, which is what makes compare-and-set and "increment, and start the window on the
 * first increment" single steps. A missing key reads as false in Lua.
 */

/** KEYS[1]; ARGV: expectAbsent ('1'|'0'), expected, value, ttlMs ('' = none). */
export const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current then return 0 end
elseif current ~= ARGV[2] then
  return 0
end
if ARGV[4] == '' then
  redis.call('SET', KEYS[1], ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
end
return 1
`;

/** KEYS[1]; ARGV: ttlMs ('' = none). */
export const INCREMENT = `
local n = redis.call('INCR', KEYS[1])
if ARGV[1] ~= '' and redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
`;
