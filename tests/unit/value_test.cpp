#include "civicperf/value.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>

using civicperf::value;

TEST_CASE("value: kinds and typed access", "[value]") {
  CHECK(value{}.type() == value::kind::null);
  CHECK(value(nullptr).is_null());
  CHECK(value(true).type() == value::kind::boolean);
  CHECK(value(42).type() == value::kind::integer);
  CHECK(value(42L).is_integer());
  CHECK(value(42LL).is_integer());
  CHECK(value(42U).is_integer());
  CHECK(value(2.5).type() == value::kind::number);
  CHECK(value("text").type() == value::kind::string);
  CHECK(value(std::string_view("sv")).is_string());
  CHECK(value::make_array({1, 2}).type() == value::kind::array);
  CHECK(value::make_object().type() == value::kind::object);

  CHECK(*value(true).if_bool() == true);
  CHECK(*value(7).if_integer() == 7);
  CHECK(*value("abc").if_string() == "abc");
  CHECK(value(7).if_string() == nullptr);
  CHECK(value("x").if_integer() == nullptr);
  CHECK(value("x").if_array() == nullptr);
  CHECK(value("x").if_object() == nullptr);
  CHECK(value(1).is_number());
  CHECK(value(1.5).is_number());
  CHECK_FALSE(value("1").is_number());
}

TEST_CASE("value: as_number converts integers and rejects other kinds", "[value]") {
  CHECK(value(3).as_number() == 3.0);
  CHECK(value(-2.25).as_number() == -2.25);
  CHECK_FALSE(value("3").as_number().has_value());
  CHECK_FALSE(value(true).as_number().has_value());
  CHECK_FALSE(value{}.as_number().has_value());
}

TEST_CASE("value: object member lookup and insertion", "[value]") {
  value v = value::make_object({{"a", 1}, {"b", "two"}});
  REQUIRE(v.find("a") != nullptr);
  CHECK(*v.find("a")->if_integer() == 1);
  CHECK(*v.find("b")->if_string() == "two");
  CHECK(v.find("c") == nullptr);
  CHECK(value(5).find("a") == nullptr);
  CHECK(value{}.find("a") == nullptr);

  v["c"] = 3.5;
  REQUIRE(v.size() == 3);
  CHECK(v.if_object()->back().first == "c");   // insertion order kept
  v["a"] = "replaced";
  CHECK(v.size() == 3);
  CHECK(*v.find("a")->if_string() == "replaced");
  v.set("d", value::make_array({1}));
  CHECK(v.size() == 4);

  // operator[] inserts null for an absent key
  value& fresh = v["e"];
  CHECK(fresh.is_null());
  CHECK(v.size() == 5);

  // mutable find returns the member itself
  *v.find("c") = 9;
  CHECK(*v.find("c")->if_integer() == 9);
}

TEST_CASE("value: operator[] turns null into an object and rejects scalars", "[value]") {
  value v;
  v["k"] = 1;
  CHECK(v.is_object());
  CHECK(v.size() == 1);
  value s("text");
  CHECK_THROWS_AS(s["k"], std::logic_error);
  value a = value::make_array({1});
  CHECK_THROWS_AS(a.set("k", 1), std::logic_error);
}

TEST_CASE("value: size", "[value]") {
  CHECK(value::make_array({1, 2, 3}).size() == 3);
  CHECK(value::make_object({{"a", 1}}).size() == 1);
  CHECK(value("four").size() == 0);
  CHECK(value(4).size() == 0);
  CHECK(value{}.size() == 0);
}

TEST_CASE("value: equality", "[value]") {
  CHECK(value{} == value(nullptr));
  CHECK(value(1) == value(1));
  CHECK_FALSE(value(1) == value(2));
  CHECK_FALSE(value(1) == value(1.0));   // integer and double are different kinds
  CHECK(value(1.5) == value(1.5));
  CHECK(value("a") == value("a"));
  CHECK_FALSE(value("a") == value("b"));
  CHECK_FALSE(value(true) == value(1));
  CHECK(value::make_array({1, "x"}) == value::make_array({1, "x"}));
  CHECK_FALSE(value::make_array({1, "x"}) == value::make_array({"x", 1}));
  CHECK_FALSE(value::make_array({1}) == value::make_array({1, 1}));
  // objects compare as JSON objects: member order does not matter
  CHECK(value::make_object({{"a", 1}, {"b", 2}}) == value::make_object({{"b", 2}, {"a", 1}}));
  CHECK_FALSE(value::make_object({{"a", 1}, {"b", 2}}) == value::make_object({{"a", 1}}));
  CHECK_FALSE(value::make_object({{"a", 1}}) == value::make_object({{"a", 2}}));
  CHECK_FALSE(value::make_object({{"a", 1}}) == value::make_object({{"b", 1}}));
  CHECK(value::make_object({{"n", value::make_object({{"x", value::make_array({1})}})}}) ==
        value::make_object({{"n", value::make_object({{"x", value::make_array({1})}})}}));
  CHECK_FALSE(value::make_object() == value::make_array({}));
}

TEST_CASE("value: is_blank", "[value]") {
  const value empty_string("");
  const value empty_array = value::make_array({});
  const value empty_object = value::make_object();
  const value null_value;
  CHECK(civicperf::is_blank(nullptr));
  CHECK(civicperf::is_blank(&null_value));
  CHECK(civicperf::is_blank(&empty_string));
  CHECK(civicperf::is_blank(&empty_array));
  CHECK(civicperf::is_blank(&empty_object));

  const value space(" ");
  const value zero(0);
  const value no(false);
  const value one_item = value::make_array({""});
  CHECK_FALSE(civicperf::is_blank(&space));
  CHECK_FALSE(civicperf::is_blank(&zero));
  CHECK_FALSE(civicperf::is_blank(&no));
  CHECK_FALSE(civicperf::is_blank(&one_item));
}
