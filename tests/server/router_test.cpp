#include "router.hpp"

#include <catch2/catch.hpp>

#include "json_response.hpp"

using namespace civicperf::server;

namespace {

route_handler answering(unsigned status) {
  return [status](const route_request&) {
    http_response r;
    r.status = status;
    return r;
  };
}

}  // namespace

TEST_CASE("router matches literals and parameters, 404 vs 405", "[router]") {
  router r;
  r.add(http_method::get, "/steps", answering(1));
  r.add(http_method::post, "/steps/execute", answering(2));
  r.add(http_method::get, "/steps/{}/metrics", answering(3));
  r.add(http_method::post, "/items", answering(4));
  r.add(http_method::put, "/items", answering(5));

  using outcome = router::match_result::outcome;
  auto m = r.match(http_method::get, "/steps/validate%20identity/metrics");
  REQUIRE(m.result == outcome::found);
  REQUIRE(m.params.size() == 1);
  CHECK(m.params[0] == "validate identity");

  m = r.match(http_method::get, "/steps/");   // one trailing slash is ignored
  CHECK(m.result == outcome::found);

  m = r.match(http_method::head, "/steps");   // HEAD answered by GET
  CHECK(m.result == outcome::found);

  m = r.match(http_method::get, "/steps/execute");
  CHECK(m.result == outcome::wrong_method);
  CHECK(m.allow == "POST");

  m = r.match(http_method::delete_, "/steps");
  CHECK(m.result == outcome::wrong_method);
  CHECK(m.allow == "GET, HEAD");

  m = r.match(http_method::get, "/items");
  CHECK(m.allow == "POST, PUT");

  CHECK(r.match(http_method::get, "/steps//metrics").result == outcome::no_route);
  CHECK(r.match(http_method::get, "/nope").result == outcome::no_route);
  CHECK(r.match(http_method::get, "").result == outcome::no_route);
  CHECK(r.match(http_method::get, "/steps/x/metrics/more").result == outcome::no_route);
  CHECK_THROWS_AS(r.match(http_method::get, "/steps/%zz/metrics"), api_error);
}

TEST_CASE("methods round-trip through their names", "[router]") {
  for (auto m : {http_method::get, http_method::head, http_method::post, http_method::put,
                 http_method::patch, http_method::delete_, http_method::options})
    CHECK(parse_method(to_string(m)) == m);
  CHECK(parse_method("BREW") == http_method::other);
}
