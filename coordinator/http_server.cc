#include "coordinator/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace avctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, const HttpHandler* handler, Logger* log)
      : socket_(std::move(socket)), handler_(handler), log_(log) {}

  void Read() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(64 * 1024);
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::connection_reset || ec == asio::error::eof) {
      beast::error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    if (ec) {
      log_->Debug("http: read failed: {}", ec.message());
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
    (*handler_)(std::string(req.target()), [self = shared_from_this(), version, keep_alive, head](HttpResponse r) {
      self->Write(version, keep_alive, head, std::move(r));
    });
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
    http::async_write(socket_, *res, [self = shared_from_this(), res](beast::error_code wec, size_t) {
      if (wec) return;
      if (res->keep_alive()) {
        self->Read();
      } else {
        beast::error_code ignored;
        self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
      }
    });
  }

  tcp::socket socket_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const HttpHandler* handler_;
  Logger* log_;
};

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io, HttpHandler h, Logger* l) : acceptor(io), handler(std::move(h)), log(l) {}

  void Accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) std::make_shared<Connection>(std::move(socket), &self->handler, self->log)->Read();
      self->Accept();
    });
  }

  tcp::acceptor acceptor;
  HttpHandler handler;
  Logger* log;
};

Result<std::unique_ptr<HttpServer>> HttpServer::Start(asio::io_context& io, const std::string& address, int port,
                                                      HttpHandler handler, Logger* log) {
  auto impl = std::make_shared<Impl>(io, std::move(handler), log);
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

void HttpServer::Stop() {
  beast::error_code ec;
  if (impl_->acceptor.is_open()) impl_->acceptor.close(ec);
}

}  // namespace avctl
