// civicperf::value <-> boost::json::value, lossless in both directions.

#include <limits>

#include "civicperf/json.hpp"

namespace civicperf {

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const value& v) {
  switch (v.type()) {
    case value::kind::null:
      jv = nullptr;
      return;
    case value::kind::boolean:
      jv = *v.if_bool();
      return;
    case value::kind::integer:
      jv = *v.if_integer();
      return;
    case value::kind::number:
      jv = *v.as_number();
      return;
    case value::kind::string:
      jv = boost::json::string_view(*v.if_string());
      return;
    case value::kind::array: {
      auto& out = jv.emplace_array();
      out.reserve(v.size());
      for (const auto& item : *v.if_array()) {
        boost::json::value element(jv.storage());
        tag_invoke(boost::json::value_from_tag{}, element, item);
        out.push_back(std::move(element));
      }
      return;
    }
    case value::kind::object: {
      auto& out = jv.emplace_object();
      out.reserve(v.size());
      for (const auto& [key, item] : *v.if_object()) {
        boost::json::value element(jv.storage());
        tag_invoke(boost::json::value_from_tag{}, element, item);
        out.insert_or_assign(key, std::move(element));
      }
      return;
    }
  }
}

value tag_invoke(const boost::json::value_to_tag<value>&, const boost::json::value& jv) {
  switch (jv.kind()) {
    case boost::json::kind::null:
      return value{};
    case boost::json::kind::bool_:
      return value(jv.get_bool());
    case boost::json::kind::int64:
      return value(static_cast<long long>(jv.get_int64()));
    case boost::json::kind::uint64: {
      const auto u = jv.get_uint64();
      if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return value(static_cast<long long>(u));
      }
      return value(static_cast<double>(u));
    }
    case boost::json::kind::double_:
      return value(jv.get_double());
    case boost::json::kind::string:
      return value(std::string_view(jv.get_string().data(), jv.get_string().size()));
    case boost::json::kind::array: {
      value::array items;
      items.reserve(jv.get_array().size());
      for (const auto& item : jv.get_array()) {
        items.push_back(tag_invoke(boost::json::value_to_tag<value>{}, item));
      }
      return value(std::move(items));
    }
    case boost::json::kind::object: {
      value::object members;
      members.reserve(jv.get_object().size());
      for (const auto& m : jv.get_object()) {
        members.emplace_back(std::string(m.key().data(), m.key().size()),
                             tag_invoke(boost::json::value_to_tag<value>{}, m.value()));
      }
      return value(std::move(members));
    }
  }
  return value{};
}

}  // namespace civicperf
