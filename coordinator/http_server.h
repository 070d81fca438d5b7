// A small HTTP/1.1 server on Boost.Beast for the coordinator's status page,
// JSON API, reports and Prometheus metrics. It runs on the coordinator's
// io_context (one thread). A handler answers through `reply`, at once or
// later (a report rendered on another thread posts its reply back to the
// io_context), so slow pages do not hold up the ZeroMQ loop. GET and HEAD
// only; requests over 64 KiB are refused.
#pragma once

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

// Sends the response; to be called once, on the io_context's thread.
using HttpReply = std::function<void(HttpResponse)>;
// Called with the request target ("/api/sweeps?x=1"); the method is GET or HEAD.
using HttpHandler = std::function<void(const std::string& target, HttpReply reply)>;

class HttpServer {
 public:
  // Binds address:port (port 0: any free port) and starts accepting.
  static Result<std::unique_ptr<HttpServer>> Start(boost::asio::io_context& io, const std::string& address, int port,
                                                  HttpHandler handler, Logger* log);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  // Stops accepting; connections in flight finish.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace avctl
