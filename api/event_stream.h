// GET /v1/events: one WebSocket connection that sends each committed block,
// with its transactions' results, as a text message, in height order from
// `from` (default: the next block to commit) onwards:
//
//   {"type":"block","height":H,"id":"…","time":ms,"txs":[{"id","position",
//    "from","app","op","result":{"code","events"}}],"deadlines":[{"app",
//    "key","time","code","events","position"}]}
//
// "deadlines" are the deadlines the block fired (ledger/app.h), in firing
// order; position = tx_count + i, their leaf in results_root.
// With `app`, `skill` or `cell` (api/node_api.h EventFilter), only blocks
// holding a transaction or fired deadline the filter keeps are sent, each
// with only those. The stream is a cursor over the chain: block
// H is read from the node only after block H-1 went to the socket, so a slow
// client never makes the server buffer; it falls behind and catches up from
// the store. To resume after a disconnect, reconnect with from = last
// height + 1. Clients send nothing but control frames: a data message closes
// the stream with 1008 (policy violation); silence closes it after
// events_idle_timeout_ms (pings go out at half that).
//
// Threading: every member runs on the connection's strand; close() may be
// called from any thread.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "api/node_api.h"
#include "api/request_handler.h"
#include "api/router.h"
#include "api/session_registry.h"

namespace imi::api {

class EventStream : public Closable, public std::enable_shared_from_this<EventStream> {
 public:
  // Takes over the connection of an HTTP session whose request `route`
  // (kEvents) asked for the upgrade. `counted`: the connection's slots of
  // connections_max and of `client_ip`'s connections_per_client_max move here. The caller already
  // took one of events_max (ctx->event_streams); it is given back on destruction.
  EventStream(boost::beast::tcp_stream stream, std::shared_ptr<ApiContext> ctx, bool counted,
              std::string client_ip, const Route& route);
  ~EventStream() override;

  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // Answers the upgrade request (101, or Beast's 400 if it is not a valid
  // WebSocket handshake), then streams.
  void start(HttpRequest upgrade);
  // Drops the connection; safe from any thread.
  void close() override;

 private:
  void on_accept(boost::beast::error_code ec);
  void do_read();
  void on_read(boost::beast::error_code ec);
  // Sends the next block if there is one and nothing is being written;
  // otherwise waits for it.
  void pump();
  void wait_for_block();
  void on_write(boost::beast::error_code ec);
  // Closes with a close frame (`code`, `reason`); the stream ends after it.
  void close_with(uint16_t code, std::string reason);
  void finish();

  const std::shared_ptr<ApiContext> ctx_;
  const bool counted_;
  const std::string client_ip_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer in_;
  boost::asio::steady_timer retry_timer_;
  const bool has_from_;
  uint64_t next_;  // height of the next block to send
  const EventFilter filter_;
  std::string out_;       // the message being written
  bool opened_ = false;   // the handshake succeeded
  bool writing_ = false;  // a block message is being written
  bool waiting_ = false;  // waiting for block next_ (watch_height or retry timer)
  bool woken_ = false;    // the last wait ended; if the block is still absent, back off
  bool closing_ = false;  // a close frame was sent
  bool closed_ = false;   // the stream is over
};

}  // namespace imi::api
