#include "node/cli/cli_common.h"

#include <httplib.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <cstdlib>

#include "node/home.h"

namespace imi::cli {

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "imi: %s\n", message.c_str());
  return code;
}

bool parse_u64(const std::string& text, uint64_t& out) {
  if (text.empty() || text.size() > 19) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  out = std::strtoull(text.c_str(), nullptr, 10);
  return true;
}

Result<Reply> http(const Ctx& ctx, const std::string& method, const std::string& path,
                   const std::string& body, int read_timeout_s) {
  httplib::Client cli(ctx.node);
  cli.set_connection_timeout(5);
  cli.set_read_timeout(read_timeout_s);
  httplib::Result r = method == "POST" ? cli.Post(path, body, "application/json") : cli.Get(path);
  if (!r)
    return Status::error("cli.unreachable", "cannot reach the node at " + ctx.node + " (" +
                                                httplib::to_string(r.error()) +
                                                "); is imid running? pass --node URL");
  return Reply{r->status, r->body};
}

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  return d;
}

std::string str(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject() || !v.HasMember(name)) return {};
  const auto& m = v[name];
  if (m.IsString()) return std::string(m.GetString(), m.GetStringLength());
  if (m.IsInt64()) return std::to_string(m.GetInt64());
  if (m.IsUint64()) return std::to_string(m.GetUint64());
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  m.Accept(w);
  return sb.GetString();
}

int report_problem(const Reply& r) {
  auto d = parse(r.body);
  std::string title = str(d, "title"), detail = str(d, "detail"), code = str(d, "code");
  std::fprintf(stderr, "imi: HTTP %d %s%s%s\n", r.status, title.c_str(),
               code.empty() ? "" : (" [" + code + "]").c_str(),
               detail.empty() ? "" : (": " + detail).c_str());
  return r.status >= 500 ? kExitUnreachable : kExitRejected;
}

Page get_page(const Ctx& ctx, const std::string& path, const char* member, int read_timeout_s) {
  Page page;
  auto r = http(ctx, "GET", path, {}, read_timeout_s);
  if (!r) {
    page.exit = fail(kExitUnreachable, r.status().message());
  } else if (r->status != 200) {
    page.exit = report_problem(*r);
  } else {
    page.doc = parse(r->body);
    if (!page.doc.IsObject() || !page.doc.HasMember(member) || !page.doc[member].IsArray())
      page.exit = fail(kExitUnreachable,
                       "the node's answer to GET " + path + " is not a page of " + member);
  }
  return page;
}

Result<std::string> password(const Ctx& ctx) {
  if (!ctx.password_file.empty()) {
    auto text = node::read_small_file(ctx.password_file, 4096);
    if (!text) return text.status();
    return text->substr(0, text->find('\n'));
  }
  const char* env = std::getenv("IMI_KEY_PASSWORD");
  if (env == nullptr || *env == '\0')
    return Status::error("cli.no_password",
                         "set IMI_KEY_PASSWORD or pass --password-file FILE for the keystore");
  return std::string(env);
}

Submission submit_tx(const Ctx& ctx, const identity::KeyPair& key, std::string from,
                     const std::string& app, const std::string& op, const rapidjson::Value& args,
                     bool wait, std::optional<uint64_t> nonce, const std::string& principal) {
  Submission out;
  auto failed = [&](int code) {
    out.exit = code;
    return out;
  };
  if (from.empty()) from = key.did();
  auto st = http(ctx, "GET", "/v1/status");
  if (!st) return failed(fail(kExitUnreachable, st.status().message()));
  if (st->status != 200) return failed(report_problem(*st));
  const std::string chain = str(parse(st->body), "chain");
  if (nonce) {
    out.nonce = *nonce;
  } else {
    auto acct = http(ctx, "GET", "/v1/state/account/" + from);
    if (!acct) return failed(fail(kExitUnreachable, acct.status().message()));
    if (acct->status != 200) return failed(report_problem(*acct));
    auto d = parse(acct->body);
    if (d.IsObject() && d.HasMember("value") && d["value"].IsObject() &&
        d["value"].HasMember("nonce") && d["value"]["nonce"].IsUint64())
      out.nonce = d["value"]["nonce"].GetUint64();
  }
  auto tx = ledger::make_transaction_for(key, from, principal, chain, out.nonce, app, op, args);
  if (!tx) return failed(fail(kExitUsage, tx.status().to_string()));
  auto r = http(ctx, "POST", wait ? "/v1/txs?wait=commit" : "/v1/txs", tx->canonical(), 60);
  if (!r) return failed(fail(kExitUnreachable, r.status().message()));
  if (r->status != 200 && r->status != 202) return failed(report_problem(*r));
  out.tx = std::move(*tx);
  out.reply = std::move(*r);
  return out;
}

}  // namespace imi::cli
