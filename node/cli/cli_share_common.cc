// imi share / imi delegation: sending ops, reading state and app queries.
#include <chrono>
#include <cstdio>
#include <ctime>

#include "identity/keystore.h"
#include "ledger/json.h"
#include "node/cli/cli_share.h"

namespace imi::cli::share {

uint64_t now_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

bool parse_duration_ms(const std::string& text, uint64_t& out) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  uint64_t n = 0;
  if (digits == 0 || !parse_u64(text.substr(0, digits), n)) return false;
  const std::string unit = text.substr(digits);
  uint64_t scale = 0;
  if (unit.empty() || unit == "ms") scale = 1;
  if (unit == "s") scale = 1000;
  if (unit == "m") scale = 60 * 1000;
  if (unit == "h") scale = 3600 * 1000;
  if (unit == "d") scale = 24 * 3600 * 1000;
  if (scale == 0 || n > (uint64_t{1} << 53) / scale) return false;
  out = n * scale;
  return true;
}

bool parse_time_ms(const std::string& text, uint64_t& out) {
  if (!text.empty() && text[0] == '+') {
    uint64_t d = 0;
    if (!parse_duration_ms(text.substr(1), d)) return false;
    out = now_ms() + d;
    return true;
  }
  return parse_u64(text, out);
}

std::string url_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '_' || c == '~' || c == '-') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string field(const rapidjson::Value& v, const char* name) {
  std::string s = str(v, name);
  return s.empty() ? "-" : s;
}

std::string time_text(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject() || !v.HasMember(name) || !v[name].IsUint64()) return "-";
  const uint64_t ms = v[name].GetUint64();
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf) + " (" + std::to_string(ms) + ")";
}

namespace {

// Prints a transaction status answer (200 with ?wait=commit, or GET
// /v1/txs/{id}); returns the exit code it means.
int print_outcome(const Ctx& ctx, const std::string& body) {
  auto d = parse(body);
  const std::string status = str(d, "status");
  int code = kExitOk;
  if (status == "rejected") code = kExitRejected;
  if (status == "pending") code = kExitPending;
  std::string result_code, message;
  if (d.HasMember("result") && d["result"].IsObject()) {
    result_code = str(d["result"], "code");
    message = str(d["result"], "message");
  }
  if (message.empty()) message = str(d, "message");
  if (status == "committed" && result_code != "0") code = kExitTxFailed;
  if (ctx.json) {
    std::printf("%s\n", body.c_str());
    return code;
  }
  const std::string id = str(d, "id");
  std::printf("record:   %s\ntx:       %s\nstatus:   %s\n", record_id(id).c_str(), id.c_str(),
              status.c_str());
  if (status == "committed") {
    std::printf("height:   %s\nresult:   code %s%s\n", str(d, "height").c_str(),
                result_code.c_str(), message.empty() ? "" : (" (" + message + ")").c_str());
    if (d["result"].IsObject() && d["result"].HasMember("events"))
      std::printf("events:   %s\n", str(d["result"], "events").c_str());
  } else if (status == "rejected" && d.HasMember("reason")) {
    std::printf("reason:   %s: %s\n", str(d["reason"], "code").c_str(),
                str(d["reason"], "message").c_str());
  }
  return code;
}

}  // namespace

int send_op(const Ctx& ctx, const node::CliArgs& a, std::string_view app, std::string_view op,
            const rapidjson::Value& args) {
  if (a.get("--key").empty()) return fail(kExitUsage, "this command needs --key FILE");
  const std::string principal = a.get("--for");
  if (a.has("--for") && !identity::is_valid_did(principal))
    return fail(kExitUsage, "--for must be a did:imi (the principal who granted a delegation)");
  auto pw = password(ctx);
  if (!pw) return fail(kExitLocal, pw.status().message());
  auto key = identity::load_keystore(a.get("--key"), *pw);
  if (!key) return fail(kExitLocal, key.status().to_string());
  const bool wait = a.has("--wait");
  Submission sub = submit_tx(ctx, *key, {}, std::string(app), std::string(op), args, wait,
                             std::nullopt, principal);
  if (sub.exit != kExitOk) return sub.exit;
  if (sub.reply.status == 200) return print_outcome(ctx, sub.reply.body);
  if (ctx.json) {
    std::printf("%s\n", sub.reply.body.c_str());
  } else {
    const std::string id = sub.tx->id_hex();
    std::printf("record:   %s\ntx:       %s\nstatus:   %s\n", record_id(id).c_str(), id.c_str(),
                wait ? "pending (still, after the wait; poll with `imi tx get TX`)"
                     : "submitted (follow it with `imi tx get TX`)");
  }
  return wait ? kExitPending : kExitOk;
}

StateAnswer get_state(const Ctx& ctx, std::string_view app, std::string_view key) {
  StateAnswer out;
  auto r = http(ctx, "GET", "/v1/state/" + std::string(app) + "/" + url_encode(key));
  if (!r) {
    out.exit = fail(kExitUnreachable, r.status().message());
  } else if (r->status != 200) {
    out.exit = report_problem(*r);
  } else {
    out.doc = parse(r->body);
    if (!out.doc.IsObject())
      out.exit = fail(kExitUnreachable, "the node's state answer is not a JSON object");
  }
  return out;
}

int run_query(const Ctx& ctx, const node::CliArgs& a, std::string_view app, std::string_view query,
              std::initializer_list<std::pair<const char*, const char*>> params,
              ItemPrinter print) {
  std::string path = "/v1/apps/" + std::string(app) + "/" + std::string(query);
  char sep = '?';
  for (const auto& [name, option] : params) {
    if (a.get(option).empty()) return fail(kExitUsage, std::string(query) + " needs " + option);
    path += sep + std::string(name) + "=" + url_encode(a.get(option));
    sep = '&';
  }
  if (a.has("--cursor")) {
    path += sep + std::string("cursor=") + url_encode(a.get("--cursor"));
    sep = '&';
  }
  if (a.has("--limit")) {
    uint64_t limit = 0;
    if (!parse_u64(a.get("--limit"), limit) || limit == 0)
      return fail(kExitUsage, "--limit is a positive number of items");
    path += sep + std::string("limit=") + std::to_string(limit);
  }
  Page page = get_page(ctx, path, "items");
  if (page.exit != kExitOk) return page.exit;
  if (ctx.json) {
    std::printf("%s\n", ledger::jcs(page.doc).c_str());
    return kExitOk;
  }
  const auto& items = page.doc["items"];
  std::printf("%s/%s at height %s (state_root %s): %u item(s)\n", std::string(app).c_str(),
              std::string(query).c_str(), str(page.doc, "height").c_str(),
              str(page.doc, "state_root").c_str(), items.Size());
  for (const auto& item : items.GetArray()) print(item);
  const std::string next = str(page.doc, "next");
  if (!next.empty() && next != "null") std::printf("more: pass --cursor %s\n", next.c_str());
  return kExitOk;
}

}  // namespace imi::cli::share
