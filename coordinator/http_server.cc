#include "coordinator/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "common/guard.h"
#include "common/text.h"

namespace avctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// What the server and its connections share; connections hold it, so it
// outlives the HttpServer object while any of them is open.
struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io, HttpHandler h, Logger* l, HttpLimits lim)
      : acceptor(io), handler(std::move(h)), log(l), limits(lim) {}
  void Accept();

  tcp::acceptor acceptor;
  HttpHandler handler;
  Logger* log;
  HttpLimits limits;
  HttpServerStats stats;
};

namespace {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<HttpServer::Impl> server)
      : stream_(std::move(socket)), server_(std::move(server)) {
    ++server_->stats.open;
  }
  ~Connection() { --server_->stats.open; }

  void Read() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(64 * 1024);
    // The whole request within the limit: a client sending a byte at a
    // time, or nothing, is cut off.
    stream_.expires_after(server_->limits.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec == beast::error::timeout) {
      ++server_->stats.timed_out;
      server_->log->Debug("http: a request did not arrive within {} ms: connection closed",
                          server_->limits.read_timeout.count());
      return;  // the stream closed the socket
    }
    if (ec == http::error::end_of_stream || ec == asio::error::connection_reset || ec == asio::error::eof) {
      Close();
      return;
    }
    if (ec) {
      // A malformed request (bad method, header over the limit, ...): say so
      // when the connection can still take it, then close.
      server_->log->Debug("http: bad request: {}", ec.message());
      Write(11, false, false, {400, "text/plain", fmt::format("bad request: {}\n", ec.message())});
      return;
    }
    const auto& req = parser_->get();
    const bool head = req.method() == http::verb::head;
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    if (req.method() != http::verb::get && !head) {
      Write(version, keep_alive, false, {405, "text/plain", "only GET and HEAD\n"});
      return;
    }
    const std::string target(req.target());
    auto replied = std::make_shared<bool>(false);
    HttpReply reply = [self = shared_from_this(), version, keep_alive, head, replied](HttpResponse r) {
      if (*replied) return;  // a handler answers once
      *replied = true;
      self->Write(version, keep_alive, head, std::move(r));
    };
    Status st = RunGuarded(fmt::format("GET {}", SanitizeText(target)), [&] { server_->handler(target, reply); });
    if (!st.ok()) {
      ++server_->stats.handler_errors;
      server_->log->Error("http: {}", st.ToString());
      if (!*replied) reply({500, "text/plain", "internal error (logged by avcoord)\n"});
    }
  }

  void Write(unsigned version, bool keep_alive, bool head, HttpResponse r) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version);
    res->set(http::field::server, "avcoord");
    res->set(http::field::cache_control, "no-store");
    res->result(static_cast<http::status>(r.status));
    res->set(http::field::content_type, r.content_type);
    if (!r.location.empty()) res->set(http::field::location, r.location);
    if (!head) res->body() = std::move(r.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    stream_.expires_after(server_->limits.write_timeout);
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code wec, size_t) {
      if (wec == beast::error::timeout) ++self->server_->stats.timed_out;
      if (wec) return;
      if (res->keep_alive()) {
        self->Read();
      } else {
        self->Close();
      }
    });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpServer::Impl> server_;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
    if (!ec) {
      if (self->stats.open >= self->limits.max_connections) {
        ++self->stats.refused;
        self->log->Debug("http: {} connections open (the limit): one more closed", self->stats.open);
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        ++self->stats.accepted;
        std::make_shared<Connection>(std::move(socket), self)->Read();
      }
    } else {
      self->log->Warn("http: accept failed: {}", ec.message());  // out of descriptors, say: keep accepting
    }
    self->Accept();
  });
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(asio::io_context& io, const std::string& address, int port,
                                                      HttpHandler handler, Logger* log, HttpLimits limits) {
  auto impl = std::make_shared<Impl>(io, std::move(handler), log, limits);
  beast::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) return Status::InvalidArgument(fmt::format("bad HTTP address \"{}\": {}", address, ec.message()));
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::IOError(fmt::format("cannot listen for HTTP on {}:{}: {}", address, port, ec.message()));
  impl->Accept();
  return std::unique_ptr<HttpServer>(new HttpServer(impl));
}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::port() const { return impl_->acceptor.is_open() ? impl_->acceptor.local_endpoint().port() : 0; }

HttpServerStats HttpServer::stats() const { return impl_->stats; }

void HttpServer::Stop() {
  beast::error_code ec;
  if (impl_->acceptor.is_open()) impl_->acceptor.close(ec);
}

}  // namespace avctl
