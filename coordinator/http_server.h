// A small HTTP/1.1 server on Boost.Beast for the coordinator's status page,
// JSON API, reports and Prometheus metrics. It runs on the coordinator's
// io_context (one thread). A handler answers through `reply`, at once or
// later (a report rendered on another thread posts its reply back to the
// io_context), so slow pages do not hold up the ZeroMQ loop. GET and HEAD
// only; requests over 64 KiB (headers over 16 KiB) are refused.
//
// No client can hold it: a request must arrive whole within
// HttpLimits::read_timeout of its first byte (or of the previous response on
// a kept-alive connection), a response must be taken within write_timeout,
// and at most max_connections are open at once (one more is closed at once
// and counted). A handler that throws answers 500 and is logged with the
// request; the server goes on.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "common/log.h"
#include "common/status.h"

namespace avctl {

struct HttpResponse {
  HttpResponse() = default;
  HttpResponse(int s, std::string type, std::string b, std::string loc = "")
      : status(s), content_type(std::move(type)), body(std::move(b)), location(std::move(loc)) {}
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string location;  // for redirects (status 301/302)
};

struct HttpLimits {
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds write_timeout{30000};
  int max_connections = 256;
};

struct HttpServerStats {
  int64_t open = 0;              // connections open now
  int64_t accepted = 0;          // since the start
  int64_t refused = 0;           // closed at once: max_connections were open
  int64_t timed_out = 0;         // closed: a request or response took longer than its limit
  int64_t handler_errors = 0;    // requests whose handler threw (answered 500)
};

// Sends the response; to be called once, on the io_context's thread.
using HttpReply = std::function<void(HttpResponse)>;
// Called with the request target ("/api/sweeps?x=1"); the method is GET or HEAD.
using HttpHandler = std::function<void(const std::string& target, HttpReply reply)>;

class HttpServer {
 public:
  // Binds address:port (port 0: any free port) and starts accepting.
  static Result<std::unique_ptr<HttpServer>> Start(boost::asio::io_context& io, const std::string& address, int port,
                                                  HttpHandler handler, Logger* log, HttpLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  HttpServerStats stats() const;
  // Stops accepting; connections in flight finish.
  void Stop();

  struct Impl;  // the acceptor and what its connections share (http_server.cc)

 private:
  explicit HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace avctl
