-- Clicks on the seeded short links with a realistic mix of visitors: mobile and desktop
-- browsers, in-app browsers, a tablet, crawlers and link-preview fetchers (a third are bots),
-- some with a referrer, a CloudFront country, a returning visitor's cookie or utm_source.
-- Env: BENCH_LUA_DIR, BENCH_HOST (acme.localhost:PORT), BENCH_SLUGS (links l0..l{n-1}).
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local host = os.getenv("BENCH_HOST")
local slugs = tonumber(os.getenv("BENCH_SLUGS") or "20")

local agents = {
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.6312.99 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
  "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/21E236 Instagram 326.0.3.30.91 (iPhone15,3; iOS 17_4; en_US; en; scale=3.00; 1290x2796; 581346246)",
  "Mozilla/5.0 (Linux; Android 13; SM-S918B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.119 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/455.0.0.44.88;]",
  "Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0",
  "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
  "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
  "curl/8.5.0",
}
local countries = { "US", "DE", "FR", "GB", "BR" }

-- Requests are formatted once per thread and cycled, so wrk's own Lua cost stays small (the
-- same script drives nginx, so both servers see identical requests).
local reqs = {}
local n = 0

function init(args)
  for i = 1, 1200 do
    local headers = { ["Host"] = host, ["User-Agent"] = agents[(i % #agents) + 1] }
    if i % 3 == 0 then headers["Referer"] = "https://news.example.com/deals/today" end
    if i % 4 == 0 then headers["CloudFront-Viewer-Country"] = countries[(i % #countries) + 1] end
    if i % 5 == 0 then headers["Cookie"] = "tenx_vid=0123456789abcdef0123456789abcdef" end
    local path = "/l" .. (i % slugs)
    if i % 2 == 0 then path = path .. "?utm_source=newsletter" end
    reqs[i] = wrk.format("GET", path, headers)
  end
end

function request()
  n = n + 1
  if n > #reqs then n = 1 end
  return reqs[n]
end

done = common.done
